// Abstract mapcount states (state_class.def): classification, dense numbering, the state map every engine prints.
#include "core/state_class.h"

#include "core/legality.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <sstream>

namespace foliocheck {
namespace {

constexpr std::string_view kDimLabels[] = {
#define FOLIOCHECK_CLASS_DIM(e, label) label,
#include "core/state_class.def"
};

// Each value's dimension and index within it, from the order of state_class.def.
struct Tables {
  std::array<ClassValueInfo, kNumClassValues> values{};
  std::array<uint32_t, kNumClassDims> first{}, size{};
  Tables() {
    constexpr ClassDim dims[] = {
#define FOLIOCHECK_CLASS_VALUE(d, e, label) ClassDim::d,
#include "core/state_class.def"
    };
    constexpr std::string_view labels[] = {
#define FOLIOCHECK_CLASS_VALUE(d, e, label) label,
#include "core/state_class.def"
    };
    for (size_t i = 0; i < kNumClassValues; i++) {
      const size_t d = static_cast<size_t>(dims[i]);
      if (size[d] == 0) first[d] = static_cast<uint32_t>(i);
      values[i] = {dims[i], static_cast<uint8_t>(size[d]++), labels[i]};
    }
  }
  uint32_t pack(const StateClass& c) const {
    uint32_t n = 0;
    for (size_t d = 0; d < kNumClassDims; d++) n = n * size[d] + c.v[d];
    return n;
  }
  StateClass unpack(uint32_t n) const {
    StateClass c;
    for (size_t d = kNumClassDims; d-- > 0;) {
      c.v[d] = static_cast<uint8_t>(n % size[d]);
      n /= size[d];
    }
    return c;
  }
};

const Tables& tables() {
  static const Tables t;
  return t;
}

// The numbering of the feasible classes; built after Tables, since feasibility reads values.
struct Numbering {
  std::vector<uint32_t> dense;     // full mixed-radix number -> feasible index, or UINT32_MAX
  std::vector<uint32_t> numbered;  // feasible index -> full mixed-radix number
  Numbering() {
    uint32_t full = 1;
    for (uint32_t s : tables().size) full *= s;
    dense.assign(full, UINT32_MAX);
    for (uint32_t n = 0; n < full; n++) {
      if (!state_class_feasible(tables().unpack(n))) continue;
      dense[n] = static_cast<uint32_t>(numbered.size());
      numbered.push_back(n);
    }
  }
};

const Numbering& numbering() {
  static const Numbering n;
  return n;
}

using V = ClassValue;

uint8_t bucket(uint64_t n) { return static_cast<uint8_t>(std::min<uint64_t>(n, 2)); }

constexpr uint32_t kNumShapes = 6;  // the shape dimension, checked in the .cpp's static_assert
static_assert(static_cast<int>(V::shape_hugetlb) - static_cast<int>(V::shape_unmapped) + 1 ==
              kNumShapes);

ClassValue shape_of(const ReferenceModel& m) {
  uint32_t pmd = 0, pud = 0;
  for (const auto& [id, mm] : m.mms()) {
    pmd += mm.pmd;
    pud += mm.pud;
  }
  const bool pte = m.pages_pte_mapped() > 0;
  if (m.setup().folio.hugetlb && m.entire() > 0) return V::shape_hugetlb;
  if (pte && pmd + pud > 0) return V::shape_mixed;
  if (pud > 0) return V::shape_pud;
  if (pmd > 0) return V::shape_pmd;
  if (pte) return V::shape_pte;
  return V::shape_unmapped;
}

bool large_slots(const Setup& s) { return s.has_mm_id() && s.large() && !s.folio.hugetlb; }

}  // namespace

const ClassValueInfo& class_value_info(ClassValue v) {
  return tables().values[static_cast<size_t>(v)];
}
std::string_view class_dim_label(ClassDim d) { return kDimLabels[static_cast<size_t>(d)]; }
uint32_t class_dim_size(ClassDim d) { return tables().size[static_cast<size_t>(d)]; }
ClassValue class_value(ClassDim d, uint32_t index) {
  return static_cast<ClassValue>(tables().first[static_cast<size_t>(d)] + index);
}

bool state_class_feasible(const StateClass& c) {
  const bool has_slots =
      semantics_info(static_cast<Semantics>(c.get(ClassDim::variant))).mm_id;
  // Only CONFIG_MM_ID variants have slots; hugetlb folios never use them.
  if (!has_slots && !c.is(V::slots_none)) return false;
  if (c.is(V::shape_hugetlb) && !c.is(V::slots_none)) return false;
  // Deferred split is for anon THPs, never hugetlb.
  if (c.is(V::shape_hugetlb) && c.is(V::partial_yes)) return false;
  // Mapped by nobody exactly when unmapped; the buckets follow from the shape.
  if (c.is(V::shape_unmapped) != c.is(V::mms_zero)) return false;
  const bool entire = !c.is(V::entire_zero), page = !c.is(V::page_zero);
  // Thousands of mappings by one mm need a page or the folio mapped many times over; the steps
  // towards SHRT_MAX are told apart where a slot counts them.
  if (!c.is(V::most_low) &&
      ((!c.is(V::entire_many) && !c.is(V::page_many)) || c.is(V::slots_none)))
    return false;
  if (c.is(V::shape_unmapped)) return !entire && !page;
  if (c.is(V::shape_pte)) return !entire && page;
  if (c.is(V::shape_mixed)) return entire && page;
  return entire && !page;  // PMD, PUD, hugetlb: whole-folio mappings only
}

uint32_t num_state_classes() { return static_cast<uint32_t>(numbering().numbered.size()); }
uint32_t state_class_index(const StateClass& c) { return numbering().dense[tables().pack(c)]; }
StateClass state_class_at(uint32_t index) { return tables().unpack(numbering().numbered[index]); }

std::string state_class_name(const StateClass& c) {
  std::string out;
  for (size_t d = 0; d < kNumClassDims; d++) {
    const ClassDim dim = static_cast<ClassDim>(d);
    const std::string_view label = class_value_info(class_value(dim, c.v[d])).label;
    if (d > 0) out += std::string(" ") + std::string(class_dim_label(dim)) + "=";
    out += label;
  }
  return out;
}

StateClass classify_state(const ReferenceModel& m,
                          std::span<const std::unique_ptr<Implementation>> impls) {
  const Setup& s = m.setup();
  StateClass c;
  c.v[static_cast<size_t>(ClassDim::variant)] = static_cast<uint8_t>(s.config.semantics);
  const ClassValue shape = shape_of(m);
  c.set(shape);
  c.v[static_cast<size_t>(ClassDim::mms)] = static_cast<uint8_t>(std::min(m.nr_mms_mapping(), 3u));
  c.set(m.pins() > 0 ? V::pinned_yes : V::pinned_no);
  c.set(m.read(Obs::partially_mapped) ? V::partial_yes : V::partial_no);
  const uint32_t n = s.nr_pages();
  if (s.folio.hugetlb)
    c.set(m.page_anon_exclusive(0) ? V::exclusive_all : V::exclusive_none);
  else
    c.set(m.nr_anon_exclusive() == 0   ? V::exclusive_none
          : m.nr_anon_exclusive() == n ? V::exclusive_all
                                       : V::exclusive_some);
  c.v[static_cast<size_t>(ClassDim::entire)] = bucket(m.entire());
  uint32_t page_max = 0;
  if (m.pages_pte_mapped() > 0)
    for (uint32_t p = 0; p < n && page_max < 2; p++) page_max = std::max(page_max, m.page_pte(p));
  c.v[static_cast<size_t>(ClassDim::page)] = bucket(page_max);

  uint64_t most = 0;
  if (large_slots(s))
    for (const auto& [id, mm] : m.mms()) most = std::max(most, mm.total());
  c.set(most > 32767   ? V::most_past
        : most >= 30000 ? V::most_near
        : most >= 24000 ? V::most_k24
        : most >= 16000 ? V::most_k16
        : most >= 8000  ? V::most_k8
        : most >= 4000  ? V::most_k4
                        : V::most_low);

  c.set(V::slots_none);
  if (large_slots(s)) {
    for (const auto& impl : impls) {
      if (!impl->models(Obs::mm_id)) continue;
      const int owners = (impl->read(Obs::mm_id, 0) != 0) + (impl->read(Obs::mm_id, 1) != 0);
      const bool shared = impl->models(Obs::shared_bit) && impl->read(Obs::shared_bit) != 0;
      c.set(owners == 2 ? V::slots_two
            : shared    ? V::slots_shared_free
            : owners == 1 ? V::slots_one
                          : V::slots_free);
      break;
    }
  }
  // A broken encoding can report slots no correct one would; the class stays numbered. Every
  // other dimension comes from the model, whose shape, mms and buckets agree by construction.
  if (!state_class_feasible(c)) {
    c.set(V::slots_none);
    c.set(V::most_low);
  }
  return c;
}

bool op_can_ebusy(OpKind op) {
  switch (op) {
    case OpKind::try_dup_anon_ptes:
    case OpKind::try_dup_anon_pmd:
    case OpKind::try_share_anon_pte:
    case OpKind::try_share_anon_pmd:
    case OpKind::hugetlb_try_dup_anon:
    case OpKind::hugetlb_try_share_anon:
      return true;
    default:
      return false;
  }
}

uint32_t num_transition_classes() { return kNumSemantics * kNumOpKinds * 2 * kNumShapes; }

uint32_t transition_class_index(Semantics variant, OpKind op, bool ebusy, ClassValue shape) {
  return ((static_cast<uint32_t>(variant) * kNumOpKinds + static_cast<uint32_t>(op)) * 2 +
          ebusy) * kNumShapes +
         class_value_info(shape).index;
}

std::string transition_class_name(uint32_t index) {
  const uint32_t shape = index % kNumShapes;
  const bool ebusy = (index / kNumShapes) % 2;
  const uint32_t op = (index / kNumShapes / 2) % kNumOpKinds;
  const uint32_t variant = index / kNumShapes / 2 / kNumOpKinds;
  return std::string(class_value_info(class_value(ClassDim::variant, variant)).label) + " " +
         std::string(op_info(static_cast<OpKind>(op)).name) + (ebusy ? " -EBUSY" : " ok") +
         " -> " + std::string(class_value_info(class_value(ClassDim::shape, shape)).label);
}

uint32_t classify_transition(const ReferenceModel& m, const Op& op) {
  return transition_class_index(m.setup().config.semantics, op.kind, m.read(Obs::ret) == -kEBUSY,
                                shape_of(m));
}

// ---- the map ------------------------------------------------------------------------------------

StateMap::StateMap()
    : m_states(num_state_classes(), -1.0), m_transitions(num_transition_classes(), -1.0) {}

void StateMap::note(const ReferenceModel& model,
                    std::span<const std::unique_ptr<Implementation>> impls, const Op& op,
                    double seconds) {
  note_state(state_class_index(classify_state(model, impls)), seconds);
  note_transition(classify_transition(model, op), seconds);
}

void StateMap::merge(const StateMap& other) {
  for (uint32_t i = 0; i < m_states.size(); i++)
    if (other.m_states[i] >= 0) note(m_states, i, other.m_states[i]);
  for (uint32_t i = 0; i < m_transitions.size(); i++)
    if (other.m_transitions[i] >= 0) note(m_transitions, i, other.m_transitions[i]);
}

uint32_t StateMap::states_reached() const {
  return static_cast<uint32_t>(
      std::count_if(m_states.begin(), m_states.end(), [](double t) { return t >= 0; }));
}
uint32_t StateMap::transitions_reached() const {
  return static_cast<uint32_t>(
      std::count_if(m_transitions.begin(), m_transitions.end(), [](double t) { return t >= 0; }));
}

std::string format_state_map(const StateMap& map, std::string_view engine) {
  const uint32_t nv = class_dim_size(ClassDim::variant);
  // reached[value][variant], feasible[value][variant]
  std::vector<std::vector<uint32_t>> reached(kNumClassValues, std::vector<uint32_t>(nv)),
      feasible = reached;
  std::vector<uint32_t> total_reached(nv), total(nv);
  for (uint32_t i = 0; i < num_state_classes(); i++) {
    const StateClass c = state_class_at(i);
    const uint32_t var = c.get(ClassDim::variant);
    const bool r = map.state_first(i) >= 0;
    total[var]++;
    total_reached[var] += r;
    for (size_t d = 1; d < kNumClassDims; d++) {
      const size_t value = static_cast<size_t>(class_value(static_cast<ClassDim>(d), c.v[d]));
      feasible[value][var]++;
      reached[value][var] += r;
    }
  }
  std::ostringstream out;
  char buf[256];
  out << "state map (" << engine << "): " << map.states_reached() << " of " << num_state_classes()
      << " state classes, " << map.transitions_reached() << " transition classes\n";
  std::snprintf(buf, sizeof buf, "  %-44s", "classes reached / feasible");
  out << buf;
  for (uint32_t v = 0; v < nv; v++) {
    std::snprintf(buf, sizeof buf, " %17s",
                  std::string(class_value_info(class_value(ClassDim::variant, v)).label).c_str());
    out << buf;
  }
  out << "\n";
  auto row = [&](const std::string& label, auto cell) {
    std::snprintf(buf, sizeof buf, "  %-44s", label.c_str());
    out << buf;
    for (uint32_t v = 0; v < nv; v++) {
      std::snprintf(buf, sizeof buf, " %17s", cell(v).c_str());
      out << buf;
    }
    out << "\n";
  };
  row("all", [&](uint32_t v) {
    return std::to_string(total_reached[v]) + "/" + std::to_string(total[v]);
  });
  std::vector<std::string> never;
  for (size_t i = 0; i < kNumClassValues; i++) {
    const ClassValueInfo& info = class_value_info(static_cast<ClassValue>(i));
    if (info.dim == ClassDim::variant) continue;
    const std::string label =
        std::string(class_dim_label(info.dim)) + ": " + std::string(info.label);
    row(label, [&](uint32_t v) {
      if (feasible[i][v] == 0) return std::string("-");
      if (reached[i][v] == 0)
        never.push_back(
            std::string(class_value_info(class_value(ClassDim::variant, v)).label) + " " + label);
      return std::to_string(reached[i][v]) + "/" + std::to_string(feasible[i][v]);
    });
  }
  out << "  transitions (shapes left after ok; E: also -EBUSY):\n";
  for (uint32_t k = 0; k < kNumOpKinds; k++) {
    const OpKind op = static_cast<OpKind>(k);
    if (op_is_reader(op)) continue;  // no engine that keeps a state map generates readers
    row("  " + std::string(op_info(op).name), [&](uint32_t v) {
      uint32_t ok = 0;
      bool ebusy = false;
      for (uint32_t sh = 0; sh < kNumShapes; sh++) {
        const ClassValue shape = class_value(ClassDim::shape, sh);
        ok += map.transition_first(
                  transition_class_index(static_cast<Semantics>(v), op, false, shape)) >= 0;
        ebusy |= map.transition_first(
                     transition_class_index(static_cast<Semantics>(v), op, true, shape)) >= 0;
      }
      return std::to_string(ok) + (ebusy ? " E" : op_can_ebusy(op) ? " -" : "  ");
    });
  }
  out << "  never reached:";
  if (never.empty()) out << " none";
  for (const std::string& n : never) out << "\n    " << n;
  out << "\n";
  return out.str();
}

// ---- milestones ---------------------------------------------------------------------------------

const MilestoneInfo& milestone_info(Milestone m) {
  static constexpr MilestoneInfo kInfo[] = {
#define FOLIOCHECK_MILESTONE(e, label, classify, required) {label, classify, required},
#include "core/state_class.def"
  };
  return kInfo[static_cast<size_t>(m)];
}

void MilestoneTracker::note(const ReferenceModel& m, const Op& op,
                            std::span<const std::unique_ptr<Implementation>> impls) {
  const Setup& s = m.setup();
  auto set = [&](Milestone x) { m_reached.set(static_cast<size_t>(x)); };
  bool entire_mapped = false, pud = false;
  for (const auto& [id, mm] : m.mms()) {
    entire_mapped |= mm.pmd + mm.pud > 0;
    pud |= mm.pud > 0;
  }
  if (entire_mapped && m.pages_pte_mapped() > 0) set(Milestone::mixed_pmd_pte);
  if (m.nr_mms_mapping() >= 3) set(Milestone::three_mms);
  if (m.read(Obs::partially_mapped)) set(Milestone::partially_mapped);
  if (m.read(Obs::ret) == -kEBUSY) set(Milestone::ebusy);
  if (s.folio.hugetlb && m.total_mappings() > 0) set(Milestone::hugetlb);
  if (pud) set(Milestone::pud_mapped);
  if (s.config.pmd_order == 9 && s.pmd_sized() && !s.folio.hugetlb && m.entire() > 0)
    set(Milestone::real_pmd);
  if (m.pins() > 0) set(Milestone::pinned);
  if (m.total_mappings() == 0 && m.history().ever_mapped) m_emptied = true;
  if (m_emptied && m.total_mappings() > 0) set(Milestone::remapped);
  const unsigned args = op_info(op.kind).args;
  if (args & kArgMm) {
    const MmMappings* mm = m.mm(op.mm);
    if (mm && (mm->pmd > 1 || mm->pud > 1 || mm->hugetlb > 1)) set(Milestone::same_page_many);
    if (mm && (args & kArgRange) && !mm->pte.empty())
      for (uint32_t i = op.page; i < op.page + op.nr; i++)
        if (mm->pte[i] > 1) set(Milestone::same_page_many);
    // A short slot count wraps past SHRT_MAX logical mappings + 1.
    if (s.config.bits == 32 && large_slots(s) && m.mm_mappings(op.mm) > 32768)
      set(Milestone::overflow32);
  }
  if ((args & kArgSrc) && m.read(Obs::ret) == 0) set(Milestone::dup);
  if (op.kind == OpKind::dup_file_ptes || op.kind == OpKind::dup_file_pmd) set(Milestone::dup);
  if (large_slots(s) && m.nr_mms_mapping() == 1 && m.total_mappings() > 1 &&
      m.history().epoch_max_mms >= 3)
    for (const auto& impl : impls)
      if (impl->models(Obs::maybe_mapped_shared) && impl->read(Obs::maybe_mapped_shared) == 1)
        set(Milestone::shared_bit_false_positive);
}

}  // namespace foliocheck

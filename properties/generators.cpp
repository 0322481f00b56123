// RapidCheck generators of setups and rmap operations, biased toward where mapcount bugs live.
#include "properties/generators.h"

#include <algorithm>
#include <array>
#include <cstdlib>
#include <ostream>
#include <stdexcept>
#include <utility>

#include "model/kernel_hook.h"
#include "model/trace.h"

namespace foliocheck::props {

uint32_t pick(uint32_t n) {
  if (n <= 1) return 0;
  return *rc::gen::resize(rc::kNominalSize, rc::gen::inRange<uint32_t>(0, n));
}

bool chance(uint32_t num, uint32_t den) { return pick(den) >= den - num; }

namespace {

// Index of a weight, chosen in proportion to it; shrinks toward index 0.
size_t pick_weighted(const std::vector<unsigned>& weights) {
  unsigned total = 0;
  for (unsigned w : weights) total += w;
  if (total == 0) throw rc::GenerationFailure("every choice has weight 0");
  uint32_t r = pick(total);
  for (size_t i = 0; i < weights.size(); i++) {
    if (r < weights[i]) return i;
    r -= weights[i];
  }
  return weights.size() - 1;
}

template <typename T>
const T& pick_from(const std::vector<T>& v) {
  return v[pick(static_cast<uint32_t>(v.size()))];
}

// FOLIOCHECK_ONLY_KERNEL_SETUPS=1 (docs/kernel.md): only configurations some kernel tree built in
// supports, so that a kernel-backed run spends its cases where the kernel takes part.
bool kernel_supports(const Setup& probe) {
  static const bool only = [] {
    const char* env = std::getenv("FOLIOCHECK_ONLY_KERNEL_SETUPS");
    return env && *env == '1' && !kernel_implementation_names().empty();
  }();
  if (!only) return true;
  for (std::string_view name : kernel_implementation_names())
    if (make_implementation(name)->supports(probe)) return true;
  return false;
}

// (semantics, bits) pairs some selected implementation supports, found by asking each one about a
// small folio of that configuration.
std::vector<std::pair<Semantics, int>> supported_configs(const ScenarioOptions& o) {
  std::vector<std::pair<Semantics, int>> out;
  for (int s = 0; s < kNumSemantics; s++) {
    const Semantics sem = static_cast<Semantics>(s);
    if (!o.semantics.empty() &&
        std::find(o.semantics.begin(), o.semantics.end(), sem) == o.semantics.end())
      continue;
    for (int bits : {64, 32}) {
      Setup probe;
      probe.config = {sem, bits, 3, 5};
      probe.folio = {3, FolioType::file, false};
      if (!supporting_impls(probe, o.impls).empty() && kernel_supports(probe))
        out.emplace_back(sem, bits);
    }
  }
  return out;
}

int pick_order(const Config& c, bool hugetlb, bool real) {
  std::vector<int> orders;
  std::vector<unsigned> weights;
  auto add = [&](int order, unsigned w) {
    if (hugetlb && order < 2) return;
    orders.push_back(order);
    weights.push_back(w);
  };
  if (real) {
    // The PUD-sized folio of real geometry has 2^18 pages: too big to copy per command.
    for (auto [order, w] :
         std::array<std::pair<int, unsigned>, 5>{{{0, 2}, {1, 1}, {2, 2}, {4, 2}, {9, 5}}})
      add(order, w);
  } else {
    for (int order = 0; order <= c.pud_order; order++)
      add(order, order == c.pmd_order ? 5 : order == c.pud_order || order <= 1 ? 2 : 1);
  }
  return orders[pick_weighted(weights)];
}

std::vector<uint32_t> pick_mms(int bits, uint32_t lo, uint32_t hi) {
  std::vector<unsigned> count_weights;
  for (uint32_t n = lo; n <= hi; n++) count_weights.push_back(n == 2 ? 4 : n == 3 ? 3 : 2);
  const uint32_t count = lo + static_cast<uint32_t>(pick_weighted(count_weights));
  const uint32_t max_id = mm_id_max(bits);
  std::vector<uint32_t> ids;
  auto next_small = [&] {
    uint32_t id = 1;
    while (std::find(ids.begin(), ids.end(), id) != ids.end()) id++;
    return id;
  };
  while (ids.size() < count) {
    // Ids with every id bit set sit next to the lock and shared bits, where a careless id write
    // clobbers a flag.
    uint32_t id = 0;
    switch (pick_weighted({8, 1, 1, 1})) {
      case 0:
        id = next_small();
        break;
      case 1:
        id = max_id;
        break;
      case 2:
        id = max_id - 1;
        break;
      default:
        id = 5 + pick(max_id - 5);
        break;
    }
    if (std::find(ids.begin(), ids.end(), id) != ids.end()) id = next_small();
    ids.push_back(id);
  }
  return ids;
}

// ---- operations ---------------------------------------------------------------------------------

struct Candidate {
  unsigned weight;
  OpKind kind;
  bool bulk;  // x=K maps that push one mm past SHRT_MAX mappings
};

class OpMaker {
 public:
  OpMaker(const ReferenceModel& m, const Scenario& sc, const OpFilter& f)
      : m_model(m), m_sc(sc), m_filter(f), m_setup(m.setup()), m_nr(m_setup.nr_pages()) {}

  std::vector<Candidate> candidates() const;
  Op make(const Candidate& c) const;

 private:
  bool mine(uint32_t id) const { return !m_filter.mm || *m_filter.mm == id; }
  std::vector<uint32_t> pool() const {
    return m_filter.mm ? std::vector<uint32_t>{*m_filter.mm} : m_sc.mms;
  }
  template <typename Pred>
  std::vector<uint32_t> holders(Pred pred) const {
    std::vector<uint32_t> out;
    for (const auto& [id, mm] : m_model.mms())
      if (mine(id) && pred(mm)) out.push_back(id);
    return out;
  }
  std::vector<uint32_t> pte_holders() const {
    return holders([](const MmMappings& mm) { return mm.pte_total > 0; });
  }
  std::vector<uint32_t> pmd_holders() const {
    return holders([](const MmMappings& mm) { return mm.pmd > 0; });
  }
  std::vector<uint32_t> pud_holders() const {
    return holders([](const MmMappings& mm) { return mm.pud > 0; });
  }
  std::vector<uint32_t> hugetlb_holders() const {
    return holders([](const MmMappings& mm) { return mm.hugetlb > 0; });
  }
  std::vector<uint32_t> mapping_mms() const {
    return holders([](const MmMappings& mm) { return mm.total() > 0; });
  }
  std::vector<uint32_t> ae_pages_mapped() const {
    std::vector<uint32_t> out;
    for (uint32_t i = 0; i < m_nr; i++)
      if (m_model.page_anon_exclusive(i) && m_model.page_pte(i) > 0) out.push_back(i);
    return out;
  }
  bool has_other(uint32_t id) const {
    for (uint32_t o : m_sc.mms)
      if (o != id) return true;
    return false;
  }

  uint32_t choose_mm() const { return pick_from(pool()); }
  // A parent for a fork: a holder, preferably one that pinned (that is where -EBUSY lives).
  uint32_t choose_src(const std::vector<uint32_t>& holders) const;
  uint32_t choose_child(uint32_t src) const;
  uint32_t small_repeat() const { return chance(1, 6) ? 2 + pick(3) : 1; }
  void add_range(Op& op) const;
  // A range inside one run of pages where count(page) > 0, picked around a page with that property.
  template <typename Count>
  void run_range(Op& op, Count count) const;
  void bulk(Op& op) const;

  const ReferenceModel& m_model;
  const Scenario& m_sc;
  const OpFilter& m_filter;
  const Setup& m_setup;
  const uint32_t m_nr;
};

std::vector<Candidate> OpMaker::candidates() const {
  const bool hug = m_setup.folio.hugetlb;
  const bool anon = m_setup.anon();
  const bool pmd = m_setup.pmd_sized();
  const bool pud = m_setup.pud_sized() && m_setup.config.semantics != Semantics::v6_12;
  const bool fresh = !m_model.history().ever_mapped;
  const bool indep = m_filter.independent;
  const bool forks = !indep && m_sc.mms.size() >= 2;
  const unsigned pin_boost = m_model.pins() > 0 ? 2 : 1;
  std::vector<Candidate> out;
  for (int k = 0; k < kNumOpKinds; k++) {
    const OpKind kind = static_cast<OpKind>(k);
    unsigned w = 0;
    switch (kind) {
      case OpKind::add_new_anon:
        w = !hug && anon && fresh && !indep && m_setup.folio.order <= m_setup.config.pmd_order ? 8
                                                                                               : 0;
        break;
      case OpKind::add_anon_ptes:
        w = !hug && anon ? 6 : 0;
        break;
      case OpKind::add_anon_pmd:
        w = !hug && anon && pmd ? 4 : 0;
        break;
      case OpKind::add_file_ptes:
        w = !hug && !anon ? 6 : 0;
        break;
      case OpKind::add_file_pmd:
        w = !hug && !anon && pmd ? 4 : 0;
        break;
      case OpKind::add_file_pud:
        w = !hug && !anon && pud ? 3 : 0;
        break;
      case OpKind::remove_ptes:
        w = !pte_holders().empty() ? 7 : 0;
        break;
      case OpKind::remove_pmd:
        w = !pmd_holders().empty() ? 4 : 0;
        break;
      case OpKind::remove_pud:
        w = !pud_holders().empty() ? 3 : 0;
        break;
      case OpKind::dup_file_ptes:
        w = !hug && !anon && !indep && m_model.pages_pte_mapped() > 0 ? 2 : 0;
        break;
      case OpKind::dup_file_pmd:
        w = !hug && !anon && !indep && pmd && m_model.pages_pte_mapped() == m_nr ? 2 : 0;
        break;
      case OpKind::try_dup_anon_ptes:
        w = !hug && anon && forks && !pte_holders().empty() ? 3 * pin_boost : 0;
        break;
      case OpKind::try_dup_anon_pmd:
        w = !hug && anon && forks && pmd && !pmd_holders().empty() ? 2 * pin_boost : 0;
        break;
      case OpKind::try_share_anon_pte:
        w = !hug && anon && !indep && !ae_pages_mapped().empty() ? 2 * pin_boost : 0;
        break;
      case OpKind::try_share_anon_pmd:
        w = !hug && anon && !indep && pmd && m_model.page_anon_exclusive(0) && m_model.entire() > 0
                ? 2 * pin_boost
                : 0;
        break;
      case OpKind::hugetlb_add_new_anon:
        w = hug && anon && fresh && !indep ? 8 : 0;
        break;
      case OpKind::hugetlb_add_anon:
        w = hug && anon ? 4 : 0;
        break;
      case OpKind::hugetlb_add_file:
        w = hug && !anon ? 6 : 0;
        break;
      case OpKind::hugetlb_remove:
        w = !hugetlb_holders().empty() ? 5 : 0;
        break;
      case OpKind::hugetlb_try_dup_anon:
        w = hug && anon && forks && !hugetlb_holders().empty() ? 3 * pin_boost : 0;
        break;
      case OpKind::hugetlb_try_share_anon:
        w = hug && anon && !indep && m_model.page_anon_exclusive(0) && m_model.entire() > 0
                ? 2 * pin_boost
                : 0;
        break;
      case OpKind::gup_pin:
        w = !mapping_mms().empty() ? (m_sc.pins ? 4 : 1) : 0;
        break;
      case OpKind::gup_unpin:
        w = !indep && m_model.pins() > 0 ? 2 : 0;
        break;
    }
    if (w) out.push_back({w, kind, false});
  }
  if (m_sc.bulk && !indep && m_setup.large() && !hug) {
    // One wrap per case is the point; each bulk map costs ~33000 checked steps.
    bool overflowed = false;
    for (const auto& [id, mm] : m_model.mms()) overflowed |= mm.total() > 32768;
    if (!overflowed) out.push_back({4, anon ? OpKind::add_anon_ptes : OpKind::add_file_ptes, true});
  }
  return out;
}

uint32_t OpMaker::choose_src(const std::vector<uint32_t>& hs) const {
  std::vector<uint32_t> pinned;
  for (uint32_t id : hs)
    if (m_model.mm_has_pinned(id)) pinned.push_back(id);
  if (!pinned.empty() && chance(2, 3)) return pick_from(pinned);
  return pick_from(hs);
}

uint32_t OpMaker::choose_child(uint32_t src) const {
  std::vector<uint32_t> others;
  for (uint32_t id : m_sc.mms)
    if (id != src) others.push_back(id);
  return others.empty() ? src : pick_from(others);
}

void OpMaker::add_range(Op& op) const {
  enum Mode { one_page, first_page, last_page, whole_folio, any_range, page_it_maps };
  const MmMappings* own = m_model.mm(op.mm);
  const bool maps_ptes = own && own->pte_total > 0;
  switch (static_cast<Mode>(pick_weighted({3, 2, 2, 3, 3, maps_ptes ? 3u : 0u}))) {
    case one_page:
      op.page = pick(m_nr);
      op.nr = 1;
      break;
    case first_page:
      op.page = 0;
      op.nr = 1;
      break;
    case last_page:
      op.page = m_nr - 1;
      op.nr = 1;
      break;
    case whole_folio:
      op.page = 0;
      op.nr = m_nr;
      break;
    case any_range:
      op.page = pick(m_nr);
      op.nr = 1 + pick(m_nr - op.page);
      break;
    case page_it_maps: {
      // The same page mapped many times by one mm: where per-mm and per-page counts part ways.
      std::vector<uint32_t> pages;
      for (uint32_t i = 0; i < m_nr; i++)
        if (own->pte[i] > 0) pages.push_back(i);
      op.page = pick_from(pages);
      op.nr = 1;
      break;
    }
  }
}

template <typename Count>
void OpMaker::run_range(Op& op, Count count) const {
  std::vector<uint32_t> pages;
  for (uint32_t i = 0; i < m_nr; i++)
    if (count(i) > 0) pages.push_back(i);
  const uint32_t p = pick_from(pages);
  uint32_t lo = p, hi = p + 1;
  while (lo > 0 && count(lo - 1) > 0) lo--;
  while (hi < m_nr && count(hi) > 0) hi++;
  enum Mode { one_page, to_end_of_run, whole_run };
  switch (static_cast<Mode>(pick_weighted({4, 3, 2}))) {
    case one_page:
      op.page = p;
      op.nr = 1;
      break;
    case to_end_of_run:
      op.page = p;
      op.nr = hi - p;
      break;
    case whole_run:
      op.page = lo;
      op.nr = hi - lo;
      break;
  }
}

void OpMaker::bulk(Op& op) const {
  // Past SHRT_MAX (32767) the slot's short count of a 32-bit kernel wraps: A1 frees the slot and
  // sets the shared bit although one mm maps.
  op.mm = choose_mm();
  const uint64_t have = m_model.mm_mappings(op.mm);
  const uint64_t target = 32769 + pick(2 * m_nr);
  const uint64_t need = target > have ? target - have : 1;
  if (m_setup.pmd_sized() && chance(1, 4)) {
    op.kind = m_setup.anon() ? OpKind::add_anon_pmd : OpKind::add_file_pmd;
    op.repeat = static_cast<uint32_t>(need);
  } else {
    op.page = 0;
    op.nr = m_nr;
    op.repeat = static_cast<uint32_t>((need + m_nr - 1) / m_nr);
  }
}

Op OpMaker::make(const Candidate& c) const {
  Op op;
  op.kind = c.kind;
  if (c.bulk) {
    bulk(op);
    return op;
  }
  auto own_count = [&](uint32_t id) {
    const MmMappings* mm = m_model.mm(id);
    return [mm](uint32_t page) -> uint32_t { return mm->pte[page]; };
  };
  auto down_to_zero = [&](uint32_t held) { return chance(1, 3) ? held : 1; };
  switch (c.kind) {
    case OpKind::add_new_anon:
      op.mm = choose_mm();
      op.exclusive = !chance(1, 4);
      break;
    case OpKind::add_anon_ptes:
      op.mm = choose_mm();
      add_range(op);
      op.exclusive = chance(1, 3);
      op.repeat = small_repeat();
      break;
    case OpKind::add_file_ptes:
      op.mm = choose_mm();
      add_range(op);
      op.repeat = small_repeat();
      break;
    case OpKind::add_anon_pmd:
    case OpKind::hugetlb_add_anon:
      op.mm = choose_mm();
      op.exclusive = chance(1, 3);
      op.repeat = small_repeat();
      break;
    case OpKind::add_file_pmd:
    case OpKind::add_file_pud:
    case OpKind::hugetlb_add_file:
      op.mm = choose_mm();
      op.repeat = small_repeat();
      break;
    case OpKind::hugetlb_add_new_anon:
      op.mm = choose_mm();
      break;
    case OpKind::remove_ptes: {
      op.mm = pick_from(pte_holders());
      const auto count = own_count(op.mm);
      run_range(op, count);
      uint32_t least = UINT32_MAX;
      for (uint32_t i = op.page; i < op.page + op.nr; i++) least = std::min(least, count(i));
      op.repeat = down_to_zero(least);
      break;
    }
    case OpKind::remove_pmd:
      op.mm = pick_from(pmd_holders());
      op.repeat = down_to_zero(m_model.mm(op.mm)->pmd);
      break;
    case OpKind::remove_pud:
      op.mm = pick_from(pud_holders());
      op.repeat = down_to_zero(m_model.mm(op.mm)->pud);
      break;
    case OpKind::hugetlb_remove:
      op.mm = pick_from(hugetlb_holders());
      op.repeat = down_to_zero(m_model.mm(op.mm)->hugetlb);
      break;
    case OpKind::dup_file_ptes:
      op.mm = choose_mm();
      run_range(op, [&](uint32_t page) { return m_model.page_pte(page); });
      break;
    case OpKind::dup_file_pmd:
      op.mm = choose_mm();
      break;
    case OpKind::try_dup_anon_ptes:
      op.src = choose_src(pte_holders());
      op.mm = choose_child(op.src);
      run_range(op, own_count(op.src));
      break;
    case OpKind::try_dup_anon_pmd:
      op.src = choose_src(pmd_holders());
      op.mm = choose_child(op.src);
      break;
    case OpKind::hugetlb_try_dup_anon:
      op.src = choose_src(hugetlb_holders());
      op.mm = choose_child(op.src);
      break;
    case OpKind::try_share_anon_pte:
      op.page = pick_from(ae_pages_mapped());
      break;
    case OpKind::try_share_anon_pmd:
    case OpKind::hugetlb_try_share_anon:
      break;
    case OpKind::gup_pin:
      op.mm = pick_from(mapping_mms());
      break;
    case OpKind::gup_unpin:
      op.repeat = down_to_zero(m_model.pins());
      break;
  }
  return op;
}

}  // namespace

std::vector<std::string> supporting_impls(const Setup& setup,
                                          const std::vector<std::string>& names) {
  std::vector<std::string> out;
  if (ReferenceModel::setup_error(setup)) return out;
  auto consider = [&](std::string_view name) {
    auto impl = make_implementation(name);
    if (impl && impl->supports(setup)) out.emplace_back(name);
  };
  if (names.empty()) {
    for (std::string_view name : implementation_names()) consider(name);
  } else {
    for (const std::string& name : names) consider(name);
  }
  return out;
}

Differential make_differential(const Scenario& sc) {
  std::vector<std::unique_ptr<Implementation>> impls;
  for (const std::string& name : sc.impls) {
    auto impl = make_implementation(name);
    if (!impl) throw std::logic_error("implementation '" + name + "' vanished");
    impls.push_back(std::move(impl));
  }
  Differential diff(std::move(impls));
  diff.reset(sc.setup);
  return diff;
}

rc::Gen<Scenario> gen_scenario(const ScenarioOptions& o) {
  const auto configs = supported_configs(o);
  if (configs.empty())
    throw std::runtime_error("no implementation supports any configuration the property may use");
  auto gen = rc::gen::exec([o, configs] {
    Scenario sc;
    Setup& st = sc.setup;
    const auto [sem, bits] = pick_from(configs);
    st.config.semantics = sem;
    st.config.bits = bits;
    const size_t geometry = pick_weighted({4, 4, o.allow_real_pmd ? 1u : 0u});
    const bool real = geometry == 2;
    st.config.pmd_order = real ? 9 : 2 + static_cast<int>(geometry);
    st.config.pud_order = real ? 18 : st.config.pmd_order + 1 + static_cast<int>(pick(2));
    st.folio.hugetlb = o.allow_hugetlb && chance(1, 6);
    st.folio.type = st.folio.hugetlb ? (chance(1, 2) ? FolioType::file : FolioType::anon)
                                     : static_cast<FolioType>(pick(3));
    st.folio.order = pick_order(st.config, st.folio.hugetlb, real);
    sc.bulk = o.allow_bulk && bits == 32 && st.has_mm_id() && st.large() && !st.folio.hugetlb &&
              chance(1, 3);
    sc.pins = chance(1, 3);
    sc.mms = pick_mms(bits, std::max<uint32_t>(1, o.min_mms), std::max(o.min_mms, o.max_mms));
    sc.impls = supporting_impls(st, o.impls);
    return sc;
  });
  return rc::gen::suchThat(std::move(gen), [](const Scenario& sc) { return !sc.impls.empty(); });
}

Op canonical(Op op) {
  const unsigned args = op_info(op.kind).args;
  if (!(args & kArgMm)) op.mm = 0;
  if (!(args & kArgSrc)) op.src = 0;
  if (!(args & (kArgRange | kArgPage))) op.page = 0;
  if (!(args & kArgRange)) op.nr = 1;
  if (!(args & kArgExclusive)) op.exclusive = false;
  if (op.repeat == 0) op.repeat = 1;
  return op;
}

rc::Gen<Op> gen_op(GenContext ctx) {
  return rc::gen::exec([ctx] {
    const OpMaker maker(*ctx.model, *ctx.scenario, ctx.filter);
    const auto cands = maker.candidates();
    if (cands.empty()) throw rc::GenerationFailure("no operation applies to this folio");
    std::vector<unsigned> weights;
    for (const Candidate& c : cands) weights.push_back(c.weight);
    Op op = canonical(maker.make(cands[pick_weighted(weights)]));
    // PageAnonExclusive ties an mm's mappings to every other mm's.
    if (ctx.filter.independent) op.exclusive = false;
    // RMAP_EXCLUSIVE is what most often makes an add invalid; without it the add usually is not.
    if (op.exclusive && invalid_reason(*ctx.model, op)) op.exclusive = false;
    return op;
  });
}

std::optional<Op> gen_valid_op(const ReferenceModel& model,
                               std::shared_ptr<const Scenario> scenario, const OpFilter& filter) {
  GenContext ctx{std::make_shared<const ReferenceModel>(model), std::move(scenario), filter};
  for (int tries = 0; tries < 16; tries++) {
    Op op = *gen_op(ctx);
    if (!invalid_reason(model, op)) return op;
  }
  return std::nullopt;
}

void showValue(const Scenario& sc, std::ostream& os) {
  os << print_setup(sc.setup) << "mms:";
  for (uint32_t id : sc.mms) os << " " << id;
  if (sc.bulk) os << " (bulk)";
  if (sc.pins) os << " (pins)";
  os << "\nimplementations:";
  for (const std::string& name : sc.impls) os << " " << name;
}

std::optional<std::string> invalid_reason(const ReferenceModel& model, const Op& op) {
  if (op.repeat == 0) return "x=0";
  if (op.repeat == 1) return model.precondition(op);
  ReferenceModel m = model;
  const Op one = once(op);
  for (uint32_t k = 0; k < op.repeat; k++) {
    if (auto why = m.precondition(one))
      return "repetition " + std::to_string(k + 1) + " of " + std::to_string(op.repeat) + ": " +
             *why;
    m.apply(one);
  }
  return std::nullopt;
}

void apply_op(ReferenceModel& model, const Op& op) {
  const Op one = once(op);
  for (uint32_t k = 0; k < op.repeat; k++) model.apply(one);
}

}  // namespace foliocheck::props

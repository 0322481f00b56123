// RapidCheck generators of setups and rmap operations, biased toward where mapcount bugs live.
#include "properties/generators.h"

#include <algorithm>
#include <array>
#include <cstdlib>
#include <ostream>
#include <stdexcept>
#include <utility>

#include "core/legality.h"
#include "trace/trace.h"
#include "impl/registry.h"

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
      if (!supporting_impls(probe, o.impls).empty() && setup_in_scope(probe))
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
  unsigned weight(const OpInfo& info) const;
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
  std::vector<uint32_t> holders(Need need) const {
    return holders([need](const MmMappings& mm) { return mm_holds(mm, need); });
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

// How often each kind is picked, from its ops.def Need and effect: so that a new operation is
// generated without a line here. Forks and shares weigh more while the folio is pinned: that is
// where -EBUSY lives.
unsigned OpMaker::weight(const OpInfo& info) const {
  const unsigned pin_boost = m_model.pins() > 0 ? 2 : 1;
  switch (info.needs) {
    case Need::fresh:
      return 8;
    case Need::nothing:
      if (info.adds == Adds::range) return 6;
      return info.level == kPud ? 3 : info.level == kHugetlb ? 5 : 4;
    case Need::mm_ptes:
      return 7;
    case Need::mm_pmd:
      return 4;
    case Need::mm_pud:
      return 3;
    case Need::mm_hugetlb:
      return 5;
    case Need::pages_mapped:
    case Need::all_pages_mapped:
      return 2;
    case Need::src_ptes:
      return 3 * pin_boost;
    case Need::src_pmd:
    case Need::src_hugetlb:
      return 2 * pin_boost;
    case Need::ae_page:
    case Need::ae_head:
      return 2 * pin_boost;
    case Need::mm_maps:
      return m_sc.pins ? 4 : 1;
    case Need::pinned:
      return 2;
    case Need::mm_pte:
      return 0;  // readers are not generated (candidates() skips them)
  }
  return 1;
}

std::vector<Candidate> OpMaker::candidates() const {
  const bool hug = m_setup.folio.hugetlb;
  const bool indep = m_filter.independent;
  std::vector<Candidate> out;
  for (int k = 0; k < kNumOpKinds; k++) {
    const OpKind kind = static_cast<OpKind>(k);
    const OpInfo& info = op_info(kind);
    if (op_is_reader(kind) || !op_enabled(kind, m_model)) continue;
    if (indep && !op_is_per_mm(kind)) continue;
    if (need_is_src(info.needs) && m_sc.mms.size() < 2) continue;
    if ((need_is_mm(info.needs) || need_is_src(info.needs)) && holders(info.needs).empty())
      continue;
    out.push_back({weight(info), kind, false});
  }
  if (m_sc.bulk && !indep && m_setup.large() && !hug) {
    // One wrap per case is the point; each bulk map costs ~33000 checked steps.
    bool overflowed = false;
    for (const auto& [id, mm] : m_model.mms()) overflowed |= mm.total() > 32768;
    if (!overflowed) out.push_back({4, m_setup.anon() ? OpKind::add_anon_ptes : OpKind::add_file_ptes, true});
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
  const OpInfo& info = op_info(c.kind);
  const Need need = info.needs;
  auto own_count = [&](uint32_t id) {
    const MmMappings* mm = m_model.mm(id);
    return [mm](uint32_t page) -> uint32_t { return mm->pte[page]; };
  };
  auto down_to_zero = [&](uint32_t held) { return chance(1, 3) ? held : 1; };
  if (info.args & kArgMm) op.mm = need_is_mm(need) ? pick_from(holders(need)) : choose_mm();
  if (need_is_src(need)) {
    op.src = choose_src(holders(need));
    op.mm = choose_child(op.src);
  }
  if (info.args & kArgRange) {
    if (need == Need::mm_ptes || need == Need::src_ptes)
      run_range(op, own_count(need == Need::mm_ptes ? op.mm : op.src));
    else if (need == Need::pages_mapped)
      run_range(op, [&](uint32_t page) { return m_model.page_pte(page); });
    else
      add_range(op);
  }
  if ((info.args & kArgPage) && need == Need::ae_page) {
    std::vector<uint32_t> pages;
    for (uint32_t i = 0; i < m_nr; i++)
      if (m_model.page_anon_exclusive(i)) pages.push_back(i);
    op.page = pick_from(pages);
  }
  if (info.args & kArgExclusive) op.exclusive = need == Need::fresh ? !chance(1, 4) : chance(1, 3);
  switch (need) {
    case Need::nothing:
      op.repeat = small_repeat();
      break;
    case Need::mm_ptes: {
      const auto count = own_count(op.mm);
      uint32_t least = UINT32_MAX;
      for (uint32_t i = op.page; i < op.page + op.nr; i++) least = std::min(least, count(i));
      op.repeat = down_to_zero(least);
      break;
    }
    case Need::mm_pmd:
      op.repeat = down_to_zero(m_model.mm(op.mm)->pmd);
      break;
    case Need::mm_pud:
      op.repeat = down_to_zero(m_model.mm(op.mm)->pud);
      break;
    case Need::mm_hugetlb:
      op.repeat = down_to_zero(m_model.mm(op.mm)->hugetlb);
      break;
    case Need::pinned:
      op.repeat = down_to_zero(m_model.pins());
      break;
    default:
      break;
  }
  return op;
}

}  // namespace

std::vector<std::string> supporting_impls(const Setup& setup,
                                          const std::vector<std::string>& names) {
  if (ReferenceModel::setup_error(setup)) return {};
  return choose_implementations(setup, names).names;
}

Differential make_differential(const Scenario& sc) {
  Differential diff(make_implementations(sc.impls));
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

rc::Gen<Op> gen_op(GenContext ctx) {
  return rc::gen::exec([ctx] {
    const OpMaker maker(*ctx.model, *ctx.scenario, ctx.filter);
    const auto cands = maker.candidates();
    if (cands.empty()) throw rc::GenerationFailure("no operation applies to this folio");
    std::vector<unsigned> weights;
    for (const Candidate& c : cands) weights.push_back(c.weight);
    Op op = canonical_op(maker.make(cands[pick_weighted(weights)]));
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

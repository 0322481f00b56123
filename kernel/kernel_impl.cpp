// The kernel implementations: each tree's own rmap code (kernel_rmap.c, once per configuration and word size) behind foliocheck's Implementation.
#include <algorithm>
#include <memory>
#include <new>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "kernel_api.h"
#include "model/implementation.h"
#include "model/kernel_hook.h"
#include "model/reference_model.h"

// Every compilation of kernel_rmap.c the build made: FOLIOCHECK_KERNEL_VARIANT(symbol, "tree").
extern "C" {
#define FOLIOCHECK_KERNEL_VARIANT(symbol, tree) extern const struct fc_kernel_ops symbol;
#include "kernel_variants.inc"
#undef FOLIOCHECK_KERNEL_VARIANT
}

namespace foliocheck {
namespace {

const fc_kernel_ops* const kVariants[] = {
#define FOLIOCHECK_KERNEL_VARIANT(symbol, tree) &symbol,
#include "kernel_variants.inc"
#undef FOLIOCHECK_KERNEL_VARIANT
};

// The C side numbers operations and observables by the same .def files; keep them in step.
static_assert(FC_NR_OPS == kNumOpKinds, "kernel_api.h and model/ops.def disagree");
static_assert(FC_NR_OBS == kNumObs, "kernel_api.h and model/observables.def disagree");

// Beyond this many lines, warnings are counted but no longer kept: a kernel that warns on every
// operation of a long fuzz run must not grow the log without bound.
constexpr size_t kMaxLog = 64;

// One tree (its variants: every configuration at 64 and 32 bits), or `kernel`: every tree built
// in, the first whose variant matches the setup. Each variant keeps its own state, made on first
// use, so that switching between setups costs no allocation after the first.
class KernelImplementation final : public Implementation {
 public:
  KernelImplementation(std::string_view name, std::vector<const fc_kernel_ops*> variants)
      : m_name(name), m_variants(std::move(variants)), m_states(m_variants.size(), nullptr) {}
  ~KernelImplementation() override {
    for (size_t i = 0; i < m_variants.size(); i++)
      if (m_states[i]) m_variants[i]->destroy(m_states[i]);
  }
  KernelImplementation(const KernelImplementation&) = delete;
  KernelImplementation& operator=(const KernelImplementation&) = delete;

  // `kernel` answers under the name of the tree it runs, so that a finding names the tree.
  std::string_view name() const override {
    return m_name == kKernelAlias && m_ops ? std::string_view(m_ops->tree_name) : m_name;
  }

  bool supports(const Setup& setup) const override {
    return find(setup) != nullptr && !ReferenceModel::setup_error(setup);
  }

  void reset(const Setup& setup) override {
    const fc_kernel_ops* ops = find(setup);
    if (!ops) throw std::logic_error(std::string(m_name) + ": reset() with a setup it does not support");
    const size_t i = static_cast<size_t>(
        std::find(m_variants.begin(), m_variants.end(), ops) - m_variants.begin());
    if (!m_states[i] && !(m_states[i] = ops->create())) throw std::bad_alloc();
    m_ops = ops;
    m_st = m_states[i];
    m_setup = setup;
    const fc_setup s{setup.folio.order, static_cast<fc_folio_type>(setup.folio.type),
                     setup.folio.hugetlb, setup.config.pmd_order, setup.config.pud_order};
    if (!m_ops->reset(m_st, &s)) throw std::bad_alloc();
    m_log.clear();
    m_dropped = 0;
  }

  void apply(const Op& op) override {
    m_ops->apply(m_st, static_cast<fc_op>(op.kind), op.mm,
                 (op_info(op.kind).args & kArgSrc) ? op.src : 0, op.page, op.nr, op.exclusive);
    take_log();
  }

  bool models(Obs obs) const override { return m_ops->models(m_st, static_cast<fc_obs>(obs)); }

  int64_t read(Obs obs, uint32_t index) const override {
    return m_ops->read(m_st, static_cast<fc_obs>(obs), index);
  }

  std::optional<Violation> check_invariants(PageRange scope, bool full) const override;
  std::optional<Violation> check_free() const override;
  std::span<const std::string> warning_log() const override { return m_log; }

 private:
  const fc_kernel_ops* find(const Setup& setup) const {
    const std::string_view sem = semantics_name(setup.config.semantics);
    for (const fc_kernel_ops* ops : m_variants)
      if (ops->semantics == sem && ops->bits == setup.config.bits) return ops;
    return nullptr;
  }
  int64_t raw(fc_raw field, uint32_t index = 0) const { return m_ops->raw(m_st, field, index); }
  Violation bad(std::string field, int64_t expected, int64_t actual, std::string detail) const {
    return Violation{ViolationKind::invariant, std::string(name()), std::move(field), expected,
                     actual, std::move(detail)};
  }
  void take_log();
  std::optional<Violation> check_mm_id_slots() const;

  std::string_view m_name;
  std::vector<const fc_kernel_ops*> m_variants;
  std::vector<fc_state*> m_states;
  const fc_kernel_ops* m_ops = nullptr;  // the variant reset() chose
  fc_state* m_st = nullptr;
  Setup m_setup;
  std::vector<std::string> m_log;
  size_t m_dropped = 0;
};

void KernelImplementation::take_log() {
  constexpr unsigned kBatch = 32;
  const char* file[kBatch];
  int line[kBatch];
  const char* macro[kBatch];
  const char* cond[kBatch];
  const unsigned n = m_ops->take_log(m_st, kBatch, file, line, macro, cond);
  for (unsigned i = 0; i < n; i++) {
    if (m_log.size() >= kMaxLog) {
      m_dropped++;
      continue;
    }
    if (line[i] == 0)
      m_log.push_back(std::string(file[i]) + ": " + macro[i] + ": " + cond[i]);
    else
      m_log.push_back(std::string(file[i]) + ":" + std::to_string(line[i]) + ": " + macro[i] +
                      "(" + cond[i] + ")");
  }
}

// Spec "(b)", on the tree's raw words: what must hold whatever the operations were, so that a
// change to the tree that breaks an invariant is reported even where no observable shows it yet.
// The same invariants the encodings check on their own words (model/packed_folio.cpp), as far as
// the configuration has the words: per-page counts and _nr_pages_mapped only with
// CONFIG_PAGE_MAPCOUNT, _entire_mapcount/_pincount not for a 32-bit next order-1 folio (page 2
// is not part of it), the mm-id slots only with CONFIG_MM_ID.
std::optional<Violation> KernelImplementation::check_invariants(PageRange scope, bool full) const {
  const Setup& s = m_setup;
  const uint32_t n = s.nr_pages();
  const bool large = s.large(), hugetlb = s.folio.hugetlb;
  const bool ordinary_large = large && !hugetlb;
  const bool next = std::string_view(m_ops->style) == "next";
  const bool page_mapcount = s.has_page_mapcount();
  const bool entire_storage = !next || m_ops->bits == 64 || s.folio.order > 1;
  if (const int64_t w = raw(FC_RAW_read_warnings))
    return bad("read_helper_warned", 0, w, "a read helper's own sanity check fired");
  const int64_t em = raw(FC_RAW_entirely_mapped_bit);
  const int64_t large_raw = raw(FC_RAW_large_mapcount);
  const int64_t entire_raw = entire_storage ? raw(FC_RAW_entire_mapcount) : -1;
  const int64_t npm = raw(FC_RAW_nr_pages_mapped);
  if (large) {
    if (large_raw < -1)
      return bad("raw_large_mapcount", -1, large_raw, "_large_mapcount below its -1 bias");
    if (entire_raw < -1)
      return bad("raw_entire_mapcount", -1, entire_raw, "_entire_mapcount below its -1 bias");
    if (const int64_t pins = raw(FC_RAW_pincount); entire_storage && pins < 0)
      return bad("pincount", 0, pins, "_pincount is negative");
    if (entire_raw > large_raw)
      return bad("entire_vs_large", large_raw + 1, entire_raw + 1,
                 "more entire mappings than mappings");
    if (hugetlb && entire_raw != large_raw)
      return bad("hugetlb_entire_eq_large", large_raw, entire_raw,
                 "hugetlb raw _entire_mapcount differs from raw _large_mapcount");
    if (hugetlb && npm != 0)
      return bad("hugetlb_nr_pages_mapped", 0, npm, "hugetlb must leave _nr_pages_mapped at 0");
    if (page_mapcount && npm < 0)
      return bad("nr_pages_mapped", 0, npm, "_nr_pages_mapped is negative");
    if (!page_mapcount && npm != 0)
      return bad("nr_pages_mapped_untouched", 0, npm,
                 "NO_PAGE_MAPCOUNT must never touch _nr_pages_mapped");
    if (next) {
      if (auto v = check_mm_id_slots()) return v;
    }
  }
  if (read(Obs::partially_mapped, 0) && !(s.anon() && s.folio.order >= 2))
    return bad("partially_mapped", 0, 1, "PG_partially_mapped on a folio deferred_split ignores");

  uint32_t first = full ? 0 : std::min(scope.first, n), last = full ? n : std::min(scope.last, n);
  for (uint32_t p = first; p < last; p++) {
    if (hugetlb && p == 0) continue;  // the head's word is the hugetlb page type
    const int64_t m = raw(FC_RAW_page_mapcount, p);
    const std::string at = "[" + std::to_string(p) + "]";
    if (m < -1) return bad("raw_mapcount" + at, -1, m, "a page's _mapcount below its -1 bias");
    if ((hugetlb || (!page_mapcount && ordinary_large)) && m != -1)
      return bad("page_mapcount_untouched" + at, -1, m,
                 "this folio must not use per-page mapcounts");
    if (s.anon() && !hugetlb && raw(FC_RAW_anon_exclusive, p) &&
        (m > 0 || (large && entire_raw > 0)))
      return bad("anon_exclusive_mapped_once" + at, 0, m + 1,
                 "a PageAnonExclusive page is mapped more than once");
  }
  if (!full || !ordinary_large || !page_mapcount) return std::nullopt;

  int64_t pages = 0, sum = 0;
  for (uint32_t p = 0; p < n; p++) {
    const int64_t m = raw(FC_RAW_page_mapcount, p);
    if (m < 0) continue;
    pages++;
    sum += m + 1;
  }
  const int64_t entire = entire_raw + 1;
  if (const int64_t want = pages + (entire >= 1 ? em : 0); want != npm)
    return bad("nr_pages_mapped_recount", want, npm,
               "_nr_pages_mapped differs from the pages mapped plus ENTIRELY_MAPPED");
  if (sum + entire != large_raw + 1)
    return bad("large_mapcount_recount", sum + entire, large_raw + 1,
               "large mapcount differs from the per-page counts plus the entire mapcount");
  const int64_t mapped_stat = read(s.anon() ? Obs::nr_anon_mapped : Obs::nr_file_mapped, 0);
  if (const int64_t want = entire >= 1 ? int64_t{n} : pages; want != mapped_stat)
    return bad("mapped_stat_recount", want, mapped_stat,
               "NR_*_MAPPED differs from the pages the counters say are mapped");
  return std::nullopt;
}

// The slot invariants of spec section 5 on the tree's words (CONFIG_MM_ID, large, not hugetlb):
// the bit lock is free between operations; a slot is free (id DUMMY) iff its count is -1; an
// owned slot's count is not negative; the two owners differ; the slots never count more
// mappings than the folio has; an unmapped folio has both slots free and the shared bit clear; a
// mapped folio whose shared bit is clear has exactly one owner, holding every mapping. On hugetlb
// the words stay as prep_compound_head() left them.
std::optional<Violation> KernelImplementation::check_mm_id_slots() const {
  const int64_t c0 = raw(FC_RAW_mm_id_mapcount, 0), c1 = raw(FC_RAW_mm_id_mapcount, 1);
  const int64_t id0 = raw(FC_RAW_mm_id, 0), id1 = raw(FC_RAW_mm_id, 1);
  const int64_t shared = raw(FC_RAW_shared_bit), lock = raw(FC_RAW_lock_bit);
  const int64_t large_raw = raw(FC_RAW_large_mapcount);
  if (!m_setup.has_mm_id()) return std::nullopt;  // the words are not the slots' here
  if (m_setup.folio.hugetlb) {
    if (c0 != -1 || c1 != -1 || id0 || id1 || shared || lock)
      return bad("slots_untouched", -1, c0 != -1 ? c0 : c1, "MM slots must stay untouched here");
    return std::nullopt;
  }
  if (lock) return bad("mm_ids_lock_bit", 0, 1, "the _mm_ids bit lock is held between operations");
  if ((id0 == 0) != (c0 == -1))
    return bad("slot_free_iff_minus_one", -1, c0, "slot 0: id is DUMMY iff its count is -1");
  if ((id1 == 0) != (c1 == -1))
    return bad("slot_free_iff_minus_one", -1, c1, "slot 1: id is DUMMY iff its count is -1");
  if ((id0 && c0 < 0) || (id1 && c1 < 0))
    return bad("slot_count_nonnegative", 0, std::min(c0, c1), "an owned slot's count is negative");
  if (id0 && id0 == id1)
    return bad("slot_ids_distinct", 0, id0, "both slots are owned by the same mm");
  const int64_t mapcount = large_raw + 1;
  if ((c0 + 1) + (c1 + 1) > mapcount)
    return bad("slot_sum_le_large", mapcount, (c0 + 1) + (c1 + 1),
               "the slots count more mappings than the folio has");
  if (mapcount == 0 && (id0 || id1 || shared))
    return bad("unmapped_slots_reset", 0, shared ? 1 : 2,
               "an unmapped folio must have both slots free and the shared bit clear");
  if (!shared && mapcount >= 1) {
    const int owners = (id0 != 0) + (id1 != 0);
    if (owners != 1)
      return bad("exclusive_one_owner", 1, owners,
                 "shared bit clear on a mapped folio but not exactly one slot owned");
    if (const int64_t c = id0 ? c0 : c1; c != large_raw)
      return bad("exclusive_owner_has_all", large_raw, c,
                 "shared bit clear but the owner's count is not the raw large mapcount");
  }
  return std::nullopt;
}

std::optional<Violation> KernelImplementation::check_free() const {
  uint32_t page = 0;
  const char* reason = m_ops->check_free(m_st, &page);
  if (!reason) return std::nullopt;
  const std::string r = reason;
  int64_t actual = 1;
  std::string field = r;
  if (r == "nonzero entire_mapcount") actual = raw(FC_RAW_entire_mapcount) + 1;
  if (r == "nonzero large_mapcount") actual = raw(FC_RAW_large_mapcount) + 1;
  if (r == "nonzero nr_pages_mapped") actual = raw(FC_RAW_nr_pages_mapped);
  if (r == "nonzero pincount") actual = raw(FC_RAW_pincount);
  if (r == "nonzero mm mapcount 0") actual = raw(FC_RAW_mm_id_mapcount, 0) + 1;
  if (r == "nonzero mm mapcount 1") actual = raw(FC_RAW_mm_id_mapcount, 1) + 1;
  if (r == "nonzero mapcount") {
    actual = raw(FC_RAW_page_mapcount, page) + 1;
    field += "[" + std::to_string(page) + "]";
  }
  return bad(std::move(field), 0, actual, "free_pages_prepare: bad_page(\"" + r + "\")");
}

// The tree names, in the order the build lists them (FOLIOCHECK_LINUX_DIRS).
const std::vector<std::string_view>& tree_names() {
  static const std::vector<std::string_view> names = [] {
    std::vector<std::string_view> out;
    for (const fc_kernel_ops* ops : kVariants)
      if (std::find(out.begin(), out.end(), std::string_view(ops->tree_name)) == out.end())
        out.emplace_back(ops->tree_name);
    return out;
  }();
  return names;
}

}  // namespace

// The strong definitions that replace the weak defaults of model/encodings.cpp.
std::vector<std::string_view> kernel_implementation_names() { return tree_names(); }

std::unique_ptr<Implementation> make_kernel_implementation(std::string_view name) {
  std::vector<const fc_kernel_ops*> variants;
  for (const fc_kernel_ops* ops : kVariants)
    if (name == kKernelAlias || name == ops->tree_name) variants.push_back(ops);
  if (variants.empty()) return nullptr;
  const auto& names = tree_names();
  const auto it = std::find(names.begin(), names.end(), name);
  return std::make_unique<KernelImplementation>(it != names.end() ? *it : kKernelAlias,
                                                std::move(variants));
}

}  // namespace foliocheck

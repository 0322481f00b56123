// The `kernel` implementation: a kernel tree's own rmap code (kernel_rmap.c) behind foliocheck's Implementation.
#include <algorithm>
#include <memory>
#include <new>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "kernel_api.h"
#include "core/implementation.h"
#include "impl/kernel_hook.h"
#include "core/reference_model.h"

namespace foliocheck {
namespace {

// The C side numbers operations and observables by the same .def files; keep them in step.
static_assert(FC_NR_OPS == kNumOpKinds, "kernel_api.h and core/ops.def disagree");
static_assert(FC_NR_OBS == kNumObs, "kernel_api.h and core/observables.def disagree");

// Beyond this many lines, warnings are counted but no longer kept: a kernel that warns on every
// operation of a long fuzz run must not grow the log without bound.
constexpr size_t kMaxLog = 64;

class KernelImplementation final : public Implementation {
 public:
  KernelImplementation() : m_st(fc_kernel_create()) {
    if (!m_st) throw std::bad_alloc();
    m_semantics = semantics_from_name(fc_kernel_semantics());
  }
  ~KernelImplementation() override { fc_kernel_destroy(m_st); }
  KernelImplementation(const KernelImplementation&) = delete;
  KernelImplementation& operator=(const KernelImplementation&) = delete;

  std::string_view name() const override { return "kernel"; }

  // The tree implements one configuration (6.12, or the FOLIOCHECK_KERNEL_CONFIG of a newer
  // tree), compiled for 64-bit; the PMD/PUD geometry is the trace's.
  bool supports(const Setup& setup) const override {
    return m_semantics && setup.config.semantics == *m_semantics && setup.config.bits == 64 &&
           !ReferenceModel::setup_error(setup);
  }

  void reset(const Setup& setup) override {
    m_setup = setup;
    const fc_setup s{setup.folio.order, static_cast<fc_folio_type>(setup.folio.type),
                     setup.folio.hugetlb, setup.config.pmd_order, setup.config.pud_order};
    if (!fc_kernel_reset(m_st, &s)) throw std::bad_alloc();
    m_log.clear();
    m_dropped = 0;
  }

  void apply(const Op& op) override {
    fc_kernel_apply(m_st, static_cast<fc_op>(op.kind), op.mm,
                    (op_info(op.kind).args & kArgSrc) ? op.src : 0, op.page, op.nr, op.exclusive);
    take_log();
  }

  bool models(Obs obs) const override { return fc_kernel_models(m_st, static_cast<fc_obs>(obs)); }

  int64_t read(Obs obs, uint32_t index) const override {
    return fc_kernel_read(m_st, static_cast<fc_obs>(obs), index);
  }

  std::optional<Violation> check_invariants(PageRange scope, bool full) const override;
  std::optional<Violation> check_free() const override;
  std::span<const std::string> warning_log() const override { return m_log; }

 private:
  int64_t raw(fc_raw field, uint32_t index = 0) const { return fc_kernel_raw(m_st, field, index); }
  Violation bad(std::string field, int64_t expected, int64_t actual, std::string detail) const {
    return Violation{ViolationKind::invariant, "kernel", std::move(field), expected, actual,
                     std::move(detail)};
  }
  void take_log();

  fc_state* m_st;
  std::optional<Semantics> m_semantics;
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
  const unsigned n = fc_kernel_take_log(m_st, kBatch, file, line, macro, cond);
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
std::optional<Violation> KernelImplementation::check_invariants(PageRange scope, bool full) const {
  const Setup& s = m_setup;
  const uint32_t n = s.nr_pages();
  const bool large = s.large(), hugetlb = s.folio.hugetlb;
  if (const int64_t w = raw(FC_RAW_read_warnings))
    return bad("read_helper_warned", 0, w, "a read helper's own sanity check fired");
  const int64_t em = raw(FC_RAW_entirely_mapped_bit);
  const int64_t large_raw = raw(FC_RAW_large_mapcount), entire_raw = raw(FC_RAW_entire_mapcount);
  const int64_t npm = raw(FC_RAW_nr_pages_mapped);
  if (large) {
    if (large_raw < -1)
      return bad("raw_large_mapcount", -1, large_raw, "_large_mapcount below its -1 bias");
    if (entire_raw < -1)
      return bad("raw_entire_mapcount", -1, entire_raw, "_entire_mapcount below its -1 bias");
    if (const int64_t pins = raw(FC_RAW_pincount); pins < 0)
      return bad("pincount", 0, pins, "_pincount is negative");
    if (entire_raw > large_raw)
      return bad("entire_vs_large", large_raw + 1, entire_raw + 1,
                 "more entire mappings than mappings");
    if (hugetlb && entire_raw != large_raw)
      return bad("hugetlb_entire_eq_large", large_raw, entire_raw,
                 "hugetlb raw _entire_mapcount differs from raw _large_mapcount");
    if (hugetlb && npm != 0)
      return bad("hugetlb_nr_pages_mapped", 0, npm, "hugetlb must leave _nr_pages_mapped at 0");
    if (npm < 0) return bad("nr_pages_mapped", 0, npm, "_nr_pages_mapped is negative");
  }
  if (read(Obs::partially_mapped, 0) && !(s.anon() && s.folio.order >= 2))
    return bad("partially_mapped", 0, 1, "PG_partially_mapped on a folio deferred_split ignores");

  uint32_t first = full ? 0 : std::min(scope.first, n), last = full ? n : std::min(scope.last, n);
  for (uint32_t p = first; p < last; p++) {
    if (hugetlb && p == 0) continue;  // the head's word is the hugetlb page type
    const int64_t m = raw(FC_RAW_page_mapcount, p);
    const std::string at = "[" + std::to_string(p) + "]";
    if (m < -1) return bad("raw_mapcount" + at, -1, m, "a page's _mapcount below its -1 bias");
    if (hugetlb && m != -1)
      return bad("page_mapcount_untouched" + at, -1, m, "hugetlb must not use per-page mapcounts");
    if (s.anon() && !hugetlb && raw(FC_RAW_anon_exclusive, p) &&
        (m > 0 || (large && entire_raw > 0)))
      return bad("anon_exclusive_mapped_once" + at, 0, m + 1,
                 "a PageAnonExclusive page is mapped more than once");
  }
  if (!full || !large || hugetlb) return std::nullopt;

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

std::optional<Violation> KernelImplementation::check_free() const {
  uint32_t page = 0;
  const char* reason = fc_kernel_check_free(m_st, &page);
  if (!reason) return std::nullopt;
  const std::string r = reason;
  int64_t actual = 1;
  std::string field = r;
  if (r == "nonzero entire_mapcount") actual = raw(FC_RAW_entire_mapcount) + 1;
  if (r == "nonzero large_mapcount") actual = raw(FC_RAW_large_mapcount) + 1;
  if (r == "nonzero nr_pages_mapped") actual = raw(FC_RAW_nr_pages_mapped);
  if (r == "nonzero pincount") actual = raw(FC_RAW_pincount);
  if (r == "nonzero mapcount") {
    actual = raw(FC_RAW_page_mapcount, page) + 1;
    field += "[" + std::to_string(page) + "]";
  }
  return bad(std::move(field), 0, actual, "free_pages_prepare: bad_page(\"" + r + "\")");
}

}  // namespace

// The strong definition that replaces the weak default of impl/registry.cpp.
std::unique_ptr<Implementation> make_kernel_implementation() {
  return std::make_unique<KernelImplementation>();
}

}  // namespace foliocheck

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
#include "kernel/kernel_fault.h"
#include "impl/folio_checks.h"
#include "core/implementation.h"
#include "impl/kernel_hook.h"
#include "core/reference_model.h"

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
static_assert(FC_NR_OPS == kNumOpKinds, "kernel_api.h and core/ops.def disagree");
static_assert(FC_NR_OBS == kNumObs, "kernel_api.h and core/observables.def disagree");
#define FOLIOCHECK_KERNEL_FAULT(name, check)                                         \
  static_assert(static_cast<int>(KernelFault::name) == FC_FAULT_##name, #name);
#include "kernel/kernel_faults.def"
#undef FOLIOCHECK_KERNEL_FAULT

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

  // kernel/kernel_fault.h.
  bool plant_fault(KernelFault fault, uint32_t page) {
    if (!m_ops) return false;
    m_ops->plant_fault(m_st, static_cast<fc_fault>(fault), page);
    return true;
  }

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
  struct Words;

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

// The tree's raw words as impl/folio_checks.h reads them: the same invariants and free-path checks
// the encodings run on their own words, as far as the configuration has the words (per-page counts
// and _nr_pages_mapped only with CONFIG_PAGE_MAPCOUNT, _entire_mapcount/_pincount not for a 32-bit
// 7.x order-1 folio, whose page 2 is not part of it, the mm-id slots only with CONFIG_MM_ID).
struct KernelImplementation::Words {
  const KernelImplementation& k;
  bool next() const { return std::string_view(k.m_ops->style) == "next"; }
  bool large() const { return k.m_setup.large(); }
  bool hugetlb() const { return k.m_setup.folio.hugetlb; }
  bool mm_id() const { return next() && k.m_setup.has_mm_id(); }
  bool page_mapcount() const { return k.m_setup.has_page_mapcount(); }
  bool v6_12_layout() const { return !next(); }
  int bits() const { return k.m_ops->bits; }
  bool has_entire_storage() const {
    return large() && (!next() || k.m_ops->bits == 64 || k.m_setup.folio.order > 1);
  }
  bool has_pincount() const { return has_entire_storage(); }
  uint32_t nr_pages() const { return k.m_setup.nr_pages(); }
  int64_t raw_large_mapcount() const { return k.raw(FC_RAW_large_mapcount); }
  int64_t raw_entire_mapcount() const { return k.raw(FC_RAW_entire_mapcount); }
  int64_t raw_nr_pages_mapped() const { return k.raw(FC_RAW_nr_pages_mapped); }
  int64_t pincount() const { return k.raw(FC_RAW_pincount); }
  int64_t entirely_mapped() const { return k.raw(FC_RAW_entirely_mapped_bit); }
  bool mm_ids_locked() const { return k.raw(FC_RAW_lock_bit) != 0; }
  bool shared_bit() const { return k.raw(FC_RAW_shared_bit) != 0; }
  // Without CONFIG_MM_ID the words are not the slots'; on hugetlb they stay as
  // prep_compound_head() made them.
  bool slots_pristine() const {
    if (!k.m_setup.has_mm_id() || !next()) return true;
    return k.raw(FC_RAW_mm_id_mapcount, 0) == -1 && k.raw(FC_RAW_mm_id_mapcount, 1) == -1 &&
           k.raw(FC_RAW_mm_id, 0) == 0 && k.raw(FC_RAW_mm_id, 1) == 0 && !shared_bit() &&
           !mm_ids_locked();
  }
  uint32_t slot_mm_id(int slot) const {
    return static_cast<uint32_t>(k.raw(FC_RAW_mm_id, static_cast<uint32_t>(slot)));
  }
  int64_t raw_slot_mapcount(int slot) const {
    return k.raw(FC_RAW_mm_id_mapcount, static_cast<uint32_t>(slot));
  }
  int64_t raw_page_mapcount(uint32_t page) const { return k.raw(FC_RAW_page_mapcount, page); }
  // The head's word is the tree's own page type, which only the tree's helpers read.
  bool head_keeps_hugetlb_type() const { return true; }
  bool total_mapped() const { return false; }  // no tree has the RFC yet
  int64_t total_mapped_pages() const { return 0; }
};

// Spec "(b)", on the tree's raw words: what must hold whatever the operations were, so that a
// change to the tree that breaks an invariant is reported even where no observable shows it yet.
// impl/folio_checks.h first, then what only the tree's own code can be asked.
std::optional<Violation> KernelImplementation::check_invariants(PageRange scope, bool full) const {
  const Setup& s = m_setup;
  const uint32_t n = s.nr_pages();
  if (const int64_t w = raw(FC_RAW_read_warnings))
    return bad("read_helper_warned", 0, w, "a read helper's own sanity check fired");
  if (auto f = check_folio_words(Words{*this}, scope, full))
    return bad(std::move(f->field), f->expected, f->actual, std::move(f->detail));
  if (read(Obs::partially_mapped, 0) && !(s.anon() && s.folio.order >= 2))
    return bad("partially_mapped", 0, 1, "PG_partially_mapped on a folio deferred_split ignores");

  const Words w{*this};
  const int64_t entire = w.has_entire_storage() ? w.raw_entire_mapcount() + 1 : 0;
  const uint32_t first = full ? 0 : std::min(scope.first, n), last = full ? n : std::min(scope.last, n);
  for (uint32_t p = first; p < last && s.anon() && !s.folio.hugetlb; p++) {
    const int64_t m = raw(FC_RAW_page_mapcount, p);
    if (raw(FC_RAW_anon_exclusive, p) && (m > 0 || (s.large() && entire > 1)))
      return bad("anon_exclusive_mapped_once[" + std::to_string(p) + "]", 0, m + 1,
                 "a PageAnonExclusive page is mapped more than once");
  }
  if (!full || !s.large() || s.folio.hugetlb || !s.has_page_mapcount()) return std::nullopt;
  int64_t pages = 0;
  for (uint32_t p = 0; p < n; p++) pages += raw(FC_RAW_page_mapcount, p) >= 0;
  const int64_t mapped_stat = read(s.anon() ? Obs::nr_anon_mapped : Obs::nr_file_mapped, 0);
  if (const int64_t want = entire >= 1 ? int64_t{n} : pages; want != mapped_stat)
    return bad("mapped_stat_recount", want, mapped_stat,
               "NR_*_MAPPED differs from the pages the counters say are mapped");
  return std::nullopt;
}

std::optional<Violation> KernelImplementation::check_free() const {
  uint32_t page = 0;
  const char* reason = m_ops->check_free(m_st, &page);
  if (!reason) {
    // The tree's own free_tail_page_prepare() found nothing: the shared transcription must agree.
    if (auto f = check_free_words(Words{*this}))
      return bad(std::move(f->field), f->expected, f->actual, std::move(f->detail));
    return std::nullopt;
  }
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

bool plant_kernel_fault_for_test(Implementation& impl, KernelFault fault, uint32_t page) {
  auto* kernel = dynamic_cast<KernelImplementation*>(&impl);
  return kernel && kernel->plant_fault(fault, page);
}

// The strong definitions that replace the weak defaults of impl/registry.cpp.
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

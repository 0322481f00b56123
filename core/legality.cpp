// Which operations are legal now, derived from ops.def's columns and the model's state.
#include "core/legality.h"

#include <algorithm>
#include <limits>

#include "core/refusal.h"

namespace foliocheck {
namespace {

std::string page_msg(const char* what, uint32_t page) {
  return std::string(what) + " (page " + std::to_string(page) + ")";
}

bool any_holder(const ReferenceModel& m, uint32_t MmMappings::*level) {
  for (const auto& [id, mm] : m.mms())
    if (mm.*level > 0) return true;
  return false;
}

// The level member a Need about one mm's whole-folio mappings names.
uint32_t MmMappings::*need_level(Need need) {
  switch (need) {
    case Need::mm_pmd:
    case Need::src_pmd:
      return &MmMappings::pmd;
    case Need::mm_pud:
      return &MmMappings::pud;
    case Need::mm_hugetlb:
    case Need::src_hugetlb:
      return &MmMappings::hugetlb;
    default:
      return nullptr;
  }
}

const char* level_name(Need need) {
  switch (need) {
    case Need::mm_pmd:
    case Need::src_pmd:
      return "PMD";
    case Need::mm_pud:
      return "PUD";
    default:
      return "hugetlb";
  }
}

// Literals only, so that the inner loops asking op_fits() allocate nothing.
const char* misfit(OpKind kind, const Setup& s) {
  const OpInfo& info = op_info(kind);
  if (info.level == kHugetlb) {
    if (!s.folio.hugetlb) return "VM_WARN: hugetlb rmap helper on a non-hugetlb folio";
  } else if (info.level != kAux) {
    if (s.folio.hugetlb) return "R1: hugetlb folio passed to a non-hugetlb rmap helper";
  }
  if (info.folio == kAnonFolio && !s.anon()) return "VM_WARN: !folio_test_anon(folio)";
  if (info.folio == kFileFolio && s.anon())
    return "VM_WARN: folio_test_anon(folio) in a file helper";
  if ((info.level == kPmd || info.level == kPud) && !s.sem().thp)
    return "no-mm-id is CONFIG_TRANSPARENT_HUGEPAGE=n (since 6.15 THP selects MM_ID, mm/Kconfig): "
           "every PMD/PUD-level rmap helper is a WARN stub";
  if (info.level == kPmd && !s.pmd_sized())
    return "R6: PMD-level rmap of a folio that is not PMD-sized (N != HPAGE_PMD_NR)";
  if (info.level == kPud) {
    if (!s.sem().next) return "no PUD-level rmap in 6.12";
    if (!s.pud_sized()) return "R7: PUD-level rmap of a folio that is not PUD-sized";
  }
  if (info.adds == Adds::new_anon && s.folio.order > s.config.pmd_order)
    return "no anon folio is larger than a PMD";
  if (kind == OpKind::read_maybe_mapped_shared && !s.sem().next)
    return "no folio_maybe_mapped_shared() in 6.12 (it has folio_likely_mapped_shared())";
  if (kind == OpKind::wp_can_reuse_large_anon) {
    if (!s.sem().next)
      return "no __wp_can_reuse_large_anon_folio() in 6.12: COW reuse of PTE-mapped THP came with "
             "6.15 (1da190f4d0a6)";
    if (!s.sem().thp || !s.sem().mm_id)
      return "__wp_can_reuse_large_anon_folio() is BUILD_BUG() without "
             "CONFIG_TRANSPARENT_HUGEPAGE (and reads the mm-id slots)";
    if (!s.large() || s.folio.hugetlb)
      return "__wp_can_reuse_large_anon_folio() is for large non-hugetlb folios only "
             "(wp_can_reuse_anon_folio() calls it when folio_test_large())";
  }
  return nullptr;
}

}  // namespace

std::optional<std::string> op_fits_setup(OpKind kind, const Setup& s) {
  if (const char* why = misfit(kind, s)) return why;
  return std::nullopt;
}

bool op_fits(OpKind kind, const Setup& s) { return misfit(kind, s) == nullptr; }

bool op_enabled(OpKind kind, const ReferenceModel& m) {
  if (!m.fits(kind)) return false;
  const Need need = op_info(kind).needs;
  switch (need) {
    case Need::nothing:
      return true;
    case Need::fresh:
      return m.total_mappings() == 0;
    case Need::mm_ptes:
    case Need::src_ptes:
    case Need::pages_mapped:
      return m.pages_pte_mapped() > 0;
    case Need::all_pages_mapped:
      return m.pages_pte_mapped() == m.setup().nr_pages();
    case Need::mm_pmd:
    case Need::mm_pud:
    case Need::mm_hugetlb:
    case Need::src_pmd:
    case Need::src_hugetlb:
      return any_holder(m, need_level(need));
    case Need::ae_page:
      return m.nr_anon_exclusive() > 0;
    case Need::ae_head:
      return m.page_anon_exclusive(0);
    case Need::mm_maps:
      return m.total_mappings() > 0;
    case Need::pinned:
      return m.pins() > 0;
    case Need::mm_pte:
      return m.pages_pte_mapped() > 0;
  }
  return false;
}

namespace {

template <bool Why>
Refusal<Why> need_unmet_t(const Op& op, const ReferenceModel& m) {
  const OpInfo& info = op_info(op.kind);
  if (info.needs == Need::nothing) return {};
  const MmMappings* dst = need_is_mm(info.needs) ? m.mm(op.mm) : nullptr;
  const MmMappings* src = need_is_src(info.needs) ? m.mm(op.src) : nullptr;
  auto each_page = [&](auto holds, const char* what) -> Refusal<Why> {
    for (uint32_t i = op.page; i < op.page + op.nr; i++)
      if (!holds(i)) return refuse_with<Why>([&] { return page_msg(what, i); });
    return {};
  };
  auto holds_ptes = [](const MmMappings* mm) {
    return [mm](uint32_t i) { return mm && !mm->pte.empty() && mm->pte[i] > 0; };
  };
  auto named = [&](const char* what) {
    return refuse_with<Why>([&] { return std::string(info.name) + what; });
  };
  switch (info.needs) {
    case Need::nothing:
      return {};
    case Need::fresh:
      if (m.total_mappings() != 0) return named(" wants a FRESH folio (it plain-sets the counters)");
      return {};
    case Need::mm_ptes:
      return each_page(holds_ptes(dst), "mm holds no PTE mapping of the page");
    case Need::src_ptes:
      return each_page(holds_ptes(src), "src holds no PTE mapping of the page");
    case Need::pages_mapped:
      return each_page([&](uint32_t i) { return m.page_pte(i) > 0; },
                       "dup of a page that is not PTE-mapped");
    case Need::all_pages_mapped:
      if (m.pages_pte_mapped() != m.setup().nr_pages())
        return named(
            " dups HPAGE_PMD_NR PTEs (kernel behaviour): every page must already be PTE-mapped");
      return {};
    case Need::mm_pmd:
    case Need::mm_pud:
    case Need::mm_hugetlb:
      if (!dst || dst->*need_level(info.needs) == 0)
        return refuse_with<Why>([&] {
          return std::string("mm holds no ") + level_name(info.needs) + " mapping of the folio";
        });
      return {};
    case Need::src_pmd:
    case Need::src_hugetlb:
      if (!src || src->*need_level(info.needs) == 0)
        return refuse_with<Why>([&] {
          return std::string("src holds no ") + level_name(info.needs) + " mapping of the folio";
        });
      return {};
    case Need::ae_page:
      if (!m.page_anon_exclusive(op.page)) return refuse<Why>("VM_WARN: !PageAnonExclusive(page)");
      return {};
    case Need::ae_head:
      if (!m.page_anon_exclusive(0)) return refuse<Why>("VM_WARN: !PageAnonExclusive(head page)");
      return {};
    case Need::mm_maps:
      if (!dst || dst->total() == 0) return named(": the mm does not map the folio");
      return {};
    case Need::pinned:
      if (m.pins() == 0) return named(": the folio is not pinned");
      return {};
    case Need::mm_pte:
      if (!dst || dst->pte_total == 0)
        return named(": the mm holds no PTE of the folio to write-fault on");
      // What the reader assumes of the faulting mm (its comment: "each page can only get mapped
      // once into each MM"), and a PMD split is atomic to that mm's faults (the PMD lock).
      if (dst->entire() > 0)
        return named(": the mm maps the folio by PMD too (a split in progress, under the PMD lock)");
      for (uint32_t c : dst->pte)
        if (c > 1) return named(": the mm maps an anon page twice");
      return {};
  }
  return {};
}

}  // namespace

std::optional<std::string> need_unmet(const Op& op, const ReferenceModel& m) {
  return need_unmet_t<true>(op, m);
}

bool need_met(const Op& op, const ReferenceModel& m) { return !need_unmet_t<false>(op, m); }

namespace {

// Pages one successful call adds to the RFC's _total_mapped_pages (hugetlb: none).
uint64_t pages_added(const Op& op, const Setup& s) {
  const OpInfo& info = op_info(op.kind);
  if (info.level == kHugetlb) return 0;
  switch (info.adds) {
    case Adds::range:
      return op.nr;
    case Adds::one:
      return uint64_t{1} << (info.level == kPud ? s.config.pud_order : s.config.pmd_order);
    case Adds::all_pages:
    case Adds::new_anon:
      return s.nr_pages();
    case Adds::nothing:
    case Adds::pin:
      return 0;
  }
  return 0;
}

// LONG_MAX of the configuration: _total_mapped_pages is an atomic_long_t.
int64_t long_max(int bits) { return bits == 64 ? std::numeric_limits<int64_t>::max() : kIntMax; }

}  // namespace

namespace {

template <bool Why>
Refusal<Why> overflow_t(const Op& op, const ReferenceModel& m) {
  const int64_t total = static_cast<int64_t>(m.total_mappings() + mappings_added(op, m.setup()));
  if (total >= kIntMax) return refuse<Why>("_large_mapcount would overflow INT_MAX");
  if (total + kGupPinCountingBias * (int64_t{m.pins()} + 1) >= kIntMax)
    return refuse<Why>("_refcount would overflow INT_MAX");
  // Not a kernel invariant today but a limit of the proposal: on 32-bit one PMD mapping adds
  // HPAGE_PMD_NR pages for one reference, so this counter reaches LONG_MAX first.
  if (m.setup().has_total_mapped() &&
      static_cast<int64_t>(m.mapped_pages() + pages_added(op, m.setup())) >=
          long_max(m.setup().config.bits))
    return refuse<Why>("_total_mapped_pages would overflow LONG_MAX");
  return {};
}

}  // namespace

std::optional<std::string> overflow_reason(const Op& op, const ReferenceModel& m) {
  return overflow_t<true>(op, m);
}

bool overflow_free(const Op& op, const ReferenceModel& m) { return !overflow_t<false>(op, m); }

uint64_t repeats_before_overflow(const Op& op, const ReferenceModel& m) {
  const int64_t total = static_cast<int64_t>(m.total_mappings());
  const int64_t pins = m.pins();
  int64_t cap = static_cast<int64_t>(kMaxRepeatCap);
  if (const uint64_t added = mappings_added(op, m.setup()))
    cap = (kIntMax - 1 - total - kGupPinCountingBias * (pins + 1)) / static_cast<int64_t>(added);
  if (op_info(op.kind).adds == Adds::pin)
    cap = (kIntMax - 1 - total) / kGupPinCountingBias - pins;
  if (const uint64_t pages = pages_added(op, m.setup()); pages && m.setup().has_total_mapped())
    cap = std::min<int64_t>(cap, (long_max(m.setup().config.bits) - 1 -
                                  static_cast<int64_t>(m.mapped_pages())) /
                                     static_cast<int64_t>(pages));
  return static_cast<uint64_t>(std::clamp<int64_t>(cap, 1, static_cast<int64_t>(kMaxRepeatCap)));
}

bool need_is_mm(Need n) {
  return n == Need::mm_ptes || n == Need::mm_pmd || n == Need::mm_pud || n == Need::mm_hugetlb ||
         n == Need::mm_maps || n == Need::mm_pte;
}

bool need_is_src(Need n) {
  return n == Need::src_ptes || n == Need::src_pmd || n == Need::src_hugetlb;
}

bool mm_holds(const MmMappings& mm, Need need) {
  if (need == Need::mm_ptes || need == Need::src_ptes || need == Need::mm_pte)
    return mm.pte_total > 0;
  if (need == Need::mm_maps) return mm.total() > 0;
  const auto level = need_level(need);
  return level && mm.*level > 0;
}

uint32_t mm_held(const MmMappings& mm, Need need) {
  const auto level = need_level(need);
  return level ? mm.*level : 0;
}

Op canonical_op(Op op) {
  const unsigned args = op_info(op.kind).args;
  if (!(args & kArgMm)) op.mm = 0;
  if (!(args & kArgSrc)) op.src = 0;
  if (!(args & (kArgRange | kArgPage))) op.page = 0;
  if (!(args & kArgRange)) op.nr = 1;
  if (!(args & kArgExclusive)) op.exclusive = false;
  if (op.repeat == 0) op.repeat = 1;
  return op;
}

bool op_is_reader(OpKind kind) { return op_info(kind).level == kRead; }

bool op_is_per_mm(OpKind kind) {
  const OpInfo& info = op_info(kind);
  // A reader reads what every mm's mappings make of the folio.
  if (info.level == kRead) return false;
  if (!(info.args & kArgMm) || (info.args & kArgSrc)) return false;
  return info.needs == Need::nothing || need_is_mm(info.needs);
}

}  // namespace foliocheck

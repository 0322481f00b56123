// The Need and overflow rules of legality.h as templates, so that the model's precondition can
// inline them into its inner loop; legality.h is their interface.
#pragma once

#include <cstdint>
#include <limits>
#include <string>

#include "core/legality.h"
#include "core/reference_model.h"
#include "core/refusal.h"

namespace foliocheck::rules {

inline std::string page_msg(const char* what, uint32_t page) {
  return std::string(what) + " (page " + std::to_string(page) + ")";
}

// The level member a Need about one mm's whole-folio mappings names.
inline uint32_t MmMappings::*need_level(Need need) {
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

inline const char* level_name(Need need) {
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

inline std::string level_msg(const char* who, Need need) {
  return std::string(who) + level_name(need) + " mapping of the folio";
}

// The per-page halves of the rules, each written once: the precondition asks them of a call's
// pages, pages_accepted() of every page at once (legality.h).
inline bool pte_held(const MmMappings* mm, uint32_t page) {
  return mm && !mm->pte.empty() && mm->pte[page] > 0;
}
// folio_add_anon_rmap_ptes()'s VM_WARNs about one page: an exclusive anon page is mapped at most
// once, by one PTE or one PMD (plus one PTE while the PMD is being split).
enum class AeAdd : uint8_t { ok, second_pte, entire_shared };
inline AeAdd ae_add(const ReferenceModel& m, uint32_t page, bool exclusive) {
  if (!(exclusive || m.page_anon_exclusive(page))) return AeAdd::ok;
  if (m.page_pte(page) > 0) return AeAdd::second_pte;
  if (m.setup().large() && m.entire() > 1) return AeAdd::entire_shared;
  return AeAdd::ok;
}

// need_unmet() and need_met(): the sentence is built only with Why. Inlined into the model's
// precondition, where a call would cost a tenth of the check. Without Pages the per-page Needs are
// taken as met: the caller has asked pages_accepted() (legality.h) of the call's range.
template <bool Why, bool Pages = true>
[[gnu::always_inline]] inline Refusal<Why> need_unmet_t(const Op& op, const ReferenceModel& m) {
  const OpInfo& info = op_info(op.kind);
  if (info.needs == Need::nothing) return {};
  const MmMappings* dst = need_is_mm(info.needs) ? m.mm(op.mm) : nullptr;
  const MmMappings* src = need_is_src(info.needs) ? m.mm(op.src) : nullptr;
  auto each_page = [&](auto holds, const char* what) -> Refusal<Why> {
    if constexpr (!Pages) return {};
    for (uint32_t i = op.page; i < op.page + op.nr; i++)
      if (!holds(i)) return refuse_with<Why>([&] { return page_msg(what, i); });
    return {};
  };
  auto holds_ptes = [](const MmMappings* mm) {
    return [mm](uint32_t i) { return pte_held(mm, i); };
  };
  // `who` opens the sentence, so that each of the two checks keeps its own literal here.
  auto holds_level = [&](const MmMappings* mm, const char* who) -> Refusal<Why> {
    if (mm && mm->*need_level(info.needs) != 0) return {};
    return refuse_with<Why>([&] { return level_msg(who, info.needs); });
  };
  auto named = [&](const char* what) {
    return refuse_with<Why>([&] { return std::string(info.name) + what; });
  };
  switch (info.needs) {
    case Need::nothing:
      return {};
    case Need::fresh:
      if (m.total_mappings() != 0)
        return named(" wants a FRESH folio (it plain-sets the counters)");
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
      return holds_level(dst, "mm holds no ");
    case Need::src_pmd:
    case Need::src_hugetlb:
      return holds_level(src, "src holds no ");
    case Need::ae_page:
      if (Pages && !m.page_anon_exclusive(op.page))
        return refuse<Why>("VM_WARN: !PageAnonExclusive(page)");
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
        return named(
            ": the mm maps the folio by PMD too (a split in progress, under the PMD lock)");
      for (uint32_t c : dst->pte)
        if (c > 1) return named(": the mm maps an anon page twice");
      return {};
  }
  return {};
}

// Pages one successful call adds to the RFC's _total_mapped_pages (hugetlb: none).
inline uint64_t pages_added(const Op& op, const Setup& s) {
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
inline int64_t long_max(int bits) {
  return bits == 64 ? std::numeric_limits<int64_t>::max() : kIntMax;
}

// overflow_reason() and overflow_free().
template <bool Why>
inline Refusal<Why> overflow_t(const Op& op, const ReferenceModel& m) {
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

}  // namespace foliocheck::rules

// Which operations are legal now, derived from ops.def's columns and the model's state.
#include "core/legality.h"

#include <algorithm>
#include <limits>

#include "core/legality_rules.h"

namespace foliocheck {

using rules::long_max;
using rules::need_level;
using rules::need_unmet_t;
using rules::overflow_t;
using rules::pages_added;

namespace {

bool any_holder(const ReferenceModel& m, uint32_t MmMappings::*level) {
  for (const auto& [id, mm] : m.mms())
    if (mm.*level > 0) return true;
  return false;
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

uint64_t pages_accepted(const Op& op, const ReferenceModel& m) {
  const uint32_t n = std::min<uint32_t>(m.setup().nr_pages(), 64);
  auto each = [&](auto accepts) {
    uint64_t bits = 0;
    for (uint32_t i = 0; i < n; i++) bits |= uint64_t{accepts(i)} << i;
    return bits;
  };
  const OpInfo& info = op_info(op.kind);
  uint64_t bits = ~uint64_t{0};
  if ((info.args & (kArgRange | kArgPage)) && need_is_per_page(info.needs)) {
    switch (info.needs) {
      case Need::mm_ptes:
        bits = each([mm = m.mm(op.mm)](uint32_t i) { return rules::pte_held(mm, i); });
        break;
      case Need::src_ptes:
        bits = each([mm = m.mm(op.src)](uint32_t i) { return rules::pte_held(mm, i); });
        break;
      case Need::pages_mapped:
        bits = each([&](uint32_t i) { return m.page_pte(i) > 0; });
        break;
      case Need::ae_page:
        bits = each([&](uint32_t i) { return m.page_anon_exclusive(i); });
        break;
      default:
        break;
    }
  }
  if (op.kind == OpKind::add_anon_ptes)
    bits &= each([&](uint32_t i) { return rules::ae_add(m, i, op.exclusive) == rules::AeAdd::ok; });
  return bits;
}

bool has_page_rules(OpKind kind) {
  const OpInfo& info = op_info(kind);
  return kind == OpKind::add_anon_ptes ||
         ((info.args & (kArgRange | kArgPage)) && need_is_per_page(info.needs));
}

std::optional<std::string> need_unmet(const Op& op, const ReferenceModel& m) {
  return need_unmet_t<true>(op, m);
}

bool need_met(const Op& op, const ReferenceModel& m) { return !need_unmet_t<false>(op, m); }

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

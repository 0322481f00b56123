// The implementations' own invariants and free-path checks, written once over the raw kernel words of any implementation.
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>

#include "core/implementation.h"

namespace foliocheck {

// What a check found: the invariant's name, what it expected and what the words hold.
struct FolioCheckFailure {
  std::string field;
  int64_t expected = 0;
  int64_t actual = 0;
  std::string detail;
};

// A view of one folio's words as the kernel stores them (-1 biases in place). `Words` provides:
//   bool large() const, hugetlb() const, mm_id() const (CONFIG_MM_ID), page_mapcount() const
//     (CONFIG_PAGE_MAPCOUNT), has_entire_storage() const, has_pincount() const;
//   uint32_t nr_pages() const;
//   int64_t raw_large_mapcount(), raw_entire_mapcount(), raw_nr_pages_mapped(), pincount(),
//     entirely_mapped() (the tree's ENTIRELY_MAPPED) const;
//   bool mm_ids_locked() const, shared_bit() const, slots_pristine() const (ids 0, counts -1);
//   uint32_t slot_mm_id(int) const; int64_t raw_slot_mapcount(int) const;
//   int64_t raw_page_mapcount(uint32_t page) const (the _mapcount / page_type word);
//   bool head_keeps_hugetlb_type() const (page 0's word still holds the hugetlb page type);
//   bool v6_12_layout() const, int bits() const (which free-path order the tree has);
//   bool total_mapped() const, int64_t total_mapped_pages() const (the _total_mapped_pages RFC).
// A template, not an interface: the packed encodings call it on every operation, and the words
// are plain fields there.
template <class Words>
std::optional<FolioCheckFailure> check_folio_words(const Words& w, PageRange scope, bool full) {
  auto bad = [](std::string field, int64_t expected, int64_t actual, std::string detail) {
    return std::optional<FolioCheckFailure>(
        FolioCheckFailure{std::move(field), expected, actual, std::move(detail)});
  };
  const bool large = w.large(), hugetlb = w.hugetlb();
  const bool ordinary_large = large && !hugetlb;
  const int64_t raw_large = large ? w.raw_large_mapcount() : -1;
  const int64_t raw_entire = large && w.has_entire_storage() ? w.raw_entire_mapcount() : -1;
  const int64_t large_mapcount = raw_large + 1, entire = raw_entire + 1;

  if (w.mm_id() && w.mm_ids_locked())
    return bad("mm_ids_lock_bit", 0, 1, "the _mm_ids bit lock is held between operations");

  if (large) {
    if (raw_large < -1)
      return bad("raw_large_mapcount", -1, raw_large, "_large_mapcount below its -1 bias");
    if (w.has_entire_storage() && raw_entire < -1)
      return bad("raw_entire_mapcount", -1, raw_entire, "_entire_mapcount below its -1 bias");
    if (w.has_pincount() && w.pincount() < 0)
      return bad("pincount", 0, w.pincount(), "_pincount is negative");
    if (entire > large_mapcount)
      return bad("entire_vs_large", large_mapcount, entire, "more entire mappings than mappings");
    if (w.total_mapped()) {
      const int64_t total = w.total_mapped_pages();
      if (raw_entire != -1)
        return bad("entire_mapcount_gone", -1, raw_entire,
                   "the RFC has no _entire_mapcount: it must stay at its initial value");
      if (hugetlb && total != 0)
        return bad("hugetlb_total_untouched", 0, total,
                   "hugetlb mappings do not count pages in _total_mapped_pages");
      // Every mapping maps between 1 and N pages.
      if (!hugetlb && (total < large_mapcount || total > large_mapcount * int64_t{w.nr_pages()}))
        return bad("total_vs_large", large_mapcount, total,
                   "_total_mapped_pages outside [mapcount, mapcount * N]");
    }
    const int64_t npm = w.raw_nr_pages_mapped();
    if (hugetlb) {
      if (!w.total_mapped() && w.has_entire_storage() && raw_entire != raw_large)
        return bad("hugetlb_entire_eq_large", raw_large, raw_entire,
                   "hugetlb raw _entire_mapcount differs from raw _large_mapcount");
      if (npm != 0)
        return bad("hugetlb_nr_pages_mapped", 0, npm, "hugetlb must leave _nr_pages_mapped at 0");
    } else if (w.page_mapcount()) {
      if (npm < 0) return bad("nr_pages_mapped", 0, npm, "_nr_pages_mapped is negative");
    } else if (npm != 0) {
      return bad("nr_pages_mapped_untouched", 0, npm,
                 "NO_PAGE_MAPCOUNT must never touch _nr_pages_mapped");
    }
  }

  if (w.mm_id() && ordinary_large) {
    const uint32_t id0 = w.slot_mm_id(0), id1 = w.slot_mm_id(1);
    const int64_t c0 = w.raw_slot_mapcount(0), c1 = w.raw_slot_mapcount(1);
    if ((id0 == 0) != (c0 == -1))
      return bad("slot_free_iff_minus_one", -1, c0, "slot 0: id is DUMMY iff its count is -1");
    if ((id1 == 0) != (c1 == -1))
      return bad("slot_free_iff_minus_one", -1, c1, "slot 1: id is DUMMY iff its count is -1");
    if ((id0 != 0 && c0 < 0) || (id1 != 0 && c1 < 0))
      return bad("slot_count_nonnegative", 0, std::min(c0, c1), "an owned slot's count is negative");
    if (id0 != 0 && id0 == id1)
      return bad("slot_ids_distinct", 0, id0, "both slots are owned by the same mm");
    if ((c0 + 1) + (c1 + 1) > large_mapcount)
      return bad("slot_sum_le_large", large_mapcount, (c0 + 1) + (c1 + 1),
                 "the slots count more mappings than the folio has");
    const bool shared = w.shared_bit();
    if (large_mapcount == 0 && (id0 != 0 || id1 != 0 || shared))
      return bad("unmapped_slots_reset", 0, shared ? 1 : 2,
                 "an unmapped folio must have both slots free and the shared bit clear");
    if (!shared && large_mapcount >= 1) {
      const int owners = (id0 != 0) + (id1 != 0);
      if (owners != 1)
        return bad("exclusive_one_owner", 1, owners,
                   "shared bit clear on a mapped folio but not exactly one slot owned");
      const int64_t c = id0 != 0 ? c0 : c1;
      if (c != raw_large)
        return bad("exclusive_owner_has_all", raw_large, c,
                   "shared bit clear but the owner's count is not the raw large mapcount");
    }
  } else if (large && !w.slots_pristine()) {
    return bad("slots_untouched", 0, 1, "MM slots must stay untouched here");
  }

  const uint32_t n = w.nr_pages();
  uint32_t first = full ? 0 : std::min(scope.first, n);
  uint32_t last = full ? n : std::min(scope.last, n);
  for (uint32_t p = first; p < last; p++) {
    if (hugetlb && p == 0) {
      if (!w.head_keeps_hugetlb_type())
        return bad("hugetlb_head_page_type", 1, 0,
                   "the hugetlb head's word must keep its page type");
      continue;
    }
    const int64_t raw = w.raw_page_mapcount(p);
    if (raw < -1) return bad("raw_mapcount", -1, raw, "a page's _mapcount below its -1 bias");
    if ((hugetlb || (!w.page_mapcount() && ordinary_large)) && raw != -1)
      return bad("page_mapcount_untouched", -1, raw, "this folio must not use per-page mapcounts");
  }
  if (!full || !(w.page_mapcount() && ordinary_large)) return std::nullopt;

  int64_t pages = 0, sum = 0;
  for (uint32_t p = 0; p < n; p++) {
    const int64_t raw = w.raw_page_mapcount(p);
    if (raw < 0) continue;
    pages++;
    sum += raw + 1;
  }
  const int64_t npm = pages + (entire >= 1 ? w.entirely_mapped() : 0);
  if (npm != w.raw_nr_pages_mapped())
    return bad("nr_pages_mapped_recount", npm, w.raw_nr_pages_mapped(),
               "_nr_pages_mapped differs from the pages mapped plus ENTIRELY_MAPPED");
  if (sum + entire != large_mapcount)
    return bad("large_mapcount_recount", sum + entire, large_mapcount,
               "large mapcount differs from the per-page counts plus the entire mapcount");
  return std::nullopt;
}

// What free_pages_prepare() would call bad_page() for, once nothing maps or pins the folio: the
// folio-wide words of page 1 (and page 2 on 32-bit 7.x), then every page's mapcount, the head last
// (mm/page_alloc.c free_tail_page_prepare, free_page_is_bad). `Words` as above.
template <class Words>
std::optional<FolioCheckFailure> check_free_words(const Words& w) {
  auto bad = [](std::string reason, int64_t expected, int64_t actual) {
    std::string detail = "free_pages_prepare: bad_page(\"" + reason + "\")";
    return std::optional<FolioCheckFailure>(
        FolioCheckFailure{std::move(reason), expected, actual, std::move(detail)});
  };
  auto page_is_bad = [&](uint32_t p) -> std::optional<FolioCheckFailure> {
    // hugetlb clears the head's page type before the folio reaches the page allocator.
    if (w.hugetlb() && p == 0) return std::nullopt;
    const int64_t raw = w.raw_page_mapcount(p);
    if (raw != -1) return bad("nonzero mapcount[" + std::to_string(p) + "]", 0, raw + 1);
    return std::nullopt;
  };
  if (w.large()) {
    const int64_t large = w.raw_large_mapcount() + 1;
    const int64_t entire = w.has_entire_storage() ? w.raw_entire_mapcount() + 1 : 0;
    const int64_t pincount = w.has_pincount() ? w.pincount() : 0;
    const int64_t npm = w.page_mapcount() ? w.raw_nr_pages_mapped() : 0;
    // 6.12 checks page 1's fields in declaration order; 7.x checks the large mapcount first, and
    // on 32-bit finds _entire_mapcount and _pincount in page 2.
    const bool in_page_2 = !w.v6_12_layout() && w.bits() == 32;
    if (w.v6_12_layout() && entire) return bad("nonzero entire_mapcount", 0, entire);
    // The RFC keeps the large mapcount in page 1's _mapcount: free_tail_page_prepare's "nonzero
    // mapcount" of page 1.
    if (large) return bad(w.total_mapped() ? "nonzero mapcount[1]" : "nonzero large_mapcount", 0, large);
    if (w.total_mapped() && w.total_mapped_pages())
      return bad("nonzero total_mapped_pages", 0, w.total_mapped_pages());
    if (npm) return bad("nonzero nr_pages_mapped", 0, npm);
    if (w.mm_id() && w.raw_slot_mapcount(0) != -1)
      return bad("nonzero mm mapcount 0", 0, w.raw_slot_mapcount(0) + 1);
    if (w.mm_id() && w.raw_slot_mapcount(1) != -1)
      return bad("nonzero mm mapcount 1", 0, w.raw_slot_mapcount(1) + 1);
    if (!w.v6_12_layout() && !in_page_2 && entire)
      return bad("nonzero entire_mapcount", 0, entire);
    if (!in_page_2 && pincount) return bad("nonzero pincount", 0, pincount);
    for (uint32_t p = 1; p < w.nr_pages(); p++) {
      if (in_page_2 && p == 2) {
        if (entire) return bad("nonzero entire_mapcount", 0, entire);
        if (pincount) return bad("nonzero pincount", 0, pincount);
      }
      if (auto v = page_is_bad(p)) return v;
    }
  }
  return page_is_bad(0);
}

}  // namespace foliocheck

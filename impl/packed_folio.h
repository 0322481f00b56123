// PackedFolio: one folio stored exactly as the kernel stores it, per kernel configuration.
//
// The fields are the kernel's own, with the kernel's widths and -1 biases: a raw `_mapcount` word
// per page (page 0's word is a small folio's `_mapcount`; a hugetlb head holds its page type
// there), the PageAnonExclusive bit per page, and page 1's `_large_mapcount`, `_entire_mapcount`,
// `_nr_pages_mapped`, `_pincount` and, in next, the two MM slots with `_mm_ids` (id halves, the bit
// lock and the shared bit in one word). Every rmap helper is a transcription of its kernel namesake
// (mm/rmap.c, include/linux/rmap.h, include/linux/mm.h of Linux 6.12 or of linux-next), the
// configuration chosen at compile time by `S` and `Bits`; `git grep __folio_add_rmap` finds the
// same function here and in both trees.
//
// Kernel sanity checks that fire are recorded as warnings (R1..R7 of __folio_rmap_sanity_checks,
// W1..W12 of the large-mapcount checks, the wrappers' WARNs, the PageAnonExclusive checks) and the
// operation then goes on as the kernel would. Where the kernel would write outside the folio (a
// page range past its end, page-1 fields of a small folio, page-2 fields of a 32-bit order-1
// folio), the write is dropped and recorded as a warning too.
//
// NOTE: `no-mm-id` is CONFIG_PAGE_MAPCOUNT without CONFIG_MM_ID, which 7.x only builds with
// TRANSPARENT_HUGEPAGE=n, where the PMD/PUD wrappers are WARN_ON_ONCE stubs: the legality rules
// (core/legality.cpp) refuse PMD/PUD calls and large anon/shmem folios there, so these code paths
// only run under replay --allow-invalid.
//
// Own invariants and free-path checks: impl/folio_checks.h, shared with the kernel implementations.
#pragma once

#include <array>
#include <boost/container/small_vector.hpp>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <typeinfo>
#include <vector>

#include "core/implementation.h"
#include "core/inline_vec.h"

namespace foliocheck {

template <Semantics S, int Bits>
class PackedFolio final : public Implementation {
  static_assert(Bits == 64 || Bits == 32, "the kernel has 64-bit and 32-bit layouts only");

 public:
  // The kernel's types for the MM slots: unsigned int / int on 64-bit, unsigned short / short on
  // 32-bit, and the unsigned long that overlays both ids.
  using mm_id_t = std::conditional_t<Bits == 64, uint32_t, uint16_t>;
  using mm_id_mapcount_t = std::conditional_t<Bits == 64, int32_t, int16_t>;
  using mm_ids_t = std::conditional_t<Bits == 64, uint64_t, uint32_t>;
  // atomic_long_t's counter.
  using long_t = std::conditional_t<Bits == 64, int64_t, int32_t>;

  std::string_view name() const override;
  // Returns true for this encoding's semantics and word size, with folio and page-table orders
  // small enough to store (order <= 22, 1 <= pmd_order, pud_order <= 30). 32-bit next also refuses
  // pmd_order/pud_order 1 and order-1 hugetlb: its order-1 folios have no _entire_mapcount.
  bool supports(const Setup& setup) const override;
  void reset(const Setup& setup) override;
  void apply(const Op& op) override;
  bool models(Obs obs) const override;
  int64_t read(Obs obs, uint32_t index = 0) const override;
  // models() depends on the setup alone: the mask is worked out by reset().
  uint64_t models_mask() const override { return models_mask_; }
  // read() of every observable asked, each inlined (check_agreement reads them all for every
  // state explore checks).
  // flatten: without it gcc called read_one() and folio_precise_page_mapcount() once per page of a
  // sweep (42 % more instructions in read_pages on an order-18 folio).
  [[gnu::flatten]] void read_scalars(uint64_t which,
                                     std::span<int64_t, kNumObs> out) const override;
  [[gnu::flatten]] void read_pages(Obs obs, uint32_t first, std::span<int64_t> out) const override;
  std::optional<Violation> check_invariants(PageRange scope, bool full) const override;
  std::optional<Violation> check_free() const override;
  std::span<const std::string> warning_log() const override { return warning_log_.lines; }
  // A value type: copying every field is copying the folio.
  bool assign_state(const Implementation& other) override {
    // typeid, not dynamic_cast: explore copies a state for every transition, and the class is
    // final, so an exact type match is the only match.
    if (typeid(other) != typeid(*this)) return false;
    *this = static_cast<const PackedFolio&>(other);
    return true;
  }
  // Every field but the folio's shape (fixed by the setup), the warning log's text (a warning is
  // a mismatch with the model in any case; the count is a field) and _refcount where nothing
  // reads it.
  size_t state_words(std::span<uint64_t> out, const MmCanon& canon) const override;
  uint32_t mm_state_word(uint32_t mm) const override;

 private:
  enum class Field : uint8_t { large, entire, nr_pages_mapped };

  // Configuration.
  static constexpr bool kNext = semantics_info(S).next;
  static constexpr bool kMmId = semantics_info(S).mm_id;
  static constexpr bool kPageMapcount = semantics_info(S).page_mapcount;
  // The 2026 RFC (docs/proposed.md): _total_mapped_pages instead of _entire_mapcount, the large
  // mapcount in page 1's _mapcount word, no _nr_pages_mapped, hugetlb on the large mapcount only.
  static constexpr bool kTotalMapped = semantics_info(S).total_mapped;

  // Folio shape and flags.
  bool folio_test_large() const { return order_ >= 1; }
  bool folio_test_hugetlb() const { return hugetlb_; }
  bool folio_test_anon() const { return anon_; }
  bool folio_test_pmd_mappable() const;
  int folio_large_nr_pages() const { return static_cast<int>(nr_pages_); }
  bool has_entire_storage() const;
  bool folio_has_pincount() const;

  // Pages, always clamped to the folio.
  bool page_in_folio(int64_t idx) const { return idx >= 0 && idx < int64_t{nr_pages_}; }
  void note_outside_folio();
  void note_missing_field(Field f);
  bool PageAnonExclusive(int64_t idx) const;
  void SetPageAnonExclusive(int64_t idx);
  void ClearPageAnonExclusive(int64_t idx);
  int32_t page_mapcount_add_return(uint32_t idx, int64_t delta);
  void page_mapcount_set(uint32_t idx, int32_t value);
  template <class F>
  void for_each_page_do_while(int64_t page, int nr_pages, F&& f);
  int count_anon_exclusive(int64_t page, int nr_pages, bool remapped_only);

  // Page-1 (or, 32-bit next, page-2) fields; absent storage reads as its prep_compound_head value.
  int32_t field_add_return(Field f, int64_t delta);
  void field_set(Field f, int32_t value);
  int32_t field_read(Field f) const;

  // mm/rmap.c and include/linux/rmap.h.
  void __folio_rmap_sanity_checks(int64_t page, int nr_pages, Level level);
  void __folio_large_mapcount_sanity_checks(int diff, mm_id_t mm_id);
  unsigned folio_mm_id(int idx) const;
  void folio_set_mm_id(int idx, mm_id_t id);
  void folio_lock_large_mapcount();
  void folio_unlock_large_mapcount();
  // `pages`: what the RFC adds to _total_mapped_pages under the same lock (ignored elsewhere).
  void folio_set_large_mapcount(int mapcount, uint32_t mm, int64_t pages = 0);
  int folio_add_return_large_mapcount(int diff, uint32_t mm, int64_t pages = 0);
  int folio_sub_return_large_mapcount(int diff, uint32_t mm, int64_t pages = 0);
  void folio_add_large_mapcount(int diff, uint32_t mm, int64_t pages = 0);
  void folio_sub_large_mapcount(int diff, uint32_t mm, int64_t pages = 0);
  void total_mapped_pages_add(int64_t pages);
  int64_t level_nr_pages(Level level) const;
  void __folio_mod_stat(int nr, int nr_pmdmapped);
  int __folio_add_rmap(int64_t page, int nr_pages, uint32_t mm, Level level, int* nr_pmdmapped);
  void __folio_add_anon_rmap(int64_t page, int nr_pages, uint32_t mm, bool exclusive, Level level);
  void __folio_add_file_rmap(int64_t page, int nr_pages, uint32_t mm, Level level);
  int folio_add_new_anon_rmap(uint32_t mm, bool exclusive);
  void __folio_remove_rmap(int64_t page, int nr_pages, uint32_t mm, Level level);
  void deferred_split_folio(bool partially_mapped);
  void __folio_dup_file_rmap(int64_t page, int nr_pages, uint32_t dst_mm, Level level);
  int __folio_try_dup_anon_rmap(int64_t page, int nr_pages, uint32_t dst_mm, uint32_t src_mm,
                                Level level);
  int __folio_try_share_anon_rmap(int64_t page, int nr_pages, Level level);
  void hugetlb_add_new_anon_rmap();
  void hugetlb_add_anon_rmap(bool exclusive);
  int hugetlb_try_dup_anon_rmap(uint32_t src_mm);
  int hugetlb_try_share_anon_rmap();
  void hugetlb_add_file_rmap();
  void hugetlb_remove_rmap();
  void gup_pin(uint32_t mm);
  void gup_unpin();
  void folio_ref_add(int64_t nr);

  // Readers (include/linux/mm.h, mm/internal.h, fs/proc/internal.h).
  int64_t folio_entire_mapcount() const;
  int64_t folio_large_mapcount() const;
  int64_t folio_mapcount() const;
  bool folio_mapped() const { return folio_mapcount() >= 1; }
  int64_t folio_nr_pages_mapped() const;
  int64_t folio_precise_page_mapcount(uint32_t idx) const;
  int64_t folio_average_page_mapcount() const;
  bool folio_maybe_mapped_shared() const;
  bool folio_likely_mapped_shared() const;
  bool folio_maybe_dma_pinned() const;
  bool folio_needs_cow_for_dma(uint32_t mm) const;
  bool folio_test_shared_bit() const;
  // mm/memory.c's COW reuse check for a PTE-mapped large anon folio, on these words.
  bool __wp_can_reuse_large_anon_folio(uint32_t mm);
  // read()'s body, inlined into the bulk reads.
  [[gnu::always_inline]] inline int64_t read_one(Obs obs, uint32_t index) const;

  // The raw words as impl/folio_checks.h reads them (defined in packed_folio.cpp).
  struct Words;
  void warn(std::string_view line);
  Violation violation(ViolationKind kind, std::string field, int64_t expected, int64_t actual,
                      std::string detail) const;

  // The folio.
  Setup setup_;
  int order_ = 0;
  uint32_t nr_pages_ = 1;          // folio_nr_pages()
  int hpage_pmd_nr_ = 512;         // HPAGE_PMD_NR = 1 << pmd_order
  int hpage_pud_nr_ = 1 << 18;     // HPAGE_PUD_NR = 1 << pud_order
  bool hugetlb_ = false;           // PGTY_hugetlb in page 0's page_type
  bool anon_ = false;              // folio->mapping carries PAGE_MAPPING_ANON
  bool swapbacked_ = false;        // PG_swapbacked (shmem, anon)
  bool partially_mapped_ = false;  // PG_partially_mapped; sticky, set by deferred split
  // Inline for folios of up to 8 pages, so that copying a folio (explore, per transition) does not
  // allocate; on the heap for larger ones.
  InlineVec<int32_t, 8> _mapcount;  // per page, raw; bias -1 (-1 = no PTE); page 0 may be typed
  InlineVec<uint64_t, 1> anon_exclusive_;  // PageAnonExclusive, one bit per page
  // tests/checks_test.cpp corrupts the harness tallies to show their check can fire.
  friend struct PackedFolioTestAccess;
  uint32_t nr_anon_exclusive_ = 0;           // pages with PageAnonExclusive
  uint32_t nr_anon_exclusive_remapped_ = 0;  // of those, pages whose raw _mapcount > 0
  // page 1: every mapping of the folio; bias -1. The RFC keeps it in page 1's _mapcount word
  // (check_free reads it as that page's mapcount).
  int32_t _large_mapcount = -1;
  long_t _total_mapped_pages = 0;  // the RFC, page 1: pages mapped, once per mapping; no bias
  int32_t _entire_mapcount = -1;  // page 1 (32-bit next: page 2): PMD/PUD/hugetlb; bias -1
  int32_t _nr_pages_mapped = 0;   // page 1: pages with _mapcount >= 0, + ENTIRELY_MAPPED
  int32_t _pincount = 0;          // page 1 (32-bit next: page 2): FOLL_PIN count; no bias
  std::array<mm_id_mapcount_t, 2> _mm_id_mapcount = {-1, -1};  // next: per-slot mappings; bias -1
  mm_ids_t _mm_ids = 0;   // next: _mm_id[0] low half, _mm_id[1] high half
  int32_t _refcount = 1;  // page 0: one per mapping, a pin's (1 or GUP_PIN_COUNTING_BIAS), the allocation's
  InlineVec<uint32_t, 4> mmf_has_pinned_;  // mms with MMF_HAS_PINNED set

  // What callers observe besides the folio.
  // NR_ANON_MAPPED, NR_FILE_MAPPED, NR_ANON_THPS, NR_SHMEM_PMDMAPPED, NR_FILE_PMDMAPPED.
  std::array<int64_t, 5> stat_ = {};
  int64_t ret_ = 0;  // what the last operation returned (0 or -EBUSY)
  int64_t result_ = 0;  // what the last reader returned
  bool alloc_ref_mapped_ = false;  // a large anon folio's allocation reference went to its mappings
  int64_t warnings_ = 0;
  // Copied only when either side has a line: explore copies a folio per transition, nearly always
  // with none, and a vector's copy-assignment costs a call and its checks even then.
  struct WarningLog {
    std::vector<std::string> lines;
    WarningLog() = default;
    WarningLog(const WarningLog&) = default;
    WarningLog(WarningLog&&) = default;
    WarningLog& operator=(WarningLog&&) = default;
    WarningLog& operator=(const WarningLog& o) {
      if (!lines.empty() || !o.lines.empty()) lines = o.lines;
      return *this;
    }
  };
  WarningLog warning_log_;
  bool outside_noted_ = false;  // the current operation already logged a clamp
  uint64_t models_mask_ = 0;
};

extern template class PackedFolio<Semantics::v6_12, 64>;
extern template class PackedFolio<Semantics::v6_12, 32>;
extern template class PackedFolio<Semantics::mm_id, 64>;
extern template class PackedFolio<Semantics::mm_id, 32>;
extern template class PackedFolio<Semantics::no_page_mapcount, 64>;
extern template class PackedFolio<Semantics::no_page_mapcount, 32>;
extern template class PackedFolio<Semantics::no_mm_id, 64>;
extern template class PackedFolio<Semantics::no_mm_id, 32>;
extern template class PackedFolio<Semantics::proposed_total_mapped, 64>;
extern template class PackedFolio<Semantics::proposed_total_mapped, 32>;

}  // namespace foliocheck

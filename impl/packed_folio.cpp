// The kernel's folio mapcount code, transcribed onto PackedFolio's fields for each configuration.
#include "impl/packed_folio.h"

#include <algorithm>
#include <cassert>
#include <cstdint>
#include <utility>

#include "impl/folio_checks.h"
#include "impl/mutants.h"

namespace foliocheck {
namespace {

// mm/internal.h: bit 23 sits above the page count of any folio (16 GiB hugetlb = 0x400000 pages).
constexpr int32_t ENTIRELY_MAPPED = 0x800000;
constexpr int32_t FOLIO_PAGES_MAPPED = ENTIRELY_MAPPED - 1;
constexpr int32_t GUP_PIN_COUNTING_BIAS = 1 << 10;
constexpr uint32_t PGTY_hugetlb = 0xf4;
constexpr uint32_t PGTY_mapcount_underflow = 0xff;
// The word a hugetlb head page keeps in page_type (__folio_set_hugetlb), where others keep
// _mapcount.
constexpr int32_t kHugetlbPageType = static_cast<int32_t>(PGTY_hugetlb << 24);
constexpr unsigned MM_ID_DUMMY = 0;
constexpr unsigned MM_ID_MIN = 1;

enum StatItem : uint8_t {
  NR_ANON_MAPPED,
  NR_FILE_MAPPED,
  NR_ANON_THPS,
  NR_SHMEM_PMDMAPPED,
  NR_FILE_PMDMAPPED,
};

// The kernel builds with -fno-strict-overflow, so its counters wrap; ours must too, without UB.
template <class T>
T wrap_add(T a, int64_t b) {
  using U = std::make_unsigned_t<T>;
  return static_cast<T>(static_cast<U>(static_cast<U>(a) + static_cast<U>(b)));
}

// page_type_has_type(): a page_type word below 0xff000000 (as int) holds a type, not a mapcount.
constexpr bool page_type_has_type(int32_t page_type) {
  return page_type < static_cast<int32_t>(PGTY_mapcount_underflow << 24);
}

// include/linux/mm_types.h: the MM slot layout of next, per word size.
template <int Bits>
struct MmIdLayout {
  static constexpr int MM_ID_BITS = Bits / 2 - 1;
  static constexpr unsigned MM_ID_MASK = (1u << MM_ID_BITS) - 1;
  static constexpr unsigned MM_ID_MAX = MM_ID_MASK;
  static constexpr int FOLIO_MM_IDS_LOCK_BITNUM = MM_ID_BITS;
  static constexpr int FOLIO_MM_IDS_SHARED_BITNUM = 2 * MM_ID_BITS + 1;
  static constexpr int64_t MM_ID_MAPCOUNT_MAX = Bits == 64 ? 0x7FFFFFFF : 0x7FFF;
};

constexpr std::string_view encoding_name(Semantics s, int bits) {
#define FOLIOCHECK_ENCODING(sem, b, name, sentence) \
  if (s == Semantics::sem && bits == b) return name;
#include "impl/encodings.def"
#undef FOLIOCHECK_ENCODING
  return "unknown-encoding";
}

constexpr std::string_view kOutsideFolio =
    "OUTSIDE: per-page access beyond the folio skipped (the kernel would touch a neighbouring "
    "page)";
constexpr std::string_view kMissingField =
    "OUTSIDE: field not stored in this folio (page 1 of a small folio, or page 2 of a 32-bit "
    "order-1 "
    "folio); access skipped";

}  // namespace

// ---------------------------------------------------------------------------------------------
// Shape, storage and warnings.

template <Semantics S, int Bits>
std::string_view PackedFolio<S, Bits>::name() const {
  return encoding_name(S, Bits);
}

template <Semantics S, int Bits>
bool PackedFolio<S, Bits>::supports(const Setup& setup) const {
  const Config& c = setup.config;
  if (c.semantics != S || c.bits != Bits) return false;
  if (setup.folio.order < 0 || setup.folio.order > 22) return false;
  if (c.pmd_order < 1 || c.pmd_order > 30 || c.pud_order < 1 || c.pud_order > 30) return false;
  // 32-bit next has no entire mapcount for order-1 folios: no kernel maps one as a whole (no
  // HPAGE_PMD_ORDER or hugetlb order is 1), so the layout cannot hold such a folio's state.
  if (kNext && Bits == 32) {
    if (c.pmd_order == 1 || c.pud_order == 1) return false;
    if (setup.folio.hugetlb && setup.folio.order == 1) return false;
  }
  return true;
}

template <Semantics S, int Bits>
void PackedFolio<S, Bits>::reset(const Setup& setup) {
  setup_ = setup;
  order_ = setup.folio.order;
  nr_pages_ = uint32_t{1} << order_;
  hpage_pmd_nr_ = 1 << setup.config.pmd_order;
  hpage_pud_nr_ = 1 << setup.config.pud_order;
  hugetlb_ = setup.folio.hugetlb;
  anon_ = setup.folio.type == FolioType::anon;
  swapbacked_ = setup.folio.type != FolioType::file;
  partially_mapped_ = false;
  _mapcount.assign(nr_pages_, -1);
  if (hugetlb_) _mapcount[0] = kHugetlbPageType;
  anon_exclusive_.assign((nr_pages_ + 63) / 64, 0);
  nr_anon_exclusive_ = 0;
  nr_anon_exclusive_remapped_ = 0;
  _large_mapcount = -1;
  _entire_mapcount = -1;
  _nr_pages_mapped = 0;
  _pincount = 0;
  _total_mapped_pages = 0;
  _mm_id_mapcount = {-1, -1};
  _mm_ids = 0;
  _refcount = 1;
  mmf_has_pinned_.clear();
  stat_ = {};
  ret_ = 0;
  result_ = 0;
  alloc_ref_mapped_ = false;
  warnings_ = 0;
  warning_log_.lines.clear();
  outside_noted_ = false;
  models_mask_ = models_mask_of(*this);
}

template <Semantics S, int Bits>
void PackedFolio<S, Bits>::warn(std::string_view line) {
  warnings_++;
  warning_log_.lines.emplace_back(line);
}

template <Semantics S, int Bits>
void PackedFolio<S, Bits>::note_outside_folio() {
  if (outside_noted_) return;
  outside_noted_ = true;
  warn(kOutsideFolio);
}

template <Semantics S, int Bits>
void PackedFolio<S, Bits>::note_missing_field(Field) {
  if (outside_noted_) return;
  outside_noted_ = true;
  warn(kMissingField);
}

// include/linux/huge_mm.h (THP=y).
template <Semantics S, int Bits>
bool PackedFolio<S, Bits>::folio_test_pmd_mappable() const {
  if (mutant_active(Mutant::new_anon_pmd_branch_strict)) return order_ > setup_.config.pmd_order;
  return order_ >= setup_.config.pmd_order;
}

// next moved _entire_mapcount and _pincount to page 2 on 32-bit; 6.12 keeps them in page 1.
template <Semantics S, int Bits>
bool PackedFolio<S, Bits>::has_entire_storage() const {
  if (!folio_test_large()) return false;
  return Bits == 64 || !kNext || order_ > 1;
}

template <Semantics S, int Bits>
bool PackedFolio<S, Bits>::folio_has_pincount() const {
  return has_entire_storage();
}

template <Semantics S, int Bits>
[[gnu::always_inline]] inline bool PackedFolio<S, Bits>::PageAnonExclusive(int64_t idx) const {
  if (!page_in_folio(idx)) return false;
  const auto i = static_cast<uint32_t>(idx);
  return (anon_exclusive_[i / 64] >> (i % 64)) & 1;
}

template <Semantics S, int Bits>
void PackedFolio<S, Bits>::SetPageAnonExclusive(int64_t idx) {
  if (!page_in_folio(idx)) return note_outside_folio();
  if (PageAnonExclusive(idx)) return;
  const auto i = static_cast<uint32_t>(idx);
  anon_exclusive_[i / 64] |= uint64_t{1} << (i % 64);
  nr_anon_exclusive_++;
  if (_mapcount[i] > 0) nr_anon_exclusive_remapped_++;
}

template <Semantics S, int Bits>
void PackedFolio<S, Bits>::ClearPageAnonExclusive(int64_t idx) {
  if (!page_in_folio(idx)) return note_outside_folio();
  if (!PageAnonExclusive(idx)) return;
  const auto i = static_cast<uint32_t>(idx);
  anon_exclusive_[i / 64] &= ~(uint64_t{1} << (i % 64));
  nr_anon_exclusive_--;
  if (_mapcount[i] > 0) nr_anon_exclusive_remapped_--;
}

// Keeps the PageAnonExclusive tallies in step, so the add-anon checks over a whole folio are O(1).
template <Semantics S, int Bits>
[[gnu::always_inline]] inline int32_t PackedFolio<S, Bits>::page_mapcount_add_return(uint32_t idx,
                                                                                   int64_t delta) {
  const int32_t old = _mapcount[idx];
  const int32_t now = wrap_add(old, delta);
  _mapcount[idx] = now;
  if (PageAnonExclusive(idx) && (old > 0) != (now > 0)) {
    if (now > 0)
      nr_anon_exclusive_remapped_++;
    else
      nr_anon_exclusive_remapped_--;
  }
  return now;
}

template <Semantics S, int Bits>
void PackedFolio<S, Bits>::page_mapcount_set(uint32_t idx, int32_t value) {
  page_mapcount_add_return(idx, int64_t{value} - _mapcount[idx]);
}

// The kernel's `do { ... } while (page++, --nr_pages > 0)` runs at least once.
template <Semantics S, int Bits>
template <class F>
void PackedFolio<S, Bits>::for_each_page_do_while(int64_t page, int nr_pages, F&& f) {
  const int64_t count = nr_pages > 0 ? nr_pages : 1;
  const int64_t first = std::max<int64_t>(page, 0);
  const int64_t last = std::min<int64_t>(page + count, nr_pages_);
  if (first != page || page + count > int64_t{nr_pages_}) note_outside_folio();
  for (int64_t p = first; p < last; p++) f(static_cast<uint32_t>(p));
}

// PageAnonExclusive pages of [page, page + nr_pages) (a for loop: none if nr_pages <= 0), only
// those with _mapcount > 0 when remapped_only.
template <Semantics S, int Bits>
int PackedFolio<S, Bits>::count_anon_exclusive(int64_t page, int nr_pages, bool remapped_only) {
  if (nr_pages <= 0) return 0;
  if (page == 0 && nr_pages == folio_large_nr_pages())
    return static_cast<int>(remapped_only ? nr_anon_exclusive_remapped_ : nr_anon_exclusive_);
  const int64_t first = std::max<int64_t>(page, 0);
  const int64_t last = std::min<int64_t>(page + nr_pages, nr_pages_);
  if (first != page || page + nr_pages > int64_t{nr_pages_}) note_outside_folio();
  // The tallies count the whole folio (check_invariants recounts them): none there, none here.
  if ((remapped_only ? nr_anon_exclusive_remapped_ : nr_anon_exclusive_) == 0) return 0;
  int count = 0;
  for (int64_t p = first; p < last; p++)
    count += PageAnonExclusive(p) && (!remapped_only || _mapcount[static_cast<size_t>(p)] > 0);
  return count;
}

template <Semantics S, int Bits>
int32_t PackedFolio<S, Bits>::field_add_return(Field f, int64_t delta) {
  int32_t* field = nullptr;
  int32_t initial = -1;
  switch (f) {
    case Field::large:
      if (folio_test_large()) field = &_large_mapcount;
      break;
    case Field::entire:
      if (has_entire_storage()) field = &_entire_mapcount;
      break;
    case Field::nr_pages_mapped:
      if (folio_test_large()) field = &_nr_pages_mapped;
      initial = 0;
      break;
  }
  if (!field) {
    note_missing_field(f);
    return wrap_add(initial, delta);
  }
  *field = wrap_add(*field, delta);
  return *field;
}

template <Semantics S, int Bits>
void PackedFolio<S, Bits>::field_set(Field f, int32_t value) {
  field_add_return(f, int64_t{value} - field_read(f));
}

template <Semantics S, int Bits>
int32_t PackedFolio<S, Bits>::field_read(Field f) const {
  switch (f) {
    case Field::large:
      return folio_test_large() ? _large_mapcount : -1;
    case Field::entire:
      return has_entire_storage() ? _entire_mapcount : -1;
    case Field::nr_pages_mapped:
      return folio_test_large() ? _nr_pages_mapped : 0;
  }
  return 0;
}

template <Semantics S, int Bits>
void PackedFolio<S, Bits>::folio_ref_add(int64_t nr) {
  _refcount = wrap_add(_refcount, nr);
}

// ---------------------------------------------------------------------------------------------
// include/linux/rmap.h: sanity checks and the large mapcount.

template <Semantics S, int Bits>
void PackedFolio<S, Bits>::__folio_rmap_sanity_checks(int64_t page, int nr_pages, Level level) {
  if (folio_test_hugetlb()) warn("R1: hugetlb folio passed to a non-hugetlb rmap function");
  // R2 (is_zero_folio) cannot fire: foliocheck never maps the shared zeropage.
  if (nr_pages <= 0) warn("R3: nr_pages <= 0");
  if (!page_in_folio(page)) warn("R4: first page outside the folio");
  if (!page_in_folio(page + nr_pages - 1)) warn("R5: page+nr-1 outside the folio");
  switch (level) {
    case kPte:
      break;
    case kPmd:
      if (folio_large_nr_pages() != hpage_pmd_nr_)
        warn("R6: PMD level on a folio that is not HPAGE_PMD_NR pages");
      if (nr_pages != hpage_pmd_nr_) warn("R6: PMD level with nr_pages != HPAGE_PMD_NR");
      break;
    case kPud:
      if constexpr (!kNext) {
        warn("R7: v6.12 has no PUD level (default: VM_WARN_ON_ONCE)");
      } else {
        if (folio_large_nr_pages() != hpage_pud_nr_)
          warn("R7: PUD level on a folio that is not HPAGE_PUD_NR pages");
        if (nr_pages != hpage_pud_nr_) warn("R7: PUD level with nr_pages != HPAGE_PUD_NR");
      }
      break;
    default:
      warn("R7: unknown rmap level (default: VM_WARN_ON_ONCE)");
  }
}

template <Semantics S, int Bits>
void PackedFolio<S, Bits>::__folio_large_mapcount_sanity_checks(int diff, mm_id_t mm_id) {
  using L = MmIdLayout<Bits>;
  if (!folio_test_large() || folio_test_hugetlb()) warn("W1: folio not large, or hugetlb");
  if (diff <= 0) warn("W2: diff <= 0");
  if (mm_id < MM_ID_MIN || mm_id > L::MM_ID_MAX) warn("W3: mm id outside MM_ID_MIN..MM_ID_MAX");
  // The remaining checks read page 1, which a small folio does not have.
  if (!folio_test_large()) return;
  if (diff > folio_large_nr_pages()) warn("W4: diff > folio_large_nr_pages");
  if (folio_large_nr_pages() - 1 > L::MM_ID_MAPCOUNT_MAX)
    warn("W5: folio_large_nr_pages - 1 > MM_ID_MAPCOUNT_MAX");
  if (folio_mm_id(0) == MM_ID_DUMMY && _mm_id_mapcount[0] != -1)
    warn("W6: slot 0 free but its mapcount != -1");
  if (folio_mm_id(0) != MM_ID_DUMMY && _mm_id_mapcount[0] < 0)
    warn("W7: slot 0 owned but its mapcount < 0");
  if (folio_mm_id(1) == MM_ID_DUMMY && _mm_id_mapcount[1] != -1)
    warn("W8: slot 1 free but its mapcount != -1");
  if (folio_mm_id(1) != MM_ID_DUMMY && _mm_id_mapcount[1] < 0)
    warn("W9: slot 1 owned but its mapcount < 0");
  if (!folio_mapped() && folio_test_shared_bit()) warn("W10: folio unmapped but shared bit set");
}

template <Semantics S, int Bits>
unsigned PackedFolio<S, Bits>::folio_mm_id(int idx) const {
  const int shift = idx * (Bits / 2);
  return static_cast<unsigned>(_mm_ids >> shift) & MmIdLayout<Bits>::MM_ID_MASK;
}

// The top bit of each half of _mm_ids is flag storage (lock bit in half 0, shared bit in half 1
// on little-endian): writing an id must leave it alone.
template <Semantics S, int Bits>
void PackedFolio<S, Bits>::folio_set_mm_id(int idx, mm_id_t id) {
  const int shift = idx * (Bits / 2);
  const mm_ids_t id_bits = static_cast<mm_ids_t>(MmIdLayout<Bits>::MM_ID_MASK) << shift;
  const mm_ids_t half = static_cast<mm_ids_t>((mm_ids_t{1} << (Bits / 2)) - 1) << shift;
  const mm_ids_t cleared = mutant_active(Mutant::set_mm_id_clobbers_flag_bit) ? half : id_bits;
  _mm_ids = static_cast<mm_ids_t>((_mm_ids & ~cleared) | (static_cast<mm_ids_t>(id) << shift));
}

template <Semantics S, int Bits>
bool PackedFolio<S, Bits>::folio_test_shared_bit() const {
  return (_mm_ids >> MmIdLayout<Bits>::FOLIO_MM_IDS_SHARED_BITNUM) & 1;
}

template <Semantics S, int Bits>
void PackedFolio<S, Bits>::folio_lock_large_mapcount() {
  const mm_ids_t lock = mm_ids_t{1} << MmIdLayout<Bits>::FOLIO_MM_IDS_LOCK_BITNUM;
  if (_mm_ids & lock)
    warn("LOCK: large mapcount bit lock already held (the kernel would spin forever)");
  _mm_ids |= lock;
}

template <Semantics S, int Bits>
void PackedFolio<S, Bits>::folio_unlock_large_mapcount() {
  _mm_ids &= static_cast<mm_ids_t>(~(mm_ids_t{1} << MmIdLayout<Bits>::FOLIO_MM_IDS_LOCK_BITNUM));
}

template <Semantics S, int Bits>
void PackedFolio<S, Bits>::folio_set_large_mapcount(int mapcount, uint32_t mm, int64_t pages) {
  if constexpr (kTotalMapped) {
    if (folio_test_large()) _total_mapped_pages = static_cast<long_t>(pages);
  } else {
    (void)pages;
  }
  if constexpr (kMmId) {
    const auto mm_id = static_cast<mm_id_t>(mm);
    __folio_large_mapcount_sanity_checks(mapcount, mm_id);
    if (!folio_test_large()) return note_missing_field(Field::large);
    if (folio_mm_id(0) != MM_ID_DUMMY) warn("W11: folio_set_large_mapcount with slot 0 owned");
    if (folio_mm_id(1) != MM_ID_DUMMY) warn("W12: folio_set_large_mapcount with slot 1 owned");
    _large_mapcount = wrap_add(mapcount, -1);
    _mm_id_mapcount[0] = wrap_add<mm_id_mapcount_t>(static_cast<mm_id_mapcount_t>(mapcount), -1);
    folio_set_mm_id(0, mm_id);
  } else {
    (void)mm;
    field_set(Field::large, wrap_add(mapcount, -1));
  }
}

template <Semantics S, int Bits>
int PackedFolio<S, Bits>::folio_add_return_large_mapcount(int diff, uint32_t mm, int64_t pages) {
  if constexpr (!kMmId) {
    (void)mm;
    (void)pages;
    return wrap_add(field_add_return(Field::large, diff), 1);
  } else {
    const auto mm_id = static_cast<mm_id_t>(mm);
    if (!folio_test_large()) {
      __folio_large_mapcount_sanity_checks(diff, mm_id);
      note_missing_field(Field::large);
      return diff;
    }
    folio_lock_large_mapcount();
    __folio_large_mapcount_sanity_checks(diff, mm_id);

    const int32_t new_mapcount_val = wrap_add(_large_mapcount, diff);
    _large_mapcount = new_mapcount_val;
    total_mapped_pages_add(pages);
    const mm_ids_t shared = mm_ids_t{1} << MmIdLayout<Bits>::FOLIO_MM_IDS_SHARED_BITNUM;

    // A1/A2: on 32-bit a short count can wrap negative; the slot is then given up and the folio
    // marked shared, or later unmaps would underflow it.
    const auto add_to_slot = [&](int i) {
      _mm_id_mapcount[i] = wrap_add(_mm_id_mapcount[i], diff);
      if constexpr (Bits == 32) {
        if (_mm_id_mapcount[i] < 0 && !mutant_active(Mutant::overflow_keeps_negative_slot)) {
          _mm_id_mapcount[i] = -1;
          folio_set_mm_id(i, MM_ID_DUMMY);
          _mm_ids |= shared;
        }
      }
    };
    const auto take_slot = [&](int i) {
      folio_set_mm_id(i, mm_id);
      const int bias = mutant_active(Mutant::slot_count_initialised_to_diff) ? 0 : -1;
      _mm_id_mapcount[i] = wrap_add<mm_id_mapcount_t>(static_cast<mm_id_mapcount_t>(diff), bias);
    };
    // A3: the folio may have had mappings of other mms before this one took slot 0.
    const auto take_slot0 = [&] {
      take_slot(0);
      if (new_mapcount_val != wrap_add(diff, -1)) _mm_ids |= shared;
    };

    if (folio_mm_id(0) == mm_id) {
      add_to_slot(0);
    } else if (mutant_active(Mutant::free_slot_before_id_match) && folio_mm_id(0) == MM_ID_DUMMY) {
      take_slot0();
    } else if (folio_mm_id(1) == mm_id) {
      add_to_slot(1);
    } else if (folio_mm_id(0) == MM_ID_DUMMY) {
      take_slot0();
    } else if (folio_mm_id(1) == MM_ID_DUMMY) {
      take_slot(1);
      // A4: slot 0 certainly has mappings of another mm.
      if (!mutant_active(Mutant::slot1_take_without_shared_bit)) _mm_ids |= shared;
    }
    folio_unlock_large_mapcount();
    return wrap_add(new_mapcount_val, 1);
  }
}

template <Semantics S, int Bits>
int PackedFolio<S, Bits>::folio_sub_return_large_mapcount(int diff, uint32_t mm, int64_t pages) {
  if constexpr (!kMmId) {
    (void)mm;
    (void)pages;
    return wrap_add(field_add_return(Field::large, -int64_t{diff}), 1);
  } else {
    const auto mm_id = static_cast<mm_id_t>(mm);
    if (!folio_test_large()) {
      __folio_large_mapcount_sanity_checks(diff, mm_id);
      note_missing_field(Field::large);
      return wrap_add(0, -int64_t{diff});
    }
    folio_lock_large_mapcount();
    __folio_large_mapcount_sanity_checks(diff, mm_id);

    const int32_t new_mapcount_val = wrap_add(_large_mapcount, -int64_t{diff});
    _large_mapcount = new_mapcount_val;
    total_mapped_pages_add(-pages);

    // A slot may underflow legitimately (mappings added before its owner had a slot), so going
    // negative frees it instead of warning.
    bool done = false;
    const auto sub_from_slot = [&](int i) {
      _mm_id_mapcount[i] = wrap_add(_mm_id_mapcount[i], -int64_t{diff});
      if (_mm_id_mapcount[i] >= 0) {
        done = true;
        return;
      }
      _mm_id_mapcount[i] = -1;
      folio_set_mm_id(i, MM_ID_DUMMY);
    };
    if (folio_mm_id(0) == mm_id)
      sub_from_slot(0);
    else if (folio_mm_id(1) == mm_id)
      sub_from_slot(1);

    // One slot owning every mapping means exclusive (both free, -1, when nothing is mapped).
    if (!done) {
      const int64_t logical = mutant_active(Mutant::shared_check_logical_vs_raw) ? 1 : 0;
      if (_mm_id_mapcount[0] + logical == new_mapcount_val ||
          _mm_id_mapcount[1] + logical == new_mapcount_val)
        _mm_ids &=
            static_cast<mm_ids_t>(~(mm_ids_t{1} << MmIdLayout<Bits>::FOLIO_MM_IDS_SHARED_BITNUM));
    }
    folio_unlock_large_mapcount();
    return wrap_add(new_mapcount_val, 1);
  }
}

template <Semantics S, int Bits>
void PackedFolio<S, Bits>::folio_add_large_mapcount(int diff, uint32_t mm, int64_t pages) {
  folio_add_return_large_mapcount(diff, mm, pages);
}

template <Semantics S, int Bits>
void PackedFolio<S, Bits>::folio_sub_large_mapcount(int diff, uint32_t mm, int64_t pages) {
  folio_sub_return_large_mapcount(diff, mm, pages);
}

// The RFC: atomic_long_add under the large mapcount's bit lock; nothing elsewhere.
template <Semantics S, int Bits>
void PackedFolio<S, Bits>::total_mapped_pages_add(int64_t pages) {
  if constexpr (kTotalMapped) {
    if (!folio_test_large()) return note_missing_field(Field::large);
    _total_mapped_pages = wrap_add(_total_mapped_pages, pages);
  } else {
    (void)pages;
  }
}

// The pages one mapping at this level maps: what it adds to _total_mapped_pages.
template <Semantics S, int Bits>
int64_t PackedFolio<S, Bits>::level_nr_pages(Level level) const {
  if (level == kPmd) {
    if (mutant_active(Mutant::total_pmd_adds_one)) return 1;
    return hpage_pmd_nr_;
  }
  return level == kPud ? hpage_pud_nr_ : 1;
}

// ---------------------------------------------------------------------------------------------
// mm/rmap.c

template <Semantics S, int Bits>
void PackedFolio<S, Bits>::__folio_mod_stat(int nr, int nr_pmdmapped) {
  if (nr) stat_[folio_test_anon() ? NR_ANON_MAPPED : NR_FILE_MAPPED] += nr;
  if (nr_pmdmapped) {
    if (folio_test_anon()) {
      stat_[NR_ANON_THPS] += nr_pmdmapped;
    } else {
      const bool swapbacked =
          mutant_active(Mutant::pmdmapped_stat_shmem_file_swapped) ? !swapbacked_ : swapbacked_;
      stat_[swapbacked ? NR_SHMEM_PMDMAPPED : NR_FILE_PMDMAPPED] += nr_pmdmapped;
    }
  }
}

// 6.12 returns nr and leaves the statistics to its callers; next applies them here.
template <Semantics S, int Bits>
int PackedFolio<S, Bits>::__folio_add_rmap(int64_t page, int nr_pages, uint32_t mm, Level level,
                                           int* nr_pmdmapped) {
  const int orig_nr_pages = nr_pages;
  const int nr_folio = folio_large_nr_pages();
  int first = 0, nr = 0;

  __folio_rmap_sanity_checks(page, nr_pages, level);

  switch (level) {
    case kPte:
      if (!folio_test_large()) {
        nr = page_mapcount_add_return(0, 1) == 0;
        break;
      }
      if constexpr (!kPageMapcount) {
        nr = folio_add_return_large_mapcount(orig_nr_pages, mm, orig_nr_pages);
        // Was completely unmapped: the whole folio becomes accounted.
        nr = nr == orig_nr_pages ? nr_folio : 0;
        // The RFC (assumption A5): a PMD-sized folio counts as PMD-mapped while mapped at all.
        if (kTotalMapped && nr && nr_folio == hpage_pmd_nr_) *nr_pmdmapped = nr_folio;
        break;
      }
      for_each_page_do_while(page, nr_pages,
                             [&](uint32_t p) { first += page_mapcount_add_return(p, 1) == 0; });
      {
        const int32_t threshold = mutant_active(Mutant::pte_add_ignores_entirely_mapped)
                                      ? 2 * ENTIRELY_MAPPED
                                      : ENTIRELY_MAPPED;
        if (first && field_add_return(Field::nr_pages_mapped, first) < threshold) nr = first;
      }
      folio_add_large_mapcount(
          mutant_active(Mutant::pte_batch_large_mapcount_by_one) ? 1 : orig_nr_pages, mm);
      break;
    case kPmd:
    case kPud:
      if constexpr (!kNext) {
        if (level == kPud) break;  // 6.12's switch has no PUD case
      }
      if constexpr (kTotalMapped) {
        // No entire mapcount: a PMD/PUD mapping is one mapping of HPAGE_*_NR pages.
        nr = folio_add_return_large_mapcount(1, mm, level_nr_pages(level));
        nr = nr == 1 ? nr_folio : 0;
        if (nr && nr_folio == hpage_pmd_nr_) *nr_pmdmapped = nr_folio;
        break;
      }
      first = field_add_return(Field::entire, 1) == 0;
      if constexpr (!kPageMapcount) {
        if (level == kPmd && first) *nr_pmdmapped = nr_folio;
        nr = folio_add_return_large_mapcount(1, mm);
        nr = nr == 1 ? nr_folio : 0;
        break;
      }
      if (first) {
        const int32_t v = field_add_return(Field::nr_pages_mapped, ENTIRELY_MAPPED);
        const bool in_range = mutant_active(Mutant::pmd_add_em_threshold_off_by_one)
                                  ? v <= ENTIRELY_MAPPED
                                  : v < ENTIRELY_MAPPED + ENTIRELY_MAPPED;
        if (in_range) {
          // next tracks PMD mappings of PMD-sized folios only; 6.12 reaches here for PMDs only.
          if (level == kPmd || mutant_active(Mutant::pud_counts_as_pmdmapped))
            *nr_pmdmapped = nr_folio;
          nr = nr_folio - (v & FOLIO_PAGES_MAPPED);
          // Raced ahead of a remove and another add: unreachable single-threaded.
          if (nr < 0) nr = 0;
        } else {
          // Raced ahead of a remove of ENTIRELY_MAPPED: unreachable single-threaded.
          nr = 0;
        }
      }
      folio_add_large_mapcount(1, mm);
      break;
    default:
      break;
  }
  if constexpr (kNext) __folio_mod_stat(nr, *nr_pmdmapped);
  return nr;
}

template <Semantics S, int Bits>
void PackedFolio<S, Bits>::__folio_add_anon_rmap(int64_t page, int nr_pages, uint32_t mm,
                                                 bool exclusive, Level level) {
  if (!folio_test_anon()) warn("WARN: folio_add_anon_rmap_* on a folio that is not anon");

  int nr_pmdmapped = 0;
  const int nr = __folio_add_rmap(page, nr_pages, mm, level, &nr_pmdmapped);
  if constexpr (!kNext) __folio_mod_stat(nr, nr_pmdmapped);

  if (exclusive) {
    switch (level) {
      case kPte:
        if (nr_pages > 0) {
          const int64_t first = std::max<int64_t>(page, 0);
          const int64_t last = std::min<int64_t>(page + nr_pages, nr_pages_);
          if (first != page || page + nr_pages > int64_t{nr_pages_}) note_outside_folio();
          for (int64_t p = first; p < last; p++) SetPageAnonExclusive(p);
        }
        break;
      case kPmd:
        SetPageAnonExclusive(page);
        break;
      default:
        if constexpr (kNext) warn("WARN: RMAP_EXCLUSIVE for a PUD mapping (no anonymous PUDs)");
        break;
    }
  }

  // An exclusive page is mapped at most once: one PTE, or a PMD plus transiently one PTE.
  const bool entire_gt1 = folio_test_large() && folio_entire_mapcount() > 1;
  if constexpr (!kNext) {
    for (int k = count_anon_exclusive(page, nr_pages, !entire_gt1); k > 0; k--)
      warn("AE: PageAnonExclusive page mapped more than once (6.12 __folio_add_anon_rmap)");
  } else {
    if (!folio_test_large() && page_in_folio(page) && PageAnonExclusive(page) && _mapcount[0] > 0)
      warn("AE: PageAnonExclusive small folio with _mapcount > 0");
    if (entire_gt1) {
      for (int k = count_anon_exclusive(page, nr_pages, false); k > 0; k--)
        warn("AE: PageAnonExclusive page of a folio with entire_mapcount > 1");
    }
    if constexpr (kPageMapcount) {
      for (int k = count_anon_exclusive(page, nr_pages, true); k > 0; k--)
        warn("AE: PageAnonExclusive page with _mapcount > 0");
    }
  }
}

template <Semantics S, int Bits>
void PackedFolio<S, Bits>::__folio_add_file_rmap(int64_t page, int nr_pages, uint32_t mm,
                                                 Level level) {
  if (folio_test_anon()) warn("WARN: folio_add_file_rmap_* on an anon folio");
  int nr_pmdmapped = 0;
  const int nr = __folio_add_rmap(page, nr_pages, mm, level, &nr_pmdmapped);
  if constexpr (!kNext) __folio_mod_stat(nr, nr_pmdmapped);
}

// Plain sets, not increments: only for a fresh folio. Returns the page-table entries it accounts
// for, which is what the caller takes references for.
template <Semantics S, int Bits>
int PackedFolio<S, Bits>::folio_add_new_anon_rmap(uint32_t mm, bool exclusive) {
  if (folio_test_hugetlb()) warn("WARN: folio_add_new_anon_rmap on a hugetlb folio");
  // The !exclusive && !folio_test_locked check cannot fire: foliocheck's callers hold the lock.
  swapbacked_ = true;
  anon_ = true;

  int nr = 1, nr_pmdmapped = 0, entries = 1;
  if (!folio_test_large()) {
    page_mapcount_set(0, 0);
    if (exclusive) SetPageAnonExclusive(0);
  } else if (!folio_test_pmd_mappable()) {
    nr = folio_large_nr_pages();
    entries = nr;
    for (uint32_t i = 0; i < nr_pages_; i++) {
      if constexpr (kPageMapcount) page_mapcount_set(i, 0);
      if (exclusive) SetPageAnonExclusive(i);
    }
    folio_set_large_mapcount(nr, mm, nr);
    if constexpr (kPageMapcount) field_set(Field::nr_pages_mapped, nr);
  } else {
    nr = folio_large_nr_pages();
    if constexpr (!kTotalMapped) field_set(Field::entire, 0);
    folio_set_large_mapcount(1, mm, level_nr_pages(kPmd));
    if constexpr (kPageMapcount) field_set(Field::nr_pages_mapped, ENTIRELY_MAPPED);
    if (exclusive) SetPageAnonExclusive(0);
    nr_pmdmapped = nr;
  }
  __folio_mod_stat(nr, nr_pmdmapped);
  return entries;
}

template <Semantics S, int Bits>
void PackedFolio<S, Bits>::__folio_remove_rmap(int64_t page, int nr_pages, uint32_t mm,
                                               Level level) {
  const int nr_folio = folio_large_nr_pages();
  int last = 0, nr = 0, nr_pmdmapped = 0;
  bool partially_mapped = false;

  __folio_rmap_sanity_checks(page, nr_pages, level);

  switch (level) {
    case kPte:
      if (!folio_test_large()) {
        const int32_t v = page_mapcount_add_return(0, -1);
        nr = mutant_active(Mutant::small_unmap_nonpositive) ? v <= 0 : v < 0;
        break;
      }
      if constexpr (kTotalMapped) {
        nr = folio_sub_return_large_mapcount(nr_pages, mm, nr_pages);
        if (!nr) {
          nr = nr_folio;
          if (nr_folio == hpage_pmd_nr_) nr_pmdmapped = nr_folio;
        } else {
          // Fewer pages mapped than the folio has, but some: partially mapped (pigeonhole).
          partially_mapped = _total_mapped_pages < nr_folio;
          nr = 0;
        }
        break;
      }
      if constexpr (!kPageMapcount) {
        nr = folio_sub_return_large_mapcount(nr_pages, mm);
        if (!nr) {
          nr = nr_folio;
        } else {
          partially_mapped = nr < nr_folio && (mutant_active(Mutant::npm_partial_ignores_entire) ||
                                               !folio_entire_mapcount());
          nr = 0;
        }
        break;
      }
      // Large mapcount first: lockless readers see a removal there before in the pages.
      folio_sub_large_mapcount(nr_pages, mm);
      for_each_page_do_while(page, nr_pages,
                             [&](uint32_t p) { last += page_mapcount_add_return(p, -1) < 0; });
      if (last && field_add_return(Field::nr_pages_mapped, -last) < ENTIRELY_MAPPED) nr = last;
      // Re-read (6.10): a batch that unmapped the whole folio is not a partial mapping.
      partially_mapped = nr && (mutant_active(Mutant::partially_mapped_without_npm_reread) ||
                                field_read(Field::nr_pages_mapped));
      break;
    case kPmd:
    case kPud:
      if constexpr (!kNext) {
        if (level == kPud) break;  // 6.12's switch has no PUD case
      }
      if constexpr (kTotalMapped) {
        nr = folio_sub_return_large_mapcount(1, mm, level_nr_pages(level));
        if (!nr) {
          nr = nr_folio;
          if (nr_folio == hpage_pmd_nr_) nr_pmdmapped = nr_folio;
        } else {
          partially_mapped = _total_mapped_pages < nr_folio;
          nr = 0;
        }
        break;
      }
      if constexpr (!kPageMapcount) {
        last = field_add_return(Field::entire, -1) < 0;
        if (level == kPmd && last) nr_pmdmapped = nr_folio;
        nr = folio_sub_return_large_mapcount(1, mm);
        if (!nr) {
          nr = nr_folio;
        } else {
          partially_mapped = last && nr < nr_folio;
          nr = 0;
        }
        break;
      }
      folio_sub_large_mapcount(1, mm);
      last = field_add_return(Field::entire, -1) < 0;
      if (last) {
        const int32_t v = field_add_return(Field::nr_pages_mapped, -ENTIRELY_MAPPED);
        if (v < ENTIRELY_MAPPED) {
          if (level == kPmd) nr_pmdmapped = nr_folio;
          // 6.12 masks the remaining page count; next knows it is below ENTIRELY_MAPPED.
          nr = nr_folio - (kNext ? v : (v & FOLIO_PAGES_MAPPED));
          // Raced ahead of another remove and an add: unreachable single-threaded.
          if (nr < 0) nr = 0;
        } else {
          // An add of ENTIRELY_MAPPED raced ahead: unreachable single-threaded.
          nr = 0;
        }
      }
      partially_mapped = nr && nr < nr_pmdmapped;
      break;
    default:
      break;
  }

  // Queue an anon large folio for deferred split if at least one page of it is unmapped and at
  // least one is still mapped.
  if (partially_mapped && folio_test_anon() && !partially_mapped_) deferred_split_folio(true);

  __folio_mod_stat(-nr, -nr_pmdmapped);
}

// mm/huge_memory.c: only the sticky flag is observable (the deferred list is not modelled).
template <Semantics S, int Bits>
void PackedFolio<S, Bits>::deferred_split_folio(bool partially_mapped) {
  if (order_ <= 1) return;
  if (partially_mapped && !partially_mapped_) partially_mapped_ = true;
}

// Every page of the range must already be mapped: neither NR_*_MAPPED nor _nr_pages_mapped moves.
template <Semantics S, int Bits>
void PackedFolio<S, Bits>::__folio_dup_file_rmap(int64_t page, int nr_pages, uint32_t dst_mm,
                                                 Level level) {
  const int orig_nr_pages = nr_pages;
  __folio_rmap_sanity_checks(page, nr_pages, level);
  switch (level) {
    case kPte:
      if (!folio_test_large()) {
        page_mapcount_add_return(0, 1);
        break;
      }
      if constexpr (kPageMapcount)
        for_each_page_do_while(page, nr_pages, [&](uint32_t p) { page_mapcount_add_return(p, 1); });
      folio_add_large_mapcount(orig_nr_pages, dst_mm, orig_nr_pages);
      break;
    case kPmd:
    case kPud:
      if constexpr (!kNext) {
        if (level == kPud) break;
      }
      if constexpr (!kTotalMapped) field_add_return(Field::entire, 1);
      folio_add_large_mapcount(1, dst_mm, level_nr_pages(level));
      break;
    default:
      break;
  }
}

template <Semantics S, int Bits>
int PackedFolio<S, Bits>::__folio_try_dup_anon_rmap(int64_t page, int nr_pages, uint32_t dst_mm,
                                                    uint32_t src_mm, Level level) {
  const int orig_nr_pages = nr_pages;
  if (!folio_test_anon()) warn("WARN: folio_try_dup_anon_rmap_* on a folio that is not anon");
  __folio_rmap_sanity_checks(page, nr_pages, level);

  // A folio the parent may have pinned must be copied for the child, never shared with it.
  const bool maybe_pinned = mutant_active(Mutant::ebusy_ignores_mmf_has_pinned)
                                ? folio_maybe_dma_pinned()
                                : folio_needs_cow_for_dma(src_mm);
  const auto unshare = [&](int64_t p) {
    if (mutant_active(Mutant::dup_keeps_anon_exclusive)) return;
    if (PageAnonExclusive(p)) ClearPageAnonExclusive(p);
  };

  switch (level) {
    case kPte:
      if (maybe_pinned) {
        const int checked = mutant_active(Mutant::ebusy_first_page_only) ? 1 : nr_pages;
        if (count_anon_exclusive(page, std::min(checked, nr_pages), false) > 0) return -kEBUSY;
      }
      if (!folio_test_large()) {
        if (!page_in_folio(page)) note_outside_folio();
        unshare(page);
        page_mapcount_add_return(0, 1);
        break;
      }
      for_each_page_do_while(page, nr_pages, [&](uint32_t p) {
        unshare(p);
        if constexpr (kPageMapcount) page_mapcount_add_return(p, 1);
      });
      folio_add_large_mapcount(orig_nr_pages, dst_mm, orig_nr_pages);
      break;
    case kPmd:
    case kPud:
      if constexpr (!kNext) {
        if (level == kPud) break;
      }
      if (PageAnonExclusive(page)) {
        if (maybe_pinned) return -kEBUSY;
        ClearPageAnonExclusive(page);
      }
      if constexpr (!kTotalMapped) field_add_return(Field::entire, 1);
      folio_add_large_mapcount(1, dst_mm, level_nr_pages(level));
      break;
    default:
      break;
  }
  return 0;
}

template <Semantics S, int Bits>
int PackedFolio<S, Bits>::__folio_try_share_anon_rmap(int64_t page, int nr_pages, Level level) {
  if (!folio_test_anon()) warn("WARN: folio_try_share_anon_rmap_* on a folio that is not anon");
  if (!page_in_folio(page)) note_outside_folio();
  if (!PageAnonExclusive(page))
    warn("WARN: folio_try_share_anon_rmap_* on a page that is not PageAnonExclusive");
  __folio_rmap_sanity_checks(page, nr_pages, level);
  if (folio_maybe_dma_pinned()) return -kEBUSY;
  ClearPageAnonExclusive(page);
  return 0;
}

// hugetlb: entire and large mapcount move together (plain atomics even with MM ids); per-page
// counts, _nr_pages_mapped, slots and statistics are never touched.
template <Semantics S, int Bits>
void PackedFolio<S, Bits>::hugetlb_add_new_anon_rmap() {
  if (!folio_test_hugetlb()) warn("WARN: hugetlb_add_new_anon_rmap on a folio that is not hugetlb");
  if constexpr (!kTotalMapped) field_set(Field::entire, 0);
  field_set(Field::large, 0);
  anon_ = true;
  SetPageAnonExclusive(0);
}

template <Semantics S, int Bits>
void PackedFolio<S, Bits>::hugetlb_add_anon_rmap(bool exclusive) {
  if (!folio_test_hugetlb()) warn("WARN: hugetlb_add_anon_rmap on a folio that is not hugetlb");
  if (!folio_test_anon()) warn("WARN: hugetlb_add_anon_rmap on a folio that is not anon");
  if constexpr (!kTotalMapped) field_add_return(Field::entire, 1);
  field_add_return(Field::large, 1);
  if (exclusive) SetPageAnonExclusive(0);
  // The RFC has no entire mapcount; the large mapcount is the hugetlb mapping count there.
  const int64_t hugetlb_mappings = kTotalMapped ? folio_large_mapcount() : folio_entire_mapcount();
  if (hugetlb_mappings > 1 && PageAnonExclusive(0))
    warn("AE: hugetlb PageAnonExclusive with entire_mapcount > 1");
}

template <Semantics S, int Bits>
int PackedFolio<S, Bits>::hugetlb_try_dup_anon_rmap(uint32_t src_mm) {
  if (!folio_test_hugetlb()) warn("WARN: hugetlb_try_dup_anon_rmap on a folio that is not hugetlb");
  if (!folio_test_anon()) warn("WARN: hugetlb_try_dup_anon_rmap on a folio that is not anon");
  if (PageAnonExclusive(0)) {
    if (folio_needs_cow_for_dma(src_mm)) return -kEBUSY;
    ClearPageAnonExclusive(0);
  }
  if constexpr (!kTotalMapped) field_add_return(Field::entire, 1);
  field_add_return(Field::large, 1);
  return 0;
}

template <Semantics S, int Bits>
int PackedFolio<S, Bits>::hugetlb_try_share_anon_rmap() {
  if (!folio_test_hugetlb())
    warn("WARN: hugetlb_try_share_anon_rmap on a folio that is not hugetlb");
  if (!folio_test_anon()) warn("WARN: hugetlb_try_share_anon_rmap on a folio that is not anon");
  if (!PageAnonExclusive(0))
    warn("WARN: hugetlb_try_share_anon_rmap on a page that is not PageAnonExclusive");
  if (folio_maybe_dma_pinned()) return -kEBUSY;
  ClearPageAnonExclusive(0);
  return 0;
}

template <Semantics S, int Bits>
void PackedFolio<S, Bits>::hugetlb_add_file_rmap() {
  if (!folio_test_hugetlb()) warn("WARN: hugetlb_add_file_rmap on a folio that is not hugetlb");
  if (folio_test_anon()) warn("WARN: hugetlb_add_file_rmap on an anon folio");
  if constexpr (!kTotalMapped) field_add_return(Field::entire, 1);
  field_add_return(Field::large, 1);
}

template <Semantics S, int Bits>
void PackedFolio<S, Bits>::hugetlb_remove_rmap() {
  if (!folio_test_hugetlb()) warn("WARN: hugetlb_remove_rmap on a folio that is not hugetlb");
  if constexpr (!kTotalMapped) field_add_return(Field::entire, -1);
  field_add_return(Field::large, -1);
}

// mm/gup.c try_grab_folio(FOLL_PIN) / gup_put_folio, plus MMF_HAS_PINNED on the pinning mm.
template <Semantics S, int Bits>
void PackedFolio<S, Bits>::gup_pin(uint32_t mm) {
  if (std::find(mmf_has_pinned_.begin(), mmf_has_pinned_.end(), mm) == mmf_has_pinned_.end())
    mmf_has_pinned_.push_back(mm);
  if (folio_has_pincount()) {
    _pincount = wrap_add(_pincount, 1);
    folio_ref_add(1);
  } else {
    folio_ref_add(GUP_PIN_COUNTING_BIAS);
  }
}

template <Semantics S, int Bits>
void PackedFolio<S, Bits>::gup_unpin() {
  if (folio_has_pincount()) {
    _pincount = wrap_add(_pincount, -1);
    folio_ref_add(-1);
  } else {
    folio_ref_add(-GUP_PIN_COUNTING_BIAS);
  }
}

// ---------------------------------------------------------------------------------------------
// Operations.

template <Semantics S, int Bits>
void PackedFolio<S, Bits>::apply(const Op& op) {
  switch (op.kind) {
    case OpKind::read_mapcount:
      result_ = folio_mapcount();
      return;
    case OpKind::read_mapped:
      result_ = folio_mapped();
      return;
    case OpKind::read_maybe_mapped_shared:
      result_ = folio_maybe_mapped_shared();
      return;
    case OpKind::wp_can_reuse_large_anon:
      result_ = __wp_can_reuse_large_anon_folio(op.mm);
      return;
    default:
      break;
  }
  ret_ = 0;
  outside_noted_ = false;
  // The kernel's nr_pages is an int.
  const int nr = static_cast<int32_t>(op.nr);
  const int64_t page = op.page;
  switch (op.kind) {
    case OpKind::add_new_anon: {
      // A large folio's allocation reference becomes its first mapping's, as in the fault paths
      // (once: after its last unmap the kernel would have freed it), unless the refcount counts
      // pins (small, next 32-bit order 1), where the model's refcount keeps it.
      const bool hand_over = folio_has_pincount() && !alloc_ref_mapped_;
      alloc_ref_mapped_ |= hand_over;
      folio_ref_add(folio_add_new_anon_rmap(op.mm, op.exclusive) - (hand_over ? 1 : 0));
      break;
    }
    case OpKind::add_anon_ptes:
      __folio_add_anon_rmap(page, nr, op.mm, op.exclusive, kPte);
      folio_ref_add(nr);
      break;
    case OpKind::add_anon_pmd:
      __folio_add_anon_rmap(0, hpage_pmd_nr_, op.mm, op.exclusive, kPmd);
      folio_ref_add(1);
      break;
    case OpKind::add_file_ptes:
      __folio_add_file_rmap(page, nr, op.mm, kPte);
      folio_ref_add(nr);
      break;
    case OpKind::add_file_pmd:
      __folio_add_file_rmap(0, hpage_pmd_nr_, op.mm, kPmd);
      folio_ref_add(1);
      break;
    case OpKind::add_file_pud:
      __folio_add_file_rmap(0, hpage_pud_nr_, op.mm, kPud);
      folio_ref_add(1);
      break;
    case OpKind::remove_ptes:
      __folio_remove_rmap(page, nr, op.mm, kPte);
      folio_ref_add(-int64_t{nr});
      break;
    case OpKind::remove_pmd:
      __folio_remove_rmap(0, hpage_pmd_nr_, op.mm, kPmd);
      folio_ref_add(-1);
      break;
    case OpKind::remove_pud:
      __folio_remove_rmap(0, hpage_pud_nr_, op.mm, kPud);
      folio_ref_add(-1);
      break;
    case OpKind::dup_file_ptes:
      __folio_dup_file_rmap(page, nr, op.mm, kPte);
      folio_ref_add(nr);
      break;
    case OpKind::dup_file_pmd:
      // As the kernel writes it: a PTE-level dup of HPAGE_PMD_NR pages, no entire mapping.
      __folio_dup_file_rmap(0, hpage_pmd_nr_, op.mm, kPte);
      folio_ref_add(1);
      break;
    case OpKind::try_dup_anon_ptes:
      ret_ = __folio_try_dup_anon_rmap(page, nr, op.mm, op.src, kPte);
      if (!ret_) folio_ref_add(nr);
      break;
    case OpKind::try_dup_anon_pmd:
      ret_ = __folio_try_dup_anon_rmap(0, hpage_pmd_nr_, op.mm, op.src, kPmd);
      if (!ret_) folio_ref_add(1);
      break;
    case OpKind::try_share_anon_pte:
      ret_ = __folio_try_share_anon_rmap(page, 1, kPte);
      break;
    case OpKind::try_share_anon_pmd:
      ret_ = __folio_try_share_anon_rmap(0, hpage_pmd_nr_, kPmd);
      break;
    case OpKind::hugetlb_add_new_anon:
      hugetlb_add_new_anon_rmap();
      folio_ref_add(1);
      break;
    case OpKind::hugetlb_add_anon:
      hugetlb_add_anon_rmap(op.exclusive);
      folio_ref_add(1);
      break;
    case OpKind::hugetlb_add_file:
      hugetlb_add_file_rmap();
      folio_ref_add(1);
      break;
    case OpKind::hugetlb_remove:
      hugetlb_remove_rmap();
      folio_ref_add(-1);
      break;
    case OpKind::hugetlb_try_dup_anon:
      // copy_hugetlb_page_range() passes the source vma.
      ret_ = hugetlb_try_dup_anon_rmap(op.src);
      if (!ret_) folio_ref_add(1);
      break;
    case OpKind::hugetlb_try_share_anon:
      ret_ = hugetlb_try_share_anon_rmap();
      break;
    case OpKind::gup_pin:
      gup_pin(op.mm);
      break;
    case OpKind::gup_unpin:
      gup_unpin();
      break;
    case OpKind::read_mapcount:
    case OpKind::read_mapped:
    case OpKind::read_maybe_mapped_shared:
    case OpKind::wp_can_reuse_large_anon:
      break;
  }
}

template <Semantics S, int Bits>
bool PackedFolio<S, Bits>::__wp_can_reuse_large_anon_folio(uint32_t mm) {
  if constexpr (!kMmId) {
    (void)mm;
    return false;  // the kernel has no such path without CONFIG_TRANSPARENT_HUGEPAGE
  } else {
    const int64_t mapcount = folio_large_mapcount();
    // One mapping: the fault path frees the folio up instead.
    if (mapcount <= 1 || folio_test_shared_bit()) return false;
    // Every reference must be a mapping's: a pin or a reference no page table holds means
    // someone else may still see the data.
    if (mapcount != _refcount) return false;
    if (mapcount > int64_t{nr_pages_}) warn("VM_WARN: large_mapcount > nr_pages");
    if (folio_entire_mapcount()) warn("VM_WARN: entire_mapcount of an exclusive folio");
    if (folio_mm_id(0) != mm && folio_mm_id(1) != mm)
      warn("VM_WARN: the faulting mm owns no slot of an exclusive folio");
    return true;
  }
}

// ---------------------------------------------------------------------------------------------
// Readers.

template <Semantics S, int Bits>
int64_t PackedFolio<S, Bits>::folio_entire_mapcount() const {
  if (!folio_test_large()) return 0;
  if constexpr (kTotalMapped) return 0;  // the RFC removed _entire_mapcount
  // next, 32-bit: an order-1 folio has no page 2, hence no entire mapcount.
  if (!has_entire_storage()) return 0;
  if (mutant_active(Mutant::entire_mapcount_without_bias)) return _entire_mapcount;
  return int64_t{_entire_mapcount} + 1;
}

template <Semantics S, int Bits>
int64_t PackedFolio<S, Bits>::folio_large_mapcount() const {
  return int64_t{field_read(Field::large)} + 1;
}

// A typed small page (slab, page table, ...) reports 0; an underflowed count (raw -2) reads -1.
template <Semantics S, int Bits>
int64_t PackedFolio<S, Bits>::folio_mapcount() const {
  if (!folio_test_large()) {
    if (page_type_has_type(_mapcount[0])) return 0;
    return int64_t{_mapcount[0]} + 1;
  }
  return folio_large_mapcount();
}

template <Semantics S, int Bits>
int64_t PackedFolio<S, Bits>::folio_nr_pages_mapped() const {
  if constexpr (!kPageMapcount) return -1;
  return field_read(Field::nr_pages_mapped) & FOLIO_PAGES_MAPPED;
}

// A hugetlb head's word is its page type, so the result is the entire mapcount.
template <Semantics S, int Bits>
int64_t PackedFolio<S, Bits>::folio_precise_page_mapcount(uint32_t idx) const {
  const int32_t raw = _mapcount[idx];
  int64_t mapcount = page_type_has_type(raw) ? 0 : int64_t{raw} + 1;
  if (folio_test_large()) mapcount += folio_entire_mapcount();
  return mapcount;
}

template <Semantics S, int Bits>
int64_t PackedFolio<S, Bits>::folio_average_page_mapcount() const {
  if (!folio_test_large()) return int64_t{_mapcount[0]} + 1;
  int64_t mapcount = folio_large_mapcount();
  if (mapcount <= 0) return 0;
  if constexpr (kTotalMapped) {
    // The RFC: round(total / N) computed unsigned, at least 1 while mapped.
    const uint64_t half = mutant_active(Mutant::average_without_rounding) ? 0 : nr_pages_ / 2;
    const auto avg = static_cast<int64_t>(
        (static_cast<uint64_t>(static_cast<std::make_unsigned_t<long_t>>(_total_mapped_pages)) +
         half) >>
        order_);
    if (mutant_active(Mutant::average_without_minimum)) return avg;
    return std::max<int64_t>(avg, 1);
  }
  const int64_t entire_mapcount = folio_entire_mapcount();
  if (mapcount <= entire_mapcount) return entire_mapcount;
  mapcount -= entire_mapcount;
  // Round to the closest integer, but report at least 1 for a mapped folio.
  const uint32_t half = mutant_active(Mutant::average_without_rounding) ? 0 : nr_pages_ / 2;
  const auto avg = static_cast<int64_t>((static_cast<uint32_t>(mapcount) + half) >> order_);
  if (mutant_active(Mutant::average_without_minimum)) return avg + entire_mapcount;
  return std::max<int64_t>(avg + entire_mapcount, 1);
}

template <Semantics S, int Bits>
bool PackedFolio<S, Bits>::folio_maybe_mapped_shared() const {
  const int64_t mapcount = folio_mapcount();
  if (!folio_test_large() || folio_test_hugetlb()) return mapcount > 1;
  // vm_insert_page() without MM ids: assume shared.
  if constexpr (!kMmId) return true;
  // A single mapping is exclusive whatever the bit says.
  if (mapcount <= 1) return false;
  return folio_test_shared_bit();
}

template <Semantics S, int Bits>
bool PackedFolio<S, Bits>::folio_likely_mapped_shared() const {
  const int64_t mapcount = folio_mapcount();
  if (!folio_test_large() || folio_test_hugetlb()) return mapcount > 1;
  if (mapcount <= 1) return false;
  if (folio_entire_mapcount() || mapcount > int64_t{nr_pages_}) return true;
  // A guess from the first page.
  return _mapcount[0] > 0;
}

template <Semantics S, int Bits>
bool PackedFolio<S, Bits>::folio_maybe_dma_pinned() const {
  if (folio_has_pincount()) return _pincount > 0;
  // Unsigned, so that a refcount that overflowed into the sign bit still counts as pinned.
  return static_cast<uint32_t>(_refcount) >= static_cast<uint32_t>(GUP_PIN_COUNTING_BIAS);
}

template <Semantics S, int Bits>
bool PackedFolio<S, Bits>::folio_needs_cow_for_dma(uint32_t mm) const {
  if (std::find(mmf_has_pinned_.begin(), mmf_has_pinned_.end(), mm) == mmf_has_pinned_.end())
    return false;
  return folio_maybe_dma_pinned();
}

template <Semantics S, int Bits>
bool PackedFolio<S, Bits>::models(Obs obs) const {
  const bool large = folio_test_large();
  const bool ordinary_large = large && !hugetlb_;
  switch (obs) {
    case Obs::entire_mapcount:
    case Obs::nr_pages_mapped:
      return !kTotalMapped;
    case Obs::total_mapped_pages:
      return kTotalMapped && large;
    case Obs::entirely_mapped:
      return !kTotalMapped && !(!kPageMapcount && ordinary_large);
    case Obs::average_page_mapcount:
    case Obs::maybe_mapped_shared:
      return kNext;
    case Obs::likely_mapped_shared:
      return !kNext;
    case Obs::shared_bit:
    case Obs::mm_id:
    case Obs::mm_id_mapcount:
      return kMmId && ordinary_large;
    case Obs::pincount:
      return folio_has_pincount();
    case Obs::page_mapcount:
      return kPageMapcount;
    case Obs::mm_mapcount:
      return false;
    default:
      return true;
  }
}

template <Semantics S, int Bits>
int64_t PackedFolio<S, Bits>::read_one(Obs obs, uint32_t index) const {
  const bool large = folio_test_large();
  const uint32_t slot = index & 1;
  switch (obs) {
    case Obs::folio_mapcount:
      return folio_mapcount();
    case Obs::mapped:
      return folio_mapped();
    case Obs::entire_mapcount:
      return folio_entire_mapcount();
    case Obs::nr_pages_mapped:
      // Hugetlb leaves _nr_pages_mapped at 0, yet NO_PAGE_MAPCOUNT still answers -1 for it.
      if (!large) return 0;
      return folio_nr_pages_mapped();
    case Obs::entirely_mapped:
      if (!large || hugetlb_) return 0;
      return (field_read(Field::nr_pages_mapped) & ENTIRELY_MAPPED) != 0;
    case Obs::total_mapped_pages:
      return _total_mapped_pages;
    case Obs::average_page_mapcount:
      return folio_average_page_mapcount();
    case Obs::maybe_mapped_shared:
      return folio_maybe_mapped_shared();
    case Obs::likely_mapped_shared:
      return folio_likely_mapped_shared();
    case Obs::shared_bit:
      return folio_test_shared_bit();
    case Obs::pincount:
      return _pincount;
    case Obs::maybe_dma_pinned:
      return folio_maybe_dma_pinned();
    case Obs::partially_mapped:
      return partially_mapped_;
    case Obs::ret:
      return ret_;
    case Obs::result:
      return result_;
    case Obs::warnings:
      return warnings_;
    case Obs::nr_anon_mapped:
      return stat_[NR_ANON_MAPPED];
    case Obs::nr_file_mapped:
      return stat_[NR_FILE_MAPPED];
    case Obs::nr_anon_thps:
      return stat_[NR_ANON_THPS];
    case Obs::nr_shmem_pmdmapped:
      return stat_[NR_SHMEM_PMDMAPPED];
    case Obs::nr_file_pmdmapped:
      return stat_[NR_FILE_PMDMAPPED];
    case Obs::page_mapcount:
      return index < nr_pages_ ? folio_precise_page_mapcount(index) : 0;
    case Obs::anon_exclusive:
      // The kernel's reader answers for the head page on hugetlb (include/linux/page-flags.h).
      return PageAnonExclusive(folio_test_hugetlb() ? 0 : index);
    case Obs::mm_mapcount:
      return 0;
    case Obs::mm_id:
      return folio_mm_id(static_cast<int>(slot));
    case Obs::mm_id_mapcount:
      return int64_t{_mm_id_mapcount[slot]} + 1;
  }
  return 0;
}

template <Semantics S, int Bits>
int64_t PackedFolio<S, Bits>::read(Obs obs, uint32_t index) const {
  return read_one(obs, index);
}

template <Semantics S, int Bits>
void PackedFolio<S, Bits>::read_scalars(uint64_t which, std::span<int64_t, kNumObs> out) const {
  read_scalars_via([this](Obs o, uint32_t i) { return read_one(o, i); }, which, out);
}

template <Semantics S, int Bits>
void PackedFolio<S, Bits>::read_pages(Obs obs, uint32_t first, std::span<int64_t> out) const {
  read_pages_via([this](Obs o, uint32_t i) { return read_one(o, i); }, obs, first, out);
}

// ---------------------------------------------------------------------------------------------
// Self-checks.

template <Semantics S, int Bits>
Violation PackedFolio<S, Bits>::violation(ViolationKind kind, std::string field, int64_t expected,
                                          int64_t actual, std::string detail) const {
  Violation v;
  v.kind = kind;
  v.impl = std::string(name());
  v.field = std::move(field);
  v.expected = expected;
  v.actual = actual;
  v.detail = std::move(detail);
  return v;
}

template <Semantics S, int Bits>
struct PackedFolio<S, Bits>::Words {
  const PackedFolio& f;
  bool large() const { return f.folio_test_large(); }
  bool hugetlb() const { return f.hugetlb_; }
  bool mm_id() const { return kMmId; }
  bool page_mapcount() const { return kPageMapcount; }
  bool v6_12_layout() const { return !kNext; }
  int bits() const { return Bits; }
  bool has_entire_storage() const { return f.has_entire_storage(); }
  bool has_pincount() const { return f.folio_has_pincount(); }
  uint32_t nr_pages() const { return f.nr_pages_; }
  int64_t raw_large_mapcount() const { return f._large_mapcount; }
  int64_t raw_entire_mapcount() const { return f._entire_mapcount; }
  int64_t raw_nr_pages_mapped() const { return f._nr_pages_mapped; }
  int64_t pincount() const { return f._pincount; }
  int64_t entirely_mapped() const { return ENTIRELY_MAPPED; }
  bool mm_ids_locked() const {
    return f._mm_ids & (mm_ids_t{1} << MmIdLayout<Bits>::FOLIO_MM_IDS_LOCK_BITNUM);
  }
  bool shared_bit() const { return f.folio_test_shared_bit(); }
  bool slots_pristine() const {
    return f._mm_ids == 0 && f._mm_id_mapcount[0] == -1 && f._mm_id_mapcount[1] == -1;
  }
  uint32_t slot_mm_id(int slot) const { return f.folio_mm_id(slot); }
  int64_t raw_slot_mapcount(int slot) const { return f._mm_id_mapcount[static_cast<size_t>(slot)]; }
  int64_t raw_page_mapcount(uint32_t page) const { return f._mapcount[page]; }
  bool head_keeps_hugetlb_type() const { return f._mapcount[0] == kHugetlbPageType; }
  bool total_mapped() const { return kTotalMapped; }
  int64_t total_mapped_pages() const { return f._total_mapped_pages; }
};

template <Semantics S, int Bits>
std::optional<Violation> PackedFolio<S, Bits>::check_invariants(PageRange scope, bool full) const {
  if (auto bad = check_folio_words(Words{*this}, scope, full))
    return violation(ViolationKind::invariant, std::move(bad->field), bad->expected, bad->actual,
                     std::move(bad->detail));
  if (!full) return std::nullopt;
  // The cached PageAnonExclusive tallies are foliocheck's, not the kernel's: a drift is ours.
  uint32_t ae = 0, ae_remapped = 0;
  for (uint32_t p = 0; p < nr_pages_; p++) {
    if (!PageAnonExclusive(p)) continue;
    ae++;
    ae_remapped += _mapcount[p] > 0;
  }
  if (ae != nr_anon_exclusive_ || ae_remapped != nr_anon_exclusive_remapped_)
    return violation(ViolationKind::harness, "anon_exclusive_tally", ae, nr_anon_exclusive_,
                     "the cached PageAnonExclusive tallies drifted from a recount");
  return std::nullopt;
}

template <Semantics S, int Bits>
size_t PackedFolio<S, Bits>::state_words(std::span<uint64_t> out, const MmCanon& canon) const {
  auto u32 = [](auto v) { return static_cast<uint64_t>(static_cast<uint32_t>(v)); };
  // v fits int32_t when v + 2^31 fits uint32_t: one test for all of them.
  auto off32 = [](int64_t v) { return static_cast<uint64_t>(v) + (uint64_t{1} << 31); };
  const uint64_t id0 = canon(folio_mm_id(0)), id1 = canon(folio_mm_id(1));
  // Explore hashes these words for every transition, and XXH3 costs half as much up to 128 bytes
  // as past them: where the ids, the statistics and the warning count fit 32 bits (always, in a
  // search of a few operations) two go to a word, and a bit says which layout the words are in.
  static_assert(std::tuple_size_v<decltype(stat_)> == 5, "the compact layout packs five");
  uint64_t wide_bits = id0 | id1 | off32(warnings_);
  for (int64_t v : stat_) wide_bits |= off32(v);
  // MMF_HAS_PINNED is a set of ids, and every mm of the search has one name in it: its size and
  // the names of mms outside the search say all of it.
  uint32_t outside = 0;
  for (uint32_t mm : mmf_has_pinned_) outside += canon(mm) != MmCanon::kSearched;
  const uint64_t pinned_size = mmf_has_pinned_.size();
  const bool compact = wide_bits <= UINT32_MAX && pinned_size < (uint64_t{1} << 12);
  const size_t need = (nr_pages_ + 1) / 2 + anon_exclusive_.size() + (kTotalMapped ? 1 : 0) +
                      (compact ? 10 : 15) + outside;
  if (need > out.size()) return need;
  uint64_t* w = out.data();
  // Two 32-bit words to a key word: the per-page words are most of the key.
  for (uint32_t p = 0; p < nr_pages_; p += 2)
    *w++ = u32(_mapcount[p]) | (p + 1 < nr_pages_ ? u32(_mapcount[p + 1]) << 32 : 0);
  // Element by element: a word or two, which std::copy would hand to memmove.
  for (uint64_t bits : anon_exclusive_) *w++ = bits;
  *w++ = u32(nr_anon_exclusive_) | u32(nr_anon_exclusive_remapped_) << 32;
  *w++ = u32(_large_mapcount) | u32(_entire_mapcount) << 32;
  if constexpr (kTotalMapped) *w++ = static_cast<uint64_t>(_total_mapped_pages);
  *w++ = u32(_nr_pages_mapped) | u32(_pincount) << 32;
  *w++ = u32(_mm_id_mapcount[0]) | u32(_mm_id_mapcount[1]) << 32;
  // The rest of _mm_ids (lock and shared bits) as it is; its low 15 bits are id bits in both
  // layouts, free for PG_partially_mapped, the layout and the size of the pinned set (wide when it
  // does not fit).
  const mm_ids_t id_bits = static_cast<mm_ids_t>(MmIdLayout<Bits>::MM_ID_MASK) |
                           static_cast<mm_ids_t>(MmIdLayout<Bits>::MM_ID_MASK) << (Bits / 2);
  *w++ = static_cast<uint64_t>(_mm_ids & ~id_bits) | (partially_mapped_ ? 1u : 0u) |
         (compact ? 2u : 0u) | (compact ? pinned_size << 2 : 0);
  if (compact) {
    *w++ = id0 | id1 << 32;
  } else {
    *w++ = id0;
    *w++ = id1;
    *w++ = pinned_size;
  }
  // Sorted in place, by insertion: they are a handful.
  uint64_t* pinned = w;
  for (uint32_t mm : mmf_has_pinned_) {
    const uint64_t c = canon(mm);
    if (c == MmCanon::kSearched) continue;
    uint64_t* at = w++;
    for (; at > pinned && at[-1] > c; at--) at[0] = at[-1];
    *at = c;
  }
  // Only a folio without _pincount reads _refcount (folio_maybe_dma_pinned); elsewhere it is
  // bookkeeping no read, check or later operation looks at, and would only keep apart states that
  // behave alike.
  *w++ = (folio_has_pincount() ? 0 : u32(_refcount)) | u32(ret_) << 32;
  if (compact) {
    *w++ = u32(stat_[0]) | u32(stat_[1]) << 32;
    *w++ = u32(stat_[2]) | u32(stat_[3]) << 32;
    *w++ = u32(stat_[4]) | u32(warnings_) << 32;
  } else {
    for (int64_t v : stat_) *w++ = static_cast<uint64_t>(v);
    *w++ = static_cast<uint64_t>(warnings_);
  }
  assert(static_cast<size_t>(w - out.data()) == need);
  return need;
}

template <Semantics S, int Bits>
uint32_t PackedFolio<S, Bits>::mm_state_word(uint32_t mm) const {
  uint32_t w = 0;
  if constexpr (kMmId) w = (folio_mm_id(0) == mm ? 1u : 0u) | (folio_mm_id(1) == mm ? 2u : 0u);
  for (uint32_t pinned : mmf_has_pinned_)
    if (pinned == mm) w |= 4u;
  return w;
}

// mm/page_alloc.c free_tail_page_prepare() and free_page_is_bad(), in the order free_pages_prepare
// runs them (impl/folio_checks.h).
template <Semantics S, int Bits>
std::optional<Violation> PackedFolio<S, Bits>::check_free() const {
  if (auto bad = check_free_words(Words{*this}))
    return violation(ViolationKind::invariant, std::move(bad->field), bad->expected, bad->actual,
                     std::move(bad->detail));
  return std::nullopt;
}

template class PackedFolio<Semantics::v6_12, 64>;
template class PackedFolio<Semantics::v6_12, 32>;
template class PackedFolio<Semantics::mm_id, 64>;
template class PackedFolio<Semantics::mm_id, 32>;
template class PackedFolio<Semantics::no_page_mapcount, 64>;
template class PackedFolio<Semantics::no_page_mapcount, 32>;
template class PackedFolio<Semantics::no_mm_id, 64>;
template class PackedFolio<Semantics::no_mm_id, 32>;
template class PackedFolio<Semantics::proposed_total_mapped, 64>;
template class PackedFolio<Semantics::proposed_total_mapped, 32>;

}  // namespace foliocheck

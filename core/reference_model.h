// The reference model: stores the mappings themselves and derives every observable from them.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/implementation.h"
#include "core/inline_vec.h"
#include "core/refusal.h"

namespace foliocheck {

// Per-page counts, inline for folios of up to 8 pages (what explore and most fuzz inputs use), on
// the heap for larger ones: copying a model, which explore does for every transition, then
// allocates nothing and copies each inline vector as one block.
using PageCounts = InlineVec<uint32_t, 8>;

// What one mm holds of the folio: its page-table entries, never a counter encoding.
struct MmMappings {
  PageCounts pte;             // PTEs mapping each page (sized nr_pages on first PTE mapping)
  uint64_t pte_total = 0;     // sum of pte[], kept so that "does this mm map?" is O(1)
  uint32_t pmd = 0;           // PMD mappings of the whole folio
  uint32_t pud = 0;           // PUD mappings of the whole folio
  uint32_t hugetlb = 0;       // hugetlb page-table entries
  uint64_t total() const { return pte_total + pmd + pud + hugetlb; }
  uint32_t entire() const { return pmd + pud + hugetlb; }
};

// The mms that ever mapped the folio, by increasing id: inline up to four, on the heap beyond.
// Explore copies a model for every transition; a general flat map copies through its allocator,
// constructing and destroying element by element, and looks an id up by binary search. Here a copy
// of an inline table assigns its entries in place (each MmMappings' pages one block), and a lookup
// scans the few ids.
class MmTable {
 public:
  using value_type = std::pair<uint32_t, MmMappings>;
  using iterator = value_type*;
  using const_iterator = const value_type*;

  MmTable() = default;
  MmTable(const MmTable& o) { *this = o; }
  MmTable& operator=(const MmTable& o) {
    if (this == &o) return *this;
    m_size = o.m_size;
    if (!o.spilled()) {
      m_heap.clear();
      for (uint32_t i = 0; i < m_size; i++) m_inline[i] = o.m_inline[i];
    } else {
      m_heap = o.m_heap;
    }
    return *this;
  }

  size_t size() const { return m_size; }
  bool empty() const { return m_size == 0; }
  iterator begin() { return data(); }
  iterator end() { return data() + m_size; }
  const_iterator begin() const { return data(); }
  const_iterator end() const { return data() + m_size; }
  void clear() {
    m_heap.clear();
    m_size = 0;
  }
  const MmMappings* find(uint32_t id) const {
    for (const value_type& e : *this)
      if (e.first == id) return &e.second;
    return nullptr;
  }
  // The mm's entry, inserted empty in id order if it has none.
  MmMappings& operator[](uint32_t id) {
    uint32_t pos = 0;
    value_type* d = data();
    while (pos < m_size && d[pos].first < id) pos++;
    if (pos < m_size && d[pos].first == id) return d[pos].second;
    return insert(pos, id);
  }

 private:
  static constexpr uint32_t kInline = 4;
  // Out of line: an mm's first mapping is rare next to the lookups.
  [[gnu::noinline]] MmMappings& insert(uint32_t pos, uint32_t id) {
    if (m_size < kInline && !spilled()) {
      for (uint32_t i = m_size; i > pos; i--) m_inline[i] = std::move(m_inline[i - 1]);
      m_inline[pos] = value_type{id, MmMappings{}};
      m_size++;
      return m_inline[pos].second;
    }
    if (!spilled()) m_heap.assign(m_inline.begin(), m_inline.begin() + m_size);
    m_size++;
    return m_heap.insert(m_heap.begin() + pos, value_type{id, MmMappings{}})->second;
  }
  // Every entry lives on the heap once there are more than kInline (m_heap is empty otherwise).
  bool spilled() const { return !m_heap.empty(); }
  value_type* data() { return spilled() ? m_heap.data() : m_inline.data(); }
  const value_type* data() const { return spilled() ? m_heap.data() : m_inline.data(); }

  std::array<value_type, kInline> m_inline{};
  std::vector<value_type> m_heap;
  uint32_t m_size = 0;
};

// The mms with MMF_HAS_PINNED set, in no order: inline up to four.
class MmIdSet {
 public:
  bool contains(uint32_t id) const {
    for (uint32_t x : m_ids)
      if (x == id) return true;
    return false;
  }
  void insert(uint32_t id) {
    if (!contains(id)) m_ids.push_back(id);
  }
  void clear() { m_ids.clear(); }

 private:
  InlineVec<uint32_t, 4> m_ids;
};

// Facts about the past that contracts need (spec 5.2). An "epoch" starts when the folio becomes
// completely unmapped: the slot algorithm is back to its initial state then (both slots free,
// S = 0), so what happened before cannot matter.
struct History {
  bool ever_mapped = false;
  uint32_t epoch_max_mms = 0;          // most distinct mms mapping at once in this epoch
  uint64_t epoch_max_mm_mappings = 0;  // most mappings one mm held at once in this epoch
};

class ReferenceModel final : public Implementation {
 public:
  std::string_view name() const override { return "model"; }
  bool supports(const Setup& setup) const override { return !setup_error(setup); }
  void reset(const Setup& setup) override;
  // Applies an operation the precondition accepted; unchecked otherwise.
  void apply(const Op& op) override;
  // The same as `times` calls of apply(op) (each of which the precondition accepted), at the cost
  // of one where repetitions compose (a map adds `times` mappings, a pin `times` pins): the long
  // runs of the fuzz target (x=32768) would otherwise spend most of their time in the model.
  void apply_times(const Op& op, uint32_t times);
  bool models(Obs obs) const override;
  int64_t read(Obs obs, uint32_t index = 0) const override;
  // models() depends on the setup alone: the mask is worked out by reset().
  uint64_t models_mask() const override { return m_models_mask; }
  // read() of every observable asked, each inlined (check_agreement reads them all for every
  // state explore checks).
  [[gnu::flatten]] void read_scalars(uint64_t which,
                                     std::span<int64_t, kNumObs> out) const override;
  [[gnu::flatten]] void read_pages(Obs obs, uint32_t first, std::span<int64_t> out) const override;
  std::optional<Violation> check_invariants(PageRange scope, bool full) const override;
  std::optional<Violation> check_free() const override { return std::nullopt; }
  std::span<const std::string> warning_log() const override { return {}; }

  // Why a folio of this shape cannot exist in this configuration, or nullopt.
  static std::optional<std::string> setup_error(const Setup& setup);
  // Why the kernel must not be called with `op` now, in kernel terms ("R5: page+nr-1 outside the
  // folio"), or nullopt. Covers __folio_rmap_sanity_checks, the large-mapcount checks, the
  // PageAnonExclusive rules of __folio_add_anon_rmap and what each helper assumes of its caller.
  std::optional<std::string> precondition(const Op& op) const;
  // !precondition(op), without building the reason: what engines ask in their inner loops.
  bool allows(const Op& op) const;
  // allows() in two halves, for engines that ask about the same calls in many states:
  // well_formed(op) is the part that depends on the setup alone (mm ids, RMAP_EXCLUSIVE, the
  // helper fitting the folio, ranges and pages inside it), so it can be asked once per call;
  // allows_now(op), only for a well-formed call, is the rest. allows(op) is
  // well_formed(op) && allows_now(op).
  bool well_formed(const Op& op) const;
  bool allows_now(const Op& op) const;
  // allows_now(op) for a call whose pages (its range, or its page) are all in
  // pages_accepted(op, *this) (legality.h): the rest of the rule, without asking each page again.
  bool allows_now_in_accepted_pages(const Op& op) const;
  // op_fits(kind, setup()), worked out by reset().
  bool fits(OpKind kind) const { return m_fits >> static_cast<int>(kind) & 1; }

  const Setup& setup() const { return m_setup; }
  const History& history() const { return m_history; }
  // Distinct mms that currently map the folio.
  uint32_t nr_mms_mapping() const { return m_mms_mapping; }
  uint64_t total_mappings() const { return m_total; }
  uint64_t mm_mappings(uint32_t mm) const {
    const MmMappings* m = m_mms.find(mm);
    return m ? m->total() : 0;
  }
  // Mappings of one mm, or nullptr.
  const MmMappings* mm(uint32_t mm) const { return m_mms.find(mm); }
  // The mms that ever mapped the folio, by id: inline up to four of them.
  const MmTable& mms() const { return m_mms; }
  bool mm_has_pinned(uint32_t mm) const { return m_has_pinned.contains(mm); }
  uint32_t pins() const { return m_pins; }
  uint32_t entire() const { return m_entire; }
  // Pages the PTE, PMD and PUD mappings map, counted once per mapping (hugetlb mappings not
  // included): what the 2026 RFC's _total_mapped_pages counts (docs/proposed.md).
  uint64_t mapped_pages() const { return m_mapped_pages; }
  uint32_t pages_pte_mapped() const { return m_pages_mapped; }
  uint32_t page_pte(uint32_t page) const { return m_page_pte[page]; }
  bool page_anon_exclusive(uint32_t page) const { return m_ae[page] != 0; }
  uint32_t nr_anon_exclusive() const { return m_nr_ae; }
  bool partially_mapped() const { return m_partially_mapped; }
  int64_t ret() const { return m_ret; }
  // Whether maybe_mapped_shared and the mm-id slots must be exact now (spec 5.2): at most two
  // mms mapped at once in this epoch and no slot can have overflowed.
  bool slots_exact() const;
  // The per-page precise mapcount, folio_precise_page_mapcount.
  int64_t precise_page_mapcount(uint32_t page) const;
  bool has_pincount() const;
  bool maybe_dma_pinned() const;
  // The other value the last reader may return besides read(Obs::result), where the kernel's
  // comment admits it (include/linux/mm.h, folio_maybe_mapped_shared(): a false "mapped shared"
  // once more than two mms mapped in this epoch), or nullopt.
  std::optional<int64_t> result_admitted() const { return m_result_admitted; }
  // What `reader` (a kRead operation) returns in the current state, and what else it may
  // return as the kernel's comments admit; changes nothing.
  std::pair<int64_t, std::optional<int64_t>> reader_value(const Op& reader) const;

 private:
  // tests/checks_test.cpp corrupts the cached aggregates to show each drift check can fire.
  friend struct ReferenceModelTestAccess;
  // precondition() and allows(): the sentence is built only with Why. The first half depends on
  // the setup alone (well_formed()), the second on the state (allows_now()).
  template <bool Why>
  Refusal<Why> refusal(const Op& op) const;
  template <bool Why>
  Refusal<Why> misformed(const Op& op) const;
  template <bool Why, bool Pages = true>
  Refusal<Why> refused_now(const Op& op) const;
  // read()'s body, inlined into the bulk reads.
  [[gnu::always_inline]] inline int64_t read_one(Obs obs, uint32_t index) const;
  int64_t stat_mapped() const;     // this folio's NR_{ANON,FILE}_MAPPED contribution
  int64_t stat_pmdmapped() const;  // this folio's NR_ANON_THPS / NR_*_PMDMAPPED contribution
  MmMappings& mm_slot(uint32_t mm);
  // The adds return the mappings `mm` holds afterwards.
  uint64_t add_ptes(uint32_t mm, uint32_t page, uint32_t nr, uint32_t times);
  void remove_ptes(uint32_t mm, uint32_t page, uint32_t nr);
  uint64_t add_entire(uint32_t mm, uint32_t MmMappings::*level, uint32_t times);
  void remove_entire(uint32_t mm, uint32_t MmMappings::*level);
  // m_mms_mapping as an mm's mappings change from `was_mapping` to what `m` holds now.
  void count_mapping(bool was_mapping, const MmMappings& m);
  // The history after an operation (spec 5.2's epochs); `grown`: what its mm holds after an add.
  void after_change(uint64_t grown);
  void deferred_split_if(bool partially_mapped);
  // Whether an unmap leaves the folio partially mapped as this configuration detects it.
  bool partial_after_unmap(bool last_entire) const;

  Setup m_setup;
  MmTable m_mms;
  MmIdSet m_has_pinned;
  InlineVec<uint8_t, 16> m_ae;  // PageAnonExclusive per page
  uint32_t m_pins = 0;
  bool m_partially_mapped = false;  // PG_partially_mapped, sticky
  int64_t m_ret = 0;
  int64_t m_result = 0;                      // what the last reader returned
  std::optional<int64_t> m_result_admitted;  // what else it may have returned
  // The large anon folio's allocation reference went to the page tables: the fault paths
  // (do_anonymous_page, __do_huge_pmd_anonymous_page) map a fresh folio with it, so from
  // folio_add_new_anon_rmap() on every reference is a mapping's or a pin's. Only where pins go
  // to _pincount (has_pincount()): elsewhere maybe_dma_pinned() reads 1 + mappings + 1024 x pins.
  bool m_alloc_ref_mapped = false;
  History m_history;

  // Derived aggregates, cached so that an operation costs O(pages it touches); check_invariants
  // recounts them from m_mms on full sweeps (a `harness` violation if they drift).
  PageCounts m_page_pte;             // PTEs mapping each page, over all mms
  uint32_t m_pages_mapped = 0;       // pages with m_page_pte > 0
  uint32_t m_entire = 0;             // PMD + PUD + hugetlb mappings, over all mms
  uint64_t m_mapped_pages = 0;       // PTEs + HPAGE_PMD_NR per PMD + HPAGE_PUD_NR per PUD
  uint64_t m_total = 0;              // every page-table entry mapping the folio
  uint32_t m_mms_mapping = 0;        // mms with total() > 0
  uint32_t m_nr_ae = 0;              // pages with PageAnonExclusive
  uint64_t m_models_mask = 0;
  // Bit k: op_fits(OpKind k, m_setup), which depends on the setup alone; asked by every
  // precondition.
  uint64_t m_fits = 0;
  bool m_setup_derived = false;  // m_models_mask and m_fits are m_setup's
};

}  // namespace foliocheck

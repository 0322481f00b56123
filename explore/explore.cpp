// Bounded exhaustive search: every valid operation sequence up to a depth, breadth first.
#include "explore/explore.h"

#define XXH_INLINE_ALL
#include <xxhash.h>

#include <algorithm>
#include <array>
#include <bit>
#include <chrono>
#include <cstring>

#include "core/agreement.h"
#include "core/alphabet.h"
#include "core/differential.h"
#include "core/legality.h"
#include "explore/mapped_memory.h"
#include "impl/registry.h"

namespace foliocheck {
namespace {

using Clock = std::chrono::steady_clock;

// 128 bits: a collision would silently merge two states, so one 64-bit hash over hundreds of
// millions of states is not enough margin. `n` 64-bit words from `data`, which need not be aligned
// to them; `seed` keeps a row's hash apart from the hash of the other words.
inline XXH128_hash_t key_hash(const void* data, size_t n, uint64_t seed) {
  return XXH3_128bits_withSeed(data, n * sizeof(uint64_t), seed);
}

// An open-addressing set of keys: the visited set is the hottest structure of the search, and a
// node-based set spends its time in cache misses and allocation. Once it outgrows the caches every
// lookup is a miss to memory, so callers prefetch a key's slot well before inserting it. The table
// is mapped directly in huge pages once past a few pages (explore/mapped_memory.h): with 4 KiB
// pages each lookup in a table of hundreds of MB is a TLB miss too, and each first touch a page
// fault.
class KeySet {
 public:
  KeySet() {
    m_size = grown_size(0) / sizeof(StateKey);
    m_slots = static_cast<StateKey*>(map_memory(m_size * sizeof(StateKey)));
    m_limit = limit(m_size);
  }
  ~KeySet() { unmap_memory(m_slots, m_size * sizeof(StateKey)); }
  KeySet(const KeySet&) = delete;
  KeySet& operator=(const KeySet&) = delete;
  // True if `k` was not there before.
  bool insert(StateKey k) {
    if (m_count >= m_limit) grow();
    return place(m_slots, m_size, k);
  }
  void prefetch(StateKey k) const { __builtin_prefetch(&m_slots[k.b & (m_size - 1)]); }
  size_t size() const { return m_count; }

 private:
  // At most 70 % full, or 80 % once the table passes 1 GiB: linear probing's misses stay a few
  // cache lines long, and a search of hundreds of millions of states fits in memory.
  static size_t limit(size_t size) { return size / 10 * (size >= kBig ? 8 : 7); }
  bool place(StateKey* slots, size_t size, StateKey k) {
    const size_t mask = size - 1;
    for (size_t i = k.b & mask;; i = (i + 1) & mask) {
      if (slots[i].a == 0) {
        slots[i] = k;
        m_count++;
        return true;
      }
      if (slots[i] == k) return false;
    }
  }
  void grow() {
    const size_t size = grown_size(m_size * sizeof(StateKey)) / sizeof(StateKey);
    auto* bigger = static_cast<StateKey*>(map_memory(size * sizeof(StateKey)));
    m_count = 0;
    for (size_t i = 0; i < m_size; i++)
      if (m_slots[i].a != 0) place(bigger, size, m_slots[i]);
    unmap_memory(m_slots, m_size * sizeof(StateKey));
    m_slots = bigger;
    m_size = size;
    m_limit = limit(m_size);
  }
  static constexpr size_t kBig = (size_t{1} << 30) / sizeof(StateKey);
  StateKey* m_slots = nullptr;
  size_t m_size = 0;
  size_t m_count = 0;
  size_t m_limit = 0;  // grow() once m_count reaches it
};

}  // namespace

// Keeps its scratch vectors, and each mm's last row with its hash, between calls.
//
// A key is the model's own state (each mm's mappings and MMF_HAS_PINNED, pins, PageAnonExclusive,
// PG_partially_mapped, the last return value and the history facts contracts depend on) and each
// implementation's state_words(). Equal keys are then equal states, which check alike and have the
// same futures, so a transition into a known state needs no check (`complete`). An implementation
// without state_words() (a kernel tree's) is keyed by its reads instead (every observable, every
// page, both slots), as every implementation is with `by_reads`; such keys merge the same states
// for implementations whose reads determine their state, but equal reads do not prove equal
// checks, so the search then checks every transition.
//
// The mms are made nameless without renaming them: everything that names an mm goes into its row
// (what the model says it maps and pinned, and each implementation's mm_state_word(), or with
// reads its mm_mapcount and the slots it owns), every other word writes a searched mm as one name
// (MmCanon), and the key adds the rows' hashes to the hash of the other words. A sum does not
// depend on the order of its terms, so states that differ only by the names of the mms get one
// key with no sort of the rows, and two mms with equal rows cannot make it depend on the names.
struct StateKeyer::Builder {
  // What each implementation (the model first) models never changes within one setup, so it is
  // asked once.
  struct Plan {
    std::vector<Obs> scalars;
    std::vector<Obs> pages;
    bool mm_mapcount = false, mm_id = false, mm_id_mapcount = false;
    bool words = false;  // keyed by state_words() and mm_state_word()
    size_t column = 0;   // where its part of a row starts, past the model's n + 4 words
    size_t width() const { return words ? 1 : (mm_mapcount ? 1 : 0) + (mm_id ? 2 : 0); }
  };
  bool by_reads = false;
  bool complete = false;  // the last key came from state words alone
  std::vector<Plan> plans;
  // Room that only grows: a key writes its words in place, and asks again when they do not fit.
  std::vector<uint64_t> words;
  size_t used = 0;
  // Per-mm rows, `stride` 32-bit words each (even, so that a row is whole 64-bit words).
  std::vector<uint32_t> rows;
  size_t stride = 0;
  // Each mm's row in the previous key, and what it gave.
  std::vector<uint32_t> cached;
  std::vector<XXH128_hash_t> cached_hash;
  std::vector<uint8_t> cached_any;
  // Whether build() may take a fixed-size path (build_fixed) for this setup; off only to test the
  // fixed paths against this general one.
  bool fixed = true;
  using FixedBuild = StateKey (Builder::*)(const ReferenceModel&,
                                           std::span<const std::unique_ptr<Implementation>>,
                                           const std::vector<uint32_t>&, const MmCanon&, uint32_t&);
  FixedBuild fixed_build = nullptr;

  StateKey build(const ReferenceModel& model,
                 std::span<const std::unique_ptr<Implementation>> impls,
                 const std::vector<uint32_t>& ids, uint32_t& touched) {
    const uint32_t mms = static_cast<uint32_t>(ids.size());
    const Setup& s = model.setup();
    const uint32_t n = s.nr_pages();
    const MmCanon canon{ids};
    if (plans.size() != impls.size() + 1) {
      plans.clear();
      auto plan = [&](const Implementation& impl, bool can_words) {
        Plan p;
        for (int i = 0; i < kNumObs; i++) {
          const Obs obs = static_cast<Obs>(i);
          if (!obs_info(obs).indexed && impl.models(obs)) p.scalars.push_back(obs);
        }
        for (Obs obs : {Obs::page_mapcount, Obs::anon_exclusive})
          if (impl.models(obs)) p.pages.push_back(obs);
        p.mm_mapcount = impl.models(Obs::mm_mapcount);
        p.mm_id = impl.models(Obs::mm_id);
        p.mm_id_mapcount = impl.models(Obs::mm_id_mapcount);
        p.words = can_words && !by_reads && impl.state_words({}, canon) > 0;
        plans.push_back(std::move(p));
      };
      plan(model, false);
      for (const auto& impl : impls) plan(*impl, true);
      stride = n + 4;
      for (size_t k = 0; k < impls.size(); k++) {
        plans[k + 1].column = stride;
        stride += plans[k + 1].width();
      }
      stride += stride % 2;
      words.resize(64);
      fixed_build = nullptr;
      const bool all_words = std::all_of(plans.begin() + 1, plans.end(),
                                         [](const Plan& p) { return p.words; });
      if (fixed && !by_reads && all_words) fixed_build = fixed_path(n, stride);
    }
    if (rows.size() != size_t{mms} * stride) {
      rows.assign(size_t{mms} * stride, 0);
      cached.assign(size_t{mms} * stride, 0);
      cached_hash.assign(mms, {});
      cached_any.assign(mms, 0);
    }
    if (fixed_build) return (this->*fixed_build)(model, impls, ids, canon, touched);
    // Each row in full, every word written: the row of the previous key is compared with it below.
    for (uint32_t i = 0; i < mms; i++) {
      uint32_t* row = &rows[i * stride];
      row[stride - 1] = 0;  // the padding, if any: the words below write over it otherwise
      const MmMappings* mm = model.mm(ids[i]);
      if (mm && !mm->pte.empty())
        std::memcpy(row, mm->pte.data(), n * sizeof(uint32_t));
      else
        std::memset(row, 0, n * sizeof(uint32_t));
      row[n] = mm ? mm->pmd : 0;
      row[n + 1] = mm ? mm->pud : 0;
      row[n + 2] = mm ? mm->hugetlb : 0;
      row[n + 3] = model.mm_has_pinned(ids[i]);
    }
    for (size_t k = 0; k < impls.size(); k++) {
      const Plan& p = plans[k + 1];
      if (p.words) {
        for (uint32_t i = 0; i < mms; i++)
          rows[i * stride + p.column] = impls[k]->mm_state_word(ids[i]);
        continue;
      }
      uint32_t* col = &rows[p.column];
      if (p.mm_mapcount) {
        // A count never reaches INT_MAX (the overflow rule), so 32 bits keep counts apart.
        for (uint32_t i = 0; i < mms; i++)
          col[i * stride] = static_cast<uint32_t>(impls[k]->read(Obs::mm_mapcount, ids[i]));
        col++;
      }
      if (!p.mm_id) continue;
      // With reads, which mm owns a slot goes by the slot's id.
      for (uint32_t i = 0; i < mms; i++) col[i * stride] = col[i * stride + 1] = 0;
      for (uint32_t slot = 0; slot < 2; slot++) {
        const int64_t owner = impls[k]->read(Obs::mm_id, slot);
        for (uint32_t i = 0; i < mms; i++)
          if (ids[i] == owner) col[i * stride + slot] = 1;
      }
    }

    used = 0;
    auto obs_words = [&](const Implementation& impl, const Plan& p) {
      for (Obs obs : p.scalars) put(static_cast<uint64_t>(impl.read(obs)));
      for (Obs obs : p.pages)
        for (uint32_t page = 0; page < n; page++) put(static_cast<uint64_t>(impl.read(obs, page)));
      for (uint32_t slot = 0; slot < 2; slot++) {
        if (p.mm_id) put(canon(static_cast<uint64_t>(impl.read(Obs::mm_id, slot))));
        if (p.mm_id_mapcount) put(static_cast<uint64_t>(impl.read(Obs::mm_id_mapcount, slot)));
      }
    };
    complete = !by_reads;
    if (by_reads) {
      const History& h = model.history();
      put(h.ever_mapped | uint64_t{h.epoch_max_mms} << 32);
      put(h.epoch_max_mm_mappings);
      put(model.pins());
      obs_words(model, plans[0]);
    } else {
      put_model_words(model, n);
    }
    for (size_t i = 0; i < impls.size(); i++) {
      if (plans[i + 1].words) {
        put_state_words(*impls[i], canon);
        continue;
      }
      complete = false;
      obs_words(*impls[i], plans[i + 1]);
    }
    XXH128_hash_t key = key_hash(words.data(), used, 0);
    touched = 0;
    for (uint32_t i = 0; i < mms; i++) {
      const uint32_t* row = &rows[i * stride];
      const bool changed = std::memcmp(row, &cached[i * stride], stride * sizeof(uint32_t)) != 0;
      uint64_t any = 0;
      if (changed)
        for (size_t j = 0; j < stride; j += 2) {
          uint64_t two;
          std::memcpy(&two, row + j, sizeof two);
          any |= two;
        }
      add_row(i, row, stride, changed, any, key, touched);
    }
    // Never all-zero in `a`: KeySet uses that as its empty slot.
    return {key.low64 ? key.low64 : 1, key.high64};
  }

  // The same key as build() above, word for word, for a folio of N pages and rows of S words:
  // explore's small folios. With the sizes known, the rows are built, compared and copied as a few
  // 64-bit words in registers instead of through memcpy and memcmp calls and loops whose bounds
  // are read from the plan; the general path spent more instructions on that than on hashing.
  template <uint32_t N, uint32_t S>
  StateKey build_fixed(const ReferenceModel& model,
                       std::span<const std::unique_ptr<Implementation>> impls,
                       const std::vector<uint32_t>& ids, const MmCanon& canon, uint32_t& touched) {
    static_assert(N <= 64 && S % 2 == 0);
    used = 0;
    put_model_words<N>(model, N);
    for (const auto& impl : impls) put_state_words(*impl, canon);
    complete = true;
    XXH128_hash_t key = key_hash(words.data(), used, 0);
    touched = 0;
    const uint32_t mms = static_cast<uint32_t>(ids.size());
    for (uint32_t i = 0; i < mms; i++) {
      std::array<uint32_t, S> row{};
      if (const MmMappings* mm = model.mm(ids[i])) {
        if (!mm->pte.empty()) std::memcpy(row.data(), mm->pte.data(), N * sizeof(uint32_t));
        row[N] = mm->pmd;
        row[N + 1] = mm->pud;
        row[N + 2] = mm->hugetlb;
      }
      row[N + 3] = model.mm_has_pinned(ids[i]);
      for (size_t k = 0; k < S - N - 4 && k < impls.size(); k++)
        row[N + 4 + k] = impls[k]->mm_state_word(ids[i]);
      const uint32_t* last = &cached[i * S];
      uint64_t differ = 0, any = 0;
#pragma GCC unroll 8
      for (uint32_t j = 0; j < S; j += 2) {
        uint64_t now, before;
        std::memcpy(&now, &row[j], sizeof now);
        std::memcpy(&before, last + j, sizeof before);
        differ |= now ^ before;
        any |= now;
      }
      add_row(i, row.data(), S, differ != 0, any, key, touched);
    }
    return {key.low64 ? key.low64 : 1, key.high64};
  }

  // What the model holds beyond the rows (every observable of it derives from these and the
  // rows): the history facts contracts depend on, pins, PageAnonExclusive, PG_partially_mapped and
  // the last return value. Every key hashes these words, and XXH3 costs half as much up to 128
  // bytes as past them: for a folio of at most 16 pages, with counts that fit 32 bits (always, in
  // a search of a few operations), they take two words, bit 34 of the second saying so.
  template <uint32_t N = 0>
  [[gnu::always_inline]] void put_model_words(const ReferenceModel& model, uint32_t n) {
    const History& h = model.history();
    const int64_t ret = model.ret();
    const uint64_t pm = model.partially_mapped();
    if (n <= 16 && h.epoch_max_mms < 32 && h.epoch_max_mm_mappings <= UINT32_MAX &&
        ret >= INT32_MIN && ret <= INT32_MAX) {
      // N, when the caller knows it, makes the bound a constant the loop unrolls by.
      const uint32_t pages = N ? N : n;
      uint64_t ae = 0;
#pragma GCC unroll 16
      for (uint32_t i = 0; i < pages; i++) ae |= uint64_t{model.page_anon_exclusive(i)} << i;
      put(model.pins() | uint64_t{static_cast<uint32_t>(ret)} << 32);
      put(h.epoch_max_mm_mappings | uint64_t{h.ever_mapped} << 32 | pm << 33 | uint64_t{1} << 34 |
          uint64_t{h.epoch_max_mms} << 35 | ae << 40);
      return;
    }
    put(model.pins());
    put(uint64_t{h.ever_mapped} | pm << 1);
    put(h.epoch_max_mms);
    put(h.epoch_max_mm_mappings);
    put(static_cast<uint64_t>(ret));
    for (uint32_t p = 0; p < n; p += 64) {
      uint64_t bits = 0;
      for (uint32_t i = p; i < std::min(n, p + 64); i++)
        bits |= uint64_t{model.page_anon_exclusive(i)} << (i - p);
      put(bits);
    }
  }

  // The fixed-size paths there are: folios of orders 0 to 3 with the model and one or two
  // implementations keyed by words, each row n + 4 words of the model and one per implementation,
  // rounded up to whole 64-bit words.
  static FixedBuild fixed_path(uint32_t n, size_t stride) {
    auto pick = [&]<uint32_t N, uint32_t S>() -> FixedBuild {
      return n == N && stride == S ? &Builder::build_fixed<N, S> : nullptr;
    };
    for (FixedBuild f : {pick.operator()<1, 6>(), pick.operator()<1, 8>(), pick.operator()<2, 8>(),
                         pick.operator()<4, 10>(), pick.operator()<8, 14>()})
      if (f) return f;
    return nullptr;
  }

 private:
  // Mm i's row of this key: kept with its hash when `changed` from the one mm i had in the
  // previous key (`any`: whether a word of it is not zero), and its hash added to `key`. Siblings
  // share most rows (an operation changes one mm's, or two with a src), so most rows keep their
  // hash.
  [[gnu::always_inline]] void add_row(uint32_t i, const uint32_t* row, size_t stride, bool changed,
                                      uint64_t any, XXH128_hash_t& key, uint32_t& touched) {
    if (changed) {
      std::memcpy(&cached[i * stride], row, stride * sizeof(uint32_t));
      cached_any[i] = any != 0;
      if (any) cached_hash[i] = key_hash(row, stride / 2, 1);
    }
    // An mm whose row is all zero is one no operation has touched: it adds nothing, like an mm
    // outside the search.
    if (!cached_any[i]) return;
    touched |= 1u << i;
    key.low64 += cached_hash[i].low64;
    key.high64 += cached_hash[i].high64;
  }
  // The implementation's state_words(), asked again with more room when they do not fit.
  void put_state_words(const Implementation& impl, const MmCanon& canon) {
    size_t got = impl.state_words(room(), canon);
    if (got > words.size() - used) {
      words.resize(used + got);
      got = impl.state_words(room(), canon);
    }
    used += got;
  }
  void put(uint64_t w) {
    if (used == words.size()) words.resize(2 * used);
    words[used++] = w;
  }
  std::span<uint64_t> room() { return std::span(words).subspan(used); }
};

StateKeyer::StateKeyer(std::vector<uint32_t> ids, bool by_reads, bool fixed_sizes)
    : m_builder(new Builder), m_ids(std::move(ids)) {
  m_builder->by_reads = by_reads;
  m_builder->fixed = fixed_sizes;
}
StateKeyer::~StateKeyer() = default;

StateKey StateKeyer::key(const ReferenceModel& model,
                         std::span<const std::unique_ptr<Implementation>> impls) {
  return m_builder->build(model, impls, m_ids, m_touched);
}

bool StateKeyer::complete() const { return m_builder->complete; }
bool StateKeyer::fixed_size() const { return m_builder->fixed_build != nullptr; }

StateKey explore_state_key(const ReferenceModel& model,
                           std::span<const std::unique_ptr<Implementation>> impls, uint32_t mms) {
  std::vector<uint32_t> ids(mms);
  for (uint32_t i = 0; i < mms; i++) ids[i] = i + 1;
  return StateKeyer(std::move(ids)).key(model, impls);
}

std::string_view explore_outcome_name(ExploreResult::Outcome o) {
  constexpr std::string_view kNames[] = {"running", "bounded", "closed", "violation", "limit"};
  return kNames[o];
}

Trace ExploreResult::as_trace(const Setup& setup) const { return make_trace(setup, trace); }

std::vector<uint32_t> explore_mm_ids(const ExploreOptions& o) {
  if (!o.mm_ids.empty()) return o.mm_ids;
  std::vector<uint32_t> ids(o.mms);
  for (uint32_t i = 0; i < o.mms; i++) ids[i] = i + 1;
  return ids;
}

std::vector<Op> explore_alphabet(const ExploreOptions& o) {
  return op_alphabet(o.setup, explore_mm_ids(o), o.all_ranges_up_to, o.overflow);
}

struct Explorer::State {
  struct Node {
    uint32_t parent;
    uint32_t touched;  // mms (bit mm-1) whose part of the state is not that of an unused mm
    uint32_t letter;   // the operation that reached it, an index into `alphabet`
  };
  // A candidate of the parent being expanded, keyed before any is inserted into `visited`, so that
  // the slots' cache misses overlap instead of coming one after the other.
  struct Child {
    uint32_t letter;
    uint32_t touched;
    StateKey key;
  };
  ReferenceModel root;
  std::vector<uint32_t> ids;           // the mm ids taking part
  std::unique_ptr<Differential> diff;  // the model and the implementations, in lock step
  // The parent being expanded, replayed once per parent; each candidate starts from a copy of it
  // (Differential::assign_state) when every implementation can copy its state, else it is reset
  // and replayed (a kernel tree's implementation, say).
  std::unique_ptr<Differential> parent;
  // The parent of the last parent, and its node: parents that are siblings start from a copy of it.
  std::unique_ptr<Differential> above;
  uint32_t above_node = UINT32_MAX;
  // With shortcuts: one copy per child of the parent being expanded.
  std::vector<std::unique_ptr<Differential>> pool;
  bool copyable = false;
  // Every implementation keys its state by state_words() and can copy it: a transition into a known
  // state is not checked again (it checked alike when first reached), and a new one is checked
  // after its key is known.
  bool shortcuts = false;
  std::vector<Op> alphabet;
  // What a letter needs before the precondition is asked, worked out once into the masks below:
  // the indexes (into `ids`) of its mm and src, kNoMm where it takes none, and which of them its
  // Need names.
  struct Letter {
    uint8_t kind;
    uint8_t mm = kNoMm, src = kNoMm;
    uint8_t holder = kNoMm;  // the index whose mappings the Need names
  };
  static constexpr uint8_t kNoMm = 0xff;
  // The letters as bitmasks over the alphabet, built from their Letter: those of each kind that
  // can ever be valid, and for each mm (index into `ids`) those naming it as mm or src and those
  // whose Need names its mappings. A parent's candidates are a few masks combined, not a hundred
  // letters asked one by one.
  using Mask = std::vector<uint64_t>;
  std::vector<Mask> of_kind, naming, holding;
  // The page-level rules (pages_accepted) of the parent being expanded, worked out once per call
  // shape (kind, mm, src, exclusive) rather than asked of each range: most refusals in a search
  // are of ranges with a page the mm does not map, or an exclusive page already mapped. A letter's
  // `range_of` is its pages (0: no page-level rules, or a folio past 64 pages), `shape_of` its
  // shape's index.
  std::vector<Op> shapes;
  std::vector<uint64_t> accepted;
  std::vector<uint8_t> shape_of;
  std::vector<uint64_t> range_of;
  Mask open;        // of the parent being expanded: the letters naming no mm it cannot use
  Mask candidates;  // of the parent being expanded
  std::vector<uint32_t> valid;  // its valid letters, in alphabet order
  MappedArray<Node> nodes;
  MappedArray<uint32_t> frontier;
  KeySet visited;
  std::optional<StateKeyer> keys;
  std::vector<Op> path;
  std::vector<Child> children;
  Clock::time_point start;
  Clock::time_point last_progress;
  double seconds_before = 0;  // time spent in earlier expand_level calls

  void path_to(uint32_t node) {
    path.clear();
    for (uint32_t i = node; i != 0; i = nodes[i].parent) path.push_back(alphabet[nodes[i].letter]);
    std::reverse(path.begin(), path.end());
  }

  double elapsed() const {
    return std::chrono::duration<double>(Clock::now() - start).count() + seconds_before;
  }
};

Explorer::Explorer(ExploreOptions options) : m_options(std::move(options)), m_state(new State) {
  const Setup& s = m_options.setup;
  if (auto why = ReferenceModel::setup_error(s)) {
    m_error = *why;
    return;
  }
  State& st = *m_state;
  st.ids = explore_mm_ids(m_options);
  m_options.mms = static_cast<uint32_t>(st.ids.size());
  // The touched-mm bitmask has 16 bits to spare, and more mms would never finish anyway.
  if (st.ids.empty() || st.ids.size() > 16) {
    m_error = "mms must be 1..16";
    return;
  }
  for (size_t i = 0; i < st.ids.size(); i++) {
    if (st.ids[i] < 1 || st.ids[i] > mm_id_max(s.config.bits)) {
      m_error = "mm id " + std::to_string(st.ids[i]) + " outside MM_ID_MIN..MM_ID_MAX (1.." +
                std::to_string(mm_id_max(s.config.bits)) + ")";
      return;
    }
    if (std::find(st.ids.begin(), st.ids.begin() + static_cast<std::ptrdiff_t>(i), st.ids[i]) !=
        st.ids.begin() + static_cast<std::ptrdiff_t>(i)) {
      m_error = "mm id " + std::to_string(st.ids[i]) + " named twice";
      return;
    }
  }
  const ImplementationChoice choice = choose_implementations(s, m_options.impls);
  if (auto why = choice.error(s)) {
    m_error = *why;
    return;
  }
  st.diff = std::make_unique<Differential>(make_implementations(choice.names));
  st.parent = std::make_unique<Differential>(make_implementations(choice.names));
  st.parent->reset(s);
  st.above = std::make_unique<Differential>(make_implementations(choice.names));
  st.copyable = st.diff->assign_state(*st.parent);
  st.keys.emplace(st.ids, m_options.check_every_transition);
  for (const auto& impl : st.diff->impls()) m_result.impls.emplace_back(impl->name());
  st.alphabet = explore_alphabet(m_options);
  st.root.reset(s);
  const size_t words = (st.alphabet.size() + 63) / 64;
  st.of_kind.assign(kNumOpKinds, State::Mask(words));
  st.naming.assign(st.ids.size(), State::Mask(words));
  st.holding.assign(st.ids.size(), State::Mask(words));
  st.candidates.assign(words, 0);
  st.open.assign(words, 0);
  st.shape_of.assign(st.alphabet.size(), 0);
  st.range_of.assign(st.alphabet.size(), 0);
  for (size_t letter = 0; letter < st.alphabet.size(); letter++) {
    const Op& op = st.alphabet[letter];
    const OpInfo& info = op_info(op.kind);
    auto index_of = [&](uint32_t id) {
      const auto i =
          static_cast<size_t>(std::find(st.ids.begin(), st.ids.end(), id) - st.ids.begin());
      return i < st.ids.size() ? static_cast<uint8_t>(i) : State::kNoMm;
    };
    State::Letter l{static_cast<uint8_t>(op.kind)};
    if (info.args & kArgMm) l.mm = index_of(op.mm);
    if (info.args & kArgSrc) l.src = index_of(op.src);
    if (need_is_mm(info.needs))
      l.holder = l.mm;
    else if (need_is_src(info.needs))
      l.holder = l.src;
    // An mm outside the search is never usable, and a call the precondition refuses in every
    // state (its setup-only half) is refused in each: such a letter is never valid.
    if (((info.args & kArgMm) && l.mm == State::kNoMm) ||
        ((info.args & kArgSrc) && l.src == State::kNoMm) || !st.root.well_formed(op))
      continue;
    if (has_page_rules(op.kind) && s.nr_pages() <= 64) {
      Op shape = op;
      shape.page = 0;
      shape.nr = 1;
      const auto at = std::find(st.shapes.begin(), st.shapes.end(), shape);
      // A mask per shape, at most 64 of them: the rest go to the precondition alone.
      if (at != st.shapes.end() || st.shapes.size() < 64) {
        st.shape_of[letter] = static_cast<uint8_t>(at - st.shapes.begin());
        if (at == st.shapes.end()) st.shapes.push_back(shape);
        st.range_of[letter] = range_pages(op);
      }
    }
    const size_t w = letter / 64;
    const uint64_t bit = uint64_t{1} << (letter % 64);
    st.of_kind[l.kind][w] |= bit;
    if (l.mm != State::kNoMm) st.naming[l.mm][w] |= bit;
    if (l.src != State::kNoMm) st.naming[l.src][w] |= bit;
    if (l.holder != State::kNoMm) st.holding[l.holder][w] |= bit;
  }
  st.accepted.assign(st.shapes.size(), 0);
  st.diff->reset(s);
  st.start = st.last_progress = Clock::now();
  // The initial state is a state too: a wrong initial value is a violation of length zero.
  if (auto v = st.diff->finish()) {
    m_result.outcome = ExploreResult::violation;
    m_result.found = std::move(v);
    m_result.seconds = st.elapsed();
    return;
  }
  st.visited.insert(st.keys->key(st.root, st.diff->impls()));
  const uint32_t touched = st.keys->touched();
  st.shortcuts = st.copyable && st.keys->complete() && !m_options.state_map;
  st.nodes.push_back({0, touched, 0});
  st.frontier.push_back(0);
  if (m_options.state_map) {
    m_result.map.emplace();
    m_result.map->note_state(state_class_index(classify_state(st.diff->model(), st.diff->impls())),
                             0);
  }
  m_result.states = 1;
  m_result.level_states = {1};
  m_result.outcome = m_options.depth == 0 ? ExploreResult::bounded : ExploreResult::running;
  st.seconds_before = m_result.seconds = st.elapsed();
}

Explorer::~Explorer() = default;

bool Explorer::expand_level(const std::function<void(const ExploreProgress&)>& progress) {
  if (m_error || m_result.outcome != ExploreResult::running) return false;
  State& st = *m_state;
  st.start = st.last_progress = Clock::now();
  const Setup& s = m_options.setup;
  const uint32_t mms = m_options.mms;
  const uint32_t level = m_result.depth + 1;
  MappedArray<uint32_t> next;
  ExploreProgress prog;
  prog.depth = level;
  prog.level_size = st.frontier.size();

  auto finish = [&](ExploreResult::Outcome outcome) {
    m_result.outcome = outcome;
    st.seconds_before = m_result.seconds = st.elapsed();
    return false;
  };
  Differential& diff = *st.diff;
  Differential& parent_diff = *st.parent;
  const size_t states_before = m_result.states;
  // The states of the last level are counted but never expanded, so they get no node: they are
  // most of a search's states (157.5 M of the 196.8 M of depth 8 with 3 mms), and their nodes and
  // frontier would be a third of its memory. A violation's path is st.path and its letter.
  const bool last = level >= m_options.depth;
  // Everything that follows a transition once it is applied and (maybe) checked: a new state joins
  // the next level; a violation ends the search with the path to it; and every 256 transitions the
  // limits and the progress report. False when the search must stop.
  auto after = [&](uint32_t node, uint32_t letter, size_t fi, std::optional<Violation>& found,
                   bool is_new, uint32_t child_touched) {
    if (!found && is_new) {
      if (!last) {
        st.nodes.push_back({node, child_touched, letter});
        next.push_back(static_cast<uint32_t>(st.nodes.size() - 1));
      }
      m_result.states++;
    }
    if (found) {
      m_result.found = std::move(found);
      m_result.trace = st.path;
      m_result.trace.push_back(st.alphabet[letter]);
      return finish(ExploreResult::violation);
    }
    if ((m_result.transitions & 255) == 0) {
      const double t = st.elapsed();
      if ((m_options.max_seconds > 0 && t >= m_options.max_seconds) ||
          (m_options.max_states > 0 && m_result.states >= m_options.max_states))
        return finish(ExploreResult::limit);
      if (progress &&
          std::chrono::duration<double>(Clock::now() - st.last_progress).count() >= 0.25) {
        st.last_progress = Clock::now();
        prog.states = m_result.states;
        prog.transitions = m_result.transitions;
        prog.level_done = fi;
        prog.seconds = t;
        progress(prog);
      }
    }
    return true;
  };
  // The child of the parent by `cand`, from a copy of the parent or replayed from the root.
  auto branch_into = [&](Differential& d) {
    if (!st.copyable || !d.assign_state(parent_diff)) {
      d.reset(s);
      for (const Op& op : st.path) {
        d.advance(op);
        m_result.applied += op.repeat;
      }
    }
  };
  auto branch = [&] { branch_into(diff); };
  // A new state gets the full sweep. Differential::step compares the pages the operation touched
  // first, a subset of the sweep that passes whenever the sweep passes; when the sweep fails, that
  // comparison runs too, so that the violation reported is the one step() would have reported.
  auto check_new = [&](Differential& d, const Op& cand) -> std::optional<Violation> {
    std::optional<Violation> full = d.finish();
    if (!full) return full;
    const PageRange scope = touched_pages(cand, s);
    for (const auto& impl : d.impls())
      if (auto v = check_agreement(d.model(), *impl, scope, false)) return v;
    return full;
  };
  // Keys the state `d` is in into the visited set: true if it is new. `touched`: its mms' part.
  auto insert_key = [&](const Differential& d, uint32_t& touched) {
    const bool is_new = st.visited.insert(st.keys->key(d.model(), d.impls()));
    touched = st.keys->touched();
    return is_new;
  };
  for (size_t fi = 0; fi < st.frontier.size(); fi++) {
    const uint32_t node = st.frontier[fi];
    st.path_to(node);
    const uint32_t touched = st.nodes[node].touched;
    // The one unused mm worth trying: the others give states that differ only by mm names.
    uint32_t fresh = mms;
    for (uint32_t i = 0; i < mms && fresh == mms; i++)
      if (!(touched & (1u << i))) fresh = i;
    // Bit i: the mm ids[i] may take part in an operation from this state.
    const uint32_t usable = touched | (fresh < mms ? 1u << fresh : 0);

    if (st.copyable && !st.path.empty()) {
      // A level lists siblings one after another: their parent (this node's) is kept, so that a
      // node costs a copy and one operation rather than a reset and its whole path.
      const uint32_t up = st.nodes[node].parent;
      if (st.above_node != up) {
        st.above->reset(s);
        for (size_t i = 0; i + 1 < st.path.size(); i++) {
          st.above->advance(st.path[i]);
          m_result.applied += st.path[i].repeat;
        }
        st.above_node = up;
      }
      parent_diff.assign_state(*st.above);
      parent_diff.advance(st.path.back());
      m_result.applied += st.path.back().repeat;
    } else {
      parent_diff.reset(s);
      for (const Op& op : st.path) {
        parent_diff.advance(op);
        if (st.copyable) m_result.applied += op.repeat;
      }
    }
    const ReferenceModel& parent = parent_diff.model();
    // The letters worth asking the precondition, as a bitmask: a kind whose Need nobody meets now
    // (nothing to unmap, nothing pinned) has no valid operation; nor has an mm that is not usable,
    // nor one (or a fork parent) that holds nothing of the level its kind's Need names.
    std::fill(st.open.begin(), st.open.end(), ~uint64_t{0});
    for (uint32_t i = 0; i < mms; i++)
      if (!(usable & (1u << i)))
        for (size_t w = 0; w < st.open.size(); w++) st.open[w] &= ~st.naming[i][w];
    std::array<const MmMappings*, 16> held{};
    for (uint32_t i = 0; i < mms; i++) held[i] = parent.mm(st.ids[i]);
    std::fill(st.candidates.begin(), st.candidates.end(), 0);
    for (int k = 0; k < kNumOpKinds; k++) {
      const OpKind kind = static_cast<OpKind>(k);
      if (!op_enabled(kind, parent)) continue;
      const State::Mask& of_kind = st.of_kind[static_cast<size_t>(k)];
      const Need need = op_info(kind).needs;
      for (size_t w = 0; w < of_kind.size(); w++) {
        uint64_t bits = of_kind[w] & st.open[w];
        if (!bits) continue;
        for (uint32_t i = 0; i < mms; i++)
          if ((bits & st.holding[i][w]) && !(held[i] && mm_holds(*held[i], need)))
            bits &= ~st.holding[i][w];
        st.candidates[w] |= bits;
      }
    }
    st.valid.clear();
    uint64_t shapes_known = 0;  // bit i: accepted[i] is this parent's
    for (size_t w = 0; w < st.candidates.size(); w++)
      for (uint64_t bits = st.candidates[w]; bits; bits &= bits - 1) {
        const auto letter =
            static_cast<uint32_t>(w * 64 + static_cast<size_t>(std::countr_zero(bits)));
        const Op& call = st.alphabet[letter];
        if (const uint64_t range = st.range_of[letter]) {
          const uint32_t shape = st.shape_of[letter];
          if (!(shapes_known >> shape & 1)) {
            st.accepted[shape] = pages_accepted(st.shapes[shape], parent);
            shapes_known |= uint64_t{1} << shape;
          }
          if (range & ~st.accepted[shape]) continue;
          if (parent.allows_now_in_accepted_pages(call)) st.valid.push_back(letter);
          continue;
        }
        if (parent.allows_now(call)) st.valid.push_back(letter);
      }

    if (st.shortcuts) {
      st.children.clear();
      for (uint32_t letter : st.valid) {
        const Op& cand = st.alphabet[letter];
        State::Child c{letter, 0, {}};
        // The states between the repetitions of `x=K` get no key of their own: such a transition
        // is stepped and swept after every repetition below, as without shortcuts.
        if (cand.repeat == 1) {
          // Each child keeps its own copy until its key is looked up, so that a new one is checked
          // without being copied and applied a second time.
          const size_t k = st.children.size();
          while (st.pool.size() <= k)
            st.pool.push_back(std::make_unique<Differential>(make_implementations(m_result.impls)));
          Differential& d = *st.pool[k];
          branch_into(d);
          d.advance(cand);
          m_result.applied++;
          c.key = st.keys->key(d.model(), d.impls());
          c.touched = st.keys->touched();
          st.visited.prefetch(c.key);
        }
        st.children.push_back(c);
      }
      for (size_t k = 0; k < st.children.size(); k++) {
        const State::Child& c = st.children[k];
        const Op& cand = st.alphabet[c.letter];
        if (cand.repeat == 1) {
          m_result.transitions++;
          if (!st.visited.insert(c.key)) {
            // A known state: nothing to check, and no violation can end the search here.
            if ((m_result.transitions & 255) == 0) {
              std::optional<Violation> none;
              if (!after(node, c.letter, fi, none, false, c.touched)) return false;
            }
            continue;
          }
          std::optional<Violation> found = check_new(*st.pool[k], cand);
          if (!after(node, c.letter, fi, found, true, c.touched)) return false;
          continue;
        }
        std::optional<Violation> found;
        bool is_new = false;
        uint32_t child_touched = c.touched;
        branch();
        diff.sweep_every = 1;
        StepOutcome out = diff.step(cand);
        m_result.applied += out.kind == StepOutcome::ok ? cand.repeat : out.repetition + 1;
        if (out.kind == StepOutcome::invalid) continue;
        m_result.transitions++;
        found = std::move(out.found);
        if (!found && (is_new = insert_key(diff, child_touched))) found = diff.finish();
        if (!after(node, c.letter, fi, found, is_new, child_touched)) return false;
      }
      continue;
    }

    for (uint32_t letter : st.valid) {
      const Op& cand = st.alphabet[letter];
      branch();
      // Each state gets one full comparison when it is first reached (equal keys check alike);
      // the states between the repetitions of `x=K` get no key of their own, so each is swept.
      diff.sweep_every = cand.repeat > 1 ? 1 : Differential::kNeverSweep;
      StepOutcome out = diff.step(cand);
      m_result.applied += out.kind == StepOutcome::ok ? cand.repeat : out.repetition + 1;
      if (out.kind == StepOutcome::invalid) continue;
      std::optional<Violation> found = std::move(out.found);
      m_result.transitions++;
      if (m_result.map && !found)
        m_result.map->note(diff.model(), diff.impls(), cand, st.elapsed());
      uint32_t child_touched = 0;
      bool is_new = false;
      if (!found && (is_new = insert_key(diff, child_touched))) found = diff.finish();
      if (!after(node, letter, fi, found, is_new, child_touched)) return false;
    }
  }
  m_result.level_states.push_back(m_result.states - states_before);
  m_result.depth = level;
  st.frontier = std::move(next);
  if (m_result.states == states_before) return finish(ExploreResult::closed);
  if (last) return finish(ExploreResult::bounded);
  st.seconds_before = m_result.seconds = st.elapsed();
  if (progress) {
    prog.states = m_result.states;
    prog.transitions = m_result.transitions;
    prog.level_done = prog.level_size;
    prog.seconds = m_result.seconds;
    progress(prog);
  }
  return true;
}

const ExploreResult& Explorer::run(const std::function<void(const ExploreProgress&)>& progress) {
  while (expand_level(progress)) {
  }
  return m_result;
}

}  // namespace foliocheck

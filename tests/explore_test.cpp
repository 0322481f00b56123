// Claims about `explore`: it searches every valid sequence, merges renamed states, and finds
// shortest violations that replay reproduces.
#include "explore/explore.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <set>

#include "core/differential.h"
#include "explore/mapped_memory.h"
#include "impl/mutants.h"
#include "impl/registry.h"
#include "tests/test_support.h"
#include "trace/replay.h"

namespace foliocheck {
namespace {

using testing::MutantScope;

ExploreOptions options(Semantics s, int order, FolioType t, uint32_t depth, uint32_t mms = 2,
                       int bits = 64) {
  ExploreOptions o;
  o.setup.config.semantics = s;
  o.setup.config.bits = bits;
  o.setup.config.pmd_order = 2;
  o.setup.config.pud_order = 3;
  o.setup.folio.order = order;
  o.setup.folio.type = t;
  o.depth = depth;
  o.mms = mms;
  return o;
}

Op op(OpKind k, uint32_t mm, uint32_t page = 0, uint32_t nr = 1) {
  return make_op(k, mm, page, nr);
}

// Runs `ops` on a model and the named encoding and returns the state key.
StateKey key_after(const Setup& setup, const std::string& impl, const std::vector<Op>& ops,
                   uint32_t mms) {
  ReferenceModel model;
  model.reset(setup);
  std::vector<std::unique_ptr<Implementation>> impls;
  impls.push_back(make_implementation(impl));
  impls[0]->reset(setup);
  for (const Op& o : ops) {
    EXPECT_FALSE(model.precondition(o)) << print_op(o);
    model.apply(o);
    impls[0]->apply(o);
  }
  return explore_state_key(model, impls, mms);
}

// One step of a random walk: a random operation of `alphabet` the model allows, applied to `d`;
// false (and nothing applied) when it allows none.
bool random_valid_step(Differential& d, const std::vector<Op>& alphabet, std::mt19937& rng) {
  std::vector<const Op*> valid;
  for (const Op& op : alphabet)
    if (!d.model().precondition(op)) valid.push_back(&op);
  if (valid.empty()) return false;
  d.advance(*valid[rng() % valid.size()]);
  return true;
}

const MutantInfo& mutant(std::string_view name) {
  for (const MutantInfo& m : all_mutants())
    if (m.name == name) return m;
  ADD_FAILURE() << "no mutant " << name;
  return all_mutants().front();
}

TEST(Explore, StatesThatDifferOnlyByTheNamesOfTheMmsAreOneState) {
  const foliocheck::Setup s = options(Semantics::mm_id, 2, FolioType::file, 2).setup;
  const StateKey a = key_after(
      s, "mm-id-64", {op(OpKind::add_file_ptes, 1, 0), op(OpKind::add_file_ptes, 2, 1, 2)}, 2);
  const StateKey b = key_after(
      s, "mm-id-64", {op(OpKind::add_file_ptes, 2, 0), op(OpKind::add_file_ptes, 1, 1, 2)}, 2);
  EXPECT_EQ(a, b) << "mm 1 and mm 2 swapped roles; the slots hold the same mms in the same order";
}

TEST(Explore, WhichMmOwnsWhichSlotKeepsStatesApart) {
  // Same mappings per renamed mm, but the mm mapping one page took slot 1 after the other took
  // slot 0 in one state and slot 0 in the other: their futures differ (rule A3 before A4).
  const foliocheck::Setup s = options(Semantics::mm_id, 2, FolioType::file, 3).setup;
  const StateKey a = key_after(
      s, "mm-id-64", {op(OpKind::add_file_ptes, 1, 0, 2), op(OpKind::add_file_ptes, 2, 2)}, 2);
  const StateKey b = key_after(
      s, "mm-id-64", {op(OpKind::add_file_ptes, 2, 2), op(OpKind::add_file_ptes, 1, 0, 2)}, 2);
  EXPECT_NE(a, b);
}

TEST(Explore, DifferentMappingsAreDifferentStates) {
  const foliocheck::Setup s = options(Semantics::v6_12, 2, FolioType::file, 1).setup;
  EXPECT_NE(key_after(s, "v6.12-64", {op(OpKind::add_file_ptes, 1, 0)}, 2),
            key_after(s, "v6.12-64", {op(OpKind::add_file_ptes, 1, 1)}, 2));
}

TEST(Explore, SmallFoliosGetEveryRangeAndLargeOnesARepresentativeSet) {
  auto ranges = [](const std::vector<Op>& ops) {
    std::vector<std::pair<uint32_t, uint32_t>> out;
    for (const Op& o : ops)
      if (o.kind == OpKind::add_file_ptes && o.mm == 1) out.emplace_back(o.page, o.nr);
    return out;
  };
  const auto small = ranges(explore_alphabet(options(Semantics::mm_id, 2, FolioType::file, 1)));
  EXPECT_EQ(small.size(), 10u) << "4 pages: 4 + 3 + 2 + 1 ranges";
  ExploreOptions big = options(Semantics::mm_id, 9, FolioType::file, 1);
  big.setup.config.pmd_order = 9;
  big.setup.config.pud_order = 18;
  const auto large = ranges(explore_alphabet(big));
  for (auto want : {std::pair<uint32_t, uint32_t>{0, 512}, {0, 1}, {511, 1}, {256, 1}})
    EXPECT_NE(std::find(large.begin(), large.end(), want), large.end())
        << want.first << "+" << want.second;
  EXPECT_LE(large.size(), 8u);
}

TEST(Explore, OnlyTheOverflowModeRepeatsOperations) {
  ExploreOptions o = options(Semantics::mm_id, 2, FolioType::file, 1, 2, 32);
  for (const Op& x : explore_alphabet(o)) EXPECT_EQ(x.repeat, 1u) << print_op(x);
  o.overflow = true;
  bool crosses = false;
  for (const Op& x : explore_alphabet(o))
    crosses |= x.kind == OpKind::add_file_ptes && x.repeat * x.nr > 32768;
  EXPECT_TRUE(crosses) << "one statement must carry an mm past SHRT_MAX + 1 mappings";
}

TEST(Explore, TheCorrectEncodingsSurviveEverySequenceOfThreeOperations) {
  for (Semantics sem :
       {Semantics::v6_12, Semantics::mm_id, Semantics::no_page_mapcount, Semantics::no_mm_id})
    for (FolioType t : {FolioType::anon, FolioType::file}) {
      // no-mm-id kernels are THP=n: no large anon folio to explore there.
      if (sem == Semantics::no_mm_id && t == FolioType::anon) continue;
      Explorer e(options(sem, 2, t, 3));
      ASSERT_FALSE(e.error()) << *e.error();
      const ExploreResult& r = e.run();
      EXPECT_EQ(r.outcome, ExploreResult::bounded)
          << semantics_name(sem) << " " << folio_type_name(t) << ": "
          << (r.found ? r.found->describe() : "");
      EXPECT_EQ(r.depth, 3u);
      EXPECT_GT(r.states, 50u);
    }
}

TEST(Explore, TheFirstViolationFoundIsAShortestOneAndReplayReproducesIt) {
  MutantScope scope(*mutant_from_name("small-unmap-nonpositive"));
  ExploreOptions o = options(Semantics::mm_id, 0, FolioType::anon, 5);
  Explorer e(o);
  const ExploreResult& r = e.run();
  ASSERT_EQ(r.outcome, ExploreResult::violation);
  ASSERT_GE(r.trace.size(), 1u);

  ExploreOptions shorter = o;
  shorter.depth = static_cast<uint32_t>(r.trace.size() - 1);
  Explorer e2(shorter);
  EXPECT_NE(e2.run().outcome, ExploreResult::violation) << "a shorter violating sequence exists";

  ReplayOptions ro;
  ro.sweep_every = 1;
  const ReplayReport rep = replay_trace(r.as_trace(o.setup), ro);
  EXPECT_EQ(rep.result, ReplayReport::violation);
  ASSERT_TRUE(rep.found);
  EXPECT_EQ(rep.found->signature(), r.found->signature());
}

TEST(Explore, AMutantTheSetupCannotReachIsNotReported) {
  // PUD mappings need a PUD-sized folio; on a PMD-sized one the mistake is unreachable.
  MutantScope scope(*mutant_from_name("pud-counts-as-pmdmapped"));
  Explorer e(options(Semantics::mm_id, 2, FolioType::file, 3));
  EXPECT_EQ(e.run().outcome, ExploreResult::bounded);
}

TEST(Explore, MutantHuntSearchesOnlyTheEncodingsTheMutantAffects) {
  const MutantInfo& m = mutant("overflow-keeps-negative-slot");
  const auto setups = mutant_setups(m, 6);
  ASSERT_FALSE(setups.empty());
  bool overflow = false;
  for (const ExploreOptions& o : setups) {
    EXPECT_EQ(o.setup.config.bits, 32);
    EXPECT_NE(std::string(m.encodings).find(o.impls.at(0)), std::string::npos) << o.impls[0];
    overflow |= o.overflow;
  }
  EXPECT_TRUE(overflow);
}

TEST(Explore, TheHighestMmIdsReachAsManyStatesAsTheLowest) {
  // Ids are names to the slot algorithm: MM_ID_MAX and MM_ID_MAX - 1 (every id bit set) must behave
  // as 1 and 2 do, state for state.
  ExploreOptions low = options(Semantics::mm_id, 2, FolioType::file, 4);
  ExploreOptions high = low;
  high.mm_ids = {mm_id_max(64), mm_id_max(64) - 1};
  Explorer a(low), b(high);
  const ExploreResult& ra = a.run();
  const ExploreResult& rb = b.run();
  ASSERT_EQ(ra.outcome, ExploreResult::bounded);
  ASSERT_EQ(rb.outcome, ExploreResult::bounded) << (rb.found ? rb.found->describe() : "");
  EXPECT_EQ(ra.states, rb.states);
  EXPECT_EQ(ra.transitions, rb.transitions);
}

TEST(Explore, BadOptionsAreAnErrorNotACrash) {
  ExploreOptions o = options(Semantics::mm_id, 2, FolioType::anon, 2);
  o.setup.folio.order = 30;
  EXPECT_TRUE(Explorer(o).error());
  o = options(Semantics::mm_id, 2, FolioType::anon, 2);
  o.impls = {"no-such-encoding"};
  EXPECT_TRUE(Explorer(o).error());
  o.impls = {"v6.12-64"};
  EXPECT_TRUE(Explorer(o).error()) << "v6.12-64 does not support semantics=mm-id";
  o = options(Semantics::mm_id, 2, FolioType::anon, 2, 0);
  EXPECT_TRUE(Explorer(o).error());
  o = options(Semantics::mm_id, 2, FolioType::anon, 2);
  o.mm_ids = {3, 3};
  EXPECT_TRUE(Explorer(o).error()) << "an mm named twice";
  o.mm_ids = {mm_id_max(64) + 1};
  EXPECT_TRUE(Explorer(o).error()) << "an id above MM_ID_MAX";
}

TEST(Explore, StateWordsReachTheSameStatesAtEveryDepthAsReadsWithEveryTransitionChecked) {
  // Keys from Implementation::state_words() merge exactly the states that keys from every read
  // merge, and skipping the checks of transitions into known states finds the same violations.
  std::vector<ExploreOptions> setups = {
      options(Semantics::mm_id, 2, FolioType::anon, 3, 3),
      options(Semantics::mm_id, 3, FolioType::file, 2, 2),
      options(Semantics::v6_12, 0, FolioType::anon, 4, 3),
      options(Semantics::no_page_mapcount, 2, FolioType::shmem, 3, 3, 32),
      options(Semantics::no_mm_id, 2, FolioType::file, 4, 2),
      options(Semantics::proposed_total_mapped, 2, FolioType::anon, 3, 2),
  };
  ExploreOptions hugetlb = options(Semantics::mm_id, 2, FolioType::anon, 4, 2);
  hugetlb.setup.folio.hugetlb = true;
  setups.push_back(hugetlb);
  ExploreOptions overflow = options(Semantics::mm_id, 2, FolioType::file, 3, 2, 32);
  overflow.overflow = true;
  setups.push_back(overflow);
  ExploreOptions high = options(Semantics::mm_id, 2, FolioType::anon, 3, 2);
  high.mm_ids = {mm_id_max(64), mm_id_max(64) - 1};
  setups.push_back(high);
  for (const ExploreOptions& o : setups) {
    ExploreOptions reads = o;
    reads.check_every_transition = true;
    Explorer a(o), b(reads);
    ASSERT_FALSE(a.error()) << *a.error();
    const ExploreResult& ra = a.run();
    const ExploreResult& rb = b.run();
    EXPECT_EQ(ra.outcome, ExploreResult::bounded) << (ra.found ? ra.found->describe() : "");
    EXPECT_EQ(ra.level_states, rb.level_states) << print_setup(o.setup);
    EXPECT_EQ(ra.transitions, rb.transitions) << print_setup(o.setup);
    EXPECT_EQ(ra.level_states.size(), o.depth + 1u);
  }
  for (const char* name : {"slot-count-initialised-to-diff", "ebusy-first-page-only",
                           "set-mm-id-clobbers-flag-bit"}) {
    MutantScope scope(*mutant_from_name(name));
    ExploreOptions o = options(Semantics::mm_id, 2, FolioType::anon, 6, 3);
    ExploreOptions reads = o;
    reads.check_every_transition = true;
    Explorer a(o), b(reads);
    const ExploreResult& ra = a.run();
    const ExploreResult& rb = b.run();
    ASSERT_EQ(ra.outcome, ExploreResult::violation) << name;
    ASSERT_EQ(rb.outcome, ExploreResult::violation) << name;
    EXPECT_EQ(ra.trace, rb.trace) << name;
    EXPECT_EQ(ra.found->describe(), rb.found->describe()) << name;
    EXPECT_EQ(ra.states, rb.states) << name;
  }
}

TEST(Explore, TheKeyOfAStateDoesNotDependOnTheStatesKeyedBeforeIt) {
  // StateKeyer keeps each mm's last row and its hash: walks of random valid operations, each
  // state keyed by a keyer that has keyed everything before it (the other walk's states too) and
  // by a fresh one.
  std::vector<ExploreOptions> setups = {
      options(Semantics::mm_id, 2, FolioType::anon, 0, 3),
      options(Semantics::no_mm_id, 2, FolioType::file, 0, 2),
      options(Semantics::v6_12, 3, FolioType::shmem, 0, 2, 32),
  };
  ExploreOptions high = options(Semantics::mm_id, 2, FolioType::anon, 0, 2);
  high.mm_ids = {mm_id_max(64), mm_id_max(64) - 1};
  setups.push_back(high);
  std::mt19937 rng(11);
  for (const ExploreOptions& o : setups) {
    for (bool by_reads : {false, true}) {
      const std::vector<uint32_t> ids = explore_mm_ids(o);
      const std::vector<Op> alphabet = explore_alphabet(o);
      StateKeyer kept(ids, by_reads);
      const std::vector<std::string> names = choose_implementations(o.setup, {}).names;
      Differential walks[2] = {Differential(make_implementations(names)),
                               Differential(make_implementations(names))};
      for (Differential& d : walks) d.reset(o.setup);
      int keyed = 0;
      for (int step = 0; step < 400; step++) {
        Differential& d = walks[rng() % 4 == 0 ? 1 : 0];
        if (!random_valid_step(d, alphabet, rng)) {
          d.reset(o.setup);
          continue;
        }
        const StateKey k = kept.key(d.model(), d.impls());
        StateKeyer fresh(ids, by_reads);
        const StateKey want = fresh.key(d.model(), d.impls());
        ASSERT_EQ(k, want) << print_setup(o.setup) << (by_reads ? " by reads" : "") << " at step "
                           << step;
        ASSERT_EQ(kept.touched(), fresh.touched()) << print_setup(o.setup);
        keyed++;
      }
      EXPECT_GT(keyed, 300) << print_setup(o.setup);
    }
  }
}

TEST(Explore, TheFixedSizeKeyPathsGiveTheKeysOfTheGeneralOne) {
  // Folios of orders 0 to 3, with one encoding and with two (each fixed-size path), walked at
  // random; every state keyed by the fixed-size path and by the general one.
  struct Case {
    ExploreOptions o;
    int copies;
  };
  std::vector<Case> cases;
  for (uint32_t order : {0u, 1u, 2u, 3u})
    for (int copies : {1, 2})
      cases.push_back({options(order == 3 ? Semantics::v6_12 : Semantics::mm_id, order,
                               order == 1 ? FolioType::file : FolioType::anon, 0, 3),
                       copies});
  ExploreOptions high = options(Semantics::no_mm_id, 2, FolioType::anon, 0, 2, 32);
  high.mm_ids = {mm_id_max(32), mm_id_max(32) - 1};
  cases.push_back({high, 1});
  std::mt19937 rng(12);
  for (const Case& c : cases) {
    const ExploreOptions& o = c.o;
    const std::vector<uint32_t> ids = explore_mm_ids(o);
    const std::vector<Op> alphabet = explore_alphabet(o);
    std::vector<std::string> names = choose_implementations(o.setup, {}).names;
    if (c.copies == 2) names.push_back(names.front());
    StateKeyer fast(ids), general(ids, false, /*fixed_sizes=*/false);
    Differential d(make_implementations(names));
    d.reset(o.setup);
    std::set<std::pair<uint64_t, uint64_t>> seen;
    for (int step = 0; step < 300; step++) {
      if (rng() % 40 == 0 || !random_valid_step(d, alphabet, rng)) {
        d.reset(o.setup);
        continue;
      }
      const StateKey k = fast.key(d.model(), d.impls());
      ASSERT_EQ(k, general.key(d.model(), d.impls()))
          << print_setup(o.setup) << " with " << names.size() << " encodings at step " << step;
      ASSERT_EQ(fast.touched(), general.touched()) << print_setup(o.setup);
      ASSERT_TRUE(fast.complete()) << print_setup(o.setup);
      ASSERT_TRUE(fast.fixed_size()) << print_setup(o.setup);
      ASSERT_FALSE(general.fixed_size()) << print_setup(o.setup);
      seen.insert({k.a, k.b});
    }
    EXPECT_GT(seen.size(), 50u) << print_setup(o.setup);
  }
}

TEST(MappedMemory, AnArrayKeepsEveryEntryAsItGrowsPastItsFirstPagesAndPastAHugePage) {
  struct Entry {
    uint32_t a, b, c;  // 12 bytes, as explore's nodes: entries straddle the pages
  };
  MappedArray<Entry> entries;
  const uint32_t n = 3 * static_cast<uint32_t>(kHugePage / sizeof(Entry));
  for (uint32_t i = 0; i < n; i++) entries.push_back({i, ~i, i * 7});
  ASSERT_EQ(entries.size(), n);
  MappedArray<Entry> moved = std::move(entries);
  EXPECT_TRUE(entries.empty());
  for (uint32_t i = 0; i < n; i++)
    ASSERT_TRUE(moved[i].a == i && moved[i].b == ~i && moved[i].c == i * 7) << "entry " << i;
  entries = std::move(moved);
  EXPECT_EQ(entries.size(), n);
  entries.clear();
  entries.push_back({1, 2, 3});
  EXPECT_EQ(entries[0].c, 3u);
}

TEST(MappedMemory, MemoryOfAHugePageOrMoreIsZeroedAndAlignedToOne) {
  for (size_t bytes : {kFewPages, kHugePage, 3 * kHugePage}) {
    auto* p = static_cast<unsigned char*>(map_memory(bytes));
    EXPECT_TRUE(std::all_of(p, p + bytes, [](unsigned char c) { return c == 0; })) << bytes;
    if (bytes >= kHugePage) {
      EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % kHugePage, 0u) << bytes;
    }
    p[bytes - 1] = 1;  // the whole range is mapped
    unmap_memory(p, bytes);
  }
  EXPECT_EQ(grown_size(0), kFewPages);
  EXPECT_EQ(grown_size(kFewPages), kHugePage);
  EXPECT_EQ(grown_size(kHugePage), 2 * kHugePage);
}

TEST(Explore, TheStateLimitStopsTheSearch) {
  ExploreOptions o = options(Semantics::mm_id, 2, FolioType::anon, 6, 3);
  o.max_states = 500;
  Explorer e(o);
  const ExploreResult& r = e.run();
  EXPECT_EQ(r.outcome, ExploreResult::limit);
  EXPECT_LT(r.depth, 6u);
  EXPECT_GE(r.states, 500u);
}

}  // namespace
}  // namespace foliocheck

// Claims about the reference model: its preconditions speak kernel terms and its derivations
// follow the spec's declarative rules.
#include "core/reference_model.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <utility>

#include "core/alphabet.h"
#include "core/inline_vec.h"
#include "core/legality.h"
#include "tests/test_support.h"
#include "trace/trace.h"

namespace foliocheck {
namespace {

Setup setup(Semantics s, int order, FolioType t = FolioType::anon, int pmd_order = 2) {
  Setup st;
  st.config.semantics = s;
  st.config.pmd_order = pmd_order;
  st.config.pud_order = pmd_order + 2;
  st.folio.order = order;
  st.folio.type = t;
  return st;
}

using testing::op;
using testing::run;

TEST(ReferenceModel, ARangePastTheFolioIsRejectedAsR5) {
  ReferenceModel m;
  m.reset(setup(Semantics::mm_id, 2));
  auto why = m.precondition(op(OpKind::add_anon_ptes, 1, 0, 496));
  ASSERT_TRUE(why);
  EXPECT_EQ(why->rfind("R5:", 0), 0u) << *why;
}

TEST(ReferenceModel, PmdThenPteThenPmdUnmapAccountsEachPageOnce) {
  ReferenceModel m;
  m.reset(setup(Semantics::v6_12, 2));
  run(m, op(OpKind::add_anon_pmd, 1));
  EXPECT_EQ(m.read(Obs::nr_anon_mapped), 4);
  EXPECT_EQ(m.read(Obs::nr_anon_thps), 4);
  run(m, op(OpKind::add_anon_ptes, 1, 1, 2));
  EXPECT_EQ(m.read(Obs::nr_anon_mapped), 4) << "pages already accounted by the PMD";
  EXPECT_EQ(m.read(Obs::folio_mapcount), 3);
  EXPECT_EQ(m.read(Obs::page_mapcount, 1), 2);
  run(m, op(OpKind::remove_pmd, 1));
  EXPECT_EQ(m.read(Obs::nr_anon_mapped), 2);
  EXPECT_EQ(m.read(Obs::nr_anon_thps), 0);
  EXPECT_EQ(m.read(Obs::partially_mapped), 1) << "last PMD gone while 0 < PTE-mapped pages < N";
}

TEST(ReferenceModel, ABatchedUnmapOfTheWholeFolioIsNotAPartialMapping) {
  ReferenceModel m;
  m.reset(setup(Semantics::mm_id, 3, FolioType::anon, 4));
  run(m, op(OpKind::add_anon_ptes, 1, 0, 8));
  run(m, op(OpKind::remove_ptes, 1, 0, 8));
  EXPECT_EQ(m.read(Obs::partially_mapped), 0) << "the 6.10 fix";
  run(m, op(OpKind::add_anon_ptes, 1, 0, 8));
  run(m, op(OpKind::remove_ptes, 1, 0, 3));
  EXPECT_EQ(m.read(Obs::partially_mapped), 1);
}

TEST(ReferenceModel, NoPageMapcountAccountsTheWholeFolioAsSoonAsOnePageIsMapped) {
  ReferenceModel m;
  m.reset(setup(Semantics::no_page_mapcount, 3, FolioType::file, 4));
  run(m, op(OpKind::add_file_ptes, 1, 5, 1));
  EXPECT_EQ(m.read(Obs::nr_file_mapped), 8);
  EXPECT_EQ(m.read(Obs::nr_pages_mapped), -1);
  EXPECT_FALSE(m.models(Obs::page_mapcount));
}

TEST(ReferenceModel, AnExclusivePageCannotBeMappedTwice) {
  ReferenceModel m;
  m.reset(setup(Semantics::mm_id, 2));
  run(m, op(OpKind::add_anon_ptes, 1, 0, 4, true));
  auto why = m.precondition(op(OpKind::add_anon_ptes, 1, 2, 1));
  ASSERT_TRUE(why);
  EXPECT_NE(why->find("PageAnonExclusive"), std::string::npos) << *why;
}

TEST(ReferenceModel, ForkOfAnExclusivePageOfAPinnedFolioIsBusyOnlyWithMmfHasPinned) {
  ReferenceModel m;
  m.reset(setup(Semantics::mm_id, 2));
  run(m, op(OpKind::add_anon_ptes, 1, 0, 4, true));
  Op pin = op(OpKind::gup_pin, 2);
  EXPECT_TRUE(m.precondition(pin)) << "mm 2 does not map the folio";
  run(m, op(OpKind::gup_pin, 1));
  Op dup = op(OpKind::try_dup_anon_ptes, 2, 0, 1);
  dup.src = 1;
  run(m, dup);
  EXPECT_EQ(m.read(Obs::ret), -kEBUSY);
  EXPECT_EQ(m.read(Obs::folio_mapcount), 4) << "-EBUSY changes nothing";
  EXPECT_EQ(m.read(Obs::anon_exclusive, 0), 1);
}

TEST(ReferenceModel, ASmallFolioMapped1023TimesLooksPinned) {
  ReferenceModel m;
  m.reset(setup(Semantics::mm_id, 0, FolioType::file));
  for (int i = 0; i < 1022; i++) run(m, op(OpKind::add_file_ptes, 1, 0, 1));
  EXPECT_EQ(m.read(Obs::maybe_dma_pinned), 0);
  run(m, op(OpKind::add_file_ptes, 1, 0, 1));
  EXPECT_EQ(m.read(Obs::maybe_dma_pinned), 1) << "refcount 1 + 1023 mappings reaches the pin bias";
}

TEST(ReferenceModel, AverageMapcountRoundsHalfUpAndIsAtLeastOne) {
  ReferenceModel m;
  m.reset(setup(Semantics::mm_id, 9, FolioType::file, 9));
  run(m, op(OpKind::add_file_ptes, 1, 0, 1));
  EXPECT_EQ(m.read(Obs::average_page_mapcount), 1);
  Op many = op(OpKind::add_file_ptes, 1, 0, 512);
  run(m, many);  // p = 513
  EXPECT_EQ(m.read(Obs::average_page_mapcount), 1);
  run(m, op(OpKind::add_file_ptes, 1, 0, 255));  // p = 768
  EXPECT_EQ(m.read(Obs::average_page_mapcount), 2);
}

TEST(ReferenceModel, TheEpochOfTheSharedBitContractRestartsWhenTheFolioIsUnmapped) {
  ReferenceModel m;
  m.reset(setup(Semantics::mm_id, 2));
  for (uint32_t mm = 1; mm <= 3; mm++) run(m, op(OpKind::add_anon_ptes, mm, 0, 1));
  EXPECT_FALSE(m.slots_exact());
  for (uint32_t mm = 1; mm <= 3; mm++) run(m, op(OpKind::remove_ptes, mm, 0, 1));
  EXPECT_TRUE(m.slots_exact());
  EXPECT_EQ(m.check_invariants({0, 4}, true), std::nullopt);
}

// Engines ask allows(), or well_formed() once per call and allows_now() per state; traces and error
// messages ask precondition(). All are one rule: on every call of a search's alphabet, and on calls
// each half must refuse (ids, pages and ranges outside their bounds, RMAP_EXCLUSIVE where it is
// not taken, a fork onto itself, readers, helpers that do not fit the folio), in every state a few
// steps from a fresh folio and from one mapped next to the overflow limits, they give one answer.
// The page masks explore asks instead of each range (pages_accepted) refuse no call the
// precondition allows, and do refuse many; within them, the rest of the rule answers alike.
TEST(ReferenceModel, AllowsItsTwoHalvesAndThePageMasksAnswerAsThePreconditionOnEveryCall) {
  foliocheck::Setup total32 = setup(Semantics::proposed_total_mapped, 2, FolioType::file);
  total32.config.bits = 32;
  foliocheck::Setup hugetlb = setup(Semantics::mm_id, 2);
  hugetlb.folio.hugetlb = true;
  const std::vector<uint32_t> ids = {1, 2, 3};
  size_t asked = 0, allowed = 0, masked = 0;
  for (const foliocheck::Setup& s :
       {setup(Semantics::mm_id, 2), setup(Semantics::v6_12, 2, FolioType::file),
        setup(Semantics::no_mm_id, 2, FolioType::file), total32, hugetlb,
        setup(Semantics::mm_id, 0), setup(Semantics::mm_id, 2, FolioType::shmem)}) {
    SCOPED_TRACE(::testing::Message() << semantics_name(s.config.semantics) << " order "
                                      << s.folio.order << " hugetlb " << s.folio.hugetlb);
    const uint32_t n = s.nr_pages();
    const std::vector<Op> steps = op_alphabet(s, ids, 8, false);
    std::vector<Op> calls = steps;
    for (int k = 0; k < kNumOpKinds; k++) calls.push_back(op(static_cast<OpKind>(k), 1, 0, 1));
    for (const Op& o : steps) {
      Op x = o;
      x.exclusive = !x.exclusive;
      calls.push_back(x);
      for (auto bad : {+[](Op&b, uint32_t) { b.mm = 0; }, +[](Op&b, uint32_t) { b.src = b.mm; },
                       +[](Op&b, uint32_t m) { b.mm = mm_id_max(64) + m; },
                       +[](Op&b, uint32_t m) { b.page = m; }, +[](Op&b, uint32_t) { b.nr = 0; },
                       +[](Op&b, uint32_t m) { b.nr = m + 1 - b.page; }}) {
        x = o;
        bad(x, n);
        calls.push_back(x);
      }
    }
    // The roots: fresh, and mapped whole by one mm just short of the overflow rule's limits.
    std::vector<ReferenceModel> level(1);
    level[0].reset(s);
    const OpKind whole_kind = s.anon() ? OpKind::add_anon_ptes : OpKind::add_file_ptes;
    if (!s.folio.hugetlb && (s.large() || !s.anon()))
      for (int64_t back : {0, 1, 2, 1024}) {
        ReferenceModel m;
        m.reset(s);
        const Op whole = op(whole_kind, 1, 0, n);
        const int64_t limit = s.config.bits == 64 ? kIntMax - kGupPinCountingBias : kIntMax;
        m.apply_times(whole, static_cast<uint32_t>((limit - 1) / n - back));
        level.push_back(m);
      }
    for (int depth = 0; depth < 3 && !level.empty(); depth++) {
      std::vector<ReferenceModel> next;
      for (const ReferenceModel& m : level) {
        for (const Op& c : calls) {
          const bool allows = m.allows(c);
          asked++;
          allowed += allows;
          ASSERT_EQ(allows, !m.precondition(c)) << print_op(c);
          ASSERT_EQ(allows, m.well_formed(c) && m.allows_now(c)) << print_op(c);
          if (!m.well_formed(c) || !has_page_rules(c.kind)) continue;
          if (range_pages(c) & ~pages_accepted(c, m)) {
            masked++;
            ASSERT_FALSE(allows) << print_op(c) << ": a page outside pages_accepted()";
          } else {
            ASSERT_EQ(allows, m.allows_now_in_accepted_pages(c)) << print_op(c);
          }
        }
        for (const Op& o : steps)
          if (next.size() < 400 && m.allows(o)) {
            next.push_back(m);
            next.back().apply(o);
          }
      }
      level = std::move(next);
    }
  }
  // Both answers were given, many times: the claim is not vacuous.
  EXPECT_GT(allowed, 1000u);
  EXPECT_GT(asked - allowed, 10000u);
  EXPECT_GT(masked, 1000u);
}

// The model's per-page storage: a copy is independent of its source and has its values, inline
// or on the heap, and a vector moves between the two as its size crosses the inline capacity.
TEST(InlineVec, CopiesAreIndependentInlineAndOnTheHeap) {
  for (size_t n : {size_t{0}, size_t{3}, size_t{8}, size_t{9}, size_t{512}}) {
    InlineVec<uint32_t, 8> a;
    a.assign(n, 7);
    for (size_t i = 0; i < n; i++) a[i] = static_cast<uint32_t>(i * 3);
    InlineVec<uint32_t, 8> b = a;
    ASSERT_EQ(b.size(), n);
    for (size_t i = 0; i < n; i++) EXPECT_EQ(b[i], i * 3);
    if (n) {
      b[n - 1] = 99;
      EXPECT_EQ(a[n - 1], (n - 1) * 3) << "a copy shares no storage";
    }
    InlineVec<uint32_t, 8> c;
    c.assign(600, 1);
    c = a;  // heap to inline or to a reused heap
    ASSERT_EQ(c.size(), n);
    EXPECT_TRUE(std::equal(c.begin(), c.end(), a.begin()));
    InlineVec<uint32_t, 8> d = std::move(c);
    EXPECT_TRUE(c.empty());
    ASSERT_EQ(d.size(), n);
    EXPECT_TRUE(std::equal(d.begin(), d.end(), a.begin()));
    d = b;
    EXPECT_TRUE(std::equal(d.begin(), d.end(), b.begin()));
  }
}

// push_back stays inline up to the capacity and moves to the heap past it, keeping every value.
TEST(InlineVec, PushBackKeepsEveryValueAcrossTheInlineCapacity) {
  InlineVec<uint32_t, 4> v;
  for (uint32_t i = 0; i < 20; i++) {
    v.push_back(i * 5);
    ASSERT_EQ(v.size(), i + 1);
    for (uint32_t j = 0; j <= i; j++) ASSERT_EQ(v[j], j * 5);
    InlineVec<uint32_t, 4> copy = v;
    copy[0] = 1;
    EXPECT_EQ(v[0], 0u) << "a copy shares no storage";
  }
  v.clear();
  EXPECT_TRUE(v.empty());
  v.push_back(3);
  EXPECT_EQ(v[0], 3u);
}

// The model's table of mms: ids in increasing order whatever the insertion order, inline or past
// four mms, and a copy (into an inline or a spilled table) independent of its source.
TEST(MmTable, KeepsIdsInOrderAndCopiesIndependentlyInlineAndOnTheHeap) {
  for (uint32_t count : {1u, 3u, 4u, 5u, 9u}) {
    MmTable t;
    for (uint32_t k = 0; k < count; k++) {
      const uint32_t id = (k * 7) % 11 + 1;  // distinct, out of order
      t[id].pmd = id;
    }
    ASSERT_EQ(t.size(), count);
    uint32_t last = 0;
    for (const auto& [id, m] : t) {
      EXPECT_GT(id, last);
      EXPECT_EQ(m.pmd, id);
      last = id;
    }
    for (uint32_t other : {0u, 6u}) {
      MmTable u;
      for (uint32_t k = 0; k < other; k++) u[100 + k].pud = 1;
      u = t;
      ASSERT_EQ(u.size(), count);
      EXPECT_TRUE(std::equal(u.begin(), u.end(), t.begin(), [](const auto& a, const auto& b) {
        return a.first == b.first && a.second.pmd == b.second.pmd && a.second.pud == 0;
      }));
      u.begin()->second.pmd = 99;
      EXPECT_NE(t.begin()->second.pmd, 99u) << "a copy shares no storage";
      EXPECT_EQ(u.find(1000), nullptr);
      EXPECT_EQ(u.find(t.begin()->first)->pmd, 99u);
    }
  }
}

// The epoch's history follows the mappings as a recount over every mm would: the most mms mapping
// at once and the most mappings one mm held, both back to 0 once nothing maps the folio.
TEST(ReferenceModel, TheEpochHistoryCountsTheMostMmsAndTheMostMappingsOfOneMm) {
  ReferenceModel m;
  m.reset(setup(Semantics::mm_id, 2));
  run(m, op(OpKind::add_anon_ptes, 1, 0, 3));
  run(m, op(OpKind::add_anon_ptes, 2, 0, 1));
  run(m, op(OpKind::remove_ptes, 1, 0, 2));
  run(m, op(OpKind::add_anon_ptes, 2, 1, 1));
  EXPECT_EQ(m.nr_mms_mapping(), 2u);
  EXPECT_EQ(m.history().epoch_max_mms, 2u);
  EXPECT_EQ(m.history().epoch_max_mm_mappings, 3u);
  run(m, op(OpKind::remove_ptes, 2, 0, 2));
  EXPECT_EQ(m.nr_mms_mapping(), 1u);
  EXPECT_EQ(m.history().epoch_max_mms, 2u);
  run(m, op(OpKind::remove_ptes, 1, 2, 1));
  EXPECT_EQ(m.nr_mms_mapping(), 0u);
  EXPECT_EQ(m.history().epoch_max_mms, 0u);
  EXPECT_EQ(m.history().epoch_max_mm_mappings, 0u);
  run(m, op(OpKind::add_anon_ptes, 2, 3, 1));
  EXPECT_EQ(m.history().epoch_max_mms, 1u);
  EXPECT_EQ(m.history().epoch_max_mm_mappings, 1u);
  EXPECT_EQ(m.check_invariants({0, 4}, true), std::nullopt);
}

}  // namespace
}  // namespace foliocheck

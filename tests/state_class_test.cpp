// Claims about the abstract state classes (core/state_class.def): every reachable state is numbered, and the engines agree on them.
#include <gtest/gtest.h>

#include "core/differential.h"
#include "core/state_class.h"
#include "explore/explore.h"
#include "impl/registry.h"

namespace foliocheck {
namespace {

TEST(StateClass, TheNumberingCoversEachFeasibleClassOnce) {
  ASSERT_GT(num_state_classes(), 0u);
  for (uint32_t i = 0; i < num_state_classes(); i++) {
    const StateClass c = state_class_at(i);
    EXPECT_TRUE(state_class_feasible(c)) << state_class_name(c);
    EXPECT_EQ(state_class_index(c), i) << state_class_name(c);
  }
}

// The fuzz target writes the index into a fixed counter array: a state no numbered class holds
// would write outside it (found by UBSan: thousands of mappings on a folio without slots).
TEST(StateClass, ThousandsOfMappingsWithoutSlotsStillClassify) {
  for (Semantics sem : {Semantics::v6_12, Semantics::mm_id, Semantics::no_mm_id}) {
    const foliocheck::Setup s = make_setup(sem, 64, 0, FolioType::file, false, 9, 18);
    Differential d(make_implementations(choose_implementations(s).names));
    d.reset(s);
    const Op op = make_op(OpKind::add_file_ptes, 1, 0, 1, false, 0, 20000);
    ASSERT_EQ(d.step(op).kind, StepOutcome::ok);
    EXPECT_LT(state_class_index(classify_state(d.model(), d.impls())), num_state_classes());
  }
}

TEST(StateClass, EveryStateExploreReachesIsANumberedClass) {
  int searched = 0;
  for (Semantics sem : {Semantics::v6_12, Semantics::mm_id, Semantics::no_page_mapcount,
                        Semantics::no_mm_id}) {
    for (bool file : {false, true}) {
      ExploreOptions o;
      o.setup.config.semantics = sem;
      o.setup.config.pmd_order = 2;
      o.setup.config.pud_order = 3;
      o.setup.folio.order = 2;
      o.setup.folio.type = file ? FolioType::file : FolioType::anon;
      o.mms = 3;
      o.depth = 3;
      o.state_map = true;
      Explorer e(o);
      if (e.error()) continue;  // no-mm-id has no large anon folio (CONFIG_TRANSPARENT_HUGEPAGE=n)
      searched++;
      const ExploreResult& r = e.run();
      ASSERT_TRUE(r.map);
      EXPECT_GT(r.map->states_reached(), 5u);
      EXPECT_GT(r.map->transitions_reached(), 5u);
    }
  }
  EXPECT_GE(searched, 7);
}

TEST(StateClass, A32BitSlotPastShrtMaxIsItsOwnClass) {
  const foliocheck::Setup s = make_setup(Semantics::mm_id, 32, 2, FolioType::file);
  Differential d(make_implementations(choose_implementations(s).names));
  d.reset(s);
  const Op op = make_op(OpKind::add_file_ptes, 1, 0, 4, false, 0, 8192);
  ASSERT_EQ(d.step(op).kind, StepOutcome::ok);
  EXPECT_TRUE(classify_state(d.model(), d.impls()).is(ClassValue::most_past));
}

}  // namespace
}  // namespace foliocheck

namespace foliocheck {
namespace {

TEST(StateClass, TheVariantDimensionHasOneValuePerSemanticsInItsOrder) {
  ASSERT_EQ(class_dim_size(ClassDim::variant), static_cast<uint32_t>(kNumSemantics));
  for (int s = 0; s < kNumSemantics; s++)
    EXPECT_EQ(class_value_info(class_value(ClassDim::variant, static_cast<uint32_t>(s))).label,
              semantics_name(static_cast<Semantics>(s)));
}

}  // namespace
}  // namespace foliocheck

// The property suite CI trusts: each claim about the encodings, checked within a budget.
#include <gtest/gtest.h>

#include <iostream>

#include "core/legality.h"
#include "properties/claims.h"
#include "properties/runner.h"

namespace foliocheck::props {
namespace {

// The property's RapidCheck id (what RC_PARAMS="reproduce=..." names) is the test's own name.
std::string property_id() {
  return std::string("Properties/") + testing::UnitTest::GetInstance()->current_test_info()->name();
}

// Runs `body` as this test's property with its budget; prints RapidCheck's distribution and the
// states reached (ctest -V shows them); on failure the report names the shrunk trace and how to
// replay it.
PropertyOutcome check(Budget ci, Budget nightly, const std::function<void()>& body) {
  const std::string id = property_id();
  activate_mutant_from_env();
  const PropertyOutcome out = run_property(id, body, params_for(ci, nightly), Listener::global);
  std::cout << "[ property ] " << id << ": " << out.cases << " cases, " << out.executions
            << " executions\n"
            << out.report << std::flush;
  return out;
}

// RapidCheck skips a property that an RC_PARAMS reproduce string does not name.
#define FOLIOCHECK_SKIP_WHEN_REPRODUCING_ANOTHER_PROPERTY() \
  if (reproducing_another(property_id())) GTEST_SKIP() << "RC_PARAMS reproduces another property"

#define FOLIOCHECK_EXPECT_PASSED(out)                             \
  EXPECT_EQ((out).kind, PropertyOutcome::passed) << (out).report; \
  EXPECT_GT((out).cases, 0) << "no test case ran: " << (out).report

constexpr Budget kCiAgreement{10000, 50}, kNightlyAgreement{200000, 100};
constexpr Budget kCi{2000, 40}, kNightly{100000, 100};

TEST(Properties, EveryEncodingAgreesWithTheReferenceModel) {
  FOLIOCHECK_SKIP_WHEN_REPRODUCING_ANOTHER_PROPERTY();
  const auto out =
      check(kCiAgreement, kNightlyAgreement, [] { state_machine_claim(Claim::agreement, {}); });
  FOLIOCHECK_EXPECT_PASSED(out);
  // A generator that stopped reaching a state would silently stop testing what lives there; only
  // meaningful with at least the CI budget's cases (RC_PARAMS may ask for fewer).
  if (out.kind != PropertyOutcome::passed || out.cases < kCiAgreement.max_success) return;
  for (size_t i = 0; i < kNumStates; i++) {
    const StateInfo& info = state_info(static_cast<State>(i));
    if (info.required) {
      EXPECT_GT(out.coverage.reached[i], 0u) << "no test case reached: " << info.label;
    }
  }
  for (size_t k = 0; k < kNumOpKinds; k++) {
    if (op_is_reader(static_cast<OpKind>(k))) continue;  // not generated
    EXPECT_GT(out.coverage.ops[k], 0u)
        << "no test case ran " << op_info(static_cast<OpKind>(k)).name;
  }
}

TEST(Properties, EveryEncodingsOwnInvariantsHoldAfterEveryOperation) {
  FOLIOCHECK_SKIP_WHEN_REPRODUCING_ANOTHER_PROPERTY();
  const auto out = check(kCi, kNightly, [] { state_machine_claim(Claim::invariants, {}); });
  FOLIOCHECK_EXPECT_PASSED(out);
}

TEST(Properties, UnmappingEveryMappingRestoresEveryCounterAndPassesTheFreeChecks) {
  FOLIOCHECK_SKIP_WHEN_REPRODUCING_ANOTHER_PROPERTY();
  const auto out = check(kCi, kNightly, [] { state_machine_claim(Claim::unmap_restores, {}); });
  FOLIOCHECK_EXPECT_PASSED(out);
}

TEST(Properties, StatisticsEqualTheVariantsDeclarativeAccountingRule) {
  FOLIOCHECK_SKIP_WHEN_REPRODUCING_ANOTHER_PROPERTY();
  const auto out = check(kCi, kNightly, [] { state_machine_claim(Claim::statistics, {}); });
  FOLIOCHECK_EXPECT_PASSED(out);
}

TEST(Properties, MaybeMappedSharedIsNeverFalseWhileTwoMmsMapAndExactWhileAtMostTwoDid) {
  FOLIOCHECK_SKIP_WHEN_REPRODUCING_ANOTHER_PROPERTY();
  ScenarioOptions o;
  // v6.12 has likely_mapped_shared instead; the claim is about the next kernels' helper.
  o.semantics = {Semantics::mm_id, Semantics::no_page_mapcount, Semantics::no_mm_id};
  o.min_mms = 2;
  const auto out =
      check(kCi, kNightly, [o] { state_machine_claim(Claim::maybe_mapped_shared, o); });
  FOLIOCHECK_EXPECT_PASSED(out);
}

TEST(Properties, ExactObservablesDoNotDependOnTheOrderInWhichIndependentMmsMapAndUnmap) {
  FOLIOCHECK_SKIP_WHEN_REPRODUCING_ANOTHER_PROPERTY();
  const auto out = check(kCi, kNightly, [] { order_independence_claim({}); });
  FOLIOCHECK_EXPECT_PASSED(out);
}

TEST(Properties, PrintParseRoundTripsAndReplayingTwiceGivesTheSameObservations) {
  FOLIOCHECK_SKIP_WHEN_REPRODUCING_ANOTHER_PROPERTY();
  const auto out = check(kCi, kNightly, [] { round_trip_claim({}); });
  FOLIOCHECK_EXPECT_PASSED(out);
}

}  // namespace
}  // namespace foliocheck::props

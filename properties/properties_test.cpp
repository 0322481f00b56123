// The property suite CI trusts: each claim about the encodings, checked by RapidCheck within a budget.
#include <gtest/gtest.h>

#include <iostream>

#include "properties/claims.h"
#include "properties/runner.h"

namespace foliocheck::props {
namespace {

// Runs `body` as a property with its budget; prints RapidCheck's distribution and the states reached
// (ctest -V shows them); on failure the report names the shrunk trace and how to replay it.
PropertyOutcome check(const char* name, Budget ci, Budget nightly, const std::function<void()>& body) {
  const std::string id = std::string("Properties/") + name;
  const PropertyOutcome out = run_property(id, body, params_for(ci, nightly), Listener::global);
  std::cout << "[ property ] " << id << ": " << out.cases << " cases, " << out.executions
            << " executions\n"
            << out.report << std::flush;
  return out;
}

#define FOLIOCHECK_EXPECT_PASSED(out)                                      \
  EXPECT_EQ((out).kind, PropertyOutcome::passed) << (out).report;          \
  EXPECT_GT((out).cases, 0) << "no test case ran: " << (out).report

TEST(Properties, EveryEncodingAgreesWithTheReferenceModel) {
  const auto out = check("EveryEncodingAgreesWithTheReferenceModel", {300, 40}, {30000, 80},
                         [] { state_machine_claim(Claim::agreement, {}); });
  FOLIOCHECK_EXPECT_PASSED(out);
  if (out.kind != PropertyOutcome::passed) return;
  // A generator that stopped reaching a state would silently stop testing what lives there.
  for (size_t i = 0; i < kNumStates; i++) {
    const StateInfo& info = state_info(static_cast<State>(i));
    if (info.required) {
      EXPECT_GT(out.coverage.reached[i], 0u) << "no test case reached: " << info.label;
    }
  }
}

TEST(Properties, EveryEncodingsOwnInvariantsHoldAfterEveryOperation) {
  const auto out = check("EveryEncodingsOwnInvariantsHoldAfterEveryOperation", {150, 30}, {20000, 80},
                         [] { state_machine_claim(Claim::invariants, {}); });
  FOLIOCHECK_EXPECT_PASSED(out);
}

TEST(Properties, UnmappingEveryMappingRestoresEveryCounterAndPassesTheFreeChecks) {
  const auto out = check("UnmappingEveryMappingRestoresEveryCounterAndPassesTheFreeChecks",
                         {150, 30}, {20000, 80},
                         [] { state_machine_claim(Claim::unmap_restores, {}); });
  FOLIOCHECK_EXPECT_PASSED(out);
}

TEST(Properties, StatisticsEqualTheVariantsDeclarativeAccountingRule) {
  const auto out = check("StatisticsEqualTheVariantsDeclarativeAccountingRule", {150, 30},
                         {20000, 80}, [] { state_machine_claim(Claim::statistics, {}); });
  FOLIOCHECK_EXPECT_PASSED(out);
}

TEST(Properties, MaybeMappedSharedIsNeverFalseWhileTwoMmsMapAndExactWhileAtMostTwoEverDid) {
  ScenarioOptions o;
  // v6.12 has likely_mapped_shared instead; the claim is about the next kernels' helper.
  o.semantics = {Semantics::mm_id, Semantics::no_page_mapcount, Semantics::no_mm_id};
  o.min_mms = 2;
  const auto out = check("MaybeMappedSharedIsNeverFalseWhileTwoMmsMapAndExactWhileAtMostTwoEverDid",
                         {200, 30}, {20000, 80},
                         [o] { state_machine_claim(Claim::maybe_mapped_shared, o); });
  FOLIOCHECK_EXPECT_PASSED(out);
}

TEST(Properties, ExactObservablesDoNotDependOnTheOrderInWhichIndependentMmsMapAndUnmap) {
  const auto out = check("ExactObservablesDoNotDependOnTheOrderInWhichIndependentMmsMapAndUnmap",
                         {200, 30}, {20000, 80}, [] { order_independence_claim({}); });
  FOLIOCHECK_EXPECT_PASSED(out);
}

TEST(Properties, PrintParseRoundTripsAndReplayingTwiceGivesTheSameObservations) {
  const auto out = check("PrintParseRoundTripsAndReplayingTwiceGivesTheSameObservations", {150, 30},
                         {20000, 80}, [] { round_trip_claim({}); });
  FOLIOCHECK_EXPECT_PASSED(out);
}

}  // namespace
}  // namespace foliocheck::props

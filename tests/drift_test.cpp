// Claims about `foliocheck drift`: what it reports between two semantics, and what it does not.
#include <gtest/gtest.h>

#include <algorithm>

#include "trace/drift.h"

namespace foliocheck {
namespace {

Trace parse(std::string_view text) {
  ParseResult r = parse_trace(text);
  EXPECT_FALSE(r.error) << r.error->describe();
  return *r.trace;
}

const char* kHugetlbTwoMappings = R"(foliocheck-trace 1
config semantics=no-page-mapcount bits=64 pmd_order=9
folio order=9 type=file hugetlb
hugetlb_add_file_rmap mm=1
hugetlb_add_file_rmap mm=2
hugetlb_remove_rmap mm=1
)";

const char* kPtesOfAPmdSizedAnonFolio = R"(foliocheck-trace 1
config semantics=no-page-mapcount bits=64 pmd_order=2 pud_order=3
folio order=2 type=anon
folio_add_anon_rmap_ptes mm=1 page=0 nr=1
folio_add_anon_rmap_ptes mm=2 page=1 nr=2
folio_remove_rmap_ptes mm=1 page=0 nr=1
)";

const char* kPmdAndPtesTwoMms = R"(foliocheck-trace 1
config semantics=no-page-mapcount bits=64 pmd_order=2 pud_order=3
folio order=2 type=file
folio_add_file_rmap_pmd mm=1
folio_add_file_rmap_ptes mm=2 page=0 nr=3
folio_add_file_rmap_pmd mm=2
folio_remove_rmap_pmd mm=1
folio_remove_rmap_ptes mm=2 page=0 nr=2
)";

bool drifts(const DriftRun& run, Obs obs) {
  return std::any_of(run.changes.begin(), run.changes.end(),
                     [&](const DriftChange& c) { return c.obs == obs; });
}

TEST(Drift, ASemanticsComparedWithItselfReportsNothing) {
  for (const char* text : {kHugetlbTwoMappings, kPtesOfAPmdSizedAnonFolio, kPmdAndPtesTwoMms}) {
    const DriftRun run =
        drift_trace(parse(text), Semantics::no_page_mapcount, Semantics::no_page_mapcount);
    EXPECT_TRUE(run.comparable);
    EXPECT_FALSE(run.error);
    EXPECT_TRUE(run.changes.empty()) << run.changes.front().describe();
  }
  const DriftReport r = drift_report({{"a", parse(kPmdAndPtesTwoMms)}}, Semantics::no_page_mapcount,
                                     Semantics::no_page_mapcount);
  for (const DriftCauseReport& c : r.causes) EXPECT_TRUE(c.findings.empty());
}

TEST(Drift, TwoHugetlbMappingsChangeTheAveragePageMapcountFromTwoToOne) {
  const DriftRun run = drift_trace(parse(kHugetlbTwoMappings), Semantics::no_page_mapcount,
                                   Semantics::proposed_total_mapped);
  const auto it = std::find_if(run.changes.begin(), run.changes.end(), [](const DriftChange& c) {
    return c.obs == Obs::average_page_mapcount;
  });
  ASSERT_NE(it, run.changes.end());
  EXPECT_EQ(it->op_index, 2u);
  EXPECT_EQ(it->from, 2);
  EXPECT_EQ(it->to, 1);
  EXPECT_EQ(drift_cause(it->obs, parse(kHugetlbTwoMappings).setup), DriftCause::hugetlb);
}

TEST(Drift, PtesOfAPmdSizedFolioCountInNrAnonThpsUnderTheProposal) {
  const DriftRun run = drift_trace(parse(kPtesOfAPmdSizedAnonFolio), Semantics::no_page_mapcount,
                                   Semantics::proposed_total_mapped);
  EXPECT_TRUE(drifts(run, Obs::nr_anon_thps));
  EXPECT_FALSE(drifts(run, Obs::nr_anon_mapped));
}

TEST(Drift, PartialMappingDetectionAndAveragesOfOrdinaryFoliosDoNotDrift) {
  for (const char* text : {kPtesOfAPmdSizedAnonFolio, kPmdAndPtesTwoMms}) {
    const DriftRun run =
        drift_trace(parse(text), Semantics::no_page_mapcount, Semantics::proposed_total_mapped);
    EXPECT_FALSE(drifts(run, Obs::partially_mapped));
    EXPECT_FALSE(drifts(run, Obs::average_page_mapcount));
    EXPECT_FALSE(drifts(run, Obs::folio_mapcount));
  }
}

TEST(Drift, ReadersThatExistOnOneSideOnlyAreReportedAsSuch) {
  const DriftRun run = drift_trace(parse(kPmdAndPtesTwoMms), Semantics::no_page_mapcount,
                                   Semantics::proposed_total_mapped);
  const auto entire = std::find_if(run.changes.begin(), run.changes.end(),
                                   [](const DriftChange& c) { return c.obs == Obs::entire_mapcount; });
  ASSERT_NE(entire, run.changes.end());
  EXPECT_EQ(entire->from, 1);
  EXPECT_EQ(entire->to, std::nullopt);
  EXPECT_TRUE(drifts(run, Obs::total_mapped_pages));
}

TEST(Drift, TheSmallestTraceIsShorterAndStillDrifts) {
  const Trace t = parse(kHugetlbTwoMappings);
  const Trace small = smallest_drift_trace(t, Semantics::no_page_mapcount,
                                           Semantics::proposed_total_mapped,
                                           Obs::average_page_mapcount);
  EXPECT_EQ(small.setup.config.semantics, Semantics::proposed_total_mapped);
  EXPECT_EQ(small.nr_ops(), 2u);
  EXPECT_TRUE(drifts(drift_trace(small, Semantics::no_page_mapcount, Semantics::proposed_total_mapped),
                     Obs::average_page_mapcount));
  // The printed form parses back and pins the new value with an expect.
  const std::string text =
      print_drift_trace(small, Semantics::no_page_mapcount, Obs::average_page_mapcount);
  EXPECT_NE(text.find("expect average_page_mapcount=1"), std::string::npos) << text;
  EXPECT_FALSE(parse_trace(text).error);
}

TEST(Drift, ATraceThatCannotExistUnderTheTargetIsNotComparable) {
  // 32-bit order-16 folios cannot use MM ids (W5), which every semantics but two needs.
  const Trace t = parse(R"(foliocheck-trace 1
config semantics=mm-id bits=32
folio order=16 type=file hugetlb
hugetlb_add_file_rmap mm=1
)");
  const DriftRun run = drift_trace(t, Semantics::mm_id, Semantics::no_mm_id);
  EXPECT_TRUE(run.comparable);
  const Trace anon = parse(R"(foliocheck-trace 1
config semantics=mm-id bits=64
folio order=2 type=anon
folio_add_anon_rmap_ptes mm=1 page=0 nr=1
)");
  const DriftRun none = drift_trace(anon, Semantics::mm_id, Semantics::no_mm_id);
  EXPECT_FALSE(none.comparable);
  EXPECT_NE(none.why_not.find("cannot exist"), std::string::npos) << none.why_not;
}

}  // namespace
}  // namespace foliocheck

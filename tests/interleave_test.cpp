// Claims about concurrent blocks in the trace format and the interleave engine without a kernel tree.
#include <gtest/gtest.h>

#include "interleave/interleave.h"
#include "trace/replay.h"
#include "trace/trace.h"

namespace foliocheck {
namespace {

constexpr const char* kBlock =
    "foliocheck-trace 1\n"
    "config semantics=mm-id bits=64\n"
    "folio order=2 type=file\n"
    "folio_add_file_rmap_ptes mm=1 page=0 nr=4\n"
    "concurrent\n"
    "folio_remove_rmap_ptes mm=1 page=0 nr=4\n"
    "folio_add_file_rmap_ptes mm=2 page=2 nr=2\n"
    "end\n"
    "schedule 1,0,0,1\n"
    "expect folio_mapcount=2\n";

Trace parse(const std::string& text) {
  ParseResult r = parse_trace(text);
  EXPECT_FALSE(r.error) << (r.error ? r.error->describe() : "");
  return r.trace.value_or(Trace{});
}

TEST(ConcurrentTrace, ABlockTagsItsOperationsAndKeepsItsSchedule) {
  const Trace t = parse(kBlock);
  ASSERT_EQ(t.blocks.size(), 1u);
  EXPECT_EQ(t.blocks[0].schedule, (std::vector<uint32_t>{1, 0, 0, 1}));
  EXPECT_EQ(t.blocks[0].line, 5u);
  EXPECT_EQ(t.block_threads(1), (std::vector<size_t>{1, 2}));
  EXPECT_EQ(t.statements[0].block, 0u);
  EXPECT_EQ(t.statements[3].block, 0u);  // the expect after `end`
}

TEST(ConcurrentTrace, PrintThenParseIsTheSameTrace) {
  const Trace t = parse(kBlock);
  const std::string text = print_trace(t);
  EXPECT_NE(text.find("concurrent\n"), std::string::npos);
  EXPECT_NE(text.find("end\nschedule 1,0,0,1\n"), std::string::npos);
  EXPECT_EQ(parse(text), t);
}

TEST(ConcurrentTrace, SequentialOrderFollowsThePinnedScheduleElseProgramOrder) {
  Trace t = parse(kBlock);
  // Thread 1 runs its last step before thread 0 does: thread 1 first.
  t.blocks[0].schedule = {0, 1, 0};
  EXPECT_EQ(t.sequential_order(), (std::vector<size_t>{0, 2, 1, 3}));
  t.blocks[0].schedule = {};
  EXPECT_EQ(t.sequential_order(), (std::vector<size_t>{0, 1, 2, 3}));
}

TEST(ConcurrentTrace, ReplayRunsTheBlockSequentially) {
  const ReplayReport r = replay_trace(parse(kBlock), ReplayOptions{});
  EXPECT_EQ(r.result, ReplayReport::ok) << r.message;
  EXPECT_EQ(r.ops, 3u);
}

TEST(ConcurrentTrace, MalformedBlocksNameTheirLineAndColumn) {
  const std::string head = "foliocheck-trace 1\nfolio order=2 type=file\n";
  const std::string op = "folio_add_file_rmap_ptes mm=1 page=0 nr=4\n";
  struct Case {
    std::string text;
    uint32_t line, column;
  } cases[] = {
      {head + "concurrent\n" + op, 3, 1},                          // unterminated
      {head + "concurrent\n" + op + "concurrent\nend\n", 5, 1},   // nested
      {head + "concurrent\n" + op + "expect folio_mapcount=4\nend\n", 5, 1},
      {head + "concurrent\n" + op + "end\nschedule 0,1\n", 6, 12},  // thread 1 of one
      {head + "concurrent\n" + op + "end\nschedule 0,,0\n", 6, 12},
      {head + "concurrent\n" + op + "end\n" + op + "schedule 0\n", 7, 1},  // not after `end`
      {head + "concurrent\nend\n", 4, 1},                          // empty
      {head + "end\n", 3, 1},
  };
  for (const Case& c : cases) {
    const ParseResult r = parse_trace(c.text);
    ASSERT_TRUE(r.error) << c.text;
    EXPECT_EQ(r.error->line, c.line) << r.error->describe();
    EXPECT_EQ(r.error->column, c.column) << r.error->describe();
  }
}

TEST(Interleave, AnEncodingOnlyRunsTheSequentialOrders) {
  // The encodings have no scheduling points: each operation is one step, so the interleavings
  // are exactly the orders.
  Trace t = parse(kBlock);
  t.blocks[0].schedule = {};
  InterleaveOptions opt;
  opt.impl = "mm-id-64";
  const InterleaveReport r = interleave_trace(t, opt);
  ASSERT_EQ(r.result, InterleaveReport::ok) << r.message;
  ASSERT_EQ(r.blocks.size(), 1u);
  EXPECT_EQ(r.blocks[0].orders, 2u);
  EXPECT_EQ(r.blocks[0].interleavings, 2u);
}

TEST(Interleave, AFailedExpectAfterTheBlockIsAFindingWithItsSchedule) {
  std::string text = kBlock;
  text.replace(text.find("schedule 1,0,0,1\n"), 17, "");
  text.replace(text.find("folio_mapcount=2"), 16, "folio_mapcount=3");
  InterleaveOptions opt;
  opt.impl = "mm-id-64";
  const InterleaveReport r = interleave_trace(parse(text), opt);
  ASSERT_EQ(r.result, InterleaveReport::finding);
  EXPECT_EQ(r.found->block, 1u);
  EXPECT_FALSE(r.found->schedule.empty());
}

TEST(Interleave, ABlockNoOrderOfWhichIsValidIsBadInput) {
  const Trace t = parse(
      "foliocheck-trace 1\nfolio order=2 type=file\nconcurrent\n"
      "folio_remove_rmap_ptes mm=1 page=0 nr=4\nend\n");
  InterleaveOptions opt;
  opt.impl = "mm-id-64";
  EXPECT_EQ(interleave_trace(t, opt).result, InterleaveReport::invalid);
}

TEST(Interleave, EveryRaceMutantHasANameThatActivatesIt) {
  ASSERT_GE(race_mutants().size(), 2u);
  EXPECT_FALSE(activate_race_mutant("no-such-mutant"));
}

}  // namespace
}  // namespace foliocheck

// Claims about `reduce`: the trace it writes fails as the one it was given, concurrent blocks too.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "impl/mutants.h"
#include "tests/test_support.h"
#include "trace/reduce.h"
#include "trace/replay.h"
#include "trace/trace.h"

namespace foliocheck {
namespace {

Trace parse(const std::string& text) {
  ParseResult r = parse_trace(text);
  EXPECT_FALSE(r.error) << (r.error ? r.error->describe() : "");
  return r.trace.value_or(Trace{});
}

Trace parse_file(const std::filesystem::path& path) {
  ParseResult r = parse_trace_file(path.string());
  EXPECT_FALSE(r.error) << (r.error ? r.error->describe() : "");
  return r.trace.value_or(Trace{});
}

constexpr const char* kThreeThreads =
    "foliocheck-trace 1\n"
    "config semantics=mm-id bits=64\n"
    "folio order=2 type=file\n"
    "concurrent\n"
    "folio_add_file_rmap_ptes mm=1 page=0 nr=1\n"
    "folio_add_file_rmap_ptes mm=2 page=1 nr=1\n"
    "folio_add_file_rmap_ptes mm=3 page=2 nr=1\n"
    "end\n"
    "schedule 2,1,0,2\n";

std::vector<uint32_t> schedule_without_thread(size_t thread) {
  const Trace from = parse(kThreeThreads);
  Trace to = from;
  to.statements.erase(to.statements.begin() + static_cast<ptrdiff_t>(from.block_threads(1)[thread]));
  to.carry_schedules(from);
  return to.blocks[0].schedule;
}

TEST(Reduce, CarriesAScheduleOverToTheThreadsItKeeps) {
  // Thread 0 erased: the steps of threads 2 and 1 name them as threads 1 and 0 now.
  EXPECT_EQ(schedule_without_thread(0), (std::vector<uint32_t>{1, 0, 1}));
  EXPECT_EQ(schedule_without_thread(1), (std::vector<uint32_t>{1, 0, 1}));
  EXPECT_EQ(schedule_without_thread(2), (std::vector<uint32_t>{1, 0}));
}

std::filesystem::path corpus() { return FOLIOCHECK_CORPUS_DIR; }

// Reduces `trace` under the active mutant and replays the file it would write; the signature
// of the reduced trace's failure, or why there is none.
std::string reduce_and_replay_the_file(const Trace& trace) {
  const ReduceResult r = reduce_trace(trace, ReduceOptions{});
  if (!r.ok) return "cannot reduce: " + r.error;
  ParseResult back = parse_trace(print_trace(r.trace));
  if (!back.trace) return "the written trace does not parse: " + back.error->describe();
  const ReplayReport again = replay_trace(*back.trace, ReplayOptions{});
  if (again.result != ReplayReport::violation || !again.found)
    return "the written trace ends " + std::string(replay_result_name(again.result));
  if (again.found->signature() != r.signature)
    return "the written trace fails as " + again.found->signature() + ", not " + r.signature;
  return r.signature;
}

TEST(Reduce, KeepsTheThreadAScheduleRanBeforeTheFailingOne) {
  const Trace t =
      parse_file(corpus() / "regressions/0008-reduce-keeps-threads-a-schedule-ran-first.trace");
  testing::MutantScope m(*mutant_from_name("slot1-take-without-shared-bit"));
  const ReplayReport first = replay_trace(t, ReplayOptions{});
  ASSERT_EQ(first.result, ReplayReport::violation);
  EXPECT_EQ(reduce_and_replay_the_file(t), first.found->signature());
}

TEST(Reduce, TheTraceItWritesFailsWithTheSignatureOfTheTraceItWasGiven) {
  // Every concurrent trace of the corpus, under every mutant that makes its replay fail.
  size_t reduced = 0;
  for (const char* dir : {"concurrent", "regressions"}) {
    for (const auto& entry : std::filesystem::directory_iterator(corpus() / dir)) {
      if (entry.path().extension() != ".trace") continue;
      const Trace t = parse_file(entry.path());
      if (t.blocks.empty()) continue;
      for (const MutantInfo& info : all_mutants()) {
        testing::MutantScope m(info.mutant);
        const ReplayReport first = replay_trace(t, ReplayOptions{});
        if (first.result != ReplayReport::violation || !first.found) continue;
        EXPECT_EQ(reduce_and_replay_the_file(t), first.found->signature())
            << entry.path().string() << " under --mutant=" << info.name;
        reduced++;
      }
    }
  }
  EXPECT_GE(reduced, 10u);
}

}  // namespace
}  // namespace foliocheck

// Claims about concurrent blocks in the trace format and the interleave engine without a kernel tree.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>
#include <random>

#include "core/legality.h"
#include "impl/kernel_hook.h"
#include "impl/registry.h"
#include "impl/sched_hook.h"
#include "interleave/generate.h"
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
  EXPECT_EQ(r.found->what.rfind("expect on line ", 0), 0u) << r.found->what;
}

TEST(Interleave, ABlockNoOrderOfWhichIsValidIsBadInput) {
  const Trace t = parse(
      "foliocheck-trace 1\nfolio order=2 type=file\nconcurrent\n"
      "folio_remove_rmap_ptes mm=1 page=0 nr=4\nend\n");
  InterleaveOptions opt;
  opt.impl = "mm-id-64";
  EXPECT_EQ(interleave_trace(t, opt).result, InterleaveReport::invalid);
}

// An encoding whose updates are not atomic, in one of three ways, each a scheduling point in the
// middle of an operation: what interleave must catch without a kernel tree.
class Racy final : public Implementation {
 public:
  enum Flaw { torn_store, lost_update, warns_when_overlapped };
  explicit Racy(Flaw flaw) : m_flaw(flaw), m_inner(make_implementation("mm-id-64")) {}
  std::string_view name() const override { return "racy"; }
  bool supports(const Setup& s) const override { return m_inner->supports(s); }
  void reset(const Setup& s) override {
    m_inner->reset(s);
    m_log.clear();
    m_in_flight = 0;
    m_started = 0;
    m_torn_result.reset();
  }
  void apply(const Op& op) override {
    if (op_is_reader(op.kind)) {
      m_inner->apply(op);
      // A lockless reader in the middle of a torn store sees half of it.
      m_torn_result = m_flaw == torn_store && m_in_flight ? std::optional<int64_t>(65536) : std::nullopt;
      return;
    }
    const uint64_t started = ++m_started;
    m_in_flight++;
    if (foliocheck_sched_point) foliocheck_sched_point(nullptr, 0, FOLIOCHECK_ACCESS_RMW, -1);
    m_in_flight--;
    const bool overlapped = m_started != started;
    if (m_flaw == lost_update && overlapped) return;  // the other update overwrote this one
    if (m_flaw == warns_when_overlapped && overlapped) m_log.push_back("racy: overlapped update");
    m_inner->apply(op);
  }
  bool models(Obs obs) const override { return m_inner->models(obs); }
  int64_t read(Obs obs, uint32_t index) const override {
    if (obs == Obs::result && m_torn_result) return *m_torn_result;
    return m_inner->read(obs, index);
  }
  std::optional<Violation> check_invariants(PageRange scope, bool full) const override {
    return m_inner->check_invariants(scope, full);
  }
  std::optional<Violation> check_free() const override { return m_inner->check_free(); }
  std::span<const std::string> warning_log() const override { return m_log; }

 private:
  Flaw m_flaw;
  std::unique_ptr<Implementation> m_inner;
  std::vector<std::string> m_log;
  int m_in_flight = 0;
  uint64_t m_started = 0;
  std::optional<int64_t> m_torn_result;
};

constexpr const char* kReaders =
    "foliocheck-trace 1\n"
    "config semantics=mm-id bits=64\n"
    "folio order=2 type=file\n"
    "folio_add_file_rmap_ptes mm=1 page=0 nr=1\n"
    "concurrent\n"
    "folio_remove_rmap_ptes mm=1 page=0 nr=1\n"
    "folio_add_file_rmap_ptes mm=2 page=1 nr=2\n"
    "folio_mapcount\n"
    "end\n";

InterleaveReport run_racy(Racy::Flaw flaw, const char* text = kReaders) {
  Racy impl(flaw);
  return interleave_trace(parse(text), InterleaveOptions{}, impl);
}

TEST(Interleave, AReaderSeeingATornStoreIsOutsideTheSequentialBounds) {
  const InterleaveReport r = run_racy(Racy::torn_store);
  ASSERT_EQ(r.result, InterleaveReport::finding) << r.message;
  EXPECT_EQ(r.found->what.rfind("reader outside the sequential bounds: ", 0), 0u) << r.found->what;
  // Sequentially the reader sees 1, 0, 3 or 2 mappings.
  EXPECT_NE(r.found->what.find("returned 65536"), std::string::npos) << r.found->what;
  EXPECT_NE(r.found->what.find("{0, 1, 2, 3}"), std::string::npos) << r.found->what;
}

TEST(Interleave, ALostUpdateMatchesNoSequentialOrder) {
  const InterleaveReport r = run_racy(Racy::lost_update);
  ASSERT_EQ(r.result, InterleaveReport::finding) << r.message;
  EXPECT_EQ(r.found->what.rfind(
                "the result matches no sequential order of the block (against the first: ", 0),
            0u)
      << r.found->what;
}

TEST(Interleave, AWarningOnlyAnInterleavingFiresIsAFinding) {
  const InterleaveReport r = run_racy(Racy::warns_when_overlapped);
  ASSERT_EQ(r.result, InterleaveReport::finding) << r.message;
  EXPECT_EQ(r.found->what.rfind("kernel warning that no sequential order fires: ", 0), 0u);
  EXPECT_NE(r.found->what.find("racy: overlapped update"), std::string::npos) << r.found->what;
}

TEST(Interleave, ReadersOfAnAtomicEncodingStayInBoundsInEveryInterleaving) {
  // The same double with its flaw unreachable (no reader overlaps a store on the encodings).
  InterleaveOptions opt;
  opt.impl = "mm-id-64";
  const InterleaveReport r = interleave_trace(parse(kReaders), opt);
  ASSERT_EQ(r.result, InterleaveReport::ok) << r.message;
  EXPECT_EQ(r.blocks[0].orders, 6u);
  EXPECT_TRUE(r.admitted.empty());
}

TEST(Interleave, AStaleSharedBitIsAdmittedWithTheCommentNotAFinding) {
  // Three mms mapped, two left: the shared bit stays set (no slot owns mm 3's mappings).
  const Trace t = parse(
      "foliocheck-trace 1\nconfig semantics=mm-id bits=64 pmd_order=3\nfolio order=2 type=anon\n"
      "folio_add_new_anon_rmap mm=1 exclusive\n"
      "folio_try_dup_anon_rmap_ptes mm=2 src=1 page=0 nr=4\n"
      "folio_try_dup_anon_rmap_ptes mm=3 src=1 page=0 nr=4\n"
      "folio_remove_rmap_ptes mm=1 page=0 nr=4\nfolio_remove_rmap_ptes mm=2 page=0 nr=4\n"
      "concurrent\nfolio_maybe_mapped_shared\nwp_can_reuse_large_anon_folio mm=3\nend\n");
  InterleaveOptions opt;
  opt.impl = "mm-id-64";
  const InterleaveReport r = interleave_trace(t, opt);
  ASSERT_EQ(r.result, InterleaveReport::ok) << r.message;
  ASSERT_EQ(r.admitted.size(), 1u);
  EXPECT_EQ(r.admitted[0].what.rfind("reader value admitted by a kernel comment: ", 0), 0u)
      << r.admitted[0].what;
  EXPECT_NE(r.admitted[0].what.find("more than two MMs at one point in time"), std::string::npos);
  EXPECT_EQ(r.admitted[0].interleavings, 2u);
}

TEST(Interleave, DporTreatsStepsWithoutSchedulingPointsAsDependent) {
  // An encoding's operation is one step that reports no access: DPOR must not take the two
  // orders as equivalent, so it runs both, as the unreduced enumeration does, and says it is complete.
  Trace t = parse(kBlock);
  t.blocks[0].schedule = {};
  InterleaveOptions opt;
  opt.impl = "mm-id-64";
  opt.collect_states = true;
  const InterleaveReport dpor = interleave_trace(t, opt);
  opt.reduce = false;
  const InterleaveReport all = interleave_trace(t, opt);
  ASSERT_EQ(dpor.result, InterleaveReport::ok) << dpor.message;
  ASSERT_EQ(all.result, InterleaveReport::ok) << all.message;
  EXPECT_EQ(dpor.blocks[0].interleavings, 2u);
  EXPECT_TRUE(dpor.blocks[0].complete);
  EXPECT_EQ(dpor.blocks[0].final_states, all.blocks[0].final_states);
}

TEST(Interleave, GeneratedBlocksAreLegalInEveryOrderAndDeterministicPerSeed) {
  std::mt19937_64 a(7), b(7);
  for (int i = 0; i < 20; i++) {
    const std::optional<Trace> t = generate_concurrent_trace(a, "mm-id-64");
    ASSERT_TRUE(t);
    EXPECT_EQ(*t, *generate_concurrent_trace(b, "mm-id-64"));
    ASSERT_EQ(t->blocks.size(), 1u);
    const std::vector<size_t> threads = t->block_threads(1);
    EXPECT_GE(threads.size(), 2u);
    EXPECT_LE(threads.size(), 3u);
    InterleaveOptions opt;
    opt.impl = "mm-id-64";
    const InterleaveReport r = interleave_trace(*t, opt);
    // Invalid would mean some order is refused: the generator promised every order is legal.
    EXPECT_EQ(r.result, InterleaveReport::ok) << r.message << "\n" << print_trace(*t);
    size_t orders = 1;
    for (size_t k = 2; k <= threads.size(); k++) orders *= k;
    EXPECT_EQ(r.blocks[0].orders, orders) << print_trace(*t);
  }
}

// With a kernel tree built in: DPOR reaches exactly the end states (every observable and the
// warnings) that running every interleaving reaches, on blocks small enough to run them all.
TEST(InterleaveKernel, DporReachesTheSameEndStatesAsEveryInterleaving) {
  if (kernel_implementation_names().empty()) GTEST_SKIP() << "no kernel tree in this build";
  // Longest block run unreduced: 16 steps (C(16, 8) = 12870 interleavings at most) unless
  // FOLIOCHECK_VALIDATE_STEPS says more (docs/interleave.md quotes a run with 40: every corpus block).
  const char* env = std::getenv("FOLIOCHECK_VALIDATE_STEPS");
  const uint64_t max_steps = env ? std::strtoull(env, nullptr, 10) : 16;
  std::vector<Trace> blocks;
  // The concurrent corpus: what 2 preemptions reach, DPOR reaches; where every interleaving is
  // within reach (6.12's blocks, 16 steps), below, the same end states.
  for (const auto& entry : std::filesystem::directory_iterator(FOLIOCHECK_CONCURRENT_DIR)) {
    ParseResult r = parse_trace_file(entry.path().string());
    ASSERT_FALSE(r.error) << r.error->describe();
    InterleaveOptions opt;
    opt.collect_states = true;
    const InterleaveReport d = interleave_trace(*r.trace, opt);
    opt.preemptions = 2;
    const InterleaveReport b = interleave_trace(*r.trace, opt);
    ASSERT_EQ(d.result, InterleaveReport::ok) << d.message;
    ASSERT_EQ(b.result, InterleaveReport::ok) << b.message;
    for (const std::string& s : b.blocks[0].final_states)
      EXPECT_TRUE(d.blocks[0].final_states.contains(s)) << entry.path() << ": " << s;
    if (d.blocks[0].max_steps <= max_steps) blocks.push_back(*r.trace);
  }
  std::mt19937_64 rng(12);
  size_t compared = 0, generated = 0;
  while (generated < 40) {
    std::optional<Trace> t = generate_concurrent_trace(rng, "kernel");
    ASSERT_TRUE(t);
    if (t->block_threads(1).size() != 2) continue;  // three threads: too many to run them all
    blocks.push_back(*t);
    generated++;
  }
  for (const Trace& t : blocks) {
    InterleaveOptions opt;
    opt.collect_states = true;
    InterleaveOptions all = opt;
    all.reduce = false;
    const InterleaveReport d = interleave_trace(t, opt);
    ASSERT_EQ(d.result, InterleaveReport::ok) << d.message << "\n" << print_trace(t);
    ASSERT_TRUE(d.blocks[0].complete);
    if (d.blocks[0].max_steps > max_steps) continue;
    const InterleaveReport e = interleave_trace(t, all);
    ASSERT_EQ(e.result, InterleaveReport::ok) << e.message;
    EXPECT_EQ(d.blocks[0].final_states, e.blocks[0].final_states) << print_trace(t);
    EXPECT_LE(d.blocks[0].interleavings, e.blocks[0].interleavings);
    compared++;
  }
  std::cout << compared << " blocks compared with every interleaving\n";
  EXPECT_GE(compared, 20u);
}

TEST(InterleaveKernel, AStaleReadOfNrPagesMappedIsAKnownRaceNotAFinding) {
  if (kernel_implementation_names().empty()) GTEST_SKIP() << "no kernel tree in this build";
  for (const char* name : {"pmd-map-races-pte-unmap-anon.trace", "v6.12-pmd-map-races-pte-unmap-anon.trace"}) {
    ParseResult p = parse_trace_file(std::string(FOLIOCHECK_CONCURRENT_DIR) + "/" + name);
    ASSERT_FALSE(p.error) << p.error->describe();
    const InterleaveReport r = interleave_trace(*p.trace, InterleaveOptions{});
    ASSERT_EQ(r.result, InterleaveReport::ok) << name << ": " << r.message;
    EXPECT_GT(r.blocks[0].admitted, 0u) << name;
    EXPECT_NE(r.blocks[0].first_admitted.find(obs_info(Obs::partially_mapped).name), std::string::npos);
    // Its expects still hold in those interleavings: an expect on partially_mapped=0 fails.
    Trace t = *p.trace;
    t.statements.back().expects.push_back(Expectation{Obs::partially_mapped, 0, 0, 0});
    EXPECT_EQ(interleave_trace(t, InterleaveOptions{}).result, InterleaveReport::finding) << name;
  }
}

TEST(Interleave, EveryRaceMutantHasANameThatActivatesIt) {
  ASSERT_GE(race_mutants().size(), 4u);
  EXPECT_FALSE(activate_race_mutant("no-such-mutant"));
}

}  // namespace
}  // namespace foliocheck

// Claims about concurrent blocks in the trace format and the interleave engine without a kernel tree.
#include <gtest/gtest.h>

#include <memory>

#include "core/legality.h"
#include "impl/registry.h"
#include "impl/sched_hook.h"
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
    if (foliocheck_sched_point) foliocheck_sched_point(nullptr, -1);
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

TEST(Interleave, EveryRaceMutantHasANameThatActivatesIt) {
  ASSERT_GE(race_mutants().size(), 2u);
  EXPECT_FALSE(activate_race_mutant("no-such-mutant"));
}

}  // namespace
}  // namespace foliocheck

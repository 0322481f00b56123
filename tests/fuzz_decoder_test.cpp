// Claims about the fuzz input format's repetitions (fuzz/decoder.h): long runs are one record away on any input, and cheap ones stay cheap.
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "core/reference_model.h"
#include "fuzz/decoder.h"
#include "impl/mutants.h"
#include "trace/replay.h"

namespace foliocheck {
namespace {

// "FC", mm-id at 32 bits, a file folio, scaled geometry, order = pmd_order (4 pages).
std::vector<uint8_t> input_32bit_mm_id_file() { return {'F', 'C', 1 | 4 | 8, 0, 2}; }

void add_record(std::vector<uint8_t>& in, uint8_t nr, uint8_t flags) {
  // kind 0 on a fresh file folio: the first operation that can be legal (a file PTE add).
  in.insert(in.end(), {0, 0, 0, nr, flags});
}

// A short call, then the top repetition class of the same call.
DecodeResult short_then_long_run() {
  std::vector<uint8_t> in = input_32bit_mm_id_file();
  add_record(in, 0, 0x00);
  add_record(in, 0, 0xFF);
  return decode_fuzz_input(in);
}

TEST(FuzzDecoder, TheTopRepetitionClassIsALongRunOnAnyInput) {
  const DecodeResult d = short_then_long_run();
  ASSERT_TRUE(d.trace) << d.error;
  ASSERT_EQ(d.trace->statements.size(), 2u);
  EXPECT_EQ(d.trace->statements[0].operation.repeat, 1u);
  EXPECT_EQ(d.trace->statements[1].operation.repeat, kFuzzLongRepeats[std::size(kFuzzLongRepeats) - 1]);
}

// The run the top class asks for takes one mm of a 32-bit CONFIG_MM_ID folio past SHRT_MAX
// mappings: the overflow mutant dies on it, the correct encodings agree with the model.
TEST(FuzzDecoder, OneLongRunKillsTheSlotOverflowMutant) {
  const DecodeResult d = short_then_long_run();
  ASSERT_TRUE(d.trace) << d.error;
  EXPECT_EQ(replay_trace(*d.trace, {}).result, ReplayReport::ok);
  set_active_mutant(Mutant::overflow_keeps_negative_slot);
  const ReplayReport mutated = replay_trace(*d.trace, {});
  set_active_mutant(Mutant::none);
  EXPECT_EQ(mutated.result, ReplayReport::violation);
}

// Short repetitions keep their own small budget: a long run that spends all of its own (two
// pages a repetition) leaves the short ones theirs.
TEST(FuzzDecoder, ALongRunLeavesTheShortBudgetAlone) {
  std::vector<uint8_t> in = input_32bit_mm_id_file();
  add_record(in, 1, 0xFF);                            // two pages, as long as the budget allows
  add_record(in, 3, static_cast<uint8_t>(121 << 1));  // four pages, the longest short class: x=11
  const DecodeResult d = decode_fuzz_input(in);
  ASSERT_TRUE(d.trace) << d.error;
  ASSERT_EQ(d.trace->statements.size(), 2u);
  EXPECT_EQ(d.trace->statements[0].operation.nr, 2u);
  EXPECT_EQ(d.trace->statements[0].operation.repeat, 1 + kFuzzLongRepeatBudget / 2);
  EXPECT_EQ(d.trace->statements[1].operation.repeat, 11u);
}


// Everything the model answers, and the history its contracts read: what must not tell a long
// run applied at once from its calls one by one.
std::vector<int64_t> model_answers(const ReferenceModel& m) {
  std::vector<uint32_t> mms;
  for (const auto& [mm, held] : m.mms()) mms.push_back(mm);
  std::vector<int64_t> out;
  for (int i = 0; i < kNumObs; i++) {
    const Obs obs = static_cast<Obs>(i);
    if (!m.models(obs)) continue;
    for (uint32_t index : obs_indexes(obs, m.setup(), mms)) out.push_back(m.read(obs, index));
  }
  for (const auto& [mm, held] : m.mms()) {
    out.insert(out.end(), {mm, held.pmd, held.pud, held.hugetlb, m.mm_has_pinned(mm)});
    out.insert(out.end(), held.pte.begin(), held.pte.end());
  }
  const History& h = m.history();
  out.insert(out.end(), {h.ever_mapped, h.epoch_max_mms,
                         static_cast<int64_t>(h.epoch_max_mm_mappings), m.pins()});
  return out;
}

// Differential::advance (the fuzz target's long runs) applies x=K to the model with one call.
TEST(FuzzDecoder, ARunAppliedToTheModelAtOnceLeavesItAsItsCallsOneByOneDo) {
  std::mt19937 rng(11);
  size_t runs = 0;
  for (int input = 0; input < 3000; input++) {
    std::vector<uint8_t> in = {'F', 'C'};
    const size_t len = 3 + 5 * (1 + rng() % 12);
    while (in.size() < len) in.push_back(static_cast<uint8_t>(rng()));
    const DecodeResult d = decode_fuzz_input(in);
    if (!d.trace) continue;
    ASSERT_FALSE(d.harness) << d.error;
    ReferenceModel one_by_one, at_once;
    one_by_one.reset(d.trace->setup);
    at_once.reset(d.trace->setup);
    for (const Statement& st : d.trace->statements) {
      const Op& op = st.operation;
      for (uint32_t k = 0; k < op.repeat; k++) one_by_one.apply(op);
      at_once.apply_times(op, op.repeat);
      runs += op.repeat > 1;
      const auto drift = at_once.check_invariants({0, 0}, true);
      ASSERT_FALSE(drift) << drift->describe();
      ASSERT_EQ(model_answers(at_once), model_answers(one_by_one))
          << "after line " << st.line << " of\n" << print_trace(*d.trace);
    }
  }
  EXPECT_GT(runs, 1000u) << "too few repetitions to show anything";
}

}  // namespace
}  // namespace foliocheck

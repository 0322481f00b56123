// Exhaustive exploration (DPOR, or preemption-bounded) of a trace's concurrent blocks on one implementation.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/implementation.h"
#include "trace/trace.h"

namespace foliocheck {

struct InterleaveOptions {
  std::string impl = "kernel";  // the implementation whose code is interleaved
  // Most context switches away from a thread that could go on; none: every interleaving, up to
  // the equivalence of steps that commute (DPOR).
  std::optional<uint32_t> preemptions;
  bool reduce = true;           // DPOR mode: false runs every interleaving, unreduced (a baseline)
  // Fill BlockStats::final_states (a finding is noted in the state's text and the exploration
  // goes on: the set of end states and findings of the whole block).
  bool collect_states = false;
  uint64_t max_steps = 100000;  // scheduling steps of one interleaving before it counts as a livelock
};

// One block's exploration.
struct BlockStats {
  uint32_t block = 0;          // 1-based
  uint32_t line = 0;           // of its `concurrent`
  size_t threads = 0;
  size_t orders = 0;           // sequential orders the model accepts
  uint64_t interleavings = 0;  // schedules run to their end
  uint64_t redundant = 0;      // DPOR: runs cut short by sleep sets (equivalent to one run before)
  bool complete = false;       // DPOR ran to its end: every behaviour of the block was checked
  uint64_t max_steps = 0;      // longest schedule, in scheduling steps
  bool pinned = false;         // the trace pinned one schedule: only that one ran
  double seconds = 0;
  std::set<std::string> final_states;  // with InterleaveOptions::collect_states
  // Interleavings that differ from every sequential order only in a race the kernel admits
  // (interleave/admitted.def): not findings. The first one's observable, race and citation.
  uint64_t admitted = 0;
  std::string first_admitted;
};

struct InterleaveFinding {
  uint32_t block = 0;
  std::vector<uint32_t> schedule;  // complete: every step of the interleaving
  std::string what;                // one sentence
};

// A reader thread's value outside what sequential orders give but inside what a kernel comment
// admits: reported, not a finding (docs/interleave.md).
struct AdmittedRead {
  uint32_t block = 0;
  std::vector<uint32_t> schedule;  // the first interleaving that showed it
  std::string what;                // one sentence, with the comment it cites
  uint64_t interleavings = 0;      // how many interleavings showed such a value
};

struct InterleaveReport {
  enum Result : uint8_t { ok, finding, invalid, error } result = ok;
  std::string impl;
  std::string message;  // invalid/error: what is wrong
  uint32_t line = 0;    // invalid: where
  std::vector<BlockStats> blocks;
  std::optional<InterleaveFinding> found;
  std::vector<AdmittedRead> admitted;  // at most one per block
};

// Runs every concurrent block of `trace`: the state before a block is the sequential run of what
// precedes it (Trace::sequential_order); each operation of the block is a cooperative thread; every
// interleaving up to equivalence (DPOR), or with at most opt.preemptions preemptions, or the block's
// pinned schedule, runs on
// the implementation, and at quiescence must (a) agree (check_agreement) with the model after SOME
// order of the block's operations the model accepts, (b) have fired no kernel warning that no such
// order fires, (c) have each reader thread (a kRead operation of ops.def) return a value that
// some sequential order gives it (a value only a kernel comment admits is reported in
// `admitted`), (d) satisfy the expects that follow the block; a deadlock or livelock is a finding
// too. Stops at the first finding.
InterleaveReport interleave_trace(const Trace& trace, const InterleaveOptions& opt);
// The same on an implementation the caller made (opt.impl is not used): tests drive doubles
// with scheduling points of their own through it.
InterleaveReport interleave_trace(const Trace& trace, const InterleaveOptions& opt,
                                  Implementation& impl);

// `trace` with block k's schedule pinned: what a finding is written as, to be replayed.
Trace pin_schedule(const Trace& trace, uint32_t block, const std::vector<uint32_t>& schedule);

// The race mutants (impl/race_mutants.def).
struct RaceMutantInfo {
  std::string_view name;
  std::string_view sentence;
};
std::span<const RaceMutantInfo> race_mutants();
// Turns the named race mutant on (process-wide); false if there is none of that name.
bool activate_race_mutant(std::string_view name);

}  // namespace foliocheck

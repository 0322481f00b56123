// Runs a property under RapidCheck with foliocheck's budget, coverage table and failure traces.
#pragma once

#include <rapidcheck.h>

#include <array>
#include <bitset>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/state_class.h"
#include "trace/trace.h"
#include "core/state_class.h"
#include "core/vocab.h"

namespace foliocheck::props {

// ---- budget -------------------------------------------------------------------------------------

// FOLIOCHECK_BUDGET=ci (default) or nightly.
enum class BudgetLevel : uint8_t { ci, nightly };
// Throws std::invalid_argument naming the variable when it holds anything else.
BudgetLevel budget_level();

struct Budget {
  int max_success;  // test cases
  int max_size;     // longest operation sequence
};
// RapidCheck's configured parameters (seed from RC_PARAMS, or random) with max_success and max_size
// from the budget of the current level, unless RC_PARAMS sets them itself.
rc::detail::TestParams params_for(Budget ci, Budget nightly);

// FOLIOCHECK_MUTANT=NAME runs the suite against one mutant of the zoo (what `--mutant=NAME` does
// for the command line); unset or empty leaves the encodings alone. Throws std::invalid_argument
// naming the variable for a name the zoo does not have.
void activate_mutant_from_env();

// Whether RC_PARAMS="reproduce=..." names other properties but not `id`: RapidCheck then skips it.
bool reproducing_another(const std::string& id);

// ---- classification -----------------------------------------------------------------------------

// The named states (milestones) and abstract state classes are defined once, in
// core/state_class.def; the suite counts the milestones per test case and maps the classes.
using State = Milestone;
inline constexpr size_t kNumStates = kNumMilestones;
using StateInfo = MilestoneInfo;
inline const StateInfo& state_info(State s) { return milestone_info(s); }

// States one test case reached, and the operations of the alphabet it ran.
struct Reached {
  std::bitset<kNumStates> bits;
  std::bitset<kNumOpKinds> ops;
  void set(State s) { bits.set(static_cast<size_t>(s)); }
  bool test(State s) const { return bits.test(static_cast<size_t>(s)); }
};
struct CoverageTotals {
  uint64_t cases = 0;
  uint64_t operations = 0;  // operations run (x=K counts K), over all cases
  std::array<uint64_t, kNumStates> reached{};
  std::array<uint64_t, kNumOpKinds> ops{};  // cases that ran each operation
  StateMap map;  // abstract state classes reached by passing and failing cases alike
};
// Notes the state class `model` is in after `op` in the running property's state map.
void note_state_class(const ReferenceModel& model,
                      std::span<const std::unique_ptr<Implementation>> impls, const Op& op);
// Called once at the end of each test case that passed: RC_CLASSIFY and the totals.
void report_case(const Reached& reached, uint64_t operations);
std::string format_coverage(const CoverageTotals& totals);

// ---- failures -----------------------------------------------------------------------------------

// A trace a failing test case leaves behind; `suffix` tells several apart ("other-order").
struct CapturedTrace {
  std::string suffix;
  Trace trace;
};
// Called by a property right before it fails. The last call of a check is the shrunk
// counterexample: RapidCheck accepts every failing shrink, so the final one runs last.
void capture_failure(std::vector<CapturedTrace> traces, std::string message);

// $FOLIOCHECK_FAILURE_DIR, or findings/properties under the working directory; created.
std::filesystem::path failure_dir();

// ---- running ------------------------------------------------------------------------------------

enum class Listener : uint8_t {
  global,  // RapidCheck's own: prints RC_PARAMS="reproduce=..." for failures at exit
  quiet,   // nothing printed (mutant kills, where failing is the point)
};

struct PropertyOutcome {
  enum Kind : uint8_t { passed, failed, gave_up, error } kind = passed;
  std::string report;  // what a person reads: RapidCheck's message, paths, commands
  std::vector<std::string> trace_paths;  // written trace files (failed only)
  size_t trace_len = 0;                  // operations in the first trace
  std::string violation;                 // the failing check's message
  std::string reproduce;                 // RC_PARAMS="reproduce=..." (failed only)
  bool trace_is_counterexample = false;  // the first trace's operations are RapidCheck's own
  uint64_t executions = 0;               // property bodies run, shrinking included
  int cases = 0;                         // test cases that passed
  CoverageTotals coverage;
};

// Checks `body` as property `id` (what RC_PARAMS="reproduce=..." names). On failure writes every
// captured trace under failure_dir() and puts the `foliocheck replay` command into the report.
PropertyOutcome run_property(const std::string& id, const std::function<void()>& body,
                             const rc::detail::TestParams& params, Listener listener);

// Writes `trace` with a comment block saying where it came from; returns the path.
std::string write_trace(const std::string& stem, const CapturedTrace& trace,
                        const std::string& why);
// `foliocheck replay [--mutant=NAME] PATH` for the active mutant.
std::string replay_command(const std::string& path);

}  // namespace foliocheck::props

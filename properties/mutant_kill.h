// Kills one mutant of the zoo with the agreement property: the mutant test and `mutants`.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "impl/mutants.h"
#include "impl/registry.h"

namespace foliocheck::props {

// The longest trace a kill is expected to shrink to: the mutant test's claim.
inline constexpr size_t kShortKill = 8;

// Rounds of 100 test cases a ci-level kill may take. The slowest RapidCheck kill of the zoo,
// ebusy-first-page-only, took 200 to 10,300 test cases over 90 seeds (median 1,900); with 60
// seconds, an ASan+UBSan build (15 ms a case) let a seed needing 5,300 survive in CI.
inline constexpr uint64_t kCiKillRounds = 300;

struct KillBudget {
  // Give up after this long. 0: from FOLIOCHECK_BUDGET, nightly 600 s; ci gives up after
  // kCiKillRounds rounds instead (1,200 s at most), so that a sanitizer build, tens of times
  // slower, searches as far as a plain one.
  double seconds = 0;
  int max_size = 0;   // longest operation sequence; 0: the level's default
  uint64_t seed = 0;  // 0: RapidCheck's configured seed (RC_PARAMS="seed=..." or random)
  uint64_t rounds = 0;  // give up after this many rounds of 100 test cases; 0: only the time
  // RapidCheck's shrinker can stop in a local minimum (a few percent of seeds leave 9 or 10
  // operations where 4 do); a longer kill keeps the search going for a shorter one.
  size_t short_enough = kShortKill;
};

struct KillResult {
  bool killed = false;
  double seconds = 0;                    // wall time, shrinking included
  uint64_t executions = 0;               // property bodies run, shrinking included
  uint64_t rounds = 0;                   // rounds of 100 test cases run, each with its own seed
  size_t trace_len = 0;                  // operations in the shrunk trace
  std::string trace_path;                // the shrunk trace, written under failure_dir()
  std::string violation;                 // what the property reported
  std::string reproduce;                 // RC_PARAMS="reproduce=..."
  std::string replay;                    // `foliocheck replay --mutant=NAME PATH`
  bool trace_is_counterexample = false;  // the trace holds RapidCheck's own shrunk commands
  std::string report;                    // RapidCheck's message and the paths, for a person
};

// The implementations a mutant can change (its mutants.def encodings column, comma-separated),
// among those make_implementation() knows.
std::vector<std::string> mutant_impls(Mutant m);

// Runs the agreement claim ("every encoding agrees with the reference model") with `m` active on
// setups its encodings support, in rounds of 100 test cases with fresh seeds, until a failure
// that shrinks to at most budget.short_enough operations, or the time budget; then the shortest
// failure found is the result and its trace is the one on disk. Restores the previously active
// mutant.
KillResult kill_with_rapidcheck(Mutant m, const KillBudget& budget = {});

}  // namespace foliocheck::props

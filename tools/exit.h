// The exit status of every `foliocheck` command: one name per code, and what a replay maps to.
#pragma once

#include <algorithm>
#include <string_view>

namespace foliocheck {
struct ReplayReport;
}

namespace foliocheck::cli {

// FOLIOCHECK_EXIT(name, code, "what it means"); `foliocheck help` prints the table. The codes are
// ordered by severity: when several files or runs end differently, the highest code wins.
#define FOLIOCHECK_EXITS(X)                                                            \
  X(ok, 0, "ok")                                                                       \
  X(finding, 1, "finding (violation, failed expect, a mutant that survived)")          \
  X(usage, 2, "bad input or usage (file:line:column, or the flag that is wrong)")      \
  X(harness, 3, "harness bug (foliocheck disagrees with itself)")

enum class Exit : int {
#define FOLIOCHECK_EXIT(name, code, meaning) name = code,
  FOLIOCHECK_EXITS(FOLIOCHECK_EXIT)
#undef FOLIOCHECK_EXIT
};

// The worse of two outcomes: harness bug, then bad input, then a finding, then ok.
constexpr Exit worse(Exit a, Exit b) { return static_cast<int>(a) >= static_cast<int>(b) ? a : b; }

// What `foliocheck replay` exits with for one report: ok; a violation or failed expect is a
// finding, unless it is the model disagreeing with its own recount (a harness bug); invalid input
// is a usage error, unless --allow-invalid ran it; an error (bad config, unknown implementation,
// an expect nobody models) is a usage error.
Exit replay_exit_code(const ReplayReport& report);

}  // namespace foliocheck::cli

// Binds `foliocheck mutants --engine=rapidcheck` to the property suite when the build has one.
#include "tools/mutant_engines.h"

#if defined(FOLIOCHECK_HAVE_PROPERTIES) && __has_include("properties/mutant_kill.h")
#include "properties/mutant_kill.h"
#define FOLIOCHECK_RAPIDCHECK_ENGINE 1
#endif

namespace foliocheck::cli {

#ifdef FOLIOCHECK_RAPIDCHECK_ENGINE
namespace {

RapidcheckKill kill(const MutantInfo& mutant, double budget_seconds) {
  RapidcheckKill out;
  props::KillBudget budget;
  budget.seconds = budget_seconds;
  try {
    const props::KillResult r = props::kill_with_rapidcheck(mutant.mutant, budget);
    out.killed = r.killed;
    out.seconds = r.seconds;
    out.executions = r.executions;
    if (r.killed) {
      out.length = static_cast<int64_t>(r.trace_len);
      out.note = r.violation + (r.trace_path.empty() ? "" : " (" + r.trace_path + ")");
    } else {
      out.note = "no failing case in " + std::to_string(r.executions) + " test cases";
    }
  } catch (const std::exception& e) {
    out.error = e.what();
  }
  return out;
}

}  // namespace

RapidcheckEngine rapidcheck_engine() { return &kill; }
#else
RapidcheckEngine rapidcheck_engine() { return nullptr; }
#endif

}  // namespace foliocheck::cli

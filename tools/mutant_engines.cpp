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
  (void)mutant;
  (void)budget_seconds;
  out.error = "properties/mutant_kill.h is not wired up yet";
  return out;
}

}  // namespace

RapidcheckEngine rapidcheck_engine() { return &kill; }
#else
RapidcheckEngine rapidcheck_engine() { return nullptr; }
#endif

}  // namespace foliocheck::cli

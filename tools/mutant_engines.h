// The engines `foliocheck mutants` borrows from other parts of foliocheck, present or not in a
// build.
#pragma once

#include <cstdint>
#include <string>

#include "impl/mutants.h"

namespace foliocheck::cli {

// What the CI-budget property run did to one mutant.
struct RapidcheckKill {
  bool killed = false;
  double seconds = 0;
  uint64_t executions = 0;  // test cases run
  int64_t length = -1;      // operations in the shrunk counterexample
  std::string note;         // the failing property, or what ran in vain
  std::string error;        // the engine could not run
};
using RapidcheckEngine = RapidcheckKill (*)(const MutantInfo& mutant, double budget_seconds);

// nullptr when this foliocheck was built without the property suite.
RapidcheckEngine rapidcheck_engine();

}  // namespace foliocheck::cli

// Replays a trace through the reference model and selected implementations, checking `expect`s.
#pragma once

#include <iosfwd>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/implementation.h"
#include "trace/trace.h"

namespace foliocheck {

struct ReplayOptions {
  std::vector<std::string> impls;  // empty: every implementation that supports the trace's setup
  bool allow_invalid = false;      // run the first invalid operation on the implementations, stop
  std::ostream* log = nullptr;     // one line per operation with the main counters, if set
  uint32_t sweep_every = 0;        // full agreement sweep period (see Differential; 0: auto)
};

struct ReplayReport {
  // How replay ended (the command line maps it to an exit status: tools/exit.h).
  enum Result : uint8_t { ok, violation, invalid, error } result = ok;
  size_t ops = 0;               // operation statements run to completion
  size_t expects = 0;           // expectations checked
  uint32_t line = 0;            // where it stopped (violation, invalid, error)
  uint32_t column = 0;
  size_t op_index = 0;          // 1-based index of the operation that stopped replay
  std::string message;          // invalid/error: what is wrong; violation: one line
  std::optional<Violation> found;  // the violation or failed expect
  bool failed_expect = false;
  bool ran_invalid = false;     // --allow-invalid ran the invalid operation
  std::vector<std::pair<std::string, std::vector<std::string>>> warnings;  // per implementation
  std::vector<std::string> impls;  // what ran, model first
  // Final scalar observables per implementation (model first), name -> value.
  std::vector<std::pair<std::string, std::vector<std::pair<std::string, int64_t>>>> final_obs;
};
std::string_view replay_result_name(ReplayReport::Result r);

ReplayReport replay_trace(const Trace& trace, const ReplayOptions& options);

}  // namespace foliocheck

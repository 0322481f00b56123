// The mapping from a replay's result to the process exit status belongs to the command line.
#include "tools/exit.h"

#include "trace/replay.h"

namespace foliocheck::cli {

Exit replay_exit_code(const ReplayReport& r) {
  switch (r.result) {
    case ReplayReport::ok: return Exit::ok;
    case ReplayReport::violation:
      // A harness bug is foliocheck disagreeing with itself, never a finding about an encoding.
      return r.found && r.found->kind == ViolationKind::harness ? Exit::harness : Exit::finding;
    case ReplayReport::invalid: return r.ran_invalid ? Exit::ok : Exit::usage;
    case ReplayReport::error: return Exit::usage;
  }
  return Exit::usage;
}

}  // namespace foliocheck::cli

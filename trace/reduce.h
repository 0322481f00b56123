// Trace reduction: shrinks a failing trace while it keeps failing with the same signature.
//
// Like libFuzzer's minimiser with DEDUP_TOKEN, every candidate is replayed and kept only if it
// stops with a violation of the same signature (Violation::signature(): kind, implementation,
// field), so reduction never slides onto a different bug. Candidates, tried until none helps:
// cutting everything after the failing operation; deleting chunks of statements (halving chunk
// sizes down to single statements), then pairs of statements that only matter together (a map
// and its unmap); per operation, x=1 or a smaller x, no `exclusive`, a smaller nr and a lower
// page; renumbering the mms to 1, 2, ... and merging two mms into one; lowering the folio order
// together with the geometry (a PMD-sized folio stays PMD-sized); shifting every page index
// down; merging an operation repeated in a row into one with x=K; running a `concurrent`
// block's threads in sequence, in the order replay runs them. A block's schedule follows the
// threads it keeps (Trace::carry_schedules), and every candidate is replayed as its printed
// file reads back, so the trace written out fails as the one tested. A mutant selected with
// set_active_mutant() stays active for every replay.
#pragma once

#include <cstddef>
#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "trace/replay.h"
#include "trace/trace.h"

namespace foliocheck {

struct ReduceOptions {
  std::vector<std::string> impls;  // as ReplayOptions::impls: empty means all that support it
  uint32_t sweep_every = 0;        // as replay, so that the reduced trace fails the same way there
  size_t max_replays = 200000;     // candidates to try at most
  std::ostream* log = nullptr;     // one line per accepted candidate, if set
};

// What a trace looks like, for "before -> after" lines.
struct TraceSize {
  size_t ops = 0;          // operation statements
  size_t statements = 0;   // operations and expects
  size_t bytes = 0;        // of print_trace()
  uint64_t executions = 0; // operations counting x=K repetitions
  int order = 0;
  size_t mms = 0;          // distinct mm ids named by mm= or src=
  std::string describe() const;  // "5 operations (7 executions), 2 mms, order 2, 312 bytes"
};
TraceSize measure_trace(const Trace& trace);

struct ReduceResult {
  bool ok = false;           // false: `error` says why the trace cannot be reduced
  std::string error;         // e.g. "the trace does not fail: replay ends ok"
  Trace trace;               // the reduced trace (ok)
  std::string signature;     // the failure kept
  ReplayReport report;       // replay of the reduced trace
  size_t replays = 0;        // candidates tried
  TraceSize before, after;
};

// REQUIRES: `trace` fails under `opt` with a violation (not ok, not invalid, not a parse error).
ReduceResult reduce_trace(const Trace& trace, const ReduceOptions& opt);

}  // namespace foliocheck

// Semantic drift: what changes, observable by observable, when the same traces run under another semantics.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "trace/trace.h"

namespace foliocheck {

// Why an observable drifts, so that a report reads by kernel topic rather than by field.
enum class DriftCause : uint8_t {
  partial_mapping,  // partially_mapped, nr_pages_mapped, entirely_mapped: deferred-split detection
  statistics,       // the stat.* counters
  averages,         // folio_average_page_mapcount()
  hugetlb,          // anything of a hugetlb folio
  entire_total,     // entire_mapcount and total_mapped_pages
  other,            // the rest (mapcount, sharing, pins, ...)
};
inline constexpr int kNumDriftCauses = 6;
std::string_view drift_cause_name(DriftCause c);
DriftCause drift_cause(Obs obs, const Setup& setup);

// One observable that reads differently after one operation. A side without a value does not
// model the observable (the reader does not exist there); such a change is only recorded while the
// other side's value is informative (not 0).
struct DriftChange {
  Obs obs = Obs::folio_mapcount;
  std::optional<int64_t> from, to;
  size_t op_index = 0;  // 1-based operation statement after which the values differ
  uint32_t line = 0;    // its line in the trace
  std::string describe() const;  // "stat.NR_ANON_THPS: 0 -> 4"
};

// One trace run under both semantics (the model alone: drift is about semantics, not encodings).
struct DriftRun {
  bool comparable = true;  // false: the trace cannot be expressed under `to` (why_not says why)
  std::string why_not;
  std::optional<std::string> error;  // the trace is invalid under `from` itself (bad input)
  uint32_t error_line = 0;           // where (0: the folio line's config)
  size_t ops = 0;                    // operation statements compared
  std::vector<DriftChange> changes;  // in trace order
};
// Runs `trace` with its config's semantics replaced by `from` and by `to`, comparing every scalar
// observable after each operation statement (`expect` lines are ignored).
DriftRun drift_trace(const Trace& trace, Semantics from, Semantics to);

// The smallest trace (fewest operations, then fewest repetitions) derived from `trace` by taking
// a prefix and dropping operations, on which `obs` still drifts (under `from`'s validity), with
// `expect` lines pinning both sides' values at the drifting step.
Trace smallest_drift_trace(const Trace& trace, Semantics from, Semantics to, Obs obs);

// The whole comparison over many traces, grouped by cause and, within a cause, by observable.
struct DriftFinding {
  Obs obs = Obs::folio_mapcount;
  size_t changes = 0;       // operation steps at which it drifted, over all traces
  size_t traces = 0;        // traces in which it drifted
  std::string example;      // the first change of the smallest trace, described
  std::string example_file; // where the smallest trace comes from
  Trace smallest;           // reduced, with expects for both sides as comments
};
struct DriftCauseReport {
  DriftCause cause = DriftCause::other;
  std::vector<DriftFinding> findings;  // empty: nothing drifts for this cause
};
struct DriftFileReport {
  std::string file;
  Setup setup;  // the trace's own
  DriftRun run;
};
struct DriftReport {
  Semantics from = Semantics::no_page_mapcount, to = Semantics::no_page_mapcount;
  std::vector<DriftFileReport> files;
  std::vector<DriftCauseReport> causes;  // every cause, in DriftCause order
  size_t ops = 0;
};
// `traces` are (file name, trace) pairs; each is compared, then every drifting observable is
// reduced to its smallest trace.
DriftReport drift_report(const std::vector<std::pair<std::string, Trace>>& traces, Semantics from,
                         Semantics to);

// The smallest trace as text: the trace itself, with `# from: ...` / `# to: ...` comments after
// the operation where the observable drifts, and an `expect` of the `to` values that replay checks.
std::string print_drift_trace(const Trace& smallest, Semantics from, Obs obs);

}  // namespace foliocheck

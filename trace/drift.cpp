// Semantic drift: runs each trace on two reference models, one per semantics, and reduces what differs.
#include "trace/drift.h"

#include <algorithm>
#include <array>
#include <map>

#include "core/reference_model.h"

namespace foliocheck {
namespace {

constexpr std::array<std::string_view, kNumDriftCauses> kCauseNames = {
    "partial-mapping detection", "statistics", "averages", "hugetlb", "entire mapcount/total",
    "other"};

Setup with_semantics(Setup s, Semantics sem) {
  s.config.semantics = sem;
  return s;
}

std::optional<int64_t> value(const ReferenceModel& m, Obs obs) {
  if (!m.models(obs)) return std::nullopt;
  return m.read(obs);
}

// The changes after one step: observables whose values differ, or that exist on one side only
// with an informative (nonzero) value.
void compare(const ReferenceModel& a, const ReferenceModel& b, size_t op_index, uint32_t line,
             std::vector<DriftChange>& out) {
  for (int i = 0; i < kNumObs; i++) {
    const Obs obs = static_cast<Obs>(i);
    // Indexed observables are per page or per slot; the scalars carry every folio-wide reader.
    // Contract observables the model does not compute are never compared.
    if (obs_info(obs).indexed || obs == Obs::warnings) continue;
    const auto x = value(a, obs), y = value(b, obs);
    if (x == y) continue;
    if (!x && y == 0) continue;
    if (!y && x == 0) continue;
    out.push_back({obs, x, y, op_index, line});
  }
}

// Runs `trace` under `from` and `to`, calling `step` after each operation statement; stops early
// when `step` returns false. Sets `run.error` / `run.comparable` like drift_trace.
template <class Step>
void run_both(const Trace& trace, Semantics from, Semantics to, DriftRun& run, Step&& step) {
  const Setup sa = with_semantics(trace.setup, from), sb = with_semantics(trace.setup, to);
  if (auto why = ReferenceModel::setup_error(sa)) {
    run.error = "semantics=" + std::string(semantics_name(from)) + ": " + *why;
    run.error_line = trace.config_line;
    return;
  }
  if (auto why = ReferenceModel::setup_error(sb)) {
    run.comparable = false;
    run.why_not = "the folio cannot exist: " + *why;
    return;
  }
  ReferenceModel a, b;
  a.reset(sa);
  b.reset(sb);
  size_t index = 0;
  for (const Statement& st : trace.statements) {
    if (st.kind != Statement::op) continue;
    index++;
    const Op& op = st.operation;
    for (uint32_t k = 0; k < std::max<uint32_t>(op.repeat, 1); k++) {
      if (auto why = a.precondition(op)) {
        run.error = "invalid under " + std::string(semantics_name(from)) + ": " + *why;
        run.error_line = st.line;
        return;
      }
      if (auto why = b.precondition(op)) {
        run.comparable = false;
        run.why_not = "operation " + std::to_string(index) + " (line " + std::to_string(st.line) +
                      ") is invalid under " + std::string(semantics_name(to)) + ": " + *why;
        return;
      }
      a.apply(op);
      b.apply(op);
    }
    run.ops = index;
    if (!step(a, b, index, st.line)) return;
  }
}

size_t weight(const Trace& t) {
  size_t w = 0;
  for (const Statement& st : t.statements)
    if (st.kind == Statement::op) w += st.operation.repeat;
  return w;
}

// The op statements of `t` only (expects dropped), in order.
std::vector<Op> ops_of(const Trace& t) {
  std::vector<Op> ops;
  for (const Statement& st : t.statements)
    if (st.kind == Statement::op) ops.push_back(st.operation);
  return ops;
}

// The first step at which `obs` drifts on this operation sequence, valid under `from`, or 0.
size_t first_drift(const Setup& setup, const std::vector<Op>& ops, Semantics from, Semantics to,
                   Obs obs, DriftChange* change) {
  const Trace t = make_trace(setup, ops);
  DriftRun run;
  size_t found = 0;
  run_both(t, from, to, run, [&](const ReferenceModel& a, const ReferenceModel& b, size_t i,
                                 uint32_t line) {
    std::vector<DriftChange> c;
    compare(a, b, i, line, c);
    for (const DriftChange& d : c)
      if (d.obs == obs) {
        found = i;
        if (change) *change = d;
        return false;
      }
    return true;
  });
  if (run.error || !run.comparable) return 0;
  return found;
}

}  // namespace

std::string_view drift_cause_name(DriftCause c) { return kCauseNames[static_cast<size_t>(c)]; }

DriftCause drift_cause(Obs obs, const Setup& setup) {
  if (setup.folio.hugetlb) return DriftCause::hugetlb;
  switch (obs) {
    case Obs::partially_mapped:
    case Obs::nr_pages_mapped:
    case Obs::entirely_mapped:
      return DriftCause::partial_mapping;
    case Obs::nr_anon_mapped:
    case Obs::nr_file_mapped:
    case Obs::nr_anon_thps:
    case Obs::nr_shmem_pmdmapped:
    case Obs::nr_file_pmdmapped:
      return DriftCause::statistics;
    case Obs::average_page_mapcount:
      return DriftCause::averages;
    case Obs::entire_mapcount:
    case Obs::total_mapped_pages:
      return DriftCause::entire_total;
    default:
      return DriftCause::other;
  }
}

std::string DriftChange::describe() const {
  auto side = [](const std::optional<int64_t>& v) {
    return v ? std::to_string(*v) : std::string("(no such reader)");
  };
  return std::string(obs_info(obs).name) + ": " + side(from) + " -> " + side(to);
}

DriftRun drift_trace(const Trace& trace, Semantics from, Semantics to) {
  DriftRun run;
  run_both(trace, from, to, run,
           [&](const ReferenceModel& a, const ReferenceModel& b, size_t i, uint32_t line) {
             compare(a, b, i, line, run.changes);
             return true;
           });
  return run;
}

Trace smallest_drift_trace(const Trace& trace, Semantics from, Semantics to, Obs obs) {
  const Setup setup = with_semantics(trace.setup, from);
  std::vector<Op> ops = ops_of(trace);
  if (const size_t at = first_drift(setup, ops, from, to, obs, nullptr)) ops.resize(at);
  // Drop operations one at a time, last first (later ones depend on earlier ones less often),
  // then shrink repetitions, until nothing more can go.
  for (bool progress = true; progress;) {
    progress = false;
    for (size_t i = ops.size(); i-- > 0;) {
      std::vector<Op> fewer = ops;
      fewer.erase(fewer.begin() + static_cast<std::ptrdiff_t>(i));
      if (const size_t at = first_drift(setup, fewer, from, to, obs, nullptr)) {
        fewer.resize(at);
        ops = std::move(fewer);
        progress = true;
      }
    }
    for (Op& op : ops) {
      for (uint32_t r : {1u, op.repeat / 2}) {
        if (r == 0 || r >= op.repeat) continue;
        const uint32_t was = op.repeat;
        op.repeat = r;
        if (first_drift(setup, ops, from, to, obs, nullptr)) {
          progress = true;
          break;
        }
        op.repeat = was;
      }
    }
  }
  // The reduced trace, in the `to` semantics, with the drifting value pinned by an expect where
  // `to` has the reader.
  DriftChange change;
  first_drift(setup, ops, from, to, obs, &change);
  Trace out = make_trace(with_semantics(trace.setup, to), ops);
  if (change.to) {
    Statement e;
    e.kind = Statement::expect;
    e.expects.push_back({obs, 0, *change.to, 0});
    out.statements.push_back(e);
  }
  return out;
}

std::string print_drift_trace(const Trace& smallest, Semantics from, Obs obs) {
  // Recompute the change to state the `from` side in a comment (the trace itself is in `to`).
  const Semantics to = smallest.setup.config.semantics;
  std::vector<Op> ops = ops_of(smallest);
  DriftChange change;
  first_drift(with_semantics(smallest.setup, from), ops, from, to, obs, &change);
  std::string text = print_trace(smallest);
  const std::string note = "# drift " + std::string(semantics_name(from)) + " -> " +
                           std::string(semantics_name(to)) + " after operation " +
                           std::to_string(change.op_index) + ": " + change.describe() + "\n";
  return note + text;
}

DriftReport drift_report(const std::vector<std::pair<std::string, Trace>>& traces, Semantics from,
                         Semantics to) {
  DriftReport report;
  report.from = from;
  report.to = to;
  struct Acc {
    size_t changes = 0, traces = 0;
    const Trace* best = nullptr;
    std::string file;
    Trace smallest;
    size_t best_ops = 0, best_weight = 0;
  };
  std::map<std::pair<int, int>, Acc> acc;  // (cause, obs) -> accumulated
  for (const auto& [file, trace] : traces) {
    DriftFileReport fr{file, trace.setup, drift_trace(trace, from, to)};
    report.ops += fr.run.ops;
    std::map<std::pair<int, int>, size_t> here;
    for (const DriftChange& c : fr.run.changes)
      here[{static_cast<int>(drift_cause(c.obs, trace.setup)), static_cast<int>(c.obs)}]++;
    for (const auto& [key, n] : here) {
      Acc& a = acc[key];
      a.changes += n;
      a.traces++;
      Trace small = smallest_drift_trace(trace, from, to, static_cast<Obs>(key.second));
      const size_t ops = ops_of(small).size(), w = weight(small);
      if (!a.best || ops < a.best_ops || (ops == a.best_ops && w < a.best_weight)) {
        a.best = &trace;
        a.file = file;
        a.smallest = std::move(small);
        a.best_ops = ops;
        a.best_weight = w;
      }
    }
    report.files.push_back(std::move(fr));
  }
  for (int c = 0; c < kNumDriftCauses; c++) {
    DriftCauseReport cr;
    cr.cause = static_cast<DriftCause>(c);
    for (auto& [key, a] : acc) {
      if (key.first != c) continue;
      DriftFinding f;
      f.obs = static_cast<Obs>(key.second);
      f.changes = a.changes;
      f.traces = a.traces;
      f.example_file = a.file;
      DriftChange change;
      first_drift(with_semantics(a.smallest.setup, from), ops_of(a.smallest), from, to, f.obs,
                  &change);
      f.example = change.describe() + " after operation " + std::to_string(change.op_index);
      f.smallest = std::move(a.smallest);
      cr.findings.push_back(std::move(f));
    }
    report.causes.push_back(std::move(cr));
  }
  return report;
}

}  // namespace foliocheck

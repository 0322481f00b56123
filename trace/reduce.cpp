// Reduces a failing trace by replaying smaller candidates that keep the failure signature.
#include "trace/reduce.h"

#include <algorithm>
#include <functional>
#include <map>
#include <ostream>
#include <set>

#include "core/reference_model.h"

namespace foliocheck {
namespace {

bool has(const Op& op, unsigned arg) { return (op_info(op.kind).args & arg) != 0; }

class Reducer {
 public:
  explicit Reducer(const ReduceOptions& opt) : m_opt(opt) {
    m_replay.impls = opt.impls;
    m_replay.sweep_every = opt.sweep_every;
  }

  // Replays `trace` as given; the failure every candidate must keep.
  ReplayReport start(const Trace& trace) {
    m_best = trace;
    number(m_best);
    return replay_trace(m_best, m_replay);
  }
  void keep(const ReplayReport& report) {
    m_signature = report.found->signature();
    m_report = report;
    cut(m_best, report);
  }

  bool budget_left() const { return m_replays < m_opt.max_replays; }

  // Whether `candidate` still fails the same way; if so it becomes the best trace. What is
  // replayed is the candidate as its file reads back, so that the trace written out fails as
  // the one tested did.
  bool test(Trace candidate, const char* what) {
    if (!budget_left()) return false;
    if (candidate.setup == m_best.setup && candidate == m_best) return false;
    if (ReferenceModel::setup_error(candidate.setup)) return false;
    candidate.carry_schedules(m_best);
    ParseResult printed = parse_trace(print_trace(candidate));
    if (!printed.trace) return false;
    candidate = std::move(*printed.trace);
    m_replays++;
    number(candidate);
    ReplayReport r = replay_trace(candidate, m_replay);
    if (r.result != ReplayReport::violation || !r.found || r.found->signature() != m_signature)
      return false;
    cut(candidate, r);
    m_best = std::move(candidate);
    m_report = std::move(r);
    if (m_opt.log) *m_opt.log << "  " << what << ": " << measure_trace(m_best).describe() << "\n";
    return true;
  }

  bool run_blocks_in_sequence();
  bool delete_chunks();
  bool delete_pairs();
  bool merge_repeats();
  bool simplify_ops();
  bool renumber_mms();
  bool shrink_geometry();
  bool shift_pages();
  bool drop_expects();

  const Trace& best() const { return m_best; }
  const std::string& signature() const { return m_signature; }
  const ReplayReport& report() const { return m_report; }
  size_t replays() const { return m_replays; }

 private:
  // Replay reports name the statement where it stopped by its line; number them 1, 2, ...
  static void number(Trace& t) {
    for (size_t i = 0; i < t.statements.size(); i++)
      t.statements[i].line = static_cast<uint32_t>(i + 1);
  }
  // Whatever follows the statement that failed cannot matter, except the other threads of its
  // block: a schedule may have run them first.
  static void cut(Trace& t, const ReplayReport& r) {
    size_t keep = r.line;
    if (keep < 1 || keep >= t.statements.size()) return;
    const Statement& failed = t.statements[keep - 1];
    if (failed.kind == Statement::op && failed.block)
      keep = t.block_threads(failed.block).back() + 1;
    t.statements.resize(keep);
  }
  // Smallest value in [lo, current) for which `set` keeps the failure; binary search assumes
  // rough monotonicity and is only a heuristic when it does not hold.
  bool lower_field(size_t idx, uint32_t lo, uint32_t Op::*field, const char* what);

  const ReduceOptions& m_opt;
  ReplayOptions m_replay;
  Trace m_best;
  std::string m_signature;
  ReplayReport m_report;
  size_t m_replays = 0;
};

bool Reducer::drop_expects() {
  Trace t = m_best;
  std::erase_if(t.statements, [](const Statement& s) { return s.kind == Statement::expect; });
  if (t.statements.size() == m_best.statements.size()) return false;
  return test(std::move(t), "drop expects");
}

// replay runs a block's threads one after the other (Trace::sequential_order): the same
// statements in that order, outside any block, fail the same way and read more simply.
bool Reducer::run_blocks_in_sequence() {
  if (m_best.blocks.empty()) return false;
  Trace t = m_best;
  t.statements.clear();
  t.blocks.clear();
  for (size_t i : m_best.sequential_order()) {
    t.statements.push_back(m_best.statements[i]);
    t.statements.back().block = 0;
  }
  return test(std::move(t), "run the blocks' threads in sequence");
}

bool Reducer::delete_chunks() {
  bool progress = false;
  for (size_t chunk = std::max<size_t>(1, m_best.statements.size() / 2);; chunk /= 2) {
    for (size_t i = 0; i < m_best.statements.size() && budget_left();) {
      Trace t = m_best;
      const size_t end = std::min(i + chunk, t.statements.size());
      t.statements.erase(t.statements.begin() + static_cast<ptrdiff_t>(i),
                         t.statements.begin() + static_cast<ptrdiff_t>(end));
      if (test(std::move(t), "delete statements"))
        progress = true;
      else
        i += chunk;
    }
    if (chunk <= 1) break;
  }
  return progress;
}

// Statements that only matter together (a map and its unmap) but are not adjacent.
bool Reducer::delete_pairs() {
  bool progress = false;
  if (m_best.statements.size() > 40) return false;  // quadratic: for the last few statements
  for (size_t j = 1; j < m_best.statements.size() && budget_left(); j++) {
    for (size_t i = 0; i < j && j < m_best.statements.size() && budget_left(); i++) {
      Trace t = m_best;
      t.statements.erase(t.statements.begin() + static_cast<ptrdiff_t>(j));
      t.statements.erase(t.statements.begin() + static_cast<ptrdiff_t>(i));
      if (test(std::move(t), "delete two statements")) {
        progress = true;
        j = i;  // both indexes shifted; look again from the first deleted one
        break;
      }
    }
  }
  return progress;
}

// The same operation twice in a row is one operation with x=K.
bool Reducer::merge_repeats() {
  bool progress = false;
  for (size_t i = 0; i + 1 < m_best.statements.size() && budget_left(); i++) {
    const Statement& a = m_best.statements[i];
    const Statement& b = m_best.statements[i + 1];
    if (a.kind != Statement::op || b.kind != Statement::op) continue;
    Op x = a.operation, y = b.operation;
    x.repeat = y.repeat = 1;
    if (!(x == y) || uint64_t{a.operation.repeat} + b.operation.repeat > kMaxRepeat) continue;
    Trace t = m_best;
    t.statements[i].operation.repeat += b.operation.repeat;
    t.statements.erase(t.statements.begin() + static_cast<ptrdiff_t>(i + 1));
    if (test(std::move(t), "merge into x=K")) {
      progress = true;
      i--;
    }
  }
  return progress;
}

bool Reducer::lower_field(size_t idx, uint32_t lo, uint32_t Op::*field, const char* what) {
  auto with = [&](uint32_t v) {
    Trace t = m_best;
    t.statements[idx].operation.*field = v;
    return t;
  };
  const uint32_t current = m_best.statements[idx].operation.*field;
  if (current <= lo) return false;
  if (test(with(lo), what)) return true;
  uint32_t bad = lo, good = current;
  bool progress = false;
  while (good - bad > 1 && idx < m_best.statements.size() && budget_left()) {
    const uint32_t mid = bad + (good - bad) / 2;
    if (test(with(mid), what)) {
      good = mid;
      progress = true;
    } else {
      bad = mid;
    }
  }
  return progress;
}

bool Reducer::simplify_ops() {
  bool progress = false;
  for (size_t i = 0; i < m_best.statements.size() && budget_left(); i++) {
    if (m_best.statements[i].kind != Statement::op) continue;
    progress |= lower_field(i, 1, &Op::repeat, "lower x");
    if (i >= m_best.statements.size()) break;
    if (m_best.statements[i].operation.exclusive) {
      Trace t = m_best;
      t.statements[i].operation.exclusive = false;
      progress |= test(std::move(t), "drop exclusive");
    }
    if (i >= m_best.statements.size()) break;
    const Op& op = m_best.statements[i].operation;
    if (has(op, kArgRange)) progress |= lower_field(i, 1, &Op::nr, "lower nr");
    if (i >= m_best.statements.size()) break;
    if (has(m_best.statements[i].operation, kArgRange | kArgPage))
      progress |= lower_field(i, 0, &Op::page, "lower page");
  }
  return progress;
}

// Applies `f` to every mm id of the trace: mm=, src= and the index of mm_mapcount[m].
void map_mms(Trace& t, const std::function<uint32_t(uint32_t)>& f) {
  for (Statement& s : t.statements) {
    if (s.kind == Statement::op) {
      if (has(s.operation, kArgMm)) s.operation.mm = f(s.operation.mm);
      if (has(s.operation, kArgSrc)) s.operation.src = f(s.operation.src);
    } else {
      for (Expectation& e : s.expects)
        if (e.obs == Obs::mm_mapcount) e.index = f(e.index);
    }
  }
}

bool Reducer::renumber_mms() {
  bool progress = false;
  {
    const std::vector<uint32_t> ids = m_best.mms();
    std::map<uint32_t, uint32_t> to;
    for (size_t i = 0; i < ids.size(); i++) to[ids[i]] = static_cast<uint32_t>(i + 1);
    Trace t = m_best;
    map_mms(t, [&](uint32_t id) {
      auto it = to.find(id);
      return it == to.end() ? id : it->second;
    });
    progress |= test(std::move(t), "renumber mms");
  }
  // Fewer mms: fold a later one into an earlier one.
  for (bool merged = true; merged && budget_left();) {
    merged = false;
    const std::vector<uint32_t> ids = m_best.mms();
    for (size_t a = ids.size(); a-- > 1 && !merged;) {
      for (size_t b = 0; b < a && !merged; b++) {
        Trace t = m_best;
        map_mms(t, [&](uint32_t id) { return id == ids[a] ? ids[b] : id; });
        merged = test(std::move(t), "merge mms");
      }
    }
    progress |= merged;
  }
  return progress;
}

// The same trace on a folio of `setup`: ranges clamped into it, expects about pages it lacks
// dropped.
Trace refit(const Trace& from, const Setup& setup) {
  Trace t = from;
  t.setup = setup;
  const uint32_t n = setup.nr_pages();
  for (Statement& s : t.statements) {
    if (s.kind == Statement::op) {
      Op& op = s.operation;
      if (has(op, kArgRange | kArgPage)) op.page = std::min(op.page, n - 1);
      if (has(op, kArgRange)) op.nr = std::min(op.nr, n - op.page);
    } else {
      std::erase_if(s.expects, [&](const Expectation& e) {
        return (e.obs == Obs::page_mapcount || e.obs == Obs::anon_exclusive) && e.index >= n;
      });
    }
  }
  std::erase_if(t.statements, [](const Statement& s) {
    return s.kind == Statement::expect && s.expects.empty();
  });
  return t;
}

bool Reducer::shrink_geometry() {
  bool progress = false;
  for (bool shrunk = true; shrunk && budget_left();) {
    shrunk = false;
    const Setup s = m_best.setup;
    const int o = s.folio.order, p = s.config.pmd_order, q = s.config.pud_order;
    std::vector<Setup> candidates;
    auto add = [&](int order, int pmd, int pud) {
      if (order < 0 || pmd < 2 || pud <= pmd || order > pud) return;
      Setup c = s;
      c.folio.order = order;
      c.config.pmd_order = pmd;
      c.config.pud_order = pud;
      candidates.push_back(c);
    };
    // A PMD- or PUD-sized folio keeps its size class while the geometry shrinks under it.
    if (o == p) add(o - 1, p - 1, q);
    if (o == q) add(o - 1, p, q - 1);
    add(o - 1, p, q);
    if (o != p) add(o, p - 1, q);
    if (o != q) add(o, p, q - 1);
    for (const Setup& c : candidates) {
      if (test(refit(m_best, c), "shrink folio/geometry")) {
        shrunk = progress = true;
        break;
      }
    }
  }
  return progress;
}

bool Reducer::shift_pages() {
  uint32_t low = UINT32_MAX;
  for (const Statement& s : m_best.statements) {
    if (s.kind == Statement::op && has(s.operation, kArgRange | kArgPage))
      low = std::min(low, s.operation.page);
    if (s.kind == Statement::expect)
      for (const Expectation& e : s.expects)
        if (e.obs == Obs::page_mapcount || e.obs == Obs::anon_exclusive)
          low = std::min(low, e.index);
  }
  if (low == 0 || low == UINT32_MAX) return false;
  Trace t = m_best;
  for (Statement& s : t.statements) {
    if (s.kind == Statement::op && has(s.operation, kArgRange | kArgPage)) s.operation.page -= low;
    if (s.kind == Statement::expect)
      for (Expectation& e : s.expects)
        if (e.obs == Obs::page_mapcount || e.obs == Obs::anon_exclusive) e.index -= low;
  }
  return test(std::move(t), "shift pages down");
}

}  // namespace

std::string TraceSize::describe() const {
  std::string s = std::to_string(ops) + (ops == 1 ? " operation" : " operations");
  if (executions != ops) s += " (" + std::to_string(executions) + " executions)";
  if (statements != ops) s += " + " + std::to_string(statements - ops) + " expects";
  s += ", " + std::to_string(mms) + (mms == 1 ? " mm" : " mms") + ", order " +
       std::to_string(order) + ", " + std::to_string(bytes) + " bytes";
  return s;
}

TraceSize measure_trace(const Trace& trace) {
  TraceSize z;
  z.statements = trace.statements.size();
  z.bytes = print_trace(trace).size();
  z.order = trace.setup.folio.order;
  std::set<uint32_t> mms;
  for (const Statement& s : trace.statements) {
    if (s.kind != Statement::op) continue;
    z.ops++;
    z.executions += s.operation.repeat;
    if (has(s.operation, kArgMm)) mms.insert(s.operation.mm);
    if (has(s.operation, kArgSrc)) mms.insert(s.operation.src);
  }
  z.mms = mms.size();
  return z;
}

ReduceResult reduce_trace(const Trace& trace, const ReduceOptions& opt) {
  ReduceResult out;
  out.before = measure_trace(trace);
  Reducer r(opt);
  const ReplayReport first = r.start(trace);
  switch (first.result) {
    case ReplayReport::ok:
      out.error = "the trace does not fail: replay ends ok after " + std::to_string(first.ops) +
                  " operations (did you mean to select a mutant with --mutant=NAME?)";
      return out;
    case ReplayReport::invalid:
      out.error = "the trace is invalid at operation #" + std::to_string(first.op_index) + ": " +
                  first.message;
      return out;
    case ReplayReport::error:
      out.error = "replay failed: " + first.message;
      return out;
    case ReplayReport::violation:
      break;
  }
  r.keep(first);
  if (!first.failed_expect) r.drop_expects();
  for (bool progress = true; progress && r.budget_left();) {
    progress = false;
    progress |= r.delete_chunks();
    progress |= r.delete_pairs();
    progress |= r.run_blocks_in_sequence();
    progress |= r.shrink_geometry();
    progress |= r.simplify_ops();
    progress |= r.renumber_mms();
    progress |= r.shift_pages();
    progress |= r.merge_repeats();
  }
  out.ok = true;
  out.trace = r.best();
  for (Statement& s : out.trace.statements) s.line = 0;
  out.signature = r.signature();
  out.report = r.report();
  out.replays = r.replays();
  out.after = measure_trace(out.trace);
  return out;
}

}  // namespace foliocheck

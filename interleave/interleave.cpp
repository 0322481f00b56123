// Runs a concurrent block's operations as cooperative threads on an implementation, explores their
// interleavings (interleave/dpor.cpp) and checks each against the model.
#include "interleave/interleave.h"

#include <algorithm>
#include <chrono>
#include <memory>
#include <set>
#include <stdexcept>

#include "core/agreement.h"
#include "core/legality.h"
#include "core/reference_model.h"
#include "impl/registry.h"
#include "impl/sched_hook.h"
#include "interleave/scheduler.h"

namespace foliocheck {
namespace {

// n! sequential orders are computed; beyond this many threads that is not small-scope any more.
constexpr size_t kMaxThreads = 6;

using interleave_detail::ExploreHooks;
using interleave_detail::Exploration;
using interleave_detail::RunEnd;
using interleave_detail::Scheduler;

std::string warning_text(std::span<const std::string> log, size_t from, std::set<std::string>* out) {
  std::string first;
  for (size_t i = from; i < log.size(); i++) {
    if (out) out->insert(log[i]);
    if (first.empty()) first = log[i];
  }
  return first;
}

// The implementation as check (a) sees it: without `result`, which at quiescence is whichever
// reader finished last; check (c) judges what every reader returned instead.
class WithoutResult final : public Implementation {
 public:
  explicit WithoutResult(const Implementation& impl) : m_impl(impl) {}
  std::string_view name() const override { return m_impl.name(); }
  bool supports(const Setup& setup) const override { return m_impl.supports(setup); }
  void reset(const Setup&) override { throw std::logic_error("WithoutResult is a read-only view"); }
  void apply(const Op&) override { throw std::logic_error("WithoutResult is a read-only view"); }
  bool models(Obs obs) const override { return obs != Obs::result && m_impl.models(obs); }
  int64_t read(Obs obs, uint32_t index) const override { return m_impl.read(obs, index); }
  std::optional<Violation> check_invariants(PageRange scope, bool full) const override {
    return m_impl.check_invariants(scope, full);
  }
  std::optional<Violation> check_free() const override { return m_impl.check_free(); }
  std::span<const std::string> warning_log() const override { return m_impl.warning_log(); }

 private:
  const Implementation& m_impl;
};

// What a reader may return: the values sequential orders give it (in the state the order has
// reached when the reader runs), and the values only a kernel comment admits there.
struct ReaderBounds {
  std::set<int64_t> exact;
  std::set<int64_t> admitted;
};

// The comment that admits a reader's other value (ReferenceModel::reader_value).
constexpr const char* kAdmittedBy =
    "include/linux/mm.h, folio_maybe_mapped_shared(): \"the return value can wrongly indicate "
    "'mapped shared' (false positive) if a folio was mapped by more than two MMs at one point in "
    "time\"";

std::string set_text(const std::set<int64_t>& s) {
  std::string out = "{";
  for (int64_t v : s) out += (out.size() > 1 ? ", " : "") + std::to_string(v);
  return out + "}";
}

class BlockExplorer {
 public:
  BlockExplorer(const Trace& trace, uint32_t block, const InterleaveOptions& opt,
                Implementation& impl, InterleaveReport& rep)
      : m_trace(trace), m_mms(trace.mms()), m_block(block), m_opt(opt), m_impl(impl), m_rep(rep) {}

  // false when the report already says why not (invalid, error or a finding).
  bool run();

 private:
  bool prepare();
  void run_prefix(Implementation& impl) const {
    impl.reset(m_trace.setup);
    for (const Op& op : m_prefix) {
      Op one = op;
      one.repeat = 1;
      for (uint32_t r = 0; r < op.repeat; r++) impl.apply(one);
    }
  }
  // What is wrong at quiescence, or "". A reader value only a comment admits goes to
  // *admitted_read.
  std::string check(size_t log_from, const std::vector<std::vector<int64_t>>& reads,
                    std::string* admitted_read);
  std::string final_state(size_t log_from, bool but_admitted = false) const;
  bool admitted(size_t log_from);
  bool invalid(uint32_t line, std::string message) {
    m_rep.result = InterleaveReport::invalid;
    m_rep.line = line;
    m_rep.message = std::move(message);
    return false;
  }

  const Trace& m_trace;
  const std::vector<uint32_t> m_mms;  // the end state reads mm_mapcount of each
  uint32_t m_block;
  const InterleaveOptions& m_opt;
  Implementation& m_impl;
  InterleaveReport& m_rep;
  std::vector<Op> m_prefix;   // the sequential run before the block
  std::vector<Op> m_threads;  // one operation per thread
  std::vector<const Statement*> m_expects;
  std::vector<ReferenceModel> m_orders;  // the model after each accepted sequential order
  std::set<std::string> m_sequential_warnings;
  std::vector<ReaderBounds> m_reader_bounds;  // per thread (empty for non-readers)
  std::vector<std::string> m_order_states;  // the implementation's end state after each order, but admitted observables
  uint64_t m_admitted = 0;                  // interleavings whose only difference is admitted
  std::string m_first_admitted;
};

bool BlockExplorer::prepare() {
  const std::vector<size_t> threads = m_trace.block_threads(m_block);
  const std::vector<size_t> order = m_trace.sequential_order();
  const ConcurrentBlock& b = m_trace.blocks[m_block - 1];
  if (threads.size() > kMaxThreads)
    return invalid(b.line, "a concurrent block of " + std::to_string(threads.size()) +
                               " threads: interleave explores at most " +
                               std::to_string(kMaxThreads));
  ReferenceModel model;
  model.reset(m_trace.setup);
  for (size_t si : order) {
    if (si >= threads.front()) break;
    const Statement& st = m_trace.statements[si];
    if (st.kind != Statement::op) continue;
    for (uint32_t r = 0; r < st.operation.repeat; r++) {
      Op one = st.operation;
      one.repeat = 1;
      if (auto why = model.precondition(one))
        return invalid(st.line, "invalid operation before the block on line " +
                                    std::to_string(b.line) + ": " + *why);
      model.apply(one);
    }
    m_prefix.push_back(st.operation);
  }
  for (size_t si : threads) m_threads.push_back(m_trace.statements[si].operation);
  for (size_t si = threads.back() + 1;
       si < m_trace.statements.size() && m_trace.statements[si].kind == Statement::expect; si++)
    m_expects.push_back(&m_trace.statements[si]);

  // Every order of the threads the model accepts, and what the implementation warns in each.
  std::vector<size_t> perm(m_threads.size());
  for (size_t i = 0; i < perm.size(); i++) perm[i] = i;
  std::string first_refusal;
  m_reader_bounds.assign(m_threads.size(), {});
  do {
    ReferenceModel m = model;
    bool ok = true;
    std::vector<ReaderBounds> seen(m_threads.size());
    for (size_t t : perm) {
      Op one = m_threads[t];
      one.repeat = 1;
      for (uint32_t r = 0; r < m_threads[t].repeat && ok; r++) {
        if (auto why = m.precondition(one)) {
          if (first_refusal.empty()) first_refusal = *why;
          ok = false;
        } else {
          if (op_is_reader(one.kind)) {
            const auto [exact, admitted] = m.reader_value(one);
            seen[t].exact.insert(exact);
            if (admitted) seen[t].admitted.insert(*admitted);
          }
          m.apply(one);
        }
      }
    }
    if (!ok) continue;
    for (size_t t = 0; t < seen.size(); t++) {
      m_reader_bounds[t].exact.merge(seen[t].exact);
      m_reader_bounds[t].admitted.merge(seen[t].admitted);
    }
    m_orders.push_back(std::move(m));
    run_prefix(m_impl);
    const size_t from = m_impl.warning_log().size();
    for (size_t t : perm) {
      Op one = m_threads[t];
      one.repeat = 1;
      for (uint32_t r = 0; r < m_threads[t].repeat; r++) m_impl.apply(one);
    }
    warning_text(m_impl.warning_log(), from, &m_sequential_warnings);
    m_order_states.push_back(final_state(from, true));
  } while (std::next_permutation(perm.begin(), perm.end()));
  if (m_orders.empty())
    return invalid(b.line, "no order of the block's operations is valid: " + first_refusal);
  return true;
}

// The end state equals some sequential order's but for observables of admitted.def: count it, and
// keep what differs with the citation.
bool BlockExplorer::admitted(size_t log_from) {
  const std::string mine = final_state(log_from, true);
  if (std::find(m_order_states.begin(), m_order_states.end(), mine) == m_order_states.end())
    return false;
  if (m_admitted++ == 0) {
    for (const ReferenceModel& m : m_orders) {
      const auto v = check_agreement(m, m_impl, PageRange{0, m_trace.setup.nr_pages()}, true);
      if (!v) continue;
#define FOLIOCHECK_ADMITTED(obs, kind, where, sentence)                                   \
  if (v->about(Obs::obs))                                                                 \
    m_first_admitted = std::string(kind) + " race in " + std::string(obs_info(Obs::obs).name) + \
                       ": " + sentence + " (" + where + ")";
#include "interleave/admitted.def"
#undef FOLIOCHECK_ADMITTED
      break;
    }
  }
  return true;
}

std::string BlockExplorer::check(size_t log_from, const std::vector<std::vector<int64_t>>& reads,
                                 std::string* admitted_read) {
  // (b) before (a): the warning's own line says more than the `warnings` count (a) compares.
  const auto log = m_impl.warning_log();
  for (size_t i = log_from; i < log.size(); i++)
    if (!m_sequential_warnings.contains(log[i]))
      return "kernel warning that no sequential order fires: " + log[i];
  const PageRange all{0, m_trace.setup.nr_pages()};
  std::optional<Violation> first;
  bool agrees = false;
  const WithoutResult seen(m_impl);
  for (const ReferenceModel& m : m_orders) {
    auto v = check_agreement(m, seen, all, true);
    if (!v) {
      agrees = true;
      break;
    }
    if (!first) first = v;
  }
  // A known race (admitted.def) is no finding, but the warnings and the expects still hold.
  if (!agrees && !admitted(log_from))
    return "the result matches no sequential order of the block (against the first: " +
           first->describe() + ")";
  for (size_t t = 0; t < reads.size(); t++) {
    const ReaderBounds& b = m_reader_bounds[t];
    for (int64_t v : reads[t]) {
      if (b.exact.contains(v)) continue;
      const std::string who = "thread " + std::to_string(t) + " (" +
                              std::string(op_info(m_threads[t].kind).name) + ") returned " +
                              std::to_string(v) + ", ";
      if (!b.admitted.contains(v))
        return "reader outside the sequential bounds: " + who +
               "which no sequential order gives it (they give " + set_text(b.exact) + ")";
      if (admitted_read->empty())
        *admitted_read = "reader value admitted by a kernel comment: " + who +
                    "where sequential orders give " + set_text(b.exact) + "; " + kAdmittedBy;
    }
  }
  for (const Statement* st : m_expects)
    for (const Expectation& e : st->expects) {
      if (!m_impl.models(e.obs)) continue;
      const int64_t have = m_impl.read(e.obs, e.index);
      if (have != e.value)
        return "expect on line " + std::to_string(st->line) + " failed: " +
               std::string(obs_info(e.obs).name) +
               (obs_info(e.obs).indexed ? "[" + std::to_string(e.index) + "]" : "") + "=" +
               std::to_string(e.value) + ", " + std::string(m_impl.name()) + " has " +
               std::to_string(have);
    }
  return "";
}

bool BlockExplorer::run() {
  const auto start = std::chrono::steady_clock::now();
  if (!prepare()) return false;
  const ConcurrentBlock& b = m_trace.blocks[m_block - 1];
  BlockStats stats;
  stats.block = m_block;
  stats.line = b.line;
  stats.threads = m_threads.size();
  stats.orders = m_orders.size();
  stats.pinned = !b.schedule.empty();

  Scheduler sched(m_impl, m_threads);
  size_t from = 0;
  ExploreHooks hooks;
  hooks.max_steps = m_opt.max_steps;
  hooks.reset = [&] {
    run_prefix(m_impl);
    from = m_impl.warning_log().size();
  };
  hooks.judge = [&](RunEnd end, const std::vector<uint32_t>& schedule) -> std::string {
    std::string what;
    if (end == RunEnd::deadlock)
      what = "deadlock: every unfinished thread waits for a bit_spin_lock";
    else if (end == RunEnd::livelock)
      what = "no quiescence within " + std::to_string(m_opt.max_steps) + " scheduling steps";
    std::string admitted_read;
    if (end == RunEnd::done) what = check(from, sched.reads(), &admitted_read);
    if (!admitted_read.empty()) {
      if (m_rep.admitted.empty() || m_rep.admitted.back().block != m_block)
        m_rep.admitted.push_back(AdmittedRead{m_block, schedule, admitted_read, 0});
      m_rep.admitted.back().interleavings++;
    }
    if (!m_opt.collect_states) return what;
    // Collecting: every end state, with what is wrong with it, and on to the next interleaving.
    std::string reads;
    for (size_t t = 0; t < sched.reads().size(); t++)
      for (int64_t v : sched.reads()[t]) reads += " read[" + std::to_string(t) + "]=" + std::to_string(v);
    stats.final_states.insert(final_state(from) + reads + (what.empty() ? "" : " FINDING: " + what));
    return "";
  };
  Exploration x;
  if (stats.pinned)
    x = interleave_detail::explore_bounded(sched, hooks, 0, b.schedule, true);
  else if (m_opt.preemptions)
    x = interleave_detail::explore_bounded(sched, hooks, *m_opt.preemptions, {}, false);
  else
    x = interleave_detail::explore_dpor(sched, hooks, m_opt.reduce);
  stats.interleavings = x.interleavings;
  stats.redundant = x.redundant;
  stats.max_steps = x.max_steps;
  stats.complete = x.complete;
  stats.admitted = m_admitted;
  stats.first_admitted = m_first_admitted;
  stats.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  m_rep.blocks.push_back(std::move(stats));
  if (x.infeasible)
    return invalid(b.line, "the pinned schedule cannot run: at step " +
                               std::to_string(x.schedule.size() + 1) + " thread " +
                               std::to_string(b.schedule[x.schedule.size()]) +
                               " has finished, is waiting for a lock, or does not exist");
  if (!x.what.empty()) {
    m_rep.result = InterleaveReport::finding;
    m_rep.found = InterleaveFinding{m_block, x.schedule, x.what};
    return false;
  }
  return true;
}

// Everything an interleaving's end state shows, as text: every observable but `ret` (whichever
// thread finished last), and the warnings it logged, sorted.
std::string BlockExplorer::final_state(size_t log_from, bool but_admitted) const {
  static constexpr Obs kAdmitted[] = {
#define FOLIOCHECK_ADMITTED(obs, kind, where, sentence) Obs::obs,
#include "interleave/admitted.def"
#undef FOLIOCHECK_ADMITTED
  };
  std::string out;
  for (int o = 0; o < kNumObs; o++) {
    const Obs obs = static_cast<Obs>(o);
    // `result` is whichever reader finished last, which no reordering of commuting steps keeps;
    // what each reader returned is judged by check (c) and collected apart.
    if (obs == Obs::ret || obs == Obs::result || !m_impl.models(obs)) continue;
    if (but_admitted && std::find(std::begin(kAdmitted), std::end(kAdmitted), obs) != std::end(kAdmitted))
      continue;
    for (uint32_t i : obs_indexes(obs, m_trace.setup, m_mms))
      out += obs_field(obs, i) + "=" + std::to_string(m_impl.read(obs, i)) + " ";
  }
  const auto log = m_impl.warning_log();
  std::vector<std::string> warnings(log.begin() + static_cast<ptrdiff_t>(log_from), log.end());
  std::sort(warnings.begin(), warnings.end());
  for (const std::string& w : warnings) out += "| " + w;
  return out;
}

}  // namespace

InterleaveReport interleave_trace(const Trace& trace, const InterleaveOptions& opt) {
  InterleaveReport rep;
  std::unique_ptr<Implementation> impl = make_implementation(opt.impl);
  if (!impl) {
    rep.result = InterleaveReport::invalid;
    rep.message = "unknown implementation '" + opt.impl + "'";
    return rep;
  }
  return interleave_trace(trace, opt, *impl);
}

InterleaveReport interleave_trace(const Trace& trace, const InterleaveOptions& opt,
                                  Implementation& impl) {
  InterleaveReport rep;
  if (!impl.supports(trace.setup)) {
    rep.result = InterleaveReport::invalid;
    rep.line = trace.config_line;
    rep.message = "implementation '" + std::string(impl.name()) + "' does not support this setup";
    return rep;
  }
  impl.reset(trace.setup);
  rep.impl = std::string(impl.name());
  try {
    for (uint32_t k = 1; k <= trace.blocks.size(); k++)
      if (!BlockExplorer(trace, k, opt, impl, rep).run()) return rep;
  } catch (const std::exception& e) {
    foliocheck_sched_point = nullptr;
    rep.result = InterleaveReport::error;
    rep.message = e.what();
  }
  return rep;
}

Trace pin_schedule(const Trace& trace, uint32_t block, const std::vector<uint32_t>& schedule) {
  Trace t = trace;
  if (block >= 1 && block <= t.blocks.size()) t.blocks[block - 1].schedule = schedule;
  return t;
}

std::span<const RaceMutantInfo> race_mutants() {
  static constexpr RaceMutantInfo kRace[] = {
#define FOLIOCHECK_RACE_MUTANT(flag, name, sentence) {name, sentence},
#include "impl/race_mutants.def"
#undef FOLIOCHECK_RACE_MUTANT
  };
  return kRace;
}

bool activate_race_mutant(std::string_view name) {
#define FOLIOCHECK_RACE_MUTANT(flag, mutant, sentence) \
  if (name == mutant) return (flag = 1);
#include "impl/race_mutants.def"
#undef FOLIOCHECK_RACE_MUTANT
  return false;
}

}  // namespace foliocheck

// Runs a concurrent block's operations as cooperative threads (ucontext) on an implementation and
// enumerates their interleavings with a preemption bound, checking each against the model.
#include "interleave/interleave.h"

#include <ucontext.h>

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

namespace foliocheck {
namespace {

// Kernel code plus the C++ around Implementation::apply: far below this.
constexpr size_t kStackBytes = 256 * 1024;
// n! sequential orders are computed; beyond this many threads that is not small-scope any more.
constexpr size_t kMaxThreads = 6;

// The threads of one block and the scheduler that steps them. One interleaving is one run():
// threads start fresh, and at each scheduling step the chosen thread runs until its next
// scheduling point (impl/sched_hook.h) or its end.
class Scheduler {
 public:
  struct Decision {
    uint32_t enabled = 0;  // bit t: thread t could run
    int current = -1;      // the thread that ran the step before (-1: none yet)
    uint32_t chosen = 0;
    uint32_t preemptions = 0;  // before this step
  };
  enum Outcome : uint8_t { done, deadlock, livelock, infeasible };

  Scheduler(Implementation& impl, std::vector<Op> ops) : m_impl(impl), m_ops(std::move(ops)) {
    m_threads.resize(m_ops.size());
    m_reads.resize(m_ops.size());
    for (Thread& t : m_threads) t.stack.reset(new char[kStackBytes]);
  }

  // Runs one interleaving: `forced` steps first, then by default the thread that ran last while
  // it can, else the lowest-numbered one that can. Fills `decisions` (one per step).
  Outcome run(const std::vector<uint32_t>& forced, uint64_t max_steps,
              std::vector<Decision>& decisions) {
    decisions.clear();
    for (auto& r : m_reads) r.clear();
    for (size_t i = 0; i < m_threads.size(); i++) {
      Thread& t = m_threads[i];
      t.finished = false;
      t.wait_addr = nullptr;
      getcontext(&t.ctx);
      t.ctx.uc_stack.ss_sp = t.stack.get();
      t.ctx.uc_stack.ss_size = kStackBytes;
      t.ctx.uc_link = &m_main;
      makecontext(&t.ctx, reinterpret_cast<void (*)()>(&Scheduler::entry), 0);
    }
    s_active = this;
    foliocheck_sched_point = &Scheduler::hook;
    Outcome outcome = done;
    int current = -1;
    uint32_t preemptions = 0;
    for (uint64_t step = 0;; step++) {
      uint32_t enabled = 0;
      bool all_finished = true;
      for (size_t i = 0; i < m_threads.size(); i++) {
        all_finished &= m_threads[i].finished;
        if (can_run(i)) enabled |= 1u << i;
      }
      if (all_finished) break;
      if (!enabled) {
        outcome = deadlock;
        break;
      }
      if (step >= max_steps) {
        outcome = livelock;
        break;
      }
      uint32_t t;
      if (step < forced.size()) {
        t = forced[step];
        if (t >= m_threads.size() || !(enabled >> t & 1)) {
          outcome = infeasible;
          break;
        }
      } else if (current >= 0 && (enabled >> current & 1)) {
        t = static_cast<uint32_t>(current);
      } else {
        t = static_cast<uint32_t>(__builtin_ctz(enabled));
      }
      decisions.push_back({enabled, current, t, preemptions});
      if (current >= 0 && (enabled >> current & 1) && t != static_cast<uint32_t>(current))
        preemptions++;
      current = static_cast<int>(t);
      m_running = current;
      swapcontext(&m_main, &m_threads[t].ctx);
      m_running = -1;
    }
    foliocheck_sched_point = nullptr;
    s_active = nullptr;
    // An abandoned thread (deadlock, livelock) is simply never resumed: its stack is reused by the
    // next run, and what its C++ frames owned leaks, which only a finding costs.
    return outcome;
  }

  // What each reader thread's calls returned in the last run (empty for other threads).
  const std::vector<std::vector<int64_t>>& reads() const { return m_reads; }

 private:
  struct Thread {
    ucontext_t ctx;
    std::unique_ptr<char[]> stack;
    bool finished = false;
    const void* wait_addr = nullptr;  // waiting in bit_spin_lock for this bit to clear
    int wait_bit = 0;
  };

  bool can_run(size_t i) const {
    const Thread& t = m_threads[i];
    if (t.finished) return false;
    if (!t.wait_addr) return true;
    const auto* words = static_cast<const unsigned long*>(t.wait_addr);
    constexpr int kBits = 8 * sizeof(unsigned long);
    return !(words[t.wait_bit / kBits] >> (t.wait_bit % kBits) & 1);
  }

  static void hook(const void* wait_addr, int wait_bit) {
    Scheduler* s = s_active;
    // Outside a thread (reset, reads between runs) there is nothing to switch to.
    if (!s || s->m_running < 0) return;
    Thread& t = s->m_threads[static_cast<size_t>(s->m_running)];
    t.wait_addr = wait_addr;
    t.wait_bit = wait_bit;
    swapcontext(&t.ctx, &s->m_main);
    t.wait_addr = nullptr;
  }

  static void entry() {
    Scheduler* s = s_active;
    const size_t i = static_cast<size_t>(s->m_running);
    Op op = s->m_ops[i];
    const uint32_t repeat = op.repeat;
    op.repeat = 1;
    for (uint32_t r = 0; r < repeat; r++) {
      s->m_impl.apply(op);
      // No scheduling point between the call's return and this read of what it returned.
      if (op_is_reader(op.kind)) s->m_reads[i].push_back(s->m_impl.read(Obs::result));
    }
    s->m_threads[i].finished = true;
    // Returning resumes uc_link, the scheduler.
  }

  static inline Scheduler* s_active = nullptr;
  Implementation& m_impl;
  std::vector<Op> m_ops;
  std::vector<Thread> m_threads;
  std::vector<std::vector<int64_t>> m_reads;
  ucontext_t m_main;
  int m_running = -1;
};

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
      : m_trace(trace), m_block(block), m_opt(opt), m_impl(impl), m_rep(rep) {}

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
  // What is wrong at quiescence, or "". A reader value only a comment admits goes to *admitted.
  std::string check(size_t log_from, const std::vector<std::vector<int64_t>>& reads,
                    std::string* admitted) const;
  bool invalid(uint32_t line, std::string message) {
    m_rep.result = InterleaveReport::invalid;
    m_rep.line = line;
    m_rep.message = std::move(message);
    return false;
  }

  const Trace& m_trace;
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
  } while (std::next_permutation(perm.begin(), perm.end()));
  if (m_orders.empty())
    return invalid(b.line, "no order of the block's operations is valid: " + first_refusal);
  return true;
}

std::string BlockExplorer::check(size_t log_from, const std::vector<std::vector<int64_t>>& reads,
                                 std::string* admitted) const {
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
  if (!agrees)
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
      if (admitted->empty())
        *admitted = "reader value admitted by a kernel comment: " + who +
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
  std::vector<std::vector<uint32_t>> todo{b.schedule};
  std::vector<Scheduler::Decision> decisions;
  auto finish = [&] {
    stats.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    m_rep.blocks.push_back(stats);
  };
  while (!todo.empty()) {
    const std::vector<uint32_t> forced = std::move(todo.back());
    todo.pop_back();
    run_prefix(m_impl);
    const size_t from = m_impl.warning_log().size();
    const Scheduler::Outcome out = sched.run(forced, m_opt.max_steps, decisions);
    stats.interleavings++;
    stats.max_steps = std::max<uint64_t>(stats.max_steps, decisions.size());
    std::vector<uint32_t> schedule;
    for (const auto& d : decisions) schedule.push_back(d.chosen);
    std::string what;
    if (out == Scheduler::infeasible) {
      finish();
      return invalid(b.line, "the pinned schedule cannot run: at step " +
                                 std::to_string(decisions.size() + 1) + " thread " +
                                 std::to_string(forced[decisions.size()]) +
                                 " has finished, is waiting for a lock, or does not exist");
    }
    if (out == Scheduler::deadlock)
      what = "deadlock: every unfinished thread waits for a bit_spin_lock";
    else if (out == Scheduler::livelock)
      what = "no quiescence within " + std::to_string(m_opt.max_steps) + " scheduling steps";
    std::string admitted;
    if (out == Scheduler::done) what = check(from, sched.reads(), &admitted);
    if (!admitted.empty()) {
      if (m_rep.admitted.empty() || m_rep.admitted.back().block != m_block)
        m_rep.admitted.push_back(AdmittedRead{m_block, schedule, admitted, 0});
      m_rep.admitted.back().interleavings++;
    }
    if (!what.empty()) {
      finish();
      m_rep.result = InterleaveReport::finding;
      m_rep.found = InterleaveFinding{m_block, schedule, what};
      return false;
    }
    if (stats.pinned) break;
    // Branch at every step this run chose by default: each other thread that could run there,
    // if the preemption bound allows. Prefixes are unique, so no interleaving runs twice.
    for (size_t i = decisions.size(); i-- > forced.size();) {
      const auto& d = decisions[i];
      for (uint32_t t = 0; t < m_threads.size(); t++) {
        if (t == d.chosen || !(d.enabled >> t & 1)) continue;
        const bool preempt = d.current >= 0 && (d.enabled >> d.current & 1);
        if (d.preemptions + preempt > m_opt.preemptions) continue;
        std::vector<uint32_t> next(schedule.begin(), schedule.begin() + static_cast<ptrdiff_t>(i));
        next.push_back(t);
        todo.push_back(std::move(next));
      }
    }
  }
  finish();
  return true;
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

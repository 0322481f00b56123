// Exploration strategies over a block's scheduling steps: the preemption bound, and source-DPOR with sleep sets.
#include <algorithm>
#include <optional>
#include <stdexcept>
#include <string>

#include "impl/sched_hook.h"
#include "interleave/scheduler.h"

namespace foliocheck::interleave_detail {
namespace {

constexpr uint8_t kAcquire = FOLIOCHECK_ACCESS_ACQUIRE;

constexpr uint8_t kGuarded = FOLIOCHECK_ACCESS_GUARDED;

// The lock word a step acquires, if it does; `waiting`: only a bit_spin_lock that waits for the
// holder (not the bit-spin-lock-no-wait mutant's).
std::optional<uintptr_t> acquires(const Footprint& f, bool waiting) {
  for (const Access& a : f)
    if ((a.kind & kAcquire) && (!waiting || a.bit >= 0)) return a.addr;
  return std::nullopt;
}

// Whether the step touches the lock word or what a lock guards.
bool touches_lock(const Footprint& f, uintptr_t word) {
  for (const Access& a : f)
    if (a.addr == word || (a.kind & kGuarded)) return true;
  return false;
}

// The step's accesses but those of the lock word and what a lock guards.
Footprint unlocked(const Footprint& f, uintptr_t word) {
  Footprint out;
  for (const Access& a : f)
    if (a.addr != word && !(a.kind & kGuarded)) out.push_back(a);
  return out;
}

// Judges a run that ended; true when it is the finding, which `x` then carries with its schedule.
bool judged(Exploration& x, const ExploreHooks& h, RunEnd end, std::vector<uint32_t> schedule) {
  x.what = h.judge(end, schedule);
  if (x.what.empty()) return false;
  x.schedule = std::move(schedule);
  return true;
}

struct Event {
  uint32_t thread = 0;
  Footprint fp;
  std::vector<uint32_t> clock;  // per thread: 1 + position of its last event that happens before
};

struct Node {
  uint32_t enabled = 0;
  uint32_t backtrack = 0;
  uint32_t sleep = 0;
  std::vector<Footprint> sleep_fp;  // per thread, when asleep: the step it would take
};

class Dpor {
 public:
  Dpor(Scheduler& s, const ExploreHooks& h, bool reduce) : m_s(s), m_h(h), m_reduce(reduce) {}
  Exploration run();

 private:
  // One execution: the threads of m_events[0..prefix) again, then `next`, then free choices.
  RunEnd execute(size_t prefix, std::optional<uint32_t> next, bool& cut);
  void clock(size_t j);
  void races(size_t j);
  void add_backtrack(size_t i, size_t j);
  bool hb(size_t a, size_t b) const {  // event a happens before (or is) event b
    return m_events[b].clock[m_events[a].thread] > a;
  }

  Scheduler& m_s;
  const ExploreHooks& m_h;
  bool m_reduce;
  std::vector<Node> m_nodes;
  std::vector<Event> m_events;
};

void Dpor::clock(size_t j) {
  Event& e = m_events[j];
  e.clock.assign(m_s.size(), 0);
  for (size_t k = j; k-- > 0;) {
    const Event& o = m_events[k];
    if (o.thread == e.thread || dependent(o.fp, e.fp)) {
      for (size_t t = 0; t < e.clock.size(); t++) e.clock[t] = std::max(e.clock[t], o.clock[t]);
    }
  }
  e.clock[e.thread] = static_cast<uint32_t>(j + 1);
}

// The reversible races of event j against earlier events: latest first, each earlier event that a
// later racing one (or j's own thread) already orders before j is no race.
void Dpor::races(size_t j) {
  const Event& e = m_events[j];
  std::vector<uint32_t> covered(m_s.size(), 0);
  for (size_t k = j; k-- > 0;)
    if (m_events[k].thread == e.thread) {
      covered = m_events[k].clock;
      break;
    }
  const std::optional<uintptr_t> lock = acquires(e.fp, true);
  for (size_t k = j; k-- > 0;) {
    const Event& o = m_events[k];
    if (o.thread == e.thread || covered[o.thread] > k) continue;
    if (!dependent(o.fp, e.fp)) continue;
    // An acquire is reversible only against the acquire of the same lock before it: the holder's
    // release, its reads of the lock word and its critical section cannot move after a waiter's
    // acquire (they are not the race; the acquires are).
    if (lock && touches_lock(o.fp, *lock) && acquires(o.fp, false) != lock &&
        !dependent(unlocked(o.fp, *lock), unlocked(e.fp, *lock)))
      continue;
    add_backtrack(k, j);
    for (size_t t = 0; t < covered.size(); t++) covered[t] = std::max(covered[t], o.clock[t]);
  }
}

// Race i < j: at the state before i, some thread that can start v = (events after i that do not
// happen after i), j must be explored.
void Dpor::add_backtrack(size_t i, size_t j) {
  Node& n = m_nodes[i];
  std::vector<size_t> v;
  for (size_t k = i + 1; k < j; k++)
    if (!hb(i, k)) v.push_back(k);
  v.push_back(j);
  uint32_t initials = 0, seen = 0;
  for (size_t a = 0; a < v.size(); a++) {
    const uint32_t t = m_events[v[a]].thread;
    if (seen >> t & 1) continue;
    seen |= 1u << t;
    bool first = true;
    for (size_t b = 0; b < a && first; b++) first = !hb(v[b], v[a]);
    if (first) initials |= 1u << t;
  }
  if (initials & n.backtrack) return;
  const uint32_t p = m_events[j].thread;
  const uint32_t pick = (initials >> p & 1) ? p : static_cast<uint32_t>(__builtin_ctz(initials));
  // A thread that cannot run there (waiting for a lock v's order would not have it wait for):
  // fall back to every thread that can, as classic DPOR does.
  n.backtrack |= (n.enabled >> pick & 1) ? 1u << pick : n.enabled;
}

RunEnd Dpor::execute(size_t prefix, std::optional<uint32_t> next, bool& cut) {
  cut = false;
  m_h.reset();
  m_s.start();
  RunEnd end = RunEnd::done;
  m_events.resize(prefix);
  m_nodes.resize(prefix + 1);
  int last = -1;
  for (size_t k = 0;; k++) {
    if (m_s.all_finished()) break;
    uint32_t t;
    if (k < prefix || (k == prefix && next)) {
      t = k < prefix ? m_events[k].thread : *next;
      // Re-running a prefix must take the same steps: the threads are deterministic.
      if (!(m_s.enabled() >> t & 1)) {
        m_s.stop();
        throw std::logic_error("DPOR: re-running the schedule's prefix diverged at step " +
                               std::to_string(k + 1));
      }
    } else {
      if (k >= m_h.max_steps) {
        end = RunEnd::livelock;
        break;
      }
      Node& n = m_nodes[k];
      n.enabled = m_s.enabled();
      if (!n.enabled) {
        end = RunEnd::deadlock;
        break;
      }
      const uint32_t awake = n.enabled & ~n.sleep;
      if (!awake) {
        cut = true;  // every thread that can run is asleep: an equivalent run was explored
        break;
      }
      t = last >= 0 && (awake >> last & 1) ? static_cast<uint32_t>(last)
                                           : static_cast<uint32_t>(__builtin_ctz(awake));
      n.backtrack |= m_reduce ? 1u << t : n.enabled;
    }
    Event ev;
    ev.thread = t;
    m_s.step(t, ev.fp);
    last = static_cast<int>(t);
    if (k < m_events.size())
      m_events[k] = std::move(ev);
    else
      m_events.push_back(std::move(ev));
    if (k + 1 >= m_nodes.size()) {
      // The state after this step is new: who sleeps there is who slept here, minus those this
      // step wakes (it does not commute with what they would do).
      Node fresh;
      const Node& here = m_nodes[k];
      fresh.sleep_fp.resize(m_s.size());
      for (uint32_t q = 0; q < m_s.size() && m_reduce; q++)
        if ((here.sleep >> q & 1) && q != t && !dependent(here.sleep_fp[q], m_events[k].fp)) {
          fresh.sleep |= 1u << q;
          fresh.sleep_fp[q] = here.sleep_fp[q];
        }
      m_nodes.push_back(std::move(fresh));
    }
  }
  m_s.stop();
  return end;
}

Exploration Dpor::run() {
  Exploration x;
  m_nodes.assign(1, Node{});
  m_nodes[0].sleep_fp.resize(m_s.size());
  size_t prefix = 0;
  std::optional<uint32_t> next;
  for (;;) {
    bool cut = false;
    const RunEnd end = execute(prefix, next, cut);
    if (cut)
      x.redundant++;
    else
      x.interleavings++;
    x.max_steps = std::max<uint64_t>(x.max_steps, m_events.size());
    if (!cut) {
      std::vector<uint32_t> schedule;
      for (const Event& e : m_events) schedule.push_back(e.thread);
      if (judged(x, m_h, end, std::move(schedule))) return x;
    }
    if (m_reduce)
      for (size_t j = 0; j < m_events.size(); j++) clock(j), races(j);
    // Back to the deepest state with a thread still to explore; the one just explored from there
    // goes to sleep with the step it took.
    next.reset();
    for (size_t k = m_events.size(); k-- > 0;) {
      Node& n = m_nodes[k];
      const uint32_t t = m_events[k].thread;
      if (m_reduce) {
        n.sleep |= 1u << t;
        n.sleep_fp[t] = m_events[k].fp;
      } else {
        n.sleep |= 1u << t;  // without reduction: only "done"
      }
      const uint32_t todo = n.backtrack & n.enabled & ~n.sleep;
      if (todo) {
        prefix = k;
        next = static_cast<uint32_t>(__builtin_ctz(todo));
        break;
      }
    }
    if (!next) break;
    m_nodes.resize(prefix + 1);
  }
  x.complete = true;
  return x;
}

}  // namespace

Exploration explore_dpor(Scheduler& s, const ExploreHooks& h, bool reduce) {
  return Dpor(s, h, reduce).run();
}

Exploration explore_bounded(Scheduler& s, const ExploreHooks& h, uint32_t preemptions,
                            const std::vector<uint32_t>& pinned, bool single) {
  struct Decision {
    uint32_t enabled = 0;  // bit t: thread t could run
    int current = -1;      // the thread that ran the step before (-1: none yet)
    uint32_t chosen = 0;
    uint32_t preemptions = 0;  // before this step
  };
  Exploration x;
  std::vector<std::vector<uint32_t>> todo{pinned};
  std::vector<Decision> decisions;
  Footprint fp;
  while (!todo.empty()) {
    const std::vector<uint32_t> forced = std::move(todo.back());
    todo.pop_back();
    h.reset();
    s.start();
    decisions.clear();
    RunEnd end = RunEnd::done;
    int current = -1;
    uint32_t used = 0;
    for (uint64_t step = 0;; step++) {
      if (s.all_finished()) break;
      const uint32_t enabled = s.enabled();
      if (!enabled) {
        end = RunEnd::deadlock;
        break;
      }
      if (step >= h.max_steps) {
        end = RunEnd::livelock;
        break;
      }
      uint32_t t;
      if (step < forced.size()) {
        t = forced[step];
        if (t >= s.size() || !(enabled >> t & 1)) {
          s.stop();
          x.infeasible = true;
          for (const auto& d : decisions) x.schedule.push_back(d.chosen);
          return x;
        }
      } else if (current >= 0 && (enabled >> current & 1)) {
        t = static_cast<uint32_t>(current);
      } else {
        t = static_cast<uint32_t>(__builtin_ctz(enabled));
      }
      decisions.push_back({enabled, current, t, used});
      if (current >= 0 && (enabled >> current & 1) && t != static_cast<uint32_t>(current)) used++;
      current = static_cast<int>(t);
      s.step(t, fp);
    }
    s.stop();
    x.interleavings++;
    x.max_steps = std::max<uint64_t>(x.max_steps, decisions.size());
    std::vector<uint32_t> schedule;
    for (const auto& d : decisions) schedule.push_back(d.chosen);
    if (judged(x, h, end, schedule)) return x;
    if (single) break;
    // Branch at every step this run chose by default: each other thread that could run there,
    // if the preemption bound allows. Prefixes are unique, so no interleaving runs twice.
    for (size_t i = decisions.size(); i-- > forced.size();) {
      const auto& d = decisions[i];
      for (uint32_t t = 0; t < s.size(); t++) {
        if (t == d.chosen || !(d.enabled >> t & 1)) continue;
        const bool preempt = d.current >= 0 && (d.enabled >> d.current & 1);
        if (d.preemptions + preempt > preemptions) continue;
        std::vector<uint32_t> next(schedule.begin(), schedule.begin() + static_cast<ptrdiff_t>(i));
        next.push_back(t);
        todo.push_back(std::move(next));
      }
    }
  }
  x.complete = false;
  return x;
}

}  // namespace foliocheck::interleave_detail

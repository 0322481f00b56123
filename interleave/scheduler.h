// The cooperative threads of one concurrent block and the exploration strategies that step them.
#pragma once

#include <ucontext.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/implementation.h"

namespace foliocheck::interleave_detail {

// One shared location a step touches (impl/sched_hook.h): bytes [addr, addr + size), one bit of
// them when bit >= 0, read and/or written. addr == 0: unknown, dependent on everything.
struct Access {
  uintptr_t addr = 0;
  uint32_t size = 0;
  int32_t bit = -1;
  uint8_t kind = 0;  // FOLIOCHECK_ACCESS_* bits
};
using Footprint = std::vector<Access>;

// Whether two steps may not commute: some pair of their accesses overlaps and one of them writes.
bool dependent(const Footprint& a, const Footprint& b);

// Runs each operation of a block as a ucontext thread on one implementation. One interleaving is
// start(), then step() by step() (each runs a thread to its next scheduling point or its end),
// then stop(); the caller resets the implementation before start().
class Scheduler {
 public:
  Scheduler(Implementation& impl, std::vector<Op> ops);
  ~Scheduler();
  size_t size() const { return m_threads.size(); }
  void start();
  uint32_t enabled() const;  // bit t: thread t could run (not finished, not waiting for a lock)
  bool all_finished() const;
  // Runs thread t for one step; `out` gets what the step touched.
  void step(uint32_t t, Footprint& out);
  // Uninstalls the hook. An unfinished thread (deadlock, livelock, a cut-short run) is never
  // resumed: its stack is reused by the next start(), and what its C++ frames owned leaks.
  void stop();
  // What each reader thread's calls returned in the last run (empty for other threads).
  const std::vector<std::vector<int64_t>>& reads() const { return m_reads; }

 private:
  struct Thread {
    ucontext_t ctx;
    std::unique_ptr<char[]> stack;
    bool finished = false;
    bool started = false;
    bool has_pending = false;  // stopped at a scheduling point whose access is `pending`
    Access pending;
    const void* wait_addr = nullptr;  // waiting in bit_spin_lock for this bit to clear
    int wait_bit = 0;
  };
  bool can_run(size_t i) const;
  static void point(const void* addr, unsigned long size, int access, int wait_bit);
  static void touch(const void* addr, unsigned long size, int access);
  static void entry();

  static inline Scheduler* s_active = nullptr;
  Implementation& m_impl;
  std::vector<Op> m_ops;
  std::vector<Thread> m_threads;
  std::vector<std::vector<int64_t>> m_reads;
  ucontext_t m_main;
  int m_running = -1;
  Footprint* m_step = nullptr;
};

enum class RunEnd : uint8_t { done, deadlock, livelock };

// What one exploration strategy reports.
struct Exploration {
  uint64_t interleavings = 0;  // runs to quiescence (or to a deadlock or livelock)
  uint64_t redundant = 0;      // DPOR: runs its sleep sets cut short (no new behaviour possible)
  uint64_t max_steps = 0;      // longest run, in scheduling steps
  bool complete = false;       // every behaviour of the block was covered (DPOR ran to its end)
  std::vector<uint32_t> schedule;  // of the finding, or of a pinned schedule that cannot run
  std::string what;                // the finding, or ""
  bool infeasible = false;         // the pinned schedule cannot run at step schedule.size()
};

// reset(): the implementation back to the state before the block. judge(end, schedule): what is
// wrong with the interleaving that just ended that way, or "".
struct ExploreHooks {
  std::function<void()> reset;
  std::function<std::string(RunEnd, const std::vector<uint32_t>& schedule)> judge;
  uint64_t max_steps = 100000;
};

// Every interleaving with at most `preemptions` preemptions, depth first; `forced` non-empty and
// `single`: only that schedule (a pinned one).
Exploration explore_bounded(Scheduler& s, const ExploreHooks& h, uint32_t preemptions,
                            const std::vector<uint32_t>& forced, bool single);

// Every interleaving up to equivalence (Mazurkiewicz traces over the steps' footprints): source-DPOR
// with sleep sets (interleave/dpor.cpp). `reduce` false: every interleaving, no reduction (the
// baseline it is validated against).
Exploration explore_dpor(Scheduler& s, const ExploreHooks& h, bool reduce);

}  // namespace foliocheck::interleave_detail

// The ucontext threads of a concurrent block, stepped one scheduling point at a time, and what each step touches.
#include "interleave/scheduler.h"

#include "core/legality.h"
#include "impl/sched_hook.h"

namespace foliocheck::interleave_detail {
namespace {

// Kernel code plus the C++ around Implementation::apply: far below this.
constexpr size_t kStackBytes = 256 * 1024;

bool conflict(const Access& a, const Access& b) {
  if (a.addr == 0 || b.addr == 0) return true;
  if (a.addr >= b.addr + b.size || b.addr >= a.addr + a.size) return false;
  if (!((a.kind | b.kind) & FOLIOCHECK_ACCESS_WRITE)) return false;
  return a.bit < 0 || b.bit < 0 || a.bit == b.bit;
}

}  // namespace

bool dependent(const Footprint& a, const Footprint& b) {
  for (const Access& x : a)
    for (const Access& y : b)
      if (conflict(x, y)) return true;
  return false;
}

Scheduler::Scheduler(Implementation& impl, std::vector<Op> ops)
    : m_impl(impl), m_ops(std::move(ops)) {
  m_threads.resize(m_ops.size());
  m_reads.resize(m_ops.size());
  for (Thread& t : m_threads) t.stack.reset(new char[kStackBytes]);
}

Scheduler::~Scheduler() { stop(); }

void Scheduler::start() {
  for (auto& r : m_reads) r.clear();
  for (Thread& t : m_threads) {
    t.finished = false;
    t.started = false;
    t.has_pending = false;
    t.wait_addr = nullptr;
    getcontext(&t.ctx);
    t.ctx.uc_stack.ss_sp = t.stack.get();
    t.ctx.uc_stack.ss_size = kStackBytes;
    t.ctx.uc_link = &m_main;
    makecontext(&t.ctx, reinterpret_cast<void (*)()>(&Scheduler::entry), 0);
  }
  s_active = this;
  foliocheck_sched_point = &Scheduler::point;
  foliocheck_sched_access = &Scheduler::touch;
}

void Scheduler::stop() {
  if (s_active != this) return;
  foliocheck_sched_point = nullptr;
  foliocheck_sched_access = nullptr;
  s_active = nullptr;
}

bool Scheduler::can_run(size_t i) const {
  const Thread& t = m_threads[i];
  if (t.finished) return false;
  if (!t.wait_addr) return true;
  const auto* words = static_cast<const unsigned long*>(t.wait_addr);
  constexpr int kBits = 8 * sizeof(unsigned long);
  return !(words[t.wait_bit / kBits] >> (t.wait_bit % kBits) & 1);
}

uint32_t Scheduler::enabled() const {
  uint32_t e = 0;
  for (size_t i = 0; i < m_threads.size(); i++)
    if (can_run(i)) e |= 1u << i;
  return e;
}

bool Scheduler::all_finished() const {
  for (const Thread& t : m_threads)
    if (!t.finished) return false;
  return true;
}

void Scheduler::step(uint32_t t, Footprint& out) {
  Thread& th = m_threads[t];
  out.clear();
  if (th.has_pending) out.push_back(th.pending);
  const bool first = !th.started;
  th.started = true;
  m_step = &out;
  m_running = static_cast<int>(t);
  swapcontext(&m_main, &th.ctx);
  m_running = -1;
  m_step = nullptr;
  // A thread that never reached a scheduling point (an encoding: no shim) touched what it touched
  // unseen: dependent on everything.
  if (first && th.finished) out.push_back(Access{});
}

void Scheduler::point(const void* addr, unsigned long size, int access, int wait_bit) {
  Scheduler* s = s_active;
  // Outside a thread (reset, reads between runs) there is nothing to switch to.
  if (!s || s->m_running < 0) return;
  Thread& t = s->m_threads[static_cast<size_t>(s->m_running)];
  t.has_pending = true;
  t.pending = Access{reinterpret_cast<uintptr_t>(addr), static_cast<uint32_t>(size),
                     access & (FOLIOCHECK_ACCESS_ACQUIRE | FOLIOCHECK_ACCESS_RELEASE) ? wait_bit : -1,
                     static_cast<uint8_t>(access)};
  t.wait_addr = wait_bit >= 0 ? addr : nullptr;
  t.wait_bit = wait_bit;
  swapcontext(&t.ctx, &s->m_main);
  t.wait_addr = nullptr;
}

void Scheduler::touch(const void* addr, unsigned long size, int access) {
  Scheduler* s = s_active;
  if (!s || s->m_running < 0 || !s->m_step) return;
  s->m_step->push_back(
      Access{reinterpret_cast<uintptr_t>(addr), static_cast<uint32_t>(size), -1,
             static_cast<uint8_t>(access)});
}

void Scheduler::entry() {
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

}  // namespace foliocheck::interleave_detail

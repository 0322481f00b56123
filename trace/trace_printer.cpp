// Prints trace format v1 canonically: fixed key order, every header key explicit, no comments.
#include <algorithm>
#include <sstream>

#include "trace/trace.h"

namespace foliocheck {

std::string print_setup(const Setup& setup) {
  const Config& c = setup.config;
  std::ostringstream out;
  out << "config semantics=" << semantics_name(c.semantics) << " bits=" << c.bits
      << " pmd_order=" << c.pmd_order << " pud_order=" << c.pud_order << "\n";
  out << "folio order=" << setup.folio.order << " type=" << folio_type_name(setup.folio.type);
  if (setup.folio.hugetlb) out << " hugetlb";
  out << "\n";
  return out.str();
}

std::string print_op(const Op& op) {
  const OpInfo& info = op_info(op.kind);
  std::string out(info.name);
  auto kv = [&](const char* k, uint64_t v) {
    out += ' ';
    out += k;
    out += '=';
    out += std::to_string(v);
  };
  if (info.args & kArgMm) kv("mm", op.mm);
  if (info.args & kArgSrc) kv("src", op.src);
  if (info.args & (kArgRange | kArgPage)) kv("page", op.page);
  if (info.args & kArgRange) kv("nr", op.nr);
  if (op.exclusive) out += " exclusive";
  if (op.repeat != 1) kv("x", op.repeat);
  return out;
}

Trace make_trace(const Setup& setup, const std::vector<Op>& ops) {
  Trace t;
  t.setup = setup;
  for (const Op& op : ops) {
    Statement st;
    st.kind = Statement::op;
    st.operation = op;
    t.statements.push_back(st);
  }
  return t;
}

std::string print_schedule(const std::vector<uint32_t>& schedule) {
  std::string out = "schedule ";
  for (size_t i = 0; i < schedule.size(); i++)
    out += (i ? "," : "") + std::to_string(schedule[i]);
  return out;
}

std::string print_trace(const Trace& trace) {
  std::string out = "foliocheck-trace " + std::to_string(kTraceVersion) + "\n";
  out += print_setup(trace.setup);
  uint32_t open = 0;  // the block whose `concurrent` line was printed and whose `end` was not
  auto close = [&] {
    if (!open) return;
    out += "end\n";
    // A schedule is printed only while it names threads the block has, so that the printed
    // trace always parses (a trace built in memory may have dropped threads without
    // Trace::carry_schedules).
    const size_t threads = trace.block_threads(open).size();
    if (open <= trace.blocks.size()) {
      const auto& sched = trace.blocks[open - 1].schedule;
      if (!sched.empty() && std::all_of(sched.begin(), sched.end(),
                                        [&](uint32_t t) { return t < threads; }))
        out += print_schedule(sched) + "\n";
    }
    open = 0;
  };
  for (const Statement& st : trace.statements) {
    const uint32_t block = st.kind == Statement::op ? st.block : 0;
    if (block != open) {
      close();
      if (block) out += "concurrent\n";
      open = block;
    }
    if (st.kind == Statement::op) {
      out += print_op(st.operation);
    } else {
      out += "expect";
      for (const Expectation& e : st.expects) {
        out += " ";
        out += obs_info(e.obs).name;
        if (obs_info(e.obs).indexed) out += "[" + std::to_string(e.index) + "]";
        out += "=" + std::to_string(e.value);
      }
    }
    out += "\n";
  }
  close();
  return out;
}

}  // namespace foliocheck

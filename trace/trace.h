// Trace format v1: the one currency of foliocheck, as a data structure with a parser and printer.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/vocab.h"

namespace foliocheck {

inline constexpr int kTraceVersion = 1;
inline constexpr uint32_t kMaxRepeat = 1000000;

// One `name=value` or `name[i]=value` of an `expect` line.
struct Expectation {
  Obs obs = Obs::folio_mapcount;
  uint32_t index = 0;
  int64_t value = 0;
  uint32_t column = 0;  // where it starts on its line; not part of equality
  bool operator==(const Expectation& o) const {
    return obs == o.obs && index == o.index && value == o.value;
  }
};

struct Statement {
  enum Kind : uint8_t { op, expect } kind = op;
  Op operation;                      // kind == op
  std::vector<Expectation> expects;  // kind == expect
  uint32_t line = 0;                 // not part of equality
  // 0, or k: the operation is a thread of the k-th `concurrent` block (Trace::blocks[k - 1]).
  // A block's operations are consecutive statements, in program order.
  uint32_t block = 0;
  bool operator==(const Statement& o) const {
    return kind == o.kind && block == o.block &&
           (kind == op ? operation == o.operation : expects == o.expects);
  }
};

// A `concurrent` ... `end` block: each operation in it is one thread. `schedule` pins one
// interleaving (docs/trace-format.md): at each scheduling step, the thread (0-based, in program
// order) that runs until its next scheduling point.
struct ConcurrentBlock {
  std::vector<uint32_t> schedule;  // empty: none pinned
  uint32_t line = 0;               // of `concurrent`; not part of equality
  bool operator==(const ConcurrentBlock& o) const { return schedule == o.schedule; }
};

struct Trace {
  Setup setup;
  std::vector<Statement> statements;
  std::vector<ConcurrentBlock> blocks;
  uint32_t config_line = 0;  // the config line (else the folio line): errors about the setup name
                             // it; not part of equality
  bool operator==(const Trace& o) const {
    return setup == o.setup && statements == o.statements && blocks == o.blocks;
  }
  size_t nr_ops() const;
  // The order in which the sequential engines (replay, and so every command that reads traces)
  // run the statements: program order, except that a block with a pinned schedule runs its
  // threads in the order that schedule lets them run last (threads it never names last, after,
  // in program order). Indexes into `statements`.
  std::vector<size_t> sequential_order() const;
  // The statement indexes of block k's threads (1-based k), in program order.
  std::vector<size_t> block_threads(uint32_t k) const;
  // For a trace made from `from` by erasing or rewriting statements, each statement keeping its
  // `line` (reduce's candidates): gives each block the schedule of the same block of `from`, on
  // the threads that remain. A step of an erased thread goes; every other step names its thread
  // by its new position, so the threads kept run in the order they ran before.
  void carry_schedules(const Trace& from);
  // The mm ids the operations name (src before mm), in order of first use.
  std::vector<uint32_t> mms() const;
};

// file:line:column and what is wrong. Columns and lines are 1-based.
struct TraceError {
  std::string file;
  uint32_t line = 0;
  uint32_t column = 0;
  std::string message;
  std::string describe() const;  // "file:line:column: error: message"
};

struct ParseResult {
  std::optional<Trace> trace;
  std::optional<TraceError> error;
};

// Parses a whole trace. Never crashes or hangs on any input; `file` only names it in errors.
ParseResult parse_trace(std::string_view text, std::string_view file = "<input>");
// Reads and parses a file; unreadable files are errors at line 0.
ParseResult parse_trace_file(const std::string& path);

// A trace of operations only, as the engines hand back a failing sequence.
Trace make_trace(const Setup& setup, const std::vector<Op>& ops);

// Canonical text: every key explicit, fixed key order, no comments. parse(print(t)) == t.
std::string print_trace(const Trace& trace);
// One operation as a trace line (no newline): `folio_add_anon_rmap_ptes mm=1 page=0 nr=16`.
std::string print_op(const Op& op);
std::string print_setup(const Setup& setup);
// A block's `schedule 0,1,0` line (no newline).
std::string print_schedule(const std::vector<uint32_t>& schedule);

}  // namespace foliocheck

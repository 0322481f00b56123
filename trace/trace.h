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
  Op operation;                        // kind == op
  std::vector<Expectation> expects;    // kind == expect
  uint32_t line = 0;                   // not part of equality
  bool operator==(const Statement& o) const {
    return kind == o.kind && (kind == op ? operation == o.operation : expects == o.expects);
  }
};

struct Trace {
  Setup setup;
  std::vector<Statement> statements;
  uint32_t config_line = 0;  // where the setup was given (errors about it name it); not part of equality
  bool operator==(const Trace& o) const {
    return setup == o.setup && statements == o.statements;
  }
  size_t nr_ops() const;
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

}  // namespace foliocheck

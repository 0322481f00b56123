// `foliocheck replay`: runs trace files and reports per file, with one command to reproduce.
#include <iostream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "impl/mutants.h"
#include "trace/replay.h"
#include "tools/cli.h"

namespace foliocheck::cli {
namespace {

nlohmann::ordered_json violation_json(const Violation& v) {
  return {{"kind", violation_kind_name(v.kind)}, {"impl", v.impl},          {"field", v.field},
          {"expected", v.expected},               {"actual", v.actual},      {"detail", v.detail},
          {"signature", v.signature()}};
}

void print_report_json(const std::string& file, const ReplayReport& r) {
  nlohmann::ordered_json o = {{"file", file},
                              {"ops", r.ops},
                              {"expects", r.expects},
                              {"result", replay_result_name(r.result)}};
  if (r.result != ReplayReport::ok) {
    o["line"] = r.line;
    o["column"] = r.column;
    o["op_index"] = r.op_index;
    o["message"] = r.message;
  }
  o["violation"] = r.found ? violation_json(*r.found) : nlohmann::ordered_json(nullptr);
  o["failed_expect"] = r.failed_expect;
  o["impls"] = r.impls;
  nlohmann::ordered_json warnings = nlohmann::ordered_json::object();
  for (const auto& [impl, log] : r.warnings) warnings[impl] = log;
  o["warnings"] = std::move(warnings);
  nlohmann::ordered_json final_obs = nlohmann::ordered_json::object();
  for (const auto& [impl, obs] : r.final_obs) {
    nlohmann::ordered_json values = nlohmann::ordered_json::object();
    for (const auto& [name, value] : obs) values[name] = value;
    final_obs[impl] = std::move(values);
  }
  o["final"] = std::move(final_obs);
  print_json(std::cout, o);
}

void print_text(const std::string& file, const ReplayReport& r, const std::string& reproduce) {
  std::string where = file + ":" + std::to_string(r.line);
  if (r.column) where += ":" + std::to_string(r.column);
  switch (r.result) {
    case ReplayReport::ok:
      std::cout << file << ": ok (" << r.ops << " operations, " << r.expects
                << " expects; model";
      for (size_t i = 1; i < r.impls.size(); i++) std::cout << ", " << r.impls[i];
      std::cout << ")\n";
      return;
    case ReplayReport::violation: {
      const bool harness = r.found && r.found->kind == ViolationKind::harness;
      std::cout << where << ": " << (harness ? "HARNESS BUG" : r.failed_expect ? "FAILED EXPECT" : "VIOLATION")
                << " at operation #" << r.op_index << ": " << r.message << "\n";
      if (r.found)
        std::cout << "  implementation: " << r.found->impl << "  field: " << r.found->field
                  << "  expected: " << r.found->expected
                  << "  actual: " << r.found->actual << "\n";
      std::cout << "  reproduce: " << reproduce << "\n";
      return;
    }
    case ReplayReport::invalid:
      std::cerr << where << ": error: invalid operation #" << r.op_index << ": " << r.message << "\n";
      if (r.ran_invalid) {
        std::cout << file << ": ran the invalid operation (--allow-invalid):\n";
        for (const auto& [impl, log] : r.warnings) {
          std::cout << "  " << impl << ": " << log.size() << " warning(s)\n";
          for (const std::string& w : log) std::cout << "    " << w << "\n";
        }
      }
      return;
    case ReplayReport::error:
      std::cerr << where << ": error: " << r.message << "\n";
      return;
  }
}

}  // namespace

Exit cmd_replay(const Flags& flags) {
  if (flags.args.empty()) return usage_error("replay needs at least one trace FILE");
  ReplayOptions opt;
  opt.impls = flags.impls();
  opt.allow_invalid = flags.allow_invalid;
  opt.sweep_every = flags.sweep_every;
  std::string extra;
  if (!select_mutant(flags, extra)) return Exit::usage;
  if (!opt.impls.empty()) extra += " --impl=" + join_commas(flags.impl);
  std::ostringstream log;
  if (!flags.quiet && !flags.json) opt.log = &log;

  Exit status = Exit::ok;
  for (const std::string& file : flags.args) {
    ParseResult parsed = parse_trace_file(file);
    Exit code;
    if (parsed.error) {
      if (flags.json)
        print_json(std::cout, {{"file", file},
                               {"ops", 0},
                               {"result", "invalid"},
                               {"line", parsed.error->line},
                               {"column", parsed.error->column},
                               {"message", parsed.error->message},
                               {"violation", nullptr},
                               {"final", nlohmann::ordered_json::object()}});
      std::cerr << parsed.error->describe() << "\n";
      code = Exit::usage;
    } else {
      log.str("");
      ReplayReport report = replay_trace(*parsed.trace, opt);
      // A replay that stopped before its first operation has no log: its error names the file.
      if (opt.log && !log.str().empty()) std::cout << file << ":\n" << log.str();
      const std::string reproduce = "foliocheck replay" + extra + " " + file;
      if (flags.json)
        print_report_json(file, report);
      else
        print_text(file, report, reproduce);
      code = replay_exit_code(report);
    }
    status = worse(status, code);  // harness bug, then bad input, then findings
  }
  return status;
}

Exit cmd_print(const Flags& flags) {
  if (flags.args.size() != 1) return usage_error("print needs exactly one trace FILE");
  ParseResult parsed = parse_trace_file(flags.args[0]);
  if (parsed.error) {
    std::cerr << parsed.error->describe() << "\n";
    return Exit::usage;
  }
  std::cout << print_trace(*parsed.trace);
  return Exit::ok;
}

}  // namespace foliocheck::cli

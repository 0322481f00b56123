// `foliocheck replay`: runs trace files and reports per file, with one command to reproduce.
#include <iostream>
#include <sstream>

#include "impl/mutants.h"
#include "trace/replay.h"
#include "tools/cli.h"
#include "tools/json.h"

namespace foliocheck::cli {
namespace {

std::vector<std::string> split_commas(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in(s);
  std::string item;
  while (std::getline(in, item, ','))
    if (!item.empty()) out.push_back(item);
  return out;
}

std::string violation_json(const Violation& v) {
  return "{\"kind\":" + json_string(violation_kind_name(v.kind)) + ",\"impl\":" +
         json_string(v.impl) + ",\"field\":" + json_string(v.field) +
         ",\"expected\":" + std::to_string(v.expected) + ",\"actual\":" + std::to_string(v.actual) +
         ",\"detail\":" + json_string(v.detail) + ",\"signature\":" + json_string(v.signature()) +
         "}";
}

void print_json(const std::string& file, const ReplayReport& r) {
  std::string out = "{\"file\":" + json_string(file) + ",\"ops\":" + std::to_string(r.ops) +
                    ",\"expects\":" + std::to_string(r.expects) +
                    ",\"result\":" + json_string(replay_result_name(r.result));
  if (r.result != ReplayReport::ok) {
    out += ",\"line\":" + std::to_string(r.line) + ",\"column\":" + std::to_string(r.column) +
           ",\"op_index\":" + std::to_string(r.op_index) + ",\"message\":" + json_string(r.message);
  }
  out += ",\"violation\":" + (r.found ? violation_json(*r.found) : std::string("null"));
  out += ",\"failed_expect\":" + std::string(r.failed_expect ? "true" : "false");
  out += ",\"impls\":[";
  for (size_t i = 0; i < r.impls.size(); i++) out += (i ? "," : "") + json_string(r.impls[i]);
  out += "],\"warnings\":{";
  for (size_t i = 0; i < r.warnings.size(); i++) {
    out += (i ? "," : "") + json_string(r.warnings[i].first) + ":[";
    for (size_t j = 0; j < r.warnings[i].second.size(); j++)
      out += (j ? "," : "") + json_string(r.warnings[i].second[j]);
    out += "]";
  }
  out += "},\"final\":{";
  for (size_t i = 0; i < r.final_obs.size(); i++) {
    out += (i ? "," : "") + json_string(r.final_obs[i].first) + ":{";
    const auto& obs = r.final_obs[i].second;
    for (size_t j = 0; j < obs.size(); j++)
      out += (j ? "," : "") + json_string(obs[j].first) + ":" + std::to_string(obs[j].second);
    out += "}";
  }
  out += "}}";
  std::cout << out << "\n";
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

int cmd_replay(const Flags& flags) {
  if (flags.args.empty()) return usage_error("replay needs at least one trace FILE");
  ReplayOptions opt;
  if (flags.impl != "all") opt.impls = split_commas(flags.impl);
  opt.allow_invalid = flags.on(flags.allow_invalid);
  opt.sweep_every = static_cast<uint32_t>(std::stoul(flags.sweep_every));
  std::string extra;
  if (!select_mutant(flags, extra)) return kExitUsage;
  if (flags.impl != "all") extra += " --impl=" + flags.impl;
  std::ostringstream log;
  if (!flags.on(flags.quiet) && !flags.on(flags.json)) opt.log = &log;

  int status = 0;
  for (const std::string& file : flags.args) {
    ParseResult parsed = parse_trace_file(file);
    int code;
    if (parsed.error) {
      if (flags.on(flags.json))
        std::cout << "{\"file\":" << json_string(file) << ",\"ops\":0,\"result\":\"invalid\",\"line\":"
                  << parsed.error->line << ",\"column\":" << parsed.error->column
                  << ",\"message\":" << json_string(parsed.error->message)
                  << ",\"violation\":null,\"final\":{}}\n";
      std::cerr << parsed.error->describe() << "\n";
      code = kExitUsage;
    } else {
      log.str("");
      ReplayReport report = replay_trace(*parsed.trace, opt);
      if (opt.log) std::cout << file << ":\n" << log.str();
      const std::string reproduce = "foliocheck replay" + extra + " " + file;
      if (flags.on(flags.json))
        print_json(file, report);
      else
        print_text(file, report, reproduce);
      code = replay_exit_code(report);
    }
    // The worst outcome wins: harness bug, then bad input, then findings.
    auto rank = [](int c) { return c == 3 ? 3 : c == 2 ? 2 : c == 1 ? 1 : 0; };
    if (rank(code) > rank(status)) status = code;
  }
  return status;
}

int cmd_print(const Flags& flags) {
  if (flags.args.size() != 1) return usage_error("print needs exactly one trace FILE");
  ParseResult parsed = parse_trace_file(flags.args[0]);
  if (parsed.error) {
    std::cerr << parsed.error->describe() << "\n";
    return kExitUsage;
  }
  std::cout << print_trace(*parsed.trace);
  return kExitOk;
}

}  // namespace foliocheck::cli

// `foliocheck drift`: what changes when the same traces run under another semantics, by cause.
#include <algorithm>
#include <filesystem>
#include <iostream>

#include <nlohmann/json.hpp>

#include "trace/drift.h"
#include "tools/cli.h"

namespace foliocheck::cli {
namespace {

namespace fs = std::filesystem;

// The corpus a semantics' scenario traces live in, when no FILE is named.
std::vector<std::string> corpus_traces(Semantics from) {
  std::vector<std::string> files;
  const fs::path dir = fs::path(FOLIOCHECK_CORPUS_DIR) / std::string(semantics_name(from));
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec))
    if (e.path().extension() == ".trace") files.push_back(e.path().string());
  std::sort(files.begin(), files.end());
  return files;
}

std::string indent(const std::string& text) {
  std::string out;
  size_t start = 0;
  while (start < text.size()) {
    const size_t end = text.find('\n', start);
    out += "    " + text.substr(start, end - start) + "\n";
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return out;
}

void print_text(const DriftReport& r) {
  const std::string from(semantics_name(r.from)), to(semantics_name(r.to));
  size_t compared = 0;
  for (const auto& f : r.files) compared += f.run.comparable;
  std::cout << "drift " << from << " -> " << to << ": " << r.files.size() << " traces ("
            << compared << " compared), " << r.ops << " operations\n";
  for (const auto& f : r.files) {
    if (!f.run.comparable) {
      std::cout << f.file << ": not comparable: " << f.run.why_not << "\n";
      continue;
    }
    std::vector<std::string> names;
    for (const DriftChange& c : f.run.changes) {
      const std::string n(obs_info(c.obs).name);
      if (std::find(names.begin(), names.end(), n) == names.end()) names.push_back(n);
    }
    std::cout << f.file << ": " << f.run.changes.size() << " changes";
    if (!names.empty()) std::cout << " (" << join_commas(names) << ")";
    std::cout << "\n";
  }
  for (const DriftCauseReport& c : r.causes) {
    std::cout << "\ncause " << drift_cause_name(c.cause) << ": ";
    if (c.findings.empty()) {
      std::cout << "no change\n";
      continue;
    }
    std::cout << c.findings.size() << " observable(s) differ\n";
    for (const DriftFinding& f : c.findings) {
      std::cout << "  " << obs_info(f.obs).name << ": " << f.changes << " changes in " << f.traces
                << " trace(s); smallest (from " << f.example_file << "): " << f.example << "\n"
                << indent(print_drift_trace(f.smallest, r.from, f.obs));
    }
  }
}

void print_json_report(const DriftReport& r) {
  nlohmann::ordered_json o = {{"from", semantics_name(r.from)},
                              {"to", semantics_name(r.to)},
                              {"ops", r.ops}};
  nlohmann::ordered_json files = nlohmann::ordered_json::array();
  for (const auto& f : r.files) {
    nlohmann::ordered_json j = {{"file", f.file}, {"comparable", f.run.comparable}};
    if (!f.run.comparable) j["why_not"] = f.run.why_not;
    j["ops"] = f.run.ops;
    nlohmann::ordered_json changes = nlohmann::ordered_json::array();
    for (const DriftChange& c : f.run.changes)
      changes.push_back({{"op_index", c.op_index},
                         {"line", c.line},
                         {"observable", obs_info(c.obs).name},
                         {"cause", drift_cause_name(drift_cause(c.obs, f.setup))},
                         {"from", c.from ? nlohmann::ordered_json(*c.from) : nullptr},
                         {"to", c.to ? nlohmann::ordered_json(*c.to) : nullptr}});
    j["changes"] = std::move(changes);
    files.push_back(std::move(j));
  }
  o["files"] = std::move(files);
  nlohmann::ordered_json causes = nlohmann::ordered_json::array();
  for (const DriftCauseReport& c : r.causes) {
    nlohmann::ordered_json findings = nlohmann::ordered_json::array();
    for (const DriftFinding& f : c.findings)
      findings.push_back({{"observable", obs_info(f.obs).name},
                          {"changes", f.changes},
                          {"traces", f.traces},
                          {"example", f.example},
                          {"file", f.example_file},
                          {"smallest_trace", print_drift_trace(f.smallest, r.from, f.obs)}});
    causes.push_back({{"cause", drift_cause_name(c.cause)}, {"findings", std::move(findings)}});
  }
  o["causes"] = std::move(causes);
  print_json(std::cout, o);
}

}  // namespace

Exit cmd_drift(const Flags& flags) {
  if (!flags.from || !flags.to)
    return usage_error("drift needs --from=SEMANTICS and --to=SEMANTICS");
  std::vector<std::string> files = flags.args;
  if (files.empty()) {
    files = corpus_traces(*flags.from);
    if (files.empty())
      return usage_error("no FILE given and no corpus traces for semantics=" +
                         std::string(semantics_name(*flags.from)));
  }
  std::vector<std::pair<std::string, Trace>> traces;
  for (const std::string& file : files) {
    ParseResult parsed = parse_trace_file(file);
    if (parsed.error) {
      std::cerr << parsed.error->describe() << "\n";
      return Exit::usage;
    }
    traces.emplace_back(file, std::move(*parsed.trace));
  }
  const DriftReport report = drift_report(traces, *flags.from, *flags.to);
  // A trace that is invalid under --from is bad input, named with its line.
  for (const auto& f : report.files)
    if (f.run.error) {
      std::cerr << f.file << ":" << f.run.error_line << ":1: error: " << *f.run.error << "\n";
      return Exit::usage;
    }
  if (flags.json)
    print_json_report(report);
  else
    print_text(report);
  return Exit::ok;
}

}  // namespace foliocheck::cli

// `foliocheck explore`: bounded exhaustive search for a shortest violating operation sequence.
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "explore/explore.h"
#include "impl/mutants.h"
#include "tools/cli.h"
#include "tools/explore_cli.h"
#include "tools/state_map_json.h"

namespace foliocheck::cli {

std::optional<std::string> explore_options_from_flags(const Flags& flags, ExploreOptions& o) {
  Setup& s = o.setup;
  s.config.semantics = flags.semantics;
  s.config.bits = flags.bits;
  s.config.pmd_order = flags.pmd_order;
  s.config.pud_order = flags.pud_order;
  s.folio.order = flags.order;
  s.folio.type = flags.type;
  s.folio.hugetlb = flags.hugetlb;
  if (auto why = ReferenceModel::setup_error(s)) return *why;
  o.mms = flags.mms;
  o.depth = flags.depth.value_or(4);
  o.overflow = flags.overflow;
  if (o.overflow && s.config.bits != 32)
    return std::string("--overflow needs --bits=32 (only short slot counts can overflow)");
  o.max_states = flags.max_states;
  o.mm_ids = flags.mm_ids;
  o.impls = flags.impls();
  o.state_map = flags.state_map;
  o.check_every_transition = flags.check_every_transition;
  return std::nullopt;
}

std::string describe_options(const ExploreOptions& o) {
  std::string s = print_setup(o.setup);
  for (char& c : s)
    if (c == '\n') c = ' ';
  std::string mms = "mms=" + std::to_string(o.mms);
  if (!o.mm_ids.empty()) {
    mms = "mm-ids=";
    for (size_t i = 0; i < o.mm_ids.size(); i++) {
      if (i) mms += ",";
      mms += std::to_string(o.mm_ids[i]);
    }
  }
  return s + mms + " depth=" + std::to_string(o.depth) + (o.overflow ? " overflow" : "");
}

namespace {

// One line on stderr, rewritten in place on a terminal; elsewhere one line per finished level of
// a run that has taken long enough for someone to wonder.
class ProgressLine {
 public:
  ProgressLine() : m_tty(isatty(2) != 0) {}
  ~ProgressLine() { clear(); }
  void operator()(const ExploreProgress& p) {
    const double rate = p.seconds > 0 ? static_cast<double>(p.states) / p.seconds : 0;
    const uint64_t done = p.level_size ? p.level_done * 20 / p.level_size : 20;
    char line[200];
    std::snprintf(line, sizeof line,
                  "[%-20s] depth %u: %llu/%llu parents, %llu states, %.0f states/s, %.1f s",
                  std::string(done, '#').c_str(), p.depth,
                  static_cast<unsigned long long>(p.level_done),
                  static_cast<unsigned long long>(p.level_size),
                  static_cast<unsigned long long>(p.states), rate, p.seconds);
    if (m_tty) {
      std::cerr << "\r" << line << "\033[K" << std::flush;
      m_shown = true;
    } else if (p.level_done == p.level_size && p.seconds >= 2) {
      std::cerr << line << "\n";
    }
  }
  void clear() {
    if (m_shown) std::cerr << "\r\033[K" << std::flush;
    m_shown = false;
  }

 private:
  bool m_tty;
  bool m_shown = false;
};

}  // namespace

Exit cmd_explore(const Flags& flags) {
  if (!flags.args.empty()) return usage_error("explore takes no positional arguments");
  ExploreOptions options;
  if (auto why = explore_options_from_flags(flags, options)) return usage_error(*why);
  std::string mutant_flag;
  if (!select_mutant(flags, mutant_flag)) return Exit::usage;
  Explorer explorer(options);
  if (explorer.error()) return usage_error(*explorer.error());
  const bool json = flags.json;
  if (!json) {
    std::cout << "explore: " << describe_options(options)
              << (mutant_flag.empty() ? "" : mutant_flag.substr(1)) << "\n  implementations: model";
    for (const std::string& name : explorer.result().impls) std::cout << ", " << name;
    std::cout << "\n  alphabet: " << explore_alphabet(options).size() << " operations per state\n"
              << std::flush;
  }
  ProgressLine progress;
  const ExploreResult& r = explorer.run([&](const ExploreProgress& p) { progress(p); });
  progress.clear();

  std::string file;
  if (r.outcome == ExploreResult::violation) {
    file = flags.out;
    if (file.empty()) {
      const char* tmp = std::getenv("TMPDIR");
      file = std::string(tmp && *tmp ? tmp : "/tmp") + "/foliocheck-explore-" +
             std::to_string(getpid()) + ".trace";
    }
    std::string text = print_trace(r.as_trace(options.setup));
    // After the header line, where the format allows comments: how the trace was found.
    text.insert(text.find('\n') + 1, "# found by: foliocheck explore " + describe_options(options) +
                                         mutant_flag + "\n# " + r.found->describe() + "\n");
    std::ofstream out(file);
    out << text;
    if (!out) return usage_error("cannot write the trace to '" + file + "'");
  }
  const std::string reproduce = "foliocheck replay --sweep-every=1" + mutant_flag + " " + file;
  const bool harness = r.found && r.found->kind == ViolationKind::harness;

  if (json) {
    nlohmann::ordered_json o = {
        {"setup", describe_options(options)},
        {"mutant", join_commas(flags.mutant)},
        {"outcome", explore_outcome_name(r.outcome)},
        {"states", r.states},
        {"transitions", r.transitions},
        {"applied", r.applied},
        {"depth", r.depth},
        {"level_states", r.level_states},
        {"seconds", r.seconds},
        {"states_per_second", static_cast<uint64_t>(r.states_per_second())}};
    if (r.found) {
      o["violation"] = {{"kind", violation_kind_name(r.found->kind)}, {"impl", r.found->impl},
                        {"field", r.found->field},       {"expected", r.found->expected},
                        {"actual", r.found->actual},     {"detail", r.found->detail}};
      o["length"] = r.trace.size();
      o["trace_file"] = file;
      o["reproduce"] = reproduce;
      nlohmann::ordered_json ops = nlohmann::ordered_json::array();
      for (const Op& op : r.trace) ops.push_back(print_op(op));
      o["trace"] = std::move(ops);
    } else {
      o["violation"] = nullptr;
    }
    if (r.map) o["state_map"] = state_map_json(*r.map);
    print_json(std::cout, o);
  } else {
    std::cout << "  result: " << explore_outcome_name(r.outcome);
    switch (r.outcome) {
      case ExploreResult::violation:
        std::cout << (harness ? " (HARNESS BUG)" : "") << ", a shortest violating sequence has "
                  << r.trace.size() << " operation(s)";
        break;
      case ExploreResult::closed:
        std::cout << ", every reachable state checked (no new state at depth " << r.depth << ")";
        break;
      case ExploreResult::bounded:
        std::cout << ", every sequence of up to " << r.depth << " operations checked";
        break;
      case ExploreResult::limit:
        std::cout << ", stopped by --max-states; sequences up to " << r.depth
                  << " operations checked";
        break;
      case ExploreResult::running:
        break;
    }
    char rate[64];
    std::snprintf(rate, sizeof rate, "%.0f", r.states_per_second());
    std::cout << "\n  states: " << r.states << "  transitions: " << r.transitions
              << "  states/s: " << rate << "  depth reached: " << r.depth << "  time: " << r.seconds
              << " s\n  new states by depth:";
    for (uint64_t n : r.level_states) std::cout << " " << n;
    std::cout << "\n";
    if (r.found) {
      std::cout << "  violation: " << r.found->describe() << "\n  trace:\n";
      std::istringstream text(print_trace(r.as_trace(options.setup)));
      for (std::string line; std::getline(text, line);) std::cout << "    " << line << "\n";
      std::cout << "  written to: " << file << "\n  reproduce: " << reproduce << "\n";
    }
    if (r.map) std::cout << format_state_map(*r.map, "explore " + describe_options(options));
  }
  if (harness) return Exit::harness;
  return r.outcome == ExploreResult::violation ? Exit::finding : Exit::ok;
}

}  // namespace foliocheck::cli

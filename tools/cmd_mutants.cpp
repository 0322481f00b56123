// `foliocheck mutants`: how many planted mistakes each engine kills, how fast, and with how short a
// trace.
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <regex>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "fuzz/decoder.h"
#include "explore/explore.h"
#include "impl/mutants.h"
#include "trace/reduce.h"
#include "trace/replay.h"
#include "tools/cli.h"
#include "tools/explore_cli.h"
#include "tools/mutant_engines.h"

namespace foliocheck::cli {
namespace {

namespace fs = std::filesystem;

constexpr uint32_t kExploreDepth = 6;  // the issue's bound: every mutant dies within it

// What one engine did to one mutant.
struct EngineRun {
  std::string engine;
  enum Status : uint8_t { killed, survived, skipped, failed } status = survived;
  double seconds = 0;  // until the kill, or spent in vain
  uint64_t executions =
      0;                // engine-specific: checked operations (explore), test cases, fuzz inputs
  int64_t length = -1;  // operations in the reduced violating trace
  std::string note;     // where it was killed, or why the engine did not run
  std::vector<std::string> unmutated_failures;  // violations found that do not need the mutant
  bool shortest_proven = false;                 // explore: no setup has a shorter kill
};

std::string_view status_name(EngineRun::Status s) {
  constexpr std::string_view kNames[] = {"killed", "SURVIVED", "skipped", "ERROR"};
  return kNames[s];
}

EngineRun run_explore(const MutantInfo& m, double budget, uint32_t depth) {
  EngineRun r;
  r.engine = "explore";
  const MutantSearch hunt = explore_mutant(m, depth, budget);
  r.seconds = hunt.seconds;
  r.executions = hunt.transitions;
  if (hunt.killed) {
    r.status = EngineRun::killed;
    r.length = static_cast<int64_t>(hunt.trace.size());
    r.shortest_proven = hunt.shortest_proven;
    r.note = hunt.encoding + " " + describe_options(hunt.where) + ": " + hunt.found->signature();
  } else {
    r.note = "survived every sequence of up to " + std::to_string(hunt.depth) + " operations in " +
             std::to_string(hunt.setups) + " setups" + (hunt.limited ? " (budget ran out)" : "");
  }
  r.unmutated_failures = hunt.unmutated_failures;
  return r;
}

EngineRun run_rapidcheck(const MutantInfo& m, double budget) {
  EngineRun r;
  r.engine = "rapidcheck";
  const RapidcheckEngine engine = rapidcheck_engine();
  if (!engine) {
    r.status = EngineRun::skipped;
    r.note = "this foliocheck was built without the property suite (properties/mutant_kill.h)";
    return r;
  }
  const RapidcheckKill kill = engine(m, budget);
  r.seconds = kill.seconds;
  r.executions = kill.executions;
  if (!kill.error.empty()) {
    r.status = EngineRun::failed;
    r.note = kill.error;
  } else if (kill.killed) {
    r.status = EngineRun::killed;
    r.length = kill.length;
    r.note = kill.note;
  } else {
    r.note = kill.note;
  }
  return r;
}

// ---- libFuzzer -----------------------------------------------------------------------------

std::string find_fuzz_binary() {
  if (const char* env = std::getenv("FOLIOCHECK_FUZZ_BIN"); env && *env)
    return access(env, X_OK) == 0 ? std::string(env) : std::string();
  std::error_code ec;
  const fs::path self = fs::read_symlink("/proc/self/exe", ec);
  if (ec) return {};
  for (const fs::path& p : {self.parent_path() / "fuzz_differential",
                            self.parent_path().parent_path() / "fuzz" / "fuzz_differential"})
    if (access(p.c_str(), X_OK) == 0) return p.string();
  return {};
}

// Runs `argv` with FOLIOCHECK_MUTANT set, in `dir`, output to `log`; returns the wait status.
int spawn(const std::vector<std::string>& argv, const std::string& mutant, const fs::path& dir,
          const fs::path& log) {
  const pid_t pid = fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    const int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0 || chdir(dir.c_str()) != 0) _exit(127);
    dup2(fd, 1);
    dup2(fd, 2);
    setenv("FOLIOCHECK_MUTANT", mutant.c_str(), 1);
    std::vector<char*> args;
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) return -1;
  return status;
}

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

EngineRun run_libfuzzer(const MutantInfo& m, double budget, const std::string& bin) {
  EngineRun r;
  r.engine = "libfuzzer";
  if (bin.empty()) {
    r.status = EngineRun::skipped;
    r.note =
        "fuzz_differential not found: set FOLIOCHECK_FUZZ_BIN, or build with clang and "
        "-DFOLIOCHECK_FUZZ=ON so that it sits next to foliocheck";
    return r;
  }
  char tmpl[] = "/tmp/foliocheck-mutants-XXXXXX";
  if (!mkdtemp(tmpl)) {
    r.status = EngineRun::failed;
    r.note = "cannot create a temporary directory";
    return r;
  }
  const fs::path dir = tmpl;
  fs::create_directory(dir / "corpus");
  // libFuzzer gives up on an empty corpus when the empty input is rejected (no magic): start from
  // header-only inputs, every variant and word size, anon and file, no operation.
  for (int semantics = 0; semantics < kNumSemantics; semantics++)
    for (int bits32 = 0; bits32 < 2; bits32++)
      for (int file = 0; file < 2; file++) {
        const char header[] = {'F', 'C', static_cast<char>(semantics | bits32 << 2 | file << 3), 0, 2};
        std::ofstream(dir / "corpus" / ("header-" + std::to_string(semantics * 4 + bits32 * 2 + file)),
                      std::ios::binary)
            .write(header, sizeof header);
      }
  const auto start = std::chrono::steady_clock::now();
  const int status =
      spawn({bin, "-max_total_time=" + std::to_string(std::max(1, static_cast<int>(budget))),
             "-print_final_stats=1", "-seed=1", "-artifact_prefix=" + (dir / "").string(),
             (dir / "corpus").string()},
            std::string(m.name), dir, dir / "log");
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const std::string log = read_file(dir / "log");
  std::smatch match;
  if (std::regex_search(log, match, std::regex(R"(stat::number_of_executed_units:\s*(\d+))")))
    r.executions = std::stoull(match[1]);
  fs::path crash;
  for (const auto& entry : fs::directory_iterator(dir))
    if (entry.path().filename().string().starts_with("crash-")) crash = entry.path();
  if (status == -1 || (WIFEXITED(status) && WEXITSTATUS(status) == 127)) {
    r.status = EngineRun::failed;
    r.note = "could not run " + bin;
  } else if (crash.empty()) {
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
      r.note = "no crash in " + std::to_string(r.executions) + " inputs";
    } else {
      r.status = EngineRun::failed;
      r.note = "fuzz_differential stopped without a crash input; log kept in " + dir.string();
      return r;
    }
  } else {
    r.status = EngineRun::killed;
    // The trace the fuzz target printed is what it ran; decoding the crash file here is the
    // fallback, since a fuzz binary and this foliocheck built at different times may decode
    // differently.
    DecodeResult decoded;
    const std::string begin = "==== foliocheck: the decoded trace ====\n",
                      end = "==== end of trace ====";
    const size_t b = log.find(begin), e = b == std::string::npos ? b : log.find(end, b);
    if (e != std::string::npos) {
      ParseResult parsed =
          parse_trace(std::string_view(log).substr(b + begin.size(), e - b - begin.size()),
                      "fuzz_differential output");
      decoded.trace = std::move(parsed.trace);
    }
    if (!decoded.trace) {
      const std::string bytes = read_file(crash);
      decoded = decode_fuzz_input(
          std::span(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()));
    }
    if (decoded.trace) {
      // The same reduction the fuzz campaign applies to its findings; the mutant is still active.
      ReduceOptions opt;
      opt.sweep_every = 1;
      set_active_mutant(m.mutant);
      const ReduceResult red = reduce_trace(*decoded.trace, opt);
      set_active_mutant(Mutant::none);
      ReplayOptions ro;
      ro.sweep_every = 1;
      if (red.ok && replay_trace(red.trace, ro).result != ReplayReport::ok) {
        r.status = EngineRun::failed;
        r.note = "the reduced crash fails without the mutant too: " + red.signature;
        r.unmutated_failures.push_back(print_setup(red.trace.setup) + "=> " + red.signature +
                                       " (libfuzzer crash, reduced)");
      } else if (red.ok) {
        r.length = static_cast<int64_t>(red.after.ops);
        r.note =
            red.signature + " (crash trace: " + std::to_string(red.before.ops) + " operations)";
      } else {
        r.note = "the crash input does not reduce: " + red.error;
      }
    } else {
      r.note = "the crash input does not decode: " + decoded.error;
    }
  }
  std::error_code ec;
  fs::remove_all(dir, ec);
  return r;
}

// ---- report --------------------------------------------------------------------------------

struct Row {
  const MutantInfo* mutant;
  std::vector<EngineRun> runs;
  int64_t shortest = -1;  // from explore
  bool shortest_proven = false;
};

std::string fmt_seconds(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, s < 10 ? "%.2fs" : "%.0fs", s);
  return buf;
}

void print_table(const std::vector<Row>& rows) {
  std::printf("%-36s %-10s %-8s %8s %12s %6s %8s\n", "mutant", "engine", "result", "time",
              "executions", "length", "shortest");
  for (const Row& row : rows) {
    bool first = true;
    for (const EngineRun& r : row.runs) {
      std::printf("%-36s %-10s %-8s %8s %12s %6s %8s\n",
                  first ? std::string(row.mutant->name).c_str() : "", r.engine.c_str(),
                  std::string(status_name(r.status)).c_str(),
                  r.status == EngineRun::skipped ? "-" : fmt_seconds(r.seconds).c_str(),
                  r.status == EngineRun::skipped ? "-" : std::to_string(r.executions).c_str(),
                  r.length >= 0 ? std::to_string(r.length).c_str() : "-",
                  first && row.shortest >= 0
                      ? ((row.shortest_proven ? "" : "<=") + std::to_string(row.shortest)).c_str()
                      : "");
      first = false;
    }
  }
}

nlohmann::ordered_json rows_json(const std::vector<Row>& rows,
                                 const std::set<std::string>& unmutated) {
  nlohmann::ordered_json mutants = nlohmann::ordered_json::array();
  for (const Row& row : rows) {
    nlohmann::ordered_json engines = nlohmann::ordered_json::object();
    for (const EngineRun& r : row.runs) {
      engines[r.engine] = {
          {"result", r.status == EngineRun::survived ? "survived"
                     : r.status == EngineRun::failed ? "error"
                                                     : status_name(r.status)},
          {"killed", r.status == EngineRun::killed},
          {"seconds", r.seconds},
          {"executions", r.executions},
          {"length", r.length >= 0 ? nlohmann::ordered_json(r.length) : nullptr},
          {"shortest_proven", r.shortest_proven},
          {"note", r.note}};
    }
    mutants.push_back(
        {{"name", row.mutant->name},
         {"encodings", row.mutant->encodings},
         {"shortest", row.shortest >= 0 ? nlohmann::ordered_json(row.shortest) : nullptr},
         {"shortest_proven", row.shortest_proven},
         {"engines", std::move(engines)}});
  }
  return {{"mutants", std::move(mutants)}, {"unmutated_failures", unmutated}};
}

}  // namespace

Exit cmd_mutants(const Flags& flags) {
  if (!flags.args.empty()) return usage_error("mutants takes no positional arguments");
  const auto mutants = all_mutants();
  if (flags.list) {
    if (flags.json) {
      nlohmann::ordered_json list = nlohmann::ordered_json::array();
      for (const MutantInfo& m : mutants)
        list.push_back({{"name", m.name}, {"encodings", m.encodings}, {"sentence", m.sentence}});
      print_json(std::cout, list);
    } else {
      for (const MutantInfo& m : mutants)
        std::cout << m.name << "\n    encodings: " << m.encodings << "\n    " << m.sentence << "\n";
    }
    return Exit::ok;
  }
  std::vector<std::string> engines;
  if (flags.engine == Engine::all)
    engines = {"explore", "rapidcheck", "libfuzzer"};
  else
    engines = {std::string(engine_name(flags.engine))};
  const double budget = flags.budget;  // at least 1 (flags.def)
  const uint32_t depth = flags.depth.value_or(kExploreDepth);
  if (depth > 12) return usage_error("--depth above 12 would not finish; the zoo's bound is 6");

  std::vector<const MutantInfo*> selected;
  if (flags.mutant.empty()) {
    for (const MutantInfo& m : mutants) selected.push_back(&m);
  } else {
    for (const std::string& name : flags.mutant) {
      const MutantInfo* found = nullptr;
      for (const MutantInfo& m : mutants)
        if (m.name == name) found = &m;
      if (!found)
        return usage_error("unknown mutant '" + name + "' (see foliocheck mutants --list)");
      selected.push_back(found);
    }
  }
  if (selected.empty()) return usage_error("the mutant zoo is empty (impl/mutants.def)");

  const std::string fuzz_bin =
      std::find(engines.begin(), engines.end(), "libfuzzer") != engines.end() ? find_fuzz_binary()
                                                                              : "";
  const bool json = flags.json;
  std::vector<Row> rows;
  std::set<std::string> unmutated;
  size_t survived = 0, runs = 0, skipped = 0, killed = 0;
  // A progress line only where someone watches it; logs get the table alone.
  const bool tty = !json && isatty(2);
  for (const MutantInfo* m : selected) {
    Row row{m, {}, -1};
    for (const std::string& engine : engines) {
      if (tty) std::cerr << "\r\033[K" << m->name << ": " << engine << "..." << std::flush;
      EngineRun r = engine == "explore"      ? run_explore(*m, budget, depth)
                    : engine == "rapidcheck" ? run_rapidcheck(*m, budget)
                                             : run_libfuzzer(*m, budget, fuzz_bin);
      if (engine == "explore" && r.status == EngineRun::killed) {
        row.shortest = r.length;
        row.shortest_proven = r.shortest_proven;
      }
      unmutated.insert(r.unmutated_failures.begin(), r.unmutated_failures.end());
      runs++;
      if (r.status == EngineRun::skipped) skipped++;
      if (r.status == EngineRun::killed) killed++;
      if (r.status == EngineRun::survived || r.status == EngineRun::failed) survived++;
      std::replace(r.note.begin(), r.note.end(), '\n', ' ');
      row.runs.push_back(std::move(r));
    }
    rows.push_back(std::move(row));
  }
  if (tty) std::cerr << "\r\033[K" << std::flush;

  if (json) {
    nlohmann::ordered_json report = rows_json(rows, unmutated);
    report["summary"] = {{"runs", runs},
                         {"killed", killed},
                         {"survived", survived},
                         {"skipped", skipped},
                         {"budget_seconds", budget}};
    print_json(std::cout, report);
  } else {
    print_table(rows);
    std::cout << "\n" << killed << " of " << (runs - skipped) << " engine runs killed their mutant";
    if (skipped) std::cout << "; " << skipped << " skipped";
    std::cout
        << " (budget " << budget << " s per mutant and engine; explore depth <= " << depth
        << ", scaled geometry)\n"
        << "executions: explore = operations checked, rapidcheck = test cases, libfuzzer = inputs "
           "run;"
           " length: operations in the reduced trace; shortest: explore's, a proven minimum unless"
           " marked <=\n";
    for (const Row& row : rows)
      for (const EngineRun& r : row.runs)
        if (r.status != EngineRun::killed)
          std::cout << "  " << row.mutant->name << " / " << r.engine << ": "
                    << status_name(r.status) << ": " << r.note << "\n";
    if (flags.verbose)
      for (const Row& row : rows)
        for (const EngineRun& r : row.runs)
          if (r.status == EngineRun::killed)
            std::cout << "  " << row.mutant->name << " / " << r.engine << ": " << r.note << "\n";
    if (!unmutated.empty()) {
      std::cout << "\nviolations that need no mutant (findings about the encodings or the model, "
                   "not kills):\n";
      for (const std::string& f : unmutated) std::cout << "  " << f << "\n";
    }
  }
  return survived ? Exit::finding : Exit::ok;
}

}  // namespace foliocheck::cli

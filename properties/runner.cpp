// Runs a property under RapidCheck with foliocheck's budget, coverage table and failure traces.
#include "properties/runner.h"

#include <rapidcheck/detail/TestListenerAdapter.h>

#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <unordered_map>

#include "impl/mutants.h"

// Part of librapidcheck, though not of its installed headers: the string RC_PARAMS="reproduce=..."
// carries. Linking fails loudly should a RapidCheck release drop it.
namespace rc::detail {
std::string reproduceMapToString(const std::unordered_map<std::string, Reproduce>& reproduceMap);
}  // namespace rc::detail

namespace foliocheck::props {
namespace {


struct Capture {
  bool armed = false;
  std::vector<CapturedTrace> traces;
  std::string message;
};
Capture g_capture;       // what the running test case captured
Capture g_last_failure;  // what the last failing test case captured: the shrunk counterexample
uint64_t g_executions = 0;
// Built on first use: its state map numbers every abstract state class, which costs every command
// of the binary tens of milliseconds at start-up if done by a global's constructor.
CoverageTotals& coverage() {
  static CoverageTotals totals;
  return totals;
}

class QuietListener final : public rc::detail::TestListenerAdapter {};

std::string sanitize_stem(std::string s) {
  for (char& c : s)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.')) c = '_';
  return s;
}

std::string active_mutant_name() {
  const Mutant m = active_mutant();
  if (m == Mutant::none) return "";
  for (const MutantInfo& info : all_mutants())
    if (info.mutant == m) return std::string(info.name);
  return "";
}

// Trace comments are plain ASCII, one line each.
std::string comment_block(const std::string& text) {
  std::string out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    for (char& c : line)
      if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) c = '?';
    out += "# " + line + "\n";
  }
  return out;
}

bool env_sets(const char* key) {
  const char* env = std::getenv("RC_PARAMS");
  return env && std::string_view(env).find(key) != std::string_view::npos;
}

}  // namespace

BudgetLevel budget_level() {
  const char* env = std::getenv("FOLIOCHECK_BUDGET");
  const std::string_view v = env ? env : "";
  if (v.empty() || v == "ci") return BudgetLevel::ci;
  if (v == "nightly") return BudgetLevel::nightly;
  throw std::invalid_argument("FOLIOCHECK_BUDGET='" + std::string(v) + "': expected ci or nightly");
}

rc::detail::TestParams params_for(Budget ci, Budget nightly) {
  rc::detail::TestParams p = rc::detail::configuration().testParams;
  const Budget b = budget_level() == BudgetLevel::ci ? ci : nightly;
  if (!env_sets("max_success")) p.maxSuccess = b.max_success;
  if (!env_sets("max_size")) p.maxSize = b.max_size;
  return p;
}

void activate_mutant_from_env() {
  const char* env = std::getenv("FOLIOCHECK_MUTANT");
  if (!env || !*env) return;
  const auto m = mutant_from_name(env);
  if (!m)
    throw std::invalid_argument("FOLIOCHECK_MUTANT='" + std::string(env) +
                                "': no such mutant in impl/mutants.def");
  set_active_mutant(*m);
}

bool reproducing_another(const std::string& id) {
  const auto& reproduce = rc::detail::configuration().reproduce;
  return !reproduce.empty() && !reproduce.count(id);
}

void note_state_class(const ReferenceModel& model,
                      std::span<const std::unique_ptr<Implementation>> impls, const Op& op) {
  static const auto start = std::chrono::steady_clock::now();
  coverage().map.note(
      model, impls, op,
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
}

void report_case(const Reached& reached, uint64_t operations) {
  coverage().cases++;
  coverage().operations += operations;
  for (size_t i = 0; i < kNumStates; i++) {
    if (!reached.bits.test(i)) continue;
    coverage().reached[i]++;
    // What RC_CLASSIFY(cond) does, with the tag named by core/state_class.def rather than by cond's source.
    if (state_info(static_cast<State>(i)).classify) rc::detail::classify(std::string(state_info(static_cast<State>(i)).label), {});
  }
  for (size_t k = 0; k < kNumOpKinds; k++) coverage().ops[k] += reached.ops.test(k);
}

std::string format_coverage(const CoverageTotals& t) {
  std::ostringstream out;
  out << "states reached in " << t.cases << " passing test cases (" << t.operations
      << " operations, " << (t.cases ? t.operations / t.cases : 0) << " per case):\n";
  for (size_t i = 0; i < kNumStates; i++) {
    char line[160];
    const double pct =
        t.cases ? 100.0 * static_cast<double>(t.reached[i]) / static_cast<double>(t.cases) : 0;
    std::snprintf(line, sizeof line, "  %-40s %7llu  %5.1f%%%s\n",
                  std::string(state_info(static_cast<State>(i)).label).c_str(),
                  static_cast<unsigned long long>(t.reached[i]), pct,
                  t.reached[i] == 0 ? "  (not reached)" : "");
    out << line;
  }
  out << "operations run (test cases that ran each):\n";
  for (size_t k = 0; k < kNumOpKinds; k++) {
    char line[160];
    std::snprintf(line, sizeof line, "  %-40s %7llu%s\n",
                  std::string(op_info(static_cast<OpKind>(k)).name).c_str(),
                  static_cast<unsigned long long>(t.ops[k]), t.ops[k] == 0 ? "  (never)" : "");
    out << line;
  }
  if (t.map.states_reached() > 0) out << format_state_map(t.map, "properties");
  return out.str();
}

void capture_failure(std::vector<CapturedTrace> traces, std::string message) {
  g_capture.armed = true;
  g_capture.traces = std::move(traces);
  g_capture.message = std::move(message);
}

std::filesystem::path failure_dir() {
  const char* env = std::getenv("FOLIOCHECK_FAILURE_DIR");
  std::filesystem::path dir = env && *env ? env : "findings/properties";
  std::filesystem::create_directories(dir);
  return std::filesystem::absolute(dir);
}

std::string replay_command(const std::string& path) {
  const std::string mutant = active_mutant_name();
  std::string quoted = path;
  // Copied into a shell as it is.
  if (quoted.find_first_not_of(
          "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._-+=") !=
      std::string::npos) {
    quoted = "'";
    for (char c : path) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
    quoted += "'";
  }
  return "foliocheck replay" + (mutant.empty() ? "" : " --mutant=" + mutant) + " " + quoted;
}

std::string write_trace(const std::string& stem, const CapturedTrace& t, const std::string& why) {
  std::string name = sanitize_stem(stem);
  const std::string mutant = active_mutant_name();
  if (!mutant.empty()) name += "--mutant-" + mutant;
  if (!t.suffix.empty()) name += "." + sanitize_stem(t.suffix);
  const std::string path = (failure_dir() / (name + ".trace")).string();
  std::string text = print_trace(t.trace);
  const size_t header_end = text.find('\n') + 1;
  text.insert(header_end, comment_block(why + "\nreproduce: " + replay_command(path)));
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  if (!out) throw std::runtime_error("cannot write " + path);
  return path;
}

PropertyOutcome run_property(const std::string& id, const std::function<void()>& body,
                             const rc::detail::TestParams& params, Listener listener) {
  g_last_failure = {};
  g_executions = 0;
  coverage() = {};
  // RapidCheck accepts every failing shrink, so the last test case that failed is the one it
  // reports; a failure that captured nothing must not leave an older case's trace behind.
  auto counted = [&body] {
    g_executions++;
    g_capture = {};
    try {
      body();
    } catch (const rc::detail::CaseResult& r) {
      if (r.type == rc::detail::CaseResult::Type::Failure) g_last_failure = std::move(g_capture);
      throw;
    } catch (...) {
      g_last_failure = std::move(g_capture);
      throw;
    }
  };
  rc::detail::TestMetadata meta;
  meta.id = id;
  meta.description = id;
  const rc::detail::TestResult result = [&] {
    if (listener == Listener::global)
      return rc::detail::checkProperty(rc::detail::toProperty(counted), meta, params);
    QuietListener quiet;
    // An RC_PARAMS reproduce map that does not name this property would skip it.
    const auto& configured = rc::detail::configuration().reproduce;
    const std::unordered_map<std::string, rc::detail::Reproduce> none;
    return rc::detail::checkProperty(rc::detail::toProperty(counted), meta, params, quiet,
                                     configured.count(id) ? configured : none);
  }();

  PropertyOutcome out;
  out.executions = g_executions;
  out.coverage = coverage();
  std::ostringstream report;
  if (result.is<rc::detail::SuccessResult>()) {
    const auto& success = result.get<rc::detail::SuccessResult>();
    out.kind = PropertyOutcome::passed;
    out.cases = success.numSuccess;
    rc::detail::printResultMessage(result, report);
    report << "\n" << format_coverage(coverage());
  } else if (result.is<rc::detail::FailureResult>()) {
    const auto& failure = result.get<rc::detail::FailureResult>();
    out.kind = PropertyOutcome::failed;
    out.cases = failure.numSuccess;
    out.reproduce =
        "RC_PARAMS=\"reproduce=" + rc::detail::reproduceMapToString({{id, failure.reproduce}}) +
        "\"";
    rc::detail::printResultMessage(result, report);
    report << "\n";
    if (g_last_failure.armed) {
      out.violation = g_last_failure.message;
      for (const CapturedTrace& t : g_last_failure.traces) {
        const std::string path = write_trace(id, t, id + " failed: " + g_last_failure.message);
        out.trace_paths.push_back(path);
        report << "trace: " << path << " (" << t.trace.nr_ops() << " operations)\n";
        report << "reproduce: " << replay_command(path) << "\n";
      }
      if (!g_last_failure.traces.empty()) {
        const Trace& first = g_last_failure.traces.front().trace;
        out.trace_len = first.nr_ops();
        // RapidCheck shows a command sequence as one operation per line.
        std::string ops;
        for (const Statement& st : first.statements)
          if (st.kind == Statement::op) ops += print_op(st.operation) + "\n";
        for (const auto& [type, value] : failure.counterExample)
          out.trace_is_counterexample |= value == ops;
      }
    } else {
      report << "no trace: the property failed outside its operation sequence\n";
    }
    report << "reproduce with RapidCheck: " << out.reproduce << "\n";
  } else if (result.is<rc::detail::GaveUpResult>()) {
    out.kind = PropertyOutcome::gave_up;
    out.cases = result.get<rc::detail::GaveUpResult>().numSuccess;
    rc::detail::printResultMessage(result, report);
  } else {
    out.kind = PropertyOutcome::error;
    rc::detail::printResultMessage(result, report);
  }
  out.report = report.str();
  return out;
}

}  // namespace foliocheck::props

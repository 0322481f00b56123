// Kills one mutant of the zoo with the agreement property: the mutant test and `mutants`.
#include "properties/mutant_kill.h"

#include <chrono>
#include <fstream>
#include <iterator>
#include <stdexcept>

#include "core/implementation.h"
#include "impl/registry.h"
#include "properties/claims.h"
#include "properties/runner.h"

namespace foliocheck::props {
namespace {

std::string read_whole_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace

std::vector<std::string> mutant_impls(Mutant m) {
  std::string_view column;
  for (const MutantInfo& info : all_mutants())
    if (info.mutant == m) column = info.encodings;
  std::vector<std::string> out;
  while (!column.empty()) {
    const size_t comma = column.find(',');
    std::string_view name = column.substr(0, comma);
    while (!name.empty() && name.front() == ' ') name.remove_prefix(1);
    while (!name.empty() && name.back() == ' ') name.remove_suffix(1);
    if (!name.empty() && make_implementation(name)) out.emplace_back(name);
    column = comma == std::string_view::npos ? std::string_view{} : column.substr(comma + 1);
  }
  return out;
}

KillResult kill_with_rapidcheck(Mutant m, const KillBudget& budget) {
  const bool ci = budget_level() == BudgetLevel::ci;
  // A ci budget in work, not time: the wall clock of a test depends on the build (sanitizers) and
  // on what runs beside it, the search it buys should not.
  const bool by_work = budget.seconds <= 0 && ci;
  const double limit = budget.seconds > 0 ? budget.seconds : ci ? 1200 : 600;
  const uint64_t max_rounds = budget.rounds ? budget.rounds : by_work ? kCiKillRounds : 0;
  std::string name;
  for (const MutantInfo& info : all_mutants())
    if (info.mutant == m) name = info.name;
  if (name.empty()) throw std::invalid_argument("kill_with_rapidcheck: not a mutant of the zoo");

  ScenarioOptions options;
  options.impls = mutant_impls(m);
  if (options.impls.empty())
    throw std::invalid_argument("mutant " + name + " names no implementation this build has");

  rc::detail::TestParams params = rc::detail::configuration().testParams;
  if (budget.seed) params.seed = budget.seed;
  params.maxSuccess = 100;
  params.maxSize = budget.max_size > 0 ? budget.max_size : 40;

  const Mutant previous = active_mutant();
  set_active_mutant(m);
  KillResult r;
  std::string best_trace;    // the shortest kill's file
  bool overwritten = false;  // a later, longer kill has written over it since
  const auto start = std::chrono::steady_clock::now();
  auto elapsed = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  try {
    for (uint64_t round = 0;; round++) {
      // Each round restarts at small sizes, where the shortest traces come from.
      const PropertyOutcome out = run_property(
          "Mutants/" + name, [&] { state_machine_claim(Claim::agreement, options); }, params,
          Listener::quiet);
      r.executions += out.executions;
      r.rounds = round + 1;
      if (out.kind == PropertyOutcome::failed && r.killed && out.trace_len >= r.trace_len) {
        overwritten = true;
      } else if (out.kind == PropertyOutcome::failed) {
        r.killed = true;
        r.trace_len = out.trace_len;
        r.trace_path = out.trace_paths.empty() ? "" : out.trace_paths.front();
        r.violation = out.violation;
        r.reproduce = out.reproduce;
        r.replay = r.trace_path.empty() ? "" : replay_command(r.trace_path);
        r.trace_is_counterexample = out.trace_is_counterexample;
        r.report = out.report;
        best_trace = r.trace_path.empty() ? "" : read_whole_file(r.trace_path);
        overwritten = false;
      }
      if (out.kind != PropertyOutcome::passed && out.kind != PropertyOutcome::failed)
        r.report += out.report;
      if (r.killed && r.trace_len <= budget.short_enough) break;
      if (elapsed() >= limit || r.rounds == max_rounds) break;
      params.seed = params.seed * 6364136223846793005ull + 1442695040888963407ull + round;
    }
    if (overwritten && !r.trace_path.empty())
      std::ofstream(r.trace_path, std::ios::binary | std::ios::trunc) << best_trace;
  } catch (...) {
    set_active_mutant(previous);
    throw;
  }
  set_active_mutant(previous);
  r.seconds = elapsed();
  return r;
}

}  // namespace foliocheck::props

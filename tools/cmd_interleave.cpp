// `foliocheck interleave`: every interleaving of each trace's concurrent blocks on the kernel's code.
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <random>
#include <sstream>

#include <nlohmann/json.hpp>

#include "impl/kernel_hook.h"
#include "impl/mutants.h"
#include "interleave/generate.h"
#include "interleave/interleave.h"
#include "tools/cli.h"

namespace foliocheck::cli {
namespace {

std::string join(const std::vector<uint32_t>& v) {
  std::string s;
  for (size_t i = 0; i < v.size(); i++) s += (i ? "," : "") + std::to_string(v[i]);
  return s;
}

// What a generated batch explored.
struct GenerateTotals {
  uint64_t blocks = 0, interleavings = 0, redundant = 0, admitted = 0, admitted_blocks = 0;
  double seconds = 0;
  std::string first_admitted;
  void add(const InterleaveReport& r) {
    for (const BlockStats& b : r.blocks) {
      blocks++;
      admitted += b.admitted;
      admitted_blocks += b.admitted > 0;
      if (first_admitted.empty()) first_admitted = b.first_admitted;
      interleavings += b.interleavings;
      redundant += b.redundant;
      seconds += b.seconds;
    }
  }
};

}  // namespace

Exit cmd_interleave(const Flags& flags) {
  if (flags.args.empty() && !flags.generate)
    return usage_error("interleave needs at least one trace FILE, or --generate=N");
  if (!flags.args.empty() && flags.generate)
    return usage_error("interleave takes trace FILEs or --generate=N, not both");
  if (flags.preemptions && flags.no_dpor)
    return usage_error("--no-dpor is the unbounded mode without reduction: not with --preemptions");
  InterleaveOptions opt;
  opt.preemptions = flags.preemptions;
  opt.reduce = !flags.no_dpor;
  const std::vector<std::string> impls = flags.impls();
  if (impls.size() > 1) return usage_error("interleave runs one implementation: --impl=NAME");
  if (impls.empty()) {
    // Only a kernel tree's code has scheduling points; without one, say so rather than pretend.
    if (kernel_implementation_names().empty())
      return usage_error(
          "interleave needs a kernel implementation and this build has none (configure with "
          "-DFOLIOCHECK_LINUX_DIRS=..., docs/kernel.md), or name an encoding with --impl=NAME "
          "for the model-level check (its operations are atomic: only sequential orders)");
    opt.impl = std::string(kKernelAlias);
  } else {
    opt.impl = impls.front();
  }
  std::string extra = opt.impl == kKernelAlias ? "" : " --impl=" + opt.impl;
  if (flags.preemptions) extra += " --preemptions=" + std::to_string(*flags.preemptions);
  if (flags.no_dpor) extra += " --no-dpor";
  const std::string mode =
      flags.preemptions ? "with at most " + std::to_string(*flags.preemptions) + " preemptions"
      : flags.no_dpor   ? "every interleaving (no reduction)"
                        : "DPOR";
  if (flags.mutant.size() > 1) return usage_error("--mutant takes one NAME");
  if (flags.mutant.size() == 1) {
    const std::string& name = flags.mutant.front();
    if (auto m = mutant_from_name(name))
      set_active_mutant(*m);
    else if (!activate_race_mutant(name))
      return usage_error("unknown mutant '" + name + "' (foliocheck mutants --list; race mutants: " +
                         [] {
                           std::string s;
                           for (const auto& r : race_mutants()) s += (s.empty() ? "" : ", ") + std::string(r.name);
                           return s;
                         }() + ")");
    extra += " --mutant=" + name;
  }

  Exit status = Exit::ok;
  std::mt19937_64 rng(flags.seed);
  const uint32_t inputs = flags.generate ? *flags.generate : static_cast<uint32_t>(flags.args.size());
  GenerateTotals totals;
  for (uint32_t input = 0; input < inputs; input++) {
    if (flags.generate && status != Exit::ok) break;  // the first finding is the batch's answer
    ParseResult parsed;
    std::string file;
    if (flags.generate) {
      parsed.trace = generate_concurrent_trace(rng, opt.impl);
      if (!parsed.trace) return usage_error("no concurrent block could be generated for " + opt.impl);
      file = "generated#" + std::to_string(input + 1) + " (--seed=" + std::to_string(flags.seed) + ")";
    } else {
      file = flags.args[input];
      parsed = parse_trace_file(file);
    }
    if (parsed.error) {
      std::cerr << parsed.error->describe() << "\n";
      if (flags.json)
        print_json(std::cout, {{"file", file}, {"result", "invalid"}, {"line", parsed.error->line},
                               {"column", parsed.error->column}, {"message", parsed.error->message}});
      status = worse(status, Exit::usage);
      continue;
    }
    const Trace& trace = *parsed.trace;
    const InterleaveReport r = interleave_trace(trace, opt);
    if (flags.generate) {
      totals.add(r);
      // A generated batch prints its findings and its totals, not a line per block.
      if (!r.found && r.result == InterleaveReport::ok) continue;
    }
    std::string written;
    if (r.found) {
      written = flags.out;
      if (written.empty()) {
        const char* tmp = std::getenv("TMPDIR");
        written = std::string(tmp && *tmp ? tmp : "/tmp") + "/foliocheck-interleave-" +
                  std::to_string(getpid()) + ".trace";
      }
      std::string text = print_trace(pin_schedule(trace, r.found->block, r.found->schedule));
      const std::string by = flags.generate ? "--generate=" + std::to_string(*flags.generate) +
                                                  " --seed=" + std::to_string(flags.seed) +
                                                  " (block " + std::to_string(input + 1) + ")"
                                            : file;
      text.insert(text.find('\n') + 1, "# found by: foliocheck interleave" + extra + " " + by +
                                           "\n# " + r.found->what + "\n");
      std::ofstream out(written);
      out << text;
      if (!out) return usage_error("cannot write the trace to '" + written + "'");
    }
    const std::string reproduce = "foliocheck interleave" + extra + " " + written;
    Exit code = r.result == InterleaveReport::ok        ? Exit::ok
                : r.result == InterleaveReport::finding ? Exit::finding
                : r.result == InterleaveReport::invalid ? Exit::usage
                                                        : Exit::harness;
    status = worse(status, code);
    if (flags.json) {
      nlohmann::ordered_json blocks = nlohmann::ordered_json::array();
      for (const BlockStats& b : r.blocks)
        blocks.push_back({{"block", b.block}, {"line", b.line}, {"threads", b.threads},
                          {"orders", b.orders}, {"interleavings", b.interleavings},
                          {"redundant", b.redundant}, {"complete", b.complete},
                          {"admitted", b.admitted}, {"first_admitted", b.first_admitted},
                          {"max_steps", b.max_steps}, {"pinned", b.pinned}, {"seconds", b.seconds}});
      nlohmann::ordered_json o = {{"file", file},
                                  {"impl", r.impl},
                                  {"mode", flags.preemptions ? "bounded" : flags.no_dpor ? "all" : "dpor"},
                                  {"preemptions", flags.preemptions ? nlohmann::ordered_json(*flags.preemptions) : nlohmann::ordered_json()},
                                  {"result", r.result == InterleaveReport::ok        ? "ok"
                                             : r.result == InterleaveReport::finding ? "finding"
                                             : r.result == InterleaveReport::invalid ? "invalid"
                                                                                     : "error"},
                                  {"blocks", blocks}};
      if (!r.message.empty()) o["message"] = r.message;
      if (!r.admitted.empty()) {
        nlohmann::ordered_json adm = nlohmann::ordered_json::array();
        for (const AdmittedRead& a : r.admitted)
          adm.push_back({{"block", a.block}, {"interleavings", a.interleavings},
                         {"schedule", join(a.schedule)}, {"what", a.what}});
        o["admitted"] = adm;
      }
      if (r.found)
        o["finding"] = {{"block", r.found->block}, {"schedule", join(r.found->schedule)},
                        {"what", r.found->what}, {"trace", written}, {"reproduce", reproduce}};
      print_json(std::cout, o);
      continue;
    }
    if (r.result == InterleaveReport::invalid || r.result == InterleaveReport::error) {
      std::cerr << file << ":" << r.line << ":" << (r.line ? 1 : 0) << ": error: "
                << (r.result == InterleaveReport::error ? "HARNESS BUG: " : "") << r.message << "\n";
      continue;
    }
    if (trace.blocks.empty()) std::cout << file << ": no concurrent block\n";
    for (const BlockStats& b : r.blocks)
      std::cout << file << ":" << b.line << ": block " << b.block << " (" << b.threads
                << " threads, " << b.orders << " valid sequential orders) on " << r.impl << ": "
                << b.interleavings << (b.pinned ? " pinned interleaving" : " interleavings") << " ("
                << (b.pinned ? "pinned schedule" : mode)
                << (b.pinned || flags.preemptions ? ""
                    : b.complete                  ? ", complete"
                                                  : ", stopped at the finding")
                << (b.redundant ? ", " + std::to_string(b.redundant) + " runs cut by sleep sets" : "")
                << "), longest " << b.max_steps << " steps, " << b.seconds << " s\n"
                << (b.admitted ? "  " + std::to_string(b.admitted) + " interleavings end in a known race (interleave/admitted.def): " + b.first_admitted + "\n" : "");
    for (const AdmittedRead& a : r.admitted)
      std::cout << file << ": ADMITTED in block " << a.block << " (" << a.interleavings
                << " interleavings, not a finding): " << a.what << "\n  first: "
                << print_schedule(a.schedule) << "\n";
    if (r.found) {
      const std::vector<size_t> threads = trace.block_threads(r.found->block);
      std::cout << file << ": FINDING in block " << r.found->block << ": " << r.found->what
                << "\n  concurrent\n";
      for (size_t i = 0; i < threads.size(); i++)
        std::cout << "    " << print_op(trace.statements[threads[i]].operation) << "   # thread " << i
                  << "\n";
      std::cout << "  end\n  " << print_schedule(r.found->schedule) << "\n  written to: " << written
                << "\n  reproduce: " << reproduce << "\n";
    }
  }
  if (flags.generate && !flags.json)
    std::cout << "generated " << totals.blocks << " blocks (--seed=" << flags.seed << ") on "
              << opt.impl << ": " << totals.interleavings << " interleavings (" << mode
              << (totals.redundant ? ", " + std::to_string(totals.redundant) + " runs cut by sleep sets" : "")
              << "), " << totals.seconds << " s" << (status == Exit::ok ? ", no finding" : "") << "\n"
              << (totals.admitted ? "  " + std::to_string(totals.admitted) + " interleavings in " +
                                        std::to_string(totals.admitted_blocks) +
                                        " blocks end in a known race (interleave/admitted.def), e.g. " + totals.first_admitted + "\n"
                                  : "");
  return status;
}

}  // namespace foliocheck::cli

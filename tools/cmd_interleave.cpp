// `foliocheck interleave`: every interleaving of each trace's concurrent blocks on the kernel's code.
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "impl/kernel_hook.h"
#include "impl/mutants.h"
#include "interleave/interleave.h"
#include "tools/cli.h"

namespace foliocheck::cli {
namespace {

std::string join(const std::vector<uint32_t>& v) {
  std::string s;
  for (size_t i = 0; i < v.size(); i++) s += (i ? "," : "") + std::to_string(v[i]);
  return s;
}

}  // namespace

Exit cmd_interleave(const Flags& flags) {
  if (flags.args.empty()) return usage_error("interleave needs at least one trace FILE");
  InterleaveOptions opt;
  opt.preemptions = flags.preemptions;
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
  if (flags.preemptions != 2) extra += " --preemptions=" + std::to_string(flags.preemptions);
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
  for (const std::string& file : flags.args) {
    ParseResult parsed = parse_trace_file(file);
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
    std::string written;
    if (r.found) {
      written = flags.out;
      if (written.empty()) {
        const char* tmp = std::getenv("TMPDIR");
        written = std::string(tmp && *tmp ? tmp : "/tmp") + "/foliocheck-interleave-" +
                  std::to_string(getpid()) + ".trace";
      }
      std::string text = print_trace(pin_schedule(trace, r.found->block, r.found->schedule));
      text.insert(text.find('\n') + 1, "# found by: foliocheck interleave" + extra + " " + file +
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
                          {"max_steps", b.max_steps}, {"pinned", b.pinned}, {"seconds", b.seconds}});
      nlohmann::ordered_json o = {{"file", file},
                                  {"impl", r.impl},
                                  {"preemptions", opt.preemptions},
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
                << b.interleavings << (b.pinned ? " pinned interleaving" : " interleavings")
                << " with at most " << opt.preemptions << " preemptions, longest " << b.max_steps
                << " steps, " << b.seconds << " s\n";
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
  return status;
}

}  // namespace foliocheck::cli

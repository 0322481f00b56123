// `foliocheck reduce`: shrinks a failing trace, keeping its failure signature, and writes it out.
#include <fstream>
#include <iostream>

#include "impl/mutants.h"
#include "trace/reduce.h"
#include "tools/cli.h"

namespace foliocheck::cli {

Exit cmd_reduce(const Flags& flags) {
  std::string input, out = flags.out;
  for (size_t i = 0; i < flags.args.size(); i++) {
    if (flags.args[i] == "-o") {
      if (i + 1 == flags.args.size()) return usage_error("-o needs a file name");
      if (!out.empty()) return usage_error("the output is named twice (-o and --out)");
      out = flags.args[++i];
    } else if (input.empty()) {
      input = flags.args[i];
    } else {
      return usage_error("reduce takes one TRACE (got '" + input + "' and '" + flags.args[i] + "')");
    }
  }
  if (input.empty() || out.empty()) return usage_error("usage: foliocheck reduce TRACE -o OUT");

  std::string extra;
  if (!select_mutant(flags, extra)) return Exit::usage;
  ReduceOptions opt;
  opt.impls = flags.impls();
  if (!opt.impls.empty()) extra += " --impl=" + join_commas(flags.impl);
  opt.sweep_every = flags.sweep_every;
  if (opt.sweep_every != 0) extra += " --sweep-every=" + std::to_string(opt.sweep_every);

  ParseResult parsed = parse_trace_file(input);
  if (parsed.error) {
    std::cerr << parsed.error->describe() << "\n";
    return Exit::usage;
  }
  const ReduceResult r = reduce_trace(*parsed.trace, opt);
  if (!r.ok) return usage_error(input + ": cannot reduce: " + r.error);

  std::string text = print_trace(r.trace);
  const std::string note = "# reduced by foliocheck reduce" + extra + " from " + input +
                           "\n# signature: " + r.signature + "\n# before: " + r.before.describe() +
                           "\n# after:  " + r.after.describe() + "\n";
  text.insert(text.find('\n') + 1, note);
  std::ofstream of(out, std::ios::binary | std::ios::trunc);
  if (!of || !(of << text) || !of.flush()) return usage_error(out + ": cannot write the file");

  std::cout << input << ": " << r.before.describe() << "\n"
            << out << ": " << r.after.describe() << "\n"
            << "signature " << r.signature << " kept through " << r.replays << " replays: "
            << r.report.message << "\n"
            << "reproduce: foliocheck replay" << extra << " " << out << "\n";
  return Exit::ok;
}

}  // namespace foliocheck::cli

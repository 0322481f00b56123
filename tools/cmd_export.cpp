// `foliocheck export --kunit`: traces as one KUnit suite (C file) or as a patch for a kernel tree.
#include <fstream>
#include <iostream>
#include <sstream>

#include "export/kunit.h"
#include "tools/cli.h"

namespace foliocheck::cli {
namespace {

bool read_file(const std::string& path, std::string& text) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream s;
  s << in.rdbuf();
  text = s.str();
  return true;
}

}  // namespace

Exit cmd_export(const Flags& flags) {
  std::string out = flags.out;
  std::vector<std::string> files;
  for (size_t i = 0; i < flags.args.size(); i++) {
    if (flags.args[i] == "-o") {
      if (i + 1 == flags.args.size()) return usage_error("-o needs a file name");
      if (!out.empty()) return usage_error("the output is named twice (-o and --out)");
      out = flags.args[++i];
    } else {
      files.push_back(flags.args[i]);
    }
  }
  if (!flags.kunit) return usage_error("export needs a format: --kunit");
  if (files.empty()) return usage_error("export needs at least one trace FILE");
  const bool patch = flags.patch;
  if (patch && flags.linux_dir.empty())
    return usage_error("--patch needs --linux-dir=DIR (the tree whose mm/Kconfig and mm/Makefile it edits)");
  if (!patch && !flags.linux_dir.empty()) return usage_error("--linux-dir only applies with --patch");

  std::vector<KunitInput> inputs;
  for (const std::string& file : files) {
    ParseResult parsed = parse_trace_file(file);
    if (parsed.error) {
      std::cerr << parsed.error->describe() << "\n";
      return Exit::usage;
    }
    inputs.push_back({file, std::move(*parsed.trace)});
  }
  const KunitSuite suite = export_kunit(inputs);

  std::string text = suite.source;
  if (patch) {
    KunitTreeFiles tree;
    const std::string dir = flags.linux_dir;
    if (!read_file(dir + "/" + kKunitKconfigPath, tree.kconfig) ||
        !read_file(dir + "/" + kKunitMakefilePath, tree.makefile))
      return usage_error(dir + ": not a kernel tree (no mm/Kconfig or mm/Makefile)");
    std::string ignored;
    tree.has_kunitconfig = read_file(dir + "/mm/tests/.kunitconfig", ignored);
    const KunitPatch p = make_kunit_patch(suite, tree);
    if (!p.error.empty()) return usage_error(dir + ": " + p.error);
    text = p.text;
  }
  if (out.empty() || out == "-") {
    std::cout << text;
  } else {
    std::ofstream of(out, std::ios::binary | std::ios::trunc);
    if (!of || !(of << text) || !of.flush()) return usage_error(out + ": cannot write the file");
  }
  // The cases and why some only skip, so that a run's skips are known before it boots.
  for (const KunitCase& c : suite.cases)
    std::cerr << c.path << ": " << c.name
              << (c.skip_reason.empty() ? std::string(": exported") : ": skipped: " + c.skip_reason)
              << "\n";
  return Exit::ok;
}

}  // namespace foliocheck::cli

// Traces as one KUnit suite for a kernel tree: the C source, its Kconfig/Makefile/.kunitconfig, a patch.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "trace/trace.h"

namespace foliocheck {

// One parsed trace and the name it had on the command line (messages cite it as file:line:column).
struct KunitInput {
  std::string path;
  Trace trace;
};

// What became of one trace: a KUnit case named `name`, which either runs the trace or, when the
// trace cannot be expressed by a running kernel, only reports `skip_reason` through kunit_skip().
struct KunitCase {
  std::string path;
  std::string name;
  std::string skip_reason;  // empty: exported
};

struct KunitSuite {
  std::string source;  // the whole C file
  std::vector<KunitCase> cases;
};

// Why a trace cannot become a running case at export time (empty: it can). Reasons that depend on
// the kernel it is built into (word size, CONFIG_MM_ID, CONFIG_NO_PAGE_MAPCOUNT, HPAGE_PMD_ORDER,
// MAX_PAGE_ORDER) are checked by the generated case at run time instead.
std::string kunit_export_refusal(const Trace& trace);

KunitSuite export_kunit(const std::vector<KunitInput>& inputs);

// Where the suite goes in a kernel tree and the lines that build it.
inline constexpr const char* kKunitSourcePath = "mm/tests/foliocheck_kunit.c";
inline constexpr const char* kKunitKconfigPath = "mm/Kconfig";
inline constexpr const char* kKunitMakefilePath = "mm/Makefile";
std::string kunit_kconfig_entry();
std::string kunit_makefile_line();
std::string kunit_kunitconfig();

// The tree files a patch edits, as they are now (read from --linux-dir).
struct KunitTreeFiles {
  std::string kconfig;         // mm/Kconfig
  std::string makefile;        // mm/Makefile
  bool has_kunitconfig = false;  // mm/tests/.kunitconfig exists already
};

struct KunitPatch {
  std::string text;   // `git am` input
  std::string error;  // non-empty: the tree's files do not look as expected
};

// A `git format-patch`-style mail adding the suite, its .kunitconfig and the Kconfig/Makefile lines.
KunitPatch make_kunit_patch(const KunitSuite& suite, const KunitTreeFiles& tree);

}  // namespace foliocheck

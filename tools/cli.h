// The command line of `foliocheck`: parsed flags and the subcommand table.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace foliocheck::cli {

enum FlagKind { kBool, kString, kInt };

struct Flags {
#define FOLIOCHECK_FLAG(field, name, kind, def, commands, help) std::string field = def;
#include "tools/flags.def"
#undef FOLIOCHECK_FLAG
  std::vector<std::string> args;  // positional arguments
  bool on(const std::string& v) const { return !v.empty(); }
};

// Exit codes shared by every command.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFinding = 1;
inline constexpr int kExitUsage = 2;

#define FOLIOCHECK_COMMAND(fn, name, usage, help) int fn(const Flags& flags);
#include "tools/commands.def"
#undef FOLIOCHECK_COMMAND

// Prints "foliocheck: error: ..." to stderr and returns kExitUsage.
int usage_error(const std::string& message);

// Plants the mistake --mutant names, if any, and appends " --mutant=NAME" to `reproduce` so the
// printed command reproduces the run. False for an unknown name (after printing the error).
bool select_mutant(const Flags& flags, std::string& reproduce);

}  // namespace foliocheck::cli

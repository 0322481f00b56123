// The command line of `foliocheck`: typed flags, exit codes and what the commands share.
#pragma once

#include <iosfwd>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "tools/exit.h"
#include "tools/flags.h"

namespace foliocheck::cli {

#define FOLIOCHECK_COMMAND(fn, name, args, help) Exit fn(const Flags& flags);
#include "tools/commands.def"
#undef FOLIOCHECK_COMMAND

// Prints "foliocheck: error: ..." to stderr and returns Exit::usage.
Exit usage_error(const std::string& message);

// Plants the mistake --mutant names, if any, and appends " --mutant=NAME" to `reproduce` so the
// printed command reproduces the run. False for an unknown name or more than one (after printing
// the error).
bool select_mutant(const Flags& flags, std::string& reproduce);

// One JSON document on one line, ASCII only (other characters escaped, bytes that are not UTF-8
// replaced), then a newline.
void print_json(std::ostream& out, const nlohmann::ordered_json& value);

}  // namespace foliocheck::cli

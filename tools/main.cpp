// `foliocheck`: parses the command line with flags.def and dispatches on commands.def.
#include <iostream>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "impl/mutants.h"
#include "tools/cli.h"

namespace foliocheck::cli {

Exit usage_error(const std::string& message) {
  std::cerr << "foliocheck: error: " << message << "\n";
  return Exit::usage;
}

bool select_mutant(const Flags& flags, std::string& reproduce) {
  if (flags.mutant.empty()) return true;
  if (flags.mutant.size() > 1) {
    usage_error("--mutant takes one NAME here, got '" + join_commas(flags.mutant) + "'");
    return false;
  }
  const std::string& name = flags.mutant[0];
  auto m = mutant_from_name(name);
  if (!m) {
    usage_error("unknown mutant '" + name + "' (see foliocheck mutants --list)");
    return false;
  }
  set_active_mutant(*m);
  reproduce += " --mutant=" + name;
  return true;
}

void print_json(std::ostream& out, const nlohmann::ordered_json& value) {
  out << value.dump(-1, ' ', /*ensure_ascii=*/true, nlohmann::ordered_json::error_handler_t::replace)
      << "\n";
}

namespace {

struct Command {
  std::string_view name;
  Exit (*fn)(const Flags&);
};

constexpr Command kCommands[] = {
#define FOLIOCHECK_COMMAND(fn, name, args, help) {name, &fn},
#include "tools/commands.def"
#undef FOLIOCHECK_COMMAND
};

Exit run(int argc, char** argv) {
  if (argc < 2) {
    print_help(std::cerr);
    return Exit::usage;
  }
  const std::string_view command = argv[1];
  if (command == "help" || command == "--help" || command == "-h") {
    print_help(std::cout);
    return Exit::ok;
  }
  const Command* cmd = nullptr;
  for (const Command& c : kCommands)
    if (c.name == command) cmd = &c;
  if (!cmd) return usage_error("unknown command '" + std::string(command) + "' (try: foliocheck help)");

  const std::vector<std::string_view> arguments(argv + 2, argv + argc);
  Flags flags;
  if (auto error = parse_flags(command, arguments, flags)) return usage_error(*error);
  if (flags.help) {
    print_command_help(std::cout, command);
    return Exit::ok;
  }
  return cmd->fn(flags);
}

}  // namespace
}  // namespace foliocheck::cli

int main(int argc, char** argv) { return static_cast<int>(foliocheck::cli::run(argc, argv)); }

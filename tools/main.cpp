// `foliocheck`: parses the command line with flags.def and dispatches on commands.def.
#include <cstdlib>
#include <iostream>
#include <string_view>

#include "impl/mutants.h"
#include "tools/cli.h"

namespace foliocheck::cli {

int usage_error(const std::string& message) {
  std::cerr << "foliocheck: error: " << message << "\n";
  return kExitUsage;
}

bool select_mutant(const Flags& flags, std::string& reproduce) {
  if (flags.mutant.empty()) return true;
  auto m = mutant_from_name(flags.mutant);
  if (!m) {
    usage_error("unknown mutant '" + flags.mutant + "' (see foliocheck mutants --list)");
    return false;
  }
  set_active_mutant(*m);
  reproduce += " --mutant=" + flags.mutant;
  return true;
}

namespace {

struct FlagInfo {
  std::string_view name;
  FlagKind kind;
  std::string_view commands;
  std::string_view help;
  std::string Flags::*field;
};

constexpr FlagInfo kFlags[] = {
#define FOLIOCHECK_FLAG(field, name, kind, def, commands, help) \
  {name, kind, commands, help, &Flags::field},
#include "tools/flags.def"
#undef FOLIOCHECK_FLAG
};

struct CommandInfo {
  std::string_view name;
  std::string_view usage;
  std::string_view help;
  int (*fn)(const Flags&);
};

constexpr CommandInfo kCommands[] = {
#define FOLIOCHECK_COMMAND(fn, name, usage, help) {name, usage, help, &fn},
#include "tools/commands.def"
#undef FOLIOCHECK_COMMAND
};

bool takes(std::string_view commands, std::string_view command) {
  size_t pos = 0;
  while (pos <= commands.size()) {
    size_t end = commands.find(',', pos);
    if (end == std::string_view::npos) end = commands.size();
    if (commands.substr(pos, end - pos) == command) return true;
    pos = end + 1;
  }
  return false;
}

int help(std::ostream& out) {
  out << "usage: foliocheck COMMAND [FLAGS] ARGS\n\ncommands:\n";
  for (const CommandInfo& c : kCommands) out << "  " << c.usage << "\n      " << c.help << "\n";
  out << "\nflags:\n";
  for (const FlagInfo& f : kFlags)
    out << "  --" << f.name << (f.kind == kBool ? "" : "=VALUE") << "  (" << f.commands << ")\n      "
        << f.help << "\n";
  out << "\nexit status: 0 ok, 1 finding (violation, failed expect, killed mutant missing),\n"
         "2 bad input or usage (file:line:column), 3 harness bug\n";
  return kExitOk;
}

}  // namespace
}  // namespace foliocheck::cli

int main(int argc, char** argv) {
  using namespace foliocheck::cli;
  if (argc < 2) {
    help(std::cerr);
    return kExitUsage;
  }
  const std::string_view command = argv[1];
  if (command == "help" || command == "--help" || command == "-h") return help(std::cout);
  const CommandInfo* cmd = nullptr;
  for (const CommandInfo& c : kCommands)
    if (c.name == command) cmd = &c;
  if (!cmd) return usage_error("unknown command '" + std::string(command) + "' (try: foliocheck help)");

  Flags flags;
  bool positional_only = false;
  for (int i = 2; i < argc; i++) {
    const std::string_view arg = argv[i];
    if (positional_only || !arg.starts_with("--")) {
      flags.args.emplace_back(arg);
      continue;
    }
    if (arg == "--") {
      positional_only = true;
      continue;
    }
    if (arg == "--help") {
      std::cout << "usage: foliocheck " << cmd->usage << "\n" << cmd->help << "\n";
      return kExitOk;
    }
    const size_t eq = arg.find('=');
    const std::string_view name = arg.substr(2, eq == std::string_view::npos ? arg.npos : eq - 2);
    const FlagInfo* flag = nullptr;
    for (const FlagInfo& f : kFlags)
      if (f.name == name) flag = &f;
    if (!flag) return usage_error("unknown flag '--" + std::string(name) + "' (try: foliocheck help)");
    if (!takes(flag->commands, command))
      return usage_error("flag '--" + std::string(name) + "' does not apply to '" +
                         std::string(command) + "'");
    if (flag->kind == kBool) {
      if (eq != std::string_view::npos)
        return usage_error("flag '--" + std::string(name) + "' takes no value");
      flags.*(flag->field) = "1";
      continue;
    }
    if (eq == std::string_view::npos)
      return usage_error("flag '--" + std::string(name) + "' needs a value (--" +
                         std::string(name) + "=VALUE)");
    const std::string value(arg.substr(eq + 1));
    if (flag->kind == kInt) {
      char* end = nullptr;
      const long long v = std::strtoll(value.c_str(), &end, 10);
      if (value.empty() || *end != '\0' || v < 0 || v > 1000000000)
        return usage_error("flag '--" + std::string(name) + "' needs a whole number, got '" +
                           value + "'");
    }
    flags.*(flag->field) = value;
  }
  return cmd->fn(flags);
}

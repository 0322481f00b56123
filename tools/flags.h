// The flags of `foliocheck`, parsed once into typed values from the table in tools/flags.def.
//
// Every row of flags.def names a type (below): the parser turns `--name=VALUE` into the field's
// type or a usage error that names the flag, so commands read `flags.depth` (an optional
// uint32_t), `flags.impl` (a vector of names), `flags.semantics` (a Semantics) and never parse
// strings themselves.
#pragma once

#include <cstdint>
#include <optional>
#include <ostream>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/vocab.h"

namespace foliocheck::cli {

// ---- flag types: the third column of flags.def ----------------------------------------------

// A bare `--name`; no value.
struct Bool {
  using value_type = bool;
};
// A whole number (or, for double, a decimal one) from min to max, both included.
template <class T>
struct Number {
  using value_type = T;
  T min, max;
  constexpr Number(T lo, T hi) : min(lo), max(hi) {}
};
using Int = Number<int>;
using UInt = Number<uint32_t>;
using UInt64 = Number<uint64_t>;
using Double = Number<double>;
// Any text, the empty one included.
struct String {
  using value_type = std::string;
};
// A comma-separated list of names; empty items are dropped (`a,,b` is `a,b`).
struct List {
  using value_type = std::vector<std::string>;
};
// A comma-separated list of whole numbers from min to max.
struct UIntList {
  using value_type = std::vector<uint32_t>;
  uint32_t min, max;
  constexpr UIntList(uint32_t lo, uint32_t hi) : min(lo), max(hi) {}
};
// One of a fixed set of names; `choices` lists them for help and errors ("a|b|c"), and each must
// be what from_name accepts and name gives back (tests/flags_test.cpp checks).
template <class E>
struct Enum {
  using value_type = E;
  std::optional<E> (*from_name)(std::string_view);
  std::string_view (*name)(E);
  std::string_view choices;
  constexpr Enum(std::optional<E> (*f)(std::string_view), std::string_view (*n)(E),
                 std::string_view c)
      : from_name(f), name(n), choices(c) {}
};
// The inner type, or nothing when the flag is not given (a default that depends on the command).
template <class Spec>
struct Optional {
  using value_type = std::optional<typename Spec::value_type>;
  Spec inner;
  constexpr Optional(Spec s) : inner(s) {}
};

// The largest number most numeric flags take.
inline constexpr uint32_t kWhole = 1000000000;

// ---- enums of this command line -------------------------------------------------------------

enum class Engine : uint8_t { explore, rapidcheck, libfuzzer, all };
std::string_view engine_name(Engine e);
std::optional<Engine> engine_from_name(std::string_view name);

// ---- the parsed command line ----------------------------------------------------------------

struct Flags {
#define FOLIOCHECK_FLAG(field, name, type, def, metavar, commands, help) \
  typename decltype(type)::value_type field = def;
#include "tools/flags.def"
#undef FOLIOCHECK_FLAG
  std::vector<std::string> args;  // positional arguments
  bool help = false;              // --help: print the command's usage, run nothing

  // --impl as the implementation layer takes it: empty for `all`.
  std::vector<std::string> impls() const;
};

// The one comma splitter: items in order, empty items dropped.
std::vector<std::string> split_commas(std::string_view s);
std::string join_commas(std::span<const std::string> items);

// Parses the arguments after the command name: flags into their typed fields, the rest into
// `args` (everything after a bare `--` too). Stops at `--help`. The error names the flag: an
// unknown one, one `command` does not take, a missing or superfluous value, a value of the wrong
// type or out of range.
std::optional<std::string> parse_flags(std::string_view command,
                                       std::span<const std::string_view> arguments, Flags& flags);

// Whether `command` is in commands.def.
bool is_command(std::string_view command);
// "replay [--impl=all|NAME,...] [--json] ... FILE...", from commands.def and flags.def.
std::string command_usage(std::string_view command);
// Every command, flag and exit status (`foliocheck help`).
void print_help(std::ostream& out);
// One command's usage line, sentence and flags (`foliocheck COMMAND --help`).
void print_command_help(std::ostream& out, std::string_view command);

}  // namespace foliocheck::cli

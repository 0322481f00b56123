// Parses `foliocheck`'s flags once, by the types of tools/flags.def, and prints its help.
#include "tools/flags.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <type_traits>

#include "tools/exit.h"

namespace foliocheck::cli {

std::string_view engine_name(Engine e) {
  switch (e) {
    case Engine::explore: return "explore";
    case Engine::rapidcheck: return "rapidcheck";
    case Engine::libfuzzer: return "libfuzzer";
    case Engine::all: return "all";
  }
  return "all";
}

std::optional<Engine> engine_from_name(std::string_view name) {
  for (Engine e : {Engine::explore, Engine::rapidcheck, Engine::libfuzzer, Engine::all})
    if (engine_name(e) == name) return e;
  return std::nullopt;
}

std::vector<std::string> split_commas(std::string_view s) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos <= s.size()) {
    size_t end = s.find(',', pos);
    if (end == std::string_view::npos) end = s.size();
    if (end > pos) out.emplace_back(s.substr(pos, end - pos));
    pos = end + 1;
  }
  return out;
}

std::string join_commas(std::span<const std::string> items) {
  std::string out;
  for (const std::string& item : items) {
    if (!out.empty()) out += ",";
    out += item;
  }
  return out;
}

std::vector<std::string> Flags::impls() const {
  if (impl.size() == 1 && impl[0] == "all") return {};
  return impl;
}

namespace {

// ---- per type: parse a value, say what is expected, show a value ---------------------------

template <class T>
std::string show_number(T v) {
  if constexpr (std::is_floating_point_v<T>) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.15g", v);
    return buf;
  } else {
    return std::to_string(v);
  }
}

template <class T>
bool parse_value(const Number<T>& spec, std::string_view text, T& out) {
  T v{};
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, v);
  if (text.empty() || ec != std::errc() || ptr != end) return false;
  if constexpr (std::is_floating_point_v<T>)
    if (!std::isfinite(v)) return false;
  if (v < spec.min || v > spec.max) return false;
  out = v;
  return true;
}
template <class T>
std::string expected(const Number<T>& spec) {
  return std::string(std::is_floating_point_v<T> ? "a number" : "a whole number") + " from " +
         show_number(spec.min) + " to " + show_number(spec.max);
}
template <class T>
std::string show(const Number<T>&, T v) {
  return show_number(v);
}

bool parse_value(const String&, std::string_view text, std::string& out) {
  out = text;
  return true;
}
std::string expected(const String&) { return "a value"; }
std::string show(const String&, const std::string& v) { return v; }

bool parse_value(const List&, std::string_view text, std::vector<std::string>& out) {
  out = split_commas(text);
  return true;
}
std::string expected(const List&) { return "comma-separated names"; }
std::string show(const List&, const std::vector<std::string>& v) { return join_commas(v); }

bool parse_value(const UIntList& spec, std::string_view text, std::vector<uint32_t>& out) {
  std::vector<uint32_t> values;
  for (const std::string& item : split_commas(text)) {
    uint32_t v = 0;
    if (!parse_value(UInt(spec.min, spec.max), item, v)) return false;
    values.push_back(v);
  }
  out = std::move(values);
  return true;
}
std::string expected(const UIntList& spec) {
  return "comma-separated whole numbers from " + std::to_string(spec.min) + " to " +
         std::to_string(spec.max);
}
std::string show(const UIntList&, const std::vector<uint32_t>& v) {
  std::string out;
  for (uint32_t x : v) out += (out.empty() ? "" : ",") + std::to_string(x);
  return out;
}

std::string choices_text(std::string_view choices) {  // "a|b|c" -> "a, b or c"
  const size_t last = choices.rfind('|');
  std::string out;
  for (size_t i = 0; i < choices.size(); i++)
    out += choices[i] != '|' ? std::string(1, choices[i]) : i == last ? " or " : ", ";
  return out;
}
template <class E>
bool parse_value(const Enum<E>& spec, std::string_view text, E& out) {
  auto v = spec.from_name(text);
  if (!v) return false;
  out = *v;
  return true;
}
template <class E>
std::string expected(const Enum<E>& spec) {
  return "one of " + choices_text(spec.choices);
}
template <class E>
std::string show(const Enum<E>& spec, E v) {
  return std::string(spec.name(v));
}

template <class Spec>
bool parse_value(const Optional<Spec>& spec, std::string_view text,
                 std::optional<typename Spec::value_type>& out) {
  typename Spec::value_type v{};
  if (!parse_value(spec.inner, text, v)) return false;
  out = std::move(v);
  return true;
}
template <class Spec>
std::string expected(const Optional<Spec>& spec) {
  return expected(spec.inner);
}
template <class Spec>
std::string show(const Optional<Spec>& spec, const std::optional<typename Spec::value_type>& v) {
  return v ? show(spec.inner, *v) : std::string();
}

// The bare `--name` of a Bool flag sets it.
bool parse_value(const Bool&, std::string_view, bool& out) {
  out = true;
  return true;
}
std::string expected(const Bool&) { return ""; }
std::string show(const Bool&, bool) { return ""; }

template <class Spec>
std::string metavar(const Spec& spec, std::string_view given) {
  if constexpr (requires { spec.choices; })
    if (given.empty()) return std::string(spec.choices);
  return std::string(given.empty() ? "VALUE" : given);
}

// ---- the tables ----------------------------------------------------------------------------

struct FlagInfo {
  std::string_view name;
  std::string_view commands;
  std::string_view help;
  bool takes_value;
  std::string metavar;       // shown as --name=METAVAR
  std::string default_text;  // empty: nothing worth showing
  std::string expected;      // "a whole number from 0 to 1000000000"
  bool (*parse)(Flags&, std::string_view);
};

const std::vector<FlagInfo>& flag_table() {
  static const std::vector<FlagInfo> table = {
#define FOLIOCHECK_FLAG(field, name, type, def, metavar_, commands, help)                       \
  FlagInfo{name,                                                                             \
           commands,                                                                         \
           help,                                                                             \
           !std::is_same_v<decltype(type), Bool>,                                            \
           metavar(type, metavar_),                                                          \
           show(type, Flags{}.field),                                                        \
           expected(type),                                                                   \
           [](Flags& f, std::string_view v) { return parse_value(type, v, f.field); }},
#include "tools/flags.def"
#undef FOLIOCHECK_FLAG
  };
  return table;
}

struct CommandInfo {
  std::string_view name;
  std::string_view args;
  std::string_view help;
};

constexpr CommandInfo kCommands[] = {
#define FOLIOCHECK_COMMAND(fn, name, args, help) {name, args, help},
#include "tools/commands.def"
#undef FOLIOCHECK_COMMAND
};

bool takes(const FlagInfo& flag, std::string_view command) {
  for (const std::string& c : split_commas(flag.commands))
    if (c == command) return true;
  return false;
}

const CommandInfo* find_command(std::string_view name) {
  for (const CommandInfo& c : kCommands)
    if (c.name == name) return &c;
  return nullptr;
}

}  // namespace

std::optional<std::string> parse_flags(std::string_view command,
                                       std::span<const std::string_view> arguments, Flags& flags) {
  bool positional_only = false;
  for (const std::string_view arg : arguments) {
    if (positional_only || !arg.starts_with("--")) {
      flags.args.emplace_back(arg);
      continue;
    }
    if (arg == "--") {
      positional_only = true;
      continue;
    }
    if (arg == "--help") {
      flags.help = true;
      return std::nullopt;
    }
    const size_t eq = arg.find('=');
    const std::string name(arg.substr(2, eq == std::string_view::npos ? arg.npos : eq - 2));
    const FlagInfo* flag = nullptr;
    for (const FlagInfo& f : flag_table())
      if (f.name == name) flag = &f;
    if (!flag) return "unknown flag '--" + name + "' (try: foliocheck help)";
    if (!takes(*flag, command))
      return "flag '--" + name + "' does not apply to '" + std::string(command) + "'";
    if (!flag->takes_value) {
      if (eq != std::string_view::npos) return "flag '--" + name + "' takes no value";
      flag->parse(flags, "");
      continue;
    }
    if (eq == std::string_view::npos)
      return "flag '--" + name + "' needs a value (--" + name + "=" + flag->metavar + ")";
    const std::string_view value = arg.substr(eq + 1);
    if (!flag->parse(flags, value))
      return "flag '--" + name + "' needs " + flag->expected + ", got '" + std::string(value) + "'";
  }
  return std::nullopt;
}

bool is_command(std::string_view command) { return find_command(command) != nullptr; }

std::string command_usage(std::string_view command) {
  const CommandInfo* c = find_command(command);
  if (!c) return {};
  std::string usage(c->name);
  for (const FlagInfo& f : flag_table())
    if (takes(f, command))
      usage += " [--" + std::string(f.name) + (f.takes_value ? "=" + f.metavar : "") + "]";
  if (!c->args.empty()) usage += " " + std::string(c->args);
  return usage;
}

namespace {

void print_flag(std::ostream& out, const FlagInfo& f, bool with_commands) {
  out << "  --" << f.name << (f.takes_value ? "=" + f.metavar : "");
  std::string notes = with_commands ? std::string(f.commands) : "";
  if (!f.default_text.empty()) notes += (notes.empty() ? "" : "; ") + ("default " + f.default_text);
  if (!notes.empty()) out << "  (" << notes << ")";
  out << "\n      " << f.help << "\n";
}

void print_exit_codes(std::ostream& out) {
  out << "\nexit status:\n";
#define FOLIOCHECK_EXIT(name, code, meaning) out << "  " << code << "  " << meaning << "\n";
  FOLIOCHECK_EXITS(FOLIOCHECK_EXIT)
#undef FOLIOCHECK_EXIT
}

}  // namespace

void print_help(std::ostream& out) {
  out << "usage: foliocheck COMMAND [FLAGS] ARGS\n\ncommands:\n";
  for (const CommandInfo& c : kCommands)
    out << "  " << command_usage(c.name) << "\n      " << c.help << "\n";
  out << "\nflags:\n";
  for (const FlagInfo& f : flag_table()) print_flag(out, f, true);
  print_exit_codes(out);
}

void print_command_help(std::ostream& out, std::string_view command) {
  const CommandInfo* c = find_command(command);
  if (!c) return;
  out << "usage: foliocheck " << command_usage(command) << "\n" << c->help << "\n";
  bool first = true;
  for (const FlagInfo& f : flag_table()) {
    if (!takes(f, command)) continue;
    if (first) out << "\nflags:\n";
    first = false;
    print_flag(out, f, false);
  }
  print_exit_codes(out);
}

}  // namespace foliocheck::cli

// The command line's flags: parsed once into typed values, every bad value a usage error naming
// the flag; the exit codes and what a replay maps to.
#include <gtest/gtest.h>

#include <sstream>
#include <string_view>
#include <vector>

#include "tools/exit.h"
#include "tools/flags.h"
#include "trace/replay.h"

namespace foliocheck::cli {
namespace {

std::optional<std::string> parse(std::string_view command, std::vector<std::string_view> args,
                                 Flags& flags) {
  return parse_flags(command, args, flags);
}

TEST(Flags, DefaultsAreTyped) {
  const Flags f;
  EXPECT_EQ(f.impl, std::vector<std::string>{"all"});
  EXPECT_TRUE(f.impls().empty());
  EXPECT_FALSE(f.json);
  EXPECT_EQ(f.sweep_every, 0u);
  EXPECT_EQ(f.semantics, Semantics::mm_id);
  EXPECT_EQ(f.type, FolioType::anon);
  EXPECT_EQ(f.bits, 64);
  EXPECT_EQ(f.order, 2);
  EXPECT_EQ(f.mms, 2u);
  EXPECT_FALSE(f.depth.has_value());
  EXPECT_EQ(f.max_states, 0u);
  EXPECT_EQ(f.engine, Engine::all);
  EXPECT_EQ(f.budget, 10.0);
  EXPECT_TRUE(f.mutant.empty());
  EXPECT_TRUE(f.mm_ids.empty());
}

TEST(Flags, ParsesEveryType) {
  Flags f;
  ASSERT_EQ(parse("explore",
                  {"--impl=mm-id-64,,v6.12-64", "--json", "--semantics=no-mm-id", "--bits=32",
                   "--type=shmem", "--depth=6", "--max-states=12345", "--mm-ids=2147483647,1",
                   "--out=x.trace", "--mutant=ebusy-first-page-only"},
                  f),
            std::nullopt);
  EXPECT_EQ(f.impl, (std::vector<std::string>{"mm-id-64", "v6.12-64"}));
  EXPECT_EQ(f.impls(), f.impl);
  EXPECT_TRUE(f.json);
  EXPECT_EQ(f.semantics, Semantics::no_mm_id);
  EXPECT_EQ(f.bits, 32);
  EXPECT_EQ(f.type, FolioType::shmem);
  EXPECT_EQ(f.depth, 6u);
  EXPECT_EQ(f.max_states, 12345u);
  EXPECT_EQ(f.mm_ids, (std::vector<uint32_t>{2147483647u, 1u}));
  EXPECT_EQ(f.out, "x.trace");
  EXPECT_EQ(f.mutant, std::vector<std::string>{"ebusy-first-page-only"});

  Flags m;
  ASSERT_EQ(parse("mutants", {"--engine=libfuzzer", "--budget=2.5", "--mutant=a,b", "--list"}, m),
            std::nullopt);
  EXPECT_EQ(m.engine, Engine::libfuzzer);
  EXPECT_EQ(m.budget, 2.5);
  EXPECT_EQ(m.mutant, (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(m.list);
}

TEST(Flags, PositionalArgumentsAndDoubleDash) {
  Flags f;
  ASSERT_EQ(parse("replay", {"a.trace", "--quiet", "--", "--json", "b.trace"}, f), std::nullopt);
  EXPECT_TRUE(f.quiet);
  EXPECT_FALSE(f.json);
  EXPECT_EQ(f.args, (std::vector<std::string>{"a.trace", "--json", "b.trace"}));
}

TEST(Flags, HelpStopsParsing) {
  Flags f;
  ASSERT_EQ(parse("replay", {"--help", "--no-such-flag"}, f), std::nullopt);
  EXPECT_TRUE(f.help);
}

// Each bad value is a usage error whose message names the flag.
TEST(Flags, BadValuesNameTheFlag) {
  const struct {
    std::string_view command, arg, message;
  } cases[] = {
      {"explore", "--depth=abc", "flag '--depth' needs a whole number from 0 to 1000000000, got 'abc'"},
      {"explore", "--depth=-1", "flag '--depth' needs a whole number from 0 to 1000000000, got '-1'"},
      {"explore", "--depth=", "flag '--depth' needs a whole number from 0 to 1000000000, got ''"},
      {"explore", "--depth=4x", "flag '--depth' needs a whole number from 0 to 1000000000, got '4x'"},
      {"explore", "--depth=1000000001",
       "flag '--depth' needs a whole number from 0 to 1000000000, got '1000000001'"},
      {"explore", "--depth", "flag '--depth' needs a value (--depth=D)"},
      {"explore", "--json=1", "flag '--json' takes no value"},
      {"explore", "--semantics=v7",
       "flag '--semantics' needs one of v6.12, mm-id, no-page-mapcount, no-mm-id or "
       "proposed-total-mapped, got 'v7'"},
      {"explore", "--type=slab", "flag '--type' needs one of anon, file or shmem, got 'slab'"},
      {"explore", "--mm-ids=1,x",
       "flag '--mm-ids' needs comma-separated whole numbers from 0 to 4294967295, got '1,x'"},
      {"explore", "--mm-ids=4294967296",
       "flag '--mm-ids' needs comma-separated whole numbers from 0 to 4294967295, got '4294967296'"},
      {"mutants", "--engine=afl",
       "flag '--engine' needs one of explore, rapidcheck, libfuzzer or all, got 'afl'"},
      {"mutants", "--budget=0", "flag '--budget' needs a number from 1 to 1000000000, got '0'"},
      {"mutants", "--budget=nan", "flag '--budget' needs a number from 1 to 1000000000, got 'nan'"},
      {"replay", "--sweep-every=+1",
       "flag '--sweep-every' needs a whole number from 0 to 1000000000, got '+1'"},
      {"replay", "--no-such-flag", "unknown flag '--no-such-flag' (try: foliocheck help)"},
      {"replay", "--depth=3", "flag '--depth' does not apply to 'replay'"},
      {"print", "--json", "flag '--json' does not apply to 'print'"},
  };
  for (const auto& c : cases) {
    Flags f;
    EXPECT_EQ(parse(c.command, {c.arg}, f), std::optional<std::string>(c.message))
        << c.command << " " << c.arg;
  }
}

TEST(Flags, SplitCommas) {
  EXPECT_EQ(split_commas(""), std::vector<std::string>{});
  EXPECT_EQ(split_commas(","), std::vector<std::string>{});
  EXPECT_EQ(split_commas("a"), std::vector<std::string>{"a"});
  EXPECT_EQ(split_commas("a,,b,"), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(join_commas(split_commas("a,b")), "a,b");
}

TEST(Flags, EnumChoicesRoundTrip) {
  for (std::string_view name : {"v6.12", "mm-id", "no-page-mapcount", "no-mm-id"})
    EXPECT_EQ(semantics_name(*semantics_from_name(name)), name);
  for (std::string_view name : {"anon", "file", "shmem"})
    EXPECT_EQ(folio_type_name(*folio_type_from_name(name)), name);
  for (std::string_view name : {"explore", "rapidcheck", "libfuzzer", "all"})
    EXPECT_EQ(engine_name(*engine_from_name(name)), name);
}

TEST(Flags, HelpComesFromTheTables) {
  std::ostringstream help;
  print_help(help);
  for (std::string_view want :
       {"replay [--impl=all|NAME,...] [--json] [--quiet] [--allow-invalid] [--mutant=NAME] "
        "[--sweep-every=N] FILE...",
        "--semantics=v6.12|mm-id|no-page-mapcount|no-mm-id|proposed-total-mapped  (explore; default "
        "mm-id)",
        "--budget=SECONDS  (mutants; default 10)", "  3  harness bug"})
    EXPECT_NE(help.str().find(want), std::string::npos) << want << "\nin:\n" << help.str();
  EXPECT_EQ(command_usage("print"), "print FILE");
  EXPECT_TRUE(is_command("mutants"));
  EXPECT_FALSE(is_command("help"));
}

TEST(Exit, CodesAndSeverity) {
  EXPECT_EQ(static_cast<int>(Exit::ok), 0);
  EXPECT_EQ(static_cast<int>(Exit::finding), 1);
  EXPECT_EQ(static_cast<int>(Exit::usage), 2);
  EXPECT_EQ(static_cast<int>(Exit::harness), 3);
  EXPECT_EQ(worse(Exit::finding, Exit::usage), Exit::usage);
  EXPECT_EQ(worse(Exit::harness, Exit::usage), Exit::harness);
  EXPECT_EQ(worse(Exit::ok, Exit::finding), Exit::finding);
}

TEST(Exit, ReplayReportMapsToExitCodes) {
  ReplayReport r;
  EXPECT_EQ(replay_exit_code(r), Exit::ok);
  r.result = ReplayReport::violation;
  r.found = Violation{ViolationKind::mismatch, "mm-id-64", "folio_mapcount", 1, 2, ""};
  EXPECT_EQ(replay_exit_code(r), Exit::finding);
  r.found->kind = ViolationKind::harness;
  EXPECT_EQ(replay_exit_code(r), Exit::harness);
  r = ReplayReport{};
  r.result = ReplayReport::invalid;
  EXPECT_EQ(replay_exit_code(r), Exit::usage);
  r.ran_invalid = true;
  EXPECT_EQ(replay_exit_code(r), Exit::ok);
  r = ReplayReport{};
  r.result = ReplayReport::error;
  EXPECT_EQ(replay_exit_code(r), Exit::usage);
}

}  // namespace
}  // namespace foliocheck::cli

// Claims about trace format v1: the parser's errors, the canonical printer, and the round trip.
#include <gtest/gtest.h>

#include "trace/trace.h"

namespace foliocheck {
namespace {

constexpr const char* kExample = R"(foliocheck-trace 1
# a comment on its own line
config semantics=mm-id bits=64 pmd_order=2 pud_order=4   # scaled geometry
folio order=2 type=anon
folio_add_anon_rmap_ptes mm=1 page=0 nr=4 exclusive
folio_add_anon_rmap_pte mm=2 page=3
folio_remove_rmap_ptes mm=2 page=3 nr=1 x=1
gup_pin mm=1
expect folio_mapcount=4 mapped=1 page_mapcount[3]=1 stat.NR_ANON_MAPPED=4 ret=0
folio_try_dup_anon_rmap_ptes mm=3 src=1 page=0 nr=2
)";

TraceError parse_error(const std::string& text) {
  ParseResult r = parse_trace(text, "t.trace");
  EXPECT_FALSE(r.trace.has_value());
  return r.error.value_or(TraceError{});
}

TEST(Trace, ParsingTheExampleGivesEveryStatementWithItsLine) {
  ParseResult r = parse_trace(kExample, "example.trace");
  ASSERT_TRUE(r.trace) << r.error->describe();
  const Trace& t = *r.trace;
  EXPECT_EQ(t.setup.config.pmd_order, 2);
  EXPECT_EQ(t.setup.folio.order, 2);
  ASSERT_EQ(t.statements.size(), 6u);
  EXPECT_EQ(t.statements[0].operation.kind, OpKind::add_anon_ptes);
  EXPECT_TRUE(t.statements[0].operation.exclusive);
  EXPECT_EQ(t.statements[0].line, 5u);
  EXPECT_EQ(t.statements[1].operation.nr, 1u) << "the singular _pte form maps one page";
  EXPECT_EQ(t.statements[1].operation.page, 3u);
  EXPECT_EQ(t.statements[4].kind, Statement::expect);
  EXPECT_EQ(t.statements[4].expects.size(), 5u);
  EXPECT_EQ(t.statements[4].expects[2].obs, Obs::page_mapcount);
  EXPECT_EQ(t.statements[4].expects[2].index, 3u);
  EXPECT_EQ(t.statements[5].operation.src, 1u);
  EXPECT_EQ(t.nr_ops(), 5u);
}

TEST(Trace, PrintThenParseGivesBackTheSameTrace) {
  ParseResult r = parse_trace(kExample);
  ASSERT_TRUE(r.trace);
  const std::string printed = print_trace(*r.trace);
  ParseResult again = parse_trace(printed);
  ASSERT_TRUE(again.trace) << again.error->describe() << "\n" << printed;
  EXPECT_EQ(*again.trace, *r.trace);
  EXPECT_EQ(print_trace(*again.trace), printed) << "print is a fixed point";
}

TEST(Trace, CanonicalFormSpellsEveryHeaderKeyAndDropsComments) {
  ParseResult r = parse_trace("foliocheck-trace 1\nfolio order=0 type=file # c\n"
                              "folio_add_file_rmap_pte mm=7 page=0 x=3\n");
  ASSERT_TRUE(r.trace);
  EXPECT_EQ(print_trace(*r.trace),
            "foliocheck-trace 1\n"
            "config semantics=mm-id bits=64 pmd_order=9 pud_order=18\n"
            "folio order=0 type=file\n"
            "folio_add_file_rmap_ptes mm=7 page=0 nr=1 x=3\n");
}

TEST(Trace, ErrorsNameTheLineAndColumnOfTheOffendingToken) {
  TraceError e = parse_error("foliocheck-trace 1\nfolio order=2 type=anon\nfolio_add_anon_rmap_ptes mm=1 page=0 nr=1 colour=3\n");
  EXPECT_EQ(e.line, 3u);
  EXPECT_EQ(e.column, 43u);
  EXPECT_NE(e.message.find("unknown key 'colour'"), std::string::npos) << e.message;
  EXPECT_EQ(e.describe().rfind("t.trace:3:43: error: ", 0), 0u) << e.describe();
}

TEST(Trace, UnknownStatementsAreErrors) {
  TraceError e = parse_error("foliocheck-trace 1\nfolio order=0 type=anon\nfolio_map mm=1\n");
  EXPECT_EQ(e.line, 3u);
  EXPECT_EQ(e.column, 1u);
  EXPECT_NE(e.message.find("unknown statement 'folio_map'"), std::string::npos);
}

TEST(Trace, AKeyGivenTwiceIsAnError) {
  TraceError e = parse_error("foliocheck-trace 1\nfolio order=0 type=anon\nfolio_add_anon_rmap_ptes mm=1 mm=2 page=0 nr=1\n");
  EXPECT_EQ(e.column, 31u);
  EXPECT_NE(e.message.find("given twice"), std::string::npos);
}

TEST(Trace, AnIndexIsTheSameObservableWhateverItsLeadingZeros) {
  TraceError e = parse_error("foliocheck-trace 1\nfolio order=2 type=anon\nexpect mm_mapcount[01]=0 mm_mapcount[1]=0\n");
  EXPECT_EQ(e.column, 26u);
  EXPECT_NE(e.message.find("mm_mapcount[1] given twice"), std::string::npos) << e.message;
}

TEST(Trace, MissingRequiredKeysAreErrors) {
  EXPECT_NE(parse_error("foliocheck-trace 1\nfolio order=0 type=anon\nfolio_remove_rmap_ptes mm=1 page=0\n")
                .message.find("needs nr="),
            std::string::npos);
  EXPECT_NE(parse_error("foliocheck-trace 1\nfolio type=anon\n").message.find("needs order="),
            std::string::npos);
}

TEST(Trace, OutOfRangeValuesAreErrors) {
  // MM_ID_MAX is 0x7FFF on 32-bit.
  TraceError e = parse_error("foliocheck-trace 1\nconfig bits=32\nfolio order=0 type=anon\ngup_pin mm=32768\n");
  EXPECT_EQ(e.line, 4u);
  EXPECT_EQ(e.column, 12u);
  EXPECT_NE(e.message.find("out of range"), std::string::npos) << e.message;
  EXPECT_NE(parse_error("foliocheck-trace 1\nfolio order=2 type=anon\ngup_pin mm=1 x=1000001\n")
                .message.find("out of range"),
            std::string::npos);
  EXPECT_NE(parse_error("foliocheck-trace 1\nfolio order=2 type=anon\nexpect page_mapcount[4]=0\n")
                .message.find("out of range"),
            std::string::npos);
  EXPECT_NE(parse_error("foliocheck-trace 1\nfolio order=19 type=anon\n").message.find("out of range"),
            std::string::npos);
}

TEST(Trace, TheHeaderComesFirstAndOnlyVersionOneIsRead) {
  EXPECT_EQ(parse_error("").line, 1u);
  EXPECT_NE(parse_error("folio order=0 type=anon\n").message.find("starts with"), std::string::npos);
  TraceError e = parse_error("foliocheck-trace 2\n");
  EXPECT_EQ(e.column, 18u);
  EXPECT_NE(e.message.find("unsupported trace version 2"), std::string::npos);
}

TEST(Trace, OperationsNeedAFolioFirst) {
  EXPECT_NE(parse_error("foliocheck-trace 1\ngup_unpin\n").message.find("before the folio"),
            std::string::npos);
  EXPECT_NE(parse_error("foliocheck-trace 1\n").message.find("missing folio"), std::string::npos);
}

TEST(Trace, ImpossibleFolioShapesAreRejectedWithTheKernelRule) {
  TraceError e = parse_error("foliocheck-trace 1\nconfig bits=32 pud_order=18\nfolio order=16 type=anon\n");
  EXPECT_NE(e.message.find("W5"), std::string::npos) << e.message;
}

TEST(Trace, BinaryBytesAreErrorsNotCrashes) {
  std::string text = "foliocheck-trace 1\nfolio order=0 type=anon\ngup_pin mm=1\xff\n";
  TraceError e = parse_error(text);
  EXPECT_EQ(e.line, 3u);
  EXPECT_NE(e.message.find("0xff"), std::string::npos);
  std::string nul("foliocheck-trace 1\n\0\n", 21);
  EXPECT_NE(parse_error(nul).message.find("0x00"), std::string::npos);
}

TEST(Trace, FlagsThatAnOperationDoesNotTakeAreErrors) {
  EXPECT_NE(parse_error("foliocheck-trace 1\nfolio order=0 type=file\nfolio_add_file_rmap_ptes mm=1 page=0 nr=1 exclusive\n")
                .message.find("unknown flag 'exclusive'"),
            std::string::npos);
  EXPECT_NE(parse_error("foliocheck-trace 1\nfolio order=0 type=file\nfolio_add_file_rmap_pte mm=1 page=0 nr=1\n")
                .message.find("unknown key 'nr'"),
            std::string::npos);
}

TEST(Trace, NegativeValuesAreAcceptedOnlyWhereAValueCanBeNegative) {
  ParseResult ok = parse_trace("foliocheck-trace 1\nfolio order=0 type=anon\nexpect ret=-16\n");
  ASSERT_TRUE(ok.trace);
  EXPECT_EQ(ok.trace->statements[0].expects[0].value, -16);
  EXPECT_NE(parse_error("foliocheck-trace 1\nfolio order=0 type=anon\ngup_pin mm=-1\n").message.find("out of range"),
            std::string::npos);
}

TEST(Trace, RetReadsAsTheKernelWritesIt) {
  ParseResult r = parse_trace(
      "foliocheck-trace 1\nconfig semantics=mm-id bits=64\nfolio order=0 type=anon\n"
      "expect ret=-EBUSY\nexpect ret=-16\n",
      "t.trace");
  ASSERT_TRUE(r.trace) << r.error->describe();
  ASSERT_EQ(r.trace->statements.size(), 2u);
  EXPECT_EQ(r.trace->statements[0].expects[0].value, -16);
  EXPECT_EQ(r.trace->statements[0], r.trace->statements[1]);
  EXPECT_EQ(r.trace->config_line, 2u);
  EXPECT_EQ(parse_error("foliocheck-trace 1\nconfig semantics=mm-id bits=64\nfolio order=0 "
                        "type=anon\nexpect folio_mapcount=-EBUSY\n")
                .column,
            23u)
      << "only ret takes an errno name";
}

TEST(Trace, NoMmIdSetupsNoKernelCanBuildAreRefused) {
  TraceError e = parse_error(
      "foliocheck-trace 1\nconfig semantics=no-mm-id bits=64\nfolio order=2 type=anon\n");
  EXPECT_EQ(e.line, 3u);
  EXPECT_NE(e.message.find("CONFIG_TRANSPARENT_HUGEPAGE=n"), std::string::npos) << e.message;
}

}  // namespace
}  // namespace foliocheck

// Claims about `foliocheck export --kunit`: one case per trace, one check per expectation, skips named.
#include <gtest/gtest.h>

#include <filesystem>
#include <regex>

#include "export/kunit.h"

namespace foliocheck {
namespace {

KunitInput parsed(const std::string& text, const std::string& path) {
  ParseResult r = parse_trace(text, path);
  EXPECT_TRUE(r.trace) << (r.error ? r.error->describe() : "");
  return {path, r.trace.value_or(Trace{})};
}

constexpr const char* kTwoMms = R"(foliocheck-trace 1
config semantics=mm-id bits=64 pmd_order=9
folio order=9 type=anon
folio_add_new_anon_rmap mm=7 exclusive
folio_try_dup_anon_rmap_pmd mm=3 src=7
expect ret=0 folio_mapcount=2 mm_id[1]=3 mm_mapcount[3]=1 stat.NR_ANON_THPS=512
folio_remove_rmap_pmd mm=7
expect folio_mapcount=1 page_mapcount[5]=1 warnings=0
)";

size_t count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t pos = text.find(what); pos != std::string::npos; pos = text.find(what, pos + 1)) n++;
  return n;
}

TEST(ExportKunit, EveryCorpusTraceBecomesOneCaseAndEveryExpectationACheckCitingItsPosition) {
  std::vector<KunitInput> inputs;
  for (const auto& e : std::filesystem::recursive_directory_iterator(FOLIOCHECK_CORPUS_DIR)) {
    if (e.path().extension() != ".trace") continue;
    ParseResult r = parse_trace_file(e.path().string());
    ASSERT_TRUE(r.trace) << r.error->describe();
    inputs.push_back({e.path().string(), *r.trace});
  }
  ASSERT_GT(inputs.size(), 50u);
  const KunitSuite suite = export_kunit(inputs);
  ASSERT_EQ(suite.cases.size(), inputs.size());
  EXPECT_EQ(count(suite.source, "\tFC_CASE("), inputs.size());
  size_t exported = 0;
  for (size_t k = 0; k < inputs.size(); k++) {
    const KunitCase& c = suite.cases[k];
    EXPECT_TRUE(std::regex_match(c.name, std::regex("[A-Za-z_][A-Za-z0-9_]*"))) << c.name;
    EXPECT_EQ(count(suite.source, "FC_CASE(" + c.name + ")"), 1u) << c.name << " is not unique";
    if (!c.skip_reason.empty()) {
      EXPECT_EQ(count(suite.source, "kunit_skip(test, \"" + c.path + ": "), 1u) << c.path;
      continue;
    }
    exported++;
    for (const Statement& st : inputs[k].trace.statements) {
      if (st.kind == Statement::op) {
        // The kernel function the trace names is called (the singular _pte forms are printed plural).
        EXPECT_NE(suite.source.find(c.path + ":" + std::to_string(st.line) + ": " + print_op(st.operation)),
                  std::string::npos);
        continue;
      }
      for (const Expectation& e : st.expects) {
        const std::string where = c.path + ":" + std::to_string(st.line) + ":" + std::to_string(e.column);
        std::string name(obs_info(e.obs).name);
        if (obs_info(e.obs).indexed) name += "[" + std::to_string(e.index) + "]";
        const size_t checks = count(suite.source, "\"" + where + ": " + name + "\");");
        const size_t skipped = count(suite.source, "/* " + where + ": " + name + "=");
        EXPECT_EQ(checks + skipped, 1u) << where << " " << name;
      }
    }
  }
  EXPECT_GT(exported, 40u);
}

TEST(ExportKunit, ChangingOneExpectValueChangesExactlyThatCheck) {
  const KunitSuite before = export_kunit({parsed(kTwoMms, "t.trace")});
  std::string changed = kTwoMms;
  changed.replace(changed.find("folio_mapcount=1 "), 17, "folio_mapcount=4 ");
  const KunitSuite after = export_kunit({parsed(changed, "t.trace")});
  const std::string old_check =
      "KUNIT_EXPECT_EQ_MSG(test, (long)folio_mapcount(folio), 1L,\n\t\t\t    \"t.trace:8:8: folio_mapcount\");";
  const std::string new_check =
      "KUNIT_EXPECT_EQ_MSG(test, (long)folio_mapcount(folio), 4L,\n\t\t\t    \"t.trace:8:8: folio_mapcount\");";
  EXPECT_EQ(count(before.source, old_check), 1u);
  EXPECT_EQ(count(after.source, new_check), 1u);
  std::string patched = before.source;
  patched.replace(patched.find(old_check), old_check.size(), new_check);
  EXPECT_EQ(patched, after.source) << "nothing but that check changes";
}

TEST(ExportKunit, TraceMmIdsBecomeTheKernelsOwnMmsInOrderOfFirstUse) {
  const KunitSuite s = export_kunit({parsed(kTwoMms, "t.trace")});
  EXPECT_NE(s.source.find("folio_add_new_anon_rmap(folio, c->vma[0], FC_VA, RMAP_EXCLUSIVE);"), std::string::npos);
  EXPECT_NE(s.source.find("folio_try_dup_anon_rmap_pmd(folio, &folio->page, c->vma[1], c->vma[0]);"),
            std::string::npos);
  EXPECT_NE(s.source.find("(long)fc_mm_id(folio, 1), fc_kernel_mm_id(c, 1)"), std::string::npos);
  EXPECT_NE(s.source.find("mm_mapcount[3]=1 not checked"), std::string::npos);
  EXPECT_NE(s.source.find("\tif (fc_can_see_warnings(c))\n\t\tKUNIT_EXPECT_EQ_MSG(test, (long)fc_warned(c), 0L,"),
            std::string::npos);
}

TEST(ExportKunit, TracesNoBootedKernelCanRunAreSkippedWithTheirReason) {
  const KunitSuite s = export_kunit({
      parsed("foliocheck-trace 1\nconfig semantics=v6.12\nfolio order=2 type=anon\n", "a/x.trace"),
      parsed("foliocheck-trace 1\nfolio order=2 type=file hugetlb\nhugetlb_add_file_rmap mm=1\n", "b/x.trace"),
      parsed("foliocheck-trace 1\nfolio order=2 type=file\nfolio_add_file_rmap_ptes mm=1 page=0 nr=496\n",
             "syzbot.trace"),
  });
  ASSERT_EQ(s.cases.size(), 3u);
  EXPECT_EQ(s.cases[0].name, "a_x") << "same stems are told apart by their folder";
  EXPECT_EQ(s.cases[1].name, "b_x");
  EXPECT_NE(s.cases[0].skip_reason.find("v6.12"), std::string::npos);
  EXPECT_NE(s.cases[1].skip_reason.find("hugetlb"), std::string::npos);
  EXPECT_NE(s.cases[2].skip_reason.find("leaves the folio"), std::string::npos);
}

TEST(ExportKunit, ThePatchAddsTheSuiteAndInsertsKconfigAndMakefileLinesWithContext) {
  const KunitSuite s = export_kunit({parsed(kTwoMms, "t.trace")});
  KunitTreeFiles tree;
  tree.kconfig = "menu \"mm\"\nconfig A\n\tbool\n\nsource \"mm/damon/Kconfig\"\n\nendmenu\n";
  tree.makefile = "obj-y += a.o\nobj-y += b.o\n";
  const KunitPatch p = make_kunit_patch(s, tree);
  ASSERT_TRUE(p.error.empty()) << p.error;
  EXPECT_TRUE(p.text.starts_with("From 0000000000000000000000000000000000000000 "));
  EXPECT_NE(p.text.find("\nSubject: [PATCH] "), std::string::npos);
  EXPECT_NE(p.text.find("diff --git a/mm/Kconfig b/mm/Kconfig\n--- a/mm/Kconfig\n+++ b/mm/Kconfig\n@@ -2,6 +2,17 @@\n"),
            std::string::npos);
  EXPECT_NE(p.text.find("@@ -1,2 +1,3 @@\n obj-y += a.o\n obj-y += b.o\n+obj-$(CONFIG_FOLIOCHECK_KUNIT_TEST)"),
            std::string::npos);
  EXPECT_NE(p.text.find("new file mode 100644\n--- /dev/null\n+++ b/mm/tests/foliocheck_kunit.c\n"),
            std::string::npos);
  tree.kconfig = "nothing to anchor on\n";
  EXPECT_FALSE(make_kunit_patch(s, tree).error.empty());
}

}  // namespace
}  // namespace foliocheck

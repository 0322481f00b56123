// Unit tests of the `kernel` implementation: the tree's rmap code behind foliocheck's Implementation.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "core/implementation.h"
#include "impl/registry.h"
#include "trace/trace.h"

namespace foliocheck {
namespace {

Setup v612(int order, FolioType type, bool hugetlb = false) {
  Setup s;
  s.config.semantics = Semantics::v6_12;
  s.config.bits = 64;
  s.config.pmd_order = 2;
  s.config.pud_order = 3;
  s.folio.order = order;
  s.folio.type = type;
  s.folio.hugetlb = hugetlb;
  return s;
}

Op op(OpKind kind, uint32_t mm, uint32_t page = 0, uint32_t nr = 1) {
  Op o;
  o.kind = kind;
  o.mm = mm;
  o.page = page;
  o.nr = nr;
  return o;
}

std::unique_ptr<Implementation> kernel(const Setup& s) {
  auto impl = make_implementation("kernel");
  if (impl) impl->reset(s);
  return impl;
}

TEST(KernelImplementation, IsListedAndSupportsOnlyTheTreesSemanticsOn64Bit) {
  bool listed = false;
  for (std::string_view name : implementation_names()) listed |= name == "kernel";
  EXPECT_TRUE(listed);
  auto impl = make_implementation("kernel");
  ASSERT_NE(impl, nullptr);
  foliocheck::Setup s = v612(2, FolioType::anon);
  EXPECT_TRUE(impl->supports(s));
  s.config.bits = 32;
  EXPECT_FALSE(impl->supports(s));
  s = v612(2, FolioType::anon);
  s.config.semantics = Semantics::mm_id;
  EXPECT_FALSE(impl->supports(s));
}

TEST(KernelImplementation, AFreshFolioReadsUnmappedAndPassesTheTreesFreeChecks) {
  for (int order : {0, 1, 2, 3}) {
    auto k = kernel(v612(order, FolioType::file));
    ASSERT_NE(k, nullptr);
    EXPECT_EQ(k->read(Obs::folio_mapcount), 0) << "order " << order;
    EXPECT_EQ(k->read(Obs::warnings), 0) << "order " << order;
    EXPECT_FALSE(k->check_free()) << "order " << order;
    EXPECT_FALSE(k->check_invariants({0, 1u << order}, true)) << "order " << order;
  }
}

TEST(KernelImplementation, AMappedFolioFailsTheFreeCheckThatTheTreeRunsFirst) {
  auto k = kernel(v612(2, FolioType::file));
  k->apply(op(OpKind::add_file_ptes, 1, 1, 2));
  const auto v = k->check_free();
  ASSERT_TRUE(v);
  // free_tail_page_prepare() looks at entire_mapcount (0 here) before large_mapcount (2).
  EXPECT_EQ(v->field, "nonzero large_mapcount");
  EXPECT_EQ(v->actual, 2);
}

TEST(KernelImplementation, CountsAFiredCheckAndLogsItWithTheTreesFileLineAndText) {
  auto k = kernel(v612(2, FolioType::file));
  // syzbot 18bba5153739c29b88c5: 496 PTEs of an order-2 folio.
  k->apply(op(OpKind::add_file_ptes, 1, 0, 496));
  EXPECT_EQ(k->read(Obs::warnings), 1);
  ASSERT_EQ(k->warning_log().size(), 1u);
  const std::string& line = k->warning_log()[0];
  EXPECT_EQ(line.rfind("include/linux/rmap.h:", 0), 0u) << line;
  EXPECT_NE(line.find("VM_WARN_ON_FOLIO(page_folio(page + nr_pages - 1) != folio)"),
            std::string::npos)
      << line;
}

TEST(KernelImplementation, RunsPastTheEndOfTheFolioIntoTheNeighbouringPagesAsTheKernelDoes) {
  auto k = kernel(v612(2, FolioType::file));
  k->apply(op(OpKind::add_file_ptes, 1, 0, 496));
  // _large_mapcount grows by 496 and every one of the 496 struct pages got a mapping.
  EXPECT_EQ(k->read(Obs::folio_mapcount), 496);
  EXPECT_EQ(k->read(Obs::nr_pages_mapped), 496);
  EXPECT_EQ(k->read(Obs::nr_file_mapped), 496);
}

TEST(KernelImplementation, NotesButDoesNotRunARangeBeyondTheSimulatedMemmap) {
  auto k = kernel(v612(2, FolioType::file));
  k->apply(op(OpKind::add_file_ptes, 1, 0x7fffffffu, 0x7fffffffu));
  EXPECT_EQ(k->read(Obs::warnings), 0);
  EXPECT_EQ(k->read(Obs::folio_mapcount), 0);
  ASSERT_EQ(k->warning_log().size(), 1u);
  EXPECT_NE(k->warning_log()[0].find("not run"), std::string::npos);
}

TEST(KernelImplementation, DupFilePmdAddsHpagePmdNrPteMappingsNotAnEntireMapping) {
  auto k = kernel(v612(2, FolioType::file));  // pmd_order=2: PMD-sized
  k->apply(op(OpKind::add_file_pmd, 1));
  k->apply(op(OpKind::dup_file_pmd, 2));
  EXPECT_EQ(k->read(Obs::entire_mapcount), 1);
  EXPECT_EQ(k->read(Obs::folio_mapcount), 1 + 4);
  for (uint32_t p = 0; p < 4; p++) EXPECT_EQ(k->read(Obs::page_mapcount, p), 2) << p;
  // The per-page counts moved without _nr_pages_mapped: the tree's own invariant no longer holds.
  const auto v = k->check_invariants({0, 4}, true);
  ASSERT_TRUE(v);
  EXPECT_EQ(v->field, "nr_pages_mapped_recount");
}

// docs/kernel.md: a PMD mapping duplicated as PTEs and later removed as the PMD the child believes
// it holds. The tree notices nothing; its counters end below their biases.
TEST(KernelImplementation, UnmappingBothPmdsAfterADupFilePmdUnderflowsTheCountersWithoutAWarning) {
  auto k = kernel(v612(2, FolioType::file));
  k->apply(op(OpKind::add_file_pmd, 1));
  k->apply(op(OpKind::dup_file_pmd, 2));
  k->apply(op(OpKind::remove_pmd, 1));
  k->apply(op(OpKind::remove_pmd, 2));
  EXPECT_EQ(k->read(Obs::entire_mapcount), -1);
  EXPECT_EQ(k->read(Obs::folio_mapcount), 3);
  EXPECT_EQ(k->read(Obs::nr_file_mapped), -4);
  EXPECT_EQ(k->read(Obs::nr_file_pmdmapped), -4);
  EXPECT_EQ(k->read(Obs::warnings), 0);
  const auto v = k->check_invariants({0, 4}, true);
  ASSERT_TRUE(v);
  EXPECT_EQ(v->field, "raw_entire_mapcount");
}

TEST(KernelImplementation, APinnedLargeFolioRefusesToShareAnExclusivePage) {
  auto k = kernel(v612(2, FolioType::anon));
  Op add = op(OpKind::add_anon_ptes, 1, 0, 4);
  add.exclusive = true;
  k->apply(add);
  k->apply(op(OpKind::gup_pin, 1));
  EXPECT_EQ(k->read(Obs::pincount), 1);
  EXPECT_EQ(k->read(Obs::maybe_dma_pinned), 1);
  Op share = op(OpKind::try_share_anon_pte, 0, 3);
  k->apply(share);
  EXPECT_EQ(k->read(Obs::ret), -kEBUSY);
  EXPECT_EQ(k->read(Obs::anon_exclusive, 3), 1);
  k->apply(op(OpKind::gup_unpin, 0));
  k->apply(share);
  EXPECT_EQ(k->read(Obs::ret), 0);
  EXPECT_EQ(k->read(Obs::anon_exclusive, 3), 0);
  EXPECT_EQ(k->read(Obs::warnings), 0);
}

TEST(KernelImplementation, PartialUnmapOfAnAnonFolioSetsTheStickyPartiallyMappedFlag) {
  auto k = kernel(v612(3, FolioType::anon));
  k->apply(op(OpKind::add_anon_ptes, 1, 0, 8));
  k->apply(op(OpKind::remove_ptes, 1, 0, 2));
  EXPECT_EQ(k->read(Obs::partially_mapped), 1);
  EXPECT_EQ(k->read(Obs::nr_anon_mapped), 6);
  k->apply(op(OpKind::remove_ptes, 1, 2, 6));
  EXPECT_EQ(k->read(Obs::partially_mapped), 1);
  EXPECT_EQ(k->read(Obs::nr_anon_mapped), 0);
  EXPECT_FALSE(k->check_free());
}

}  // namespace
}  // namespace foliocheck

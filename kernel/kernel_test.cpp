// Unit tests of the kernel implementations: each tree's rmap code behind foliocheck's Implementation.
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <string>

#include "core/implementation.h"
#include "impl/registry.h"
#include "trace/trace.h"
#include "impl/kernel_hook.h"
#include "kernel/kernel_fault.h"

namespace foliocheck {
namespace {

Setup v612(int order, FolioType type, bool hugetlb = false) {
  return make_setup(Semantics::v6_12, 64, order, type, hugetlb);
}

Op op(OpKind kind, uint32_t mm, uint32_t page = 0, uint32_t nr = 1) {
  return make_op(kind, mm, page, nr);
}

Setup setup_of(Semantics sem, int bits, int order, FolioType type, bool hugetlb = false) {
  Setup s = v612(order, type, hugetlb);
  s.config.semantics = sem;
  s.config.bits = bits;
  return s;
}

// `kernel`: whichever tree built in supports the setup. nullptr (and the test skips) when no
// tree of this build does, e.g. a build with only a 6.12 tree asked for semantics=mm-id.
std::unique_ptr<Implementation> kernel(const Setup& s) {
  auto impl = make_implementation("kernel");
  if (!impl || !impl->supports(s)) return nullptr;
  impl->reset(s);
  return impl;
}

#define KERNEL_OR_SKIP(k, setup)                                                   \
  auto k = kernel(setup);                                                          \
  if (!k) GTEST_SKIP() << "no kernel tree of this build supports the setup"

TEST(KernelImplementation, EachTreeIsListedUnderItsOwnNameAndKernelStandsForAllOfThem) {
  const auto trees = kernel_implementation_names();
  ASSERT_FALSE(trees.empty());
  const auto names = implementation_names();
  for (std::string_view tree : trees) {
    EXPECT_NE(std::find(names.begin(), names.end(), tree), names.end()) << tree;
  }
  EXPECT_EQ(std::find(names.begin(), names.end(), "kernel"), names.end());
  // Every tree that supports the setup: 6.12-style trees take v6.12, 7.x trees the others.
  size_t serving = 0;
  for (std::string_view tree : trees) serving += make_implementation(tree)->supports(v612(2, FolioType::anon));
  const std::vector<std::string> alias = {"kernel"};
  EXPECT_EQ(choose_implementations(v612(2, FolioType::anon), alias).names.size(), serving);
  EXPECT_NE(make_implementation("kernel"), nullptr);
}

TEST(KernelImplementation, ATreeSupportsOnlyTheSemanticsOfItsStyleAtBothWordSizes) {
  for (std::string_view tree : kernel_implementation_names()) {
    auto impl = make_implementation(tree);
    ASSERT_NE(impl, nullptr);
    const bool old_style = impl->supports(v612(2, FolioType::anon));
    foliocheck::Setup s = v612(2, FolioType::anon);
    s.config.bits = 32;
    EXPECT_EQ(impl->supports(s), old_style) << tree;
    for (Semantics sem : {Semantics::mm_id, Semantics::no_page_mapcount, Semantics::no_mm_id})
      for (int bits : {64, 32})
        EXPECT_EQ(impl->supports(setup_of(sem, bits, 2, FolioType::file)), !old_style) << tree;
  }
}

TEST(KernelImplementation, AFreshFolioReadsUnmappedAndPassesTheTreesFreeChecks) {
  for (Semantics sem : {Semantics::v6_12, Semantics::mm_id, Semantics::no_page_mapcount,
                        Semantics::no_mm_id})
    for (int bits : {64, 32})
      for (int order : {0, 1, 2, 3}) {
        auto k = kernel(setup_of(sem, bits, order, FolioType::file));
        if (!k) continue;
        const std::string what = std::string(k->name()) + " " +
                                 std::string(semantics_name(sem)) + "-" + std::to_string(bits) +
                                 " order " + std::to_string(order);
        EXPECT_EQ(k->read(Obs::folio_mapcount), 0) << what;
        EXPECT_EQ(k->read(Obs::warnings), 0) << what;
        EXPECT_FALSE(k->check_free()) << what;
        EXPECT_FALSE(k->check_invariants({0, 1u << order}, true)) << what;
      }
}

TEST(KernelImplementation, AMappedFolioFailsTheFreeCheckThatTheTreeRunsFirst) {
  KERNEL_OR_SKIP(k, v612(2, FolioType::file));
  k->apply(op(OpKind::add_file_ptes, 1, 1, 2));
  const auto v = k->check_free();
  ASSERT_TRUE(v);
  // free_tail_page_prepare() looks at entire_mapcount (0 here) before large_mapcount (2).
  EXPECT_EQ(v->field, "nonzero large_mapcount");
  EXPECT_EQ(v->actual, 2);
}

TEST(KernelImplementation, CountsAFiredCheckAndLogsItWithTheTreesFileLineAndText) {
  KERNEL_OR_SKIP(k, v612(2, FolioType::file));
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
  KERNEL_OR_SKIP(k, v612(2, FolioType::file));
  k->apply(op(OpKind::add_file_ptes, 1, 0, 496));
  // _large_mapcount grows by 496 and every one of the 496 struct pages got a mapping.
  EXPECT_EQ(k->read(Obs::folio_mapcount), 496);
  EXPECT_EQ(k->read(Obs::nr_pages_mapped), 496);
  EXPECT_EQ(k->read(Obs::nr_file_mapped), 496);
}

TEST(KernelImplementation, NotesButDoesNotRunARangeBeyondTheSimulatedMemmap) {
  KERNEL_OR_SKIP(k, v612(2, FolioType::file));
  k->apply(op(OpKind::add_file_ptes, 1, 0x7fffffffu, 0x7fffffffu));
  EXPECT_EQ(k->read(Obs::warnings), 0);
  EXPECT_EQ(k->read(Obs::folio_mapcount), 0);
  ASSERT_EQ(k->warning_log().size(), 1u);
  EXPECT_NE(k->warning_log()[0].find("not run"), std::string::npos);
}

TEST(KernelImplementation, DupFilePmdAddsHpagePmdNrPteMappingsNotAnEntireMapping) {
  KERNEL_OR_SKIP(k, v612(2, FolioType::file));  // pmd_order=2: PMD-sized
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
  KERNEL_OR_SKIP(k, v612(2, FolioType::file));
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
  KERNEL_OR_SKIP(k, v612(2, FolioType::anon));
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
  KERNEL_OR_SKIP(k, v612(3, FolioType::anon));
  k->apply(op(OpKind::add_anon_ptes, 1, 0, 8));
  k->apply(op(OpKind::remove_ptes, 1, 0, 2));
  EXPECT_EQ(k->read(Obs::partially_mapped), 1);
  EXPECT_EQ(k->read(Obs::nr_anon_mapped), 6);
  k->apply(op(OpKind::remove_ptes, 1, 2, 6));
  EXPECT_EQ(k->read(Obs::partially_mapped), 1);
  EXPECT_EQ(k->read(Obs::nr_anon_mapped), 0);
  EXPECT_FALSE(k->check_free());
}

// 7.x on 32-bit: mm_id_mapcount_t is a short. One mm mapping every page of an order-15 folio
// and then one page again overflows its slot, which the tree frees and marks the folio shared.
TEST(KernelImplementation, A32BitSlotThatOverflowsItsShortIsFreedAndTheFolioMarkedShared) {
  foliocheck::Setup s = setup_of(Semantics::mm_id, 32, 15, FolioType::file);
  s.config.pud_order = 16;
  KERNEL_OR_SKIP(k, s);
  k->apply(op(OpKind::add_file_ptes, 1, 0, 1u << 15));
  EXPECT_EQ(k->read(Obs::mm_id, 0), 1);
  EXPECT_EQ(k->read(Obs::mm_id_mapcount, 0), 1 << 15);
  EXPECT_EQ(k->read(Obs::shared_bit), 0);
  EXPECT_EQ(k->read(Obs::maybe_mapped_shared), 0);
  k->apply(op(OpKind::add_file_ptes, 1, 0, 1));
  EXPECT_EQ(k->read(Obs::folio_mapcount), (1 << 15) + 1);
  EXPECT_EQ(k->read(Obs::mm_id, 0), 0);
  EXPECT_EQ(k->read(Obs::mm_id_mapcount, 0), 0);
  EXPECT_EQ(k->read(Obs::shared_bit), 1);
  EXPECT_EQ(k->read(Obs::maybe_mapped_shared), 1);
  EXPECT_EQ(k->read(Obs::warnings), 0);
  // The same on 64-bit: an int slot just counts on.
  foliocheck::Setup s64 = s;
  s64.config.bits = 64;
  KERNEL_OR_SKIP(k64, s64);
  k64->apply(op(OpKind::add_file_ptes, 1, 0, 1u << 15));
  k64->apply(op(OpKind::add_file_ptes, 1, 0, 1));
  EXPECT_EQ(k64->read(Obs::mm_id, 0), 1);
  EXPECT_EQ(k64->read(Obs::mm_id_mapcount, 0), (1 << 15) + 1);
  EXPECT_EQ(k64->read(Obs::maybe_mapped_shared), 0);
}

// 7.x without THP (so without CONFIG_MM_ID): the PMD helpers are WARN_ON_ONCE stubs, which is
// why the legality rules refuse PMD calls there (replay --allow-invalid still runs them).
TEST(KernelImplementation, WithoutThpThePmdHelpersAreWarnStubs) {
  KERNEL_OR_SKIP(k, setup_of(Semantics::no_mm_id, 64, 2, FolioType::file));
  k->apply(op(OpKind::add_file_ptes, 1, 0, 4));
  k->apply(op(OpKind::add_file_pmd, 2));
  EXPECT_EQ(k->read(Obs::warnings), 1);
  ASSERT_EQ(k->warning_log().size(), 1u);
  EXPECT_NE(k->warning_log()[0].find("WARN_ON_ONCE(true)"), std::string::npos)
      << k->warning_log()[0];
  EXPECT_EQ(k->read(Obs::folio_mapcount), 4);
  EXPECT_FALSE(k->models(Obs::mm_id));
}

// Without THP there are no large anon folios (and no deferred split): no tree takes the setup.
TEST(KernelImplementation, WithoutThpNoTreeTakesALargeAnonFolio) {
  for (std::string_view tree : kernel_implementation_names())
    EXPECT_FALSE(make_implementation(tree)->supports(setup_of(Semantics::no_mm_id, 64, 3, FolioType::anon)))
        << tree;
}

// PageAnonExclusive() of any page of a hugetlb folio is the head page's bit: the kernel's reader
// answers 1 for a tail page whose own bit is clear.
TEST(KernelImplementation, PageAnonExclusiveOfAHugetlbTailReadsTheHead) {
  for (Semantics sem : {Semantics::v6_12, Semantics::mm_id, Semantics::no_page_mapcount})
    for (int bits : {64, 32}) {
      auto k = kernel(setup_of(sem, bits, 2, FolioType::anon, true));
      if (!k) continue;
      k->apply(op(OpKind::hugetlb_add_new_anon, 1));
      for (uint32_t p = 0; p < 4; p++) EXPECT_EQ(k->read(Obs::anon_exclusive, p), 1) << p;
      EXPECT_EQ(k->read(Obs::warnings), 0);
    }
}

// 32-bit 7.x: an order-1 folio has no page 2, so no _entire_mapcount and no _pincount; a pin is
// GUP_PIN_COUNTING_BIAS references.
TEST(KernelImplementation, A32BitOrder1FolioHasNoEntireMapcountAndPinsByReferences) {
  KERNEL_OR_SKIP(k, setup_of(Semantics::mm_id, 32, 1, FolioType::anon));
  EXPECT_FALSE(k->models(Obs::pincount));
  k->apply(op(OpKind::add_anon_ptes, 1, 0, 2));
  EXPECT_EQ(k->read(Obs::entire_mapcount), 0);
  k->apply(op(OpKind::gup_pin, 1));
  EXPECT_EQ(k->read(Obs::maybe_dma_pinned), 1);
  k->apply(op(OpKind::gup_unpin, 0));
  EXPECT_EQ(k->read(Obs::maybe_dma_pinned), 0);
  EXPECT_FALSE(k->check_invariants({0, 2}, true));
}

// CONFIG_NO_PAGE_MAPCOUNT: no per-page counts, folio_nr_pages_mapped() answers -1.
TEST(KernelImplementation, WithoutPageMapcountThereAreNoPerPageCounts) {
  KERNEL_OR_SKIP(k, setup_of(Semantics::no_page_mapcount, 64, 2, FolioType::file));
  EXPECT_FALSE(k->models(Obs::page_mapcount));
  k->apply(op(OpKind::add_file_ptes, 1, 1, 2));
  EXPECT_EQ(k->read(Obs::nr_pages_mapped), -1);
  EXPECT_EQ(k->read(Obs::folio_mapcount), 2);
  EXPECT_EQ(k->read(Obs::nr_file_mapped), 4);  // the whole folio counts once it is mapped
  EXPECT_FALSE(k->check_invariants({0, 4}, true));
}

// ---- kernel_impl.cpp's own checks, each made to fire by a fault planted in the tree's folio ----
// (kernel/kernel_fault.h; tests/check-inventory.py counts these as the tests that fire them).

// Every variant of every tree built in, reset to the setup of `sem`, `bits`, `order`, `type`.
template <class Body>
int for_each_variant(int order, FolioType type, Body body) {
  int ran = 0;
  for (std::string_view tree : kernel_implementation_names())
    for (Semantics sem :
         {Semantics::v6_12, Semantics::mm_id, Semantics::no_page_mapcount, Semantics::no_mm_id})
      for (int bits : {64, 32}) {
        const foliocheck::Setup s = setup_of(sem, bits, order, type);
        auto k = make_implementation(tree);
        if (!k->supports(s)) continue;
        k->reset(s);
        const std::string what =
            std::string(tree) + " " + std::string(semantics_name(sem)) + "-" + std::to_string(bits);
        ran += body(*k, s, what);
      }
  return ran;
}

TEST(EveryKernelCheckFires, AHeadPageThatLostPgHeadMakesTheReadersOwnCheckFire) {
  const int fired = for_each_variant(
      2, FolioType::file, [](Implementation& k, const foliocheck::Setup&, const std::string& what) {
        k.apply(op(OpKind::add_file_ptes, 1, 1, 2));
        k.apply(op(OpKind::remove_ptes, 1, 1, 2));
        EXPECT_FALSE(k.check_free()) << what;
        EXPECT_FALSE(k.check_invariants({0, 4}, true)) << what;
        EXPECT_TRUE(plant_kernel_fault_for_test(k, KernelFault::head_not_large));
        // free_pages_prepare() reads the folio through folio_large_mapcount(), whose
        // VM_WARN_ON_FOLIO(!folio_test_large(folio)) now fires inside the read.
        (void)k.check_free();
        const auto v = k.check_invariants({0, 4}, true);
        EXPECT_TRUE(v) << what;
        if (!v) return 0;
        EXPECT_EQ(v->field, "read_helper_warned") << what;
        EXPECT_GE(v->actual, 1) << what;
        return 1;
      });
  EXPECT_GT(fired, 0);
}

TEST(EveryKernelCheckFires, PgPartiallyMappedOnAFileFolioIsNamed) {
  const int fired = for_each_variant(
      2, FolioType::file, [](Implementation& k, const foliocheck::Setup&, const std::string& what) {
        k.apply(op(OpKind::add_file_ptes, 1, 0, 4));
        k.apply(op(OpKind::remove_ptes, 1, 0, 2));
        // deferred_split_folio() ignores file folios: a partial unmap leaves the flag clear.
        EXPECT_EQ(k.read(Obs::partially_mapped), 0) << what;
        EXPECT_FALSE(k.check_invariants({0, 4}, true)) << what;
        EXPECT_TRUE(plant_kernel_fault_for_test(k, KernelFault::partially_mapped));
        if (!k.read(Obs::partially_mapped)) return 0;  // a configuration without the flag (THP=n)
        const auto v = k.check_invariants({0, 4}, true);
        EXPECT_TRUE(v) << what;
        if (!v) return 0;
        EXPECT_EQ(v->field, "partially_mapped") << what;
        return 1;
      });
  EXPECT_GT(fired, 0);
}

TEST(EveryKernelCheckFires, PageAnonExclusiveOnAPageTwoMmsMapIsNamedWithThePage) {
  const int fired = for_each_variant(
      2, FolioType::anon,
      [](Implementation& k, const foliocheck::Setup& s, const std::string& what) {
        if (!s.has_page_mapcount()) return 0;  // the check reads the per-page counts
        // fork(): the child's PTEs dup the parent's exclusive ones, which loses PageAnonExclusive.
        Op add = op(OpKind::add_anon_ptes, 1, 0, 4);
        add.exclusive = true;
        k.apply(add);
        k.apply(make_op(OpKind::try_dup_anon_ptes, 2, 0, 4, false, 1));
        EXPECT_EQ(k.read(Obs::ret), 0) << what;
        EXPECT_EQ(k.read(Obs::page_mapcount, 3), 2) << what;
        EXPECT_EQ(k.read(Obs::anon_exclusive, 3), 0) << what;
        EXPECT_EQ(k.read(Obs::warnings), 0) << what;
        EXPECT_FALSE(k.check_invariants({0, 4}, true)) << what;
        EXPECT_TRUE(plant_kernel_fault_for_test(k, KernelFault::anon_exclusive, 3));
        const auto v = k.check_invariants({3, 4}, false);
        EXPECT_TRUE(v) << what;
        if (!v) return 0;
        EXPECT_EQ(v->field, std::string("anon_exclusive_mapped_once[") + "3]") << what;
        EXPECT_EQ(v->actual, 2) << what;
        return 1;
      });
  EXPECT_GT(fired, 0);
}

TEST(EveryKernelCheckFires, ANrMappedStatisticOneTooHighIsNamed) {
  int fired = 0;
  for (FolioType type : {FolioType::file, FolioType::anon})
    fired += for_each_variant(
        2, type, [type](Implementation& k, const foliocheck::Setup& s, const std::string& what) {
          if (!s.has_page_mapcount()) return 0;  // the recount counts pages by their _mapcount
          Op add =
              op(type == FolioType::anon ? OpKind::add_anon_ptes : OpKind::add_file_ptes, 1, 1, 2);
          add.exclusive = type == FolioType::anon;
          k.apply(add);
          const Obs stat = type == FolioType::anon ? Obs::nr_anon_mapped : Obs::nr_file_mapped;
          EXPECT_EQ(k.read(stat), 2) << what;
          EXPECT_FALSE(k.check_invariants({0, 4}, true)) << what;
          EXPECT_TRUE(plant_kernel_fault_for_test(k, KernelFault::mapped_stat));
          EXPECT_EQ(k.read(stat), 3) << what;
          const auto v = k.check_invariants({0, 4}, true);
          EXPECT_TRUE(v) << what;
          if (!v) return 0;
          EXPECT_EQ(v->field, "mapped_stat_recount") << what;
          EXPECT_EQ(v->expected, 2) << what;
          EXPECT_EQ(v->actual, 3) << what;
          return 1;
        });
  EXPECT_GT(fired, 0);
}

TEST(EveryKernelCheckFires, APlantedFaultIsForgottenByResetAndRefusedByOtherImplementations) {
  const int ran =
      for_each_variant(2, FolioType::file,
                       [](Implementation& k, const foliocheck::Setup& s, const std::string& what) {
                         k.apply(op(OpKind::add_file_ptes, 1, 0, 1));
                         EXPECT_TRUE(plant_kernel_fault_for_test(k, KernelFault::mapped_stat));
                         k.reset(s);
                         EXPECT_EQ(k.read(Obs::nr_file_mapped), 0) << what;
                         EXPECT_FALSE(k.check_invariants({0, 4}, true)) << what;
                         return 1;
                       });
  EXPECT_GT(ran, 0);
  auto encoding = make_implementation(implementation_names().front());
  ASSERT_NE(encoding, nullptr);
  EXPECT_FALSE(plant_kernel_fault_for_test(*encoding, KernelFault::mapped_stat));
}

}  // namespace
}  // namespace foliocheck

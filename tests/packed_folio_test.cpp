// Claims about the bit-packed encodings: kernel outcomes, warnings, free checks, mutants.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <initializer_list>
#include <memory>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/alphabet.h"
#include "core/differential.h"
#include "core/implementation.h"
#include "impl/mutants.h"
#include "impl/registry.h"
#include "tests/test_support.h"

namespace foliocheck {
namespace {

constexpr std::string_view kEncodings[] = {
    "v6.12-64",
    "v6.12-32",
    "mm-id-64",
    "mm-id-32",
    "no-page-mapcount-64",
    "no-page-mapcount-32",
    "no-mm-id-64",
    "no-mm-id-32",
};

struct Shape {
  int order = 2;
  FolioType type = FolioType::file;
  int pmd_order = 9;
  int pud_order = 18;
  bool hugetlb = false;
};

Setup setup_for(std::string_view encoding, const Shape& shape) {
  const size_t dash = encoding.rfind('-');
  Setup setup;
  setup.config.semantics = *semantics_from_name(encoding.substr(0, dash));
  setup.config.bits = encoding.substr(dash + 1) == "32" ? 32 : 64;
  setup.config.pmd_order = shape.pmd_order;
  setup.config.pud_order = shape.pud_order;
  setup.folio.order = shape.order;
  setup.folio.type = shape.type;
  setup.folio.hugetlb = shape.hugetlb;
  return setup;
}

Op op(OpKind k, uint32_t mm = 1, uint32_t page = 0, uint32_t nr = 1, bool excl = false,
      uint32_t src = 0) {
  return make_op(k, mm, page, nr, excl, src);
}

std::unique_ptr<Implementation> run(std::string_view encoding, const Shape& shape,
                                    const std::vector<Op>& ops) {
  auto impl = make_implementation(encoding);
  const Setup setup = setup_for(encoding, shape);
  EXPECT_TRUE(impl->supports(setup)) << encoding;
  impl->reset(setup);
  for (const Op& o : ops) impl->apply(o);
  return impl;
}

// Every modelled observable at every index, as `expect` would spell it.
std::vector<std::pair<std::string, int64_t>> observe(const Implementation& impl,
                                                     uint32_t nr_pages) {
  std::vector<std::pair<std::string, int64_t>> seen;
  for (int i = 0; i < kNumObs; i++) {
    const auto obs = static_cast<Obs>(i);
    if (!impl.models(obs)) continue;
    const std::string name(obs_info(obs).name);
    if (!obs_info(obs).indexed) {
      seen.emplace_back(name, impl.read(obs));
      continue;
    }
    const uint32_t count = (obs == Obs::mm_id || obs == Obs::mm_id_mapcount) ? 2 : nr_pages;
    for (uint32_t idx = 0; idx < count; idx++)
      seen.emplace_back(name + "[" + std::to_string(idx) + "]", impl.read(obs, idx));
  }
  return seen;
}

bool log_mentions(const Implementation& impl, std::string_view tag) {
  const auto log = impl.warning_log();
  return std::any_of(log.begin(), log.end(),
                     [&](const std::string& line) { return line.rfind(tag, 0) == 0; });
}

TEST(PackedFolio, EveryEncodingIsRegisteredAndSupportsOnlyItsOwnConfiguration) {
  const auto names = implementation_names();
  for (std::string_view encoding : kEncodings) {
    EXPECT_NE(std::find(names.begin(), names.end(), encoding), names.end()) << encoding;
    auto impl = make_implementation(encoding);
    ASSERT_NE(impl, nullptr) << encoding;
    EXPECT_EQ(impl->name(), encoding);
    for (std::string_view other : kEncodings)
      EXPECT_EQ(impl->supports(setup_for(other, Shape{})), other == encoding)
          << encoding << " " << other;
  }
  EXPECT_EQ(make_implementation("no-such-encoding"), nullptr);
}

TEST(PackedFolio, ThreeMmsLeaveTheSharedBitSetWhileOneMmStillMapsTwice) {
  // Spec 5.2 (a): A and B take the slots, C gets none; after A and B leave, only C maps.
  auto impl = run("mm-id-64", Shape{.order = 2},
                  {
                      op(OpKind::add_file_ptes, 1, 0, 1),
                      op(OpKind::add_file_ptes, 2, 1, 1),
                      op(OpKind::add_file_ptes, 3, 2, 2),
                      op(OpKind::remove_ptes, 1, 0, 1),
                      op(OpKind::remove_ptes, 2, 1, 1),
                  });
  EXPECT_EQ(impl->read(Obs::folio_mapcount), 2);
  EXPECT_EQ(impl->read(Obs::mm_id, 0), 0);
  EXPECT_EQ(impl->read(Obs::mm_id, 1), 0);
  EXPECT_EQ(impl->read(Obs::shared_bit), 1);
  EXPECT_EQ(impl->read(Obs::maybe_mapped_shared), 1);
  EXPECT_EQ(impl->check_invariants({0, 4}, true), std::nullopt);

  // C's later unmaps cannot clear the bit until nothing is mapped.
  impl->apply(op(OpKind::remove_ptes, 3, 2, 1));
  EXPECT_EQ(impl->read(Obs::shared_bit), 1);
  EXPECT_EQ(impl->read(Obs::maybe_mapped_shared), 0);  // a single mapping reads exclusive
  impl->apply(op(OpKind::remove_ptes, 3, 3, 1));
  EXPECT_EQ(impl->read(Obs::shared_bit), 0);
  EXPECT_EQ(impl->read(Obs::warnings), 0);
}

TEST(PackedFolio, TwoMmsNeverLeaveAFalseSharedBit) {
  auto impl = run("mm-id-64", Shape{.order = 2},
                  {
                      op(OpKind::add_file_ptes, 1, 0, 2),
                      op(OpKind::add_file_ptes, 2, 2, 1),
                      op(OpKind::remove_ptes, 2, 2, 1),
                  });
  EXPECT_EQ(impl->read(Obs::shared_bit), 0);
  EXPECT_EQ(impl->read(Obs::mm_id, 0), 1);
  EXPECT_EQ(impl->read(Obs::mm_id_mapcount, 0), 2);
}

TEST(PackedFolio, ThirtyTwoBitSlotOverflowFreesTheSlotAndMarksTheFolioShared) {
  for (std::string_view encoding : {"mm-id-32", "no-page-mapcount-32"}) {
    auto impl = run(encoding, Shape{.order = 15}, {op(OpKind::add_file_ptes, 1, 0, 32768)});
    EXPECT_EQ(impl->read(Obs::mm_id, 0), 1) << encoding;
    EXPECT_EQ(impl->read(Obs::mm_id_mapcount, 0), 32768) << encoding;
    EXPECT_EQ(impl->read(Obs::shared_bit), 0) << encoding;

    impl->apply(op(OpKind::add_file_ptes, 1, 0, 1));
    EXPECT_EQ(impl->read(Obs::folio_mapcount), 32769) << encoding;
    EXPECT_EQ(impl->read(Obs::mm_id, 0), 0) << encoding;
    EXPECT_EQ(impl->read(Obs::mm_id_mapcount, 0), 0) << encoding;
    EXPECT_EQ(impl->read(Obs::shared_bit), 1) << encoding;
    EXPECT_EQ(impl->read(Obs::maybe_mapped_shared), 1) << encoding;
    EXPECT_EQ(impl->read(Obs::warnings), 0) << encoding;
    EXPECT_EQ(impl->check_invariants({0, 0}, true), std::nullopt) << encoding;
  }
  // An int slot does not wrap.
  auto impl = run("mm-id-64", Shape{.order = 15},
                  {op(OpKind::add_file_ptes, 1, 0, 32768), op(OpKind::add_file_ptes, 1, 0, 1)});
  EXPECT_EQ(impl->read(Obs::mm_id_mapcount, 0), 32769);
  EXPECT_EQ(impl->read(Obs::shared_bit), 0);
}

TEST(PackedFolio, NewAnonSmallFolioIsOneExclusiveMapping) {
  for (std::string_view encoding : kEncodings) {
    auto impl = run(encoding, Shape{.order = 0, .type = FolioType::anon},
                    {op(OpKind::add_new_anon, 1, 0, 1, true)});
    EXPECT_EQ(impl->read(Obs::folio_mapcount), 1) << encoding;
    EXPECT_EQ(impl->read(Obs::nr_anon_mapped), 1) << encoding;
    EXPECT_EQ(impl->read(Obs::nr_anon_thps), 0) << encoding;
    EXPECT_EQ(impl->read(Obs::anon_exclusive, 0), 1) << encoding;
    EXPECT_EQ(impl->read(Obs::warnings), 0) << encoding;
  }
}

TEST(PackedFolio, NewAnonMthpBelowPmdOrderMapsEveryPageOnce) {
  for (std::string_view encoding : kEncodings) {
    const bool page_mapcount = encoding.rfind("no-page-mapcount", 0) != 0;
    auto impl = run(encoding, Shape{.order = 2, .type = FolioType::anon, .pmd_order = 3},
                    {op(OpKind::add_new_anon, 7, 0, 1, true)});
    EXPECT_EQ(impl->read(Obs::folio_mapcount), 4) << encoding;
    EXPECT_EQ(impl->read(Obs::entire_mapcount), 0) << encoding;
    EXPECT_EQ(impl->read(Obs::nr_pages_mapped), page_mapcount ? 4 : -1) << encoding;
    EXPECT_EQ(impl->read(Obs::nr_anon_mapped), 4) << encoding;
    EXPECT_EQ(impl->read(Obs::nr_anon_thps), 0) << encoding;
    for (uint32_t i = 0; i < 4; i++) {
      EXPECT_EQ(impl->read(Obs::anon_exclusive, i), 1) << encoding;
      if (page_mapcount) {
        EXPECT_EQ(impl->read(Obs::page_mapcount, i), 1) << encoding;
      }
    }
    if (impl->models(Obs::mm_id)) {
      EXPECT_EQ(impl->read(Obs::mm_id, 0), 7) << encoding;
      EXPECT_EQ(impl->read(Obs::mm_id_mapcount, 0), 4) << encoding;
      EXPECT_EQ(impl->read(Obs::shared_bit), 0) << encoding;
    }
    EXPECT_EQ(impl->read(Obs::warnings), 0) << encoding;
    EXPECT_EQ(impl->check_invariants({0, 4}, true), std::nullopt) << encoding;
  }
}

TEST(PackedFolio, NewAnonPmdSizedFolioIsOneEntireMappingWithOnlyTheHeadExclusive) {
  for (std::string_view encoding : kEncodings) {
    const bool page_mapcount = encoding.rfind("no-page-mapcount", 0) != 0;
    auto impl = run(encoding, Shape{.order = 2, .type = FolioType::anon, .pmd_order = 2},
                    {op(OpKind::add_new_anon, 7, 0, 1, true)});
    EXPECT_EQ(impl->read(Obs::folio_mapcount), 1) << encoding;
    EXPECT_EQ(impl->read(Obs::entire_mapcount), 1) << encoding;
    EXPECT_EQ(impl->read(Obs::nr_anon_mapped), 4) << encoding;
    EXPECT_EQ(impl->read(Obs::nr_anon_thps), 4) << encoding;
    EXPECT_EQ(impl->read(Obs::anon_exclusive, 0), 1) << encoding;
    EXPECT_EQ(impl->read(Obs::anon_exclusive, 1), 0) << encoding;
    if (page_mapcount) {
      EXPECT_EQ(impl->read(Obs::entirely_mapped), 1) << encoding;
      EXPECT_EQ(impl->read(Obs::nr_pages_mapped), 0) << encoding;
      EXPECT_EQ(impl->read(Obs::page_mapcount, 3), 1) << encoding;
    }
    if (impl->models(Obs::mm_id)) {
      EXPECT_EQ(impl->read(Obs::mm_id_mapcount, 0), 1) << encoding;
    }
    EXPECT_EQ(impl->read(Obs::warnings), 0) << encoding;
    EXPECT_EQ(impl->check_invariants({0, 4}, true), std::nullopt) << encoding;
  }
}

TEST(PackedFolio, PmdThenPteThenPmdUnmapAccountsEachPageOnce) {
  for (std::string_view encoding : kEncodings) {
    const bool page_mapcount = encoding.rfind("no-page-mapcount", 0) != 0;
    auto impl = run(encoding, Shape{.order = 2, .type = FolioType::anon, .pmd_order = 2},
                    {
                        op(OpKind::add_anon_pmd, 1),
                        op(OpKind::add_anon_ptes, 1, 1, 2),
                    });
    EXPECT_EQ(impl->read(Obs::nr_anon_mapped), 4) << encoding;
    EXPECT_EQ(impl->read(Obs::nr_anon_thps), 4) << encoding;
    EXPECT_EQ(impl->read(Obs::folio_mapcount), 3) << encoding;
    if (page_mapcount) {
      EXPECT_EQ(impl->read(Obs::page_mapcount, 1), 2) << encoding;
    }

    impl->apply(op(OpKind::remove_pmd, 1));
    // Pages 1 and 2 stay accounted (all four under NO_PAGE_MAPCOUNT), and the folio is partial.
    EXPECT_EQ(impl->read(Obs::nr_anon_mapped), page_mapcount ? 2 : 4) << encoding;
    EXPECT_EQ(impl->read(Obs::nr_anon_thps), 0) << encoding;
    EXPECT_EQ(impl->read(Obs::partially_mapped), 1) << encoding;

    impl->apply(op(OpKind::remove_ptes, 1, 1, 2));
    EXPECT_EQ(impl->read(Obs::nr_anon_mapped), 0) << encoding;
    EXPECT_EQ(impl->read(Obs::folio_mapcount), 0) << encoding;
    EXPECT_EQ(impl->read(Obs::warnings), 0) << encoding;
    EXPECT_EQ(impl->check_invariants({0, 4}, true), std::nullopt) << encoding;
  }
}

TEST(PackedFolio, NoPageMapcountAccountsTheWholeFolioFromTheFirstMapping) {
  for (std::string_view encoding : {"no-page-mapcount-64", "no-page-mapcount-32"}) {
    auto impl = run(encoding, Shape{.order = 2, .type = FolioType::anon, .pmd_order = 3},
                    {
                        op(OpKind::add_anon_ptes, 1, 0, 1),
                    });
    EXPECT_EQ(impl->read(Obs::nr_anon_mapped), 4) << encoding;
    EXPECT_EQ(impl->read(Obs::nr_pages_mapped), -1) << encoding;
    EXPECT_FALSE(impl->models(Obs::page_mapcount)) << encoding;
    EXPECT_FALSE(impl->models(Obs::entirely_mapped)) << encoding;
    impl->apply(op(OpKind::add_anon_ptes, 1, 1, 1));
    EXPECT_EQ(impl->read(Obs::nr_anon_mapped), 4) << encoding;
    EXPECT_EQ(impl->read(Obs::average_page_mapcount), 1) << encoding;

    impl->apply(op(OpKind::remove_ptes, 1, 0, 1));
    EXPECT_EQ(impl->read(Obs::nr_anon_mapped), 4) << encoding;
    EXPECT_EQ(impl->read(Obs::partially_mapped), 1) << encoding;  // 0 < 1 mapping < 4 pages

    impl->apply(op(OpKind::remove_ptes, 1, 1, 1));
    EXPECT_EQ(impl->read(Obs::nr_anon_mapped), 0) << encoding;
    EXPECT_EQ(impl->read(Obs::warnings), 0) << encoding;
    EXPECT_EQ(impl->check_invariants({0, 4}, true), std::nullopt) << encoding;
    EXPECT_EQ(impl->check_free(), std::nullopt) << encoding;
  }
}

TEST(PackedFolio, NoPageMapcountMissesPartialMappingsOfFoliosMappedMoreThanNTimes) {
  auto impl = run("no-page-mapcount-64", Shape{.order = 2, .type = FolioType::anon, .pmd_order = 3},
                  {
                      op(OpKind::add_anon_ptes, 1, 0, 4),
                      op(OpKind::try_dup_anon_ptes, 2, 0, 4, false, 1),
                      op(OpKind::remove_ptes, 2, 0, 2),
                  });
  EXPECT_EQ(impl->read(Obs::partially_mapped), 0);
  auto precise = run("mm-id-64", Shape{.order = 2, .type = FolioType::anon, .pmd_order = 3},
                     {
                         op(OpKind::add_anon_ptes, 1, 0, 4),
                         op(OpKind::try_dup_anon_ptes, 2, 0, 4, false, 1),
                         op(OpKind::remove_ptes, 2, 0, 2),
                     });
  EXPECT_EQ(precise->read(Obs::partially_mapped), 0);  // no page became unmapped either
}

TEST(PackedFolio, PinnedFolioDupReturnsEbusyOnlyWhenTheSourceMmHasPinned) {
  for (std::string_view encoding : kEncodings) {
    for (int order : {0, 2}) {
      const Shape shape{.order = order, .type = FolioType::anon, .pmd_order = 3};
      auto pinned = run(encoding, shape,
                        {
                            op(OpKind::add_anon_ptes, 1, 0, 1, true),
                            op(OpKind::gup_pin, 1),
                            op(OpKind::try_dup_anon_ptes, 2, 0, 1, false, 1),
                        });
      EXPECT_EQ(pinned->read(Obs::ret), -kEBUSY) << encoding << " order " << order;
      EXPECT_EQ(pinned->read(Obs::folio_mapcount), 1) << encoding;
      EXPECT_EQ(pinned->read(Obs::anon_exclusive, 0), 1) << encoding;
      EXPECT_EQ(pinned->read(Obs::maybe_dma_pinned), 1) << encoding;

      // Pinned through another mm: the source mm lacks MMF_HAS_PINNED, so the dup shares the page.
      auto other = run(encoding, shape,
                       {
                           op(OpKind::add_anon_ptes, 1, 0, 1, true),
                           op(OpKind::gup_pin, 3),
                           op(OpKind::try_dup_anon_ptes, 2, 0, 1, false, 1),
                       });
      EXPECT_EQ(other->read(Obs::ret), 0) << encoding << " order " << order;
      EXPECT_EQ(other->read(Obs::folio_mapcount), 2) << encoding;
      EXPECT_EQ(other->read(Obs::anon_exclusive, 0), 0) << encoding;
      EXPECT_EQ(other->read(Obs::warnings), 0) << encoding;

      // try_share refuses a pinned page whoever pinned it.
      pinned->apply(op(OpKind::try_share_anon_pte, 1, 0));
      EXPECT_EQ(pinned->read(Obs::ret), -kEBUSY) << encoding;
      pinned->apply(op(OpKind::gup_unpin));
      pinned->apply(op(OpKind::try_share_anon_pte, 1, 0));
      EXPECT_EQ(pinned->read(Obs::ret), 0) << encoding;
      EXPECT_EQ(pinned->read(Obs::anon_exclusive, 0), 0) << encoding;
    }
  }
}

TEST(PackedFolio, StateWordsNameNoMmAndMmStateWordSaysWhichMmIsWhich) {
  // Explore sums per-mm hashes instead of renaming mms: the words must be equal whichever of the
  // searched mms did what, and mm_state_word() must tell the roles apart.
  for (std::string_view encoding : kEncodings) {
    const Shape shape{.order = 2, .type = FolioType::anon, .pmd_order = 3};
    auto as = [&](uint32_t a, uint32_t b) {
      return run(encoding, shape,
                 {
                     op(OpKind::add_anon_ptes, a, 0, 2, true),
                     op(OpKind::add_anon_ptes, b, 2, 1, true),
                     op(OpKind::gup_pin, b),
                 });
    };
    auto one = as(1, 2);
    auto two = as(2, 1);
    const std::array<uint32_t, 2> ids{1, 2};
    const MmCanon canon{ids};
    std::vector<uint64_t> w1(one->state_words({}, canon)), w2(two->state_words({}, canon));
    ASSERT_FALSE(w1.empty()) << encoding;
    ASSERT_EQ(one->state_words(w1, canon), w1.size()) << encoding;
    ASSERT_EQ(two->state_words(w2, canon), w2.size()) << encoding;
    EXPECT_EQ(w1, w2) << encoding << ": the words name an mm";

    const bool slots = one->models(Obs::mm_id);
    // mm 1 took slot 0 and mm 2 slot 1 in `one`; the other way round in `two`. Only mm 2 pinned
    // in `one`, only mm 1 in `two`.
    EXPECT_EQ(one->mm_state_word(1), slots ? 1u : 0u) << encoding;
    EXPECT_EQ(one->mm_state_word(2), slots ? 2u | 4u : 4u) << encoding;
    EXPECT_EQ(two->mm_state_word(1), one->mm_state_word(2)) << encoding;
    EXPECT_EQ(two->mm_state_word(2), one->mm_state_word(1)) << encoding;
    EXPECT_EQ(one->mm_state_word(3), 0u) << encoding << ": an mm it never heard of";
  }
}

TEST(PackedFolio, StateWordsOfMmsOutsideTheSearchTakeTheWideLayoutAndStayApart) {
  // Two 32-bit fields go to a word only while they fit; an mm outside the search is named by a
  // number past 32 bits, so its id and pin take the wide layout, which must keep apart what the
  // compact one would and never equal a compact state's words.
  for (std::string_view encoding : kEncodings) {
    const Shape shape{.order = 2, .type = FolioType::anon, .pmd_order = 3};
    auto by = [&](uint32_t mm) {
      return run(encoding, shape,
                 {op(OpKind::add_anon_ptes, mm, 0, 2, true), op(OpKind::gup_pin, mm)});
    };
    const std::array<uint32_t, 1> ids{1};
    const MmCanon canon{ids};
    auto words = [&](const std::unique_ptr<Implementation>& impl) {
      std::vector<uint64_t> w(impl->state_words({}, canon));
      EXPECT_EQ(impl->state_words(w, canon), w.size()) << encoding;
      return w;
    };
    const std::vector<uint64_t> searched = words(by(1)), two = words(by(2)), three = words(by(3));
    EXPECT_GT(two.size(), searched.size()) << encoding << ": mm 2 is outside the search";
    EXPECT_EQ(two.size(), three.size()) << encoding;
    EXPECT_NE(two, three) << encoding << ": the wide layout lost which outside mm it was";
    EXPECT_EQ(two, words(by(2))) << encoding;
  }
}

TEST(PackedFolio, StateWordsAskForMoreRoomRatherThanWritePastIt) {
  const Shape shape{.order = 4, .type = FolioType::file, .pmd_order = 9};
  auto impl = run("mm-id-64", shape, {op(OpKind::add_file_ptes, 1, 0, 16)});
  const std::array<uint32_t, 1> ids{1};
  const MmCanon canon{ids};
  const size_t need = impl->state_words({}, canon);
  ASSERT_GT(need, 1u);
  std::vector<uint64_t> room(need + 1, 0x5a5a5a5a5a5a5a5a);
  EXPECT_EQ(impl->state_words(std::span(room).first(need - 1), canon), need);
  EXPECT_TRUE(std::all_of(room.begin(), room.end(), [](uint64_t w) {
    return w == 0x5a5a5a5a5a5a5a5a;
  })) << "wrote into a span too small for the words";
  EXPECT_EQ(impl->state_words(std::span(room).first(need), canon), need);
  EXPECT_EQ(room[need], 0x5a5a5a5a5a5a5a5au) << "wrote past the words it counted";
}

TEST(PackedFolio, ThirtyTwoBitOrderOneFolioPinsThroughTheRefcount) {
  auto impl = run("mm-id-32", Shape{.order = 1, .type = FolioType::anon}, {op(OpKind::gup_pin, 1)});
  EXPECT_FALSE(impl->models(Obs::pincount));
  EXPECT_EQ(impl->read(Obs::maybe_dma_pinned), 1);
  EXPECT_EQ(impl->read(Obs::entire_mapcount), 0);
  auto wide = run("mm-id-64", Shape{.order = 1, .type = FolioType::anon}, {op(OpKind::gup_pin, 1)});
  EXPECT_TRUE(wide->models(Obs::pincount));
  EXPECT_EQ(wide->read(Obs::pincount), 1);
  auto old = run("v6.12-32", Shape{.order = 1, .type = FolioType::anon}, {op(OpKind::gup_pin, 1)});
  EXPECT_EQ(old->read(Obs::pincount), 1);
}

TEST(PackedFolio, ThirtyTwoBitNextRefusesGeometriesThatWholeMapAnOrderOneFolio) {
  for (std::string_view encoding : kEncodings) {
    const bool refuses = encoding.ends_with("-32") && encoding.rfind("v6.12", 0) != 0;
    auto impl = make_implementation(encoding);
    EXPECT_EQ(impl->supports(setup_for(encoding, Shape{.order = 1, .pmd_order = 1})), !refuses)
        << encoding;
    EXPECT_EQ(
        impl->supports(setup_for(encoding, Shape{.order = 1, .pmd_order = 2, .hugetlb = true})),
        !refuses)
        << encoding;
    EXPECT_TRUE(impl->supports(setup_for(encoding, Shape{.order = 1, .pmd_order = 2}))) << encoding;
  }
}

TEST(PackedFolio, HugetlbKeepsRawEntireEqualToRawLargeAndReportsThemPerPage) {
  for (std::string_view encoding : kEncodings) {
    const bool page_mapcount = encoding.rfind("no-page-mapcount", 0) != 0;
    const Shape shape{.order = 3, .type = FolioType::anon, .pmd_order = 3, .hugetlb = true};
    auto impl = run(encoding, shape,
                    {
                        op(OpKind::hugetlb_add_new_anon, 1),
                        op(OpKind::hugetlb_try_dup_anon, 2, 0, 1, false, 1),
                        op(OpKind::hugetlb_try_dup_anon, 3, 0, 1, false, 1),
                    });
    EXPECT_EQ(impl->read(Obs::folio_mapcount), 3) << encoding;
    EXPECT_EQ(impl->read(Obs::entire_mapcount), 3) << encoding;
    // hugetlb leaves _nr_pages_mapped at 0; NO_PAGE_MAPCOUNT answers -1 for every folio.
    EXPECT_EQ(impl->read(Obs::nr_pages_mapped), page_mapcount ? 0 : -1) << encoding;
    EXPECT_EQ(impl->read(Obs::anon_exclusive, 0), 0) << encoding;
    EXPECT_FALSE(impl->models(Obs::shared_bit)) << encoding;
    if (page_mapcount) {
      EXPECT_EQ(impl->read(Obs::page_mapcount, 0), 3) << encoding;  // the head's word is a type
      EXPECT_EQ(impl->read(Obs::page_mapcount, 7), 3) << encoding;
    }
    if (impl->models(Obs::maybe_mapped_shared)) {
      EXPECT_EQ(impl->read(Obs::maybe_mapped_shared), 1) << encoding;
    }
    EXPECT_EQ(impl->read(Obs::nr_anon_mapped), 0) << encoding;
    EXPECT_EQ(impl->read(Obs::warnings), 0) << encoding;
    EXPECT_EQ(impl->check_invariants({0, 8}, true), std::nullopt) << encoding;

    for (int i = 0; i < 3; i++) impl->apply(op(OpKind::hugetlb_remove, 1));
    EXPECT_EQ(impl->check_invariants({0, 8}, true), std::nullopt) << encoding;
    EXPECT_EQ(impl->check_free(), std::nullopt) << encoding;
  }
}

TEST(PackedFolio, UnmappingEverythingRestoresTheFreeableState) {
  const std::vector<Op> file_map = {
      op(OpKind::add_file_pmd, 1),
      op(OpKind::add_file_ptes, 2, 1, 3),
      op(OpKind::dup_file_ptes, 3, 1, 2),
      op(OpKind::add_file_ptes, 4, 0, 1),
      op(OpKind::gup_pin, 2),
  };
  const std::vector<Op> file_unmap = {
      op(OpKind::gup_unpin),
      op(OpKind::remove_pmd, 1),
      op(OpKind::remove_ptes, 2, 1, 3),
      op(OpKind::remove_ptes, 3, 1, 2),
      op(OpKind::remove_ptes, 4, 0, 1),
  };
  const std::vector<Op> anon_map = {
      op(OpKind::add_new_anon, 1, 0, 1, true),
      op(OpKind::try_dup_anon_pmd, 2, 0, 1, false, 1),
      op(OpKind::add_anon_ptes, 3, 1, 3),
      op(OpKind::try_dup_anon_ptes, 4, 1, 2, false, 3),
      op(OpKind::gup_pin, 2),
  };
  const std::vector<Op> anon_unmap = {
      op(OpKind::gup_unpin),
      op(OpKind::remove_pmd, 1),
      op(OpKind::remove_pmd, 2),
      op(OpKind::remove_ptes, 3, 1, 3),
      op(OpKind::remove_ptes, 4, 1, 2),
  };
  for (std::string_view encoding : kEncodings) {
    for (FolioType type : {FolioType::anon, FolioType::file, FolioType::shmem}) {
      const bool anon = type == FolioType::anon;
      auto impl = run(encoding, Shape{.order = 2, .type = type, .pmd_order = 2},
                      anon ? anon_map : file_map);
      EXPECT_EQ(impl->read(Obs::warnings), 0) << encoding;
      EXPECT_EQ(impl->check_invariants({0, 4}, true), std::nullopt) << encoding;
      EXPECT_TRUE(impl->check_free().has_value()) << encoding;

      for (const Op& o : anon ? anon_unmap : file_unmap) impl->apply(o);
      EXPECT_EQ(impl->read(Obs::warnings), 0) << encoding;
      EXPECT_EQ(impl->read(Obs::folio_mapcount), 0) << encoding;
      EXPECT_EQ(impl->read(Obs::nr_anon_mapped) + impl->read(Obs::nr_file_mapped), 0) << encoding;
      EXPECT_EQ(impl->read(Obs::nr_anon_thps) + impl->read(Obs::nr_shmem_pmdmapped) +
                    impl->read(Obs::nr_file_pmdmapped),
                0)
          << encoding;
      EXPECT_EQ(impl->check_invariants({0, 4}, true), std::nullopt) << encoding;
      EXPECT_EQ(impl->check_free(), std::nullopt) << encoding;
      if (impl->models(Obs::shared_bit)) {
        EXPECT_EQ(impl->read(Obs::shared_bit), 0) << encoding;
      }
    }
  }
}

TEST(PackedFolio, FreeCheckReportsTheKernelsFirstFailure) {
  auto old = run("v6.12-64", Shape{.order = 2, .pmd_order = 2}, {op(OpKind::add_file_pmd, 1)});
  ASSERT_TRUE(old->check_free().has_value());
  EXPECT_EQ(old->check_free()->field, "nonzero entire_mapcount");
  auto next = run("mm-id-64", Shape{.order = 2, .pmd_order = 2}, {op(OpKind::add_file_pmd, 1)});
  EXPECT_EQ(next->check_free()->field, "nonzero large_mapcount");
  auto pte = run("no-mm-id-32", Shape{.order = 0}, {op(OpKind::add_file_ptes, 1)});
  EXPECT_EQ(pte->check_free()->field, "nonzero mapcount[0]");
  auto pin = run("mm-id-32", Shape{.order = 2}, {op(OpKind::gup_pin, 1)});
  EXPECT_EQ(pin->check_free()->field, "nonzero pincount");
}

TEST(PackedFolio, BatchPastTheFolioEndWarnsWithoutTouchingNeighbours) {
  // syzbot c0673e1f1f054fac28c2: filemap_map_pages passed nr = 496 for an order-2 folio.
  for (std::string_view encoding : kEncodings) {
    auto impl = run(encoding, Shape{.order = 2}, {op(OpKind::add_file_ptes, 1, 0, 496)});
    EXPECT_GT(impl->read(Obs::warnings), 0) << encoding;
    EXPECT_EQ(impl->read(Obs::warnings), static_cast<int64_t>(impl->warning_log().size()));
    EXPECT_TRUE(log_mentions(*impl, "R5")) << encoding;
    const bool page_mapcount = impl->models(Obs::page_mapcount);
    EXPECT_EQ(log_mentions(*impl, "OUTSIDE"), page_mapcount)
        << encoding;  // only they loop over pages
    const bool mm_id = encoding.rfind("mm-id", 0) == 0 || encoding.rfind("no-page", 0) == 0;
    EXPECT_EQ(log_mentions(*impl, "W4"), mm_id) << encoding;
    // The large mapcount grows by 496, as in the kernel; the four pages are counted once each.
    EXPECT_EQ(impl->read(Obs::folio_mapcount), 496) << encoding;
    if (page_mapcount) {
      for (uint32_t i = 0; i < 4; i++) EXPECT_EQ(impl->read(Obs::page_mapcount, i), 1) << encoding;
    }
    impl->apply(op(OpKind::remove_pmd, 1));  // and nonsense keeps not crashing
    impl->apply(op(OpKind::add_file_ptes, 0, 7, 0));
    impl->apply(op(OpKind::try_share_anon_pte, 1, 9));
    impl->apply(op(OpKind::hugetlb_remove, 1));
    EXPECT_GT(impl->read(Obs::warnings), 4) << encoding;
  }
}

TEST(PackedFolio, PageOneFieldsOfASmallFolioAreNeverWritten) {
  for (std::string_view encoding : kEncodings) {
    auto impl = run(encoding, Shape{.order = 0, .pmd_order = 2},
                    {
                        op(OpKind::add_file_pmd, 1),
                        op(OpKind::hugetlb_add_file, 1),
                        op(OpKind::remove_pud, 1),
                    });
    EXPECT_TRUE(log_mentions(*impl, "OUTSIDE")) << encoding;
    EXPECT_EQ(impl->read(Obs::folio_mapcount), 0) << encoding;
    EXPECT_EQ(impl->read(Obs::entire_mapcount), 0) << encoding;
  }
}

TEST(PackedFolio, V612HasNoPudLevel) {
  auto impl = run("v6.12-64", Shape{.order = 3, .pmd_order = 2, .pud_order = 3},
                  {op(OpKind::add_file_pud, 1)});
  EXPECT_TRUE(log_mentions(*impl, "R7"));
  EXPECT_EQ(impl->read(Obs::entire_mapcount), 0);
  auto next = run("mm-id-64", Shape{.order = 3, .pmd_order = 2, .pud_order = 3},
                  {op(OpKind::add_file_pud, 1)});
  EXPECT_EQ(next->read(Obs::warnings), 0);
  EXPECT_EQ(next->read(Obs::entire_mapcount), 1);
  EXPECT_EQ(next->read(Obs::nr_file_mapped), 8);
  EXPECT_EQ(next->read(Obs::nr_file_pmdmapped), 0);
}

TEST(PackedFolio, AnonExclusiveRemapWarnsPerKernelVersion) {
  // Mapping an exclusive page a second time trips the add-anon check in every version; 6.12 and
  // PAGE_MAPCOUNT next check the page's count, NO_PAGE_MAPCOUNT only the small-folio count.
  for (std::string_view encoding : kEncodings) {
    auto small = run(encoding, Shape{.order = 0, .type = FolioType::anon},
                     {op(OpKind::add_anon_ptes, 1, 0, 1, true), op(OpKind::add_anon_ptes, 1)});
    const bool old = encoding.rfind("v6.12", 0) == 0;
    const bool no_page = encoding.rfind("no-page", 0) == 0;
    // next with PAGE_MAPCOUNT checks a small folio twice: once as small, once in the page loop.
    EXPECT_EQ(small->read(Obs::warnings), old || no_page ? 1 : 2) << encoding;
    auto large =
        run(encoding, Shape{.order = 2, .type = FolioType::anon, .pmd_order = 3},
            {op(OpKind::add_anon_ptes, 1, 0, 2, true), op(OpKind::add_anon_ptes, 1, 0, 2)});
    EXPECT_EQ(large->read(Obs::warnings), no_page ? 0 : 2) << encoding;
  }
}

TEST(PackedFolio, InvariantsHoldAlongALegalMixedSequence) {
  for (std::string_view encoding : kEncodings) {
    const Shape shape{.order = 3, .type = FolioType::anon, .pmd_order = 3};
    auto impl = make_implementation(encoding);
    impl->reset(setup_for(encoding, shape));
    const std::vector<Op> ops = {
        op(OpKind::add_new_anon, 1, 0, 1, true),
        op(OpKind::add_anon_ptes, 1, 0, 8, true),
        op(OpKind::remove_pmd, 1),
        op(OpKind::try_share_anon_pte, 1, 7),
        op(OpKind::try_dup_anon_ptes, 2, 2, 4, false, 1),
        op(OpKind::try_dup_anon_ptes, 3, 0, 8, false, 1),
        op(OpKind::remove_ptes, 1, 0, 8),
        op(OpKind::remove_ptes, 3, 0, 3),
        op(OpKind::remove_ptes, 2, 2, 4),
        op(OpKind::remove_ptes, 3, 3, 5),
    };
    for (size_t i = 0; i < ops.size(); i++) {
      impl->apply(ops[i]);
      const auto v = impl->check_invariants({0, 8}, true);
      EXPECT_EQ(v, std::nullopt) << encoding << " after op " << i << ": " << (v ? v->field : "");
    }
    EXPECT_EQ(impl->read(Obs::warnings), 0) << encoding;
    EXPECT_EQ(impl->read(Obs::folio_mapcount), 0) << encoding;
    EXPECT_EQ(impl->read(Obs::partially_mapped), 1) << encoding;
    EXPECT_EQ(impl->check_free(), std::nullopt) << encoding;
  }
}

TEST(PackedFolio, AverageMapcountRoundsToNearestButIsAtLeastOne) {
  for (std::string_view encoding : {"mm-id-64", "no-page-mapcount-32", "no-mm-id-64"}) {
    auto impl = run(encoding, Shape{.order = 2}, {op(OpKind::add_file_ptes, 1, 0, 1)});
    EXPECT_EQ(impl->read(Obs::average_page_mapcount), 1) << encoding;
    impl->apply(op(OpKind::add_file_ptes, 1, 0, 4));
    EXPECT_EQ(impl->read(Obs::average_page_mapcount), 1) << encoding;  // 5/4
    impl->apply(op(OpKind::add_file_ptes, 1, 0, 1));
    EXPECT_EQ(impl->read(Obs::average_page_mapcount), 2) << encoding;  // 6/4 rounds up
  }
}

// One short valid sequence per mutant that some read() tells apart from the unmutated kernel.
struct Kill {
  Mutant mutant;
  Shape shape;
  std::vector<Op> ops;
};

std::vector<Kill> kill_table() {
  const Shape file2{.order = 2, .type = FolioType::file, .pmd_order = 3};
  const Shape file2_pmd{.order = 2, .type = FolioType::file, .pmd_order = 2};
  const Shape anon2{.order = 2, .type = FolioType::anon, .pmd_order = 3};
  const Shape anon2_pmd{.order = 2, .type = FolioType::anon, .pmd_order = 2};
  const Shape anon0{.order = 0, .type = FolioType::anon};
  const Shape file0{.order = 0, .type = FolioType::file};
  return {
      {Mutant::pte_add_ignores_entirely_mapped,
       file2_pmd,
       {op(OpKind::add_file_pmd, 1), op(OpKind::add_file_ptes, 1, 0, 1)}},
      {Mutant::pmd_add_em_threshold_off_by_one,
       file2_pmd,
       {op(OpKind::add_file_ptes, 1, 0, 1), op(OpKind::add_file_pmd, 1)}},
      {Mutant::entire_mapcount_without_bias, file2_pmd, {op(OpKind::add_file_pmd, 1)}},
      {Mutant::slot_count_initialised_to_diff, file2, {op(OpKind::add_file_ptes, 1, 0, 1)}},
      {Mutant::set_mm_id_clobbers_flag_bit,
       file2,
       {op(OpKind::add_file_ptes, 1, 0, 1), op(OpKind::add_file_ptes, 2, 1, 1),
        op(OpKind::add_file_ptes, 3, 2, 2), op(OpKind::remove_ptes, 2, 1, 1)}},
      {Mutant::free_slot_before_id_match,
       file2,
       {op(OpKind::add_file_ptes, 1, 0, 1), op(OpKind::add_file_ptes, 2, 1, 1),
        op(OpKind::remove_ptes, 1, 0, 1), op(OpKind::add_file_ptes, 2, 2, 1)}},
      {Mutant::slot1_take_without_shared_bit,
       file2,
       {op(OpKind::add_file_ptes, 1, 0, 1), op(OpKind::add_file_ptes, 2, 1, 1)}},
      {Mutant::shared_check_logical_vs_raw,
       file2,
       {op(OpKind::add_file_ptes, 1, 0, 2), op(OpKind::add_file_ptes, 2, 2, 1),
        op(OpKind::remove_ptes, 2, 2, 1)}},
      {Mutant::partially_mapped_without_npm_reread,
       anon2,
       {op(OpKind::add_anon_ptes, 1, 0, 4), op(OpKind::remove_ptes, 1, 0, 4)}},
      {Mutant::npm_partial_ignores_entire,
       anon2_pmd,
       {op(OpKind::add_anon_pmd, 1), op(OpKind::add_anon_ptes, 1, 0, 1),
        op(OpKind::remove_ptes, 1, 0, 1)}},
      {Mutant::dup_keeps_anon_exclusive,
       anon0,
       {op(OpKind::add_anon_ptes, 1, 0, 1, true),
        op(OpKind::try_dup_anon_ptes, 2, 0, 1, false, 1)}},
      {Mutant::ebusy_first_page_only,
       anon2,
       {op(OpKind::add_anon_ptes, 1, 0, 1), op(OpKind::add_anon_ptes, 1, 1, 1, true),
        op(OpKind::gup_pin, 1), op(OpKind::try_dup_anon_ptes, 2, 0, 2, false, 1)}},
      {Mutant::ebusy_ignores_mmf_has_pinned,
       anon0,
       {op(OpKind::add_anon_ptes, 1, 0, 1, true), op(OpKind::gup_pin, 3),
        op(OpKind::try_dup_anon_ptes, 2, 0, 1, false, 1)}},
      {Mutant::small_unmap_nonpositive,
       file0,
       {op(OpKind::add_file_ptes, 1), op(OpKind::add_file_ptes, 2), op(OpKind::remove_ptes, 2)}},
      {Mutant::overflow_keeps_negative_slot,
       Shape{.order = 15, .type = FolioType::file},
       {op(OpKind::add_file_ptes, 1, 0, 32768), op(OpKind::add_file_ptes, 1, 0, 1)}},
      {Mutant::average_without_rounding,
       file2,
       {op(OpKind::add_file_ptes, 1, 0, 4), op(OpKind::add_file_ptes, 1, 0, 2)}},
      {Mutant::average_without_minimum, file2, {op(OpKind::add_file_ptes, 1, 0, 1)}},
      {Mutant::pud_counts_as_pmdmapped,
       Shape{.order = 3, .type = FolioType::file, .pmd_order = 2, .pud_order = 3},
       {op(OpKind::add_file_pud, 1)}},
      {Mutant::pte_batch_large_mapcount_by_one, file2, {op(OpKind::add_file_ptes, 1, 0, 2)}},
      {Mutant::pmdmapped_stat_shmem_file_swapped,
       Shape{.order = 2, .type = FolioType::shmem, .pmd_order = 2},
       {op(OpKind::add_file_pmd, 1)}},
      {Mutant::new_anon_pmd_branch_strict, anon2_pmd, {op(OpKind::add_new_anon, 1, 0, 1, true)}},
      {Mutant::total_pmd_adds_one, file2_pmd, {op(OpKind::add_file_pmd, 1)}},
  };
}

std::vector<std::string_view> split_encodings(std::string_view list) {
  std::vector<std::string_view> out;
  while (!list.empty()) {
    const size_t comma = list.find(',');
    out.push_back(list.substr(0, comma));
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return out;
}

TEST(PackedFolioMutants, TheZooHasAtLeastEighteenNamedMutants) {
  EXPECT_GE(all_mutants().size(), 18u);
  std::set<std::string_view> names;
  for (const MutantInfo& info : all_mutants()) {
    EXPECT_TRUE(names.insert(info.name).second) << info.name;
    EXPECT_EQ(mutant_from_name(info.name), info.mutant);
    for (std::string_view encoding : split_encodings(info.encodings))
      EXPECT_NE(make_implementation(encoding), nullptr) << info.name << ": " << encoding;
  }
  EXPECT_EQ(mutant_from_name("no-such-mutant"), std::nullopt);
  EXPECT_EQ(active_mutant(), Mutant::none);
}

TEST(PackedFolioMutants, EveryMutantChangesSomeReadOnExactlyTheEncodingsItNames) {
  const auto table = kill_table();
  for (const MutantInfo& info : all_mutants()) {
    const auto kill = std::find_if(table.begin(), table.end(),
                                   [&](const Kill& k) { return k.mutant == info.mutant; });
    ASSERT_NE(kill, table.end()) << "no kill sequence for " << info.name;
    const auto affected = split_encodings(info.encodings);
    // Every registered encoding, proposals included (encodings.def).
    for (const EncodingInfo& registered : encodings()) {
      const std::string_view encoding = registered.name;
      const uint32_t nr_pages = uint32_t{1} << kill->shape.order;
      const auto clean = observe(*run(encoding, kill->shape, kill->ops), nr_pages);
      std::vector<std::pair<std::string, int64_t>> mutated;
      {
        testing::MutantScope guard(info.mutant);
        mutated = observe(*run(encoding, kill->shape, kill->ops), nr_pages);
      }
      const bool named = std::find(affected.begin(), affected.end(), encoding) != affected.end();
      EXPECT_EQ(clean != mutated, named) << info.name << " on " << encoding;
    }
  }
}

// The 2026 RFC's rules (docs/proposed.md), on both word sizes.
TEST(ProposedTotalMapped, TwoPmdsAndOnePteGiveMapcountThreeAndTotal1025) {
  for (std::string_view encoding : {"proposed-total-mapped-64", "proposed-total-mapped-32"}) {
    auto impl = run(encoding, Shape{.order = 9, .type = FolioType::file, .pmd_order = 9},
                    {op(OpKind::add_file_pmd, 1), op(OpKind::add_file_pmd, 2),
                     op(OpKind::add_file_ptes, 1, 0, 1)});
    EXPECT_EQ(impl->read(Obs::folio_mapcount), 3) << encoding;
    EXPECT_EQ(impl->read(Obs::total_mapped_pages), 1025) << encoding;
    EXPECT_EQ(impl->read(Obs::average_page_mapcount), 2) << encoding;
    EXPECT_EQ(impl->read(Obs::warnings), 0) << encoding;
    EXPECT_EQ(impl->check_invariants({0, 512}, true), std::nullopt) << encoding;
  }
}

TEST(ProposedTotalMapped, HasNoEntireMapcountNrPagesMappedOrPageMapcountReaders) {
  for (std::string_view encoding : {"proposed-total-mapped-64", "proposed-total-mapped-32"}) {
    auto impl = run(encoding, Shape{.order = 2, .type = FolioType::anon, .pmd_order = 2},
                    {op(OpKind::add_new_anon, 1, 0, 1, true)});
    EXPECT_FALSE(impl->models(Obs::entire_mapcount)) << encoding;
    EXPECT_FALSE(impl->models(Obs::nr_pages_mapped)) << encoding;
    EXPECT_FALSE(impl->models(Obs::entirely_mapped)) << encoding;
    EXPECT_FALSE(impl->models(Obs::page_mapcount)) << encoding;
    EXPECT_TRUE(impl->models(Obs::total_mapped_pages)) << encoding;
    EXPECT_TRUE(impl->models(Obs::mm_id)) << encoding;
    EXPECT_EQ(impl->read(Obs::total_mapped_pages), 4) << encoding;
    // A PMD-sized folio counts in NR_ANON_THPS while mapped at all (assumption A5).
    EXPECT_EQ(impl->read(Obs::nr_anon_thps), 4) << encoding;
  }
}

TEST(ProposedTotalMapped, HugetlbMappingsCountNoPagesSoTwoOfThemAverageOne) {
  for (std::string_view encoding : {"proposed-total-mapped-64", "proposed-total-mapped-32"}) {
    auto impl =
        run(encoding, Shape{.order = 2, .type = FolioType::file, .pmd_order = 2, .hugetlb = true},
            {op(OpKind::hugetlb_add_file, 1), op(OpKind::hugetlb_add_file, 2)});
    EXPECT_EQ(impl->read(Obs::folio_mapcount), 2) << encoding;
    EXPECT_EQ(impl->read(Obs::total_mapped_pages), 0) << encoding;
    EXPECT_EQ(impl->read(Obs::average_page_mapcount), 1) << encoding;
  }
}

TEST(ProposedTotalMapped, AFreedFolioWithAMappingLeftIsBadOnPageOnesMapcount) {
  auto impl = run("proposed-total-mapped-64", Shape{.order = 2, .type = FolioType::file},
                  {op(OpKind::add_file_ptes, 1, 0, 1)});
  const auto v = impl->check_free();
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(v->field, "nonzero mapcount[1]");
}

// check_agreement reads each side through models_mask(), read_scalars() and read_pages(): their
// answers must be those of models() and read() one by one, for the model and every encoding, in
// every state a walk of legal operations reaches.
TEST(PackedFolio, BulkReadsAnswerAsModelsAndReadDoOneByOne) {
  const std::vector<std::pair<std::string_view, Shape>> setups = {
      {"mm-id-64", {2, FolioType::anon, 2, 3}},
      {"v6.12-32", {3, FolioType::file, 3, 4}},
      {"no-page-mapcount-64", {0, FolioType::shmem, 2, 3}},
      {"mm-id-32", {2, FolioType::anon, 2, 3, true}},
      {"proposed-total-mapped-64", {9, FolioType::file, 9, 10}},
  };
  const std::vector<uint32_t> ids = {1, 2, 3};
  for (const auto& [encoding, shape] : setups) {
    const foliocheck::Setup setup = setup_for(encoding, shape);
    const std::vector<std::string> names = choose_implementations(setup).names;
    ASSERT_FALSE(names.empty()) << encoding;
    Differential d(make_implementations(names));
    d.reset(setup);
    const std::vector<Op> alphabet = op_alphabet(setup, ids, 8, false);
    uint64_t rng = 12345;
    auto agree = [&](const Implementation& impl, int step) {
      SCOPED_TRACE(std::string(impl.name()) + " after " + std::to_string(step) + " operations");
      const uint64_t mask = impl.models_mask();
      uint64_t scalars = 0;
      for (int i = 0; i < kNumObs; i++) {
        const Obs obs = static_cast<Obs>(i);
        EXPECT_EQ((mask >> i) & 1, impl.models(obs) ? 1u : 0u) << obs_info(obs).name;
        if (impl.models(obs) && !obs_info(obs).indexed) scalars |= uint64_t{1} << i;
      }
      std::array<int64_t, kNumObs> all;
      all.fill(-12345);
      impl.read_scalars(scalars, all);
      for (int i = 0; i < kNumObs; i++) {
        const Obs obs = static_cast<Obs>(i);
        if (scalars >> i & 1)
          EXPECT_EQ(all[static_cast<size_t>(i)], impl.read(obs)) << obs_info(obs).name;
        else
          EXPECT_EQ(all[static_cast<size_t>(i)], -12345) << obs_info(obs).name << " written";
      }
      const uint32_t n = setup.nr_pages();
      for (Obs obs : {Obs::page_mapcount, Obs::anon_exclusive}) {
        if (!impl.models(obs)) continue;
        std::vector<int64_t> pages(n - n / 2);
        impl.read_pages(obs, n / 2, pages);
        for (uint32_t p = n / 2; p < n; p++)
          EXPECT_EQ(pages[p - n / 2], impl.read(obs, p)) << obs_info(obs).name << "[" << p << "]";
      }
    };
    int applied = 0;
    for (int step = 0; step < 400 && applied < 40; step++) {
      rng = rng * 6364136223846793005u + 1442695040888963407u;
      const Op& o = alphabet[(rng >> 33) % alphabet.size()];
      if (!d.model().allows(o)) continue;
      d.advance(o);
      applied++;
      agree(d.model(), applied);
      for (const auto& impl : d.impls()) agree(*impl, applied);
    }
    EXPECT_GE(applied, 10) << encoding << ": the walk must reach some states";
  }
}

}  // namespace
}  // namespace foliocheck

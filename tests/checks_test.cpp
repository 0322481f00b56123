// Claims that every check foliocheck makes can fire: each test names the check it makes fire, and
// tests/check-inventory.py fails when a check in the code has no such test.
#include <gtest/gtest.h>

#include "tests/test_support.h"

#include <functional>
#include <map>
#include <random>

#include "core/agreement.h"
#include "core/differential.h"
#include "core/legality.h"
#include "core/reference_model.h"
#include "impl/folio_checks.h"
#include "impl/packed_folio.h"
#include "impl/registry.h"

namespace foliocheck {

// Test-only access to the model's cached aggregates (core/reference_model.h befriends it).
struct ReferenceModelTestAccess {
  static ReferenceModel& m(const ReferenceModel& r) { return const_cast<ReferenceModel&>(r); }
  static MmMappings& mm(ReferenceModel& r, uint32_t id) { return r.m_mms[id]; }
  static PageCounts& page_pte(ReferenceModel& r) { return r.m_page_pte; }
  static uint32_t& pages_mapped(ReferenceModel& r) { return r.m_pages_mapped; }
  static uint64_t& total(ReferenceModel& r) { return r.m_total; }
  static uint32_t& entire(ReferenceModel& r) { return r.m_entire; }
  static uint64_t& mapped_pages(ReferenceModel& r) { return r.m_mapped_pages; }
  static uint32_t& mms_mapping(ReferenceModel& r) { return r.m_mms_mapping; }
  static uint32_t& nr_ae(ReferenceModel& r) { return r.m_nr_ae; }
  static uint32_t& pins(ReferenceModel& r) { return r.m_pins; }
};

// Test-only access to the encodings' harness tallies (impl/packed_folio.h befriends it).
struct PackedFolioTestAccess {
  template <class P>
  static uint32_t& nr_ae(P& f) { return f.nr_anon_exclusive_; }
};

namespace {

using Access = ReferenceModelTestAccess;

foliocheck::Setup setup(Semantics s, int order, FolioType t = FolioType::anon, int pmd_order = 2,
            int bits = 64, bool hugetlb = false) {
  foliocheck::Setup st;
  st.config.semantics = s;
  st.config.bits = bits;
  st.config.pmd_order = pmd_order;
  st.config.pud_order = pmd_order + 2;
  st.folio.order = order;
  st.folio.type = t;
  st.folio.hugetlb = hugetlb;
  return st;
}

using testing::op;
using testing::run;

// ---- Preconditions: setup_error, precondition, and legality.cpp's reasons ----

struct SetupCase {
  const char* check;
  foliocheck::Setup setup;
};

TEST(EveryCheckFires, EachSetupErrorRejectsTheSetupItNames) {
  foliocheck::Setup bits = setup(Semantics::mm_id, 2);
  bits.config.bits = 48;
  foliocheck::Setup geometry = setup(Semantics::mm_id, 2);
  geometry.config.pud_order = 2;
  const SetupCase cases[] = {
      {"bits must be 32 or 64", bits},
      {"geometry needs 2 <= pmd_order < pud_order <= 20", geometry},
      {"folio order must be 0..pud_order", setup(Semantics::mm_id, 5)},
      {"hugetlb folios have order >= 2 (they always have _entire_mapcount storage)",
       setup(Semantics::mm_id, 1, FolioType::anon, 2, 64, true)},
      {"hugetlb folios are anon or hugetlbfs files (type=file), never shmem",
       setup(Semantics::mm_id, 2, FolioType::shmem, 2, 64, true)},
      {"no-mm-id is CONFIG_TRANSPARENT_HUGEPAGE=n (since 6.15 THP selects MM_ID, mm/Kconfig): "
       "no kernel has a large anon or shmem folio without MM_ID",
       setup(Semantics::no_mm_id, 2)},
      {"W5: folio_large_nr_pages(folio) - 1 > MM_ID_MAPCOUNT_MAX (32-bit folios above order "
       "15 cannot use CONFIG_MM_ID)",
       setup(Semantics::mm_id, 16, FolioType::file, 16, 32)},
  };
  for (const auto& c : cases) {
    auto why = ReferenceModel::setup_error(c.setup);
    ASSERT_TRUE(why) << c.check;
    EXPECT_EQ(*why, c.check);
  }
}

struct PreCase {
  const char* check;
  foliocheck::Setup setup;
  std::vector<Op> before;           // legal calls that drive the model into the state
  std::function<void(ReferenceModel&)> poke;  // or a direct push toward a limit
  Op call;
};

TEST(EveryCheckFires, EachPreconditionRejectsTheCallItNames) {
  const foliocheck::Setup anon = setup(Semantics::mm_id, 2), file = setup(Semantics::mm_id, 2, FolioType::file);
  const foliocheck::Setup hugetlb = setup(Semantics::mm_id, 2, FolioType::anon, 2, 64, true);
  const foliocheck::Setup small = setup(Semantics::mm_id, 0), v612_file = setup(Semantics::v6_12, 4, FolioType::file);
  Op pmd_x = op(OpKind::add_anon_pmd, 1, 0, 1, true);
  Op bad_mm = op(OpKind::add_anon_ptes, mm_id_max(64) + 1);
  Op bad_src = op(OpKind::try_dup_anon_ptes, 2, 0, 1, false, 0);
  Op same = op(OpKind::try_dup_anon_ptes, 1, 0, 1, false, 1);
  Op excl_file = op(OpKind::add_file_ptes, 1, 0, 1, true);
  const PreCase cases[] = {
      {"W3: mm id outside MM_ID_MIN..MM_ID_MAX", anon, {}, {}, bad_mm},
      {"W3: src mm id outside MM_ID_MIN..MM_ID_MAX", anon, {}, {}, bad_src},
      {"fork: the child (mm) must be another mm than the parent (src)", anon, {}, {}, same},
      {"this helper takes no RMAP_EXCLUSIVE", file, {}, {}, excl_file},
      {"R3: nr_pages <= 0", anon, {}, {}, op(OpKind::add_anon_ptes, 1, 0, 0)},
      {"R4: first page not in the folio", anon, {}, {}, op(OpKind::add_anon_ptes, 1, 4, 1)},
      {"R5: page+nr-1 outside the folio", anon, {}, {}, op(OpKind::add_anon_ptes, 1, 2, 3)},
      {"R4: page not in the folio", anon, {op(OpKind::add_anon_ptes, 1, 0, 1, true)}, {},
       op(OpKind::try_share_anon_pte, 1, 7)},
      {"VM_WARN: PageAnonExclusive page would be mapped by a second PTE", anon,
       {op(OpKind::add_anon_ptes, 1, 0, 1, true)}, {}, op(OpKind::add_anon_ptes, 2, 0, 1)},
      {"VM_WARN: PageAnonExclusive page while entire_mapcount > 1", anon,
       {op(OpKind::add_anon_pmd, 1), op(OpKind::add_anon_pmd, 2)}, {},
       op(OpKind::add_anon_ptes, 3, 1, 1, true)},
      {"VM_WARN: PageAnonExclusive page of a folio with entire_mapcount > 1", anon,
       {op(OpKind::add_anon_pmd, 1)}, {}, pmd_x},
      {"VM_WARN: RMAP_EXCLUSIVE PMD mapping of a head page mapped by several PTEs", anon,
       {op(OpKind::add_anon_ptes, 1), op(OpKind::add_anon_ptes, 2)}, {}, pmd_x},
      {"VM_WARN: a PageAnonExclusive tail page would be mapped by two PMDs", anon,
       {op(OpKind::add_anon_pmd, 1), op(OpKind::add_anon_ptes, 1, 1, 1, true)}, {},
       op(OpKind::try_dup_anon_pmd, 2, 0, 1, false, 1)},
      {"VM_WARN: PageAnonExclusive hugetlb folio with entire_mapcount > 1", hugetlb,
       {op(OpKind::hugetlb_add_anon, 1)}, {}, op(OpKind::hugetlb_add_anon, 2, 0, 1, true)},
      // legality.cpp: op_fits_setup
      {"VM_WARN: hugetlb rmap helper on a non-hugetlb folio", anon, {}, {},
       op(OpKind::hugetlb_add_anon, 1)},
      {"R1: hugetlb folio passed to a non-hugetlb rmap helper", hugetlb, {}, {},
       op(OpKind::add_anon_ptes, 1)},
      {"VM_WARN: !folio_test_anon(folio)", file, {}, {}, op(OpKind::add_anon_ptes, 1)},
      {"VM_WARN: folio_test_anon(folio) in a file helper", anon, {}, {},
       op(OpKind::add_file_ptes, 1)},
      {"no-mm-id is CONFIG_TRANSPARENT_HUGEPAGE=n (since 6.15 THP selects MM_ID, mm/Kconfig): "
       "every PMD/PUD-level rmap helper is a WARN stub",
       setup(Semantics::no_mm_id, 2, FolioType::file), {}, {}, op(OpKind::add_file_pmd, 1)},
      {"R6: PMD-level rmap of a folio that is not PMD-sized (N != HPAGE_PMD_NR)",
       setup(Semantics::mm_id, 3, FolioType::file), {}, {}, op(OpKind::add_file_pmd, 1)},
      {"no PUD-level rmap in 6.12", v612_file, {}, {}, op(OpKind::add_file_pud, 1)},
      {"R7: PUD-level rmap of a folio that is not PUD-sized", file, {}, {},
       op(OpKind::add_file_pud, 1)},
      {"no anon folio is larger than a PMD", setup(Semantics::mm_id, 3), {}, {},
       op(OpKind::add_new_anon, 1)},
      // legality.cpp: overflow_reason, with the model pushed next to the limit
      {"_large_mapcount would overflow INT_MAX", file, {op(OpKind::add_file_ptes, 1)},
       [](ReferenceModel& m) { Access::total(m) = kIntMax - 1; }, op(OpKind::add_file_ptes, 1)},
      {"_refcount would overflow INT_MAX", file, {op(OpKind::add_file_ptes, 1)},
       [](ReferenceModel& m) { Access::pins(m) = 1u << 21; }, op(OpKind::add_file_ptes, 1)},
      {"_total_mapped_pages would overflow LONG_MAX",
       setup(Semantics::proposed_total_mapped, 2, FolioType::file, 2, 32),
       {op(OpKind::add_file_ptes, 1)},
       [](ReferenceModel& m) { Access::mapped_pages(m) = uint64_t(kIntMax) - 1; },
       op(OpKind::add_file_ptes, 1)},
      // legality.cpp: need_unmet
      {" wants a FRESH folio (it plain-sets the counters)", anon, {op(OpKind::add_anon_ptes, 1)},
       {}, op(OpKind::add_new_anon, 2)},
      {"mm holds no PTE mapping of the page", anon, {op(OpKind::add_anon_ptes, 1)}, {},
       op(OpKind::remove_ptes, 2)},
      {"src holds no PTE mapping of the page", anon, {op(OpKind::add_anon_ptes, 1)}, {},
       op(OpKind::try_dup_anon_ptes, 2, 0, 1, false, 3)},
      {"dup of a page that is not PTE-mapped", file, {}, {}, op(OpKind::dup_file_ptes, 1)},
      {" dups HPAGE_PMD_NR PTEs (kernel behaviour): every page must already be PTE-mapped", file,
       {op(OpKind::add_file_ptes, 1)}, {}, op(OpKind::dup_file_pmd, 2)},
      {"mm holds no ", file, {op(OpKind::add_file_pmd, 1)}, {}, op(OpKind::remove_pmd, 2)},
      {"src holds no ", anon, {op(OpKind::add_anon_pmd, 1)}, {},
       op(OpKind::try_dup_anon_pmd, 2, 0, 1, false, 3)},
      {"VM_WARN: !PageAnonExclusive(page)", anon, {op(OpKind::add_anon_ptes, 1, 0, 1, true)}, {},
       op(OpKind::try_share_anon_pte, 1, 1)},
      {"VM_WARN: !PageAnonExclusive(head page)", anon, {op(OpKind::add_anon_pmd, 1)}, {},
       op(OpKind::try_share_anon_pmd, 1)},
      {": the mm does not map the folio", small, {op(OpKind::add_anon_ptes, 1)}, {},
       op(OpKind::gup_pin, 2)},
      {": the folio is not pinned", small, {op(OpKind::add_anon_ptes, 1)}, {},
       op(OpKind::gup_unpin, 1)},
      {": the mm holds no PTE of the folio to write-fault on", anon,
       {op(OpKind::add_anon_ptes, 1, 0, 2)}, {}, op(OpKind::wp_can_reuse_large_anon, 2)},
      {": the mm maps the folio by PMD too (a split in progress, under the PMD lock)", anon,
       {op(OpKind::add_anon_pmd, 1), op(OpKind::add_anon_ptes, 1, 0, 4)}, {},
       op(OpKind::wp_can_reuse_large_anon, 1)},
      {": the mm maps an anon page twice", anon,
       {op(OpKind::add_anon_ptes, 1, 0, 2), op(OpKind::add_anon_ptes, 1, 1, 1)}, {},
       op(OpKind::wp_can_reuse_large_anon, 1)},
      // legality.cpp: op_fits_setup, the readers
      {"no folio_maybe_mapped_shared() in 6.12 (it has folio_likely_mapped_shared())", v612_file,
       {}, {}, op(OpKind::read_maybe_mapped_shared, 0)},
      {"no __wp_can_reuse_large_anon_folio() in 6.12: COW reuse of PTE-mapped THP came with "
       "6.15 (1da190f4d0a6)",
       setup(Semantics::v6_12, 2), {}, {}, op(OpKind::wp_can_reuse_large_anon, 1)},
      {"__wp_can_reuse_large_anon_folio() is BUILD_BUG() without CONFIG_TRANSPARENT_HUGEPAGE "
       "(and reads the mm-id slots)",
       setup(Semantics::no_mm_id, 0), {}, {}, op(OpKind::wp_can_reuse_large_anon, 1)},
      {"__wp_can_reuse_large_anon_folio() is for large non-hugetlb folios only "
       "(wp_can_reuse_anon_folio() calls it when folio_test_large())",
       small, {}, {}, op(OpKind::wp_can_reuse_large_anon, 1)},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.check);
    ReferenceModel m;
    ASSERT_FALSE(ReferenceModel::setup_error(c.setup)) << *ReferenceModel::setup_error(c.setup);
    m.reset(c.setup);
    for (const Op& o : c.before) run(m, o);
    if (c.poke) c.poke(m);
    auto why = m.precondition(c.call);
    ASSERT_TRUE(why);
    EXPECT_NE(why->find(c.check), std::string::npos) << *why;
    // The engines' form of the same rule, which builds no sentence, refuses the call too.
    EXPECT_FALSE(m.allows(c.call));
    EXPECT_FALSE(m.well_formed(c.call) && m.allows_now(c.call));
  }
}

// W3 at both ends of the range and at both word sizes, for mm and src: MM_ID_MIN and MM_ID_MAX are
// taken, MM_ID_DUMMY (0) and MM_ID_MAX + 1 refused, so that a bound weakened (or tightened) by one
// shows.
TEST(EveryCheckFires, TheMmIdPreconditionRefusesExactlyTheIdsOutsideMmIdMinToMmIdMax) {
  for (int bits : {64, 32}) {
    SCOPED_TRACE(bits);
    ReferenceModel m;
    m.reset(setup(Semantics::mm_id, 2, FolioType::anon, 2, bits));
    const uint32_t max = mm_id_max(bits);
    for (uint32_t id : {0u, 1u, max, max + 1}) {
      SCOPED_TRACE(id);
      const bool in_range = id >= 1 && id <= max;
      auto mm = m.precondition(op(OpKind::add_anon_ptes, id));
      EXPECT_EQ(!mm, in_range) << mm.value_or("accepted");
      if (!in_range && mm) {
        EXPECT_EQ(*mm, "W3: mm id outside MM_ID_MIN..MM_ID_MAX");
      }
      // The parent must map the page for a fork to be legal: the src range is checked first.
      auto src = m.precondition(op(OpKind::try_dup_anon_ptes, id == 2 ? 3 : 2, 0, 1, false, id));
      EXPECT_EQ(src && src->starts_with("W3"), !in_range) << src.value_or("accepted");
      if (!in_range && src) {
        EXPECT_EQ(*src, "W3: src mm id outside MM_ID_MIN..MM_ID_MAX");
      }
    }
  }
}

// ---- The model's own drift checks: each cached aggregate corrupted in turn ----

TEST(EveryCheckFires, EachModelDriftCheckNamesTheAggregateThatDrifted) {
  const std::pair<const char*, std::function<void(ReferenceModel&)>> cases[] = {
      {"mm_pte_total", [](ReferenceModel& m) { Access::mm(m, 1).pte_total++; }},
      {"page_pte[", [](ReferenceModel& m) { Access::page_pte(m)[0]++; }},
      {"pages_mapped", [](ReferenceModel& m) { Access::pages_mapped(m)++; }},
      {"total", [](ReferenceModel& m) { Access::total(m)++; }},
      {"entire", [](ReferenceModel& m) { Access::entire(m)++; }},
      {"mapped_pages", [](ReferenceModel& m) { Access::mapped_pages(m)++; }},
      {"mms_mapping", [](ReferenceModel& m) { Access::mms_mapping(m)++; }},
      {"nr_anon_exclusive", [](ReferenceModel& m) { Access::nr_ae(m)++; }},
  };
  for (const auto& [check, corrupt] : cases) {
    SCOPED_TRACE(check);
    ReferenceModel m;
    m.reset(setup(Semantics::mm_id, 2));
    run(m, op(OpKind::add_anon_ptes, 1, 0, 2, true));
    ASSERT_FALSE(m.check_invariants({}, true));
    corrupt(m);
    auto v = m.check_invariants({}, true);
    ASSERT_TRUE(v);
    EXPECT_EQ(v->kind, ViolationKind::harness);
    EXPECT_EQ(v->field.rfind(check, 0), 0u) << v->field;
  }
}

TEST(EveryCheckFires, TheEncodingsTallyCheckNamesADriftedAnonExclusiveTally) {
  PackedFolio<Semantics::mm_id, 64> f;
  f.reset(setup(Semantics::mm_id, 2));
  f.apply(op(OpKind::add_anon_ptes, 1, 0, 2, true));
  ASSERT_FALSE(f.check_invariants({}, true));
  PackedFolioTestAccess::nr_ae(f)++;
  auto v = f.check_invariants({}, true);
  ASSERT_TRUE(v);
  EXPECT_EQ(v->kind, ViolationKind::harness);
  EXPECT_EQ(v->field, "anon_exclusive_tally");
}

// ---- impl/folio_checks.h, once for the encodings and the kernel: words set to break each ----

// A folio's words as plain fields; the defaults are a pristine order-2 anon folio of next with
// CONFIG_PAGE_MAPCOUNT and CONFIG_MM_ID on 64-bit, which every check accepts.
struct FakeWords {
  bool is_large = true, is_hugetlb = false, has_mm_id = true, has_page_mapcount = true;
  bool entire_storage = true, pincount_storage = true, locked = false, shared = false;
  bool v6_12 = false, head_typed = true, rfc = false;
  int nbits = 64;
  uint32_t n = 4;
  int64_t large_w = -1, entire_w = -1, npm_w = 0, pin = 0, total = 0;
  uint32_t ids[2] = {0, 0};
  int64_t slot_counts[2] = {-1, -1};
  int64_t pages[4] = {-1, -1, -1, -1};

  bool large() const { return is_large; }
  bool hugetlb() const { return is_hugetlb; }
  bool mm_id() const { return has_mm_id; }
  bool page_mapcount() const { return has_page_mapcount; }
  bool has_entire_storage() const { return entire_storage; }
  bool has_pincount() const { return pincount_storage; }
  uint32_t nr_pages() const { return n; }
  int64_t raw_large_mapcount() const { return large_w; }
  int64_t raw_entire_mapcount() const { return entire_w; }
  int64_t raw_nr_pages_mapped() const { return npm_w; }
  int64_t pincount() const { return pin; }
  int64_t entirely_mapped() const { return 1 << 23; }
  bool mm_ids_locked() const { return locked; }
  bool shared_bit() const { return shared; }
  bool slots_pristine() const {
    return ids[0] == 0 && ids[1] == 0 && slot_counts[0] == -1 && slot_counts[1] == -1;
  }
  uint32_t slot_mm_id(int s) const { return ids[s]; }
  int64_t raw_slot_mapcount(int s) const { return slot_counts[s]; }
  int64_t raw_page_mapcount(uint32_t p) const { return pages[p]; }
  bool head_keeps_hugetlb_type() const { return head_typed; }
  bool v6_12_layout() const { return v6_12; }
  int bits() const { return nbits; }
  bool total_mapped() const { return rfc; }
  int64_t total_mapped_pages() const { return total; }
};

// A field name matches exactly, or by prefix for page-indexed names ("nonzero mapcount[2]").
bool names(const std::string& field, const std::string& check) {
  return field == check || (check.back() == '[' && field.rfind(check, 0) == 0);
}

using Break = std::function<void(FakeWords&)>;

TEST(EveryCheckFires, EachSharedInvariantNamesTheWordItFindsBroken) {
  ASSERT_FALSE(check_folio_words(FakeWords{}, {0, 4}, true));
  const std::pair<const char*, Break> cases[] = {
      {"mm_ids_lock_bit", [](FakeWords& w) { w.locked = true; }},
      {"raw_large_mapcount", [](FakeWords& w) { w.large_w = -2; }},
      {"raw_entire_mapcount", [](FakeWords& w) { w.entire_w = -2; }},
      {"pincount", [](FakeWords& w) { w.pin = -1; }},
      {"entire_vs_large", [](FakeWords& w) { w.entire_w = 0; }},
      {"entire_mapcount_gone", [](FakeWords& w) { w.rfc = true, w.large_w = 0, w.entire_w = 0; }},
      {"hugetlb_total_untouched", [](FakeWords& w) { w.rfc = w.is_hugetlb = true, w.total = 1; }},
      {"total_vs_large", [](FakeWords& w) { w.rfc = true, w.large_w = 0, w.total = 0; }},
      {"hugetlb_entire_eq_large", [](FakeWords& w) { w.is_hugetlb = true, w.large_w = 0; }},
      {"hugetlb_nr_pages_mapped", [](FakeWords& w) { w.is_hugetlb = true, w.npm_w = 1; }},
      {"nr_pages_mapped", [](FakeWords& w) { w.npm_w = -1; }},
      {"nr_pages_mapped_untouched", [](FakeWords& w) { w.has_page_mapcount = false, w.npm_w = 1; }},
      {"slot_free_iff_minus_one", [](FakeWords& w) { w.slot_counts[1] = 0; }},
      {"slot_count_nonnegative", [](FakeWords& w) { w.ids[0] = 5, w.slot_counts[0] = -2; }},
      {"slot_ids_distinct",
       [](FakeWords& w) { w.ids[0] = w.ids[1] = 5, w.slot_counts[0] = w.slot_counts[1] = 0, w.large_w = 1; }},
      {"slot_sum_le_large", [](FakeWords& w) { w.ids[0] = 5, w.slot_counts[0] = 1, w.large_w = 0; }},
      {"unmapped_slots_reset", [](FakeWords& w) { w.shared = true; }},
      {"exclusive_one_owner", [](FakeWords& w) { w.large_w = 0; }},
      {"exclusive_owner_has_all", [](FakeWords& w) { w.ids[0] = 5, w.slot_counts[0] = 0, w.large_w = 1; }},
      {"slots_untouched", [](FakeWords& w) { w.has_mm_id = false, w.ids[1] = 3; }},
      {"hugetlb_head_page_type", [](FakeWords& w) { w.is_hugetlb = true, w.head_typed = false; }},
      {"raw_mapcount", [](FakeWords& w) { w.pages[1] = -2; }},
      {"page_mapcount_untouched", [](FakeWords& w) { w.has_page_mapcount = false, w.pages[1] = 0; }},
      {"nr_pages_mapped_recount", [](FakeWords& w) { w.pages[1] = 0; }},
      {"large_mapcount_recount", [](FakeWords& w) { w.pages[1] = 0, w.npm_w = 1; }},
  };
  for (const auto& [check, brk] : cases) {
    SCOPED_TRACE(check);
    FakeWords w;
    brk(w);
    auto f = check_folio_words(w, {0, 4}, true);
    ASSERT_TRUE(f);
    EXPECT_TRUE(names(f->field, check)) << f->field;
  }
}

TEST(EveryCheckFires, EachFreePathCheckNamesTheBadPageReason) {
  ASSERT_FALSE(check_free_words(FakeWords{}));
  const std::pair<const char*, Break> cases[] = {
      {"nonzero mapcount[", [](FakeWords& w) { w.pages[2] = 0; }},
      {"nonzero entire_mapcount", [](FakeWords& w) { w.v6_12 = true, w.entire_w = 0; }},
      {"nonzero mapcount[1]", [](FakeWords& w) { w.rfc = true, w.large_w = 0; }},
      {"nonzero large_mapcount", [](FakeWords& w) { w.large_w = 0; }},
      {"nonzero total_mapped_pages", [](FakeWords& w) { w.rfc = true, w.total = 1; }},
      {"nonzero nr_pages_mapped", [](FakeWords& w) { w.npm_w = 1; }},
      {"nonzero mm mapcount 0", [](FakeWords& w) { w.slot_counts[0] = 0; }},
      {"nonzero mm mapcount 1", [](FakeWords& w) { w.slot_counts[1] = 0; }},
      {"nonzero pincount", [](FakeWords& w) { w.pin = 1; }},
  };
  for (const auto& [check, brk] : cases) {
    SCOPED_TRACE(check);
    FakeWords w;
    brk(w);
    auto f = check_free_words(w);
    ASSERT_TRUE(f);
    EXPECT_TRUE(names(f->field, check)) << f->field;
  }
}

// ---- core/agreement.cpp: a fake implementation that answers like the model except where told ----

class Fake final : public Implementation {
 public:
  Fake(const ReferenceModel& m, std::map<std::pair<Obs, uint32_t>, int64_t> over)
      : m_(m), over_(std::move(over)) {}
  std::string_view name() const override { return "fake"; }
  bool supports(const foliocheck::Setup&) const override { return true; }
  void reset(const foliocheck::Setup&) override {}
  void apply(const Op&) override {}
  bool models(Obs obs) const override {
    for (const auto& [k, v] : over_)
      if (k.first == obs) return true;
    return m_.models(obs);
  }
  int64_t read(Obs obs, uint32_t index) const override {
    if (auto it = over_.find({obs, index}); it != over_.end()) return it->second;
    return m_.models(obs) ? m_.read(obs, index) : 0;
  }
  std::optional<Violation> check_invariants(PageRange, bool) const override { return {}; }
  std::optional<Violation> check_free() const override { return {}; }
  std::span<const std::string> warning_log() const override { return {}; }

 private:
  const ReferenceModel& m_;
  std::map<std::pair<Obs, uint32_t>, int64_t> over_;
};

struct ContractCase {
  const char* check;
  std::vector<Op> history;
  std::map<std::pair<Obs, uint32_t>, int64_t> answers;
};

TEST(EveryCheckFires, EachAgreementContractNamesTheRuleAFakeImplementationBreaks) {
  using O = std::pair<Obs, uint32_t>;
  const O mms{Obs::maybe_mapped_shared, 0}, bit{Obs::shared_bit, 0};
  const O id0{Obs::mm_id, 0}, id1{Obs::mm_id, 1}, n0{Obs::mm_id_mapcount, 0}, n1{Obs::mm_id_mapcount, 1};
  const Op a1 = op(OpKind::add_anon_ptes, 1), a2 = op(OpKind::add_anon_ptes, 2);
  const Op a1b = op(OpKind::add_anon_ptes, 1, 1);
  const ContractCase cases[] = {
      {"differs from the reference model", {a1}, {{{Obs::folio_mapcount, 0}, 7}}},
      {"never false while two or more mms map the folio", {a1, a2}, {{mms, 0}}},
      {"a folio mapped at most once is exclusive", {a1}, {{mms, 1}}},
      {"an unmapped folio has the bit clear", {}, {{mms, 0}, {bit, 1}}},
      {"exact while at most two mms mapped at once since the folio was last unmapped", {a1, a1b},
       {{mms, 1}}},
      {"a slot never counts more mappings than its mm holds", {a1},
       {{mms, 0}, {bit, 0}, {id0, 1}, {n0, 5}, {id1, 0}, {n1, 0}}},
      {"exact slot count while at most two mms mapped at once", {a1, a1b},
       {{mms, 0}, {bit, 0}, {id0, 1}, {n0, 1}, {id1, 0}, {n1, 0}}},
      {"every mapping mm owns a slot while at most two mms mapped at once", {a1},
       {{mms, 0}, {bit, 0}, {id0, 0}, {n0, 0}, {id1, 0}, {n1, 0}}},
      // Three mms mapped in this epoch, one left with two mappings: "shared" is admitted, 5 not.
      {"a reader returns the exact answer or the stale shared bit's",
       {a1, a1b, op(OpKind::add_anon_ptes, 2, 2), op(OpKind::add_anon_ptes, 3, 3),
        op(OpKind::remove_ptes, 2, 2), op(OpKind::remove_ptes, 3, 3),
        op(OpKind::read_maybe_mapped_shared, 0)},
       {{mms, 1}, {bit, 1}, {id0, 1}, {n0, 2}, {id1, 0}, {n1, 0}, {{Obs::result, 0}, 5}}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.check);
    ReferenceModel m;
    m.reset(setup(Semantics::mm_id, 2));
    for (const Op& o : c.history) run(m, o);
    auto v = check_agreement(m, Fake(m, c.answers), {0, 4}, true);
    ASSERT_TRUE(v);
    EXPECT_EQ(v->detail, c.check) << v->describe();
  }
}

TEST(Violation, IsAboutTheObservableItNamesAtAnyIndexAndNeverAnInvariant) {
  const Violation at_index{ViolationKind::mismatch, "v6.12-64", "page_mapcount[3]", 1, 2, ""};
  EXPECT_TRUE(at_index.about(Obs::page_mapcount));
  EXPECT_FALSE(at_index.about(Obs::folio_mapcount));
  const Violation contract{ViolationKind::contract, "mm-id-64", "maybe_mapped_shared", 1, 0, ""};
  EXPECT_TRUE(contract.about(Obs::maybe_mapped_shared));
  const Violation invariant{ViolationKind::invariant, "mm-id-64", "folio_mapcount", 1, 0, ""};
  EXPECT_FALSE(invariant.about(Obs::folio_mapcount));
}

}  // namespace
}  // namespace foliocheck

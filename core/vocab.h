// The words every part of foliocheck speaks: variants, folio shapes, operations and observables.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace foliocheck {

// Kernel configurations (core/semantics.def; spec table at the top): V0 = v6.12, V1 = mm-id,
// V2 = no-page-mapcount, V3 = no-mm-id, and proposals (docs/proposed.md).
enum class Semantics : uint8_t {
#define FOLIOCHECK_SEMANTICS(e, name, next, thp, mm_id, page_mapcount, total_mapped, sentence) e,
#include "core/semantics.def"
#undef FOLIOCHECK_SEMANTICS
};
inline constexpr int kNumSemantics = 0
#define FOLIOCHECK_SEMANTICS(e, name, next, thp, mm_id, page_mapcount, total_mapped, sentence) +1
#include "core/semantics.def"
#undef FOLIOCHECK_SEMANTICS
    ;

// One line of semantics.def: what a configuration has, for code that must tell them apart.
struct SemanticsInfo {
  std::string_view name;
  bool next;           // linux-next code (PUD rmap, average/maybe_mapped_shared readers)
  bool thp;            // CONFIG_TRANSPARENT_HUGEPAGE
  bool mm_id;          // CONFIG_MM_ID
  bool page_mapcount;  // CONFIG_PAGE_MAPCOUNT
  bool total_mapped;   // _total_mapped_pages instead of _entire_mapcount (the 2026 RFC)
  std::string_view sentence;
};
inline constexpr SemanticsInfo kSemanticsInfo[] = {
#define FOLIOCHECK_SEMANTICS(e, name, next, thp, mm_id, page_mapcount, total_mapped, sentence) \
  {name, next, thp, mm_id, page_mapcount, total_mapped, sentence},
#include "core/semantics.def"
#undef FOLIOCHECK_SEMANTICS
};
constexpr const SemanticsInfo& semantics_info(Semantics s) {
  return kSemanticsInfo[static_cast<size_t>(s)];
}

enum class FolioType : uint8_t { anon, file, shmem };

// Page-table geometry and word size. pmd_order/pud_order may be scaled down (e.g. pmd_order=2)
// so that PMD-sized folios have few pages and edge cases appear in short traces.
struct Config {
  Semantics semantics = Semantics::mm_id;
  int bits = 64;
  int pmd_order = 9;
  int pud_order = 18;
  bool operator==(const Config&) const = default;
};

struct FolioShape {
  int order = 0;
  FolioType type = FolioType::anon;
  bool hugetlb = false;
  bool operator==(const FolioShape&) const = default;
};

// Everything a trace header fixes before the first operation.
struct Setup {
  Config config;
  FolioShape folio;
  bool operator==(const Setup&) const = default;

  uint32_t nr_pages() const { return uint32_t{1} << folio.order; }
  bool large() const { return folio.order >= 1; }
  bool anon() const { return folio.type == FolioType::anon; }
  bool pmd_sized() const { return folio.order == config.pmd_order; }
  bool pud_sized() const { return folio.order == config.pud_order; }
  const SemanticsInfo& sem() const { return semantics_info(config.semantics); }
  bool has_mm_id() const { return sem().mm_id; }
  bool has_page_mapcount() const { return sem().page_mapcount; }
  bool has_total_mapped() const { return sem().total_mapped; }
};

// MM_ID_MAX: ids are 1..MM_ID_MAX (MM_ID_DUMMY = 0 never rmaps).
constexpr uint32_t mm_id_max(int bits) { return bits == 64 ? 0x7FFFFFFFu : 0x7FFFu; }
// MM_ID_MAPCOUNT_MAX: INT_MAX on 64-bit, SHRT_MAX on 32-bit.
constexpr int64_t mm_id_mapcount_max(int bits) { return bits == 64 ? 0x7FFFFFFF : 0x7FFF; }

inline constexpr int kEBUSY = 16;
// INT_MAX, which no atomic_t counter may reach, and GUP_PIN_COUNTING_BIAS (include/linux/mm.h).
inline constexpr int64_t kIntMax = 2147483647;
inline constexpr int64_t kGupPinCountingBias = 1024;

// Argument shapes, levels, folio kinds, needs and effects used by ops.def.
enum : unsigned { kArgMm = 1, kArgSrc = 2, kArgRange = 4, kArgPage = 8, kArgExclusive = 16 };
// kRead: a reader (include/linux/mm.h, mm/memory.c) that changes nothing; its value is the
// operation's result (Obs::result). The sequential engines do not generate readers.
enum class Level : uint8_t { kPte, kPmd, kPud, kHugetlb, kAux, kRead };
using enum Level;
enum class FolioKind : uint8_t { kAnonFolio, kFileFolio, kAnyFolio };
using enum FolioKind;
// What the state must hold for a call to be legal: the caller's side of each helper's contract.
enum class Need : uint8_t {
  nothing,           // nothing beyond the setup
  fresh,             // nothing maps the folio: the add_new helpers plain-set the counters
  mm_ptes,           // the mm holds a PTE of every page of the range (an unmap)
  mm_pmd,            // the mm holds a PMD mapping
  mm_pud,            // the mm holds a PUD mapping
  mm_hugetlb,        // the mm holds a hugetlb mapping
  src_ptes,          // the parent (src) holds a PTE of every page of the range (fork)
  src_pmd,           // the parent holds a PMD mapping
  src_hugetlb,       // the parent holds a hugetlb mapping
  pages_mapped,      // every page of the range is PTE-mapped (a dup)
  all_pages_mapped,  // every page of the folio is PTE-mapped
  ae_page,           // the page is PageAnonExclusive
  ae_head,           // the head page is PageAnonExclusive
  mm_maps,           // the mm maps the folio (GUP walks its page tables)
  pinned,            // the folio is pinned
  mm_pte,            // the mm holds a PTE of some page of the folio (a write fault on it)
};
// What one successful call adds.
enum class Adds : uint8_t {
  nothing,    // an unmap, a share or an unpin
  range,      // `nr` page-table entries, one per page of the range
  one,        // one entry mapping the whole folio
  all_pages,  // one PTE for every page of the folio
  new_anon,   // a new anon folio: one entry per page below PMD size, else one PMD
  pin,        // one FOLL_PIN
};

enum class OpKind : uint8_t {
#define FOLIOCHECK_OP(e, name, ...) e,
#include "core/ops.def"
#undef FOLIOCHECK_OP
};
inline constexpr int kNumOpKinds = 0
#define FOLIOCHECK_OP(e, name, ...) +1
#include "core/ops.def"
#undef FOLIOCHECK_OP
    ;

struct OpInfo {
  std::string_view name;  // the kernel function's name, as a trace spells it
  unsigned args;          // kArg* bits
  Level level;
  FolioKind folio;
  Need needs;
  Adds adds;
};
// In the header: every precondition and decoder step asks, and the call would cost more than the
// read.
inline constexpr std::array<OpInfo, kNumOpKinds> kOpInfo = {{
#define FOLIOCHECK_OP(e, name, args, level, folio, needs, adds) \
  {name, args, level, folio, Need::needs, Adds::adds},
#include "core/ops.def"
#undef FOLIOCHECK_OP
}};
inline const OpInfo& op_info(OpKind kind) { return kOpInfo[static_cast<size_t>(kind)]; }
std::optional<OpKind> op_from_name(std::string_view name);

// One call of a kernel rmap helper (or of a pin helper). `page`/`nr` are meaningful for PTE-range
// operations (`page` alone for try_share_anon_pte); PMD/PUD/hugetlb operations cover the folio.
struct Op {
  OpKind kind = OpKind::add_anon_ptes;
  uint32_t mm = 1;         // id of the vma's mm
  uint32_t src = 0;        // parent mm of a dup (kArgSrc)
  uint32_t page = 0;       // first page index
  uint32_t nr = 1;         // number of pages
  bool exclusive = false;  // RMAP_EXCLUSIVE
  uint32_t repeat = 1;     // x=K: the operation runs K times
  bool operator==(const Op&) const = default;
};

// A call spelled out, the way tests and engines write them by hand.
Op make_op(OpKind kind, uint32_t mm = 1, uint32_t page = 0, uint32_t nr = 1, bool exclusive = false,
           uint32_t src = 0, uint32_t repeat = 1);

// A setup spelled out; scaled geometry by default, as tests and searches use it.
Setup make_setup(Semantics semantics, int bits, int order, FolioType type, bool hugetlb = false,
                 int pmd_order = 2, int pud_order = 3);

// Pages [first, last) an operation touches; PMD/PUD/hugetlb operations touch none per page but
// may change per-page observables of the head page (PageAnonExclusive), hence the head.
struct PageRange {
  uint32_t first = 0;
  uint32_t last = 0;
};
PageRange touched_pages(const Op& op, const Setup& setup);
// Page-table entries one successful run of `op` adds (what _large_mapcount grows by).
inline uint64_t mappings_added(const Op& op, const Setup& s) {
  switch (op_info(op.kind).adds) {
    case Adds::range:
      return op.nr;
    case Adds::one:
      return 1;
    case Adds::all_pages:
      return s.nr_pages();
    case Adds::new_anon:
      return s.large() && s.folio.order < s.config.pmd_order ? s.nr_pages() : 1;
    case Adds::nothing:
    case Adds::pin:
      return 0;
  }
  return 0;
}

enum class Obs : uint8_t {
#define FOLIOCHECK_OBS(e, name, indexed, agreement) e,
#include "core/observables.def"
#undef FOLIOCHECK_OBS
};
inline constexpr int kNumObs = 0
#define FOLIOCHECK_OBS(e, name, indexed, agreement) +1
#include "core/observables.def"
#undef FOLIOCHECK_OBS
    ;
enum class Agreement : uint8_t { kExact, kContract };
using enum Agreement;

struct ObsInfo {
  std::string_view name;
  bool indexed;
  Agreement agreement;
};
const ObsInfo& obs_info(Obs obs);
// An observable as `expect` spells it: `name` or `name[index]`.
std::string obs_field(Obs obs, uint32_t index);
// Every index an observable is read at in `setup`: each page, both mm-id slots, each of `mms`, or
// {0} for a scalar.
std::vector<uint32_t> obs_indexes(Obs obs, const Setup& setup, std::span<const uint32_t> mms);
std::optional<Obs> obs_from_name(std::string_view name);

std::string_view semantics_name(Semantics s);
std::optional<Semantics> semantics_from_name(std::string_view name);
std::string_view folio_type_name(FolioType t);
std::optional<FolioType> folio_type_from_name(std::string_view name);

}  // namespace foliocheck

// Name tables for the vocabulary: operations, observables, variants and folio types.
#include "core/vocab.h"

#include <array>

namespace foliocheck {
namespace {

constexpr std::array<ObsInfo, kNumObs> kObs = {{
#define FOLIOCHECK_OBS(e, name, indexed, agreement) {name, indexed, agreement},
#include "core/observables.def"
#undef FOLIOCHECK_OBS
}};

constexpr std::array<std::string_view, 3> kTypes = {"anon", "file", "shmem"};

}  // namespace

std::optional<OpKind> op_from_name(std::string_view name) {
  for (size_t i = 0; i < kOpInfo.size(); i++)
    if (kOpInfo[i].name == name) return static_cast<OpKind>(i);
  return std::nullopt;
}

const ObsInfo& obs_info(Obs obs) { return kObs[static_cast<size_t>(obs)]; }

std::optional<Obs> obs_from_name(std::string_view name) {
  for (size_t i = 0; i < kObs.size(); i++)
    if (kObs[i].name == name) return static_cast<Obs>(i);
  return std::nullopt;
}

std::string_view semantics_name(Semantics s) { return semantics_info(s).name; }

std::optional<Semantics> semantics_from_name(std::string_view name) {
  for (int i = 0; i < kNumSemantics; i++)
    if (kSemanticsInfo[i].name == name) return static_cast<Semantics>(i);
  return std::nullopt;
}

std::string_view folio_type_name(FolioType t) { return kTypes[static_cast<size_t>(t)]; }

std::optional<FolioType> folio_type_from_name(std::string_view name) {
  for (size_t i = 0; i < kTypes.size(); i++)
    if (kTypes[i] == name) return static_cast<FolioType>(i);
  return std::nullopt;
}

Op make_op(OpKind kind, uint32_t mm, uint32_t page, uint32_t nr, bool exclusive, uint32_t src,
           uint32_t repeat) {
  Op o;
  o.kind = kind;
  o.mm = mm;
  o.page = page;
  o.nr = nr;
  o.exclusive = exclusive;
  o.src = src;
  o.repeat = repeat;
  return o;
}

Setup make_setup(Semantics semantics, int bits, int order, FolioType type, bool hugetlb,
                 int pmd_order, int pud_order) {
  Setup s;
  s.config = {semantics, bits, pmd_order, pud_order};
  s.folio.order = order;
  s.folio.type = type;
  s.folio.hugetlb = hugetlb;
  return s;
}

PageRange touched_pages(const Op& op, const Setup& setup) {
  const uint32_t n = setup.nr_pages();
  const unsigned args = op_info(op.kind).args;
  if (args & kArgRange) {
    // Clamped: an invalid range (--allow-invalid) must not make a sweep read past the folio.
    uint32_t first = op.page < n ? op.page : n;
    uint64_t last = uint64_t{op.page} + op.nr;
    return {first, static_cast<uint32_t>(last < n ? last : n)};
  }
  if (args & kArgPage) return {op.page < n ? op.page : n, op.page < n ? op.page + 1 : n};
  // Whole-folio operations change per-page observables only through the head page (AE bit, and
  // folio_dup_file_rmap_pmd, which the kernel runs as a PTE-level dup of every page).
  const Adds adds = op_info(op.kind).adds;
  if (adds == Adds::all_pages || adds == Adds::new_anon) return {0, n};
  return {0, 1};
}

std::string obs_field(Obs obs, uint32_t index) {
  std::string f(obs_info(obs).name);
  if (obs_info(obs).indexed) f += "[" + std::to_string(index) + "]";
  return f;
}

// The indexes an observable has in `setup` with these mms. A switch without default, so that an
// indexed observable added to observables.def does not compile until it says what it is indexed by.
std::vector<uint32_t> obs_indexes(Obs obs, const Setup& setup, std::span<const uint32_t> mms) {
  if (!obs_info(obs).indexed) return {0};
  switch (obs) {
    case Obs::page_mapcount:
    case Obs::anon_exclusive: {
      std::vector<uint32_t> pages(setup.nr_pages());
      for (uint32_t i = 0; i < pages.size(); i++) pages[i] = i;
      return pages;
    }
    case Obs::mm_mapcount:
      return {mms.begin(), mms.end()};
    case Obs::mm_id:
    case Obs::mm_id_mapcount:
      return {0, 1};
    case Obs::folio_mapcount:
    case Obs::mapped:
    case Obs::entire_mapcount:
    case Obs::nr_pages_mapped:
    case Obs::entirely_mapped:
    case Obs::total_mapped_pages:
    case Obs::average_page_mapcount:
    case Obs::maybe_mapped_shared:
    case Obs::likely_mapped_shared:
    case Obs::shared_bit:
    case Obs::pincount:
    case Obs::maybe_dma_pinned:
    case Obs::partially_mapped:
    case Obs::ret:
    case Obs::result:
    case Obs::warnings:
    case Obs::nr_anon_mapped:
    case Obs::nr_file_mapped:
    case Obs::nr_anon_thps:
    case Obs::nr_shmem_pmdmapped:
    case Obs::nr_file_pmdmapped:
      break;
  }
  return {0};
}

}  // namespace foliocheck

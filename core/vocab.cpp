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

// How many page-table entries the operation adds (a successful dup included).
uint64_t mappings_added(const Op& op, const Setup& s) {
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

}  // namespace foliocheck

// Which operations are legal now: the one definition the model's precondition, explore, the fuzz decoder and the generators share.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "core/reference_model.h"
#include "core/vocab.h"

namespace foliocheck {

// Whether an operation of this kind can ever be called on a folio of this setup (its folio kind,
// level and geometry), from ops.def's columns; why not, in kernel terms, or nullopt.
std::optional<std::string> op_fits_setup(OpKind kind, const Setup& setup);
// Whether op_fits_setup() is nullopt, without building the sentence: what inner loops ask.
bool op_fits(OpKind kind, const Setup& setup);

// Whether some operation of this kind is legal in the model's current state as far as its Need
// goes (ops.def): e.g. an unmap needs a mapping to remove. The model's precondition may still
// refuse a particular call (ranges, RMAP_EXCLUSIVE rules); engines use this to skip dead kinds.
bool op_enabled(OpKind kind, const ReferenceModel& model);

// Why this call's Need is not met now (e.g. "mm holds no PMD mapping of the folio"), or nullopt.
std::optional<std::string> need_unmet(const Op& op, const ReferenceModel& model);
// Whether need_unmet() is nullopt, without building the sentence: what inner loops ask.
bool need_met(const Op& op, const ReferenceModel& model);

// The page-level rules of a call, for a folio of at most 64 pages: bit p is set when they accept
// page p as a page of its range (its Need's per-page part, such as "mm holds a PTE of the page",
// and folio_add_anon_rmap_ptes()'s PageAnonExclusive rule); op.page and op.nr are ignored. A call
// with a page of its range outside the mask is refused; one inside may still be refused by the
// rest of the precondition. Engines that ask about every range of one call in one state (explore)
// work this out once for all of them. Every bit is set for a call without page-level rules.
uint64_t pages_accepted(const Op& op, const ReferenceModel& model);
// Whether calls of this kind have page-level rules (pages_accepted() is not all ones for them).
bool has_page_rules(OpKind kind);
// The pages a well-formed call's page-level rules look at (its range, or its one page), as a mask
// in pages_accepted()'s terms: the call passes those rules when it has no page outside the mask.
inline uint64_t range_pages(const Op& op) {
  const uint32_t nr = (op_info(op.kind).args & kArgRange) ? op.nr : 1;
  return (nr >= 64 ? ~uint64_t{0} : (uint64_t{1} << nr) - 1) << op.page;
}

// The overflow rule: a call must not carry _large_mapcount or _refcount (mappings plus
// GUP_PIN_COUNTING_BIAS per pin) to INT_MAX, which is no kernel code path.
std::optional<std::string> overflow_reason(const Op& op, const ReferenceModel& model);
// Whether overflow_reason() is nullopt, without building the sentence: what inner loops ask.
bool overflow_free(const Op& op, const ReferenceModel& model);
// How many calls of `op` in a row stay clear of that overflow (at least 1; kMaxRepeatCap if no
// limit).
inline constexpr uint64_t kMaxRepeatCap = 1000000;
uint64_t repeats_before_overflow(const Op& op, const ReferenceModel& model);

// The canonical form of a call: the keys ops.def says it does not take are at their defaults, as
// the parser leaves them, so that equal calls compare and print equal.
Op canonical_op(Op op);

// Needs about the mm that calls (an unmap, a pin) and about a fork's parent (src).
inline bool need_is_mm(Need n) {
  return n == Need::mm_ptes || n == Need::mm_pmd || n == Need::mm_pud || n == Need::mm_hugetlb ||
         n == Need::mm_maps || n == Need::mm_pte;
}
inline bool need_is_src(Need n) {
  return n == Need::src_ptes || n == Need::src_pmd || n == Need::src_hugetlb;
}
// Needs about each page of a call's range (or its one page): the page-level half of the rules.
inline bool need_is_per_page(Need n) {
  return n == Need::mm_ptes || n == Need::src_ptes || n == Need::pages_mapped || n == Need::ae_page;
}
// Whether `mm` holds the mappings `need` is about, and how many of them (whole-folio levels).
bool mm_holds(const MmMappings& mm, Need need);
uint32_t mm_held(const MmMappings& mm, Need need);

// Readers (Level kRead): they change nothing, so the sequential engines (explore, fuzz, the
// property generators) do not generate them; concurrent blocks use them (docs/interleave.md).
bool op_is_reader(OpKind kind);

// Whether the engines may treat this kind as touching one mm's mappings only (it takes an mm and
// its Need is about that mm alone), so that operations of different mms commute.
bool op_is_per_mm(OpKind kind);

}  // namespace foliocheck

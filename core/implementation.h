// The one interface every implementation of folio mapcount semantics offers, and its contract.
#pragma once

#include <bit>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/vocab.h"

namespace foliocheck {

// What went wrong, found by check_agreement() or by an implementation's own invariants.
// `mismatch` and `contract` compare an implementation with the reference model; `invariant` is an
// implementation disagreeing with itself; `harness` is foliocheck disagreeing with itself (the
// model's cached aggregates against a recount) and is never reported as a finding.
enum class ViolationKind : uint8_t { mismatch, contract, invariant, harness };
std::string_view violation_kind_name(ViolationKind k);

struct Violation {
  ViolationKind kind = ViolationKind::mismatch;
  std::string impl;    // implementation name
  std::string field;   // observable as `expect` spells it ("page_mapcount[3]"), or invariant name
  int64_t expected = 0;
  int64_t actual = 0;
  std::string detail;  // one sentence: the rule that was broken

  // Stable across runs and reductions: kind, implementation and field without indexes. Used to
  // group fuzz findings and to keep a reducer on the same bug.
  std::string signature() const;
  std::string describe() const;
  // Whether the violation is about this observable (at any index).
  bool about(Obs obs) const;
};

// An implementation holds ONE folio and applies rmap operations to it.
//
// Contract (every implementation, the reference model included):
//  - reset(setup) builds a fresh folio as prep_compound_head does (every counter at its initial
//    value, no mapping, no pin, statistics zero). Only called with a setup supports() accepts.
//  - apply(op) runs the operation ONCE (callers expand `x=K`). When the model accepted the
//    operation, the implementation must behave as the kernel does, including -EBUSY answers.
//    Otherwise (replay --allow-invalid) it must still not crash, leak or write outside its own
//    storage; each kernel sanity check (VM_WARN_ON*, VM_BUG_ON*) that fires adds one to
//    `warnings` and one line to warning_log(), and the implementation goes on the way the kernel
//    goes on. apply() does not allocate on the heap in the common case.
//  - read(obs, index) returns LOGICAL values: -1 biases live only inside encodings. Booleans are
//    0/1, `ret` is 0 or -EBUSY (-16). read() is only called for observables models() accepts,
//    with index < nr_pages for page observables and index in {0,1} for slots; it may cost O(1)
//    only, except average_page_mapcount etc. which are O(1) formulas too.
//  - models(obs) says whether read() is meaningful for the current setup (e.g. page_mapcount is
//    not, under no-page-mapcount, where the kernel has no per-page count).
//  - check_invariants(scope, full) checks the implementation's own invariants (spec "(b)") that
//    need no reference: O(1) folio-wide ones always, per-page ones for pages in `scope`, and the
//    O(nr_pages) recounts only when `full` is set. Returns the first violation.
//  - check_free() is what free_folio would check; only meaningful once nothing maps or pins.
// How an implementation writes mm ids into state_words(): every id of the search as one name
// (kSearched), since which mm is which is what mm_state_word() tells apart; 0 (MM_ID_DUMMY) stays
// 0, and any other id is kept apart from it and from each other. Explore keys a state by a sum of
// per-mm hashes, which needs no renaming of the mms, only that no id-bearing word outside them
// names one.
struct MmCanon {
  static constexpr uint64_t kSearched = 1;
  std::span<const uint32_t> ids;
  uint64_t operator()(uint64_t id) const {
    for (size_t i = 0; i < ids.size(); i++)
      if (ids[i] == id) return kSearched;
    return id == 0 ? 0 : (uint64_t{1} << 40) + id;
  }
};

class Implementation {
 public:
  virtual ~Implementation() = default;
  virtual std::string_view name() const = 0;
  virtual bool supports(const Setup& setup) const = 0;
  virtual void reset(const Setup& setup) = 0;
  virtual void apply(const Op& op) = 0;
  virtual bool models(Obs obs) const = 0;
  virtual int64_t read(Obs obs, uint32_t index = 0) const = 0;
  virtual std::optional<Violation> check_invariants(PageRange scope, bool full) const = 0;
  // The kernel's free-path checks (spec 1.3: free_tail_page_prepare, "nonzero mapcount" on every
  // page, "on deferred list" is NOT one of ours since PG_partially_mapped is sticky): called when
  // the model holds no mapping and no pin; the first failing check, or nullopt.
  virtual std::optional<Violation> check_free() const = 0;
  virtual std::span<const std::string> warning_log() const = 0;
  // What check_agreement() asks for every state it checks, in as few calls as an implementation
  // can manage; the answers are exactly those of models() and read() (the defaults ask them one
  // by one, and an override must agree with them):
  //  - models_mask(): bit i set when models(Obs i);
  //  - read_scalars(which, out): out[i] = read(Obs i) for every bit i of `which`, which names
  //    modelled observables that are not indexed; the other entries are left alone;
  //  - read_pages(obs, first, out): out[j] = read(obs, first + j) for j < out.size(), for a
  //    modelled page observable and pages inside the folio.
  virtual uint64_t models_mask() const { return models_mask_of(*this); }
  virtual void read_scalars(uint64_t which, std::span<int64_t, kNumObs> out) const {
    read_scalars_via([this](Obs obs, uint32_t index) { return read(obs, index); }, which, out);
  }
  virtual void read_pages(Obs obs, uint32_t first, std::span<int64_t> out) const {
    read_pages_via([this](Obs o, uint32_t index) { return read(o, index); }, obs, first, out);
  }
  // The loops of the defaults above, for an implementation to call with its own reader (its
  // read()'s body, inlined): models() and reads are then direct calls the compiler can fold.
  template <class Impl>
  static uint64_t models_mask_of(const Impl& impl) {
    uint64_t mask = 0;
    for (int i = 0; i < kNumObs; i++)
      if (impl.models(static_cast<Obs>(i))) mask |= uint64_t{1} << i;
    return mask;
  }
  template <class Read>
  static void read_scalars_via(const Read& read, uint64_t which, std::span<int64_t, kNumObs> out) {
    for (; which; which &= which - 1) {
      const int i = std::countr_zero(which);
      out[static_cast<size_t>(i)] = read(static_cast<Obs>(i), 0);
    }
  }
  template <class Read>
  static void read_pages_via(const Read& read, Obs obs, uint32_t first, std::span<int64_t> out) {
    // A loop per page observable: with `obs` a constant inside it, an inlined reader drops its
    // switch, so a page costs its own expression only.
    int64_t* const to = out.data();
    const size_t n = out.size();
    auto each = [&]<Obs kObs>() {
      for (size_t j = 0; j < n; j++) to[j] = read(kObs, first + static_cast<uint32_t>(j));
    };
    switch (obs) {
      case Obs::page_mapcount:
        return each.template operator()<Obs::page_mapcount>();
      case Obs::anon_exclusive:
        return each.template operator()<Obs::anon_exclusive>();
      default:
        for (size_t j = 0; j < n; j++) to[j] = read(obs, first + static_cast<uint32_t>(j));
    }
  }
  // Makes this implementation's state a copy of `other`'s (the same implementation, reset to the
  // same setup), without allocating in the common case: engines branch from a state instead of
  // replaying the path to it. False when this implementation cannot (the default); callers then
  // reset and replay.
  virtual bool assign_state(const Implementation& other) {
    (void)other;
    return false;
  }
  // Writes words that determine this implementation's whole state (everything a read, a check or
  // a later operation depends on) up to which mm is which: every mm id in them written as
  // canon(id). Together with mm_state_word() of every mm of the search they determine the state:
  // two states whose words are equal, and whose mms pair up with equal mm_state_word()s, behave
  // alike in every future and every check, up to the names of the mms. Explore keys states by
  // them and checks a state only when it is new. Returns how many words the state takes; when
  // that is more than out.size(), nothing is written and the caller asks again with that much
  // room. 0 (the default) when the implementation cannot; explore then keys the state by its
  // reads and checks every transition.
  virtual size_t state_words(std::span<uint64_t> out, const MmCanon& canon) const {
    (void)out;
    (void)canon;
    return 0;
  }
  // What this implementation's state says about mm `mm` that state_words() leaves out by naming
  // every mm alike (which slot it owns, whether its MMF_HAS_PINNED is set, ...): 0 for an mm it
  // never heard of. Only asked of an implementation whose state_words() is not 0.
  virtual uint32_t mm_state_word(uint32_t mm) const {
    (void)mm;
    return 0;
  }
};

}  // namespace foliocheck

// What the unit tests share: calls spelled out, a model step that must be legal, a mutant for one scope.
#pragma once

#include <gtest/gtest.h>

#include "core/reference_model.h"
#include "core/vocab.h"
#include "impl/mutants.h"

namespace foliocheck::testing {

inline Op op(OpKind k, uint32_t mm = 1, uint32_t page = 0, uint32_t nr = 1, bool excl = false,
             uint32_t src = 0) {
  return make_op(k, mm, page, nr, excl, src);
}

// Applies `o` to the model after asserting its precondition holds.
inline void run(ReferenceModel& m, const Op& o) {
  auto why = m.precondition(o);
  ASSERT_FALSE(why) << *why;
  m.apply(o);
}

// Selects a mutant until the end of the scope, and restores "no mutant" even when an assertion
// returns early, so that it never leaks into the next test.
class MutantScope {
 public:
  explicit MutantScope(Mutant m) { set_active_mutant(m); }
  ~MutantScope() { set_active_mutant(Mutant::none); }
  MutantScope(const MutantScope&) = delete;
  MutantScope& operator=(const MutantScope&) = delete;
};

}  // namespace foliocheck::testing

// What the unit tests share: calls spelled out, and a model step that must be legal.
#pragma once

#include <gtest/gtest.h>

#include "core/reference_model.h"
#include "core/vocab.h"

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

}  // namespace foliocheck::testing

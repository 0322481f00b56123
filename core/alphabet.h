// The operations a search tries in a state before the model's precondition filters them.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "core/vocab.h"

namespace foliocheck {

// Every kind that fits the setup (readers left out: no engine that searches states generates
// them), every mm of `ids` (and every other one as src), exclusive both ways, and the ranges and
// pages: all of them when the folio has at most `all_ranges_up_to` pages, else a fixed handful
// (whole, halves, first, last, middle). `overflow`: also the whole-folio PTE calls repeated just
// below and just past SHRT_MAX + 1 logical mappings of one mm, which reach the 32-bit slot
// overflow in one statement.
std::vector<Op> op_alphabet(const Setup& setup, std::span<const uint32_t> ids,
                            uint32_t all_ranges_up_to, bool overflow);

}  // namespace foliocheck

// Random small concurrent blocks from reachable states, for `foliocheck interleave --generate`.
#pragma once

#include <cstdint>
#include <optional>
#include <random>
#include <string>

#include "trace/trace.h"

namespace foliocheck {

// One random trace for `impl`: a small folio (order 1 or 2, anon or file, scaled PMD geometry) in
// a semantics the implementation supports, a random sequential prefix of 0 to 3 operations each
// legal when it runs (the model's precondition, core/legality.h), then a `concurrent` block of 2
// or 3 operations on disjoint mms (a fork's parent counts), each legal after the prefix and the block legal in every
// order. nullopt when no such block was found in a bounded number of tries (rare).
std::optional<Trace> generate_concurrent_trace(std::mt19937_64& rng, const std::string& impl);

}  // namespace foliocheck

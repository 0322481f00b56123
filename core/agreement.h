// The single definition of agreement between the reference model and an implementation.
#pragma once

#include <optional>

#include "core/implementation.h"
#include "core/reference_model.h"

namespace foliocheck {

// Compares `impl` with `model` after an operation. Exact observables compare value for value
// wherever both model them; history-dependent ones (the mm-id slots and the shared bit) are
// judged by their contracts (spec 5.2); then the implementation's own invariants run. Per-page
// observables are compared for pages in `scope`, or for every page when `full` is set (together
// with the implementation's O(nr_pages) recounts, the model's own recount, and the free-path checks
// once nothing maps or pins the folio). Returns the first violation.
std::optional<Violation> check_agreement(const ReferenceModel& model, const Implementation& impl,
                                         PageRange scope, bool full);

}  // namespace foliocheck

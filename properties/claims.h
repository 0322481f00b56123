// The suite's claims as RapidCheck property bodies, shared by the tests and the mutant killer.
#pragma once

#include <cstdint>
#include <string_view>

#include "properties/generators.h"

namespace foliocheck::props {

// Claims checked on a generated operation sequence (rc::state) after every operation.
enum class Claim : uint8_t {
  agreement,       // every encoding agrees with the reference model (Differential, agreement.h)
  invariants,      // every encoding's own invariants hold, whatever the model says
  unmap_restores,  // unmapping every mapping restores every counter; free-path checks pass
  statistics,      // statistics equal the variant's declarative accounting rule
  maybe_mapped_shared,  // never false while >= 2 mms map; exact while <= 2 mms mapped at once
};

// Property bodies: call inside rc::check / run_property. They draw a scenario from `options`.
void state_machine_claim(Claim claim, const ScenarioOptions& options);
// Exact observables do not depend on the order in which independent mms map and unmap.
void order_independence_claim(const ScenarioOptions& options);
// print/parse of a generated trace round-trips, and replaying it twice gives the same observations.
void round_trip_claim(const ScenarioOptions& options);

}  // namespace foliocheck::props

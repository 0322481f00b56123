// RapidCheck generators of setups and rmap operations, biased toward where mapcount bugs live.
#pragma once

#include <rapidcheck.h>

#include <cstdint>
#include <iosfwd>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/differential.h"
#include "impl/registry.h"
#include "core/reference_model.h"

namespace foliocheck::props {

// What the setup generator may produce.
struct ScenarioOptions {
  // Only setups that at least one of these implementations supports, and only these run; empty:
  // every implementation from implementation_names().
  std::vector<std::string> impls;
  std::vector<Semantics> semantics;  // empty: every one of core/semantics.def
  bool allow_bulk = true;            // x=K maps that overflow a 32-bit slot (slow: ~33000 steps)
  bool allow_hugetlb = true;
  bool allow_real_pmd = true;  // pmd_order=9 folios (512 pages) now and then
  uint32_t min_mms = 1;
  uint32_t max_mms = 4;
};

// One test case's world: the folio, the mms that may map it, and which rare paths to push toward.
struct Scenario {
  Setup setup;
  std::vector<uint32_t> mms;       // distinct mm ids
  bool bulk = false;               // one mm may map the folio more than SHRT_MAX times
  bool pins = false;               // favour gup_pin and the dups and shares that then answer -EBUSY
  std::vector<std::string> impls;  // the implementations that support `setup` and run
};

rc::Gen<Scenario> gen_scenario(const ScenarioOptions& options);
// How RapidCheck shows a scenario in a counterexample: the trace header and the mm ids.
void showValue(const Scenario& scenario, std::ostream& os);

// Every implementation named in `names` (all if empty) that supports `setup`.
std::vector<std::string> supporting_impls(const Setup& setup,
                                          const std::vector<std::string>& names);
Differential make_differential(const Scenario& scenario);

// Restricts the operations gen_op produces.
struct OpFilter {
  // Only operations whose validity and effect on exact observables depend on their own mm alone
  // (no fork, no RMAP_EXCLUSIVE, no unpin, no fresh-folio helper), for the order-independence
  // claim.
  bool independent = false;
  std::optional<uint32_t> mm;  // every operation goes through this mm
};

// What an operation generator sees: a snapshot of the model (shared, since generators shrink long
// after the state that made them has moved on).
struct GenContext {
  std::shared_ptr<const ReferenceModel> model;
  std::shared_ptr<const Scenario> scenario;
  OpFilter filter;
};

// A candidate operation, valid by construction in most cases; callers keep only those
// invalid_reason() accepts (rc::state retries through checkPreconditions).
rc::Gen<Op> gen_op(GenContext ctx);

// Fields an operation does not take set to what the trace parser gives them, so that a generated
// operation prints and parses back to itself.

// Why `op` (every one of its x=K repetitions) would be invalid on `model` now, or nullopt.
std::optional<std::string> invalid_reason(const ReferenceModel& model, const Op& op);
// Applies every repetition of a valid operation to the model.
void apply_op(ReferenceModel& model, const Op& op);

// Inside a generator or property only. A uniform index below n whatever the test case's size
// (rc::gen::inRange scales with size and would always answer 0 in small cases); shrinks toward 0.
uint32_t pick(uint32_t n);
// True with probability num/den; shrinks toward false.
bool chance(uint32_t num, uint32_t den);

// A valid operation from gen_op, or nullopt when a few candidates in a row were all invalid.
std::optional<Op> gen_valid_op(const ReferenceModel& model,
                               std::shared_ptr<const Scenario> scenario, const OpFilter& filter);

// The same operation once (x=1).
inline Op once(Op op) {
  op.repeat = 1;
  return op;
}

}  // namespace foliocheck::props

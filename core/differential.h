// Runs the reference model and a set of implementations in lock step, checking agreement.
#pragma once

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/agreement.h"
#include "core/implementation.h"
#include "core/reference_model.h"

namespace foliocheck {

// What one operation (all of its `x=K` repetitions) did.
struct StepOutcome {
  enum Kind : uint8_t { ok, invalid, violation } kind = ok;
  uint32_t repetition = 0;       // 0-based repetition of `x=K` that was invalid or violated
  std::string invalid_reason;    // precondition that failed, in kernel terms
  std::optional<Violation> found;
};

// The differential step every engine uses (replay, properties, fuzz targets, explore).
// Cost per operation is proportional to the pages it touches: per-page observables are compared
// on the touched pages only, and everything is swept every `sweep_every` operations and by
// finish().
class Differential {
 public:
  explicit Differential(std::vector<std::unique_ptr<Implementation>> impls);

  // Names the implementations that don't support `setup`, comma-separated; empty if all do.
  std::string unsupported(const Setup& setup) const;
  void reset(const Setup& setup);
  // Checks the precondition of every repetition, then applies and checks each one. An invalid
  // repetition stops before anything runs for it.
  StepOutcome step(const Op& op);
  // Applies `op` to the implementations only, without the model or any check: what replay
  // --allow-invalid does with the one invalid operation that ends it.
  void step_unchecked(const Op& op);
  // Applies `op` (every repetition) to the model and the implementations without any check: a
  // prefix that was checked before, as explore replays the path to a known state.
  void advance(const Op& op);
  // Makes the model and every implementation copies of `other`'s (a Differential of the same
  // implementations, in the same order): explore branches from a parent state this way. False if
  // an implementation cannot copy its state; then this differential must be reset before use.
  bool assign_state(const Differential& other);
  // Full sweep: every page, every recount, the model's own recount, free-path checks.
  std::optional<Violation> finish();

  const ReferenceModel& model() const { return m_model; }
  std::span<const std::unique_ptr<Implementation>> impls() const { return m_impls; }
  uint64_t operations() const { return m_operations; }
  // 0: every max(64, nr_pages) operations; kNeverSweep: only finish() compares every page, so that a sweep's O(nr_pages) cost stays within a
  // constant factor of the operations it covers, whatever the folio size.
  uint32_t sweep_every = 0;
  static constexpr uint32_t kNeverSweep = UINT32_MAX;

 private:
  std::optional<Violation> check(PageRange scope, bool full);

  ReferenceModel m_model;
  std::vector<std::unique_ptr<Implementation>> m_impls;
  uint64_t m_operations = 0;
  uint32_t m_since_sweep = 0;
};

}  // namespace foliocheck

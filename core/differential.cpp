// Runs the reference model and a set of implementations in lock step, checking agreement.
#include "core/differential.h"

#include <algorithm>

namespace foliocheck {

Differential::Differential(std::vector<std::unique_ptr<Implementation>> impls)
    : m_impls(std::move(impls)) {}

std::string Differential::unsupported(const Setup& setup) const {
  std::string out;
  for (const auto& impl : m_impls) {
    if (impl->supports(setup)) continue;
    if (!out.empty()) out += ',';
    out += impl->name();
  }
  return out;
}

void Differential::reset(const Setup& setup) {
  m_model.reset(setup);
  for (auto& impl : m_impls) impl->reset(setup);
  m_operations = 0;
  m_since_sweep = 0;
}

std::optional<Violation> Differential::check(PageRange scope, bool full) {
  if (full)
    if (auto v = m_model.check_invariants(scope, true)) return v;
  for (const auto& impl : m_impls)
    if (auto v = check_agreement(m_model, *impl, scope, full)) return v;
  return std::nullopt;
}

StepOutcome Differential::step(const Op& op) {
  StepOutcome out;
  const Setup& setup = m_model.setup();
  const PageRange scope = touched_pages(op, setup);
  for (uint32_t k = 0; k < op.repeat; k++) {
    if (auto why = m_model.precondition(op)) {
      out.kind = StepOutcome::invalid;
      out.repetition = k;
      out.invalid_reason = std::move(*why);
      return out;
    }
    m_model.apply(op);
    for (auto& impl : m_impls) impl->apply(op);
    m_operations++;
    const uint32_t period = sweep_every ? sweep_every : std::max<uint32_t>(64, setup.nr_pages());
    const bool full = ++m_since_sweep >= period;
    if (full) m_since_sweep = 0;
    if (auto v = check(scope, full)) {
      out.kind = StepOutcome::violation;
      out.repetition = k;
      out.found = std::move(v);
      return out;
    }
  }
  return out;
}

void Differential::step_unchecked(const Op& op) {
  for (uint32_t k = 0; k < op.repeat; k++)
    for (auto& impl : m_impls) impl->apply(op);
}

bool Differential::assign_state(const Differential& other) {
  if (other.m_impls.size() != m_impls.size()) return false;
  m_model = other.m_model;
  for (size_t i = 0; i < m_impls.size(); i++)
    if (!m_impls[i]->assign_state(*other.m_impls[i])) return false;
  m_operations = other.m_operations;
  m_since_sweep = other.m_since_sweep;
  return true;
}

void Differential::advance(const Op& op) {
  m_model.apply_times(op, op.repeat);
  // Implementation by implementation: each is independent of the others, and its code and state
  // stay in cache for the whole run.
  for (auto& impl : m_impls)
    for (uint32_t k = 0; k < op.repeat; k++) impl->apply(op);
}

std::optional<Violation> Differential::finish() {
  m_since_sweep = 0;
  return check({0, 0}, true);
}

}  // namespace foliocheck

// How a violation is named (its signature) and described to a person.
#include <array>

#include "core/implementation.h"

namespace foliocheck {

std::string_view violation_kind_name(ViolationKind k) {
  static constexpr std::array<std::string_view, 4> kNames = {"mismatch", "contract", "invariant",
                                                             "harness"};
  return kNames[static_cast<size_t>(k)];
}

std::string Violation::signature() const {
  // Indexes vary between reductions of the same bug; the field name does not.
  std::string f = field.substr(0, field.find('['));
  for (char& c : f)
    if (c == ' ' || c == '/' || c == ':') c = '_';
  return std::string(violation_kind_name(kind)) + "-" + impl + "-" + f;
}

std::string Violation::describe() const {
  return std::string(violation_kind_name(kind)) + " in " + impl + ": " + field + " expected " +
         std::to_string(expected) + ", actual " + std::to_string(actual) + " (" + detail + ")";
}

bool Violation::about(Obs obs) const {
  // Invariants and harness checks have names of their own, which may read like an observable's.
  if (kind != ViolationKind::mismatch && kind != ViolationKind::contract) return false;
  return std::string_view(field).substr(0, field.find('[')) == obs_info(obs).name;
}

}  // namespace foliocheck

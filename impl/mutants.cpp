// The mutant table built from mutants.def, name lookup, and the process-wide active mutant.
#include "impl/mutants.h"

#include <array>

namespace foliocheck {
namespace detail {
Mutant g_active_mutant = Mutant::none;
}  // namespace detail

namespace {

constexpr std::array kMutants = {
#define FOLIOCHECK_MUTANT(e, name, encodings, sentence) \
  MutantInfo{Mutant::e, name, encodings, sentence},
#include "impl/mutants.def"
#undef FOLIOCHECK_MUTANT
};

}  // namespace

std::span<const MutantInfo> all_mutants() { return kMutants; }

std::optional<Mutant> mutant_from_name(std::string_view name) {
  if (name == "none") return Mutant::none;
  for (const MutantInfo& info : kMutants)
    if (info.name == name) return info.mutant;
  return std::nullopt;
}

}  // namespace foliocheck

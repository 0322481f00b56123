// The run-time switch that plants one mistake from mutants.def into the encodings.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace foliocheck {

enum class Mutant : uint8_t {
  none,
#define FOLIOCHECK_MUTANT(e, name, encodings, sentence) e,
#include "impl/mutants.def"
#undef FOLIOCHECK_MUTANT
};

struct MutantInfo {
  Mutant mutant;
  std::string_view name;
  std::string_view encodings;
  std::string_view sentence;
};

// Every mutant except `none`, in table order.
std::span<const MutantInfo> all_mutants();
std::optional<Mutant> mutant_from_name(std::string_view name);

namespace detail {
extern Mutant g_active_mutant;
}
// Never active unless a tool or test selected one; process-wide, like a sanitizer option.
inline bool mutant_active(Mutant m) { return detail::g_active_mutant == m; }
inline void set_active_mutant(Mutant m) { detail::g_active_mutant = m; }
inline Mutant active_mutant() { return detail::g_active_mutant; }

}  // namespace foliocheck

// The verdict of a legality check written once for two callers: one that wants the sentence, one
// that only asks yes or no.
#pragma once

#include <optional>
#include <string>
#include <type_traits>

namespace foliocheck {

// With Why, the reason a call is refused (nullopt: allowed); without, only whether it is refused.
// Engines ask the second millions of times a second, so that form builds no string, not even an
// empty one. `{}` is "allowed" in both forms, and `if (auto why = check()) return why;` forwards
// a refusal in both.
template <bool Why>
using Refusal = std::conditional_t<Why, std::optional<std::string>, bool>;

template <bool Why>
Refusal<Why> refuse(const char* what) {
  if constexpr (Why) {
    return std::string(what);
  } else {
    (void)what;
    return true;
  }
}

// `sentence` is called only when the sentence is wanted: it may concatenate at will.
template <bool Why, class Sentence>
Refusal<Why> refuse_with(Sentence&& sentence) {
  if constexpr (Why) {
    return Refusal<Why>(sentence());
  } else {
    (void)sentence;
    return true;
  }
}

}  // namespace foliocheck

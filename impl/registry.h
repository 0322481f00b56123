// The registry: names every implementation and selects the ones that serve a setup, for every engine.
#pragma once

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/implementation.h"

namespace foliocheck {

// One line of encodings.def, for engines that pick encodings by semantics and word size.
struct EncodingInfo {
  Semantics semantics;
  int bits;
  std::string_view name;
  std::string_view sentence;
};
std::span<const EncodingInfo> encodings();

// Names of all encodings (encodings.def) plus the kernel implementations built in.
std::vector<std::string_view> implementation_names();
// nullptr if no implementation has that name.
std::unique_ptr<Implementation> make_implementation(std::string_view name);

// Which implementations serve `setup`: with `wanted` empty, every registered one that supports it;
// otherwise the named ones, each checked.
struct ImplementationChoice {
  std::vector<std::string> names;        // the implementations that serve the setup
  std::vector<std::string> unsupported;  // named, but without support for this setup
  std::optional<std::string> unknown;    // a name no implementation has
  // One sentence for the first problem, or nullopt: what replay and explore refuse with.
  std::optional<std::string> error(const Setup& setup) const;
};
ImplementationChoice choose_implementations(const Setup& setup,
                                            std::span<const std::string> wanted = {});
// Whether an engine should spend time on `setup`: always, except that with the environment variable
// FOLIOCHECK_ONLY_KERNEL_SETUPS=1 (docs/kernel.md) and a kernel tree built in, only setups some
// kernel implementation supports, so a run against a patched tree spends no time elsewhere.
bool setup_in_scope(const Setup& setup);

// Fresh implementations by name, in order; a name no implementation has is a logic error.
std::vector<std::unique_ptr<Implementation>> make_implementations(
    std::span<const std::string> names);

}  // namespace foliocheck

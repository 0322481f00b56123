// The registry of implementations: every encodings.def line, plus the kernel trees linked in.
#include "impl/registry.h"

#include <cstdlib>
#include <stdexcept>

#include "impl/kernel_hook.h"
#include "impl/packed_folio.h"

namespace foliocheck {

// Weak, so that a kernel-backed build can supply the real ones without touching this file.
__attribute__((weak)) std::vector<std::string_view> kernel_implementation_names() { return {}; }
__attribute__((weak)) std::unique_ptr<Implementation> make_kernel_implementation(std::string_view) {
  return nullptr;
}

namespace {

// One instance per name, only ever asked supports(): building implementations allocates, and
// engines ask for every setup they generate.
const Implementation* probe(std::string_view name) {
  struct Probe {
    std::string name;
    std::unique_ptr<Implementation> impl;
  };
  thread_local std::vector<Probe> probes;
  for (const Probe& p : probes)
    if (p.name == name) return p.impl.get();
  probes.push_back({std::string(name), make_implementation(name)});
  return probes.back().impl.get();
}

}  // namespace

std::span<const EncodingInfo> encodings() {
  static constexpr EncodingInfo kEncodings[] = {
#define FOLIOCHECK_ENCODING(sem, bits, name, sentence) {Semantics::sem, bits, name, sentence},
#include "impl/encodings.def"
#undef FOLIOCHECK_ENCODING
  };
  return kEncodings;
}

std::vector<std::string_view> implementation_names() {
  std::vector<std::string_view> names;
  for (const EncodingInfo& e : encodings()) names.push_back(e.name);
  for (std::string_view tree : kernel_implementation_names()) names.push_back(tree);
  return names;
}

std::unique_ptr<Implementation> make_implementation(std::string_view name) {
#define FOLIOCHECK_ENCODING(sem, bits, encoding, sentence) \
  if (name == encoding) return std::make_unique<PackedFolio<Semantics::sem, bits>>();
#include "impl/encodings.def"
#undef FOLIOCHECK_ENCODING
  // KERNEL HOOK: a kernel tree's own rmap code, or `kernel` for any of them (kernel_hook.h).
  return make_kernel_implementation(name);
}

std::optional<std::string> ImplementationChoice::error(const Setup& setup) const {
  if (unknown) return "unknown implementation '" + *unknown + "'";
  if (!unsupported.empty())
    return "implementation '" + unsupported.front() + "' does not support semantics=" +
           std::string(semantics_name(setup.config.semantics)) +
           " bits=" + std::to_string(setup.config.bits);
  return std::nullopt;
}

ImplementationChoice choose_implementations(const Setup& setup,
                                            std::span<const std::string> wanted) {
  ImplementationChoice out;
  auto consider = [&](std::string_view name) {
    const Implementation* impl = probe(name);
    if (!impl) {
      if (!out.unknown) out.unknown = std::string(name);
    } else if (impl->supports(setup)) {
      out.names.emplace_back(name);
    } else {
      out.unsupported.emplace_back(name);
    }
  };
  if (wanted.empty()) {
    for (std::string_view name : implementation_names()) consider(name);
    out.unsupported.clear();  // nobody asked for them
  } else {
    for (const std::string& name : wanted) {
      // `kernel` is every kernel tree built in that supports the setup (at least one must).
      if (name != kKernelAlias || kernel_implementation_names().empty()) {
        consider(name);
        continue;
      }
      const size_t before = out.names.size();
      for (std::string_view tree : kernel_implementation_names())
        if (probe(tree)->supports(setup)) out.names.emplace_back(tree);
      if (out.names.size() == before) out.unsupported.emplace_back(name);
    }
  }
  return out;
}

bool setup_in_scope(const Setup& setup) {
  static const bool kernel_only = [] {
    const char* env = std::getenv("FOLIOCHECK_ONLY_KERNEL_SETUPS");
    return env && *env == '1' && !kernel_implementation_names().empty();
  }();
  if (!kernel_only) return true;
  for (std::string_view tree : kernel_implementation_names())
    if (probe(tree)->supports(setup)) return true;
  return false;
}

std::vector<std::unique_ptr<Implementation>> make_implementations(
    std::span<const std::string> names) {
  std::vector<std::unique_ptr<Implementation>> out;
  for (const std::string& name : names) {
    auto impl = make_implementation(name);
    if (!impl) throw std::logic_error("implementation '" + name + "' is not registered");
    out.push_back(std::move(impl));
  }
  return out;
}

}  // namespace foliocheck

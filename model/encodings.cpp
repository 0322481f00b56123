// The registry of implementations: every encodings.def line, plus `kernel` when one is linked in.
#include <memory>
#include <string_view>
#include <vector>

#include "model/implementation.h"
#include "model/kernel_hook.h"
#include "model/packed_folio.h"

namespace foliocheck {

// Weak, so that a kernel-backed build can supply the real one without touching this file.
__attribute__((weak)) std::unique_ptr<Implementation> make_kernel_implementation() {
  return nullptr;
}

namespace {

constexpr std::string_view kKernelName = "kernel";

bool kernel_available() {
  static const bool available = make_kernel_implementation() != nullptr;
  return available;
}

}  // namespace

std::vector<std::string_view> implementation_names() {
  std::vector<std::string_view> names = {
#define FOLIOCHECK_ENCODING(sem, bits, name, sentence) name,
#include "model/encodings.def"
#undef FOLIOCHECK_ENCODING
  };
  if (kernel_available()) names.push_back(kKernelName);
  return names;
}

std::unique_ptr<Implementation> make_implementation(std::string_view name) {
#define FOLIOCHECK_ENCODING(sem, bits, encoding, sentence) \
  if (name == encoding) return std::make_unique<PackedFolio<Semantics::sem, bits>>();
#include "model/encodings.def"
#undef FOLIOCHECK_ENCODING
  // KERNEL HOOK: the `kernel` implementation is the kernel's own rmap code (kernel_hook.h).
  if (name == kKernelName) return make_kernel_implementation();
  return nullptr;
}

}  // namespace foliocheck

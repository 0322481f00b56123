// The registry of implementations: every encodings.def line, plus each kernel tree linked in.
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "model/implementation.h"
#include "model/kernel_hook.h"
#include "model/packed_folio.h"

namespace foliocheck {

// Weak, so that a kernel-backed build can supply the real ones without touching this file.
__attribute__((weak)) std::vector<std::string_view> kernel_implementation_names() { return {}; }
__attribute__((weak)) std::unique_ptr<Implementation> make_kernel_implementation(std::string_view) {
  return nullptr;
}

std::vector<std::string_view> implementation_names() {
  std::vector<std::string_view> names = {
#define FOLIOCHECK_ENCODING(sem, bits, name, sentence) name,
#include "model/encodings.def"
#undef FOLIOCHECK_ENCODING
  };
  for (std::string_view tree : kernel_implementation_names()) names.push_back(tree);
  return names;
}

std::unique_ptr<Implementation> make_implementation(std::string_view name) {
#define FOLIOCHECK_ENCODING(sem, bits, encoding, sentence) \
  if (name == encoding) return std::make_unique<PackedFolio<Semantics::sem, bits>>();
#include "model/encodings.def"
#undef FOLIOCHECK_ENCODING
  // KERNEL HOOK: a kernel tree's own rmap code, or `kernel` for any of them (kernel_hook.h).
  return make_kernel_implementation(name);
}

std::vector<std::string> expand_implementation_name(std::string_view name) {
  std::vector<std::string> out;
  if (name == kKernelAlias)
    for (std::string_view tree : kernel_implementation_names()) out.emplace_back(tree);
  else
    out.emplace_back(name);
  return out;
}

}  // namespace foliocheck

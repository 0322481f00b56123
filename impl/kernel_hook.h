// The hook through which a `kernel` implementation (the kernel's own rmap code) joins in.
//
// encodings.cpp holds a weak default that returns nullptr, so a build without a kernel tree lists
// only the encodings. A kernel-backed build links a strong definition of
// make_kernel_implementation() from an object file that is part of the final link (NOTE: a strong
// definition that sits in a static archive member nothing else references is not pulled in, and the
// weak default would win).
#pragma once

#include <memory>

#include "core/implementation.h"

namespace foliocheck {

// Returns a fresh `kernel` implementation, or nullptr when foliocheck was built without a kernel
// tree.
std::unique_ptr<Implementation> make_kernel_implementation();

}  // namespace foliocheck

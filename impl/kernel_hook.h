// The hook through which kernel implementations (kernel trees' own rmap code) join in.
//
// impl/registry.cpp holds weak defaults that know no tree, so a build without a kernel tree lists
// only the encodings. A kernel-backed build links strong definitions from an object file that is
// part of the final link (NOTE: a strong definition that sits in a static archive member nothing
// else references is not pulled in, and the weak default would win).
#pragma once

#include <memory>
#include <string_view>
#include <vector>

#include "core/implementation.h"

namespace foliocheck {

// The name that stands for every kernel tree built in.
inline constexpr std::string_view kKernelAlias = "kernel";

// The kernel trees built in, one implementation each, named after the tree (`linux-7.3.4`, or
// the NAME of -DFOLIOCHECK_LINUX_DIRS=NAME=DIR); empty without a kernel tree.
std::vector<std::string_view> kernel_implementation_names();

// A fresh implementation of the tree `name`, or for `kernel` one that runs whichever tree
// supports the setup it is reset to (the first one built in); nullptr for any other name.
std::unique_ptr<Implementation> make_kernel_implementation(std::string_view name);

}  // namespace foliocheck

// Test-only: faults planted in a kernel implementation's folio, so that a test can make each of kernel_impl.cpp's own checks fire.
#pragma once

#include <cstdint>

#include "core/implementation.h"

namespace foliocheck {

// kernel/kernel_faults.def: what a broken tree could leave behind, though no helper of a correct
// one does, so no trace can produce it.
enum class KernelFault {
#define FOLIOCHECK_KERNEL_FAULT(name, check) name,
#include "kernel/kernel_faults.def"
#undef FOLIOCHECK_KERNEL_FAULT
};

// Plants `fault` in the folio `impl` was last reset to (`page` for a per-page fault); the next
// read or check sees it, the next reset() forgets it. False when `impl` is not a kernel
// implementation. Only tests include this header (tests/check-layers.sh fails on any other file),
// so no trace, engine or command can reach it, and the kernel's code paths stay as they are.
bool plant_kernel_fault_for_test(Implementation& impl, KernelFault fault, uint32_t page = 0);

}  // namespace foliocheck

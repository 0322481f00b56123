// The one definition of the scheduling-point hook and of the shim mutants' switches (impl/sched_hook.h).
#include "impl/sched_hook.h"

extern "C" {
void (*foliocheck_sched_point)(const void* addr, unsigned long size, int access, int wait_bit) = nullptr;
void (*foliocheck_sched_access)(const void* addr, unsigned long size, int access) = nullptr;
int foliocheck_shim_mutant_rmw_split = 0;
int foliocheck_shim_mutant_lock_no_wait = 0;
int foliocheck_shim_mutant_store_tearing = 0;
int foliocheck_shim_mutant_wp_checks_early = 0;
int foliocheck_shim_mutant_slot_after_unlock = 0;
int foliocheck_shim_mutant_inc_return_split = 0;
}

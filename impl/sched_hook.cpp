// The one definition of the scheduling-point hook and of the shim mutants' switches (impl/sched_hook.h).
#include "impl/sched_hook.h"

extern "C" {
void (*foliocheck_sched_point)(const void* wait_addr, int wait_bit) = nullptr;
int foliocheck_shim_mutant_rmw_split = 0;
int foliocheck_shim_mutant_lock_no_wait = 0;
int foliocheck_shim_mutant_store_tearing = 0;
int foliocheck_shim_mutant_wp_checks_early = 0;
}

/* The scheduling-point hook through which `foliocheck interleave` preempts kernel code (C and C++). */
#ifndef FOLIOCHECK_IMPL_SCHED_HOOK_H
#define FOLIOCHECK_IMPL_SCHED_HOOK_H

/*
 * kernel/shim/ calls foliocheck_sched_point before every atomic operation, READ_ONCE/WRITE_ONCE,
 * atomic bit operation and bit_spin_lock/unlock, because those are the places where another CPU's
 * rmap code can interleave. It is NULL (a no-op) unless an interleaving scheduler (interleave/) is
 * installed, so every other engine runs the kernel code exactly as before. It lives in impl/
 * because both kernel/ (the caller) and interleave/ (the installer) may include impl/.
 *
 * addr, size, access: the shared location the access right after the point touches, and how
 * (FOLIOCHECK_ACCESS_*), so that partial-order reduction knows which steps commute. addr == NULL:
 * unknown, dependent on every other step.
 * wait_bit >= 0: the caller is bit_spin_lock(wait_bit, addr): the scheduler resumes it only once
 * that bit (of host unsigned longs, as the shim's bitops index them) is clear, so the caller takes
 * the lock without anyone running in between.
 *
 * foliocheck_sched_access reports an access that is no scheduling point (test_bit): it belongs to
 * the step running now.
 */
#define FOLIOCHECK_ACCESS_READ 1
#define FOLIOCHECK_ACCESS_WRITE 2
#define FOLIOCHECK_ACCESS_RMW 3
/* Flags on an RMW of a lock word: a lock's acquire is reversible only against another acquire. */
#define FOLIOCHECK_ACCESS_ACQUIRE 4
#define FOLIOCHECK_ACCESS_RELEASE 8
/* On a foliocheck_sched_access in a lock's acquire or release step: the fields that lock guards,
 * which the critical section reads and writes with plain accesses no hook sees. */
#define FOLIOCHECK_ACCESS_GUARDED 16

#ifdef __cplusplus
extern "C" {
#endif

extern void (*foliocheck_sched_point)(const void *addr, unsigned long size, int access, int wait_bit);
extern void (*foliocheck_sched_access)(const void *addr, unsigned long size, int access);

/* The race mutants of impl/race_mutants.def that live in the shim, set by activate_race_mutant(). */
extern int foliocheck_shim_mutant_rmw_split;         /* atomic-rmw-split */
extern int foliocheck_shim_mutant_lock_no_wait;      /* bit-spin-lock-no-wait */
extern int foliocheck_shim_mutant_slot_after_unlock; /* mm-id-slot-after-unlock */
extern int foliocheck_shim_mutant_inc_return_split;  /* inc-return-split */
extern int foliocheck_shim_mutant_store_tearing;     /* atomic-set-torn */
extern int foliocheck_shim_mutant_wp_checks_early;   /* wp-reuse-checks-before-recheck */

#ifdef __cplusplus
}
#endif

#endif /* FOLIOCHECK_IMPL_SCHED_HOOK_H */

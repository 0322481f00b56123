/* The scheduling-point hook through which `foliocheck interleave` preempts kernel code (C and C++). */
#ifndef FOLIOCHECK_IMPL_SCHED_HOOK_H
#define FOLIOCHECK_IMPL_SCHED_HOOK_H

/*
 * kernel/shim/ calls foliocheck_sched_point before every atomic operation, READ_ONCE/WRITE_ONCE,
 * atomic bit operation and bit_spin_lock, because those are the places where another CPU's rmap
 * code can interleave. It is NULL (a no-op) unless an interleaving scheduler (interleave/) is
 * installed, so every other engine runs the kernel code exactly as before. It lives in impl/
 * because both kernel/ (the caller) and interleave/ (the installer) may include impl/.
 *
 * wait_addr == NULL: a plain scheduling point. Otherwise the caller is bit_spin_lock(wait_bit,
 * wait_addr): the scheduler resumes it only once that bit (of host unsigned longs, as the shim's
 * bitops index them) is clear, so the caller takes the lock without anyone running in between.
 */
#ifdef __cplusplus
extern "C" {
#endif

extern void (*foliocheck_sched_point)(const void *wait_addr, int wait_bit);

/* The race mutants of impl/mutants.def that live in the shim, set by set_active_mutant(). */
extern int foliocheck_shim_mutant_rmw_split;      /* atomic-rmw-split */
extern int foliocheck_shim_mutant_lock_no_wait;   /* bit-spin-lock-no-wait */
extern int foliocheck_shim_mutant_store_tearing;  /* atomic-set-torn */
extern int foliocheck_shim_mutant_wp_checks_early; /* wp-reuse-checks-before-recheck */

#ifdef __cplusplus
}
#endif

#endif /* FOLIOCHECK_IMPL_SCHED_HOOK_H */

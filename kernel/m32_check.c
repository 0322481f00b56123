/* Prints every observable after every operation of fixed pseudo-random sequences through the 32-bit kernel variants, so that an -m32 build can be compared with the host's. */

/*
 * The 32-bit variants run on the 64-bit host with the 32-bit types and field placement but 8-byte
 * longs (docs/kernel.md, "32-bit"). Built once with -m32 (a real 32-bit struct page and _mm_ids)
 * and once for the host, this program must print the same lines: any difference is a place where
 * the host build does not behave like a 32-bit kernel. C only, so that -m32 needs no 32-bit C++
 * libraries. Only variants compiled into the binary are run (the tables are weak).
 */
#include <stdio.h>
#include <string.h>

#include "kernel_api.h"

/* The interleave engine's hooks (impl/sched_hook.cpp) are C++ and not linked here, where no
 * scheduler is ever installed: their idle values. */
void (*foliocheck_sched_point)(const void *addr, unsigned long size, int access, int wait_bit);
void (*foliocheck_sched_access)(const void *addr, unsigned long size, int access);
int foliocheck_shim_mutant_rmw_split;
int foliocheck_shim_mutant_lock_no_wait;
int foliocheck_shim_mutant_store_tearing;
int foliocheck_shim_mutant_wp_checks_early;
int foliocheck_shim_mutant_slot_after_unlock;
int foliocheck_shim_mutant_inc_return_split;

#define FOLIOCHECK_KERNEL_VARIANT(symbol, tree) \
	extern const struct fc_kernel_ops symbol __attribute__((weak));
#include "kernel_variants.inc"
#undef FOLIOCHECK_KERNEL_VARIANT

static const struct fc_kernel_ops *const variants[] = {
#define FOLIOCHECK_KERNEL_VARIANT(symbol, tree) &symbol,
#include "kernel_variants.inc"
#undef FOLIOCHECK_KERNEL_VARIANT
};

static const char *const obs_names[] = {
#define FOLIOCHECK_OBS(e, name, indexed, agreement) name,
#include "core/observables.def"
#undef FOLIOCHECK_OBS
};

static const int obs_indexed[] = {
#define FOLIOCHECK_OBS(e, name, indexed, agreement) indexed,
#include "core/observables.def"
#undef FOLIOCHECK_OBS
};

static unsigned long long rng_state;
static unsigned rnd(unsigned n)
{
	rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
	return n ? (unsigned)(rng_state >> 33) % n : 0;
}

static void print_state(const struct fc_kernel_ops *ops, struct fc_state *st, unsigned nr_pages)
{
	for (int o = 0; o < FC_NR_OBS; o++) {
		unsigned count = 1;

		if (!ops->models(st, (enum fc_obs)o))
			continue;
		if (obs_indexed[o])
			count = strcmp(obs_names[o], "mm_id") == 0 ||
					strcmp(obs_names[o], "mm_id_mapcount") == 0 ? 2 : nr_pages;
		for (unsigned i = 0; i < count; i++)
			printf(" %s[%u]=%lld", obs_names[o], i,
			       (long long)ops->read(st, (enum fc_obs)o, i));
	}
	printf("\n");
}

/* One sequence: operations whose ranges stay inside the folio, levels the folio can take. */
static void run(const struct fc_kernel_ops *ops, struct fc_state *st, struct fc_setup *s,
		unsigned seed)
{
	unsigned nr_pages = 1u << s->order;
	uint32_t page_out;
	const char *bad;

	if (!ops->reset(st, s))
		return;
	rng_state = seed;
	printf("%s %s-%d order=%d type=%d hugetlb=%d pmd=%d seed=%u\n", ops->tree_name,
	       ops->semantics, ops->bits, s->order, s->type, s->hugetlb, s->pmd_order, seed);
	for (int step = 0; step < 60; step++) {
		enum fc_op op = (enum fc_op)rnd(FC_NR_OPS);
		uint32_t page = rnd(nr_pages), nr = 1 + rnd(nr_pages - page);
		uint32_t mm = 1 + rnd(3), src = 1 + rnd(3);

		ops->apply(st, op, mm, src, page, nr, rnd(2));
		printf("  op=%d mm=%u src=%u page=%u nr=%u:", op, mm, src, page, nr);
		print_state(ops, st, nr_pages);
	}
	bad = ops->check_free(st, &page_out);
	printf("  free: %s\n", bad ? bad : "ok");
}

int main(void)
{
	for (size_t v = 0; v < sizeof(variants) / sizeof(variants[0]); v++) {
		const struct fc_kernel_ops *ops = variants[v];
		struct fc_state *st;

		if (!ops || ops->bits != 32)
			continue;
		st = ops->create();
		for (int order = 0; order <= 4; order++)
			for (int type = 0; type < 3; type++)
				for (int hugetlb = 0; hugetlb < 2; hugetlb++) {
					struct fc_setup s = {order, (enum fc_folio_type)type, hugetlb,
							     2 + order % 2, 5};

					if (hugetlb && (order < 2 || type == FC_SHMEM))
						continue;
					for (unsigned seed = 1; seed <= 4; seed++)
						run(ops, st, &s, seed * 7919 + (unsigned)order);
				}
		ops->destroy(st);
	}
	return 0;
}

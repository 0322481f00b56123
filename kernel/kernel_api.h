/* The C entry points kernel_impl.cpp calls to drive a kernel tree's own rmap code on one simulated folio. */
#ifndef FOLIOCHECK_KERNEL_API_H
#define FOLIOCHECK_KERNEL_API_H

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Operations and observables are numbered as core/ops.def and core/observables.def list them. */
enum fc_op {
#define FOLIOCHECK_OP(e, name, ...) FC_OP_##e,
#include "core/ops.def"
#undef FOLIOCHECK_OP
	FC_NR_OPS
};

enum fc_obs {
#define FOLIOCHECK_OBS(e, name, indexed, agreement) FC_OBS_##e,
#include "core/observables.def"
#undef FOLIOCHECK_OBS
	FC_NR_OBS
};

enum fc_folio_type { FC_ANON, FC_FILE, FC_SHMEM };

struct fc_setup {
	int order;
	enum fc_folio_type type;
	bool hugetlb;
	int pmd_order;
	int pud_order;
};

/* Raw kernel words, for the implementation's own invariants (biases NOT removed). */
enum fc_raw {
	FC_RAW_page_mapcount,   /* page[index]->_mapcount (the page_type word) */
	FC_RAW_anon_exclusive,  /* PG_anon_exclusive of page[index] */
	FC_RAW_large_mapcount,
	FC_RAW_entire_mapcount,
	FC_RAW_nr_pages_mapped,
	FC_RAW_pincount,
	FC_RAW_refcount,
	FC_RAW_entirely_mapped_bit, /* ENTIRELY_MAPPED, the tree's constant */
	FC_RAW_read_warnings,       /* checks that fired inside a read helper */
};

struct fc_state;

/* What tree this was built from: its version, style and the semantics= it implements. */
const char *fc_kernel_tree_version(void);
const char *fc_kernel_tree_dir(void);
const char *fc_kernel_semantics(void);
/* The tree's style as kernel/extract.py detected it: "v6.12" or "next". */
const char *fc_kernel_style(void);

struct fc_state *fc_kernel_create(void);
void fc_kernel_destroy(struct fc_state *st);
/* Builds a fresh folio with the tree's prep_compound_page(); false if out of memory. */
bool fc_kernel_reset(struct fc_state *st, const struct fc_setup *setup);
/*
 * Calls the tree's helper once. Returns false without calling it when the operation would reach
 * further past the folio than the simulated memmap goes (an absurd --allow-invalid range).
 */
bool fc_kernel_apply(struct fc_state *st, enum fc_op op, uint32_t mm, uint32_t src, uint32_t page,
		     uint32_t nr, bool exclusive);
bool fc_kernel_models(const struct fc_state *st, enum fc_obs obs);
/* Logical values through the tree's read helpers (folio_mapcount(), ...). */
int64_t fc_kernel_read(struct fc_state *st, enum fc_obs obs, uint32_t index);
int64_t fc_kernel_raw(const struct fc_state *st, enum fc_raw field, uint32_t index);
/* The tree's free_tail_page_prepare() plus the "nonzero mapcount" check of every page, without
 * changing anything: the first reason and the page it names, or NULL. */
const char *fc_kernel_check_free(struct fc_state *st, uint32_t *page);

/* Warnings since the last call, oldest first: file (relative to the tree), line, macro, condition.
 * Returns how many entries were written to the arrays (at most max). */
unsigned long fc_kernel_warnings(const struct fc_state *st);
unsigned fc_kernel_take_log(struct fc_state *st, unsigned max, const char **file, int *line,
			    const char **macro, const char **cond);

#ifdef __cplusplus
}
#endif

#endif /* FOLIOCHECK_KERNEL_API_H */

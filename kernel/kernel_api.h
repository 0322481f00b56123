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
	/* CONFIG_MM_ID (next): the slots, raw (-1 = free), the ids without the flag bits, the bits */
	FC_RAW_mm_id_mapcount,      /* _mm_id_mapcount[index] */
	FC_RAW_mm_id,               /* _mm_id[index] & MM_ID_MASK */
	FC_RAW_shared_bit,          /* FOLIO_MM_IDS_SHARED_BIT of _mm_ids */
	FC_RAW_lock_bit,            /* FOLIO_MM_IDS_LOCK_BIT of _mm_ids */
	FC_RAW_mm_id_max,           /* MM_ID_MAX, the tree's constant (0 without CONFIG_MM_ID) */
};

/* Test-only faults (kernel/kernel_fault.h): raw state or statistics no helper of a correct tree
 * leaves, planted so that a test can make each of kernel_impl.cpp's own checks fire. */
enum fc_fault {
#define FOLIOCHECK_KERNEL_FAULT(name, check) FC_FAULT_##name,
#include "kernel/kernel_faults.def"
#undef FOLIOCHECK_KERNEL_FAULT
	FC_NR_FAULTS
};

struct fc_state;

/*
 * One compilation of kernel_rmap.c: one tree, one configuration, one word size. Everything in that
 * translation unit is static except its table, so that one binary links several of them; the
 * build lists the tables in kernel_variants.inc (FOLIOCHECK_KERNEL_VARIANT(symbol, "tree name")).
 */
struct fc_kernel_ops {
	const char *tree_name;    /* linux-7.3.4, or the NAME of FOLIOCHECK_LINUX_DIRS' NAME=DIR */
	const char *tree_version; /* from the tree's Makefile */
	const char *tree_dir;
	const char *style;        /* as kernel/extract.py detected it: "v6.12" or "next" */
	const char *semantics;    /* the trace's semantics= this variant implements */
	int bits;                 /* 64, or 32: compiled with CONFIG_64BIT off */

	struct fc_state *(*create)(void);
	void (*destroy)(struct fc_state *st);
	/* Builds a fresh folio with the tree's prep_compound_page(); false if out of memory. */
	bool (*reset)(struct fc_state *st, const struct fc_setup *setup);
	/*
	 * Calls the tree's helper once. Returns false without calling it when the operation would
	 * reach further past the folio than the simulated memmap goes (an absurd --allow-invalid
	 * range).
	 */
	bool (*apply)(struct fc_state *st, enum fc_op op, uint32_t mm, uint32_t src, uint32_t page,
		      uint32_t nr, bool exclusive);
	bool (*models)(const struct fc_state *st, enum fc_obs obs);
	/* Logical values through the tree's read helpers (folio_mapcount(), ...). */
	int64_t (*read)(struct fc_state *st, enum fc_obs obs, uint32_t index);
	int64_t (*raw)(const struct fc_state *st, enum fc_raw field, uint32_t index);
	/* The tree's free_tail_page_prepare() plus the "nonzero mapcount" check of every page,
	 * without changing anything: the first reason and the page it names, or NULL. */
	const char *(*check_free)(struct fc_state *st, uint32_t *page);
	/* Warnings counted since the last reset. */
	unsigned long (*warnings)(const struct fc_state *st);
	/* The logged warnings since the last call, oldest first: file (relative to the tree), line,
	 * macro, condition. Returns how many entries were written (at most max). */
	unsigned (*take_log)(struct fc_state *st, unsigned max, const char **file, int *line,
			     const char **macro, const char **cond);
	/* Test-only, on no trace's path: plants `fault` in the folio, page `index` where it names one. */
	void (*plant_fault)(struct fc_state *st, enum fc_fault fault, uint32_t index);
};

#ifdef __cplusplus
}
#endif

#endif /* FOLIOCHECK_KERNEL_API_H */

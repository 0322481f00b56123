/* Hooks we add for observation: VM_WARN/VM_BUG/WARN as counted warnings, statistics and bad_page() as records. */
#ifndef FOLIOCHECK_KERNEL_SHIM_CUSTOM_H
#define FOLIOCHECK_KERNEL_SHIM_CUSTOM_H

#include <string.h>

#include "dup.h"

/*
 * The kernel would print a backtrace (WARN) or oops (BUG); foliocheck counts every firing, keeps
 * the first few as file:line and the condition's text, and goes on with the next statement, so
 * that an --allow-invalid replay shows what the kernel's code does after the check. *_ONCE checks
 * count every time too: a trace is one boot, but the count says how often the condition held.
 */
#define FC_MAX_LOGGED 32

struct fc_warning {
	const char *file;
	int line;
	const char *macro;
	const char *cond;
};

/* Everything one `kernel` implementation owns; fc_current points at the one being driven. */
struct fc_state {
	struct page *memmap;   /* [0] is a guard page; the folio's head is memmap + 1 */
	size_t memmap_pages;   /* initialised struct pages in memmap */
	struct folio *folio;
	int order;
	int pmd_order;
	int pud_order;

	long stats[NR_VM_NODE_STAT_ITEMS];
	unsigned long warnings;
	unsigned long read_warnings; /* checks that fired inside a read helper */
	bool reading;
	struct fc_warning log[FC_MAX_LOGGED];
	unsigned nr_logged;
	const char *bad_reason; /* the last bad_page() reason, for the free-path checks */
	int ret;                /* what the last helper returned */
	int64_t result;         /* what the last reader operation returned */
	bool alloc_ref_mapped;  /* a large anon folio's allocation reference went to its mappings */

	struct anon_vma anon_vma; /* one anon_vma tree: every mm descends from one fork */
	struct address_space file_mapping;
	struct pglist_data node;
	struct fc_mm *mms;
	size_t nr_mms, cap_mms;
};

struct fc_mm {
	uint32_t id;
	struct mm_struct mm;
	struct vm_area_struct vma;
};

/* One per compilation of kernel_rmap.c (one per tree, configuration and word size). */
static _Thread_local struct fc_state *fc_current;

static inline void fc_warn(const char *file, int line, const char *macro, const char *cond)
{
	struct fc_state *st = fc_current;
	size_t dir = strlen(FC_TREE_DIR);

	if (st->reading) {
		st->read_warnings++;
		return;
	}
	st->warnings++;
	if (st->nr_logged == FC_MAX_LOGGED)
		return;
	/* Name the file as the tree does (mm/rmap.c) or as this repository does (kernel/shim/...). */
	if (strncmp(file, FC_TREE_DIR, dir) == 0 && file[dir] == '/')
		file += dir + 1;
	else if (strstr(file, "kernel/shim/"))
		file = strstr(file, "kernel/shim/");
	st->log[st->nr_logged++] = (struct fc_warning){file, line, macro, cond};
}

/* Something worth a line in the log that is not a kernel check: not counted in `warnings`. */
static inline void fc_note(const char *what)
{
	struct fc_state *st = fc_current;

	if (!st->reading && st->nr_logged < FC_MAX_LOGGED)
		st->log[st->nr_logged++] = (struct fc_warning){"foliocheck", 0, "note", what};
}

/* The condition is stringified where the kernel's macro is invoked, before any expansion, so the
 * log shows the tree's text ("page_folio(page) != folio"), not what our shim expands it to. */
#define FC_CHECK(macro, cond, text)                                             \
	({                                                                      \
		int __fc_ret = !!(cond);                                        \
		if (unlikely(__fc_ret))                                         \
			fc_warn(__FILE__, __LINE__, macro, text);               \
		__fc_ret;                                                       \
	})

#define WARN_ON(cond) FC_CHECK("WARN_ON", cond, #cond)
#define WARN_ON_ONCE(cond) FC_CHECK("WARN_ON_ONCE", cond, #cond)
#define VM_WARN_ON(cond) ((void)FC_CHECK("VM_WARN_ON", cond, #cond))
#define VM_WARN_ON_ONCE(cond) ((void)FC_CHECK("VM_WARN_ON_ONCE", cond, #cond))
#define VM_WARN_ON_FOLIO(cond, folio) FC_CHECK("VM_WARN_ON_FOLIO", cond, #cond)
#define VM_WARN_ON_ONCE_FOLIO(cond, folio) FC_CHECK("VM_WARN_ON_ONCE_FOLIO", cond, #cond)
#define VM_WARN_ON_ONCE_PAGE(cond, page) FC_CHECK("VM_WARN_ON_ONCE_PAGE", cond, #cond)
#define BUG_ON(cond) ((void)FC_CHECK("BUG_ON", cond, #cond))
#define VM_BUG_ON(cond) ((void)FC_CHECK("VM_BUG_ON", cond, #cond))
#define VM_BUG_ON_PAGE(cond, page) ((void)FC_CHECK("VM_BUG_ON_PAGE", cond, #cond))
#define VM_BUG_ON_FOLIO(cond, folio) ((void)FC_CHECK("VM_BUG_ON_FOLIO", cond, #cond))
#define VM_BUG_ON_VMA(cond, vma) ((void)FC_CHECK("VM_BUG_ON_VMA", cond, #cond))
#define VM_BUG_ON_PGFLAGS(cond, page) ((void)FC_CHECK("VM_BUG_ON_PGFLAGS", cond, #cond))
/* The kernel fails the build if a BUILD_BUG() survives optimisation; the configurations we
 * build only keep it on paths no caller takes, so reaching one is a foliocheck bug. */
#define BUILD_BUG() __builtin_trap()

/* Statistics: what __lruvec_stat_mod_folio() and __mod_node_page_state() would add. */
static inline void fc_stat(enum node_stat_item idx, long delta)
{
	fc_current->stats[idx] += delta;
}

/* bad_page(): the free path's verdict, recorded instead of printed. */
static inline void bad_page(struct page *page, const char *reason)
{
	(void)page;
	fc_current->bad_reason = reason;
}

#endif /* FOLIOCHECK_KERNEL_SHIM_CUSTOM_H */

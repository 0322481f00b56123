/* Stubs: the kernel functions the extracted rmap code calls but foliocheck does not take from the tree. */
#ifndef FOLIOCHECK_KERNEL_SHIM_STUBS_H
#define FOLIOCHECK_KERNEL_SHIM_STUBS_H

/*
 * Included after kernel_decls.inc and kernel_protos.inc, so these may use the tree's constants and
 * call the tree's functions. Each stub does what its kernel namesake does to the state foliocheck
 * simulates (one folio in a small memmap, one thread) and nothing else: locks, memcg, LRU and
 * printing have no counterpart here.
 */

#include "custom.h"
#include "dup.h"

/*
 * Atomics, wrapping like the kernel's. Each is one indivisible step after a scheduling point
 * (fc_yield_at(), which names the counter and whether the step reads, writes or both): the
 * interleave engine's threads are cooperative, so nothing runs between the point and the access.
 * The atomic-rmw-split race mutant (impl/race_mutants.def) breaks a read-modify-write into a read,
 * a scheduling point and a write, as a non-atomic `+=` would be; inc-return-split makes
 * atomic_inc_return() an atomic_inc() and then an atomic_read(), two steps.
 */
#define FC_RMW FOLIOCHECK_ACCESS_RMW
static inline int fc_wrap(int v, int d) { return (int)((unsigned int)v + (unsigned int)d); }
static inline int atomic_read(const atomic_t *v)
{
	fc_yield_at(v, sizeof(*v), FOLIOCHECK_ACCESS_READ);
	return v->counter;
}
/* The atomic-set-torn race mutant stores the low half first, as a torn plain store would. */
static inline void atomic_set(atomic_t *v, int i)
{
	fc_yield_at(v, sizeof(*v), FOLIOCHECK_ACCESS_WRITE);
	if (foliocheck_shim_mutant_store_tearing) {
		v->counter = (int)(((unsigned int)v->counter & 0xffff0000u) | ((unsigned int)i & 0xffffu));
		fc_yield_at(v, sizeof(*v), FOLIOCHECK_ACCESS_WRITE);
	}
	v->counter = i;
}
static inline int fc_atomic_add_return(int i, atomic_t *v)
{
	int old;

	if (foliocheck_shim_mutant_rmw_split) {
		old = atomic_read(v);
		atomic_set(v, fc_wrap(old, i));
		return fc_wrap(old, i);
	}
	fc_yield_at(v, sizeof(*v), FC_RMW);
	v->counter = fc_wrap(v->counter, i);
	return v->counter;
}
static inline void atomic_add(int i, atomic_t *v) { fc_atomic_add_return(i, v); }
static inline void atomic_sub(int i, atomic_t *v) { fc_atomic_add_return(-i, v); }
static inline void atomic_inc(atomic_t *v) { atomic_add(1, v); }
static inline void atomic_dec(atomic_t *v) { atomic_sub(1, v); }
static inline int atomic_add_return(int i, atomic_t *v) { return fc_atomic_add_return(i, v); }
static inline int atomic_sub_return(int i, atomic_t *v) { return fc_atomic_add_return(-i, v); }
#define atomic_add_return_relaxed atomic_add_return
#define atomic_sub_return_relaxed atomic_sub_return
static inline int atomic_inc_return(atomic_t *v)
{
	if (foliocheck_shim_mutant_inc_return_split) {
		atomic_inc(v);
		return atomic_read(v);
	}
	return atomic_add_return(1, v);
}
static inline int atomic_dec_return(atomic_t *v) { return atomic_sub_return(1, v); }
static inline bool atomic_inc_and_test(atomic_t *v) { return atomic_inc_return(v) == 0; }
static inline bool atomic_dec_and_test(atomic_t *v) { return atomic_dec_return(v) == 0; }
static inline bool atomic_add_negative(int i, atomic_t *v) { return atomic_add_return(i, v) < 0; }
static inline long atomic_long_read(const atomic_long_t *v)
{
	fc_yield_at(v, sizeof(*v), FOLIOCHECK_ACCESS_READ);
	return v->counter;
}
static inline void atomic_long_set(atomic_long_t *v, long i)
{
	fc_yield_at(v, sizeof(*v), FOLIOCHECK_ACCESS_WRITE);
	v->counter = i;
}
static inline long atomic_long_add_return(long i, atomic_long_t *v)
{
	long old;

	if (foliocheck_shim_mutant_rmw_split) {
		old = atomic_long_read(v);
		atomic_long_set(v, (long)((unsigned long)old + (unsigned long)i));
		return (long)((unsigned long)old + (unsigned long)i);
	}
	fc_yield_at(v, sizeof(*v), FC_RMW);
	v->counter = (long)((unsigned long)v->counter + (unsigned long)i);
	return v->counter;
}
static inline void atomic_long_add(long i, atomic_long_t *v) { atomic_long_add_return(i, v); }
static inline void atomic_long_sub(long i, atomic_long_t *v) { atomic_long_add(-i, v); }
static inline long atomic_long_sub_return(long i, atomic_long_t *v)
{
	return atomic_long_add_return(-i, v);
}

/*
 * Bit operations on the host's unsigned long words. BITS_PER_LONG is the simulated kernel's word
 * size, which the tree's code may use for bit numbers; the bitops index host words, so that a bit
 * number below 32 lands in the same byte either way (little-endian).
 */
#define BITS_PER_LONG FC_BITS
#define FC_HOST_LONG_BITS (8 * (long)sizeof(long))
#define FC_BIT_WORD(nr, addr) ((const unsigned long *)(addr) + (nr) / FC_HOST_LONG_BITS)
/* test_bit() is no scheduling point (it is how the shim reads flags, and the kernel's callers that
 * race on a flag use the atomic bitops), but the step it runs in reads the word. */
static inline bool test_bit(long nr, const volatile void *addr)
{
	const unsigned long *p = FC_BIT_WORD(nr, addr);

	fc_touch(p, sizeof(*p), FOLIOCHECK_ACCESS_READ);
	return (*p >> (nr % FC_HOST_LONG_BITS)) & 1;
}
static inline void fc_set_bit(long nr, volatile void *addr)
{
	unsigned long *p = (unsigned long *)addr;
	p[nr / FC_HOST_LONG_BITS] |= 1UL << (nr % FC_HOST_LONG_BITS);
}
static inline void fc_clear_bit(long nr, volatile void *addr)
{
	unsigned long *p = (unsigned long *)addr;
	p[nr / FC_HOST_LONG_BITS] &= ~(1UL << (nr % FC_HOST_LONG_BITS));
}
static inline void set_bit(long nr, volatile void *addr)
{
	fc_yield_at(FC_BIT_WORD(nr, addr), sizeof(long), FC_RMW);
	fc_set_bit(nr, addr);
}
static inline void clear_bit(long nr, volatile void *addr)
{
	fc_yield_at(FC_BIT_WORD(nr, addr), sizeof(long), FC_RMW);
	fc_clear_bit(nr, addr);
}
static inline bool test_and_set_bit(long nr, volatile void *addr)
{
	const unsigned long *p = FC_BIT_WORD(nr, addr);
	bool old;

	fc_yield_at(p, sizeof(*p), FC_RMW);
	old = (*p >> (nr % FC_HOST_LONG_BITS)) & 1;
	fc_set_bit(nr, addr);
	return old;
}
#define __set_bit set_bit
#define __clear_bit clear_bit

/*
 * The mm-id-slot-after-unlock race mutant: folio_{add,sub}_return_large_mapcount() compute the
 * slot update under the mm-id lock but store it after bit_spin_unlock(). The shim cannot move the
 * tree's statements, so it gets the same effect at the lock: it remembers the slots when the lock
 * is taken, and at the unlock puts them back, releases the lock, then stores what the critical
 * section computed, one field per scheduling point, over whatever another CPU wrote meanwhile.
 */
#if defined(FC_TREE_STYLE_NEXT) && FC_IS_ENABLED_CONFIG_MM_ID
static struct {
	bool held;
	mm_id_mapcount_t mapcount[2];
	unsigned long ids;
} fc_slots_at_lock;
static inline bool fc_is_mm_ids_lock(int bitnum, const unsigned long *addr)
{
	return bitnum == FOLIO_MM_IDS_LOCK_BITNUM && addr == &fc_current->folio->_mm_ids;
}
/* The mm-id lock guards the slots' mapcounts (and the ids, in the lock's own word): the critical
 * section's plain accesses to them are the acquire's and the release's, as far as the interleave
 * engine's dependences go. */
static inline void fc_lock_guards(int bitnum, const unsigned long *addr)
{
	if (fc_is_mm_ids_lock(bitnum, addr))
		fc_touch(fc_current->folio->_mm_id_mapcount,
			 sizeof(fc_current->folio->_mm_id_mapcount),
			 FC_RMW | FOLIOCHECK_ACCESS_GUARDED);
}
static inline void fc_slot_mutant_lock(int bitnum, unsigned long *addr)
{
	struct folio *folio = fc_current->folio;

	if (!foliocheck_shim_mutant_slot_after_unlock || !fc_is_mm_ids_lock(bitnum, addr))
		return;
	fc_slots_at_lock.held = true;
	fc_slots_at_lock.mapcount[0] = folio->_mm_id_mapcount[0];
	fc_slots_at_lock.mapcount[1] = folio->_mm_id_mapcount[1];
	fc_slots_at_lock.ids = folio->_mm_ids;
}
/* true when it released the lock itself. */
static inline bool fc_slot_mutant_unlock(int bitnum, unsigned long *addr)
{
	struct folio *folio = fc_current->folio;
	mm_id_mapcount_t mapcount[2];
	unsigned long ids;

	if (!fc_slots_at_lock.held || !fc_is_mm_ids_lock(bitnum, addr))
		return false;
	fc_slots_at_lock.held = false;
	mapcount[0] = folio->_mm_id_mapcount[0];
	mapcount[1] = folio->_mm_id_mapcount[1];
	ids = folio->_mm_ids & ~FOLIO_MM_IDS_LOCK_BIT;
	folio->_mm_id_mapcount[0] = fc_slots_at_lock.mapcount[0];
	folio->_mm_id_mapcount[1] = fc_slots_at_lock.mapcount[1];
	folio->_mm_ids = fc_slots_at_lock.ids;
	fc_yield_at(addr, sizeof(*addr), FC_RMW | FOLIOCHECK_ACCESS_RELEASE);
	fc_lock_guards(bitnum, addr);
	fc_clear_bit(bitnum, addr);
	WRITE_ONCE(folio->_mm_id_mapcount[0], mapcount[0]);
	WRITE_ONCE(folio->_mm_id_mapcount[1], mapcount[1]);
	/* The ids and the shared bit share their word with the lock bit, which stays whoever's. */
	fc_yield_at(addr, sizeof(*addr), FC_RMW);
	folio->_mm_ids = ids | (folio->_mm_ids & FOLIO_MM_IDS_LOCK_BIT);
	return true;
}
#else
static inline void fc_lock_guards(int bitnum, const unsigned long *addr) { (void)bitnum, (void)addr; }
static inline void fc_slot_mutant_lock(int bitnum, unsigned long *addr) { (void)bitnum, (void)addr; }
static inline bool fc_slot_mutant_unlock(int bitnum, unsigned long *addr)
{
	(void)bitnum, (void)addr;
	return false;
}
#endif

/*
 * A bit spinlock. Alone (no scheduler), nobody else can hold it: taking it twice would hang the
 * kernel, so say so. Under the interleave scheduler, a lock another thread holds makes this one
 * wait: the scheduler resumes it only once the bit is clear (a thread waiting for itself is a
 * deadlock the scheduler reports). The bit-spin-lock-no-wait race mutant takes it regardless.
 */
static inline void bit_spin_lock(int bitnum, unsigned long *addr)
{
	const unsigned long *word = FC_BIT_WORD(bitnum, addr);

	if (foliocheck_sched_point && !foliocheck_shim_mutant_lock_no_wait) {
		foliocheck_sched_point(word, sizeof(*word), FC_RMW | FOLIOCHECK_ACCESS_ACQUIRE,
				       (int)(bitnum % FC_HOST_LONG_BITS));
		fc_set_bit(bitnum, addr);
	} else if (foliocheck_shim_mutant_lock_no_wait) {
		fc_yield_at(word, sizeof(*word), FC_RMW | FOLIOCHECK_ACCESS_ACQUIRE);
		fc_set_bit(bitnum, addr);
	} else {
		WARN_ON(test_and_set_bit(bitnum, addr));
	}
	fc_lock_guards(bitnum, addr);
	fc_slot_mutant_lock(bitnum, addr);
}
static inline void bit_spin_unlock(int bitnum, unsigned long *addr)
{
	const unsigned long *word = FC_BIT_WORD(bitnum, addr);

	WARN_ON(!test_bit(bitnum, addr) && !foliocheck_shim_mutant_lock_no_wait);
	if (fc_slot_mutant_unlock(bitnum, addr))
		return;
	fc_yield_at(word, sizeof(*word), FC_RMW | FOLIOCHECK_ACCESS_RELEASE);
	fc_lock_guards(bitnum, addr);
	fc_clear_bit(bitnum, addr);
}
#define __bit_spin_unlock bit_spin_unlock

static inline void INIT_LIST_HEAD(struct list_head *list)
{
	list->next = list;
	list->prev = list;
}
static inline int list_empty(const struct list_head *head) { return head->next == head; }

static inline unsigned raw_read_seqcount(const seqcount_t *s) { return s->sequence; }

/* compound_head(), page_folio() and folio_page() over the simulated memmap (no HVO masks). The
 * compound head never changes while rmap code runs, so reading it is no scheduling point. */
#define FC_READ_COMPOUND(page) (*(const volatile unsigned long *)&FC_COMPOUND(page))
static inline unsigned long _compound_head(const struct page *page)
{
	unsigned long head = FC_READ_COMPOUND(page);

	if (unlikely(head & 1))
		return head - 1;
	return (unsigned long)page;
}
#define compound_head(page) ((__typeof__(page))_compound_head(page))
#define page_folio(p)                                                          \
	(_Generic((p), const struct page *: (const struct folio *)_compound_head(p), \
		  struct page *: (struct folio *)_compound_head(p)))
#define folio_page(folio, n) (&(folio)->page + (n))
#ifdef FC_TREE_STYLE_NEXT
static inline void set_compound_head(struct page *page, const struct page *head, unsigned int order)
{
	(void)order;
	WRITE_ONCE(page->compound_info, (unsigned long)head | 1);
}
#else
static inline void set_compound_head(struct page *page, struct page *head)
{
	WRITE_ONCE(page->compound_head, (unsigned long)head + 1);
}
#endif
static inline void clear_compound_head(struct page *page) { WRITE_ONCE(FC_COMPOUND(page), 0); }
static inline void set_page_private(struct page *page, unsigned long private)
{
	page->private = private;
}
static inline int PageTail(const struct page *page) { return FC_READ_COMPOUND(page) & 1; }

/* Page and folio flags. */
#define FC_FOLIO_FLAG(name, page_nr, bit)                                              \
	static inline bool folio_test_##name(const struct folio *folio)                \
	{                                                                              \
		return test_bit(bit, FC_PAGE_FLAGS(&folio->page + (page_nr)));              \
	}                                                                              \
	static inline void folio_set_##name(struct folio *folio)                       \
	{                                                                              \
		set_bit(bit, FC_PAGE_FLAGS(&folio->page + (page_nr)));                      \
	}                                                                              \
	static inline void __folio_set_##name(struct folio *folio)                     \
	{                                                                              \
		set_bit(bit, FC_PAGE_FLAGS(&folio->page + (page_nr)));                      \
	}                                                                              \
	static inline void folio_clear_##name(struct folio *folio)                     \
	{                                                                              \
		clear_bit(bit, FC_PAGE_FLAGS(&folio->page + (page_nr)));                    \
	}
FC_FOLIO_FLAG(locked, 0, PG_locked)
FC_FOLIO_FLAG(head, 0, PG_head)
FC_FOLIO_FLAG(swapbacked, 0, PG_swapbacked)
#if defined(CONFIG_TRANSPARENT_HUGEPAGE) || !defined(FC_TREE_STYLE_NEXT)
FC_FOLIO_FLAG(large_rmappable, 1, PG_large_rmappable)
FC_FOLIO_FLAG(partially_mapped, 1, PG_partially_mapped)
#else
/* FOLIO_FLAG_FALSE(): without THP, page-flags.h has no such flags. */
static inline bool folio_test_large_rmappable(const struct folio *folio) { (void)folio; return false; }
static inline bool folio_test_partially_mapped(const struct folio *folio) { (void)folio; return false; }
static inline void folio_set_large_rmappable(struct folio *folio) { (void)folio; }
static inline void folio_set_partially_mapped(struct folio *folio) { (void)folio; }
#endif
#undef FC_FOLIO_FLAG

/* The tag in folio->mapping that says anon (or KSM): renamed FOLIO_MAPPING_* in 6.16. */
#ifdef FC_TREE_STYLE_NEXT
#define FC_MAPPING_ANON FOLIO_MAPPING_ANON
#define FC_MAPPING_FLAGS FOLIO_MAPPING_FLAGS
#define FC_MAPPING_KSM FOLIO_MAPPING_KSM
#else
#define FC_MAPPING_ANON PAGE_MAPPING_ANON
#define FC_MAPPING_FLAGS PAGE_MAPPING_FLAGS
#define FC_MAPPING_KSM PAGE_MAPPING_KSM
#endif

static inline bool folio_test_large(const struct folio *folio) { return folio_test_head(folio); }
static inline void __SetPageHead(struct page *page) { set_bit(PG_head, FC_PAGE_FLAGS(page)); }
static inline int PageHead(const struct page *page) { return test_bit(PG_head, FC_PAGE_FLAGS(page)); }
static inline bool folio_test_swapcache(const struct folio *folio)
{
	return folio_test_swapbacked(folio) && test_bit(PG_swapcache, FC_PAGE_FLAGS(&folio->page));
}
static inline bool folio_test_ksm(const struct folio *folio)
{
	return ((unsigned long)folio->mapping & FC_MAPPING_FLAGS) == FC_MAPPING_KSM;
}
FOLIO_TYPE_OPS(hugetlb, hugetlb)
static inline bool PageHuge(const struct page *page) { return folio_test_hugetlb(page_folio(page)); }
/* hugetlb keeps its restore-reserve flag in folio->private; nothing here reads it. */
static inline void folio_clear_hugetlb_restore_reserve(struct folio *folio) { (void)folio; }

#ifdef FC_TREE_STYLE_NEXT
/* What the tree's PageAnonExclusive() and friends (taken from page-flags.h) call. */
#define PF_ANY(page, enforce) (page)
static inline int PageAnon(const struct page *page) { return folio_test_anon(page_folio(page)); }
static inline bool PageAnonNotKsm(const struct page *page)
{
	unsigned long flags = (unsigned long)page_folio(page)->mapping;

	return (flags & FC_MAPPING_FLAGS) == FC_MAPPING_ANON;
}
#else
/* PageAnonExclusive: per page for THP, on the head page for hugetlb. */
static inline int PageAnonExclusive(const struct page *page)
{
	if (PageHuge(page))
		page = compound_head(page);
	return test_bit(PG_anon_exclusive, &page->flags);
}
static inline void SetPageAnonExclusive(struct page *page)
{
	VM_BUG_ON_PGFLAGS(PageHuge(page) && PageTail(page), page);
	set_bit(PG_anon_exclusive, &page->flags);
}
static inline void ClearPageAnonExclusive(struct page *page)
{
	VM_BUG_ON_PGFLAGS(PageHuge(page) && PageTail(page), page);
	clear_bit(PG_anon_exclusive, &page->flags);
}
#endif

/* Folios the rmap code must never see, and features foliocheck does not simulate. */
static inline bool is_zero_folio(const struct folio *folio) { (void)folio; return false; }
static inline bool folio_is_device_private(const struct folio *folio) { (void)folio; return false; }
static inline bool is_pci_p2pdma_page(const struct page *page) { (void)page; return false; }
static inline bool folio_is_pci_p2pdma(const struct folio *folio) { (void)folio; return false; }
static inline bool put_devmap_managed_folio_refs(struct folio *folio, int refs)
{
	(void)folio, (void)refs;
	return false;
}
static inline bool is_check_pages_enabled(void) { return true; }

/* Reference counts: the callers' references, as the glue takes them. */
static inline int page_ref_count(const struct page *page) { return atomic_read(&page->_refcount); }
static inline void set_page_count(struct page *page, int v) { atomic_set(&page->_refcount, v); }
static inline int folio_ref_count(const struct folio *folio) { return page_ref_count(&folio->page); }
static inline void folio_ref_add(struct folio *folio, int nr) { atomic_add(nr, &folio->_refcount); }
static inline void folio_ref_sub(struct folio *folio, int nr) { atomic_sub(nr, &folio->_refcount); }
static inline void folio_put_refs(struct folio *folio, int refs)
{
	/* The kernel would free the folio here (no warning): say so, without counting a warning. */
	if (atomic_sub_return(refs, &folio->_refcount) <= 0)
		fc_note("the last folio reference is gone: the kernel would free the folio here");
}

/*
 * The folio lock (PG_locked) for the COW reuse check, which only takes it on a swapcache folio.
 * rmap callers of anon folios hold it (kernel_rmap.c sets it at reset), so a trylock fails, as it
 * would while another thread holds the lock.
 */
static inline bool folio_trylock(struct folio *folio)
{
	return !test_and_set_bit(PG_locked, FC_PAGE_FLAGS(&folio->page));
}
static inline void folio_unlock(struct folio *folio) { clear_bit(PG_locked, FC_PAGE_FLAGS(&folio->page)); }
/* No folio here is in the swap cache: nothing to free. */
static inline bool folio_free_swap(struct folio *folio)
{
	(void)folio;
	return false;
}

/* Geometry: PMD and PUD sizes are the trace's (pmd_order may be scaled down), and so is the
 * largest folio (x86-64's MAX_FOLIO_ORDER is the PUD order). */
#define MAX_FOLIO_ORDER (fc_current->pud_order)
#define HPAGE_PMD_ORDER (fc_current->pmd_order)
#define HPAGE_PMD_NR (1 << HPAGE_PMD_ORDER)
#define HPAGE_PUD_ORDER (fc_current->pud_order)
#define HPAGE_PUD_NR (1 << HPAGE_PUD_ORDER)

/* Where a folio page sits in its file or anon_vma: one VMA per mm, all at the same address. */
static inline pgoff_t linear_page_index(const struct vm_area_struct *vma, unsigned long address)
{
	return ((address - vma->vm_start) >> PAGE_SHIFT) + vma->vm_pgoff;
}
static inline pgoff_t page_to_pgoff(struct page *page)
{
	struct folio *folio = page_folio(page);

	return folio->index + (pgoff_t)(page - &folio->page);
}
#ifdef FC_TREE_STYLE_NEXT
static inline pgoff_t linear_anon_page_index(const struct vm_area_struct *vma,
					     unsigned long address)
{
	return linear_page_index(vma, address);
}
static inline pgoff_t page_pgoff(const struct folio *folio, const struct page *page)
{
	return folio->index + (pgoff_t)(page - &folio->page);
}
#endif
static inline struct anon_vma *folio_anon_vma(const struct folio *folio)
{
	unsigned long mapping = (unsigned long)folio->mapping;

	/* The kernel returns NULL and __page_check_anon_rmap() dereferences it: an oops, counted
	 * like a failed check. foliocheck hands out its anon_vma instead and goes on. */
	if ((mapping & FC_MAPPING_FLAGS) != FC_MAPPING_ANON) {
		fc_warn(__FILE__, __LINE__, "NULL dereference",
			"folio_anon_vma(folio) of a folio that is not anon, then ->root");
		return &fc_current->anon_vma;
	}
	return (struct anon_vma *)(mapping - FC_MAPPING_ANON);
}

/* Statistics. NR_*_PMDMAPPED are node-only since 6.10; both land in the same counters here. */
static inline struct pglist_data *folio_pgdat(const struct folio *folio)
{
	(void)folio;
	return &fc_current->node;
}
static inline void __lruvec_stat_mod_folio(struct folio *folio, enum node_stat_item idx, int val)
{
	(void)folio;
	fc_stat(idx, val);
}
static inline void lruvec_stat_mod_folio(struct folio *folio, enum node_stat_item idx, int val)
{
	(void)folio;
	fc_stat(idx, val);
}
static inline void __mod_node_page_state(struct pglist_data *pgdat, enum node_stat_item idx,
					 long delta)
{
	(void)pgdat;
	fc_stat(idx, delta);
}
static inline void node_stat_mod_folio(struct folio *folio, enum node_stat_item idx, long delta)
{
	(void)folio;
	fc_stat(idx, delta);
}
static inline void mod_mthp_stat(int order, enum mthp_stat_item item, int delta)
{
	(void)order, (void)item, (void)delta;
}
static inline void count_mthp_stat(int order, enum mthp_stat_item item) { (void)order, (void)item; }
static inline void count_vm_event(enum vm_event_item item) { (void)item; }

/* mlock bookkeeping: no VMA here is VM_LOCKED. */
static inline void mlock_vma_folio(struct folio *folio, struct vm_area_struct *vma)
{
	(void)folio, (void)vma;
}
static inline void munlock_vma_folio(struct folio *folio, struct vm_area_struct *vma)
{
	(void)folio, (void)vma;
}

/*
 * deferred_split_folio() (mm/huge_memory.c) with its queue left out: the same early returns, then
 * the sticky PG_partially_mapped. Not queueing keeps _deferred_list empty, which is what the free
 * path sees after it unqueues the folio. The rmap code only ever passes partially_mapped=true
 * (the false case is split_underused_thp's, from the fault path).
 */
#if defined(FC_TREE_STYLE_NEXT) && !defined(CONFIG_TRANSPARENT_HUGEPAGE)
/* include/linux/huge_mm.h without THP: nothing to split. */
static inline void deferred_split_folio(struct folio *folio, bool partially_mapped)
{
	(void)folio, (void)partially_mapped;
}
#else
static inline void deferred_split_folio(struct folio *folio, bool partially_mapped)
{
	if (folio_order(folio) <= 1)
		return;
	if (!partially_mapped)
		return;
	if (folio_test_swapcache(folio))
		return;
	if (!folio_test_partially_mapped(folio))
		folio_set_partially_mapped(folio);
}
#endif

#endif /* FOLIOCHECK_KERNEL_SHIM_STUBS_H */

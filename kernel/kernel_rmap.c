/* The kernel tree's rmap code, compiled as C against foliocheck's shim, behind the entry points of kernel_api.h. */

/*
 * Include order: what the tree is, the mirrored declarations, our observation hooks, the tree's
 * macros and enums, prototypes of every function taken, the stubs (which may call those), then the
 * tree's function bodies. Everything the kernel code sees is either the tree's or kernel/shim/'s.
 */
#include "kernel_tree.h"
#include "shim/dup.h"
#include "shim/custom.h"
#include "kernel_decls.inc"
#include "kernel_protos.inc"
#include "shim/stubs.h"
#include "kernel_bodies.inc"

#include <stdlib.h>

#include "kernel_api.h"

/* Beyond this many pages past the head, an --allow-invalid range is not simulated. */
#if ULONG_MAX > 0xffffffffUL
#define FC_MAX_MEMMAP_PAGES (1UL << 21)
#else
/* A real 32-bit build (kernel/m32_check.c): the whole range must fit below 4 GiB. */
#define FC_MAX_MEMMAP_PAGES (1UL << 18)
#endif
/* Every VMA maps the folio's first page here; vm_end leaves room for any range we simulate. */
#define FC_VM_START (FC_MAX_MEMMAP_PAGES << PAGE_SHIFT)
#define FC_VM_END (FC_VM_START + (FC_MAX_MEMMAP_PAGES << PAGE_SHIFT))


/* A struct page as the memmap holds it before anyone allocates it. */
static void fc_init_page(struct page *page)
{
	memset(page, 0, sizeof(*page));
	page->page_type = UINT_MAX; /* _mapcount == -1 */
	atomic_set(&page->_refcount, 0);
}

/*
 * Makes the memmap hold at least `pages` struct pages after the guard page. Growing moves the
 * array, so every word that pointed into the old one (compound_head, list heads) is moved along.
 */
static bool fc_ensure_memmap(struct fc_state *st, size_t pages)
{
	size_t old = st->memmap_pages, want = pages + 1;
	struct page *fresh;
	uintptr_t lo, hi;

	if (want <= old)
		return true;
	if (want < 2 * old)
		want = 2 * old;
	fresh = malloc(want * sizeof(struct page));
	if (!fresh)
		return false;
	for (size_t i = old; i < want; i++)
		fc_init_page(&fresh[i]);
	if (old) {
		memcpy(fresh, st->memmap, old * sizeof(struct page));
		lo = (uintptr_t)st->memmap;
		hi = (uintptr_t)(st->memmap + old);
		for (size_t i = 0; i < old; i++) {
			unsigned long *w = (unsigned long *)&fresh[i];
			for (size_t k = 0; k < sizeof(struct page) / sizeof(long); k++)
				if (w[k] >= lo && w[k] < hi)
					w[k] = w[k] - lo + (uintptr_t)fresh;
		}
	}
	free(st->memmap);
	st->memmap = fresh;
	st->memmap_pages = want;
	st->folio = (struct folio *)(fresh + 1);
	return true;
}

static struct fc_state *fc_kernel_create(void)
{
	struct fc_state *st = calloc(1, sizeof(*st));

	if (!st)
		return NULL;
	st->anon_vma.root = &st->anon_vma;
#ifdef FC_TREE_STYLE_NEXT
	/* A live anon_vma: __folio_rmap_sanity_checks() warns about one whose refcount is 0. */
	atomic_set(&st->anon_vma.refcount, 1);
#endif
	return st;
}

static void fc_kernel_destroy(struct fc_state *st)
{
	if (!st)
		return;
	free(st->memmap);
	free(st->mms);
	free(st);
}

static size_t fc_max(size_t a, size_t b) { return a > b ? a : b; }

static bool fc_kernel_reset(struct fc_state *st, const struct fc_setup *s)
{
	struct folio *folio;
	size_t nr = (size_t)1 << s->order;

	fc_current = st;
	st->order = s->order;
	st->pmd_order = s->pmd_order;
	st->pud_order = s->pud_order;
	/* struct folio spans four struct pages even when the folio has fewer. */
	if (!fc_ensure_memmap(st, fc_max(nr, 4)))
		return false;
	for (size_t i = 0; i < st->memmap_pages; i++)
		fc_init_page(&st->memmap[i]);
	folio = st->folio;

	/* What the page allocator and the THP/hugetlb/pagecache code do before any rmap call. */
	set_page_count(&folio->page, 1);
	if (s->order)
		prep_compound_page(&folio->page, (unsigned int)s->order);
	if (s->hugetlb)
		__folio_set_hugetlb(folio);
	if (s->type == FC_ANON) {
		folio->mapping = (struct address_space *)((unsigned long)&st->anon_vma + FC_MAPPING_ANON);
		__folio_set_swapbacked(folio);
	} else {
		folio->mapping = &st->file_mapping;
		if (s->type == FC_SHMEM)
			__folio_set_swapbacked(folio);
	}
	folio->index = 0;
	/* rmap callers of anon folios hold the folio lock. */
	folio_set_locked(folio);

	memset(st->stats, 0, sizeof(st->stats));
	st->warnings = 0;
	st->read_warnings = 0;
	st->nr_logged = 0;
	st->reading = false;
	st->nr_mms = 0;
	st->ret = 0;
	st->result = 0;
	st->alloc_ref_mapped = false;
	return true;
}

/* The VMA through which mm `id` maps the folio, made on first use. */
static struct fc_mm *fc_mm(struct fc_state *st, uint32_t id)
{
	for (size_t i = 0; i < st->nr_mms; i++)
		if (st->mms[i].id == id)
			return &st->mms[i];
	if (st->nr_mms == st->cap_mms) {
		size_t cap = st->cap_mms ? 2 * st->cap_mms : 8;
		struct fc_mm *mms = realloc(st->mms, cap * sizeof(*mms));
		if (!mms)
			return NULL;
		st->mms = mms;
		st->cap_mms = cap;
		/* Each VMA points at its own mm: fix them after the move. */
		for (size_t i = 0; i < st->nr_mms; i++)
			st->mms[i].vma.vm_mm = &st->mms[i].mm;
	}
	struct fc_mm *m = &st->mms[st->nr_mms++];
	memset(m, 0, sizeof(*m));
	m->id = id;
	m->mm.mm_id = id;
	m->vma.vm_start = FC_VM_START;
	m->vma.vm_end = FC_VM_END;
	m->vma.vm_mm = &m->mm;
	m->vma.anon_vma = &st->anon_vma;
	return m;
}

/* How many struct pages past the head the operation may touch (struct folio itself spans 4). */
static size_t fc_reach(const struct fc_state *st, enum fc_op op, uint32_t page, uint32_t nr)
{
	size_t reach = 4;

	switch (op) {
	case FC_OP_add_anon_ptes:
	case FC_OP_add_file_ptes:
	case FC_OP_remove_ptes:
	case FC_OP_dup_file_ptes:
	case FC_OP_try_dup_anon_ptes:
	case FC_OP_try_share_anon_pte:
		reach = (size_t)page + (nr ? nr : 1);
		break;
	case FC_OP_add_new_anon:
	case FC_OP_add_anon_pmd:
	case FC_OP_add_file_pmd:
	case FC_OP_remove_pmd:
	case FC_OP_dup_file_pmd:
	case FC_OP_try_dup_anon_pmd:
	case FC_OP_try_share_anon_pmd:
		reach = fc_max((size_t)1 << st->order, (size_t)1 << st->pmd_order);
		break;
	case FC_OP_add_file_pud:
	case FC_OP_remove_pud:
		reach = (size_t)1 << st->pud_order;
		break;
	default:
		break;
	}
	return fc_max(reach, 4);
}

/*
 * Each page-table entry holds a folio reference, taken before the rmap call maps it and dropped
 * after the call unmaps it (the rule __wp_can_reuse_large_anon_folio()'s comment states and its
 * mapcount-vs-refcount check relies on). A fresh large anon folio's allocation reference becomes
 * its first mapping's, as in the fault paths, where the folio counts pins in _pincount; a folio
 * whose pins the refcount counts keeps it (the model's refcount there is 1 + mappings + pins).
 */
static void fc_get(struct folio *folio, long n) { folio_ref_add(folio, (int)n); }
static bool fc_refcount_is_mappings(struct folio *folio)
{
#ifdef FC_HAVE_folio_has_pincount
	return folio_has_pincount(folio);
#else
	return folio_test_large(folio);
#endif
}
static void fc_put(struct folio *folio, long n) { folio_put_refs(folio, (int)n); }

/* A reader operation (ops.def, kRead): the kernel's own reader; its value is st->result. */
static int64_t fc_kernel_reader(struct fc_state *st, enum fc_op op, struct vm_area_struct *vma)
{
	struct folio *folio = st->folio;

	switch (op) {
	case FC_OP_read_mapcount:
		return folio_mapcount(folio);
	case FC_OP_read_mapped:
		return folio_mapped(folio);
	case FC_OP_read_maybe_mapped_shared:
#ifdef FC_HAVE_folio_maybe_mapped_shared
		return folio_maybe_mapped_shared(folio);
#else
		fc_note("not run: this tree has no folio_maybe_mapped_shared()");
		return 0;
#endif
	case FC_OP_wp_can_reuse_large_anon:
#if defined(FC_HAVE___wp_can_reuse_large_anon_folio) && FC_IS_ENABLED_CONFIG_TRANSPARENT_HUGEPAGE
		/* wp_can_reuse_anon_folio() calls it for large folios only. */
		if (!folio_test_large(folio) || folio_test_hugetlb(folio)) {
			fc_note("not run: __wp_can_reuse_large_anon_folio() of a small or hugetlb folio");
			return 0;
		}
		if (foliocheck_shim_mutant_wp_checks_early) {
#ifdef FC_HAVE_fc_mutant_wp_checks_before_recheck
			return fc_mutant_wp_checks_before_recheck(folio, vma);
#else
			fc_note("not run: this tree's __wp_can_reuse_large_anon_folio() lacks the fixed "
				"order the wp-reuse-checks-before-recheck mutant reverts");
			return 0;
#endif
		}
		return __wp_can_reuse_large_anon_folio(folio, vma);
#else
		(void)vma;
		fc_note("not run: this tree (configuration) has no __wp_can_reuse_large_anon_folio()");
		return 0;
#endif
	default:
		return 0;
	}
}

static bool op_is_reader_c(enum fc_op op)
{
	return op == FC_OP_read_mapcount || op == FC_OP_read_mapped ||
	       op == FC_OP_read_maybe_mapped_shared || op == FC_OP_wp_can_reuse_large_anon;
}

static bool fc_kernel_apply(struct fc_state *st, enum fc_op op, uint32_t mm_id, uint32_t src_id,
		     uint32_t page_idx, uint32_t nr, bool exclusive)
{
	struct fc_mm *dst_mm, *src_mm = NULL;
	struct folio *folio;
	struct page *page;
	struct vm_area_struct *vma, *src_vma = NULL;
	unsigned long address;
	rmap_t flags = exclusive ? RMAP_EXCLUSIVE : RMAP_NONE;
	int ret = 0;

	fc_current = st;
	if (fc_reach(st, op, page_idx, nr) > FC_MAX_MEMMAP_PAGES) {
		fc_note("not run: the range reaches past the simulated memmap");
		return false;
	}
	if (!fc_ensure_memmap(st, fc_reach(st, op, page_idx, nr))) {
		fc_note("not run: out of memory growing the simulated memmap");
		return false;
	}
	/*
	 * A reader takes no new mm: a VMA made here could move the table under another thread's
	 * VMA pointer (interleave). wp_can_reuse_large_anon_folio's mm already maps the folio.
	 */
	if (op_is_reader_c(op)) {
		dst_mm = mm_id ? fc_mm(st, mm_id) : NULL;
		st->result = fc_kernel_reader(st, op, dst_mm ? &dst_mm->vma : NULL);
		return true;
	}
	if (src_id && !(src_mm = fc_mm(st, src_id)))
		return false;
	if (!(dst_mm = fc_mm(st, mm_id)))
		return false;
	if (src_id)
		src_mm = fc_mm(st, src_id); /* the lookup of mm may have moved it */
	vma = &dst_mm->vma;
	if (src_mm)
		src_vma = &src_mm->vma;
	folio = st->folio;
	page = folio_page(folio, page_idx);
	address = vma->vm_start + ((unsigned long)page_idx << PAGE_SHIFT);
	/* fork() holds the parent's write_protect_seq across copy_page_range(). */
	if (src_mm)
		src_mm->mm.write_protect_seq.sequence++;

	switch (op) {
	case FC_OP_add_new_anon: {
		long added = folio_test_large(folio) && !folio_test_pmd_mappable(folio) ?
				     folio_nr_pages(folio) : 1;
		/*
		 * Once per folio: after its last unmap the kernel would have freed it. Not where
		 * folio_maybe_dma_pinned() reads the refcount (small folios, next 32-bit order 1):
		 * there the model's refcount, 1 + mappings + 1024 x pins, is what it compares.
		 */
		if (fc_refcount_is_mappings(folio) && !st->alloc_ref_mapped) {
			st->alloc_ref_mapped = true;
			added--;
		}
		fc_get(folio, added);
		folio_add_new_anon_rmap(folio, vma, vma->vm_start, flags);
		break;
	}
	case FC_OP_add_anon_ptes:
		fc_get(folio, nr);
		folio_add_anon_rmap_ptes(folio, page, (int)nr, vma, address, flags);
		break;
	case FC_OP_add_anon_pmd:
		fc_get(folio, 1);
		folio_add_anon_rmap_pmd(folio, &folio->page, vma, vma->vm_start, flags);
		break;
	case FC_OP_add_file_ptes:
		fc_get(folio, nr);
		folio_add_file_rmap_ptes(folio, page, (int)nr, vma);
		break;
	case FC_OP_add_file_pmd:
		fc_get(folio, 1);
		folio_add_file_rmap_pmd(folio, &folio->page, vma);
		break;
	case FC_OP_add_file_pud:
#ifdef FC_HAVE_folio_add_file_rmap_pud
		fc_get(folio, 1);
		folio_add_file_rmap_pud(folio, &folio->page, vma);
#else
		fc_note("not run: this tree has no folio_add_file_rmap_pud()");
#endif
		break;
	case FC_OP_remove_ptes:
		folio_remove_rmap_ptes(folio, page, (int)nr, vma);
		fc_put(folio, nr);
		break;
	case FC_OP_remove_pmd:
		folio_remove_rmap_pmd(folio, &folio->page, vma);
		fc_put(folio, 1);
		break;
	case FC_OP_remove_pud:
#ifdef FC_HAVE_folio_remove_rmap_pud
		folio_remove_rmap_pud(folio, &folio->page, vma);
		fc_put(folio, 1);
#else
		fc_note("not run: this tree has no folio_remove_rmap_pud()");
#endif
		break;
	case FC_OP_dup_file_ptes:
		fc_get(folio, nr);
#ifdef FC_TREE_STYLE_NEXT
		folio_dup_file_rmap_ptes(folio, page, (int)nr, vma);
#else
		folio_dup_file_rmap_ptes(folio, page, (int)nr);
#endif
		break;
	case FC_OP_dup_file_pmd:
		fc_get(folio, HPAGE_PMD_NR);
#ifdef FC_TREE_STYLE_NEXT
		folio_dup_file_rmap_pmd(folio, &folio->page, vma);
#else
		folio_dup_file_rmap_pmd(folio, &folio->page);
#endif
		break;
	/* copy_present_ptes() and copy_huge_pmd(): the reference first, given back on -EBUSY. */
	case FC_OP_try_dup_anon_ptes:
		fc_get(folio, nr);
#ifdef FC_TREE_STYLE_NEXT
		ret = folio_try_dup_anon_rmap_ptes(folio, page, (int)nr, vma, src_vma);
#else
		ret = folio_try_dup_anon_rmap_ptes(folio, page, (int)nr, src_vma);
#endif
		if (ret)
			folio_ref_sub(folio, (int)nr);
		break;
	case FC_OP_try_dup_anon_pmd:
		fc_get(folio, 1);
#ifdef FC_TREE_STYLE_NEXT
		ret = folio_try_dup_anon_rmap_pmd(folio, &folio->page, vma, src_vma);
#else
		ret = folio_try_dup_anon_rmap_pmd(folio, &folio->page, src_vma);
#endif
		if (ret)
			folio_ref_sub(folio, 1);
		break;
	case FC_OP_try_share_anon_pte:
		ret = folio_try_share_anon_rmap_pte(folio, page);
		break;
	case FC_OP_try_share_anon_pmd:
		ret = folio_try_share_anon_rmap_pmd(folio, &folio->page);
		break;
	case FC_OP_hugetlb_add_new_anon:
		fc_get(folio, 1);
		hugetlb_add_new_anon_rmap(folio, vma, vma->vm_start);
		break;
	case FC_OP_hugetlb_add_anon:
		fc_get(folio, 1);
		hugetlb_add_anon_rmap(folio, vma, vma->vm_start, flags);
		break;
	case FC_OP_hugetlb_add_file:
		fc_get(folio, 1);
		hugetlb_add_file_rmap(folio);
		break;
	case FC_OP_hugetlb_remove:
		hugetlb_remove_rmap(folio);
		fc_put(folio, 1);
		break;
	case FC_OP_hugetlb_try_dup_anon:
		fc_get(folio, 1);
		ret = hugetlb_try_dup_anon_rmap(folio, src_vma);
		if (ret)
			folio_ref_sub(folio, 1);
		break;
	case FC_OP_hugetlb_try_share_anon:
		ret = hugetlb_try_share_anon_rmap(folio);
		break;
	case FC_OP_gup_pin:
		/* pin_user_pages(): MMF_HAS_PINNED on the mm, then FOLL_PIN on the folio. */
#ifdef FC_TREE_STYLE_NEXT
		mm_set_has_pinned_flag(&dst_mm->mm);
#else
		mm_set_has_pinned_flag(&dst_mm->mm.flags);
#endif
		ret = try_grab_folio(folio, 1, FOLL_PIN);
		break;
	case FC_OP_gup_unpin:
		unpin_folio(folio);
		break;
	case FC_OP_read_mapcount:
	case FC_OP_read_mapped:
	case FC_OP_read_maybe_mapped_shared:
	case FC_OP_wp_can_reuse_large_anon:
	case FC_NR_OPS:
		break;
	}
	if (src_mm)
		src_mm->mm.write_protect_seq.sequence++;
	st->ret = ret;
	return true;
}

static bool fc_kernel_models(const struct fc_state *st, enum fc_obs obs)
{
	const struct folio *folio = st->folio;
	bool large = st->order >= 1;
	bool ordinary_large = large && !folio_test_hugetlb(folio);

	switch (obs) {
	case FC_OBS_nr_pages_mapped:
		return large;
	case FC_OBS_entirely_mapped:
		/* Without per-page mapcounts _nr_pages_mapped is not maintained. */
		return large && !(FC_IS_ENABLED_CONFIG_NO_PAGE_MAPCOUNT && ordinary_large);
	case FC_OBS_pincount:
#ifdef FC_HAVE_folio_has_pincount
		return folio_has_pincount(folio);
#else
		return large;
#endif
	case FC_OBS_page_mapcount:
		return !FC_IS_ENABLED_CONFIG_NO_PAGE_MAPCOUNT;
	case FC_OBS_likely_mapped_shared:
#ifdef FC_HAVE_folio_likely_mapped_shared
		return true;
#else
		return false;
#endif
	case FC_OBS_average_page_mapcount:
#ifdef FC_HAVE_folio_average_page_mapcount
		return true;
#else
		return false;
#endif
	case FC_OBS_maybe_mapped_shared:
#ifdef FC_HAVE_folio_maybe_mapped_shared
		return true;
#else
		return false;
#endif
	case FC_OBS_shared_bit:
	case FC_OBS_mm_id:
	case FC_OBS_mm_id_mapcount:
		return FC_IS_ENABLED_CONFIG_MM_ID && ordinary_large;
	case FC_OBS_mm_mapcount: /* the kernel does not know which mm holds which mapping */
	case FC_NR_OBS:
		return false;
	default:
		return true;
	}
}

static int64_t fc_kernel_read(struct fc_state *st, enum fc_obs obs, uint32_t index)
{
	struct folio *folio = st->folio;
	bool large = folio_test_large(folio);
	int64_t v = 0;

	fc_current = st;
	st->reading = true;
	switch (obs) {
	case FC_OBS_folio_mapcount:
		v = folio_mapcount(folio);
		break;
	case FC_OBS_mapped:
		v = folio_mapped(folio);
		break;
	case FC_OBS_entire_mapcount:
		v = large ? folio_entire_mapcount(folio) : 0;
		break;
	case FC_OBS_nr_pages_mapped:
		v = folio_nr_pages_mapped(folio);
		break;
	case FC_OBS_entirely_mapped:
		/* No reader: the bit itself. */
		v = large && (atomic_read(&folio->_nr_pages_mapped) & ENTIRELY_MAPPED) != 0;
		break;
	case FC_OBS_likely_mapped_shared:
#ifdef FC_HAVE_folio_likely_mapped_shared
		v = folio_likely_mapped_shared(folio);
#endif
		break;
	case FC_OBS_maybe_mapped_shared:
#ifdef FC_HAVE_folio_maybe_mapped_shared
		v = folio_maybe_mapped_shared(folio);
#endif
		break;
	case FC_OBS_average_page_mapcount:
#ifdef FC_HAVE_folio_average_page_mapcount
		v = folio_average_page_mapcount(folio);
#endif
		break;
	case FC_OBS_pincount:
		/* No reader either (folio_maybe_dma_pinned() only compares it with 0). */
		v = atomic_read(&folio->_pincount);
		break;
	case FC_OBS_maybe_dma_pinned:
		v = folio_maybe_dma_pinned(folio);
		break;
	case FC_OBS_partially_mapped:
		v = large && folio_test_partially_mapped(folio);
		break;
	case FC_OBS_ret:
		v = st->ret;
		break;
	case FC_OBS_result:
		v = st->result;
		break;
	case FC_OBS_warnings:
		v = (int64_t)st->warnings;
		break;
	case FC_OBS_nr_anon_mapped:
		v = st->stats[NR_ANON_MAPPED];
		break;
	case FC_OBS_nr_file_mapped:
		v = st->stats[NR_FILE_MAPPED];
		break;
	case FC_OBS_nr_anon_thps:
		v = st->stats[NR_ANON_THPS];
		break;
	case FC_OBS_nr_shmem_pmdmapped:
		v = st->stats[NR_SHMEM_PMDMAPPED];
		break;
	case FC_OBS_nr_file_pmdmapped:
		v = st->stats[NR_FILE_PMDMAPPED];
		break;
	case FC_OBS_page_mapcount:
#if !FC_IS_ENABLED_CONFIG_NO_PAGE_MAPCOUNT
		v = folio_precise_page_mapcount(folio, folio_page(folio, index));
#endif
		break;
	case FC_OBS_anon_exclusive:
		/*
		 * The kernel's answer: PageAnonExclusive() reads the head's bit for every page of a
		 * hugetlb folio. It must not be asked about a page that is not anon (a VM_BUG_ON under
		 * CONFIG_DEBUG_VM_PGFLAGS); nothing sets the bit there, so the bit answers.
		 */
		if (folio_test_anon(folio))
			v = PageAnonExclusive(folio_page(folio, index));
		else
			v = test_bit(PG_anon_exclusive, FC_PAGE_FLAGS(folio_page(folio, index)));
		break;
#if FC_IS_ENABLED_CONFIG_MM_ID
	/* No readers outside the rmap code: the slots and the bit as folio_mm_id() and
	 * folio_maybe_mapped_shared() see them. */
	case FC_OBS_mm_id:
		v = folio_mm_id(folio, (int)(index & 1));
		break;
	case FC_OBS_mm_id_mapcount:
		v = (int64_t)folio->_mm_id_mapcount[index & 1] + 1;
		break;
	case FC_OBS_shared_bit:
		v = test_bit(FOLIO_MM_IDS_SHARED_BITNUM, &folio->_mm_ids);
		break;
#endif
	default:
		break;
	}
	st->reading = false;
	return v;
}

static int64_t fc_kernel_raw(const struct fc_state *st, enum fc_raw field, uint32_t index)
{
	const struct folio *folio = st->folio;

	switch (field) {
	case FC_RAW_page_mapcount:
		return atomic_read(&folio_page(folio, index)->_mapcount);
	case FC_RAW_anon_exclusive:
		return test_bit(PG_anon_exclusive, FC_PAGE_FLAGS(folio_page(folio, index)));
	case FC_RAW_large_mapcount:
		return atomic_read(&folio->_large_mapcount);
	case FC_RAW_entire_mapcount:
		return atomic_read(&folio->_entire_mapcount);
	case FC_RAW_nr_pages_mapped:
		return atomic_read(&folio->_nr_pages_mapped);
	case FC_RAW_pincount:
		return atomic_read(&folio->_pincount);
	case FC_RAW_refcount:
		return atomic_read(&folio->_refcount);
	case FC_RAW_entirely_mapped_bit:
		return ENTIRELY_MAPPED;
	case FC_RAW_read_warnings:
		return (int64_t)st->read_warnings;
#if FC_IS_ENABLED_CONFIG_MM_ID
	case FC_RAW_mm_id_mapcount:
		return folio->_mm_id_mapcount[index & 1];
	case FC_RAW_mm_id:
		return folio->_mm_id[index & 1] & MM_ID_MASK;
	case FC_RAW_shared_bit:
		return test_bit(FOLIO_MM_IDS_SHARED_BITNUM, &folio->_mm_ids);
	case FC_RAW_lock_bit:
		return test_bit(FOLIO_MM_IDS_LOCK_BITNUM, &folio->_mm_ids);
	case FC_RAW_mm_id_max:
		return MM_ID_MAX;
#else
	case FC_RAW_mm_id_mapcount:
	case FC_RAW_mm_id:
	case FC_RAW_shared_bit:
	case FC_RAW_lock_bit:
	case FC_RAW_mm_id_max:
		return 0;
#endif
	}
	return 0;
}

/* page_bad_reason()'s first test. A hugetlb head's word is its page type, which the hugetlb free
 * path clears before the pages reach the page allocator. */
static bool fc_nonzero_mapcount(struct folio *folio, size_t i)
{
	if (i == 0 && folio_test_hugetlb(folio))
		return false;
	return atomic_read(&folio_page(folio, i)->_mapcount) != -1;
}

static const char *fc_kernel_check_free(struct fc_state *st, uint32_t *page_out)
{
	struct folio *folio = st->folio;
	struct page *head = &folio->page;
	size_t nr = (size_t)1 << st->order;
	const char *reason = NULL;

	fc_current = st;
	st->reading = true;
	st->bad_reason = NULL;
	/*
	 * free_pages_prepare() order: each tail page through free_tail_page_prepare() and then
	 * free_page_is_bad(), the head page last. free_tail_page_prepare() clears ->mapping and
	 * compound_head on its way; they are put back so that checking changes nothing.
	 */
	for (size_t i = 1; i < nr && !reason; i++) {
		struct page *p = head + i;
		struct address_space *mapping = p->mapping;
		unsigned long compound = FC_COMPOUND(p);
		int bad = free_tail_page_prepare(head, p);

		p->mapping = mapping;
		FC_COMPOUND(p) = compound;
		if (bad)
			reason = st->bad_reason;
		else if (fc_nonzero_mapcount(folio, i))
			reason = "nonzero mapcount";
		if (reason)
			*page_out = (uint32_t)i;
	}
	if (!reason && fc_nonzero_mapcount(folio, 0)) {
		reason = "nonzero mapcount";
		*page_out = 0;
	}
	st->reading = false;
	return reason;
}

static unsigned long fc_kernel_warnings(const struct fc_state *st) { return st->warnings; }

static unsigned fc_kernel_take_log(struct fc_state *st, unsigned max, const char **file, int *line,
			    const char **macro, const char **cond)
{
	unsigned n = st->nr_logged < max ? st->nr_logged : max;

	for (unsigned i = 0; i < n; i++) {
		file[i] = st->log[i].file;
		line[i] = st->log[i].line;
		macro[i] = st->log[i].macro;
		cond[i] = st->log[i].cond;
	}
	st->nr_logged = 0;
	return n;
}

/*
 * Writes what no helper of a correct tree leaves behind (kernel_faults.def), with the kernel's own
 * flag and statistic names; the next read or check sees it. Only tests call it.
 */
static void fc_kernel_plant_fault(struct fc_state *st, enum fc_fault fault, uint32_t index)
{
	struct folio *folio = st->folio;

	switch (fault) {
	case FC_FAULT_head_not_large:
		clear_bit(PG_head, FC_PAGE_FLAGS(&folio->page));
		break;
	case FC_FAULT_partially_mapped:
		folio_set_partially_mapped(folio);
		break;
	case FC_FAULT_anon_exclusive:
		set_bit(PG_anon_exclusive, FC_PAGE_FLAGS(folio_page(folio, index)));
		break;
	case FC_FAULT_mapped_stat:
		st->stats[folio_test_anon(folio) ? NR_ANON_MAPPED : NR_FILE_MAPPED]++;
		break;
	case FC_NR_FAULTS:
		break;
	}
}

/* The one symbol this translation unit exports (kernel_api.h). */
const struct fc_kernel_ops FC_OPS_SYMBOL = {
	.tree_name = FC_TREE_NAME,
	.tree_version = FC_TREE_VERSION,
	.tree_dir = FC_TREE_DIR,
	.style = FC_TREE_STYLE,
	.semantics = FC_SEMANTICS,
	.bits = FC_BITS,
	.create = fc_kernel_create,
	.destroy = fc_kernel_destroy,
	.reset = fc_kernel_reset,
	.apply = fc_kernel_apply,
	.models = fc_kernel_models,
	.read = fc_kernel_read,
	.raw = fc_kernel_raw,
	.check_free = fc_kernel_check_free,
	.warnings = fc_kernel_warnings,
	.take_log = fc_kernel_take_log,
	.plant_fault = fc_kernel_plant_fault,
};

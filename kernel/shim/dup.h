/* Declarations mirrored from the kernel: the types, fields and constants the extracted rmap code uses. */
#ifndef FOLIOCHECK_KERNEL_SHIM_DUP_H
#define FOLIOCHECK_KERNEL_SHIM_DUP_H

/*
 * Only what the functions named in kernel/symbols.def touch is here, laid out as the kernel lays
 * it out: struct folio overlays the first pages of the memmap exactly, so that page 1's own
 * _mapcount stays a separate word from _large_mapcount and an operation that runs past the end of
 * a folio lands in the neighbouring struct page, as it does in the kernel.
 */

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kernel_tree.h"
#include "impl/sched_hook.h"

/* A scheduling point before an access of `size` bytes at `addr` (impl/sched_hook.h). */
static inline void fc_yield_at(const volatile void *addr, unsigned long size, int access)
{
	if (foliocheck_sched_point)
		foliocheck_sched_point((const void *)addr, size, access, -1);
}
/* A scheduling point whose access is not known: dependent on every other step. */
static inline void fc_yield(void) { fc_yield_at(NULL, 0, FOLIOCHECK_ACCESS_RMW); }
/* An access inside the current step, no scheduling point. */
static inline void fc_touch(const volatile void *addr, unsigned long size, int access)
{
	if (foliocheck_sched_access)
		foliocheck_sched_access((const void *)addr, size, access);
}

/* Compiler and annotation vocabulary. */
#undef __always_inline /* glibc defines it too */
#define __always_inline inline __attribute__((__always_inline__))
#define __must_check __attribute__((__warn_unused_result__))
#define __bitwise
#define __force
#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)
#define fallthrough __attribute__((__fallthrough__))
#define data_race(expr) (expr)
/* Marked accesses are where another CPU's code may interleave: each is a scheduling point
 * (fc_yield(), a no-op unless `foliocheck interleave` installed its scheduler). */
#define READ_ONCE(x)                                                           \
	({                                                                     \
		fc_yield_at(&(x), sizeof(x), FOLIOCHECK_ACCESS_READ);          \
		*(const volatile __typeof__(x) *)&(x);                         \
	})
#define WRITE_ONCE(x, val)                                                     \
	do {                                                                   \
		fc_yield_at(&(x), sizeof(x), FOLIOCHECK_ACCESS_WRITE);         \
		*(volatile __typeof__(x) *)&(x) = (val);                       \
	} while (0)
#define BIT(nr) (1UL << (nr))
#define max_t(type, x, y)                                                      \
	({                                                                     \
		type __fc_x = (x), __fc_y = (y);                               \
		__fc_x > __fc_y ? __fc_x : __fc_y;                             \
	})
/* Fails to compile when cond is a true constant; a cast that is not constant costs nothing. */
#define BUILD_BUG_ON(cond) ((void)sizeof(char[1 - 2 * !!(cond)]))
#define smp_mb() __atomic_thread_fence(__ATOMIC_SEQ_CST)
#define smp_mb__after_atomic() __atomic_thread_fence(__ATOMIC_SEQ_CST)
/* Every CONFIG_* the extracted code tests is answered by kernel_tree.h; others fail to compile. */
#define IS_ENABLED(option) FC_IS_ENABLED_##option

#define EBUSY 16
#define ENOMEM 12
#define EREMOTEIO 121

typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;
typedef unsigned long pgoff_t;
typedef unsigned int gfp_t;

/* Single-threaded: an atomic is its counter. */
typedef struct {
	int counter;
} atomic_t;
typedef struct {
	long counter;
} atomic_long_t;

typedef struct {
	unsigned long val;
} swp_entry_t;

struct list_head {
	struct list_head *next, *prev;
};
#define LIST_POISON1 ((void *)0x100)
#define LIST_POISON2 ((void *)0x122)

/* PAGE_SIZE is 4 KiB; the PMD and PUD sizes are the setup's (they may be scaled down). */
#define PAGE_SHIFT 12
#define PAGE_SIZE (1UL << PAGE_SHIFT)
#define TAIL_MAPPING ((void *)0x400)

/* Page flags: our own numbering. Bits 0..7 of page 1's flags hold the folio order. */
enum pageflags {
	PG_locked = 8,
	PG_head,
	PG_swapbacked,
	PG_owner_priv_1,
	PG_owner_2,
	PG_reclaim,
	PG_large_rmappable,
	__NR_PAGEFLAGS,
	PG_swapcache = PG_owner_priv_1,
	PG_anon_exclusive = PG_owner_2,
	PG_partially_mapped = PG_reclaim,
};

/* Flags of a struct mm_struct. */
#define MMF_HAS_PINNED 27

/* Flags of a struct vm_area_struct. */
#define VM_LOCKED 0x00002000UL
#define VM_DROPPABLE 0x40000000UL
#define VM_SPECIAL 0x00000400UL

/* FOLL_* flags of GUP. */
#define FOLL_GET 0x04
#define FOLL_PIN 0x40000
#define FOLL_PCI_P2PDMA 0x400000

enum node_stat_item {
	NR_ANON_MAPPED,
	NR_FILE_MAPPED,
	NR_ANON_THPS,
	NR_SHMEM_PMDMAPPED,
	NR_FILE_PMDMAPPED,
	NR_FOLL_PIN_ACQUIRED,
	NR_FOLL_PIN_RELEASED,
	NR_VM_NODE_STAT_ITEMS
};

enum mthp_stat_item {
	MTHP_STAT_NR_ANON,
	MTHP_STAT_NR_ANON_PARTIALLY_MAPPED,
	MTHP_STAT_SPLIT_DEFERRED,
};

enum vm_event_item {
	THP_DEFERRED_SPLIT_PAGE,
};

typedef struct {
	unsigned sequence;
} seqcount_t;

struct address_space {
	unsigned long nrpages;
};

struct pglist_data {
	int node_id;
};

#ifdef FC_TREE_STYLE_NEXT
/*
 * next (7.x): page flags in a memdesc_flags_t, compound_info for compound_head, the mm-id words
 * in page 1 and, without CONFIG_64BIT, _entire_mapcount/_pincount in page 2. The types of the
 * mm-id words are the tree's (the tree's own typedefs repeat these; C11 accepts a repeated typedef
 * of the same type and rejects a different one, so a tree that changes them stops the build).
 */
typedef struct {
	unsigned long f;
} memdesc_flags_t;
#define FC_PAGE_FLAGS(p) (&(p)->flags.f)
#define FC_COMPOUND(p) ((p)->compound_info)
#ifdef CONFIG_64BIT
typedef int mm_id_mapcount_t;
typedef unsigned int mm_id_t;
#else
typedef short mm_id_mapcount_t;
typedef unsigned short mm_id_t;
#endif
#define BITS_PER_BYTE 8
#define DECLARE_BITMAP(name, bits) unsigned long name[((bits) + 8 * sizeof(long) - 1) / (8 * sizeof(long))]
#define ACCESS_PRIVATE(p, member) (&(p)->member)
#define __private

struct anon_vma {
	struct anon_vma *root;
	atomic_t refcount;
};

#define NUM_MM_FLAG_BITS 64
typedef struct {
	DECLARE_BITMAP(__mm_flags, NUM_MM_FLAG_BITS);
} mm_flags_t;

struct mm_struct {
	mm_flags_t flags;
	seqcount_t write_protect_seq;
	mm_id_t mm_id;
};
#else
#define FC_PAGE_FLAGS(p) (&(p)->flags)
#define FC_COMPOUND(p) ((p)->compound_head)
typedef unsigned long memdesc_flags_t;

struct anon_vma {
	struct anon_vma *root;
};

struct mm_struct {
	unsigned long flags;
	seqcount_t write_protect_seq;
	unsigned int mm_id;
};
#endif

struct vm_area_struct {
	unsigned long vm_start;
	unsigned long vm_end;
	pgoff_t vm_pgoff;
	unsigned long vm_flags;
	struct mm_struct *vm_mm;
	struct anon_vma *anon_vma;
};

/*
 * On a 64-bit host the words are 64 bits even when the code is compiled as a 32-bit kernel: every
 * long below is 8 bytes, so struct page keeps its 64-bit size (kernel/m32_check.c compiles the
 * same code with -m32 and compares). What 32 bits change (mm_id_t,
 * mm_id_mapcount_t, the page the entire mapcount and pincount live in) the tree's #ifdefs and the
 * #ifdefs mirrored here decide, and the fields stay inside the struct page they belong to.
 */
struct page {
	memdesc_flags_t flags;
	union {
		struct {
			union {
				struct list_head lru;
				struct {
					void *__filler;
					unsigned int mlock_count;
				};
			};
			struct address_space *mapping;
			union {
				pgoff_t index;
				unsigned long share;
			};
			unsigned long private;
		};
		struct {
#ifdef FC_TREE_STYLE_NEXT
			unsigned long compound_info;
#else
			unsigned long compound_head;
#endif
		};
		unsigned long __words[5];
	};
	union {
		unsigned int page_type;
		atomic_t _mapcount;
	};
	atomic_t _refcount;
	unsigned long memcg_data;
};

struct folio {
	union {
		struct {
			memdesc_flags_t flags;
			union {
				struct list_head lru;
				struct {
					void *__filler;
					unsigned int mlock_count;
				};
			};
			struct address_space *mapping;
			pgoff_t index;
			union {
				void *private;
				swp_entry_t swap;
			};
			atomic_t _mapcount;
			atomic_t _refcount;
			unsigned long memcg_data;
		};
		struct page page;
	};
	union {
		struct {
			unsigned long _flags_1;
			unsigned long _head_1;
#ifdef FC_TREE_STYLE_NEXT
			union {
				struct {
					atomic_t _large_mapcount;
					atomic_t _nr_pages_mapped;
#ifdef CONFIG_64BIT
					atomic_t _entire_mapcount;
					atomic_t _pincount;
#endif
					mm_id_mapcount_t _mm_id_mapcount[2];
					union {
						mm_id_t _mm_id[2];
						unsigned long _mm_ids;
					};
				};
				unsigned long _usable_1[4];
			};
			atomic_t _mapcount_1;
			atomic_t _refcount_1;
			unsigned int _nr_pages;
#else
			atomic_t _large_mapcount;
			atomic_t _entire_mapcount;
			atomic_t _nr_pages_mapped;
			atomic_t _pincount;
#ifdef CONFIG_64BIT
			unsigned int _folio_nr_pages;
#endif
#endif
		};
		struct page __page_1;
	};
	union {
		struct {
			unsigned long _flags_2;
			unsigned long _head_2;
			struct list_head _deferred_list;
#if defined(FC_TREE_STYLE_NEXT) && !defined(CONFIG_64BIT)
			atomic_t _entire_mapcount;
			atomic_t _pincount;
#endif
		};
		struct page __page_2;
	};
	union {
		struct {
			unsigned long _flags_3;
			unsigned long _head_3;
			void *_hugetlb_subpool;
			void *_hugetlb_cgroup;
			void *_hugetlb_cgroup_rsvd;
			void *_hugetlb_hwpoison;
		};
		struct page __page_3;
	};
};

/* The overlay the kernel asserts with FOLIO_MATCH, asserted for ours. */
_Static_assert(sizeof(struct page) == (sizeof(long) == 8 ? 64 : 36),
	       "struct page is the kernel's size with CONFIG_MEMCG: 64 bytes, or 36 with -m32");
_Static_assert(offsetof(struct folio, _mapcount) == offsetof(struct page, _mapcount),
	       "head _mapcount overlays page 0");
_Static_assert(offsetof(struct folio, _flags_1) == sizeof(struct page) + offsetof(struct page, flags),
	       "_flags_1 overlays page 1's flags");
_Static_assert(offsetof(struct folio, _head_1) ==
		       sizeof(struct page) + offsetof(struct page, __words),
	       "_head_1 overlays page 1's compound_head");
#ifdef FC_TREE_STYLE_NEXT
_Static_assert(offsetof(struct folio, _mapcount_1) ==
		       sizeof(struct page) + offsetof(struct page, _mapcount),
	       "_mapcount_1 overlays page 1's _mapcount");
_Static_assert(offsetof(struct folio, _refcount_1) ==
		       sizeof(struct page) + offsetof(struct page, _refcount),
	       "_refcount_1 overlays page 1's _refcount");
#else
_Static_assert(offsetof(struct folio, _pincount) + sizeof(atomic_t) <=
		       sizeof(struct page) + offsetof(struct page, _mapcount),
	       "page 1's own _mapcount stays clear of the folio fields");
#endif
#if defined(FC_TREE_STYLE_NEXT) && !defined(CONFIG_64BIT)
_Static_assert(offsetof(struct folio, _pincount) + sizeof(atomic_t) <=
		       2 * sizeof(struct page) + offsetof(struct page, _mapcount),
	       "page 2's own _mapcount stays clear of _entire_mapcount and _pincount");
#endif
_Static_assert(offsetof(struct folio, _head_2) ==
		       2 * sizeof(struct page) + offsetof(struct page, __words),
	       "_head_2 overlays page 2's compound_head");
_Static_assert(sizeof(struct folio) == 4 * sizeof(struct page), "a folio spans four struct pages");

#endif /* FOLIOCHECK_KERNEL_SHIM_DUP_H */

/*
 * gmemcheck's kernel prelude: what the populate path's C needs from the kernel's headers,
 * written here for a freestanding WebAssembly build (clang --target=wasm64, -ffreestanding).
 *
 * The kernel's own headers cannot be used (arch asm, per-cpu data, config-dependent structs), so
 * this file gives the same names their kernel meaning in three ways:
 *  - types, constants and macros with the kernel's semantics (u64, ERR_PTR, container_of,
 *    the cleanup.h CLASS()/guard() shapes, min_t, IS_ALIGNED, errnos);
 *  - structs with only the fields the extracted code dereferences, built by the shim's
 *    constructors (kshim.c, kshim_gmem.c), never by the kernel code under test;
 *  - everything with state (locks, pages, folios, user memory, the RMP, firmware) as
 *    WebAssembly imports from module "kernel", answered by the TypeScript model
 *    (model/kernelc/imports.ts), so that every event reaches the same invariants.
 *
 * A declaration the extracted file defines itself (a static helper it carries) is skipped when
 * the build defines KSHIM_HAVE_<name>.
 */
#ifndef KSHIM_H
#define KSHIM_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KIMPORT(name) __attribute__((import_module("kernel"), import_name(#name)))

/* ---- types (include/linux/types.h, include/uapi/asm-generic/int-ll64.h) ---- */
typedef int8_t s8;
typedef uint8_t u8;
typedef int16_t s16;
typedef uint16_t u16;
typedef int32_t s32;
typedef uint32_t u32;
typedef int64_t s64;
typedef uint64_t u64;
typedef u8 __u8;
typedef u16 __u16;
typedef u32 __u32;
typedef u64 __u64;
typedef s32 __s32;
typedef s64 __s64;
typedef unsigned long ulong;
typedef unsigned int uint;
typedef u64 gfn_t;
typedef u64 gpa_t;
typedef u64 hpa_t;
typedef u64 kvm_pfn_t;
typedef u64 phys_addr_t;
typedef unsigned long pgoff_t;
typedef long long loff_t;
typedef u64 uoff_t;
typedef unsigned int gfp_t;

/* ---- compiler.h ---- */
#define __user
#define __iomem
#define __force
#define __must_check
#define __always_inline inline __attribute__((always_inline))
#define noinline __attribute__((noinline))
#define __maybe_unused __attribute__((unused))
#define __always_unused __attribute__((unused))
#define __packed __attribute__((packed))
#define __aligned(x) __attribute__((aligned(x)))
#define __printf(a, b) __attribute__((format(printf, a, b)))
#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)
#define READ_ONCE(x) (*(const volatile __typeof__(x) *)&(x))
#define WRITE_ONCE(x, val) do { *(volatile __typeof__(x) *)&(x) = (val); } while (0)
#define barrier() __asm__ __volatile__("" ::: "memory")
#define ___PASTE(a, b) a##b
#define __PASTE(a, b) ___PASTE(a, b)
#define __UNIQUE_ID(prefix) __PASTE(__PASTE(__UNIQUE_ID_, prefix), __COUNTER__)
#define BUILD_BUG_ON(cond) _Static_assert(!(cond), "BUILD_BUG_ON: " #cond)
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define container_of(ptr, type, member) ((type *)((char *)(ptr) - offsetof(type, member)))
#define EXPORT_SYMBOL(sym)
#define EXPORT_SYMBOL_GPL(sym)
#define EXPORT_SYMBOL_FOR_KVM_INTERNAL(sym)
#define __weak __attribute__((weak))

/* ---- minmax.h, align.h ---- */
#define min(a, b) ({ __typeof__(a) __a = (a); __typeof__(b) __b = (b); __a < __b ? __a : __b; })
#define max(a, b) ({ __typeof__(a) __a = (a); __typeof__(b) __b = (b); __a > __b ? __a : __b; })
#define min_t(type, a, b) ({ type __a = (a); type __b = (b); __a < __b ? __a : __b; })
#define max_t(type, a, b) ({ type __a = (a); type __b = (b); __a > __b ? __a : __b; })
#define IS_ALIGNED(x, a) (((x) & ((__typeof__(x))(a) - 1)) == 0)
#define ALIGN(x, a) (((x) + ((__typeof__(x))(a) - 1)) & ~((__typeof__(x))(a) - 1))
#define BIT(n) (1UL << (n))
#define BIT_ULL(n) (1ULL << (n))
#define _BITULL(n) (1ULL << (n))

/* ---- the machine: the model's geometry, set by kshim_init() before any call ---- */
extern unsigned long kshim_page_size;
extern unsigned int kshim_page_shift;
extern unsigned int kshim_pmd_order;
#define PAGE_SIZE kshim_page_size
#define PAGE_SHIFT kshim_page_shift
#define PAGE_MASK (~(PAGE_SIZE - 1))
#define PMD_ORDER kshim_pmd_order
#define PAGE_ALIGNED(addr) IS_ALIGNED((unsigned long)(addr), PAGE_SIZE)

/* ---- errno-base.h, errno.h, err.h ---- */
#define EPERM 1
#define ENOENT 2
#define EINTR 4
#define EIO 5
#define ENXIO 6
#define E2BIG 7
#define EBADF 9
#define EAGAIN 11
#define ENOMEM 12
#define EFAULT 14
#define EBUSY 16
#define EEXIST 17
#define ENODEV 19
#define EINVAL 22
#define ENOTTY 25
#define ENOSPC 28
#define ERANGE 34
#define EOPNOTSUPP 95
#define EHWPOISON 133
#define MAX_ERRNO 4095
#define IS_ERR_VALUE(x) unlikely((unsigned long)(void *)(x) >= (unsigned long)-MAX_ERRNO)
static inline void *ERR_PTR(long error) { return (void *)error; }
static inline long PTR_ERR(const void *ptr) { return (long)ptr; }
static inline bool IS_ERR(const void *ptr) { return IS_ERR_VALUE((unsigned long)ptr); }
static inline bool IS_ERR_OR_NULL(const void *ptr) { return !ptr || IS_ERR_VALUE((unsigned long)ptr); }

/* ---- cleanup.h: the shapes of DEFINE_CLASS/CLASS/guard, with the compiler's cleanup attribute ---- */
#define __cleanup(func) __attribute__((cleanup(func)))
#define DEFINE_CLASS(_name, _type, _exit, _init, _init_args...)                     \
	typedef _type class_##_name##_t;                                            \
	static inline void class_##_name##_destructor(_type *p)                    \
	{ _type _T = *p; _exit; }                                                   \
	static inline _type class_##_name##_constructor(_init_args)                \
	{ _type t = _init; return t; }
#define CLASS(_name, var)                                                           \
	class_##_name##_t var __cleanup(class_##_name##_destructor) __attribute__((unused)) = \
		class_##_name##_constructor
#define DEFINE_GUARD(_name, _type, _lock, _unlock) \
	DEFINE_CLASS(_name, _type, if (_T) { _unlock; }, ({ _lock; _T; }), _type _T)
#define guard(_name) CLASS(_name, __UNIQUE_ID(guard))

/* ---- printk.h, bug.h: formatted by kshim.c, reported to the model as the kernel's events ---- */
/* Log levels as printk's: KERN_WARNING 4, KERN_DEBUG 7. */
__printf(2, 3) void kshim_printk(int level, const char *fmt, ...);
__printf(3, 4) bool kshim_warn(int macro, bool cond, const char *fmt, ...);
__printf(4, 5) bool kshim_kvm_bug(int macro, bool cond, void *kvm, const char *fmt, ...);
enum { KSHIM_WARN_ON, KSHIM_WARN_ON_ONCE, KSHIM_WARN, KSHIM_WARN_ONCE, KSHIM_KVM_BUG_ON, KSHIM_KVM_BUG };
#define pr_debug(fmt, ...) kshim_printk(7, fmt, ##__VA_ARGS__)
#define pr_info(fmt, ...) kshim_printk(6, fmt, ##__VA_ARGS__)
#define pr_warn(fmt, ...) kshim_printk(4, fmt, ##__VA_ARGS__)
#define pr_err(fmt, ...) kshim_printk(3, fmt, ##__VA_ARGS__)
#define pr_warn_ratelimited(fmt, ...) kshim_printk(4, fmt, ##__VA_ARGS__)
#define WARN_ON(cond) kshim_warn(KSHIM_WARN_ON, !!(cond), "")
#define WARN_ON_ONCE(cond) kshim_warn(KSHIM_WARN_ON_ONCE, !!(cond), "")
#define WARN(cond, fmt, ...) kshim_warn(KSHIM_WARN, !!(cond), fmt, ##__VA_ARGS__)
#define WARN_ONCE(cond, fmt, ...) kshim_warn(KSHIM_WARN_ONCE, !!(cond), fmt, ##__VA_ARGS__)
#define KVM_BUG_ON(cond, kvm) kshim_kvm_bug(KSHIM_KVM_BUG_ON, !!(cond), (kvm), "")
#define KVM_BUG(cond, kvm, fmt, ...) kshim_kvm_bug(KSHIM_KVM_BUG, !!(cond), (kvm), fmt, ##__VA_ARGS__)

/* ---- the call frame: every extracted function reports its entry and exit (KSHIM_FRAME) ---- */
KIMPORT(kernel_function_enter) void kernel_function_enter(const char *name);
KIMPORT(kernel_function_exit) void kernel_function_exit(const char *name);
static inline void kshim_frame_exit(const char **name) { kernel_function_exit(*name); }
#define KSHIM_FRAME(fn) \
	const char *__kshim_frame __cleanup(kshim_frame_exit) __attribute__((unused)) = (kernel_function_enter(fn), fn)

/* ---- string.h: explicit memcpy/memset go to the model, which knows kmapped pages ---- */
KIMPORT(kshim_memcpy) void *kshim_memcpy(void *dst, const void *src, size_t n);
KIMPORT(kshim_memset) void *kshim_memset(void *dst, int c, size_t n);
#define memcpy(d, s, n) kshim_memcpy((d), (s), (n))
#define memset(d, c, n) kshim_memset((d), (c), (n))

/* ---- locking: a lock is known to the model by its address (the shim names each at construction) ---- */
struct mutex { int kshim_lock; };
struct rw_semaphore { int kshim_lock; };
KIMPORT(mutex_lock) void mutex_lock(struct mutex *lock);
KIMPORT(mutex_lock_nested) void mutex_lock_nested(struct mutex *lock, unsigned int subclass);
KIMPORT(mutex_unlock) void mutex_unlock(struct mutex *lock);
KIMPORT(kshim_lockdep_assert_held) void kshim_lockdep_assert_held(const void *lock);
#define lockdep_assert_held(l) kshim_lockdep_assert_held(l)
DEFINE_GUARD(mutex, struct mutex *, mutex_lock(_T), mutex_unlock(_T))

/* ---- fs: a guest_memfd file, its inode and mapping (built by kshim_new_gmem_file()) ---- */
struct list_head { struct list_head *next, *prev; };
struct xarray { int kshim_unused; };
struct address_space { struct inode *host; };
struct inode { struct address_space *i_mapping; };
struct file { void *private_data; struct address_space *f_mapping; struct inode *f_inode; };
static inline struct inode *file_inode(const struct file *f) { return f->f_inode; }
KIMPORT(get_file_active) struct file *get_file_active(struct file **f);
KIMPORT(fput) void fput(struct file *file);
KIMPORT(xa_load) void *xa_load(struct xarray *xa, unsigned long index);
KIMPORT(filemap_invalidate_lock) void filemap_invalidate_lock(struct address_space *mapping);
KIMPORT(filemap_invalidate_unlock) void filemap_invalidate_unlock(struct address_space *mapping);
KIMPORT(filemap_invalidate_lock_shared) void filemap_invalidate_lock_shared(struct address_space *mapping);
KIMPORT(filemap_invalidate_unlock_shared) void filemap_invalidate_unlock_shared(struct address_space *mapping);

/* ---- mm: pages and folios are the model's; C holds only handles it must not dereference ---- */
struct page;
struct folio;
struct task_struct;
#define current ((struct task_struct *)0)
#define FOLL_WRITE 0x01
KIMPORT(get_user_pages_fast) int get_user_pages_fast(unsigned long start, int nr_pages, unsigned int gup_flags, struct page **pages);
KIMPORT(put_page) void put_page(struct page *page);
KIMPORT(get_page) void get_page(struct page *page);
KIMPORT(set_page_dirty) bool set_page_dirty(struct page *page);
KIMPORT(page_to_pfn) unsigned long page_to_pfn(const struct page *page);
KIMPORT(pfn_to_page) struct page *pfn_to_page(unsigned long pfn);
KIMPORT(kmap_local_page) void *kmap_local_page(struct page *page);
KIMPORT(kmap_local_pfn) void *kmap_local_pfn(unsigned long pfn);
KIMPORT(kshim_kunmap_local) void kshim_kunmap_local(const void *addr);
#define kunmap_local(addr) kshim_kunmap_local(addr)
KIMPORT(clear_highpage) void clear_highpage(struct page *page);
KIMPORT(folio_unlock) void folio_unlock(struct folio *folio);
KIMPORT(folio_put) void folio_put(struct folio *folio);
KIMPORT(folio_test_uptodate) bool folio_test_uptodate(struct folio *folio);
KIMPORT(folio_mark_uptodate) void folio_mark_uptodate(struct folio *folio);
KIMPORT(folio_test_hwpoison) bool folio_test_hwpoison(struct folio *folio);
KIMPORT(folio_order) unsigned int folio_order(const struct folio *folio);
KIMPORT(folio_nr_pages) long folio_nr_pages(const struct folio *folio);
KIMPORT(folio_pfn) unsigned long folio_pfn(const struct folio *folio);
KIMPORT(folio_page) struct page *folio_page(struct folio *folio, unsigned long n);
KIMPORT(folio_file_page) struct page *folio_file_page(struct folio *folio, pgoff_t index);
#ifndef KSHIM_HAVE_folio_file_pfn
KIMPORT(folio_file_pfn) kvm_pfn_t folio_file_pfn(struct folio *folio, pgoff_t index);
#endif
#ifndef KSHIM_HAVE_kvm_gmem_get_folio
/* The page cache is the model's: guest_memfd's folio allocation is not taken from the tree. */
KIMPORT(kvm_gmem_get_folio) struct folio *kvm_gmem_get_folio(struct inode *inode, pgoff_t index);
#endif
KIMPORT(signal_pending) bool signal_pending(struct task_struct *p);
KIMPORT(cond_resched) void cond_resched(void);

/* ---- uaccess.h ---- */
#define u64_to_user_ptr(x) ((void __user *)(uintptr_t)(x))
KIMPORT(copy_from_user) unsigned long copy_from_user(void *to, const void __user *from, unsigned long n);
KIMPORT(copy_to_user) unsigned long copy_to_user(void __user *to, const void *from, unsigned long n);

/* ---- kvm_host.h: only the fields the populate path reads ---- */
#ifdef CONFIG_ARM64
/*
 * arch/arm64/include/asm/kvm_rmi.h: the realm's state, RD and IPA width, which
 * kshim_cca_sync() copies in from the model's RMM state before each call (the RD's kernel
 * address is its physical one: the prelude's linear map is the identity, kshim_arm64.h).
 */
enum realm_state {
	REALM_STATE_NONE,
	REALM_STATE_NEW,
	REALM_STATE_ACTIVE,
	REALM_STATE_DYING,
	REALM_STATE_DEAD,
};
struct rmi_sro_state;
struct realm {
	void *rd;
	struct rmi_sro_state *sro;
	enum realm_state state;
	unsigned int ia_bits;
};
/* arch/arm64/include/asm/kvm_host.h */
struct kvm_arch {
	struct mutex config_lock;
	struct realm realm;
};
#else
/* arch/x86/include/asm/kvm_host.h: set once the launch is finished (SNP) or the TD finalized (TDX). */
struct kvm_arch {
	bool pre_fault_allowed;
};
#endif
struct kvm {
	struct mutex lock;
	struct mutex slots_lock;
	struct kvm_arch arch;
};
struct kvm_vcpu {
	struct kvm *kvm;
	int vcpu_id;
};
#define KVM_MEM_GUEST_MEMFD (1UL << 2)
#define KVM_MEMORY_ATTRIBUTE_PRIVATE (1ULL << 3)
struct kvm_memory_slot {
	gfn_t base_gfn;
	unsigned long npages;
	u32 flags;
	short id;
	u16 as_id;
	struct {
		struct file *file;
		pgoff_t pgoff;
	} gmem;
};
static inline bool kvm_slot_has_gmem(const struct kvm_memory_slot *slot)
{
	return slot && (slot->flags & KVM_MEM_GUEST_MEMFD);
}
/* The name before v6.18. */
static inline bool kvm_slot_can_be_private(const struct kvm_memory_slot *slot)
{
	return slot && (slot->flags & KVM_MEM_GUEST_MEMFD);
}
KIMPORT(gfn_to_memslot) struct kvm_memory_slot *gfn_to_memslot(struct kvm *kvm, gfn_t gfn);
KIMPORT(kvm_range_has_memory_attributes)
bool kvm_range_has_memory_attributes(struct kvm *kvm, gfn_t start, gfn_t end, unsigned long mask, unsigned long attrs);
/* A static call in kvm_host.h of trees whose guest_memfd tracks private memory itself (arm64). */
KIMPORT(kvm_is_private_gfn) bool kvm_is_private_gfn(struct kvm *kvm, gfn_t gfn);

/*
 * kvm_gmem_populate()'s API generation, from the tree's include/linux/kvm_host.h (the build
 * detects it and defines one of these):
 *  KSHIM_GMEM_API_PAGE_WB  per-page callback (struct page *src_page) and may_writeback_src (kvm-x86, 2026-05);
 *  KSHIM_GMEM_API_PAGE     per-page callback, no may_writeback_src (v7.0);
 *  KSHIM_GMEM_API_OLD      callback given the user source and an order (v6.11 .. v6.19).
 */
#if defined(KSHIM_GMEM_API_PAGE_WB) || defined(KSHIM_GMEM_API_PAGE)
typedef int (*kvm_gmem_populate_cb)(struct kvm *kvm, gfn_t gfn, kvm_pfn_t pfn, struct page *src_page, void *opaque);
#elif defined(KSHIM_GMEM_API_OLD)
typedef int (*kvm_gmem_populate_cb)(struct kvm *kvm, gfn_t gfn, kvm_pfn_t pfn, void __user *src, int order, void *opaque);
#else
#error "kshim: no kvm_gmem_populate() API generation selected"
#endif
#if defined(KSHIM_GMEM_API_PAGE_WB)
long kvm_gmem_populate(struct kvm *kvm, gfn_t start_gfn, void __user *src, long npages, bool may_writeback_src,
		       kvm_gmem_populate_cb post_populate, void *opaque);
#else
long kvm_gmem_populate(struct kvm *kvm, gfn_t start_gfn, void __user *src, long npages,
		       kvm_gmem_populate_cb post_populate, void *opaque);
#endif

/* ---- the shim's own services (kshim.c) ---- */
void *kshim_zalloc(size_t size);
KIMPORT(kshim_name_lock) void kshim_name_lock(const void *lock, const char *name);
void kshim_name_kvm_locks(struct kvm *kvm);

#endif /* KSHIM_H */

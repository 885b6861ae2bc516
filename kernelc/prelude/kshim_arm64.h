/*
 * The Arm CCA part of the prelude: what arch/arm64/kvm/rmi.c's populate path needs from the
 * uAPI (arch/arm64/include/uapi/asm/kvm.h), the RMI ABI (include/linux/arm-smccc-rmi.h), the RMI
 * command wrappers (include/linux/arm-rmi-cmds.h), the stage-2 page-table geometry
 * (asm/kvm_pgtable.h, asm/pgtable-hwdef.h) and the page allocator. The RMM is the model's: each
 * RMI command is an import returning the RMM's status word, as the SMC wrappers do (status in
 * bits 7:0, index in bits 15:8). `struct realm` and `struct kvm_arch` are in kshim.h.
 *
 * Layouts and call shapes follow kamalca/linux:arch/arm64/kvm/rmi.c@845841b280d36f9c462522a9c0e17450c7d85252
 * and include/linux/arm-rmi-cmds.h@d0c1c70a8ba459eb71d065cea89508d3ad1a8104 (RMM 2.0: one
 * RMI_RTT_DATA_MAP_INIT a host page; rmi_delegate_page() is rmi_delegate_range() of one page).
 *
 * The realm's creation (realm_create_rd(): the RD, the parameters page, the stage-2 PGD handed
 * to the RMM, RMI_REALM_CREATE) is the model's, as the ioctl in arm.c is: the C calls it as an
 * import, and kshim_cca_sync() copies the state it leaves back in before the C reads on.
 */
#ifndef KSHIM_ARM64_H
#define KSHIM_ARM64_H

#include "kshim.h"

/* ---- uAPI: KVM_ARM_RMI_POPULATE's struct at its ABI layout ---- */
struct kvm_arm_rmi_populate {
	__u64 base;
	__u64 size;
	__u64 source_uaddr;
	__u32 flags;
	__u32 reserved;
};
#define KVM_ARM_RMI_POPULATE_FLAGS_MEASURE (1 << 0)

/* ---- arm-smccc-rmi.h: the status word and the DATA flags ---- */
#define RMI_SUCCESS 0
#define RMI_ERROR_INPUT 1
#define RMI_ERROR_REALM 2
#define RMI_ERROR_REC 3
#define RMI_ERROR_RTT 4
#define RMI_BUSY 10
#define RMI_RETURN_STATUS(ret) ((ret) & 0xFF)
#define RMI_RETURN_INDEX(ret) (((ret) >> 8) & 0xFF)
#define RMI_NO_MEASURE_CONTENT 0
#define RMI_MEASURE_CONTENT 1

/* ---- arm-rmi-cmds.h: RMI commands, answered by the model's RMM ---- */
KIMPORT(rmi_delegate_page) int rmi_delegate_page(phys_addr_t phys);
KIMPORT(rmi_undelegate_page) int rmi_undelegate_page(phys_addr_t phys);
/* Undelegates and frees a page; WARNs and leaks it when the RMM keeps it (rmi.c's caller decides). */
KIMPORT(free_delegated_page) int free_delegated_page(phys_addr_t phys);
KIMPORT(rmi_rtt_data_map_init)
long rmi_rtt_data_map_init(unsigned long rd, unsigned long data, unsigned long ipa, unsigned long src, unsigned long flags);
KIMPORT(rmi_rtt_create) long rmi_rtt_create(unsigned long rd, unsigned long rtt, unsigned long ipa, long level);

/* ---- the realm's creation, kvm_emulate.h's state accessors ---- */
#ifndef KSHIM_HAVE_realm_create_rd
KIMPORT(realm_create_rd) int realm_create_rd(struct kvm *kvm);
#endif
static inline enum realm_state kvm_realm_state(struct kvm *kvm)
{
	return READ_ONCE(kvm->arch.realm.state);
}
static inline bool kvm_is_realm(struct kvm *kvm)
{
	return true;
}

/*
 * ---- stage 2 (asm/kvm_pgtable.h, asm/pgtable-hwdef.h): four levels, 0 .. 3 ----
 * A table has 512 entries, as with 4K pages, whatever the model's page size: the model scales its
 * pages down, not its tables (model/backends/cca/state.ts rttLevelShift()). With 4K pages this is
 * the kernel's (PAGE_SHIFT - 3) * (4 - n) + 3.
 */
#define KVM_PGTABLE_LAST_LEVEL 3
#define ARM64_HW_PGTABLE_LEVEL_SHIFT(n) (PAGE_SHIFT + 9 * (3 - (n)))
#define ALIGN_DOWN(x, a) ((x) & ~((__typeof__(x))(a) - 1))

/* ---- asm/memory.h: the prelude's linear map is the identity (a kernel page's address is its PA) ---- */
#define virt_to_phys(x) ((phys_addr_t)(uintptr_t)(x))
#define phys_to_virt(x) ((void *)(uintptr_t)(x))
#define __pfn_to_phys(pfn) ((phys_addr_t)(pfn) << PAGE_SHIFT)
#define __phys_to_pfn(pa) ((unsigned long)((pa) >> PAGE_SHIFT))
#define gfn_to_gpa(gfn) ((gpa_t)(gfn) << PAGE_SHIFT)
#define gpa_to_gfn(gpa) ((gfn_t)((gpa) >> PAGE_SHIFT))
#define PHYS_ADDR_MAX (~(phys_addr_t)0)

/* ---- gfp.h: the model's page allocator (its fault plan may refuse) ---- */
#define __GFP_ZERO 0x100u
#define __GFP_ACCOUNT 0x400000u
#define GFP_ATOMIC 0x820u
#define GFP_KERNEL 0xcc0u
#define GFP_KERNEL_ACCOUNT (GFP_KERNEL | __GFP_ACCOUNT)
KIMPORT(__get_free_page) unsigned long __get_free_page(gfp_t gfp_mask);
#define get_zeroed_page(gfp) __get_free_page((gfp) | __GFP_ZERO)
KIMPORT(free_page) void free_page(unsigned long addr);
/* Only the vCPU fault path fills a memory cache; populate passes NULL (the import refuses any other). */
struct kvm_mmu_memory_cache;
KIMPORT(kvm_mmu_memory_cache_alloc) void *kvm_mmu_memory_cache_alloc(struct kvm_mmu_memory_cache *mc);
/* The NR_SECONDARY_PAGETABLE statistic: nothing the model observes. */
static inline void kvm_account_pgtable_pages(void *virt, int nr)
{
}

/* ---- overflow.h ---- */
#define range_overflows(start, size, max) ({ \
	__typeof__(start) start__ = (start); \
	__typeof__(size) size__ = (size); \
	__typeof__(max) max__ = (max); \
	start__ >= max__ || size__ > max__ - start__; \
})

#endif /* KSHIM_ARM64_H */

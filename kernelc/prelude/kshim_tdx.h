/*
 * The TDX part of the prelude: what arch/x86/kvm/vmx/tdx.c's populate path needs from tdx.h,
 * common.h, the TDP MMU, the SEAMCALL wrappers (asm/tdx.h, arch/x86/virt/vmx/tdx/tdx.c) and
 * the uAPI (arch/x86/include/uapi/asm/kvm.h). The TDX module is the model's: each SEAMCALL is an
 * import returning the module's status, and kvm_tdp_mmu_map_private_pfn() is the model's TDP MMU,
 * which calls back into the tree's tdx_sept_map_leaf_spte() (kshim_tdx.c) for the S-EPT.
 *
 * Layouts and call shapes follow kvm-x86/linux:arch/x86/kvm/vmx/tdx.c@09c6f74ecb863f76e2486a960431fe6e2b86f2c7
 * (tdh_mem_page_add() given a pfn and the source page; tdx_sept_map_leaf_spte() given the new SPTE).
 */
#ifndef KSHIM_TDX_H
#define KSHIM_TDX_H

#include "kshim_x86.h"

/* ---- uAPI: struct kvm_tdx_cmd and KVM_TDX_INIT_MEM_REGION's region, at their ABI layout ---- */
enum kvm_tdx_cmd_id {
	KVM_TDX_CAPABILITIES = 0,
	KVM_TDX_INIT_VM,
	KVM_TDX_INIT_VCPU,
	KVM_TDX_INIT_MEM_REGION,
	KVM_TDX_FINALIZE_VM,
	KVM_TDX_GET_CPUID,
	KVM_TDX_CMD_NR_MAX,
};
struct kvm_tdx_cmd {
	__u32 id;
	__u32 flags;
	__u64 data;
	__u64 hw_error;
};
#define KVM_TDX_MEASURE_MEMORY_REGION _BITULL(0)
struct kvm_tdx_init_mem_region {
	__u64 source_addr;
	__u64 gpa;
	__u64 nr_pages;
};

/* ---- asm/shared/tdx_errno.h ---- */
#define TDX_SEAMCALL_STATUS_MASK 0xFFFFFFFF00000000ULL
#define TDX_OPERAND_BUSY 0x8000020000000000ULL

/* ---- asm/tdx.h: the SEAMCALL wrappers, answered by the model's TDX module ---- */
/* 256 bytes of a 4096-byte page: the model keeps the ratio for its page size (kshim_tdx_init()). */
extern unsigned long kshim_tdx_extendmr_chunksize;
#define TDX_EXTENDMR_CHUNKSIZE kshim_tdx_extendmr_chunksize
struct tdx_td {
	int kshim_unused;
};
KIMPORT(tdh_mem_page_add)
u64 tdh_mem_page_add(struct tdx_td *td, u64 gpa, kvm_pfn_t pfn, struct page *source, u64 *ext_err1, u64 *ext_err2);
/* TDH.MEM.PAGE.AUG maps guest-accepted pages after finalization: off the populate path, not modelled. */
KIMPORT(tdh_mem_page_aug)
u64 tdh_mem_page_aug(struct tdx_td *td, u64 gpa, int level, kvm_pfn_t pfn, u64 *ext_err1, u64 *ext_err2);
KIMPORT(tdh_mr_extend) u64 tdh_mr_extend(struct tdx_td *td, u64 gpa, u64 *ext_err1, u64 *ext_err2);

/*
 * tdx.c's TDX_BUG_ON() family, like KVM_BUG_ON() in kshim.h, reports to the model's own
 * TDX_BUG_ON events (the SEAMCALL, its status, the VM bugged), so a verdict on the tree's C and
 * on a revision read the same events. The tree's definitions of these two are not taken.
 */
KIMPORT(kshim_tdx_bug) bool kshim_tdx_bug(int outputs, u64 err, const char *fn, u64 a1, u64 a2, struct kvm *kvm);
#define TDX_BUG_ON(__err, __fn, __kvm) kshim_tdx_bug(0, (__err), #__fn, 0, 0, (__kvm))
#define TDX_BUG_ON_2(__err, __fn, a1, a2, __kvm) kshim_tdx_bug(2, (__err), #__fn, (a1), (a2), (__kvm))

/* ---- tdx.h: the VM's and the vCPU's TDX state; kshim_tdx_sync() refreshes it from the model ---- */
enum kvm_tdx_state {
	TD_STATE_UNINITIALIZED = 0,
	TD_STATE_INITIALIZED,
	TD_STATE_RUNNABLE,
};
enum vcpu_tdx_state {
	VCPU_TD_STATE_UNINITIALIZED = 0,
	VCPU_TD_STATE_INITIALIZED,
};
struct kvm_tdx {
	struct kvm kvm;
	enum kvm_tdx_state state;
	struct tdx_td td;
	/* The source page of the PAGE.ADD in flight: the tree's C sets and clears it, the model never. */
	struct page *page_add_src;
};
struct vcpu_tdx {
	struct kvm_vcpu vcpu;
	enum vcpu_tdx_state state;
};

/* ---- common.h: the shared bit is the model's (GPAW 48: bit 47) ---- */
#ifndef KSHIM_HAVE_vt_is_tdx_private_gpa
KIMPORT(vt_is_tdx_private_gpa) bool vt_is_tdx_private_gpa(struct kvm *kvm, gpa_t gpa);
#endif

/* ---- the TDP MMU (arch/x86/kvm/mmu/): the model's, mirror SPTEs included ---- */
KIMPORT(kvm_tdp_mmu_map_private_pfn) int kvm_tdp_mmu_map_private_pfn(struct kvm_vcpu *vcpu, gfn_t gfn, kvm_pfn_t pfn);
/* spte.h: a leaf SPTE as the shim builds it for the S-EPT hook: the pfn above the page offset, RWX below. */
#define VMX_EPT_RWX_MASK 0x7ULL
static inline kvm_pfn_t spte_to_pfn(u64 pte)
{
	return (pte & ((1ULL << 52) - 1)) >> PAGE_SHIFT;
}

#endif /* KSHIM_TDX_H */

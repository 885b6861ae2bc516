/*
 * The SEV-SNP part of the prelude: what arch/x86/kvm/svm/sev.c's populate path needs from
 * svm.h, psp-sev.h, the RMP helpers (arch/x86/virt/svm/sev.c) and the uAPI (linux/kvm.h).
 * uAPI structs have their fixed ABI layout; firmware buffers are read only by kshim_sev.c,
 * which hands the firmware's fields to the model as scalars.
 */
#ifndef KSHIM_SEV_H
#define KSHIM_SEV_H

#include "kshim_x86.h"

/* ---- linux/kvm.h (uAPI) ---- */
struct kvm_sev_cmd {
	__u32 id;
	__u32 pad0;
	__u64 data;
	__u32 error;
	__u32 sev_fd;
};
struct kvm_sev_snp_launch_update {
	__u64 gfn_start;
	__u64 uaddr;
	__u64 len;
	__u8 type;
	__u8 pad0;
	__u16 flags;
	__u32 pad1;
	__u64 pad2[4];
};
_Static_assert(sizeof(struct kvm_sev_snp_launch_update) == 64, "uAPI layout");
#define KVM_SEV_SNP_PAGE_TYPE_NORMAL 0x1
#define KVM_SEV_SNP_PAGE_TYPE_VMSA 0x2
#define KVM_SEV_SNP_PAGE_TYPE_ZERO 0x3
#define KVM_SEV_SNP_PAGE_TYPE_UNMEASURED 0x4
#define KVM_SEV_SNP_PAGE_TYPE_SECRETS 0x5
#define KVM_SEV_SNP_PAGE_TYPE_CPUID 0x6

/* ---- psp-sev.h: command ids (only their names matter to the shim) and return codes ---- */
enum sev_cmd {
	SEV_CMD_SNP_LAUNCH_START = 0x0a0,
	SEV_CMD_SNP_LAUNCH_UPDATE = 0x0a1,
	SEV_CMD_SNP_LAUNCH_FINISH = 0x0a2,
	SEV_CMD_SNP_PAGE_RECLAIM = 0x0c7,
};
#define SEV_RET_INVALID_PARAM 0x16
struct sev_data_snp_launch_update {
	u64 gctx_paddr;
	u32 page_size : 1, page_type : 3, imi_page : 1, rsvd : 27;
	u32 rsvd2;
	u64 address;
	u32 rsvd3 : 8, vmpl1_perms : 8, vmpl2_perms : 8, vmpl3_perms : 8;
	u32 rsvd4;
} __packed;
struct sev_data_snp_page_reclaim {
	u64 paddr;
} __packed;
/*
 * The PSP driver's entry points (drivers/crypto/ccp/sev-dev.c) and the fd that reaches it: any
 * fd the VMM passes is the model's /dev/sev. sev.c's own __sev_issue_cmd() (static there) is
 * kept when the tree has it; kshim_sev.c supplies one for trees that do not.
 */
struct fd {
	struct file *file;
};
struct fd kshim_fdget(int fd);
DEFINE_CLASS(fd, struct fd, (void)_T, kshim_fdget(fd), int fd)
#define fd_empty(f) (!(f).file)
#define fd_file(f) ((f).file)
int sev_issue_cmd_external_user(struct file *filep, unsigned int id, void *data, int *error);
#ifndef KSHIM_HAVE___sev_issue_cmd
int __sev_issue_cmd(int sev_fd, int id, void *data, int *error);
#endif
int sev_do_cmd(int cmd, void *data, int *psp_ret);

/* ---- the RMP (arch/x86/include/asm/sev.h) ---- */
#define RMP_PG_SIZE_4K 0
#define RMP_PG_SIZE_2M 1
#define PG_LEVEL_TO_RMP(level) (((level) == PG_LEVEL_4K) ? RMP_PG_SIZE_4K : RMP_PG_SIZE_2M)
static inline unsigned long page_level_size(enum pg_level level)
{
	return 1UL << (PAGE_SHIFT + (level == PG_LEVEL_2M ? PMD_ORDER : 0));
}
/* No SME C-bit and no PSP address translation on the model's machine. */
#define __sme_set(x) (x)
#define __sme_pa(x) ((u64)(uintptr_t)(x))
#define __psp_pa(x) ((u64)(uintptr_t)(x))
KIMPORT(snp_lookup_rmpentry) int snp_lookup_rmpentry(u64 pfn, bool *assigned, int *level);
KIMPORT(rmp_make_private) int rmp_make_private(u64 pfn, u64 gpa, enum pg_level level, u32 asid, bool immutable);
KIMPORT(rmp_make_shared) int rmp_make_shared(u64 pfn, enum pg_level level);
KIMPORT(snp_leak_pages) void snp_leak_pages(u64 pfn, unsigned int npages);

/* ---- svm.h: the VM's SEV state; kshim_sev_sync() refreshes it from the model before each call ---- */
struct kvm_sev_info {
	bool active;
	bool es_active;
	unsigned int asid;
	void *snp_context;
};
struct kvm_svm {
	struct kvm kvm;
	struct kvm_sev_info sev_info;
};
static inline struct kvm_svm *to_kvm_svm(struct kvm *kvm) { return container_of(kvm, struct kvm_svm, kvm); }
static inline struct kvm_sev_info *to_kvm_sev_info(struct kvm *kvm) { return &to_kvm_svm(kvm)->sev_info; }
/* svm.h's test of the VM's type; newer sev.c wraps it as sev_snp_guest() with a lockdep check. */
KIMPORT(____sev_snp_guest) bool ____sev_snp_guest(struct kvm *kvm);
#ifndef KSHIM_HAVE_sev_snp_guest
KIMPORT(sev_snp_guest) bool sev_snp_guest(struct kvm *kvm);
#endif
#ifndef KSHIM_HAVE_sev_get_asid
KIMPORT(sev_get_asid) unsigned int sev_get_asid(struct kvm *kvm);
#endif

#endif /* KSHIM_SEV_H */

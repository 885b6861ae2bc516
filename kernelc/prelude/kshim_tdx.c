/*
 * Built after the extract: the TD and vCPU objects, the model's TDX state copied in before each
 * call, and exported entries to the tree's static tdx_vcpu_init_mem_region() and
 * tdx_sept_map_leaf_spte() (the S-EPT hook the model's TDP MMU calls while mapping).
 */
unsigned long kshim_tdx_extendmr_chunksize;

struct kvm *kshim_new_kvm(void)
{
	struct kvm_tdx *kvm_tdx = kshim_zalloc(sizeof(*kvm_tdx));

	kshim_name_kvm_locks(&kvm_tdx->kvm);
	return &kvm_tdx->kvm;
}

struct kvm_vcpu *kshim_new_vcpu(struct kvm *kvm, int id)
{
	struct vcpu_tdx *tdx = kshim_zalloc(sizeof(*tdx));

	tdx->vcpu.kvm = kvm;
	tdx->vcpu.vcpu_id = id;
	return &tdx->vcpu;
}

/* What the C reads of the model's TDX state (page_add_src is the C's own, never refreshed). */
void kshim_tdx_sync(struct kvm_vcpu *vcpu, bool td_runnable, bool vcpu_initialized, bool pre_fault_allowed,
		    unsigned long extendmr_chunksize)
{
	struct kvm_tdx *kvm_tdx = container_of(vcpu->kvm, struct kvm_tdx, kvm);
	struct vcpu_tdx *tdx = container_of(vcpu, struct vcpu_tdx, vcpu);

	kvm_tdx->state = td_runnable ? TD_STATE_RUNNABLE : TD_STATE_INITIALIZED;
	tdx->state = vcpu_initialized ? VCPU_TD_STATE_INITIALIZED : VCPU_TD_STATE_UNINITIALIZED;
	vcpu->kvm->arch.pre_fault_allowed = pre_fault_allowed;
	kshim_tdx_extendmr_chunksize = extendmr_chunksize;
}

int kshim_entry_tdx_vcpu_init_mem_region(struct kvm_vcpu *vcpu, struct kvm_tdx_cmd *cmd)
{
	return tdx_vcpu_init_mem_region(vcpu, cmd);
}

int kshim_entry_tdx_sept_map_leaf_spte(struct kvm *kvm, gfn_t gfn, int level, kvm_pfn_t pfn)
{
	return tdx_sept_map_leaf_spte(kvm, gfn, (enum pg_level)level, ((u64)pfn << PAGE_SHIFT) | VMX_EPT_RWX_MASK);
}

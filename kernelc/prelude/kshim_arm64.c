/*
 * Built after the extract: the VM object with its realm, the model's realm state copied in
 * before each call (and after the model created the realm), and the exported entry to the
 * tree's kvm_arm_rmi_populate().
 */
struct kvm *kshim_new_kvm(void)
{
	struct kvm *kvm = kshim_zalloc(sizeof(*kvm));

	kshim_name_kvm_locks(kvm);
	kshim_name_lock(&kvm->arch.config_lock, "kvm->arch.config_lock");
	return kvm;
}

/* What the C reads of the model's realm: its state, RD (a PA, 0 before creation) and IPA width. */
void kshim_cca_sync(struct kvm *kvm, int state, phys_addr_t rd, unsigned int ia_bits)
{
	kvm->arch.realm.state = (enum realm_state)state;
	kvm->arch.realm.rd = phys_to_virt(rd);
	kvm->arch.realm.ia_bits = ia_bits;
}

int kshim_entry_kvm_arm_rmi_populate(struct kvm *kvm, struct kvm_arm_rmi_populate *args)
{
	return kvm_arm_rmi_populate(kvm, args);
}

/*
 * Built after the extract: the SEV firmware interface as the model answers it (the command
 * buffers are decoded here, so the model sees scalars and never the buffers' bit-field layout),
 * the VM object with its SEV state, and the exported entry to the tree's static
 * snp_launch_update().
 */
KIMPORT(kshim_fw_snp_launch_update)
int kshim_fw_snp_launch_update(int sev_fd, u64 pfn, unsigned int page_size, unsigned int page_type, int *error);
KIMPORT(kshim_fw_snp_page_reclaim) int kshim_fw_snp_page_reclaim(u64 pfn, int *error);
KIMPORT(kshim_fw_unmodelled) int kshim_fw_unmodelled(int id);

/* The firmware command in @data, decoded for the model. */
static int kshim_sev_cmd(int sev_fd, int id, void *data, int *error)
{
	switch (id) {
	case SEV_CMD_SNP_LAUNCH_UPDATE: {
		struct sev_data_snp_launch_update *d = data;

		return kshim_fw_snp_launch_update(sev_fd, d->address >> PAGE_SHIFT, d->page_size, d->page_type, error);
	}
	case SEV_CMD_SNP_PAGE_RECLAIM: {
		struct sev_data_snp_page_reclaim *d = data;

		return kshim_fw_snp_page_reclaim(d->paddr >> PAGE_SHIFT, error);
	}
	}
	return kshim_fw_unmodelled(id);
}

/* /dev/sev, which every fd the VMM passes stands for. */
static struct file kshim_sev_device;

struct fd kshim_fdget(int fd)
{
	struct fd f = { fd >= 0 ? &kshim_sev_device : NULL };

	return f;
}

int sev_issue_cmd_external_user(struct file *filep, unsigned int id, void *data, int *error)
{
	if (filep != &kshim_sev_device)
		return -EBADF;
	return kshim_sev_cmd(0, (int)id, data, error);
}

#ifndef KSHIM_HAVE___sev_issue_cmd
int __sev_issue_cmd(int sev_fd, int id, void *data, int *error)
{
	CLASS(fd, f)(sev_fd);

	if (fd_empty(f))
		return -EBADF;
	return sev_issue_cmd_external_user(fd_file(f), id, data, error);
}
#endif

int sev_do_cmd(int cmd, void *data, int *psp_ret)
{
	return kshim_sev_cmd(-1, cmd, data, psp_ret);
}

struct kvm *kshim_new_kvm(void)
{
	struct kvm_svm *svm = kshim_zalloc(sizeof(*svm));

	kshim_name_kvm_locks(&svm->kvm);
	return &svm->kvm;
}

/*
 * The model's SEV state as the C reads it from struct kvm_sev_info, and kvm->arch's
 * pre_fault_allowed (set by LAUNCH_FINISH), refreshed before each call.
 */
void kshim_sev_sync(struct kvm *kvm, bool active, bool snp_context, unsigned int asid, bool pre_fault_allowed)
{
	struct kvm_sev_info *sev = to_kvm_sev_info(kvm);

	kvm->arch.pre_fault_allowed = pre_fault_allowed;

	sev->active = active;
	sev->es_active = active;
	sev->asid = asid;
	sev->snp_context = snp_context ? (void *)sev : NULL;
}

int kshim_entry_snp_launch_update(struct kvm *kvm, struct kvm_sev_cmd *argp)
{
	return snp_launch_update(kvm, argp);
}

/*
 * Built after the extract, so that guest_memfd.c's file-local struct has the tree's layout:
 * the guest_memfd objects the extracted code dereferences (file, inode, mapping and the
 * per-VM file state with its bindings), each address registered with the model.
 */
#ifdef KSHIM_GMEM_STRUCT_KVM_GMEM
#define gmem_file kvm_gmem
#endif

KIMPORT(kshim_register_file)
void kshim_register_file(int id, struct file *file, struct inode *inode, struct address_space *mapping,
			 struct xarray *bindings);

struct file *kshim_new_gmem_file(int id, struct kvm *kvm)
{
	struct gmem_file *f = kshim_zalloc(sizeof(*f));
	struct file *file = kshim_zalloc(sizeof(*file));
	struct inode *inode = kshim_zalloc(sizeof(*inode));
	struct address_space *mapping = kshim_zalloc(sizeof(*mapping));

	f->kvm = kvm;
	inode->i_mapping = mapping;
	mapping->host = inode;
	file->private_data = f;
	file->f_mapping = mapping;
	file->f_inode = inode;
	kshim_register_file(id, file, inode, mapping, &f->bindings);
	return file;
}

import { ENODEV } from './errno.js';
import type { Impl } from './bind.js';
import { GUEST_MEMFD_FLAG_INIT_SHARED, GUEST_MEMFD_FLAG_MMAP, VM_FAULT_SIGBUS, type GmemK } from './guest_memfd.js';

/**
 * A host fault on a user mapping of a guest_memfd, per generation: mmap() (kvm_gmem_mmap(),
 * -ENODEV unless the file was created with GUEST_MEMFD_FLAG_MMAP) and then vm_ops->fault for one
 * page, under mmap_lock (the caller holds it for read, as do_user_addr_fault() does).
 *
 * Which locks the fault takes is what B2 is about: the in-place conversion series takes the
 * invalidate lock in it, so the old populate path (GUP and copy_from_user() under that lock)
 * becomes an AB-BA. Merged trees take no lock there for a VM with private memory, so the
 * in-place form runs only where its tree has it (rmi-newest) or under the in-place what-if
 * (model/whatIf.ts, model/kernel/inplace_series.ts), never deciding a verdict for a tree that
 * does not.
 */
export interface GmemFaultFns {
  /** mmap() of the file, then vm_ops->fault for page `pgoff`: a VM_FAULT_* code, or -errno from mmap(). */
  kvm_gmem_fault_user_mapping(file: number, pgoff: number): number;
}

/**
 * v6.8 .. v6.17 for a VM with private memory: kvm_gmem_fops has no .mmap before the mmap series,
 * and after it no SEV-SNP, TDX or realm guest_memfd carries GUEST_MEMFD_FLAG_MMAP
 * (gmemCreateV68): mmap() fails with -ENODEV and no fault ever reaches guest_memfd.
 */
export const gmemNoMmap: Impl<GmemFaultFns, GmemK> = {
  kvm_gmem_fault_user_mapping: () => -ENODEV,
};

/**
 * v6.18 and later, torvalds/linux:virt/kvm/guest_memfd.c@0f94e51b5320eacccc2626ab70b8d7e705332334
 * (the same in kvm-x86/linux@5e38e1bd4e7bbed05481fd358ed47396930b7d1a): past i_size or without
 * INIT_SHARED the fault is SIGBUS before any lock is taken. The model's VMs with private memory
 * never have an INIT_SHARED file (kvm_arch_supports_gmem_init_shared(), guest_memfd_create.ts),
 * so the path that gets a folio for the host is not modelled and is refused loudly if reached.
 */
export const gmemFaultV618: Impl<GmemFaultFns, GmemK> = {
  kvm_gmem_fault_user_mapping(k, file, pgoff) {
    if ((k.gmem_file_flags(file) & GUEST_MEMFD_FLAG_MMAP) === 0) return -ENODEV;
    if (pgoff * k.PAGE_SIZE >= k.gmem_file_size(file)) return VM_FAULT_SIGBUS;
    if ((k.gmem_file_flags(file) & GUEST_MEMFD_FLAG_INIT_SHARED) === 0) return VM_FAULT_SIGBUS;
    throw new Error('kvm_gmem_fault_user_mapping(): a shared guest_memfd page faulted for the host is not modelled');
  },
};

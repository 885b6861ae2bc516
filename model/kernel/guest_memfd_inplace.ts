import { EACCES, EAGAIN, EHWPOISON, EINVAL, ENODEV, ENOMEM } from './errno.js';
import type { Impl } from './bind.js';
import { GUEST_MEMFD_FLAG_INIT_SHARED, GUEST_MEMFD_FLAG_MMAP, VM_FAULT_SIGBUS, type GmemK } from './guest_memfd.js';
import { gmemCreateV618, type GmemCreateFns } from './guest_memfd_create.js';
import type { GmemFaultFns } from './guest_memfd_fault.js';
import { ERR_PTR, IS_ERR, PTR_ERR } from './services/errptr.js';
import type { Kvm } from './services/kvmcore.js';
import type { u64 } from './u64.js';

/**
 * guest_memfd in-place conversion (the in-place what-if, model/whatIf.ts): a guest_memfd a VM
 * with private memory uses for both its shared and its private memory, with a shareability per
 * index, a conversion ioctl on the file, and a host fault path that maps only shared indices.
 * Each series writes these its own way: this file holds what the series have in common and the
 * v8 series (the fixed form); guest_memfd_inplace_rfc_v2.ts holds Ackerley Tng's RFC v2.
 *
 * Not modelled: the guest's own faults (kvm_gmem_get_pfn() under the lock and v8's arch
 * make-private hook: the model has no guest accesses); the SNP/TDX hooks that hand a private page
 * back to the host on a conversion to shared (the schema refuses a conversion to shared of bound
 * pages once a populate may have run, model/scenario/schema.ts). Only the series' own populate
 * (model/revisions/inplace-v8.ts) reads these attributes; on an older revision a conversion of
 * bound pages runs a hybrid the generator never draws there. Nor the ioctls' -ENOMEM
 * (maple-tree preallocation, RFC v2's work list); huge folios (a scenario runs one what-if
 * machine). Offsets and sizes are numbers: the u64 wrap of offset + size is not expressible.
 */

/** vm_fault_t bits (include/linux/mm_types.h). */
export const VM_FAULT_OOM = 0x0001;
export const VM_FAULT_HWPOISON = 0x0010;
export const VM_FAULT_LOCKED = 0x0200;
export const VM_FAULT_RETRY = 0x0400;

/** `struct vm_fault` as the handler sees it: the page offset in, the locked page out. */
export interface VmFault {
  readonly pgoff: number;
  page: number;
}

/**
 * A conversion request: RFC v2's `struct kvm_gmem_convert` (KVM_GMEM_CONVERT_SHARED or
 * _PRIVATE) or v8's `struct kvm_memory_attributes2` (KVM_SET_MEMORY_ATTRIBUTES2 on the file, the
 * PRIVATE attribute set or clear). `error_offset` is written back on failure.
 */
export interface KvmGmemConvert {
  readonly offset: number;
  readonly size: number;
  readonly to_private: boolean;
  error_offset: number;
}

export interface GmemInPlaceFns {
  /** The guest_memfd file's unlocked_ioctl for a conversion request: 0 or -errno. */
  kvm_gmem_ioctl(file: number, arg: KvmGmemConvert): number;
}

export type InPlaceK = GmemK & GmemInPlaceFns;

/** vmf_error() (include/linux/mm.h): -ENOMEM is VM_FAULT_OOM, -EHWPOISON VM_FAULT_HWPOISON, every other error VM_FAULT_SIGBUS. */
export function vmf_error(err: number): number {
  if (err === -ENOMEM) return VM_FAULT_OOM;
  if (err === -EHWPOISON) return VM_FAULT_HWPOISON;
  return VM_FAULT_SIGBUS;
}

/**
 * What the core mm does around vm_ops->fault on the VMM's mapping of a guest_memfd
 * (do_user_addr_fault() → __do_fault() → finish_fault()), after kvm_gmem_mmap() accepted the
 * mapping: the handler returns the page locked, with a reference, and the PTE installed after it
 * returns keeps that reference. Nothing here holds the invalidate lock: whatever the handler
 * checked under it may have changed by the time the PTE is installed, unless the reference it
 * holds keeps a conversion out. An index whose PTE is present does not fault again.
 */
export function handleGmemFault(k: GmemK, file: number, pgoff: number, fault: (vmf: VmFault) => number): number {
  if (k.gmem_pte_present(file, pgoff)) return 0;
  const vmf: VmFault = { pgoff, page: 0 };
  const ret = fault(vmf);
  if (ret !== VM_FAULT_LOCKED) return ret;
  k.finish_fault(file, pgoff, vmf.page);
  k.folio_unlock(vmf.page);
  return 0;
}

/**
 * The checks of the range both series make before converting (RFC v2
 * kvm_gmem_ioctl_convert_range() after its error_offset and size checks, v8
 * kvm_gmem_set_attributes() after its own): page-aligned and inside the file. Returns -errno, or
 * the first index and the number of pages.
 */
export function convertRange(k: GmemK, file: number, arg: KvmGmemConvert): { start: number; nr: number } | number {
  if (arg.offset + arg.size > k.gmem_file_size(file)) return -EINVAL;
  if (arg.offset % k.PAGE_SIZE !== 0 || arg.size % k.PAGE_SIZE !== 0) return -EINVAL;
  return { start: arg.offset / k.PAGE_SIZE, nr: arg.size / k.PAGE_SIZE };
}

/**
 * Whether every folio of [start, start + nr) holds only the page cache's reference and the one
 * this look-up takes (RFC v2 kvm_gmem_has_safe_refcount(), v8 kvm_gmem_is_safe_for_conversion():
 * `folio_nr_pages(folio) + 1`; the model's page cache holds one reference per folio, so the safe
 * count is 2). A fault that has the folio but has not installed its PTE yet holds one more.
 * Returns the first unsafe folio's folio->index (each series reports it its own way), or
 * undefined when every folio is safe.
 */
export function firstUnsafeFolio(k: GmemK, file: number, start: number, nr: number): number | undefined {
  for (let index = start; index < start + nr; index++) {
    const folio = k.__filemap_get_folio(file, index, 0);
    if (IS_ERR(folio)) continue;
    const safe = 1 + 1;
    const ok = k.folio_ref_count(folio) === safe;
    k.folio_put(folio);
    if (!ok) return k.folio_index(folio);
  }
  return undefined;
}

/**
 * v8's kvm_gmem_create() (https://lore.kernel.org/all/20260618-gmem-inplace-conversion-v8-0-9d2959357853@google.com/):
 * the v6.18 flags (GUEST_MEMFD_FLAG_MMAP, GUEST_MEMFD_FLAG_INIT_SHARED where the arch allows it:
 * not for SEV-SNP or TDX VMs in the model, gmemCreateV618), and every index starts private unless
 * the file is INIT_SHARED (the attributes maple tree, `gi->attributes`).
 */
export function kvm_gmem_create_v8(k: GmemK, kvm: Kvm, size: u64, flags: u64): number {
  const file = gmemCreateV618.kvm_gmem_create(k, kvm, size, flags);
  if (file < 0) return file;
  const shared = (k.gmem_file_flags(file) & GUEST_MEMFD_FLAG_INIT_SHARED) !== 0;
  k.gmem_shareability_store(file, 0, k.gmem_file_size(file) / k.PAGE_SIZE, shared ? 'shared' : 'private');
  return file;
}

/**
 * v8's host fault (kvm_gmem_fault_user_mapping(), 01/46 on the base): the shareability checked
 * and the folio looked up under the shared invalidate lock; a folio not uptodate is cleared and
 * marked, so what the VMM then writes survives until populate (21/46 clears only a folio not
 * uptodate). `markUptodate` false is an injected bug (inplace_series.ts `v8~fault-not-uptodate`).
 */
export function kvmGmemFaultUserMappingV8(markUptodate: boolean): Impl<GmemFaultFns, GmemK>['kvm_gmem_fault_user_mapping'] {
  return (k, file, pgoff) => {
    // kvm_gmem_mmap(): only a file created with GUEST_MEMFD_FLAG_MMAP.
    if ((k.gmem_file_flags(file) & GUEST_MEMFD_FLAG_MMAP) === 0) return -ENODEV;
    return handleGmemFault(k, file, pgoff, (vmf) => {
      if (vmf.pgoff * k.PAGE_SIZE >= k.gmem_file_size(file)) return VM_FAULT_SIGBUS;
      k.filemap_invalidate_lock_shared(file);
      // kvm_gmem_is_shared() under the lock, then kvm_gmem_get_folio() (locked, referenced).
      const folio = k.gmem_shareability_load(file, vmf.pgoff) === 'shared' ? k.filemap_grab_folio(file, vmf.pgoff) : ERR_PTR(-EACCES);
      k.filemap_invalidate_unlock_shared(file);
      if (IS_ERR(folio)) {
        const err = PTR_ERR(folio);
        return err === -EAGAIN ? VM_FAULT_RETRY : vmf_error(err);
      }
      if (!k.folio_test_uptodate(folio)) {
        k.clear_highpage(k.folio_page(folio, 0));
        if (markUptodate) k.folio_mark_uptodate(folio);
      }
      vmf.page = k.folio_file_page(folio, vmf.pgoff);
      return VM_FAULT_LOCKED;
    });
  };
}

/**
 * The v8 series (2026-06-18, patches 13-16/46 of
 * https://lore.kernel.org/all/20260618-gmem-inplace-conversion-v8-0-9d2959357853@google.com/; the
 * fault path as googleprodkernel/linux-cc:virt/kvm/guest_memfd.c@017a929ee25cca3b900abe6c568453af2a4dc737
 * has it): the attributes maple tree is MT_FLAGS_LOCK_EXTERN under the invalidate lock, which the
 * fault takes shared around both the check and the folio look-up, and KVM_SET_MEMORY_ATTRIBUTES2
 * takes exclusive, unmapping the host's PTEs and refusing (-EAGAIN) while a folio of the range
 * holds more than the page cache's reference. This is the form Sean Christopherson's review of
 * RFC v2 (https://lore.kernel.org/all/aN3KfrWERpXsj3ld@google.com/) asked the lock to document.
 */
export const gmemInPlaceV8: Impl<GmemCreateFns & GmemFaultFns & GmemInPlaceFns, InPlaceK> = {
  kvm_gmem_create: kvm_gmem_create_v8,

  kvm_gmem_fault_user_mapping: kvmGmemFaultUserMappingV8(true),

  // KVM_SET_MEMORY_ATTRIBUTES2 → kvm_gmem_set_attributes() → __kvm_gmem_set_attributes(). The
  // flags, reserved and attribute-bit checks are on fields the model's request does not carry;
  // error_offset must come in 0 (kernel-facts §5.2), a size of 0 is refused.
  kvm_gmem_ioctl(k, file, arg) {
    if (arg.error_offset !== 0 || arg.size === 0) return -EINVAL;
    const range = convertRange(k, file, arg);
    if (typeof range === 'number') return range;
    const { start, nr } = range;
    const to: 'shared' | 'private' = arg.to_private ? 'private' : 'shared';
    const error_index = { value: start };
    let r = 0;
    k.filemap_invalidate_lock(file);
    let same = true;
    for (let i = start; i < start + nr; i++) if (k.gmem_shareability_load(file, i) !== to) same = false;
    if (!same) {
      if (arg.to_private) {
        k.unmap_mapping_pages(file, start, nr);
        // kvm_gmem_is_safe_for_conversion(): the error index is max(start, folio->index).
        const unsafe = firstUnsafeFolio(k, file, start, nr);
        if (unsafe !== undefined) {
          error_index.value = Math.max(start, unsafe);
          r = -EAGAIN;
        }
      }
      if (r === 0) {
        // kvm_gmem_invalidate_start() with the attribute filter: to private only KVM's shared
        // mappings go (KVM_FILTER_SHARED, kernel-facts §5.2), which the model does not keep, so a
        // private page a populate mapped stays; to shared, the private ones. Its _end (the MMU
        // notifier sequence) has nothing the model keeps.
        if (!arg.to_private) k.kvm_gmem_invalidate_begin(file, start, start + nr);
        k.gmem_shareability_store(file, start, start + nr, to);
      }
    }
    k.filemap_invalidate_unlock(file);
    if (r !== 0) arg.error_offset = error_index.value * k.PAGE_SIZE;
    return r;
  },
};

import { EACCES, EAGAIN, EINVAL, ENODEV } from './errno.js';
import type { Impl } from './bind.js';
import { VM_FAULT_SIGBUS } from './guest_memfd.js';
import type { GmemCreateFns } from './guest_memfd_create.js';
import type { GmemFaultFns } from './guest_memfd_fault.js';
import {
  convertRange, firstUnsafeFolio, handleGmemFault, vmf_error, VM_FAULT_HWPOISON, VM_FAULT_LOCKED, VM_FAULT_RETRY,
  type GmemInPlaceFns, type InPlaceK, type VmFault,
} from './guest_memfd_inplace.js';
import { ERR_PTR, IS_ERR, PTR_ERR } from './services/errptr.js';
import { as_loff_t, u64_test, u64ToNumber, U64_MAX, type u64 } from './u64.js';

/**
 * Ackerley Tng's in-place conversion RFC v2 (2025-05-14, 51 patches,
 * https://lore.kernel.org/all/cover.1747264138.git.ackerleytng@google.com/), as posted:
 * - 02/51 (https://lore.kernel.org/all/b784326e9ccae6a08388f1bf39db70a2204bdc51.1747264138.git.ackerleytng@google.com/):
 *   a shareability maple tree per inode (SHAREABILITY_ALL / SHAREABILITY_GUEST, a plain tree with
 *   its own internal lock), set up from GUEST_MEMFD_FLAG_INIT_PRIVATE, and kvm_gmem_fault_shared()
 *   (Fuad Tabba's mmap series v9 07/17, https://lore.kernel.org/all/20250513163438.3942405-8-tabba@google.com/)
 *   getting its folio through kvm_gmem_get_shared_folio() under filemap_invalidate_lock_shared();
 * - 04/51: KVM_GMEM_CONVERT_SHARED / KVM_GMEM_CONVERT_PRIVATE (`struct kvm_gmem_convert`) on the
 *   file, kvm_gmem_convert_range() under filemap_invalidate_lock().
 *
 * B20: Sean Christopherson, reviewing 02/51 (https://lore.kernel.org/all/aNxqYMqtBKll-TgV@google.com/),
 * was "fairly certain" of a TOCTOU: nothing visible kept a conversion to private from landing
 * after the check. Ackerley answered that conversions take the invalidate lock too
 * (https://lore.kernel.org/all/diqzbjmrt000.fsf@google.com/), and Sean agreed that the reference
 * taken under the lock keeps a conversion to private out until the PTE is zapped and the folio
 * released (https://lore.kernel.org/all/aN3KfrWERpXsj3ld@google.com/). As posted, then, the check
 * and the folio look-up sit in one shared section and the conversion refuses a folio with a
 * reference in flight: the model finds no TOCTOU here, and finds one when either defence is
 * taken away (model/kernel/inplace_series.ts, the injected `rfc-v2~` forms).
 */

/** RFC v2's uAPI flags (02/51): bit 0 enables mmap(), bit 1 makes the file start private. */
export const GUEST_MEMFD_FLAG_SUPPORT_SHARED = 1 << 0;
export const GUEST_MEMFD_FLAG_INIT_PRIVATE = 1 << 1;

export interface RfcV2Fns {
  kvm_gmem_fault_shared(file: number, vmf: VmFault): number;
  kvm_gmem_get_shared_folio(file: number, index: number): number;
  kvm_gmem_ioctl_convert_range(file: number, arg: KvmGmemConvertArg): number;
  kvm_gmem_convert_range(file: number, start: number, nr: number, shared: boolean, error_index: { value: number }): number;
  kvm_gmem_convert_should_proceed(file: number, work: readonly ConversionWork[], to_shared: boolean, error_index: { value: number }): number;
}

/** `struct conversion_work`: a run of indices whose shareability differs from the target. */
export interface ConversionWork {
  readonly start: number;
  readonly nr_pages: number;
}

type KvmGmemConvertArg = Parameters<GmemInPlaceFns['kvm_gmem_ioctl']>[1];
type K = InPlaceK & RfcV2Fns;

export const gmemInPlaceRfcV2: Impl<GmemCreateFns & GmemFaultFns & GmemInPlaceFns & RfcV2Fns, K> = {
  // kvm_gmem_create() with 02/51's flags. Assumed: the arch accepts SUPPORT_SHARED for a VM with
  // private memory (the series exists for them); INIT_PRIVATE without SUPPORT_SHARED is refused.
  kvm_gmem_create(k, _kvm, args_size, args_flags: u64) {
    const valid_flags = BigInt(GUEST_MEMFD_FLAG_SUPPORT_SHARED | GUEST_MEMFD_FLAG_INIT_PRIVATE);
    if (u64_test(args_flags, U64_MAX ^ valid_flags)) return -EINVAL;
    const flags = u64ToNumber(args_flags);
    if ((flags & GUEST_MEMFD_FLAG_INIT_PRIVATE) !== 0 && (flags & GUEST_MEMFD_FLAG_SUPPORT_SHARED) === 0) return -EINVAL;
    const size = as_loff_t(args_size);
    if (size <= 0n || size % BigInt(k.PAGE_SIZE) !== 0n) return -EINVAL;
    const file = k.gmem_file_create(Number(size), flags);
    // kvm_gmem_shareability_setup(): the whole file SHAREABILITY_GUEST if INIT_PRIVATE, else ALL.
    k.gmem_shareability_store(file, 0, Number(size) / k.PAGE_SIZE, (flags & GUEST_MEMFD_FLAG_INIT_PRIVATE) !== 0 ? 'private' : 'shared');
    return file;
  },

  kvm_gmem_fault_user_mapping(k, file, pgoff) {
    // kvm_gmem_mmap(): -ENODEV unless kvm_gmem_supports_shared().
    if ((k.gmem_file_flags(file) & GUEST_MEMFD_FLAG_SUPPORT_SHARED) === 0) return -ENODEV;
    return handleGmemFault(k, file, pgoff, (vmf) => k.kvm_gmem_fault_shared(file, vmf));
  },

  // v9 07/17's handler has no i_size check (Ackerley on v9 asks for one). Past the file
  // mtree_load() finds no entry: kvm_gmem_shareability_get() WARNs and reads 0, not
  // SHAREABILITY_ALL, so the fault is refused.
  kvm_gmem_fault_shared(k, file, vmf) {
    let ret = VM_FAULT_LOCKED;
    k.filemap_invalidate_lock_shared(file);
    const folio = k.kvm_gmem_get_shared_folio(file, vmf.pgoff);
    if (IS_ERR(folio)) {
      const err = PTR_ERR(folio);
      ret = err === -EAGAIN ? VM_FAULT_RETRY : vmf_error(err);
      k.filemap_invalidate_unlock_shared(file);
      return ret;
    }
    if (k.folio_test_hwpoison(folio)) ret = VM_FAULT_HWPOISON;
    else if (k.folio_order(folio) > 0) ret = VM_FAULT_SIGBUS;
    else {
      if (!k.folio_test_uptodate(folio)) {
        k.clear_highpage(k.folio_page(folio, 0));
        k.folio_mark_uptodate(folio);
      }
      vmf.page = k.folio_file_page(folio, vmf.pgoff);
    }
    if (ret !== VM_FAULT_LOCKED) {
      k.folio_unlock(folio);
      k.folio_put(folio);
    }
    k.filemap_invalidate_unlock_shared(file);
    return ret;
  },

  kvm_gmem_get_shared_folio(k, file, index) {
    const shareability = k.gmem_shareability_load(file, index);
    k.WARN(shareability === undefined, 'Shareability should always be defined for all indices in inode.');
    if (shareability !== 'shared') return ERR_PTR(-EACCES);
    return k.filemap_grab_folio(file, index);
  },

  kvm_gmem_ioctl: (k, file, arg) => k.kvm_gmem_ioctl_convert_range(file, arg),

  kvm_gmem_ioctl_convert_range(k, file, arg) {
    if (arg.error_offset !== 0) return -EINVAL;
    if (arg.size === 0) return 0;
    const range = convertRange(k, file, arg);
    if (typeof range === 'number') return range;
    const error_index = { value: 0 };
    const r = k.kvm_gmem_convert_range(file, range.start, range.nr, !arg.to_private, error_index);
    if (r !== 0) arg.error_offset = error_index.value * k.PAGE_SIZE;
    return r;
  },

  // kvm_gmem_convert_compute_work() makes the work list: the runs of indices whose shareability
  // differs from the target (its kzalloc() failing, -ENOMEM, is not modelled). Every step then
  // runs over the whole list: invalidate_begin, should_proceed, shareability_apply;
  // kvm_gmem_invalidate_end() (the MMU notifier sequence, nothing the model keeps) either way.
  kvm_gmem_convert_range(k, file, start, nr, shared, error_index) {
    const to: 'shared' | 'private' = shared ? 'shared' : 'private';
    k.filemap_invalidate_lock(file);
    const work: ConversionWork[] = [];
    for (let i = start; i < start + nr; i++) {
      if (k.gmem_shareability_load(file, i) === to) continue;
      const last = work.at(-1);
      if (last !== undefined && last.start + last.nr_pages === i) work[work.length - 1] = { start: last.start, nr_pages: last.nr_pages + 1 };
      else work.push({ start: i, nr_pages: 1 });
    }
    let ret = 0;
    if (work.length > 0) {
      for (const w of work) k.kvm_gmem_invalidate_begin(file, w.start, w.start + w.nr_pages);
      ret = k.kvm_gmem_convert_should_proceed(file, work, shared, error_index);
      if (ret === 0) for (const w of work) k.gmem_shareability_store(file, w.start, w.start + w.nr_pages, to);
    }
    k.filemap_invalidate_unlock(file);
    return ret;
  },

  kvm_gmem_convert_should_proceed(k, file, work, to_shared, error_index) {
    if (to_shared) return 0;
    for (const w of work) {
      k.unmap_mapping_pages(file, w.start, w.nr_pages);
      // kvm_gmem_has_safe_refcount(): the error index is the folio's own index, not clamped.
      const unsafe = firstUnsafeFolio(k, file, w.start, w.nr_pages);
      if (unsafe !== undefined) {
        error_index.value = unsafe;
        return -EAGAIN;
      }
    }
    return 0;
  },
};

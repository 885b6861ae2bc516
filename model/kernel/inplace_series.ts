import type { Impl } from './bind.js';
import { EINVAL } from './errno.js';
import { VM_FAULT_SIGBUS } from './guest_memfd.js';
import { gmemInPlaceV8, kvmGmemFaultUserMappingV8, type GmemInPlaceFns, type InPlaceK } from './guest_memfd_inplace.js';
import { gmemInPlaceRfcV2, type RfcV2Fns } from './guest_memfd_inplace_rfc_v2.js';
import type { World } from '../world/World.js';

/**
 * The in-place conversion series the in-place what-if can apply (model/whatIf.ts), by id, and
 * injected bugs of them (`series~what`), each a table bound after the revision's so that it
 * replaces the revision's guest_memfd create and fault forms. `v8` is the default: the newest
 * series, the fixed form of the fault path.
 */
export interface InPlaceSeries {
  readonly id: string;
  readonly title: string;
  /** An injected bug: not code anybody posted. */
  readonly injected: boolean;
  /** The functions it replaces or adds (each type-checked against its header where it is written). */
  readonly fns: object;
}

export const DEFAULT_IN_PLACE_SERIES = 'v8';

type RfcV2K = InPlaceK & RfcV2Fns;

/**
 * B20 as Sean Christopherson read RFC v2 02/51: the shareability checked before the lock that
 * conversions take, so a conversion to private may land between the check and the folio look-up
 * (whose reference would otherwise have made the conversion back off).
 */
const checkOutsideLock: Impl<Pick<RfcV2Fns, 'kvm_gmem_fault_shared' | 'kvm_gmem_get_shared_folio'>, RfcV2K> = {
  kvm_gmem_fault_shared(k, file, vmf) {
    // kvm_gmem_shareability_get() moved with the check, its WARN for an index past the file too.
    const shareability = k.gmem_shareability_load(file, vmf.pgoff);
    k.WARN(shareability === undefined, 'Shareability should always be defined for all indices in inode.');
    if (shareability !== 'shared') return VM_FAULT_SIGBUS;
    return gmemInPlaceRfcV2.kvm_gmem_fault_shared(k, file, vmf);
  },
  // The look-up under the lock no longer checks: the check moved out, before the lock.
  kvm_gmem_get_shared_folio: (k, file, index) => k.filemap_grab_folio(file, index),
};

/** RFC v2 04/51 without kvm_gmem_has_safe_refcount(): a fault holding the folio, PTE not yet installed, goes unseen. */
const noSafeRefcount: Impl<Pick<RfcV2Fns, 'kvm_gmem_convert_should_proceed'>, RfcV2K> = {
  kvm_gmem_convert_should_proceed(k, file, work, to_shared) {
    if (!to_shared) for (const w of work) k.unmap_mapping_pages(file, w.start, w.nr_pages);
    return 0;
  },
};

/**
 * v8's KVM_SET_MEMORY_ATTRIBUTES2 with neither unmap_mapping_pages() nor the reference check: a PTE
 * the VMM already has survives the conversion. (Without the unmap alone, the check refuses any
 * mapped page with -EAGAIN, since the PTE holds a reference: the unmap is what lets a page the VMM
 * touched be converted at all, the check what keeps a mapped page from going private.)
 */
const noConversionChecks: Pick<Impl<GmemInPlaceFns, InPlaceK>, 'kvm_gmem_ioctl'> = {
  kvm_gmem_ioctl(k, file, arg) {
    const start = arg.offset / k.PAGE_SIZE;
    const nr = arg.size / k.PAGE_SIZE;
    if (arg.size === 0 || arg.offset % k.PAGE_SIZE !== 0 || arg.size % k.PAGE_SIZE !== 0 || arg.offset + arg.size > k.gmem_file_size(file)) return -EINVAL;
    k.filemap_invalidate_lock(file);
    k.kvm_gmem_invalidate_begin(file, start, start + nr);
    k.gmem_shareability_store(file, start, start + nr, arg.to_private ? 'private' : 'shared');
    k.filemap_invalidate_unlock(file);
    return 0;
  },
};

export const IN_PLACE_SERIES: readonly InPlaceSeries[] = [
  { id: 'v8', title: 'in-place conversion v8 (2026-06): fault checks shareability under the invalidate lock, KVM_SET_MEMORY_ATTRIBUTES2 unmaps and waits for references', injected: false, fns: gmemInPlaceV8 },
  { id: 'rfc-v2', title: 'in-place conversion RFC v2 (2025-05) as posted: kvm_gmem_fault_shared(), KVM_GMEM_CONVERT_{SHARED,PRIVATE}', injected: false, fns: gmemInPlaceRfcV2 },
  { id: 'rfc-v2~check-outside-lock', title: 'RFC v2 with the fault\'s shareability check before the invalidate lock (B20 as the review read it)', injected: true, fns: { ...gmemInPlaceRfcV2, ...checkOutsideLock } },
  { id: 'rfc-v2~no-safe-refcount', title: 'RFC v2 with the conversion\'s safe-refcount check removed', injected: true, fns: { ...gmemInPlaceRfcV2, ...noSafeRefcount } },
  { id: 'v8~no-conversion-checks', title: 'v8 with KVM_SET_MEMORY_ATTRIBUTES2 neither unmapping the VMM\'s PTEs nor checking references', injected: true, fns: { ...gmemInPlaceV8, ...noConversionChecks } },
  // The VMM's writes land in a folio 21/46's __kvm_gmem_get_pfn() then clears: the image is lost.
  { id: 'v8~fault-not-uptodate', title: 'v8 with the host fault clearing a new folio without marking it uptodate', injected: true, fns: { ...gmemInPlaceV8, kvm_gmem_fault_user_mapping: kvmGmemFaultUserMappingV8(false) } },
];

export function inPlaceSeriesById(id: string): InPlaceSeries | undefined {
  return IN_PLACE_SERIES.find((s) => s.id === id);
}

/** The table a backend binds after the revision's for the world's in-place what-if machine. */
export function inPlaceWhatIf(w: Pick<World, 'gmemInPlace'>): object[] {
  if (w.gmemInPlace === undefined) return [];
  const s = inPlaceSeriesById(w.gmemInPlace);
  if (s === undefined) throw new Error(`no in-place conversion series ${w.gmemInPlace}`);
  return [s.fns];
}

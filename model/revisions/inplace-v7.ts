import type { Revision } from './Revision.js';
import { gmemV70 } from './v7.0.js';
import { inPlaceV8Fns } from './inplace-v8.js';

/**
 * Ackerley Tng's in-place conversion series, v7 (2026-05-22, 42 patches;
 * https://lore.kernel.org/all/20260522-gmem-inplace-conversion-v7-0-2f0fae496530@google.com/),
 * its populate path: v8's (inplace-v8.ts) less 21/46. v7's __kvm_gmem_get_pfn() is v7.0's and
 * clears nothing: only the guest's fault (kvm_gmem_get_pfn()) and the VMM's (the mmap fault) zero
 * a folio that is not uptodate, so a NULL-source populate (TDX 21/42, SNP 20/42) of a page the
 * VMM never touched loads and measures whatever the allocator left in it (B17: reported by
 * Sashiko on v7, both vendors, fixed by 21/46; Ackerley's list
 * <CAEvNRgGpaggjd3=ooyzv7iEbmA-x1mWJHgjLSjPi8=5CPrk-yQ@mail.gmail.com>, Sean's "That fix works
 * for me" <aiHeDZEPkAcWcSkn@google.com>). The rest is assumed as v8 has it: v7 06/42 asks
 * guest_memfd's attributes when the `vm_memory_attributes` parameter is off (v8's parameter with
 * the opposite sense), 20/42 and 21/42 read as 22/46 and 23/46 but for that parameter, and the
 * conversion ioctl is the model's v8 one (model/kernel/guest_memfd_inplace.ts).
 */
/** v8's functions with v7.0's lookup (no 21/46). */
export const inPlaceV7Fns: typeof inPlaceV8Fns = { ...inPlaceV8Fns, __kvm_gmem_get_pfn: gmemV70.__kvm_gmem_get_pfn };

export const inplace_v7: Revision = {
  id: 'inplace-v7',
  title: 'in-place conversion v7 (Ackerley Tng, 2026-05-22): v8\'s populate without 21/46, so __kvm_gmem_get_pfn() clears nothing and a NULL source loads an untouched page as the allocator left it',
  backends: ['snp', 'tdx'],
  cites: [
    'https://lore.kernel.org/all/20260522-gmem-inplace-conversion-v7-0-2f0fae496530@google.com/ (06/42, 20/42, 21/42)',
    'https://lore.kernel.org/all/20260618-gmem-inplace-conversion-v8-21-9d2959357853@google.com/ (21/46, the fix)',
  ],
  gmemAttributes: true,
  fns: inPlaceV7Fns,
};

import { EFAULT, EINTR, EINVAL, ENOMEM } from '../kernel/errno.js';
import type { Impl } from '../kernel/bind.js';
import { IS_ALIGNED } from '../kernel/ref.js';
import { NULL } from '../kernel/services/errptr.js';
import { current } from '../kernel/services/sched.js';
import type { Revision, X86K } from './Revision.js';
import { v70Fns, type V70Fns } from './v7.0.js';

/**
 * roth-v3-posted: Roth's v3 (2026-01-08) as posted, before Sean Christopherson's two fixes on
 * apply (kvm-x86 `gmem`, 2026-01-15). https://lore.kernel.org/all/20260108214622.1084057-1-michael.roth@amd.com/
 * Everything else is what was merged for v7.0 (model/revisions/v7.0.ts: same hunks, same blobs).
 *
 * - 2/6 (...-3-michael.roth@amd.com) adds `WARN_ON_ONCE(folio_order(folio))` at the end of
 *   kvm_gmem_get_folio()'s slow path, where __filemap_get_folio_mpol() may return an ERR_PTR:
 *   folio_order() then reads flags at the error pointer (B31; Sean, aWk9PusYNW0iADuD@google.com:
 *   "this WARN will dereference garbage and explode"), fixed on apply with `!IS_ERR(folio) &&`.
 *   The same line was in v2 1/5 (model/revisions/roth-v2.ts).
 * - 6/6 (...-7-michael.roth@amd.com) computes `p = src ? src + i * PAGE_SIZE : NULL`; Sean moved the
 *   uaddr into `if (src)` on apply. Equivalent unless src + i * PAGE_SIZE wraps to 0, where the
 *   first GUP already failed; mirrored as posted all the same.
 */
export type RothV3PostedFns = V70Fns;

type K = X86K & RothV3PostedFns;

/** guest_memfd.c as v3 2/6 and 6/6 posted it (the functions that differ from the merged file). */
export const gmemRothV3Posted: Pick<Impl<RothV3PostedFns, K>, 'kvm_gmem_get_folio' | 'kvm_gmem_populate'> = {
  kvm_gmem_get_folio(k, inode, index) {
    // filemap_lock_folio() fast path, else __filemap_get_folio_mpol(FGP_LOCK | FGP_CREAT), as in
    // v7.0.ts: only the slow path reaches the WARN, and only it can return an ERR_PTR.
    const folio = k.filemap_grab_folio(inode, index);
    // "guest_memfd currently assumes that all folios are order-0": not IS_ERR()-guarded as posted.
    k.WARN_ON_ONCE(k.folio_order(folio) !== 0);
    return folio;
  },

  kvm_gmem_populate(k, kvm, start_gfn, src, npages, post_populate, opaque) {
    let ret = 0;
    let i: number;
    k.lockdep_assert_held(kvm.slots_lock);
    // Stryker disable all: both callers refuse these first (as v7.0: SNP !params.len and an
    // unaligned uaddr; TDX one page a call and an unaligned source_addr).
    if (k.WARN_ON_ONCE(npages <= 0)) return -EINVAL;
    if (k.WARN_ON_ONCE(!IS_ALIGNED(src, k.PAGE_SIZE))) return -EINVAL;
    // Stryker restore all
    const slot = k.gfn_to_memslot(kvm, start_gfn);
    // Stryker disable next-line ConditionalExpression: kvm_slot_has_gmem(NULL) is false (kvm_host.h), so `slot === null` only saves the call.
    if (slot === null || !k.kvm_slot_has_gmem(slot)) return -EINVAL;
    return k.CLASS_gmem_get_file(slot, (file) => {
      if (!file) return -EFAULT;
      npages = Math.min(slot.npages - (start_gfn - slot.base_gfn), npages);
      for (i = 0; i < npages; i++) {
        const src_page = k.local_page_ptrs('src_page', 1);
        src_page.set(0, NULL);
        if (k.signal_pending(current)) {
          ret = -EINTR;
          break;
        }
        const p = src ? src + i * k.PAGE_SIZE : NULL;
        if (p) {
          ret = k.get_user_pages_fast(p, 1, 0, src_page);
          // get_user_pages_fast() of one page returns 1 or -errno, never 0 (mm/gup.c), so
          // `ret != 1` is defensive.
          // Stryker disable next-line EqualityOperator: see above.
          if (ret < 0) break;
          // Stryker disable all: see above.
          if (ret !== 1) {
            ret = -ENOMEM;
            break;
          }
          // Stryker restore all
        }
        ret = k.__kvm_gmem_populate(kvm, slot, file, start_gfn + i, src_page.at(0), post_populate, opaque);
        if (src_page.at(0)) k.put_page(src_page.at(0));
        if (ret) break;
      }
      return ret && !i ? ret : i;
    });
  },
};

export const rothV3PostedFns: Impl<RothV3PostedFns, K> = { ...v70Fns, ...gmemRothV3Posted };

export const roth_v3_posted: Revision = {
  id: 'roth-v3-posted',
  title: 'Roth v3 as posted (Jan 2026): v7.0 before the apply fixes, kvm_gmem_get_folio() WARNs on folio_order() of a possible ERR_PTR',
  backends: ['snp', 'tdx'],
  cites: [
    'https://lore.kernel.org/all/20260108214622.1084057-3-michael.roth@amd.com/ (2/6: kvm_gmem_get_folio)',
    'https://lore.kernel.org/all/20260108214622.1084057-7-michael.roth@amd.com/ (6/6: kvm_gmem_populate)',
    'https://lore.kernel.org/all/aWk9PusYNW0iADuD@google.com/ (Sean: the IS_ERR fix on apply)',
  ],
  fns: rothV3PostedFns,
};

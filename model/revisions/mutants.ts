import type { Impl } from '../kernel/bind.js';
import type { PagePtrArray } from '../kernel/services/slab.js';
import { IS_ERR, PTR_ERR } from '../kernel/services/errptr.js';
import { VCPU0 } from '../backends/tdx/uapi.js';
import { preFaultMemory, x86PreFaultMemory } from '../kernel/pre_fault_memory.js';
import { KVM_SEV_SNP_PAGE_TYPE_NORMAL, KVM_SEV_SNP_PAGE_TYPE_ZERO, PG_LEVEL_4K, type KvmSevSnpLaunchUpdate, type UserStructRef } from '../backends/snp/uapi.js';
import { opaqueAs, type Revision, type X86K } from './Revision.js';
import { KVM, vcpuMutex, type Kvm, type KvmMemorySlot } from '../kernel/services/kvmcore.js';
import { EFAULT, EINVAL, ENOMEM } from '../kernel/errno.js';
import { IS_ALIGNED } from '../kernel/ref.js';
import { KVM_MEMORY_ATTRIBUTE_PRIVATE } from '../world/kvmState.js';
import { kvm_x86_next, nextFns, type NextFns } from './kvm-x86-next.js';
import { sevCommon } from '../backends/snp/sev.js';
import { gmemCreateV618 } from '../kernel/guest_memfd_create.js';
import { gmemCommon } from '../kernel/guest_memfd.js';
import { rfc_v1, rfcV1Fns, type RfcV1Fns } from './rfc-v1.js';
import { v7_0, v70Fns, type V70Fns } from './v7.0.js';
import { paolo_v1, paoloV1Fns, type PaoloV1Fns } from './paolo-v1.js';
import { rmi_newest, rmiNewestFns, type RmiNewestFns } from './rmi-newest.js';
import type { ArmK } from '../backends/cca/rmi.js';
import type { WhatIfMode } from '../whatIf.js';
import { inplace_v8, inPlaceV8Fns, kvmGmemPopulateInPlace, sevGmemPostPopulateInPlace } from './inplace-v8.js';
import { inplace_v7, inPlaceV7Fns } from './inplace-v7.js';
import { v6_17, v617Fns, type V617Fns } from './v6.17.js';

/**
 * Injected bugs: each a real revision with one function changed the way a plausible patch
 * would get it wrong. They exist to show every invariant can fail (a property no known-bad
 * revision violates has not been shown to work), and which message it fails with.
 */
export interface Mutant extends Revision {
  readonly base: string;
  /**
   * The invariant it must break and one message id it must break it with, and where the message
   * carries one, the detail (the oracle row) that tells it from the base revision's own bugs.
   */
  readonly breaks: { readonly invariant: string; readonly messageId: string; readonly detail?: string };
  readonly description: string;
  /** How small its counterexample must shrink, where a path to it needs more than the usual 6 operations. */
  readonly maxOps?: number;
  /** The what-if cell it is explored in, where its bug needs that machine (model/whatIf.ts). */
  readonly whatIf?: WhatIfMode;
}

type NextK = X86K & NextFns;
type RfcK = X86K & RfcV1Fns;
type V70K = X86K & V70Fns;
type V617K = X86K & V617Fns;
type RmiK = ArmK & RmiNewestFns;
type PaoloK = Omit<X86K, keyof PaoloV1Fns> & PaoloV1Fns;
/** Kernel functions below the revision a mutant may also replace. */
type Replaceable = NextFns & Pick<X86K, 'snp_lookup_rmpentry' | 'snp_page_reclaim' | 'kvm_gmem_create' | 'kvm_gmem_invalidate_begin' | 'sev_free_vcpu' | 'kvm_lock_all_vcpus' | 'kvm_vcpu_ioctl_pre_fault_memory' | 'kvm_vcpu_pre_fault_memory' | 'kvm_arch_vcpu_pre_fault_memory'>;

function onNext(id: string, description: string, breaks: Mutant['breaks'], fns: Partial<Impl<Replaceable, NextK>>, backends: Revision['backends'] = ['snp', 'tdx']): Mutant {
  return { ...kvm_x86_next, id: `kvm-x86-next+${id}`, title: description, description, base: kvm_x86_next.id, breaks, backends, fns: { ...nextFns, ...fns } };
}

/** A `struct page **` whose element i + 1 reads as element i: the second memcpy of a straddling copy then reads the first page again. */
function sameNeighbour(p: PagePtrArray): PagePtrArray {
  return { ptr: p.ptr, at: (i) => p.at(i === 0 ? 0 : i - 1), set: (i, v) => p.set(i, v), plus: (i) => sameNeighbour(p.plus(i)) };
}

/** v7.0's __kvm_gmem_populate() (gmemV70) with one step left out, or done whatever the callback returned. */
function gmemPopulateWithout(step: 'attribute-check' | 'mark-uptodate' | 'callback-check'): Impl<Replaceable, NextK>['__kvm_gmem_populate'] {
  return (k, kvm, slot, file, gfn, src_page, post_populate, opaque) => {
    const index = k.kvm_gmem_get_index(slot, gfn);
    k.filemap_invalidate_lock(file);
    const got = { pfn: 0 };
    const folio = k.__kvm_gmem_get_pfn(file, slot, index, got);
    let ret = PTR_ERR(folio);
    if (!IS_ERR(folio)) {
      k.folio_unlock(folio);
      if (step !== 'attribute-check' && !k.kvm_range_has_memory_attributes(kvm, gfn, gfn + 1, KVM_MEMORY_ATTRIBUTE_PRIVATE, KVM_MEMORY_ATTRIBUTE_PRIVATE)) ret = -EINVAL;
      else {
        ret = post_populate(kvm, gfn, got.pfn, src_page, opaque);
        if ((!ret || step === 'callback-check') && step !== 'mark-uptodate') k.folio_mark_uptodate(folio);
      }
      k.folio_put(folio);
    }
    k.filemap_invalidate_unlock(file);
    return ret;
  };
}

export const MUTANTS: readonly Mutant[] = [
  onNext('no-attr-check', '__kvm_gmem_populate() without the KVM_MEMORY_ATTRIBUTE_PRIVATE check', { invariant: 'private-attribute-precondition', messageId: 'notPrivate' }, {
    __kvm_gmem_populate: gmemPopulateWithout('attribute-check'),
  }),
  onNext('no-uptodate', '__kvm_gmem_populate() does not mark the folio uptodate after a successful callback: the next fault clears the loaded page', { invariant: 'functional-spec', messageId: 'notUptodate' }, {
    __kvm_gmem_populate: gmemPopulateWithout('mark-uptodate'),
  }),
  onNext('uptodate-on-failure', '__kvm_gmem_populate() marks the folio uptodate even when the callback failed: the next fault maps what the failed call left there, uncleared', { invariant: 'functional-spec', messageId: 'markedUptodate' }, {
    __kvm_gmem_populate: gmemPopulateWithout('callback-check'),
    // SNP only: a TDX callback fails on its own only through a TDX-module failure the retries
    // do not absorb, too rare for every seed's budget (seed 2 met none in 300 runs).
  }, ['snp']),
  // TDX only: on SNP a poisoned page that was populated before is refused at its RMP entry with
  // the same -EIO, so the missing check shows only when the page was merely allocated.
  onNext('no-hwpoison-check', '__kvm_gmem_get_pfn() without the folio_test_hwpoison() check: a page memory_failure() poisoned (and zapped from the S-EPT) is added to the TD again', { invariant: 'functional-spec', messageId: 'wrongErrno', detail: 'GP.5' }, {
    __kvm_gmem_get_pfn: (k, file, slot, index, out) => nextFns.__kvm_gmem_get_pfn(Object.assign(Object.create(k) as NextK, { folio_test_hwpoison: () => false }), file, slot, index, out),
  }, ['tdx']),
  onNext('warn-on-folio-enomem', '__kvm_gmem_get_pfn() WARNs when the folio cannot be allocated, as if populate\'s folios were always there: memory pressure (or syzkaller\'s fail_nth) reaches the WARN with no firmware failure', { invariant: 'warn-reachable', messageId: 'warnWithoutFault' }, {
    __kvm_gmem_get_pfn(k, file, slot, index, out) {
      const folio = nextFns.__kvm_gmem_get_pfn(k, file, slot, index, out);
      k.WARN_ON_ONCE(IS_ERR(folio) && PTR_ERR(folio) === -ENOMEM);
      return folio;
    },
  }),
  // TDX only: on SNP the stage-2 zap leaves the RMP as it is, so one gfn too many changes nothing.
  onNext('invalidate-past-hole', 'kvm_gmem_invalidate_begin() zaps one page past the range it is given (an off-by-one in the end): a punched hole unmaps the next gfn, whose page guest_memfd still holds', { invariant: 'functional-spec', messageId: 'wrongState', detail: 'FA.5' }, {
    kvm_gmem_invalidate_begin: (k, file, start, end) => gmemCommon.kvm_gmem_invalidate_begin(k, file, start, end + 1),
  }, ['tdx']),
  // TDX only (its VM state guard is the caller); reached where the scenario has a second vCPU.
  onNext('lock-all-vcpus-no-nest', 'kvm_lock_all_vcpus() takes each vcpu->mutex with a plain mutex_lock(), without kvm->lock as its nest_lock: a TD with two vCPUs nests two locks of one class lockdep cannot order', { invariant: 'lock-order', messageId: 'recursiveClass' }, {
    kvm_lock_all_vcpus(k, kvm) {
      k.lockdep_assert_held(kvm.lock);
      for (const id of k.kvm_vcpu_ids(kvm)) k.mutex_lock(vcpuMutex(id));
      return 0;
    },
  }, ['tdx']),
  onNext('init-mem-region-vcpu0-state', 'tdx_vcpu_init_mem_region() asks whether vCPU 0 is initialized, not the vCPU whose fd the call came through: a TD populates through a vCPU KVM_TDX_INIT_VCPU never set up', { invariant: 'functional-spec', messageId: 'wrongErrno', detail: 'T.10' }, {
    tdx_vcpu_init_mem_region: (k, vcpu, cmd) => nextFns.tdx_vcpu_init_mem_region(Object.assign(Object.create(k) as NextK, { to_tdx: () => k.to_tdx(VCPU0) }), vcpu, cmd),
  }, ['tdx']),
  onNext('pre-fault-flags-unchecked', 'kvm_vcpu_pre_fault_memory() without its flags check: KVM_PRE_FAULT_MEMORY with a flag set is answered as if the flag were not there, where PF.1 says -EINVAL', { invariant: 'functional-spec', messageId: 'wrongErrno', detail: 'PF.1' }, {
    kvm_vcpu_pre_fault_memory(k, vcpu, range) {
      const { flags } = range;
      range.flags = 0n;
      const r = preFaultMemory.kvm_vcpu_pre_fault_memory(k, vcpu, range);
      range.flags = flags;
      return r;
    },
  }),
  onNext('pre-fault-unaligned', 'kvm_vcpu_pre_fault_memory() without its alignment test: an unaligned gpa or size goes on to the arch step, which answers for the launch state (-EOPNOTSUPP) where PF.2 says -EINVAL', { invariant: 'functional-spec', messageId: 'wrongErrno', detail: 'PF.2' }, {
    // The handler's only use of PAGE_SIZE is that test; a page of one byte makes every range aligned.
    kvm_vcpu_pre_fault_memory: (k, vcpu, range) => preFaultMemory.kvm_vcpu_pre_fault_memory(Object.assign(Object.create(k) as NextK, { PAGE_SIZE: 1 }), vcpu, range),
  }),
  onNext('pre-fault-copy-back-on-success', 'KVM_PRE_FAULT_MEMORY copies the range back only when something was mapped: a call that fails leaves the struct as it was, so a struct userspace cannot write is answered with the call\'s own error where PF.4 says -EFAULT', { invariant: 'functional-spec', messageId: 'wrongErrno', detail: 'PF.4' }, {
    kvm_vcpu_ioctl_pre_fault_memory: (k, vcpu, argp) => k.guard_mutex(vcpu.mutex, () => {
      const range = k.copy_struct_from_user(argp);
      let r = k.kvm_vcpu_pre_fault_memory(vcpu, range);
      if (r === 0 && k.copy_struct_to_user(argp, range)) r = -EFAULT;
      return r;
    }),
  }),
  onNext('pre-fault-folio-first', 'kvm_arch_vcpu_pre_fault_memory() looks the gfn up in guest_memfd (kvm_gmem_get_folio(), which allocates) before its pre_fault_allowed test: a refused call still leaves a folio in the file, which PF.3 says it must not', { invariant: 'functional-spec', messageId: 'wrongState', detail: 'PF.3' }, {
    kvm_arch_vcpu_pre_fault_memory(k, vcpu, range) {
      const gfn = Number(range.gpa / BigInt(k.PAGE_SIZE));
      const slot = k.gfn_to_memslot(KVM, gfn);
      if (slot !== null && k.kvm_slot_has_gmem(slot)) {
        const folio = k.kvm_gmem_get_folio(slot.gmem_file, gfn - slot.base_gfn + slot.gmem_pgoff);
        if (!IS_ERR(folio)) {
          k.folio_unlock(folio);
          k.folio_put(folio);
        }
      }
      return x86PreFaultMemory.kvm_arch_vcpu_pre_fault_memory(k, vcpu, range);
    },
  }),
  onNext('vmsa-not-freed', 'sev_free_vcpu() hands the VMSA back to the hypervisor in the RMP and never frees it: each SNP VM leaks a page', { invariant: 'leaked-page', messageId: 'kernelPageLost' }, {
    sev_free_vcpu(k, vcpu) {
      const svm = k.to_svm(vcpu);
      if (k.sev_snp_guest(KVM)) k.kvm_rmp_make_shared(KVM, svm.vmsa, PG_LEVEL_4K);
    },
  }, ['snp']),
  onNext('double-put', 'SNP callback drops the source page reference kvm_gmem_populate() will drop', { invariant: 'world-well-formed', messageId: 'freeButHeld' }, {
    sev_gmem_post_populate(k, kvm, gfn, pfn, src_page, opaque) {
      const ret = nextFns.sev_gmem_post_populate(k, kvm, gfn, pfn, src_page, opaque);
      if (src_page) k.put_page(src_page);
      return ret;
    },
  }, ['snp']),
  onNext('return-i', 'kvm_gmem_populate() returns i, not the error, when the first page fails', { invariant: 'return-value-contract', messageId: 'noProgress' }, {
    kvm_gmem_populate(k, kvm, start_gfn, src, npages, may_writeback_src, post_populate, opaque) {
      const ret = nextFns.kvm_gmem_populate(k, kvm, start_gfn, src, npages, may_writeback_src, post_populate, opaque);
      return ret < 0 ? 0 : ret;
    },
  }, ['snp']),
  onNext('no-rmp-check', 'SNP callback trusts the RMP entry to be shared (no snp_lookup_rmpentry check)', { invariant: 'no-double-private', messageId: 'privateTwice' }, {
    snp_lookup_rmpentry: () => ({ ret: 0, assigned: false, level: 1 }),
  }, ['snp']),
  onNext('wrong-page-type', 'SNP callback issues LAUNCH_UPDATE as NORMAL whatever the type', { invariant: 'measurement', messageId: 'mismatch' }, {
    sev_gmem_post_populate(k, kvm, gfn, pfn, src_page, opaque) {
      const args = opaqueAs(opaque, 'sev_gmem_populate_args');
      const type = args.type;
      if (type !== KVM_SEV_SNP_PAGE_TYPE_ZERO) args.type = KVM_SEV_SNP_PAGE_TYPE_NORMAL;
      const ret = nextFns.sev_gmem_post_populate(k, kvm, gfn, pfn, src_page, opaque);
      args.type = type;
      return ret;
    },
  }, ['snp']),
  onNext('no-reclaim', 'snp_page_reclaim() reports success without reclaiming', { invariant: 'return-value-contract', messageId: 'failedPageKept' }, {
    snp_page_reclaim: () => 0,
  }, ['snp']),
  onNext('leak-twice', 'snp_page_reclaim() leaks the pfn again when the reclaim or the RMPUPDATE to shared failed, which already leaked it', { invariant: 'leaked-page', messageId: 'leakedTwice' }, {
    snp_page_reclaim(k, kvm, pfn) {
      const ret = sevCommon.snp_page_reclaim(k, kvm, pfn);
      if (ret) k.snp_leak_pages(pfn, 1);
      return ret;
    },
  }, ['snp']),
  // The generator gap Stryker showed on kvm-x86-next-2025.11.07 (reports/mutation-triage.md, line
  // 343): a CPUID page the firmware corrects whose reclaim then fails. Of kvm-x86-next's callers
  // only sev_gmem_post_populate() reads the result, so the copy-back is all that changes.
  onNext('reclaim-forgets-failure', 'snp_page_reclaim() returns 0 after it has leaked the page (the KVM_BUG path loses its -EIO): sev_gmem_post_populate() copies the corrected CPUID table back from a page the firmware still owns', { invariant: 'no-double-private', messageId: 'hostAccessPrivate' }, {
    snp_page_reclaim(k, kvm, pfn) {
      sevCommon.snp_page_reclaim(k, kvm, pfn);
      return 0;
    },
  }, ['snp']),
  onNext('vmsa-gpa-0', 'snp_launch_update_vmsa() gives the VMSA to the guest at GPA 0 instead of INITIAL_VMSA_GPA, so LAUNCH_FINISH measures another page', { invariant: 'measurement', messageId: 'extra' }, {
    snp_launch_update_vmsa(k, kvm, argp) {
      // The revision's own function, seeing a kernel whose rmp_make_private() drops the GPA.
      const atZero = Object.assign(Object.create(k) as typeof k, {
        rmp_make_private: (pfn: number, _gpa: number, level: number, asid: number, immutable: boolean) => k.rmp_make_private(pfn, 0, level, asid, immutable),
      });
      return nextFns.snp_launch_update_vmsa(atZero, kvm, argp);
    },
  }, ['snp']),
  onNext('slot-before-null-check', 'kvm_gmem_populate() reads slot->npages before checking gfn_to_memslot() for NULL', { invariant: 'oops', messageId: 'exception' }, {
    kvm_gmem_populate(k, kvm, start_gfn, src, npages, may_writeback_src, post_populate, opaque) {
      const slot = k.gfn_to_memslot(kvm, start_gfn);
      // The C's `slot->npages` on a NULL slot: a NULL dereference, an oops.
      const last = (slot as KvmMemorySlot).base_gfn + (slot as KvmMemorySlot).npages;
      if (start_gfn >= last) return -EINVAL;
      return nextFns.kvm_gmem_populate(k, kvm, start_gfn, src, npages, may_writeback_src, post_populate, opaque);
    },
    // SNP's snp_launch_update() checks the memslot first; TDX hands any private gpa over.
  }, ['tdx']),
  // A poisoned page is an error that does not go away either: the set-up, a populate, the memory
  // error and the populate again are 7 operations (tdx, suite seed).
  { ...onNext('retry-until-populated', 'kvm_gmem_populate() retries a page until __kvm_gmem_populate() succeeds, instead of giving up on the error', { invariant: 'soft-lockup', messageId: 'budget' }, {
    __kvm_gmem_populate(k, kvm, slot, file, gfn, src_page, post_populate, opaque) {
      // An error that does not go away (a shared gfn, a page already populated) is retried forever.
      for (;;) {
        const ret = nextFns.__kvm_gmem_populate(k, kvm, slot, file, gfn, src_page, post_populate, opaque);
        if (!ret) return ret;
        k.cond_resched();
      }
    },
  }), maxOps: 7 },
  // What only the functional oracle sees: every forbidding invariant holds on a kernel that
  // does nothing, or answers a documented condition with another errno.
  onNext('populate-fails', 'kvm_gmem_populate() stubbed to return -EINVAL before doing anything: every populate fails', { invariant: 'functional-spec', messageId: 'wrongErrno' }, {
    kvm_gmem_populate: () => -EINVAL,
  }),
  // A u64 field taken into a narrower type before its check: what JavaScript's bitwise
  // operators did to every u64 until the model held them as bigint.
  onNext('flags-int', 'kvm_gmem_create() takes the u64 flags into an unsigned int: bits 32-63 are cut off before the check, so bit 32 is accepted', { invariant: 'functional-spec', messageId: 'wrongErrno' }, {
    kvm_gmem_create: (k, kvm, size, flags) => gmemCreateV618.kvm_gmem_create(k, kvm, size, BigInt.asUintN(32, flags)),
  }),
  onNext('unaligned-uaddr-efault', 'snp_launch_update() answers an unaligned uaddr with -EFAULT, not the -EINVAL of S2.1', { invariant: 'functional-spec', messageId: 'wrongErrno' }, {
    snp_launch_update(k, kvm, argp) {
      const params = k.copy_struct_from_user(argp.data);
      if (params.type !== KVM_SEV_SNP_PAGE_TYPE_ZERO && params.uaddr && !IS_ALIGNED(params.uaddr, k.PAGE_SIZE)) return -EFAULT;
      return nextFns.snp_launch_update(k, kvm, argp);
    },
  }, ['snp']),
  // S2.10: the params in a read-only mapping. The kernel did the work, but userspace never
  // learns how much; answering 0 tells it everything was done, with its struct unchanged.
  onNext('copy-back-unchecked', 'snp_launch_update() ignores copy_to_user()\'s result: a params struct in a read-only mapping gets 0 where S2.10 says -EFAULT, and userspace reads its own struct as the progress', { invariant: 'functional-spec', messageId: 'wrongErrno', detail: 'S2.10' }, {
    snp_launch_update: (k, kvm, argp) => nextFns.snp_launch_update(Object.assign(Object.create(k) as NextK, {
      copy_struct_to_user: <T extends object>(dst: UserStructRef<T>, value: T) => {
        k.copy_struct_to_user(dst, value);
        return 0;
      },
    }), kvm, argp),
  }, ['snp']),
  // A second wrong answer on a revision that already has one: v7.0 answers uaddr 0 wrongly (G3,
  // S2.2); this answers a LAUNCH_UPDATE before LAUNCH_START wrongly too (S1.17). Both are
  // wrongErrno at snp_launch_update(); only the row in the signature keeps the second from
  // passing as the first (a module derived from v7.0 with this change held until it did).
  {
    ...v7_0,
    id: 'v7.0+no-context-check',
    title: 'v7.0 snp_launch_update() without the !sev->snp_context check: a LAUNCH_UPDATE before LAUNCH_START goes on to the firmware, where S1.17 says -EINVAL',
    description: 'v7.0 snp_launch_update() without the !sev->snp_context check: a LAUNCH_UPDATE before LAUNCH_START goes on to the firmware, where S1.17 says -EINVAL',
    base: v7_0.id,
    backends: ['snp'],
    breaks: { invariant: 'functional-spec', messageId: 'wrongErrno', detail: 'S1.17' },
    fns: {
      ...v70Fns,
      // v7.0's own function, seeing a kernel where the context always looks created.
      snp_launch_update: (k: V70K, kvm, argp) => v70Fns.snp_launch_update(Object.assign(Object.create(k) as V70K, { sev_snp_context: () => true }), kvm, argp),
    } satisfies Impl<V70Fns, V70K>,
  },
  // A host read that comes before, in the same ioctl, a bug's own free of the same page: paolo-v1's
  // undo (G20) frees the leaked page only after this copy-back has read it, so G20 must not be
  // credited with the read (KnownBug.onlyAfter, judged by event and not by ioctl). Mutation
  // triage row 312's second form, which the by-ioctl judgement hid.
  {
    ...paolo_v1,
    id: 'paolo-v1+copy-back-after-failed-reclaim',
    title: 'paolo-v1 sev_gmem_post_populate() with its failure condition as `(!reclaim && !shared) || (CPUID && INVALID_PARAM)`: a rejected CPUID page is copied back even after snp_page_reclaim() failed and leaked it',
    description: 'paolo-v1 sev_gmem_post_populate() with its failure condition as `(!reclaim && !shared) || (CPUID && INVALID_PARAM)`: a rejected CPUID page is copied back even after snp_page_reclaim() failed and leaked it, a host read of a page the firmware owns, before the undo frees it in the same ioctl',
    base: paolo_v1.id,
    backends: ['snp'],
    breaks: { invariant: 'no-double-private', messageId: 'hostAccessPrivate' },
    fns: {
      ...paoloV1Fns,
      sev_gmem_post_populate: (k: PaoloK, kvm, gfn_start, pfn, src, order, opaque) => {
        // The revision's own function, seeing a kernel whose reclaim and make-shared report
        // success, so the condition's type test decides alone; a failed reclaim still skips the
        // make-shared, as the `&&` does.
        let reclaimFailed = false;
        const typeDecides = Object.assign(Object.create(k) as PaoloK, {
          snp_page_reclaim: (p: number) => {
            reclaimFailed = k.snp_page_reclaim(p) !== 0;
            return 0;
          },
          host_rmp_make_shared: (p: number, level: number) => {
            if (!reclaimFailed) k.host_rmp_make_shared(p, level);
            reclaimFailed = false;
            return 0;
          },
        });
        return paoloV1Fns.sev_gmem_post_populate(typeDecides, kvm, gfn_start, pfn, src, order, opaque);
      },
    } satisfies Impl<PaoloV1Fns, PaoloK>,
  },
  {
    ...rfc_v1,
    id: 'rfc-v1+straddle-same-page',
    title: 'RFC v1 SNP straddling copy reads src_pages[i] where it means src_pages[i + 1]',
    description: 'RFC v1 SNP straddling copy reads src_pages[i] where it means src_pages[i + 1]',
    base: rfc_v1.id,
    backends: ['snp'],
    breaks: { invariant: 'src-offset-straddling', messageId: 'wrongByte' },
    fns: {
      ...rfcV1Fns,
      sev_gmem_post_populate: (k: RfcK, kvm, gfn_start, pfn, src_pages, src_offset, order, opaque) =>
        rfcV1Fns.sev_gmem_post_populate(k, kvm, gfn_start, pfn, src_pages === null ? null : sameNeighbour(src_pages), src_offset, order, opaque),
    } satisfies Impl<RfcV1Fns, RfcK>,
  },
  // Arm: the table made for the IPA the walk stopped at, not for the base of what it maps (the
  // ALIGN_DOWN() in realm_rtt_create(), which kernel mode's run of the real rmi.c showed the
  // revision lacked): the RMM refuses the IPA (TF-RMM validate_rtt_structure_cmds()), and
  // realm_create_rtt_levels() WARNs with no fault injected. Userspace alone: a populate whose
  // page is not the first of its level-3 table, in a realm whose tables are not all there yet.
  {
    ...rmi_newest,
    id: 'rmi-newest+rtt-unaligned',
    title: 'rmi-newest realm_rtt_create() without ALIGN_DOWN(): RMI_RTT_CREATE is given the faulting IPA, which the RMM refuses, and the RTT creation WARNs',
    description: 'rmi-newest realm_rtt_create() without ALIGN_DOWN(): RMI_RTT_CREATE is given the faulting IPA, which the RMM refuses, and the RTT creation WARNs',
    base: rmi_newest.id,
    backends: ['cca'],
    breaks: { invariant: 'warn-reachable', messageId: 'warnWithoutFault' },
    fns: {
      ...rmiNewestFns,
      realm_rtt_create: (k: RmiK, kvm, ipa, level, phys) => k.rmi_rtt_create(k.kvm_realm(kvm).rd, phys, ipa, level),
    } satisfies Impl<RmiNewestFns, RmiK>,
  },
  // Arm, guest_memfd tracking each index: __kvm_gmem_populate() without its kvm_is_private_gfn()
  // test, so a gfn whose index is shared (an INIT_SHARED file) is populated into the realm.
  // Userspace alone.
  {
    ...rmi_newest,
    id: 'rmi-newest+populate-shared-index',
    title: 'rmi-newest __kvm_gmem_populate() without kvm_is_private_gfn(): a gfn of an INIT_SHARED guest_memfd, still shared, is populated into the realm where RN.2 says -EINVAL',
    description: 'rmi-newest __kvm_gmem_populate() without kvm_is_private_gfn(): a gfn of an INIT_SHARED guest_memfd, still shared, is populated into the realm where RN.2 says -EINVAL',
    base: rmi_newest.id,
    backends: ['cca'],
    breaks: { invariant: 'functional-spec', messageId: 'wrongErrno', detail: 'RN.2' },
    fns: {
      ...rmiNewestFns,
      __kvm_gmem_populate: (k: RmiK, kvm, slot, file, gfn, src_page, post_populate, opaque) =>
        rmiNewestFns.__kvm_gmem_populate(Object.assign(Object.create(k) as RmiK, { kvm_is_private_gfn: () => true }), kvm, slot, file, gfn, src_page, post_populate, opaque),
    } satisfies Impl<RmiNewestFns, RmiK>,
  },
  // B18: the in-place series' SNP callback without the guard every posted version has (Ackerley
  // Tng's changelog says he added it, so the patch he started from, Michael Roth's, lacked it):
  // a CPUID page populated in place that the firmware corrects is copied back to a NULL source
  // page. Needs the in-place machine.
  {
    ...inplace_v8,
    id: 'inplace-v8+no-src-page-guard',
    title: 'inplace-v8 sev_gmem_post_populate() without `&& src_page` on the CPUID write-back: in place there is no source, and kmap_local_page(NULL) is a NULL dereference',
    description: 'inplace-v8 sev_gmem_post_populate() without `&& src_page` on the CPUID write-back: in place there is no source, and kmap_local_page(NULL) is a NULL dereference',
    base: inplace_v8.id,
    backends: ['snp'],
    whatIf: 'in-place',
    breaks: { invariant: 'memory-safety', messageId: 'wildPointer' },
    fns: { ...inPlaceV8Fns, sev_gmem_post_populate: sevGmemPostPopulateInPlace(false) },
  },
  // The in-place v7's populate marking the folio uptodate whatever the callback returned (as v8
  // does, by clearing it in the lookup, which v7 lacks): a page a failed call leaves keeps what
  // the allocator left in it, and the next fault maps it uncleared. Stryker's survivor on
  // inplace-v8.ts's `if (!ret)`, which the oracle let pass on S3/T3 until it checked for stale
  // memory there.
  {
    ...inplace_v7,
    id: 'inplace-v7+uptodate-on-failure',
    title: 'inplace-v7 __kvm_gmem_populate() marks the folio uptodate even when the callback failed: v7\'s lookup clears nothing, so the next fault maps the page as the allocator left it',
    description: 'inplace-v7 __kvm_gmem_populate() marks the folio uptodate even when the callback failed: v7\'s lookup clears nothing, so the next fault maps the page as the allocator left it',
    base: inplace_v7.id,
    breaks: { invariant: 'functional-spec', messageId: 'markedUptodate' },
    fns: { ...inPlaceV7Fns, __kvm_gmem_populate: kvmGmemPopulateInPlace(false) },
  },
  // The two __u64 fields of kvm_sev_snp_launch_update read through 32 bits, each a slip a
  // patch could make (a `u32` local, lower_32_bits()) and nothing below 2^32 shows: what the
  // generators' u64 edges (snpLaunchUpdateArb) are there to catch.
  {
    ...v7_0,
    id: 'v7.0+u32-gfn-start',
    title: 'v7.0 snp_launch_update() with gfn_start held in 32 bits: a gfn_start of 2^32 plus a slot\'s gfn populates that gfn, where S2.5 says -EINVAL (no memslot holds it)',
    description: 'v7.0 snp_launch_update() with gfn_start held in 32 bits: a gfn_start of 2^32 plus a slot\'s gfn populates that gfn, where S2.5 says -EINVAL (no memslot holds it)',
    base: v7_0.id,
    backends: ['snp'],
    breaks: { invariant: 'functional-spec', messageId: 'wrongErrno', detail: 'S2.5' },
    fns: { ...v70Fns, snp_launch_update: (k: V70K, kvm, argp) => v70Fns.snp_launch_update(paramsThrough32Bits(k, 'gfn_start'), kvm, argp) } satisfies Impl<V70Fns, V70K>,
  },
  {
    ...v7_0,
    id: 'v7.0+u32-len',
    title: 'v7.0 snp_launch_update() with len held in 32 bits: a len of 2^32 + PAGE_SIZE populates one page and writes back a len of 0, where C\'s u64 leaves 2^32',
    description: 'v7.0 snp_launch_update() with len held in 32 bits: a len of 2^32 + PAGE_SIZE populates one page and writes back a len of 0, where C\'s u64 leaves 2^32',
    base: v7_0.id,
    backends: ['snp'],
    breaks: { invariant: 'return-value-contract', messageId: 'progressMismatch' },
    fns: { ...v70Fns, snp_launch_update: (k: V70K, kvm, argp) => v70Fns.snp_launch_update(paramsThrough32Bits(k, 'len'), kvm, argp) } satisfies Impl<V70Fns, V70K>,
  },
  // TDX's launch step after populate, on the v6.16 .. v6.18 TDX MMU: the finalize that does not
  // wait for premapped S-EPT entries (a busy TDH.MEM.PAGE.ADD leaves one, B21) makes a TD
  // runnable with a gfn mapped whose page was never added or measured. Oracle row TF.3.
  {
    ...v6_17,
    id: 'v6.17+finalize-premapped',
    title: 'v6.17 tdx_td_finalize() without the nr_premapped check: a TD whose S-EPT holds an entry never TDH.MEM.PAGE.ADDed is finalized, where TF.3 says -EINVAL',
    description: 'v6.17 tdx_td_finalize() without the nr_premapped check: a TD whose S-EPT holds an entry never TDH.MEM.PAGE.ADDed is finalized, where TF.3 says -EINVAL',
    base: v6_17.id,
    backends: ['tdx'],
    breaks: { invariant: 'functional-spec', messageId: 'wrongErrno', detail: 'TF.3' },
    fns: {
      ...v617Fns,
      tdx_td_finalize: (k: V617K, kvm) => v617Fns.tdx_td_finalize(Object.assign(Object.create(k) as V617K, {
        // Reads of the count see none pending; every other field is the real kvm_tdx's.
        to_kvm_tdx: (x: Kvm) => new Proxy(k.to_kvm_tdx(x), { get: (t, p, r) => (p === 'nr_premapped' ? 0 : Reflect.get(t, p, r) as unknown) }),
      }), kvm),
    } satisfies Impl<V617Fns, V617K>,
  },
];

/** The kernel `k` with copy_struct_from_user() of the SNP params keeping only the low 32 bits of `field`. */
function paramsThrough32Bits(k: V70K, field: 'gfn_start' | 'len'): V70K {
  const copy = (ref: UserStructRef<KvmSevSnpLaunchUpdate>): KvmSevSnpLaunchUpdate => {
    const p = k.copy_struct_from_user(ref);
    return { ...p, [field]: BigInt.asUintN(32, p[field]) };
  };
  return Object.assign(Object.create(k) as V70K, { copy_struct_from_user: copy });
}

import { EFAULT, EHWPOISON, EINVAL, EIO, ENOENT, ENOMEM } from '../kernel/errno.js';
import type { Impl } from '../kernel/bind.js';
import { ERR_PTR, IS_ERR, NULL, PTR_ERR } from '../kernel/services/errptr.js';
import { FGP_ACCESSED, FGP_CREAT, FGP_CREAT_ONLY, FGP_LOCK } from '../kernel/services/filemap.js';
import { KVM, type Kvm, type KvmMemorySlot } from '../kernel/services/kvmcore.js';
import { snp_issue_vmsa_update, type SevVmsaFns } from '../backends/snp/sev_vmsa.js';
import { fieldRef } from '../kernel/ref.js';
import { KVM_MEMORY_ATTRIBUTE_PRIVATE } from '../world/kvmState.js';
import {
  INITIAL_VMSA_GPA, KVM_SEV_SNP_PAGE_TYPE_CPUID, KVM_SEV_SNP_PAGE_TYPE_ZERO, PG_LEVEL_2M, PG_LEVEL_4K, SEV_CMD_SNP_LAUNCH_UPDATE,
  SEV_CMD_SNP_PAGE_RECLAIM, SEV_RET_INVALID_PARAM, SVM_VCPU0, type KvmSevCmd, type KvmSevSnpLaunchUpdate, type UserStructRef,
} from '../backends/snp/uapi.js';
import { gmemBindLoff, type GmemBindFns } from '../kernel/guest_memfd_bind.js';
import { gmemCreateV68, type GmemCreateFns } from '../kernel/guest_memfd_create.js';
import { gmemNoMmap, type GmemFaultFns } from '../kernel/guest_memfd_fault.js';
import { kvm_gmem_allocate_loop, type GmemAllocateFns } from '../kernel/guest_memfd_allocate.js';
import { opaqueAs, type PopulateOpaque, type Revision, type X86K } from './Revision.js';
import { snp_launch_update_0097f9df } from './v6.17.js';
import { kvm_gmem_max_order_huge } from '../kernel/hugepages.js';
import type { KvmPreFaultMemory, PreFaultVcpu } from '../kernel/pre_fault_memory.js';

/**
 * Paolo Bonzini's first kvm_gmem_populate() (v1 09/11, 2024-04-04) with the SEV-SNP callback
 * posted against it (Michael Roth's SNP v15 06/20, 2024-05-01). A populate refuses any folio
 * already in the page cache (FGP_CREAT_ONLY, 04/11) and, when the callback fails, punches the
 * fresh folio out again (kvm_gmem_undo_get_pfn()) "so that FGP_CREAT_ONLY can succeed again".
 * v2 dropped both after Sean's review ("unwinding on failure is completely uninteresting, and
 * arguably undesirable", https://lore.kernel.org/all/Zip-JsAB5TIRDJVl@google.com/).
 *
 * SNP only: no posted TDX series used this interface (Isaku Yamahata's sketch needed it without
 * FGP_CREAT_ONLY). Modelled in the state kvm-coco-queue had by SNP v13: patch 07 as posted
 * passed `true` for `prepare` (Roth, https://lore.kernel.org/all/20240409233542.aapmef7mkztgbnv2@amd.com/)
 * and tested `!folio` where an ERR_PTR comes back (fixed by SNP v13 04/26). Research:
 * /work/notes/research-paolo-v1.md (not in the repository).
 */
type kvm_gmem_populate_cb_v1 = (kvm: Kvm, gfn: number, pfn: number, src: number, order: number, opaque: PopulateOpaque) => number;

/** `kvm_pfn_t *pfn, int *max_order` out-parameters. */
interface PfnOrder {
  pfn: number;
  max_order: number;
}

export interface PaoloV1Fns extends GmemBindFns, GmemCreateFns, GmemFaultFns, GmemAllocateFns {
  kvm_gmem_get_folio(inode: number, index: number, prepare: boolean): number;
  kvm_gmem_prepare_folio(inode: number, index: number, folio: number): number;
  kvm_arch_gmem_prepare_needed(kvm: Kvm): boolean;
  kvm_arch_gmem_prepare(kvm: Kvm, gfn: number, pfn: number, max_order: number): number;
  sev_gmem_prepare(kvm: Kvm, pfn: number, gfn: number, max_order: number): number;
  __kvm_gmem_get_pfn(file: number, slot: KvmMemorySlot, gfn: number, out: PfnOrder, prepare: boolean): number;
  __kvm_gmem_punch_hole(inode: number, offset: number, len: number): number;
  kvm_gmem_undo_get_pfn(file: number, slot: KvmMemorySlot, gfn: number, order: number): number;
  kvm_gmem_populate(kvm: Kvm, gfn: number, src: number, npages: number, post_populate: kvm_gmem_populate_cb_v1 | null, opaque: PopulateOpaque): number;
  kvm_mem_is_private(kvm: Kvm, gfn: number): boolean;
  snp_page_reclaim(pfn: number): number;
  host_rmp_make_shared(pfn: number, level: number): number;
  /**
   * No KVM_PRE_FAULT_MEMORY in this tree: the ioctl came with v6.11 (model/kernel/pre_fault_memory.ts),
   * after this series' April 2024 base (assumed from the dates, the base's commit is not stored).
   * kvm_vcpu_ioctl() takes the vCPU's mutex and hands the unknown number to x86's
   * kvm_arch_vcpu_ioctl(), whose default is -EINVAL, with nothing copied back.
   */
  kvm_vcpu_ioctl_pre_fault_memory(vcpu: PreFaultVcpu, argp: UserStructRef<KvmPreFaultMemory>): number;
  sev_gmem_post_populate: kvm_gmem_populate_cb_v1;
  snp_launch_update(kvm: Kvm, argp: KvmSevCmd<KvmSevSnpLaunchUpdate>): number;
  snp_launch_update_vmsa: SevVmsaFns['snp_launch_update_vmsa'];
  sev_free_vcpu: SevVmsaFns['sev_free_vcpu'];
}

type K = Omit<X86K, keyof PaoloV1Fns> & PaoloV1Fns;

export const paoloV1Fns: Impl<PaoloV1Fns, K> = {
  kvm_vcpu_ioctl_pre_fault_memory: (k, vcpu) => k.guard_mutex(vcpu.mutex, () => -EINVAL),
  kvm_gmem_bind: gmemBindLoff.kvm_gmem_bind,
  // No guest_memfd flag for a VM with private memory, so no host mapping of its guest_memfd
  // (model/kernel/guest_memfd_create.ts, guest_memfd_fault.ts).
  kvm_gmem_create: gmemCreateV68.kvm_gmem_create,
  kvm_gmem_fault_user_mapping: gmemNoMmap.kvm_gmem_fault_user_mapping,

  // ---- virt/kvm/guest_memfd.c: v1 03/11, 06/11, 07/11, 08/11, 09/11 (20240404185034.3184582-{4,7,8,9,10}-pbonzini@redhat.com) ----

  /**
   * A new folio is zeroed and marked uptodate here: in this series uptodate means "cleared", not
   * "prepared". fallocate() and the guest fault path pass `prepare` (the latter is not modelled);
   * populate does not, and FGP_CREAT_ONLY makes it refuse a folio they made.
   */
  kvm_gmem_get_folio(k, inode, index, prepare) {
    const flags = FGP_LOCK | FGP_ACCESSED | FGP_CREAT | (prepare ? 0 : FGP_CREAT_ONLY);
    const folio = k.__filemap_get_folio(inode, index, flags);
    if (IS_ERR(folio)) return folio;
    if (!k.folio_test_uptodate(folio)) {
      const nr_pages = k.folio_nr_pages(folio);
      for (let i = 0; i < nr_pages; i++) k.clear_highpage(k.folio_page(folio, i));
      k.folio_mark_uptodate(folio);
    }
    if (prepare) {
      const r = k.kvm_gmem_prepare_folio(inode, index, folio);
      if (r < 0) {
        k.folio_unlock(folio);
        k.folio_put(folio);
        return ERR_PTR(r);
      }
    }
    return folio;
  },

  /**
   * 06/11 (20240404185034.3184582-7-pbonzini@redhat.com): the arch hook for every VM the file is
   * bound to (the model has one), at the gfn its binding gives the index; the first failure is
   * returned. Not bound: nothing to prepare.
   */
  kvm_gmem_prepare_folio(k, inode, index, folio) {
    for (const kvm of [KVM]) {
      // Stryker disable next-line ConditionalExpression: every VM paolo-v1 runs is an SNP VM, where it is true.
      if (!k.kvm_arch_gmem_prepare_needed(kvm)) continue;
      const id = k.kvm_gmem_bindings_load(inode, index);
      // Stryker disable next-line ConditionalExpression: memslot_by_id(null) is null.
      const slot = id === null ? null : k.memslot_by_id(id);
      if (slot === null) continue;
      const pfn = k.folio_file_pfn(folio, index);
      const gfn = slot.base_gfn + index - slot.gmem_pgoff;
      const rc = k.kvm_arch_gmem_prepare(kvm, gfn, pfn, k.folio_order(folio));
      if (rc) {
        k.pr_debug(`gmem: Failed to prepare folio for index ${index.toString(16)} GFN ${gfn.toString(16)} PFN ${pfn.toString(16)}, error ${rc}.`);
        return rc;
      }
    }
    return 0;
  },

  /** x86.c, SNP v15 13/20 (20240501085210.2213060-14-michael.roth@amd.com): SNP VMs only. */
  kvm_arch_gmem_prepare_needed: (k, kvm) => k.sev_snp_guest(kvm),

  /** x86.c, 06/11: static_call(kvm_x86_gmem_prepare)(kvm, pfn, gfn, max_order). */
  kvm_arch_gmem_prepare: (k, kvm, gfn, pfn, max_order) => k.sev_gmem_prepare(kvm, pfn, gfn, max_order),

  /**
   * fallocate()'s loop as v6.8 has it (a7800aa8), with 03/11's error pointers, asking
   * kvm_gmem_get_folio() to prepare each folio: on an SEV-SNP VM every page of the range that a
   * memslot binds is made guest-private in the RMP before anything is loaded into it.
   */
  kvm_gmem_allocate: (k, inode, offset, len) => kvm_gmem_allocate_loop(k, inode, offset, len, (index) => {
    const folio = k.kvm_gmem_get_folio(inode, index, true);
    // Stryker disable next-line all: the model's __filemap_get_folio() returns an ERR_PTR, never NULL.
    return folio === NULL ? ERR_PTR(-ENOMEM) : folio;
  }),

  /** Returns with the folio unlocked and one reference held for the caller. */
  __kvm_gmem_get_pfn(k, file, slot, gfn, out, prepare) {
    const index = gfn - slot.base_gfn + slot.gmem_pgoff;
    const gmem_file = slot.gmem_file;
    // Stryker disable all: one thread: populate hands in the file it took from this slot (as v7.0).
    if (file !== gmem_file) {
      k.WARN_ON_ONCE(gmem_file !== 0);
      return -EFAULT;
    }
    // Stryker restore all
    if (k.kvm_gmem_bindings_load(file, index) !== slot.id) {
      k.WARN_ON_ONCE(k.kvm_gmem_bindings_load(file, index) !== null);
      return -EIO;
    }
    const folio = k.kvm_gmem_get_folio(file, index, prepare);
    if (IS_ERR(folio)) return PTR_ERR(folio);
    let r: number;
    out_unlock: {
      // Stryker disable all: populate takes the folio with FGP_CREAT_ONLY, so never an existing (poisoned) one; only the guest fault path, not modelled, does.
      if (k.folio_test_hwpoison(folio)) {
        // The reference is not dropped on this path (as in v6.8's kvm_gmem_get_pfn()).
        r = -EHWPOISON;
        break out_unlock;
      }
      // Stryker restore all
      out.pfn = k.folio_file_pfn(folio, index);
      // `*max_order = 0;` here: kvm_gmem_max_order_huge() is that 0 except under the hugepages what-if.
      out.max_order = kvm_gmem_max_order_huge(k, slot, index, folio);
      r = 0;
    }
    k.folio_unlock(folio);
    return r;
  },

  /** kvm_gmem_punch_hole() without the invalidate lock, which the caller holds. */
  __kvm_gmem_punch_hole(k, inode, offset, len) {
    // Stryker disable all: start and end feed only kvm_gmem_invalidate_begin(), whose MMU zap the model keeps nothing for on SNP.
    const start = offset / k.PAGE_SIZE;
    const end = start + len / k.PAGE_SIZE;
    // Stryker restore all
    k.kvm_gmem_invalidate_begin(inode, start, end);
    k.truncate_inode_pages_range(inode, offset, offset + len - 1);
    // kvm_gmem_invalidate_end(): the MMU notifier sequence only.
    return 0;
  },

  kvm_gmem_undo_get_pfn(k, file, slot, gfn, order) {
    const index = gfn - slot.base_gfn + slot.gmem_pgoff;
    /*
     * Races with kvm_gmem_unbind() must have been detected by __kvm_gmem_get_gfn(), because the
     * invalidate_lock is taken between __kvm_gmem_get_gfn() and kvm_gmem_undo_get_pfn().
     */
    // Stryker disable next-line all: __kvm_gmem_get_pfn() checked the binding under the same invalidate lock (the comment above).
    if (k.WARN_ON_ONCE(k.kvm_gmem_bindings_load(file, index) !== slot.id)) return -EIO;
    return k.__kvm_gmem_punch_hole(file, index * k.PAGE_SIZE, k.PAGE_SIZE << order);
  },

  kvm_gmem_populate(k, kvm, gfn, src, npages, post_populate, opaque) {
    let ret = 0;
    let i: number;
    k.lockdep_assert_held(kvm.slots_lock);
    // Stryker disable next-line all: snp_launch_update() passes a u64 length over the page size: never negative.
    if (npages < 0) return -EINVAL;
    const slot = k.gfn_to_memslot(kvm, gfn);
    // Stryker disable next-line all: snp_launch_update() checks the memslot first, and paolo-v1 is SNP only.
    if (slot === null || !k.kvm_slot_can_be_private(slot)) return -EINVAL;
    const file = k.kvm_gmem_get_file(slot);
    // Stryker disable next-line ConditionalExpression: a released file then fails __kvm_gmem_get_pfn() with -EFAULT, and SNP turns every first-page failure into -EIO.
    if (!file) return -EFAULT;
    k.filemap_invalidate_lock(file);
    npages = Math.min(slot.npages - (gfn - slot.base_gfn), npages);
    // Stryker disable next-line ObjectLiteral: written by __kvm_gmem_get_pfn() before it is read.
    const got: PfnOrder = { pfn: 0, max_order: 0 };
    for (i = 0; i < npages; i += 1 << got.max_order) {
      const this_gfn = gfn + i;
      ret = k.__kvm_gmem_get_pfn(file, slot, this_gfn, got, false);
      if (ret) break;
      if (this_gfn % (1 << got.max_order) !== 0 || npages - i < 1 << got.max_order) got.max_order = 0;
      // Stryker disable next-line ConditionalExpression: every caller passes one.
      if (post_populate) {
        const p = src ? src + i * k.PAGE_SIZE : NULL;
        ret = post_populate(kvm, this_gfn, got.pfn, p, got.max_order, opaque);
      }
      k.put_page(k.pfn_to_page(got.pfn));
      if (ret) {
        /* Punch a hole so that FGP_CREAT_ONLY can succeed again. */
        k.kvm_gmem_undo_get_pfn(file, slot, this_gfn, got.max_order);
        break;
      }
    }
    k.filemap_invalidate_unlock(file);
    k.fput(file);
    return ret && !i ? ret : i;
  },

  // ---- include/linux/kvm_host.h ----

  kvm_mem_is_private: (k, kvm, gfn) => k.kvm_range_has_memory_attributes(kvm, gfn, gfn + 1, KVM_MEMORY_ATTRIBUTE_PRIVATE, KVM_MEMORY_ATTRIBUTE_PRIVATE),

  // ---- arch/x86/kvm/svm/sev.c: SNP v15 06/20 (https://lore.kernel.org/all/20240501085210.2213060-7-michael.roth@amd.com/) ----

  /** A failed reclaim WARNs and leaks the page; nothing bugs the VM yet. */
  snp_page_reclaim(k, pfn) {
    // Stryker disable next-line ObjectLiteral: read only by the WARN's text.
    const err = { value: 0 };
    const rc = k.sev_do_cmd(SEV_CMD_SNP_PAGE_RECLAIM, { cmd: SEV_CMD_SNP_PAGE_RECLAIM, data: { paddr: pfn } }, err);
    if (k.WARN(rc !== 0, `Failed to reclaim PFN ${pfn.toString(16)}`)) k.snp_leak_pages(pfn, 1);
    return rc;
  },

  /**
   * SNP v15 13/20 (20240501085210.2213060-14-michael.roth@amd.com): a page not yet assigned is
   * made private to the guest at its GPA, not validated and not immutable; a whole 2M-aligned
   * range at once when the folio is that large and every page of the range is shared. The model's
   * RMP has an entry per page: a 2M entry is written as the entry of each page it covers.
   */
  sev_gmem_prepare(k, kvm, pfn, gfn, max_order) {
    // Stryker disable next-line ConditionalExpression: every VM is an SNP VM.
    if (!k.sev_snp_guest(kvm)) return 0;
    const { ret: rc0, assigned } = k.snp_lookup_rmpentry(pfn);
    // Stryker disable all: every guest_memfd page is covered by the RMP.
    if (rc0) {
      k.pr_debug(`sev_gmem_prepare: Failed to look up RMP entry: GFN ${gfn.toString(16)} PFN ${pfn.toString(16)} error ${rc0}`);
      return -ENOENT;
    }
    // Stryker restore all
    if (assigned) {
      k.pr_debug(`sev_gmem_prepare: already assigned: GFN ${gfn.toString(16)} PFN ${pfn.toString(16)}`);
      return 0;
    }
    const per2m = 2 ** k.PMD_ORDER;
    const pfn2m = pfn - (pfn % per2m);
    // is_large_rmp_possible(): a folio of at least PMD order whose whole 2M range is shared.
    const large = max_order >= k.PMD_ORDER && Array.from({ length: per2m }, (_v, i) => k.snp_lookup_rmpentry(pfn2m + i)).every((e) => !e.ret && !e.assigned);
    const [pfn_aligned, gfn_aligned, n] = large ? [pfn2m, gfn - (gfn % per2m), per2m] : [pfn, gfn, 1];
    for (let i = 0; i < n; i++) {
      const rc = k.rmp_make_private(pfn_aligned + i, (gfn_aligned + i) * k.PAGE_SIZE, large ? PG_LEVEL_2M : PG_LEVEL_4K, k.sev_get_asid(kvm), false);
      if (rc) {
        k.pr_debug(`sev_gmem_prepare: Failed to update RMP entry: GFN ${gfn_aligned.toString(16)} PFN ${pfn_aligned.toString(16)} level ${large ? 2 : 1} error ${rc}`);
        return -EINVAL;
      }
    }
    return 0;
  },

  host_rmp_make_shared(k, pfn, level) {
    const rc = k.rmp_make_shared(pfn, level);
    if (k.WARN_ON_ONCE(rc !== 0)) k.snp_leak_pages(pfn, 1);
    return rc;
  },

  sev_gmem_post_populate(k, kvm, gfn_start, pfn, src, order, opaque) {
    const sev_populate_args = opaqueAs(opaque, 'sev_gmem_populate_args');
    let n_private = 0;
    let ret: number;
    let i = 0;
    const npages = 1 << order;
    if (k.WARN_ON_ONCE(sev_populate_args.type !== KVM_SEV_SNP_PAGE_TYPE_ZERO && !src)) return -EINVAL;
    err: {
      fw_err: {
        for (let gfn = gfn_start; gfn < gfn_start + npages; gfn++, i++) {
          if (!k.kvm_mem_is_private(kvm, gfn)) {
            ret = -EINVAL;
            break err;
          }
          const { ret: lookup, assigned } = k.snp_lookup_rmpentry(pfn + i);
          if (lookup || assigned) {
            ret = -EINVAL;
            break err;
          }
          if (src) {
            const vaddr = k.kmap_local_pfn(pfn + i);
            // copy_from_user()'s count of bytes not copied, returned as is (and the kunmap skipped):
            // Dan Carpenter's "Fix an error code in sev_gmem_post_populate()" made it -EFAULT.
            ret = k.copy_from_user(vaddr, src + i * k.PAGE_SIZE, k.PAGE_SIZE);
            if (ret) break err;
            k.kunmap_local(vaddr);
          }
          ret = k.rmp_make_private(pfn + i, gfn * k.PAGE_SIZE, PG_LEVEL_4K, k.sev_get_asid(kvm), true);
          if (ret) break err;
          n_private++;
          const fw_args = { gctx_paddr: 0, address: pfn + i, page_size: PG_LEVEL_4K, page_type: sev_populate_args.type };
          ret = k.__sev_issue_cmd(sev_populate_args.sev_fd, SEV_CMD_SNP_LAUNCH_UPDATE, { cmd: SEV_CMD_SNP_LAUNCH_UPDATE, data: fw_args }, fieldRef(sev_populate_args, 'fw_error'));
          if (ret) break fw_err;
        }
        return 0;
      }
      /*
       * If the firmware command failed handle the reclaim and cleanup of that PFN specially vs.
       * prior pages which can be cleaned up below without needing to reclaim in advance. The
       * CPUID page, when the firmware rejects it, holds the values it expected: copied back.
       */
      if (!k.snp_page_reclaim(pfn + i) && !k.host_rmp_make_shared(pfn + i, PG_LEVEL_4K) &&
          // Stryker disable next-line ConditionalExpression: as v7.0: a copy-back of a page the firmware did not rewrite writes the source's own bytes.
          sev_populate_args.type === KVM_SEV_SNP_PAGE_TYPE_CPUID &&
          // Stryker disable next-line ConditionalExpression: see above.
          sev_populate_args.fw_error === SEV_RET_INVALID_PARAM) {
        const vaddr = k.kmap_local_pfn(pfn + i);
        if (k.copy_to_user(src + i * k.PAGE_SIZE, vaddr, k.PAGE_SIZE)) k.pr_debug('Failed to write CPUID page back to userspace');
        k.kunmap_local(vaddr);
      }
      /* pfn + i is hypervisor-owned now, so skip below cleanup for it. */
      n_private--;
    }
    k.pr_debug(`exiting with error ret ${ret}, restoring ${n_private} gmem PFNs to shared.`);
    // Stryker disable next-line EqualityOperator: paolo-v1 punches the failed chunk out afterwards (kvm_gmem_undo_get_pfn()), and sev_gmem_invalidate() makes each still-private page of it shared before it is freed.
    for (i = 0; i < n_private; i++) k.host_rmp_make_shared(pfn + i, PG_LEVEL_4K);
    return ret;
  },

  /** The same text as v6.16/v6.17 (sev.c@0097f9df): SNP v15 06/20 is where it comes from. */
  snp_launch_update: snp_launch_update_0097f9df,

  // ---- SNP v15 07/20 (KVM_SEV_SNP_LAUNCH_FINISH), with v15's own reclaim helpers ----

  /**
   * A failed VMSA LAUNCH_UPDATE: reclaim, and only if that worked, back to shared; both helpers
   * WARN and leak on failure without bugging the VM. Nothing remembers that LAUNCH_FINISH ran.
   */
  snp_launch_update_vmsa(k, kvm, argp) {
    for (const vcpu of [SVM_VCPU0]) {
      const svm = k.to_svm(vcpu);
      const pfn = svm.vmsa;
      let ret = k.sev_es_sync_vmsa(vcpu);
      if (ret) return ret;
      ret = k.rmp_make_private(pfn, INITIAL_VMSA_GPA, PG_LEVEL_4K, k.sev_get_asid(kvm), true);
      if (ret) return ret;
      ret = snp_issue_vmsa_update(k, argp, pfn);
      if (ret) {
        if (!k.snp_page_reclaim(pfn)) k.host_rmp_make_shared(pfn, PG_LEVEL_4K);
        return ret;
      }
      svm.guest_state_protected = true;
    }
    return 0;
  },

  sev_free_vcpu(k, vcpu) {
    const svm = k.to_svm(vcpu);
    if (k.sev_snp_guest(KVM) && k.host_rmp_make_shared(svm.vmsa, PG_LEVEL_4K)) return;
    k.__free_page(svm.vmsa);
  },
};

export const paolo_v1: Revision = {
  id: 'paolo-v1',
  title: 'Paolo Bonzini\'s v1 (Apr 2024) with SNP v15: FGP_CREAT_ONLY refuses an existing folio, and a failed callback\'s folio is punched out again (kvm_gmem_undo_get_pfn())',
  backends: ['snp'],
  cites: [
    'https://lore.kernel.org/all/20240404185034.3184582-10-pbonzini@redhat.com/ (09/11 kvm_gmem_populate; 04/11 FGP_CREAT_ONLY; 06-08/11 get_folio, __kvm_gmem_get_pfn, __kvm_gmem_punch_hole)',
    'https://lore.kernel.org/all/20240501085210.2213060-7-michael.roth@amd.com/ (SNP v15 06/20: snp_launch_update, sev_gmem_post_populate)',
    'https://lore.kernel.org/all/20240501085210.2213060-8-michael.roth@amd.com/ (SNP v15 07/20: snp_launch_update_vmsa, sev_free_vcpu)',
    'https://lore.kernel.org/all/20240418194133.1452059-5-michael.roth@amd.com/ (SNP v13 04/26: PTR_ERR handling in __kvm_gmem_get_pfn)',
  ],
  fns: paoloV1Fns,
};

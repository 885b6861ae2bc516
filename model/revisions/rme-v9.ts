import { EEXIST, EFAULT, EINVAL, EIO, ENOMEM, ENXIO, EPERM } from '../kernel/errno.js';
import type { Impl } from '../kernel/bind.js';
import type { Kvm } from '../kernel/services/kvmcore.js';
import { FOLL_WRITE } from '../kernel/services/gup.js';
import { ALIGN_DOWN, IS_ALIGNED } from '../kernel/ref.js';
import { u64, u64_add, u64AtMost, type u64 as U64 } from '../kernel/u64.js';
import type { UserStructRef } from '../backends/snp/uapi.js';
import type { ArmK } from '../backends/cca/rmi.js';
import { RMM_RTT_MAX_LEVEL, rttLevelShift } from '../backends/cca/state.js';
import { RMI_ERROR_RTT, RMI_MEASURE_CONTENT, RMI_RETURN_INDEX, RMI_RETURN_STATUS, type KvmArmRmiPopulate } from '../backends/cca/uapi.js';
import type { Revision } from './Revision.js';
import { gmemGetPfnOld, gmemV611, type GmemGetPfnFns, type GmemPfnPage, type GmemV611Fns } from './kvm-x86-next-2025.11.07.js';
import { gmemBindLoff, type GmemBindFns } from '../kernel/guest_memfd_bind.js';
import { gmemCreateV68, type GmemCreateFns } from '../kernel/guest_memfd_create.js';
import { gmemNoMmap, type GmemFaultFns } from '../kernel/guest_memfd_fault.js';
import { gmemAllocateV611, type GmemAllocateFns } from '../kernel/guest_memfd_allocate.js';

/**
 * rme-v9: Steven Price's KVM RME series v9 (2025-06-11), 19/43 "arm64: RME: Allow populating
 * initial contents", https://lore.kernel.org/all/20250611104844.245235-20-steven.price@arm.com/
 * (code as quoted in Vishal Annapurve's review,
 * https://lore.kernel.org/all/CAGtprH-on3JdsHx-DyjN_z_5Z6HJoSQjJpA5o5_V6=rygMSbtQ@mail.gmail.com/;
 * byte-identical to v8 20/45). Populate is a KVM_ENABLE_CAP(KVM_CAP_ARM_RME) sub-command run
 * under kvm->lock: it walks the range in 2 MiB chunks, sources each page from the memslot's
 * *shared* mapping (double backing), takes the destination from kvm_gmem_get_pfn() and loops
 * over the 4K RMM granules of the host page; a granule that cannot be undelegated makes it
 * get_page() the page so the host never reuses it.
 *
 * kvm_init_rme() returns early unless PAGE_SIZE is 4K (v9 and v12 alike), so realms exist on
 * 4K hosts only and the default cell runs one granule per page. The granule loop is written for
 * larger pages all the same ("RMM_PAGE_SIZE will be completely gone when this is updated to RMM
 * v2.0"): the what-if cell "4k-guard-lifted" (model/whatIf.ts) runs it on 16K and 64K hosts.
 */
export const PHYS_ADDR_MAX = Number.MAX_SAFE_INTEGER;

/** `struct arm_rme_populate_realm`: the cap's argument (base, size, flags). */
export interface ArmRmePopulateRealm {
  base: number;
  /** `populate_ipa_size`, a __u64: base + size may wrap, which kvm_populate_realm() tests. */
  size: U64;
  flags: number;
}

export interface RmeV9Fns extends GmemV611Fns, GmemGetPfnFns, GmemBindFns, GmemCreateFns, GmemFaultFns, GmemAllocateFns {
  realm_populate_ioctl(kvm: Kvm, argp: UserStructRef<KvmArmRmiPopulate>): number;
  realm_create_ioctl(kvm: Kvm): number;
  kvm_populate_realm(kvm: Kvm, args: ArmRmePopulateRealm): number;
  populate_region(kvm: Kvm, ipa_base: number, ipa_end: number, data_flags: number): number;
  realm_create_protected_data_page(kvm: Kvm, ipa: number, dst_pfn: number, src_pfn: number, flags: number): number;
  realm_create_protected_data_granule(kvm: Kvm, ipa: number, dst_phys: number, src_phys: number, flags: number): number;
  realm_create_rtt_levels(kvm: Kvm, ipa: number, level: number, max_level: number): number;
  rme_rtt_level_mapsize(level: number): number;
  realm_rtt_create(kvm: Kvm, ipa: number, level: number, phys: number): number;
  alloc_delegated_granule(): number;
  free_delegated_granule(phys: number): void;
  realm_create_rd(kvm: Kvm): number;
  realm_destroy_private_granule(kvm: Kvm, ipa: number, next_addr: { value: number }, out_rtt: { value: number }): number;
  realm_unmap_private_page(kvm: Kvm, ipa: number, next_addr: { value: number }): number;
  realm_unmap_private_range(kvm: Kvm, start: number, end: number): void;
  kvm_realm_unmap_range(kvm: Kvm, start: number, end: number): void;
  kvm_activate_realm(kvm: Kvm): number;
  kvm_destroy_realm(kvm: Kvm): void;
}

type K = ArmK & RmeV9Fns;

/** The RMM 1.0 data-page path v12 kept unchanged: granule loop, rollback, get_page() leak. */
export type RmeDataPageFns = Pick<RmeV9Fns, 'realm_create_protected_data_page' | 'realm_create_protected_data_granule' | 'rme_rtt_level_mapsize' | 'realm_rtt_create' | 'alloc_delegated_granule' | 'free_delegated_granule'>;

export const rmeDataPage: Impl<RmeDataPageFns, ArmK & RmeDataPageFns & Pick<RmeV9Fns, 'realm_create_rtt_levels'>> = {
  // ---- arch/arm64/kvm/rme.c (v9 19/43) ----

  alloc_delegated_granule(k) {
    // Stryker disable next-line StringLiteral: the label only names the page in reports.
    const phys = k.__get_free_page_phys('rtt');
    // Stryker disable next-line ConditionalExpression: phys 0 goes on to an RMI_GRANULE_DELEGATE the RMM refuses (PA 0 is no host page) and to free_page_phys(0), which frees nothing (free_page(0) is a no-op in the C too): PHYS_ADDR_MAX all the same.
    if (!phys) return PHYS_ADDR_MAX;
    if (k.rmi_granule_delegate(phys)) {
      k.free_page_phys(phys);
      return PHYS_ADDR_MAX;
    }
    return phys;
  },

  free_delegated_granule(k, phys) {
    if (k.WARN_ON(k.rmi_granule_undelegate(phys) !== 0)) {
      /* Undelegate failed: leak the page */
      return;
    }
    k.free_page_phys(phys);
  },

  /** What one level-`level` entry maps, in RMM granules (RME_RTT_LEVEL_SHIFT()). */
  rme_rtt_level_mapsize(k, level) {
    // Stryker disable next-line ConditionalExpression,EqualityOperator: the only caller, realm_rtt_create(), passes level - 1 for a level of at most RMM_RTT_MAX_LEVEL, so neither test can hold.
    if (k.WARN_ON(level > RMM_RTT_MAX_LEVEL)) return k.RMM_PAGE_SIZE();
    return 2 ** rttLevelShift(k.RMM_PAGE_SIZE(), level);
  },

  realm_rtt_create: (k, kvm, ipa, level, phys) => {
    const rd = k.kvm_realm(kvm).rd;
    return k.rmi_rtt_create(rd, phys, ALIGN_DOWN(ipa, k.rme_rtt_level_mapsize(level - 1)), level);
  },

  realm_create_protected_data_granule(k, kvm, ipa, dst_phys, src_phys, flags) {
    const rd = k.kvm_realm(kvm).rd;
    // Stryker disable next-line UnaryOperator: the caller tests the return for -EIO only; any other non-zero value takes the same rollback and returns -ENXIO.
    if (k.rmi_granule_delegate(dst_phys)) return -ENXIO;
    let ret = k.rmi_data_create(rd, dst_phys, ipa, src_phys, flags);
    if (RMI_RETURN_STATUS(ret) === RMI_ERROR_RTT) {
      /* Create missing RTTs and retry */
      const level = RMI_RETURN_INDEX(ret);
      k.WARN_ON(level === RMM_RTT_MAX_LEVEL);
      ret = k.realm_create_rtt_levels(kvm, ipa, level, RMM_RTT_MAX_LEVEL);
      // Stryker disable next-line ConditionalExpression: the retry meets the same missing table (nothing created it), fails with RMI_ERROR_RTT changing nothing, and the `if (ret)` below returns -EIO all the same.
      if (ret) return -EIO;
      ret = k.rmi_data_create(rd, dst_phys, ipa, src_phys, flags);
    }
    if (ret) return -EIO;
    return 0;
  },

  realm_create_protected_data_page(k, kvm, ipa, dst_pfn, src_pfn, flags) {
    const rd = k.kvm_realm(kvm).rd;
    const RMM_PAGE_SIZE = k.RMM_PAGE_SIZE();
    let dst_phys = dst_pfn * k.PAGE_SIZE;
    let src_phys = src_pfn * k.PAGE_SIZE;
    let undelegate_failed = false;
    let ret: number;
    let offset: number;
    err: {
      for (offset = 0; offset < k.PAGE_SIZE; offset += RMM_PAGE_SIZE) {
        ret = k.realm_create_protected_data_granule(kvm, ipa, dst_phys, src_phys, flags);
        if (ret) break err;
        ipa += RMM_PAGE_SIZE;
        dst_phys += RMM_PAGE_SIZE;
        src_phys += RMM_PAGE_SIZE;
      }
      return 0;
    }
    if (ret === -EIO) {
      /* current offset needs undelegating */
      if (k.WARN_ON(k.rmi_granule_undelegate(dst_phys) !== 0)) undelegate_failed = true;
    }
    while (offset > 0) {
      ipa -= RMM_PAGE_SIZE;
      offset -= RMM_PAGE_SIZE;
      dst_phys -= RMM_PAGE_SIZE;
      k.rmi_data_destroy(rd, ipa, null);
      if (k.WARN_ON(k.rmi_granule_undelegate(dst_phys) !== 0)) undelegate_failed = true;
    }
    if (undelegate_failed) {
      /* A granule could not be undelegated, so the page has to be leaked */
      k.get_page(dst_pfn);
    }
    return -ENXIO;
  },
};

/**
 * The RMM 1.0 realm creation and destruction, as modelled for v9 and v12 alike (of the stage-2
 * unmap, v12 kept only the range walk: rmeUnmapWalk). Activation is not shared: v9's is a CAP
 * sub-command that needs a NEW realm (rmeV9Fns), v12's runs on the first vCPU run and creates
 * the realm itself (rme-v12.ts).
 */
export type RmeLifecycleFns = Pick<RmeV9Fns, 'realm_create_rd' | 'kvm_destroy_realm'>;

export const rmeLifecycle: Impl<RmeLifecycleFns, ArmK & RmeLifecycleFns & RmeDataPageFns> = {
  // ---- arch/arm64/kvm/rme.c (v9; unchanged in what matters through v12) ----

  realm_create_rd(k, kvm) {
    // Stryker disable next-line StringLiteral: the label only names the page in reports.
    const rd = k.__get_free_page_phys('rd');
    if (!rd) return -ENOMEM;
    if (k.rmi_granule_delegate(rd)) {
      k.free_page_phys(rd);
      return -ENXIO;
    }
    if (k.rmi_realm_create(rd)) {
      k.free_delegated_granule(rd);
      return -ENXIO;
    }
    k.set_realm_state(kvm, 'REALM_STATE_NEW');
    return 0;
  },

  /** Stage 2 is already unmapped (guest_memfd pins the VM until released); RTTs and RD go back. */
  kvm_destroy_realm(k, kvm) {
    const realm = k.kvm_realm(kvm);
    if (realm.rd === 0) return;
    // Stryker disable next-line StringLiteral: nothing reads the state before the DEAD below, nor after a failed RMI_REALM_DESTROY (the VM is going away).
    k.set_realm_state(kvm, 'REALM_STATE_DYING');
    const rtts = k.realm_rtt_granules(kvm);
    if (k.WARN_ON(k.rmi_realm_destroy(realm.rd) !== 0)) return;
    for (const rtt of rtts) k.free_delegated_granule(rtt);
    k.free_delegated_granule(realm.rd);
    // Stryker disable next-line StringLiteral: the VM is being destroyed: nothing reads the state after this.
    k.set_realm_state(kvm, 'REALM_STATE_DEAD');
  },
};

/** The range walk of the stage-2 unmap, the same in v9 and v12 (their per-page steps differ). */
export type RmeUnmapWalkFns = Pick<RmeV9Fns, 'realm_unmap_private_range' | 'kvm_realm_unmap_range'>;

export const rmeUnmapWalk: Impl<RmeUnmapWalkFns, ArmK & RmeUnmapWalkFns & { realm_unmap_private_page(kvm: Kvm, ipa: number, next_addr: { value: number }): number }> = {
  /** Stops at the first page that fails: the rest of the range stays mapped (then realm_fold_rtt_level(), not modelled). */
  realm_unmap_private_range(k, kvm, start, end) {
    // Stryker disable next-line ObjectLiteral: realm_destroy_private_granule() writes next_addr.value before the walk reads it.
    const next_addr = { value: start };
    for (let addr = start; addr < end; addr = next_addr.value) {
      const ret = k.realm_unmap_private_page(kvm, addr, next_addr);
      if (ret) break;
      // cond_resched_rwlock_write(&kvm->mmu_lock) when may_block: a scheduling point only.
    }
  },

  /** From guest_memfd invalidation (unmap_private), with mmu_lock held for write. The shared half is not modelled. */
  kvm_realm_unmap_range(k, kvm, start, end) {
    if (k.kvm_realm(kvm).rd === 0) return;
    k.write_lock(kvm.mmu_lock);
    k.realm_unmap_private_range(kvm, start * k.PAGE_SIZE, end * k.PAGE_SIZE);
    k.write_unlock(kvm.mmu_lock);
  },
};

export const rmeV9Fns: Impl<RmeV9Fns, K> = {
  // v9 applies to v6.16-rc: the loff_t bind (model/kernel/guest_memfd_bind.ts).
  kvm_gmem_bind: gmemBindLoff.kvm_gmem_bind,
  // No guest_memfd flag for a VM with private memory, so no host mapping of its guest_memfd
  // (model/kernel/guest_memfd_create.ts, guest_memfd_fault.ts).
  kvm_gmem_create: gmemCreateV68.kvm_gmem_create,
  kvm_gmem_fault_user_mapping: gmemNoMmap.kvm_gmem_fault_user_mapping,
  kvm_gmem_allocate: gmemAllocateV611.kvm_gmem_allocate,

  ...gmemV611,
  ...rmeDataPage,
  ...rmeLifecycle,

  // ---- arch/arm64/kvm/rme.c (v9 15/43, https://lore.kernel.org/all/20250611104844.245235-16-steven.price@arm.com/) ----

  /**
   * DATA_DESTROY then undelegate; either failing WARNs and gives -ENXIO, keeping nothing. On
   * success the data granule's address goes out in `out_rtt` (so named in the C). `next_addr` is
   * the RMM's next live IPA; the model's RMM reports none, so the walk goes granule by granule
   * (assumed: the same calls on what is mapped, only fewer on what is not).
   */
  realm_destroy_private_granule(k, kvm, ipa, next_addr, out_rtt) {
    const rd = k.kvm_realm(kvm).rd;
    // Stryker disable next-line ObjectLiteral: data.value is read only after RMI_DATA_DESTROY succeeded, which writes it.
    const data = { value: 0 };
    next_addr.value = ipa + k.RMM_PAGE_SIZE();
    const ret = k.rmi_data_destroy(rd, ipa, data);
    // RMI_ERROR_RTT with next_addr > ipa: nothing assigned here. (A block mapping would be split
    // with realm_rtt_create() and retried; populate maps at page level only, so none exists.)
    if (RMI_RETURN_STATUS(ret) === RMI_ERROR_RTT) return 0;
    // Stryker disable next-line ConditionalExpression,UnaryOperator: skipping this WARN_ON undelegates data.value = 0, which the RMM refuses, so the next line WARNs in this function with the same return; every caller tests the return for non-zero only (as rme-v12).
    if (k.WARN_ON(ret !== 0)) return -ENXIO;
    // Stryker disable next-line UnaryOperator: every caller tests the return for non-zero only (realm_unmap_private_page(), the walk's `if (ret) break`).
    if (k.WARN_ON(k.rmi_granule_undelegate(data.value) !== 0)) return -ENXIO;
    out_rtt.value = data.value;
    return 0;
  },

  /**
   * Every granule of one host page; the first failure returns at once. A page whose granules it
   * visited all went back drops the reference kvm_gmem_get_pfn() gave populate_region()
   * (free_page() of the page the last data granule lies in). It judges only what this walk
   * destroyed: a granule an earlier unmap failed to undelegate reads as unmapped, so the page is
   * freed with that granule still DELEGATED (G16, several granules per page).
   */
  realm_unmap_private_page(k, kvm, ipa, next_addr) {
    const end = (Math.floor(ipa / k.PAGE_SIZE) + 1) * k.PAGE_SIZE;
    const out_rtt = { value: PHYS_ADDR_MAX };
    for (let addr = ipa; addr < end; addr = next_addr.value) {
      const ret = k.realm_destroy_private_granule(kvm, addr, next_addr, out_rtt);
      if (ret) return ret;
    }
    if (out_rtt.value !== PHYS_ADDR_MAX) k.free_page_phys(Math.floor(out_rtt.value / k.PAGE_SIZE) * k.PAGE_SIZE);
    return 0;
  },

  ...rmeUnmapWalk,

  // ---- arch/arm64/kvm/arm.c: kvm_vm_ioctl_enable_cap(KVM_CAP_ARM_RME) ----

  realm_populate_ioctl(k, kvm, argp) {
    // case KVM_CAP_ARM_RME: mutex_lock(&kvm->lock); r = kvm_realm_enable_cap(kvm, cap); ...
    return k.guard_mutex(kvm.lock, () => {
      // kvm_realm_enable_cap(): case KVM_CAP_ARM_RME_POPULATE_REALM
      const req = k.copy_struct_from_user(argp);
      return k.kvm_populate_realm(kvm, { base: req.base, size: req.size, flags: req.flags });
    });
  },

  realm_create_ioctl(k, kvm) {
    return k.guard_mutex(kvm.lock, () => {
      // kvm_realm_enable_cap(): case KVM_CAP_ARM_RME_CREATE_REALM -> kvm_create_realm()
      if (k.kvm_realm(kvm).state !== 'REALM_STATE_NONE') return -EEXIST;
      return k.realm_create_rd(kvm);
    });
  },

  // ---- arch/arm64/kvm/rme.c (v9): kvm_activate_realm() ----

  /** Only a NEW realm activates (-EINVAL otherwise); nothing is created here and nothing goes DEAD. */
  kvm_activate_realm(k, kvm) {
    return k.guard_mutex(kvm.config_lock, () => {
      const realm = k.kvm_realm(kvm);
      if (realm.state !== 'REALM_STATE_NEW') return -EINVAL;
      if (k.rmi_realm_activate(realm.rd)) return -ENXIO;
      // Stryker disable next-line StringLiteral: v9 tests the realm state only for NONE (CREATE_REALM) and NEW (populate, activation), so any other name reads as ACTIVE does.
      k.set_realm_state(kvm, 'REALM_STATE_ACTIVE');
      return 0;
    });
  },

  // virt/kvm/guest_memfd.c (6.13+, the series' base): the fault path's get_pfn of that generation.
  ...gmemGetPfnOld,

  // ---- arch/arm64/kvm/rme.c (v9 19/43) ----

  kvm_populate_realm(k, kvm, args) {
    const SZ_2M = k.PAGE_SIZE << k.PMD_ORDER;
    if (k.kvm_realm(kvm).state !== 'REALM_STATE_NEW') return -EPERM;
    if (!IS_ALIGNED(args.base, k.PAGE_SIZE) || args.size % u64(k.PAGE_SIZE) !== 0n) return -EINVAL;
    if (args.flags & ~RMI_MEASURE_CONTENT) return -EINVAL;
    let ipa_base = args.base;
    // unsigned long arithmetic: a size near 2^64 wraps the end below the base.
    const ipa_end = u64_add(u64(ipa_base), args.size);
    if (ipa_end < u64(ipa_base)) return -EINVAL;
    while (u64(ipa_base) < ipa_end) {
      // min(ipa_end, ipa_base + SZ_2M) as a number: the walk stops at the first chunk no memslot
      // holds, and every memslot lies below 2^53, so an end past it is never reached.
      const end = u64AtMost(ipa_end, ipa_base + SZ_2M);
      // Passes args->flags, not a computed data_flags: equal, since the only flag is RMI_MEASURE_CONTENT.
      const ret = k.populate_region(kvm, ipa_base, end, args.flags);
      if (ret) return ret;
      ipa_base = end;
      k.cond_resched();
    }
    return 0;
  },

  populate_region(k, kvm, ipa_base, ipa_end, data_flags) {
    const base_gfn = Math.floor(ipa_base / k.PAGE_SIZE);
    const end_gfn = Math.floor(ipa_end / k.PAGE_SIZE);
    let ipa = ipa_base;
    let ret = 0;
    k.read_lock(kvm.srcu);
    out: {
      const memslot = k.gfn_to_memslot(kvm, base_gfn);
      if (memslot === null) {
        ret = -EFAULT;
        break out;
      }
      if (memslot.base_gfn + memslot.npages < end_gfn) {
        ret = -EINVAL;
        break out;
      }
      if (!k.kvm_slot_can_be_private(memslot)) {
        ret = -EPERM;
        break out;
      }
      while (ipa < ipa_end) {
        const gfn = Math.floor(ipa / k.PAGE_SIZE);
        const hva = k.gfn_to_hva_memslot(memslot, gfn);
        // Stryker disable next-line ConditionalExpression,BlockStatement: without it, __kvm_faultin_pfn()'s GUP of an address with no VMA fails and the `pfn < 0` test below breaks with the same -EFAULT.
        if (!k.vma_lookup(hva)) {
          ret = -EFAULT;
          break;
        }
        const page = k.local_page_ptrs('page', 1);
        const pfn = k.__kvm_faultin_pfn(memslot, gfn, FOLL_WRITE, page);
        // Stryker disable next-line EqualityOperator: no host page has pfn 0 (PFN_BASE: pfn 0 plays NULL), so `pfn <= 0` and `pfn < 0` agree.
        if (pfn < 0) {
          ret = -EFAULT;
          break;
        }
        // Stryker disable next-line ObjectLiteral: kvm_gmem_get_pfn() writes priv before a return of 0, and priv is read only after one.
        const priv: GmemPfnPage = { pfn: 0, page: 0 };
        ret = k.kvm_gmem_get_pfn(kvm, memslot, gfn, priv);
        if (ret) break; // the source page's reference is not released on this path
        ret = k.realm_create_protected_data_page(kvm, ipa, priv.pfn, pfn, data_flags);
        k.kvm_release_page_clean(page.at(0));
        if (ret) break;
        ipa += k.PAGE_SIZE;
      }
    }
    k.read_unlock(kvm.srcu);
    return ret;
  },

  realm_create_rtt_levels(k, kvm, ipa, level, max_level) {
    // Stryker disable next-line ConditionalExpression: at level == max_level the loop below does not run and returns 0 too.
    if (level === max_level) return 0;
    while (level++ < max_level) {
      const rtt = k.alloc_delegated_granule();
      // Stryker disable next-line UnaryOperator: the caller turns any non-zero return into -EIO.
      if (rtt === PHYS_ADDR_MAX) return -ENOMEM;
      const ret = k.realm_rtt_create(kvm, ipa, level, rtt);
      // Another thread created it: as posted, the fresh granule is not freed here.
      // Stryker disable next-line ArithmeticOperator: the index is compared only after RMI_RTT_CREATE returned RMI_ERROR_RTT, which one thread never gets (concurrency is issue 10's).
      if (RMI_RETURN_STATUS(ret) === RMI_ERROR_RTT && RMI_RETURN_INDEX(ret) === level - 1) continue;
      if (ret) {
        k.WARN(true, `Failed to create RTT at level ${level}: ${ret}`);
        k.free_delegated_granule(rtt);
        // Stryker disable next-line UnaryOperator: the caller turns any non-zero return into -EIO.
        return -ENXIO;
      }
    }
    return 0;
  },

};

export const rme_v9: Revision = {
  id: 'rme-v9',
  title: 'Arm RME v9: KVM_CAP_ARM_RME POPULATE_REALM over the shared mapping, granule loop, get_page() leak on undelegate failure',
  backends: ['cca'],
  cites: [
    'https://lore.kernel.org/all/20250611104844.245235-20-steven.price@arm.com/ (19/43)',
    'https://lore.kernel.org/all/CAGtprH-on3JdsHx-DyjN_z_5Z6HJoSQjJpA5o5_V6=rygMSbtQ@mail.gmail.com/ (code as reviewed)',
  ],
  arm: { rmm: 'v1.0', uapi: 'rme-cap', privateTracking: 'vm-attributes' },
  fns: rmeV9Fns,
};

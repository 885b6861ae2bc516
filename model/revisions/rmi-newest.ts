import { EBUSY, EFAULT, EINVAL, EIO, ENOMEM, ENXIO } from '../kernel/errno.js';
import type { Impl } from '../kernel/bind.js';
import { IS_ERR, PTR_ERR } from '../kernel/services/errptr.js';
import type { Kvm } from '../kernel/services/kvmcore.js';
import { ALIGN_DOWN, IS_ALIGNED } from '../kernel/ref.js';
import { u64, u64_add, u64_div_long, u64_sub_pages } from '../kernel/u64.js';
import type { UserStructRef } from '../backends/snp/uapi.js';
import type { ArmK } from '../backends/cca/rmi.js';
import { RMM_RTT_MAX_LEVEL, rttLevelShift } from '../backends/cca/state.js';
import {
  KVM_ARM_RMI_POPULATE_FLAGS_MEASURE, RMI_ERROR_RTT, RMI_MEASURE_CONTENT, RMI_RETURN_INDEX, RMI_RETURN_STATUS,
  type KvmArmRmiPopulate,
} from '../backends/cca/uapi.js';
import { opaqueAs, type Revision } from './Revision.js';
import { PHYS_ADDR_MAX } from './rme-v9.js';
import { gmemNext, type GmemNextFns } from './kvm-x86-next.js';
import type { kvm_gmem_populate_cb_v70, GetPfnOutV70 } from './v7.0.js';
import { gmemBindUoff, type GmemBindFns } from '../kernel/guest_memfd_bind.js';
import type { GmemCreateFns } from '../kernel/guest_memfd_create.js';
import { kvm_gmem_create_v8, kvmGmemFaultUserMappingV8 } from '../kernel/guest_memfd_inplace.js';
import type { GmemArchHooks } from '../kernel/guest_memfd.js';
import type { GmemFaultFns } from '../kernel/guest_memfd_fault.js';
import { gmemAllocateV611, type GmemAllocateFns } from '../kernel/guest_memfd_allocate.js';

/**
 * rmi-newest: the newest stored Arm CCA tree, kamalca/linux:arch/arm64/kvm/rmi.c@845841b280d36f9c462522a9c0e17450c7d85252
 * (RMM 2.0: the granule is the host page; arm.c@01e4ba17, guest_memfd.c@6f122715). Populate
 * takes slots_lock then config_lock, creates the realm on first use, and runs the per-page
 * kvm_gmem_populate() (source GUPed before the invalidate lock, `may_writeback_src` false);
 * realm_data_map_init() delegates the page, maps it with RMI_RTT_DATA_MAP_INIT (creating one
 * missing RTT level per retry) and, on any failure, KVM_BUG_ON()s an undelegate that fails:
 * no page reference, the VM is bugged and the page stays the RMM's. The struct is written back
 * with the progress; 0 is returned on partial success. arm64 selects no guest_memfd
 * free_folio/invalidate hook and no KVM_GENERIC_MEMORY_ATTRIBUTES: guest_memfd tracks private
 * memory itself. Assumed: the realm's kvm_arch_has_private_mem() is true (kvm_is_private_gfn()
 * and the in-place conversion switch need it; no stored arm64 header of that tree defines it, so
 * it lives in a header version the store lacks).
 */
export interface RmiNewestFns extends GmemNextFns, GmemBindFns, GmemCreateFns, GmemFaultFns, GmemAllocateFns, Pick<GmemArchHooks, 'kvm_arch_supports_gmem_init_shared'> {
  realm_populate_ioctl(kvm: Kvm, argp: UserStructRef<KvmArmRmiPopulate>): number;
  realm_create_ioctl(kvm: Kvm): number;
  kvm_arm_rmi_populate(kvm: Kvm, args: KvmArmRmiPopulate): number;
  populate_region_cb: kvm_gmem_populate_cb_v70;
  realm_data_map_init(kvm: Kvm, ipa: number, dst_pfn: number, src_pfn: number, flags: number): number;
  realm_create_rtt_levels(kvm: Kvm, ipa: number, level: number, max_level: number): number;
  alloc_delegated_granule(): number;
  alloc_rtt(): number;
  free_rtt(phys: number): void;
  rmi_rtt_level_mapsize(level: number): number;
  realm_rtt_create(kvm: Kvm, ipa: number, level: number, phys: number): number;
  free_delegated_page(phys: number): number;
  realm_ensure_created(kvm: Kvm): number;
  realm_create_rd(kvm: Kvm): number;
  realm_unmap_private_range(kvm: Kvm, start: number, end: number): void;
  kvm_realm_unmap_range(kvm: Kvm, start: number, end: number): void;
  kvm_activate_realm(kvm: Kvm): number;
  kvm_destroy_realm(kvm: Kvm): void;
}

type K = ArmK & RmiNewestFns;

export const rmiNewestFns: Impl<RmiNewestFns, K> = {
  // kamalca/linux:virt/kvm/guest_memfd.c@6f122715: the uoff_t bind (model/kernel/guest_memfd_bind.ts).
  kvm_gmem_bind: gmemBindUoff.kvm_gmem_bind,
  // kamalca/linux:virt/kvm/guest_memfd.c@6f122715 carries the in-place conversion series: the
  // v6.18 flags, and a per-index attribute (`gmem_inode.attributes`, a maple tree under the
  // invalidate lock) stored over the whole file at creation, shared for an INIT_SHARED file and
  // PRIVATE otherwise (kvm_gmem_init_inode(), guest_memfd.c:72-77 and :809), as v8's
  // (model/kernel/guest_memfd_inplace.ts). arm64 overrides none of the __weak
  // kvm_arch_supports_gmem_init_shared() (true, :765-768), so a realm's guest_memfd may start
  // shared, and __kvm_gmem_populate() below refuses its gfns.
  kvm_arch_supports_gmem_init_shared: () => true,
  kvm_gmem_create: kvm_gmem_create_v8,
  // The host fault (:387-429): under the invalidate lock taken shared, a shared index gets its
  // folio (allocated if need be), a private one SIGBUS; a folio not uptodate is cleared and
  // marked once the lock is dropped, under the folio lock: v8's form.
  kvm_gmem_fault_user_mapping: kvmGmemFaultUserMappingV8(true),
  kvm_gmem_allocate: gmemAllocateV611.kvm_gmem_allocate,

  ...gmemNext,

  // ---- virt/kvm/guest_memfd.c @ kamalca/linux:6f122715419d21a1100823285cb48e99e2366be5 ----

  /** As v7.0's, but privacy is kvm_is_private_gfn(): guest_memfd's own tracking on arm64. */
  __kvm_gmem_populate(k, kvm, slot, file, gfn, src_page, post_populate, opaque) {
    const index = k.kvm_gmem_get_index(slot, gfn);
    let ret: number;
    k.filemap_invalidate_lock(file);
    out_unlock: {
      // Stryker disable next-line ObjectLiteral: got.pfn is read only after a successful lookup wrote it (as v7.0).
      const got: GetPfnOutV70 = { pfn: 0 };
      const folio = k.__kvm_gmem_get_pfn(file, slot, index, got);
      if (IS_ERR(folio)) {
        ret = PTR_ERR(folio);
        break out_unlock;
      }
      k.folio_unlock(folio);
      out_put_folio: {
        if (!k.kvm_is_private_gfn(kvm, gfn)) {
          ret = -EINVAL;
          break out_put_folio;
        }
        ret = post_populate(kvm, gfn, got.pfn, src_page, opaque);
        if (!ret) k.folio_mark_uptodate(folio);
      }
      k.folio_put(folio);
    }
    k.filemap_invalidate_unlock(file);
    return ret;
  },

  // ---- arch/arm64/kvm/arm.c @ kamalca/linux:01e4ba178594dd5c04dcde79df7df897a854e3e5 ----

  realm_populate_ioctl(k, kvm, argp) {
    if (!k.kvm_is_realm(kvm)) return -ENXIO;
    const req = k.copy_struct_from_user(argp);
    const ret = k.kvm_arm_rmi_populate(kvm, req);
    if (k.copy_struct_to_user(argp, req)) return -EFAULT;
    return ret;
  },

  realm_create_ioctl: () => -EINVAL,

  // ---- arch/arm64/kvm/rmi.c @ kamalca/linux:845841b280d36f9c462522a9c0e17450c7d85252 ----

  kvm_arm_rmi_populate(k, kvm, args) {
    let data_flags = 0;
    const ipa_start = args.base;
    const ipa_end = u64_add(u64(ipa_start), args.size);
    if (args.reserved || (args.flags & ~KVM_ARM_RMI_POPULATE_FLAGS_MEASURE) || u64_add(u64(args.base), args.size) < u64(args.base) ||
        !IS_ALIGNED(ipa_start, k.PAGE_SIZE) || ipa_end % u64(k.PAGE_SIZE) !== 0n ||
        !IS_ALIGNED(args.source_uaddr, k.PAGE_SIZE) || !args.source_uaddr) return -EINVAL;
    if (args.flags & KVM_ARM_RMI_POPULATE_FLAGS_MEASURE) data_flags |= RMI_MEASURE_CONTENT;
    k.mutex_lock(kvm.slots_lock);
    k.mutex_lock(kvm.config_lock);
    let ret: number;
    out_unlock: {
      ret = k.realm_ensure_created(kvm);
      if (ret) break out_unlock;
      // range_overflows(base, size, BIT_ULL(ia_bits - 1)) (linux/overflow.h): the protected
      // (lower) half only, and a base at its end overflows even with size 0.
      const max = 2 ** (k.kvm_realm(kvm).ia_bits - 1);
      if (args.base >= max || args.size > u64(max - args.base)) {
        ret = -EINVAL;
        break out_unlock;
      }
      if (args.size === 0n) break out_unlock;
      const pages_populated = k.kvm_gmem_populate(kvm, Math.floor(ipa_start / k.PAGE_SIZE), args.source_uaddr, u64_div_long(args.size, k.PAGE_SIZE), false, k.populate_region_cb, { tag: 'rmi_data_flags', data_flags });
      // Stryker disable next-line EqualityOperator: 0 pages populated moves no field and returns 0 either way.
      if (pages_populated < 0) {
        ret = pages_populated;
        break out_unlock;
      }
      args.size = u64_sub_pages(args.size, pages_populated, k.PAGE_SIZE);
      args.source_uaddr += pages_populated * k.PAGE_SIZE;
      args.base += pages_populated * k.PAGE_SIZE;
    }
    k.mutex_unlock(kvm.config_lock);
    k.mutex_unlock(kvm.slots_lock);
    return ret;
  },

  populate_region_cb(k, kvm, gfn, pfn, src_page, opaque) {
    const data_flags = opaqueAs(opaque, 'rmi_data_flags').data_flags;
    return k.realm_data_map_init(kvm, gfn * k.PAGE_SIZE, pfn, k.page_to_pfn(src_page), data_flags);
  },

  realm_data_map_init(k, kvm, ipa, dst_pfn, src_pfn, flags) {
    const rd = k.kvm_realm(kvm).rd;
    k.lockdep_assert_held(kvm.slots_lock);
    k.lockdep_assert_held(kvm.config_lock);
    const dst_phys = dst_pfn * k.PAGE_SIZE;
    const src_phys = src_pfn * k.PAGE_SIZE;
    if (k.rmi_delegate_page(dst_phys)) return -ENXIO;
    let ret: number;
    out_undelegate: for (;;) {
      ret = k.rmi_rtt_data_map_init(rd, dst_phys, ipa, src_phys, flags);
      // Stryker disable next-line ConditionalExpression,EqualityOperator: an RMI call returns its status, never negative, so `ret >= 0` always holds here.
      if (ret >= 0 && RMI_RETURN_STATUS(ret) === RMI_ERROR_RTT) {
        /* Create missing RTTs and retry */
        const level = RMI_RETURN_INDEX(ret);
        if (k.KVM_BUG_ON(level >= RMM_RTT_MAX_LEVEL, kvm)) {
          ret = -EIO;
          break out_undelegate;
        }
        ret = k.realm_create_rtt_levels(kvm, ipa, level, level + 1);
        if (!ret) continue;
      }
      break;
    }
    if (ret) k.KVM_BUG_ON(k.rmi_undelegate_page(dst_phys) !== 0, kvm);
    return ret <= 0 ? ret : -ENXIO;
  },

  /** A delegated page, or PHYS_ADDR_MAX (populate passes no memory cache: __get_free_page()). */
  alloc_delegated_granule(k) {
    // Stryker disable next-line StringLiteral: the label only names the page in reports.
    const phys = k.__get_free_page_phys('rtt');
    if (!phys) return PHYS_ADDR_MAX;
    if (k.rmi_delegate_page(phys)) {
      k.free_page_phys(phys);
      return PHYS_ADDR_MAX;
    }
    return phys;
  },

  // kvm_account_pgtable_pages() (a page-table statistic the model does not keep) left out.
  alloc_rtt: (k) => k.alloc_delegated_granule(),

  free_rtt(k, phys) {
    k.free_delegated_page(phys);
  },

  /** What one level-`level` entry maps (ARM64_HW_PGTABLE_LEVEL_SHIFT(); the granule is the page). */
  rmi_rtt_level_mapsize(k, level) {
    if (k.WARN_ON(level > RMM_RTT_MAX_LEVEL)) return k.PAGE_SIZE;
    return 2 ** rttLevelShift(k.PAGE_SIZE, level);
  },

  realm_rtt_create: (k, kvm, ipa, level, phys) => k.rmi_rtt_create(k.kvm_realm(kvm).rd, phys, ALIGN_DOWN(ipa, k.rmi_rtt_level_mapsize(level - 1)), level),

  free_delegated_page(k, phys) {
    // Stryker disable next-line UnaryOperator: every caller ignores the return.
    if (k.WARN_ON_ONCE(k.rmi_undelegate_page(phys) !== 0)) return -EBUSY; /* leak the page */
    k.free_page_phys(phys);
    return 0;
  },

  realm_create_rtt_levels(k, kvm, ipa, level, max_level) {
    while (level++ < max_level) {
      const rtt = k.alloc_rtt();
      if (rtt === PHYS_ADDR_MAX) return -ENOMEM;
      const ret = k.realm_rtt_create(kvm, ipa, level, rtt);
      // An RMI call returns its status word, never negative (rmi_sro_execute()'s own errors are not modelled).
      // Stryker disable next-line ConditionalExpression,EqualityOperator,BlockStatement: see above.
      if (ret < 0) {
        k.free_rtt(rtt);
        return ret;
      }
      // RMI_ERROR_RTT at level - 1 means another thread made this table after the walk: one thread
      // never gets it (concurrency is issue 10's).
      // Stryker disable next-line all: see above.
      if (RMI_RETURN_STATUS(ret) === RMI_ERROR_RTT && RMI_RETURN_INDEX(ret) === level - 1) {
        k.free_rtt(rtt);
        continue;
      }
      if (ret) {
        k.WARN(true, `Failed to create RTT at level ${level}: ${ret}`);
        k.free_rtt(rtt);
        // Stryker disable next-line UnaryOperator: realm_data_map_init() turns a positive return into -ENXIO all the same.
        return -ENXIO;
      }
    }
    return 0;
  },

  realm_ensure_created(k, kvm) {
    k.lockdep_assert_held(kvm.config_lock);
    switch (k.kvm_realm(kvm).state) {
      case 'REALM_STATE_NONE': return k.realm_create_rd(kvm);
      case 'REALM_STATE_NEW': return 0;
      case 'REALM_STATE_DEAD': return -ENXIO;
      default: return -EBUSY;
    }
  },

  realm_create_rd(k, kvm) {
    // Stryker disable next-line StringLiteral: the label only names the page in reports.
    const rd = k.__get_free_page_phys('rd');
    if (!rd) return -ENOMEM;
    if (k.rmi_delegate_page(rd)) {
      k.free_page_phys(rd);
      return -ENXIO;
    }
    if (k.rmi_realm_create(rd)) {
      k.free_delegated_page(rd);
      return -ENXIO;
    }
    k.set_realm_state(kvm, 'REALM_STATE_NEW');
    return 0;
  },

  /**
   * RMI_RTT_DATA_UNMAP each page and undelegate what it returns; a failed undelegate WARNs and
   * stops: the rest of the range stays mapped ("A range which cannot be undelegated remains
   * owned by the RMM").
   */
  realm_unmap_private_range(k, kvm, start, end) {
    const rd = k.kvm_realm(kvm).rd;
    for (let addr = start; addr < end; addr += k.PAGE_SIZE) {
      // Stryker disable next-line ObjectLiteral: out.value is read only after RMI_RTT_DATA_UNMAP succeeded, which writes it.
      const out = { value: 0 };
      const ret = k.rmi_rtt_data_unmap(rd, addr, out);
      if (RMI_RETURN_STATUS(ret) === RMI_ERROR_RTT) continue; // nothing mapped here
      if (k.WARN_ON(ret !== 0)) continue;
      if (k.WARN_ON(k.rmi_undelegate_page(out.value) !== 0)) break;
    }
  },

  kvm_realm_unmap_range(k, kvm, start, end) {
    if (k.kvm_realm(kvm).rd === 0) return;
    k.write_lock(kvm.mmu_lock);
    k.realm_unmap_private_range(kvm, start * k.PAGE_SIZE, end * k.PAGE_SIZE);
    k.write_unlock(kvm.mmu_lock);
  },

  kvm_activate_realm(k, kvm) {
    if (k.kvm_realm(kvm).state === 'REALM_STATE_ACTIVE') return 0;
    return k.guard_mutex(kvm.config_lock, () => {
      const ret = k.realm_ensure_created(kvm);
      if (ret) return ret;
      // Only RMI_REALM_ACTIVATE failing reads the DEAD state, and it cannot fail for a NEW realm with
      // a valid RD (RMM's rd_state and realm_state conditions hold, tb_rmi_realm_activate.c).
      /* Mark state as dead in case we fail */
      // Stryker disable next-line StringLiteral: see above.
      k.set_realm_state(kvm, 'REALM_STATE_DEAD');
      if (k.rmi_realm_activate(k.kvm_realm(kvm).rd)) {
        k.KVM_BUG(true, kvm, 'realm activation failed');
        return -ENXIO;
      }
      k.set_realm_state(kvm, 'REALM_STATE_ACTIVE');
      return 0;
    });
  },

  kvm_destroy_realm(k, kvm) {
    k.guard_mutex(kvm.config_lock, () => {
      const realm = k.kvm_realm(kvm);
      if (realm.rd === 0) return;
      // Stryker disable next-line StringLiteral: nothing reads the state before the DEAD below (config_lock held).
      k.set_realm_state(kvm, 'REALM_STATE_DYING');
      const rtts = k.realm_rtt_granules(kvm);
      // RMI_REALM_TERMINATE, realm_destroy_rtts(), RMI_REALM_DESTROY: each WARNs and leaks on failure.
      if (k.WARN_ON(k.rmi_realm_destroy(realm.rd) !== 0)) return;
      for (const rtt of rtts) k.free_delegated_page(rtt);
      k.free_delegated_page(realm.rd);
      // Stryker disable next-line StringLiteral: the VM is being destroyed: nothing reads the state after this.
      k.set_realm_state(kvm, 'REALM_STATE_DEAD');
    });
  },
};

export const rmi_newest: Revision = {
  id: 'rmi-newest',
  title: 'newest Arm RMI tree (RMM 2.0): realm_data_map_init, KVM_BUG_ON on undelegate failure, no page reference',
  backends: ['cca'],
  cites: [
    'kamalca/linux:arch/arm64/kvm/rmi.c@845841b280d36f9c462522a9c0e17450c7d85252',
    'kamalca/linux:arch/arm64/kvm/arm.c@01e4ba178594dd5c04dcde79df7df897a854e3e5',
  ],
  arm: { rmm: 'v2.0', uapi: 'rmi-populate-writeback', privateTracking: 'guest_memfd' },
  fns: rmiNewestFns,
};

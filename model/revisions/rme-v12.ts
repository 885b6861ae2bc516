import { EBUSY, EINVAL, ENOMEM, ENXIO, EOPNOTSUPP, EPERM } from '../kernel/errno.js';
import type { Impl } from '../kernel/bind.js';
import type { Kvm } from '../kernel/services/kvmcore.js';
import { MM_LOCK } from '../kernel/services/locking.js';
import { IS_ALIGNED } from '../kernel/ref.js';
import { u64, u64_add, u64_div_long } from '../kernel/u64.js';
import type { UserStructRef } from '../backends/snp/uapi.js';
import type { ArmK } from '../backends/cca/rmi.js';
import { KVM_ARM_RMI_POPULATE_FLAGS_MEASURE, RMI_ERROR_RTT, RMI_MEASURE_CONTENT, RMI_RETURN_INDEX, RMI_RETURN_STATUS, type KvmArmRmiPopulate } from '../backends/cca/uapi.js';
import { opaqueAs, type Revision } from './Revision.js';
import { gmemV611, type GmemV611Fns, type kvm_gmem_populate_cb_v611 } from './kvm-x86-next-2025.11.07.js';
import { PHYS_ADDR_MAX, rmeDataPage, rmeLifecycle, rmeUnmapWalk, type RmeDataPageFns, type RmeLifecycleFns } from './rme-v9.js';
import { gmemBindLoff, type GmemBindFns } from '../kernel/guest_memfd_bind.js';
import { gmemCreateV618, type GmemCreateFns } from '../kernel/guest_memfd_create.js';
import { gmemFaultV618, type GmemFaultFns } from '../kernel/guest_memfd_fault.js';
import { gmemAllocateV611, type GmemAllocateFns } from '../kernel/guest_memfd_allocate.js';

/**
 * rme-v12: the series' v12 (2025-12-17), 20/46 "arm64: RMI: Allow populating initial contents",
 * https://lore.kernel.org/all/20251217101125.91098-21-steven.price@arm.com/ ("The multiplex CAP
 * is gone and there's a new ioctl which makes use of the generic kvm_gmem_populate()"), with
 * Marc Zyngier's review https://lore.kernel.org/all/86qzq28elj.wl-maz@kernel.org/. Populate is
 * KVM_ARM_RMI_POPULATE; populate_region() holds slots_lock and mmap_read_lock around the old
 * kvm_gmem_populate() (invalidate lock across the loop), whose callback GUPs the source and runs
 * v9's granule loop unchanged, get_page() leak included. It returns the bytes populated as an
 * int and writes nothing back. Realm creation and destruction are v9's as modelled (RMM 1.0); the
 * stage-2 unmap is v9's without the page reference v9 dropped there. Activation is v12's own
 * (11/46, 12/46): the first vCPU run creates the realm if no populate has, and a realm whose
 * activation fails after that point stays DEAD.
 */
export interface RmeV12Fns extends GmemV611Fns, RmeDataPageFns, RmeLifecycleFns, GmemBindFns, GmemCreateFns, GmemFaultFns, GmemAllocateFns {
  realm_destroy_private_granule(kvm: Kvm, ipa: number, next_addr: { value: number }): number;
  realm_unmap_private_page(kvm: Kvm, ipa: number, next_addr: { value: number }): number;
  realm_unmap_private_range(kvm: Kvm, start: number, end: number): void;
  kvm_realm_unmap_range(kvm: Kvm, start: number, end: number): void;
  realm_populate_ioctl(kvm: Kvm, argp: UserStructRef<KvmArmRmiPopulate>): number;
  realm_create_ioctl(kvm: Kvm): number;
  kvm_arm_rmi_populate(kvm: Kvm, args: KvmArmRmiPopulate): number;
  populate_region(kvm: Kvm, base_gfn: number, pages: number, uaddr: number, data_flags: number): number;
  populate_region_cb: kvm_gmem_populate_cb_v611;
  realm_ensure_created(kvm: Kvm): number;
  realm_create_rtt_levels(kvm: Kvm, ipa: number, level: number, max_level: number): number;
  kvm_activate_realm(kvm: Kvm): number;
  kvm_create_rec(kvm: Kvm): number;
  irqchip_in_kernel(kvm: Kvm): boolean;
}

type K = ArmK & RmeV12Fns;

export const rmeV12Fns: Impl<RmeV12Fns, K> = {
  // v12 applies to v6.19-rc: the loff_t bind (model/kernel/guest_memfd_bind.ts).
  kvm_gmem_bind: gmemBindLoff.kvm_gmem_bind,
  // v6.18+: GUEST_MEMFD_FLAG_MMAP for every VM, and a fault without INIT_SHARED is SIGBUS before any
  // lock (model/kernel/guest_memfd_create.ts, guest_memfd_fault.ts).
  kvm_gmem_create: gmemCreateV618.kvm_gmem_create,
  kvm_gmem_fault_user_mapping: gmemFaultV618.kvm_gmem_fault_user_mapping,
  kvm_gmem_allocate: gmemAllocateV611.kvm_gmem_allocate,

  ...gmemV611,
  ...rmeDataPage,
  ...rmeLifecycle,

  // ---- arch/arm64/kvm/rmi.c (v12 17/46, https://lore.kernel.org/all/20251217101125.91098-18-steven.price@arm.com/) ----
  // v9's stage-2 unmap without out_rtt and free_page(): populate keeps no page reference any more,
  // so a page whose granule the RMM keeps is freed by guest_memfd all the same (G13).

  /** DATA_DESTROY then undelegate; either failing WARNs and gives -ENXIO. Granule by granule, as rme-v9.ts says why. */
  realm_destroy_private_granule(k, kvm, ipa, next_addr) {
    const rd = k.kvm_realm(kvm).rd;
    // Stryker disable next-line ObjectLiteral: data.value is read only after RMI_DATA_DESTROY succeeded, which writes it.
    const data = { value: 0 };
    next_addr.value = ipa + k.RMM_PAGE_SIZE();
    const ret = k.rmi_data_destroy(rd, ipa, data);
    if (RMI_RETURN_STATUS(ret) === RMI_ERROR_RTT) return 0; // nothing assigned here
    // Skipping this WARN_ON undelegates data.value = 0, which the RMM refuses (PA 0 is no delegated
    // granule), so the next line WARNs in this function with the same return. Every caller tests
    // the return for non-zero only (realm_unmap_private_page(), the walk's `if (ret) break`).
    // Stryker disable next-line ConditionalExpression,UnaryOperator: see above.
    if (k.WARN_ON(ret !== 0)) return -ENXIO;
    // Stryker disable next-line UnaryOperator: see above (the sign of the return is never seen).
    if (k.WARN_ON(k.rmi_granule_undelegate(data.value) !== 0)) return -ENXIO;
    return 0;
  },

  /** Every granule of one host page; the first failure returns at once. */
  realm_unmap_private_page(k, kvm, ipa, next_addr) {
    const end = (Math.floor(ipa / k.PAGE_SIZE) + 1) * k.PAGE_SIZE;
    for (let addr = ipa; addr < end; addr = next_addr.value) {
      const ret = k.realm_destroy_private_granule(kvm, addr, next_addr);
      if (ret) return ret;
    }
    return 0;
  },

  ...rmeUnmapWalk,

  // ---- arch/arm64/kvm/arm.c: kvm_arch_vm_ioctl() ----

  realm_populate_ioctl(k, kvm, argp) {
    // case KVM_ARM_RMI_POPULATE: (no kvm->lock)
    if (!k.kvm_is_realm(kvm)) return -EPERM;
    const req = k.copy_struct_from_user(argp);
    return k.kvm_arm_rmi_populate(kvm, req);
  },

  // The multiplex KVM_CAP_ARM_RME is gone: there is no CREATE_REALM any more.
  realm_create_ioctl: () => -EINVAL,

  // ---- arch/arm64/kvm/rmi.c (v12 20/46) ----

  kvm_arm_rmi_populate(k, kvm, args) {
    let data_flags = 0;
    const ipa_start = args.base;
    const ipa_end = u64_add(u64(ipa_start), args.size);
    if (args.reserved || (args.flags & ~KVM_ARM_RMI_POPULATE_FLAGS_MEASURE) ||
        !IS_ALIGNED(ipa_start, k.PAGE_SIZE) || ipa_end % u64(k.PAGE_SIZE) !== 0n) return -EINVAL;
    const ret0 = k.realm_ensure_created(kvm);
    if (ret0) return ret0;
    // data_flags is set but not used: args->flags is passed (kbuild warning), equal in value.
    // Stryker disable next-line ConditionalExpression,AssignmentOperator: data_flags is never read (see above).
    // eslint-disable-next-line no-useless-assignment, @typescript-eslint/no-unused-vars -- kept as posted, see above
    if (args.flags & KVM_ARM_RMI_POPULATE_FLAGS_MEASURE) data_flags |= RMI_MEASURE_CONTENT;
    // args->size >> PAGE_SHIFT: no wrap test in v12, so a size past the memslot is cut there.
    const ret = k.populate_region(kvm, Math.floor(ipa_start / k.PAGE_SIZE), u64_div_long(args.size, k.PAGE_SIZE), args.source_uaddr, args.flags);
    // Stryker disable next-line EqualityOperator: ret 0 returns 0 * PAGE_SIZE = 0 all the same.
    if (ret < 0) return ret;
    return ret * k.PAGE_SIZE;
  },

  populate_region(k, kvm, base_gfn, pages, uaddr, data_flags) {
    k.mutex_lock(kvm.slots_lock);
    k.mmap_read_lock(MM_LOCK);
    const ret = k.kvm_gmem_populate(kvm, base_gfn, uaddr, pages, k.populate_region_cb, { tag: 'rmi_data_flags', data_flags });
    k.mmap_read_unlock(MM_LOCK);
    k.mutex_unlock(kvm.slots_lock);
    return ret;
  },

  populate_region_cb(k, kvm, gfn, pfn, src, order, opaque) {
    const data_flags = opaqueAs(opaque, 'rmi_data_flags').data_flags;
    let ipa = gfn * k.PAGE_SIZE;
    const npages = 1 << order;
    for (let i = 0; i < npages; i++) {
      const src_page = k.local_page_ptrs('src_page', 1);
      // Stryker disable all: get_user_pages() of one page returns 1 or -errno, never 0 (mm/gup.c),
      // so `ret <= 0` and `ret != 1` change nothing.
      let ret = k.get_user_pages(src, 1, 0, src_page);
      if (ret < 0) return ret;
      if (ret !== 1) return -ENOMEM;
      // Stryker restore all
      ret = k.realm_create_protected_data_page(kvm, ipa, pfn, k.page_to_pfn(src_page.at(0)), data_flags);
      k.put_page(src_page.at(0));
      // Stryker disable all: the loop runs once. order is 0 on arm64 in every tree (guest_memfd makes
      // no huge folios there) and no what-if cell gives the Arm revisions huge folios (model/whatIf.ts),
      // so nothing after the last page's step is ever read.
      if (ret) return ret;
      ipa += k.PAGE_SIZE;
      pfn++;
      src += k.PAGE_SIZE;
    }
    // Stryker restore all
    return 0;
  },

  realm_ensure_created(k, kvm) {
    // Called without config_lock (kvm_activate_realm takes it): two callers could both see NONE.
    switch (k.kvm_realm(kvm).state) {
      case 'REALM_STATE_NONE': return k.realm_create_rd(kvm);
      case 'REALM_STATE_NEW': return 0;
      case 'REALM_STATE_DEAD': return -ENXIO;
      default: return -EBUSY;
    }
  },

  /** v11 on: the granule of a level another thread created is freed. */
  realm_create_rtt_levels(k, kvm, ipa, level, max_level) {
    // Stryker disable next-line ConditionalExpression: at level == max_level the loop below does not run and returns 0 too.
    if (level === max_level) return 0;
    while (level++ < max_level) {
      const rtt = k.alloc_delegated_granule();
      // Stryker disable next-line UnaryOperator: the caller turns any non-zero return into -EIO.
      if (rtt === PHYS_ADDR_MAX) return -ENOMEM;
      const ret = k.realm_rtt_create(kvm, ipa, level, rtt);
      // RMI_ERROR_RTT at level - 1 means another thread made this table after the walk: one
      // thread never gets it (concurrency is issue 10's).
      // Stryker disable next-line all: see above.
      if (RMI_RETURN_STATUS(ret) === RMI_ERROR_RTT && RMI_RETURN_INDEX(ret) === level - 1) {
        k.free_delegated_granule(rtt);
        continue;
      }
      if (ret) {
        k.WARN(true, `Failed to create RTT at level ${level}: ${ret}`);
        k.free_delegated_granule(rtt);
        // Stryker disable next-line UnaryOperator: the caller turns any non-zero return into -EIO.
        return -ENXIO;
      }
    }
    return 0;
  },

  // ---- arch/arm64/kvm/rmi.c (v12 11/46, https://lore.kernel.org/all/20251217101125.91098-12-steven.price@arm.com/;
  // the vCPU loop from 12/46, -13-; RIPAS from 21/46, -22-; realm_ensure_created() filled in by 22/46, -23-) ----

  /**
   * Reached from kvm_arch_vcpu_run_pid_change() (the first KVM_RUN) for a realm. A realm already
   * ACTIVE returns 0, checked once unlocked and once under config_lock (v12 tests == ACTIVE; v13's
   * changelog makes it >= ACTIVE so that a DEAD realm is not revived). Otherwise the realm is
   * created if no populate has created it (realm_ensure_created(): NONE -> RD, NEW -> as is,
   * DEAD -> -ENXIO, DYING -> -EBUSY), and only then set DEAD, before everything that can still
   * fail: the in-kernel irqchip check (-EOPNOTSUPP), a REC for each vCPU, RIPAS RAM for every
   * guest_memfd memslot and RMI_REALM_ACTIVATE (-ENXIO). Any of them failing returns with the
   * realm left DEAD: v12 has no kvm_vm_dead() (later trees add one), so the VM's ioctls still run
   * and every later populate or activation meets DEAD in realm_ensure_created() (-ENXIO).
   */
  kvm_activate_realm(k, kvm) {
    if (!k.kvm_is_realm(kvm)) return -ENXIO;
    // One thread: the same test under config_lock returns 0 for an ACTIVE realm all the same.
    // Stryker disable next-line ConditionalExpression,StringLiteral: see above.
    if (k.kvm_realm(kvm).state === 'REALM_STATE_ACTIVE') return 0;
    return k.guard_mutex(kvm.config_lock, () => {
      // Another vCPU may have activated it while this one waited for the lock.
      // One thread: the unlocked test above already returned for an ACTIVE realm.
      // Stryker disable next-line ConditionalExpression,StringLiteral: see above.
      if (k.kvm_realm(kvm).state === 'REALM_STATE_ACTIVE') return 0;
      const ret = k.realm_ensure_created(kvm);
      if (ret) return ret;
      // DEAD from here until RMI_REALM_ACTIVATE succeeds: every failure below leaves it so.
      k.set_realm_state(kvm, 'REALM_STATE_DEAD');
      // A realm needs the in-kernel vGIC; a userspace irqchip is refused.
      if (!k.irqchip_in_kernel(kvm)) return -EOPNOTSUPP;
      // kvm_for_each_vcpu(): the VMM's one vCPU (the model keeps no vCPU state of its own).
      const rec = k.kvm_create_rec(kvm);
      if (rec) return rec;
      // Not modelled (the model keeps no RIPAS state): set_ripas_of_protected_regions() (21/46:
      // RMI_RTT_INIT_RIPAS over each guest_memfd memslot), taken to succeed.
      if (k.rmi_realm_activate(k.kvm_realm(kvm).rd)) return -ENXIO;
      k.set_realm_state(kvm, 'REALM_STATE_ACTIVE');
      return 0;
    });
  },

  /**
   * 12/46's REC creation, up to its page allocations: the params, REC and run pages are all
   * asked for before any is checked, and one missing gives -ENOMEM (the others freed), which
   * leaves the realm DEAD (kvm_activate_realm()). Only whether each allocation succeeds is
   * modelled, not the pages: the REC and run pages stay with the vCPU until kvm_destroy_rec(),
   * and the model has no vCPU teardown to give them back. The rest is taken to succeed: the REC
   * granule's delegation (-ENXIO), the AUX granules, RMI_REC_CREATE. Its -EBUSY (a REC already
   * made) and -EINVAL (no PSCI 0.2 feature) cannot happen here: a realm that made its RECs is
   * ACTIVE or DEAD before this runs again, and the modelled VMM sets KVM_ARM_VCPU_PSCI_0_2.
   */
  kvm_create_rec(k) {
    const params = k.__get_free_page_untracked('rec params');
    const rec_page = k.__get_free_page_untracked('rec');
    const run = k.__get_free_page_untracked('rec run');
    if (!params || !rec_page || !run) return -ENOMEM;
    return 0;
  },

  // ---- include/kvm/arm_vgic.h ----

  /** vgic.in_kernel: every modelled VMM created the vGIC before its first vCPU run (Scenario has no irqchip). */
  irqchip_in_kernel: () => true,
};

export const rme_v12: Revision = {
  id: 'rme-v12',
  title: 'Arm RMI v12: KVM_ARM_RMI_POPULATE through kvm_gmem_populate() and populate_region_cb, as posted (locks included)',
  backends: ['cca'],
  cites: [
    'https://lore.kernel.org/all/20251217101125.91098-21-steven.price@arm.com/ (20/46)',
    'https://lore.kernel.org/all/20251217101125.91098-12-steven.price@arm.com/ (11/46, kvm_activate_realm)',
    'https://lore.kernel.org/all/20251217101125.91098-13-steven.price@arm.com/ (12/46, RECs at activation)',
    'https://lore.kernel.org/all/20251217101125.91098-23-steven.price@arm.com/ (22/46, realm_ensure_created)',
    'https://lore.kernel.org/all/86qzq28elj.wl-maz@kernel.org/ (review)',
  ],
  arm: { rmm: 'v1.0', uapi: 'rmi-populate-bytes', privateTracking: 'vm-attributes' },
  fns: rmeV12Fns,
};

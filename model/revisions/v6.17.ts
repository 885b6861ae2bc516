import { EFAULT, EEXIST, EINTR, EINVAL, EIO, EBUSY, ENOMEM } from '../kernel/errno.js';
import { u64_add, u64_div_long, u64_shl, u64_sub, u64_sub_pages, u64ToGfn, u64ToIndex } from '../kernel/u64.js';
import type { Impl } from '../kernel/bind.js';
import { IS_ERR, NULL, PTR_ERR } from '../kernel/services/errptr.js';
import { KVM, type Kvm } from '../kernel/services/kvmcore.js';
import { current } from '../kernel/services/sched.js';
import { IS_ALIGNED } from '../kernel/ref.js';
import { KVM_MEMORY_ATTRIBUTE_PRIVATE } from '../world/kvmState.js';
import {
  KVM_SEV_SNP_PAGE_TYPE_CPUID, KVM_SEV_SNP_PAGE_TYPE_NORMAL, KVM_SEV_SNP_PAGE_TYPE_SECRETS,
  KVM_SEV_SNP_PAGE_TYPE_UNMEASURED, KVM_SEV_SNP_PAGE_TYPE_ZERO,
  type KvmSevCmd, type KvmSevSnpLaunchUpdate, type SevGmemPopulateArgs,
} from '../backends/snp/uapi.js';
import { KVM_TDX_MEASURE_MEMORY_REGION, type KvmTdxCmd, type TdxGmemPostPopulateArg, type Vcpu } from '../backends/tdx/uapi.js';
import { PFERR_GUEST_FINAL_MASK, PFERR_PRIVATE_ACCESS, tdxV616, type TdxV616Fns } from '../backends/tdx/tdx_v6_16.js';
import { gmemBindLoff, type GmemBindFns } from '../kernel/guest_memfd_bind.js';
import { gmemCreateV68, type GmemCreateFns } from '../kernel/guest_memfd_create.js';
import { gmemNoMmap, type GmemFaultFns } from '../kernel/guest_memfd_fault.js';
import { gmemAllocateV611, type GmemAllocateFns } from '../kernel/guest_memfd_allocate.js';
import { opaqueAs, type Revision, type X86K } from './Revision.js';
import {
  gmemGetPfnOld, gmemV611, v611Fns, type GetPfnOut, type GmemV611Fns, type kvm_gmem_populate_cb_v611,
} from './kvm-x86-next-2025.11.07.js';

/**
 * v6.16 and v6.17 as released: the old populate path (kvm_gmem_populate() holds the invalidate
 * lock across the loop; the vendor callback copies or pins the source under it, B2) with
 *
 * - SNP as torvalds/linux:arch/x86/kvm/svm/sev.c@0097f9df996fe9c4a66a9f96a492391a8432affd has it,
 *   check for check: no `!params.len` (a zero length is a successful no-op: kvm_gmem_populate()
 *   refuses only `npages < 0` here; kvm-x86 5b66e335ead6 added both guards for v6.18), no check of
 *   `uaddr` (0 with a non-ZERO type reaches the callback's WARN_ON_ONCE);
 * - TDX as it was until v6.19 (model/backends/tdx/tdx_v6_16.ts, identical in v6.18): the callback
 *   GUPs the source and maps the gfn with kvm_tdp_map_page(), which re-enters guest_memfd and
 *   prepares the folio before TDH.MEM.PAGE.ADD (B21), pins the page and counts it in
 *   `nr_premapped`.
 *
 * guest_memfd.c of v6.16/v6.17 is torvalds/linux:virt/kvm/guest_memfd.c@0f94e51b5320eacccc2626ab70b8d7e705332334
 * with the pre-5b66e335 guard and the pre-6.18 name kvm_slot_can_be_private() (research:
 * the 5b66e335 diff, https://lore.kernel.org/all/20250919211649.1575654-1-seanjc@google.com/).
 * That snapshot is already v6.18-rc2's in kvm_gmem_create() and the fault path (INIT_SHARED,
 * kvm_gmem_get_supported_flags()); v6.16/v6.17 still had `valid_flags = 0` and no .mmap, which
 * the table below takes (gmemCreateV68, gmemNoMmap).
 */
export interface V617Fns extends GmemV611Fns, GmemBindFns, GmemCreateFns, GmemFaultFns, GmemAllocateFns, TdxV616Fns {
  sev_gmem_post_populate: kvm_gmem_populate_cb_v611;
  snp_launch_update(kvm: Kvm, argp: KvmSevCmd<KvmSevSnpLaunchUpdate>): number;
  tdx_gmem_post_populate: kvm_gmem_populate_cb_v611;
  tdx_vcpu_init_mem_region(vcpu: Vcpu, cmd: KvmTdxCmd): number;
}

type K = X86K & V617Fns;

/** What snp_launch_update() uses: the same C against either callback typedef. */
type SnpLaunchUpdateK<Cb> = Pick<X86K, 'sev_snp_guest' | 'sev_snp_context' | 'copy_struct_from_user' | 'copy_struct_to_user' | 'mutex_lock' | 'mutex_unlock' | 'gfn_to_memslot' | 'kvm_slot_can_be_private' | 'PAGE_SIZE'> & {
  kvm_gmem_populate(kvm: Kvm, gfn: number, src: number, npages: number, cb: Cb, opaque: SevGmemPopulateArgs): number;
  sev_gmem_post_populate: Cb;
};

/**
 * snp_launch_update() as torvalds/linux:arch/x86/kvm/svm/sev.c@0097f9df996fe9c4a66a9f96a492391a8432affd
 * has it (v6.16/v6.17), and SNP v15 06/20 posted it (paolo-v1).
 */
export function snp_launch_update_0097f9df<Cb>(k: SnpLaunchUpdateK<Cb>, kvm: Kvm, argp: KvmSevCmd<KvmSevSnpLaunchUpdate>): number {
  const sev_populate_args: SevGmemPopulateArgs = { tag: 'sev_gmem_populate_args', type: 0, sev_fd: 0, fw_error: 0 };
  let ret: number;
  if (!k.sev_snp_guest(kvm) || !k.sev_snp_context(kvm)) return -EINVAL;
  const params = k.copy_struct_from_user(argp.data);
  if (!IS_ALIGNED(params.len, k.PAGE_SIZE) || params.flags ||
      (params.type !== KVM_SEV_SNP_PAGE_TYPE_NORMAL &&
       params.type !== KVM_SEV_SNP_PAGE_TYPE_ZERO &&
       params.type !== KVM_SEV_SNP_PAGE_TYPE_UNMEASURED &&
       params.type !== KVM_SEV_SNP_PAGE_TYPE_SECRETS &&
       params.type !== KVM_SEV_SNP_PAGE_TYPE_CPUID)) return -EINVAL;
  const npages = u64_div_long(params.len, k.PAGE_SIZE);
  /*
   * For each GFN that's being prepared as part of the initial guest state, the following
   * pre-conditions are verified: the backing memslot is a valid private memslot; the GFN has
   * been set to private via KVM_SET_MEMORY_ATTRIBUTES beforehand; the PFN of the guest_memfd
   * has not already been set to private in the RMP table. slots_lock keeps attribute and
   * memslot updates out while they are checked.
   */
  k.mutex_lock(kvm.slots_lock);
  out: {
    const memslot = k.gfn_to_memslot(kvm, u64ToGfn(params.gfn_start));
    if (!k.kvm_slot_can_be_private(memslot)) {
      ret = -EINVAL;
      break out;
    }
    sev_populate_args.sev_fd = argp.sev_fd;
    sev_populate_args.type = params.type;
    const src = params.type === KVM_SEV_SNP_PAGE_TYPE_ZERO ? NULL : params.uaddr;
    const count = k.kvm_gmem_populate(kvm, u64ToGfn(params.gfn_start), src, npages, k.sev_gmem_post_populate, sev_populate_args);
    if (count < 0) {
      argp.error = sev_populate_args.fw_error;
      ret = -EIO;
    } else {
      params.gfn_start = u64_add(params.gfn_start, BigInt(count));
      params.len = u64_sub_pages(params.len, count, k.PAGE_SIZE);
      if (params.type !== KVM_SEV_SNP_PAGE_TYPE_ZERO) params.uaddr += count * k.PAGE_SIZE;
      ret = 0;
      if (k.copy_struct_to_user(argp.data, params)) ret = -EFAULT;
    }
  }
  k.mutex_unlock(kvm.slots_lock);
  return ret;
}

export const v617Fns: Impl<V617Fns, K> = {
  kvm_gmem_bind: gmemBindLoff.kvm_gmem_bind,
  // No guest_memfd flag for a VM with private memory, so no host mapping of its guest_memfd
  // (model/kernel/guest_memfd_create.ts, guest_memfd_fault.ts).
  kvm_gmem_create: gmemCreateV68.kvm_gmem_create,
  kvm_gmem_fault_user_mapping: gmemNoMmap.kvm_gmem_fault_user_mapping,
  kvm_gmem_allocate: gmemAllocateV611.kvm_gmem_allocate,
  ...gmemV611,
  ...gmemGetPfnOld,
  ...tdxV616,

  // ---- virt/kvm/guest_memfd.c, v6.16/v6.17 ----

  kvm_gmem_populate(k, kvm, start_gfn, src, npages, post_populate, opaque) {
    let ret = 0;
    let max_order: number;
    let i: number;
    k.lockdep_assert_held(kvm.slots_lock);
    // Stryker disable next-line all: SNP passes a u64 length over the page size, TDX one page: never negative.
    if (npages < 0) return -EINVAL;
    const slot = k.gfn_to_memslot(kvm, start_gfn);
    // Stryker disable next-line ConditionalExpression: kvm_slot_can_be_private(NULL) is false, so `slot === null` only saves the call.
    if (slot === null || !k.kvm_slot_can_be_private(slot)) return -EINVAL;
    const file = k.kvm_gmem_get_file(slot);
    if (!file) return -EFAULT;
    k.filemap_invalidate_lock(file);
    npages = Math.min(slot.npages - (start_gfn - slot.base_gfn), npages);
    for (i = 0; i < npages; i += 1 << max_order) {
      const gfn = start_gfn + i;
      const index = k.kvm_gmem_get_index(slot, gfn);
      if (k.signal_pending(current)) {
        ret = -EINTR;
        break;
      }
      // Stryker disable next-line ObjectLiteral,BooleanLiteral: __kvm_gmem_get_pfn() writes every field before a successful return.
      const got: GetPfnOut = { pfn: 0, is_prepared: false, max_order: 0 };
      const folio = k.__kvm_gmem_get_pfn(file, slot, index, got);
      if (IS_ERR(folio)) {
        ret = PTR_ERR(folio);
        break;
      }
      max_order = got.max_order;
      if (got.is_prepared) {
        k.folio_unlock(folio);
        k.folio_put(folio);
        ret = -EEXIST;
        break;
      }
      k.folio_unlock(folio);
      k.WARN_ON(!IS_ALIGNED(gfn, 1 << max_order) || npages - i < 1 << max_order);
      ret = -EINVAL;
      put_folio_and_exit: {
        while (!k.kvm_range_has_memory_attributes(kvm, gfn, gfn + (1 << max_order), KVM_MEMORY_ATTRIBUTE_PRIVATE, KVM_MEMORY_ATTRIBUTE_PRIVATE)) {
          if (!max_order) break put_folio_and_exit;
          max_order--;
        }
        const p = src ? src + i * k.PAGE_SIZE : NULL;
        ret = post_populate(kvm, gfn, got.pfn, p, max_order, opaque);
        if (!ret) k.kvm_gmem_mark_prepared(folio);
      }
      k.folio_put(folio);
      if (ret) break;
    }
    k.filemap_invalidate_unlock(file);
    k.fput(file);
    return ret && !i ? ret : i;
  },

  // ---- arch/x86/kvm/svm/sev.c @ torvalds/linux:0097f9df996fe9c4a66a9f96a492391a8432affd ----

  sev_gmem_post_populate: v611Fns.sev_gmem_post_populate,

  snp_launch_update: snp_launch_update_0097f9df,

  // ---- arch/x86/kvm/vmx/tdx.c @ kernelorg-mirror/virt_kvm_kvm:6249af4632166284e82033226a1679e38cb3e6e8 ----

  tdx_gmem_post_populate(k, kvm, gfn, pfn, src, _order, _arg) {
    // Stryker disable next-line ArithmeticOperator: the model's fault path reads the access from the gfn's attribute, not the error code.
    const error_code = PFERR_GUEST_FINAL_MASK + PFERR_PRIVATE_ACCESS;
    const arg = opaqueAs(_arg, 'tdx_gmem_post_populate_arg');
    const vcpu = arg.vcpu;
    const kvm_tdx = k.to_kvm_tdx(kvm);
    const gpa = gfn * k.PAGE_SIZE;
    /*
     * Get the source page if it has been faulted in. Return failure if the source page has
     * been swapped out or unmapped in primary memory.
     */
    const src_page = k.local_page_ptrs('src_page', 1);
    let ret = k.get_user_pages_fast(src, 1, 0, src_page);
    // Stryker disable next-line EqualityOperator: get_user_pages_fast() of one page returns 1 or -errno (mm/gup.c), never 0.
    if (ret < 0) return ret;
    // Stryker disable next-line all: see above.
    if (ret !== 1) return -ENOMEM;
    out: {
      // The pfn handed in is not used to map: the gfn is faulted in again through guest_memfd.
      ret = k.kvm_tdp_map_page(vcpu, gpa, error_code);
      if (ret < 0) break out;
      // CONFIG_KVM_PROVE_MMU's kvm_tdp_mmu_gpa_is_mapped() check is a debug configuration: not modelled.
      ret = 0;
      const add = k.tdh_mem_page_add('td', gpa, pfn, src_page.at(0));
      if (add.err !== 0n) {
        // Stryker disable next-line UnaryOperator: the old loop turns any return but 1 into -EIO.
        ret = k.tdx_operand_busy(add.err) ? -EBUSY : -EIO;
        break out;
      }
      // Stryker disable next-line ConditionalExpression: kvm_tdp_map_page() just premapped the page, so nr_premapped is never 0 here with one thread.
      if (!k.KVM_BUG_ON(kvm_tdx.nr_premapped === 0, kvm)) kvm_tdx.nr_premapped--;
      if (!(arg.flags & KVM_TDX_MEASURE_MEMORY_REGION)) break out;
      for (let i = 0; i < k.PAGE_SIZE; i += k.TDX_EXTENDMR_CHUNKSIZE) {
        const ext = k.tdh_mr_extend('td', gpa + i);
        if (ext.err !== 0n) {
          // Stryker disable next-line UnaryOperator: the old loop turns any return but 1 into -EIO.
          ret = -EIO;
          break;
        }
      }
    }
    k.put_page(src_page.at(0));
    return ret;
  },

  tdx_vcpu_init_mem_region(k, vcpu, cmd) {
    const kvm = KVM;
    const kvm_tdx = k.to_kvm_tdx(kvm);
    const tdx = k.to_tdx(vcpu);
    if (tdx.state !== 'VCPU_TD_STATE_INITIALIZED') return -EINVAL;
    return k.guard_mutex(kvm.slots_lock, () => {
      /* Once TD is finalized, the initial guest memory is fixed. */
      // Stryker disable next-line all: dead in the C too: tdx_vcpu_ioctl() refuses a runnable TD before.
      if (kvm_tdx.state === 'TD_STATE_RUNNABLE') return -EINVAL;
      if (cmd.flags & ~KVM_TDX_MEASURE_MEMORY_REGION) return -EINVAL;
      const region = k.copy_struct_from_user(cmd.data);
      const size = u64_shl(region.nr_pages, k.PAGE_SHIFT);
      if (!IS_ALIGNED(region.source_addr, k.PAGE_SIZE) || !IS_ALIGNED(region.gpa, k.PAGE_SIZE) ||
          !region.nr_pages || u64_add(region.gpa, size) <= region.gpa ||
          !k.vt_is_tdx_private_gpa(kvm, region.gpa) ||
          !k.vt_is_tdx_private_gpa(kvm, u64_sub(u64_add(region.gpa, size), 1n))) return -EINVAL;
      // kvm_mmu_reload(vcpu), its result ignored: the TD's root always exists in the model.
      let ret = 0;
      while (region.nr_pages) {
        // Stryker disable next-line BlockStatement: the signal stays pending and kvm_gmem_populate() checks it before its one page.
        if (k.signal_pending(current)) {
          ret = -EINTR;
          break;
        }
        const arg: TdxGmemPostPopulateArg = { tag: 'tdx_gmem_post_populate_arg', vcpu, flags: cmd.flags };
        const gmem_ret = k.kvm_gmem_populate(kvm, u64ToIndex(region.gpa, k.PAGE_SHIFT), region.source_addr, 1, k.tdx_gmem_post_populate, arg);
        // Stryker disable next-line EqualityOperator: kvm_gmem_populate() of one page returns 1 or -errno, never 0.
        if (gmem_ret < 0) {
          ret = gmem_ret;
          break;
        }
        if (gmem_ret !== 1) {
          ret = -EIO;
          break;
        }
        region.source_addr += k.PAGE_SIZE;
        region.gpa = u64_add(region.gpa, BigInt(k.PAGE_SIZE));
        region.nr_pages--;
        k.cond_resched();
      }
      if (k.copy_struct_to_user(cmd.data, region)) ret = -EFAULT;
      return ret;
    });
  },
};

export const v6_17: Revision = {
  id: 'v6.17',
  title: 'v6.16 .. v6.17 as released (TDX the same through v6.18): invalidate lock around the loop, SNP copies in the callback, TDX GUPs and re-faults through guest_memfd with nr_premapped and per-page pins',
  backends: ['snp', 'tdx'],
  cites: [
    'torvalds/linux:virt/kvm/guest_memfd.c@0f94e51b5320eacccc2626ab70b8d7e705332334 (with the v6.17 npages guard, before kvm-x86 5b66e335ead6)',
    'torvalds/linux:arch/x86/kvm/svm/sev.c@0097f9df996fe9c4a66a9f96a492391a8432affd',
    'kernelorg-mirror/virt_kvm_kvm:arch/x86/kvm/vmx/tdx.c@6249af4632166284e82033226a1679e38cb3e6e8',
    'https://lore.kernel.org/all/20251017003244.186495-5-seanjc@google.com/ (why v6.19 stopped re-entering guest_memfd)',
  ],
  fns: v617Fns,
};

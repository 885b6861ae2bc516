import type { Impl } from '../../kernel/bind.js';
import type { GmemArchHooks } from '../../kernel/guest_memfd.js';
import { hashBytes } from '../../world/hash.js';
import { TDX_EXTENDMR_CHUNKS_PER_PAGE } from '../../geometry.js';
import type { BackendModel } from '../Backend.js';
import type { FirmwareCommand } from '../firmwareCommand.js';
import { tdxOf } from './access.js';
import { TDH_MEM_PAGE_ADD } from './firmware/TDH_MEM_PAGE_ADD.js';
import { TDH_MEM_PAGE_REMOVE } from './firmware/TDH_MEM_PAGE_REMOVE.js';
import { TDH_MEM_RANGE_BLOCK } from './firmware/TDH_MEM_RANGE_BLOCK.js';
import { TDH_MEM_TRACK } from './firmware/TDH_MEM_TRACK.js';
import { TDH_PHYMEM_PAGE_WBINVD } from './firmware/TDH_PHYMEM_PAGE_WBINVD.js';
import { TDH_MR_EXTEND } from './firmware/TDH_MR_EXTEND.js';
import { TDH_MR_FINALIZE } from './firmware/TDH_MR_FINALIZE.js';
import { tdxServices } from './services.js';
import { createTdxState } from './state.js';
import { tdxCommon, type TdxK } from './tdx.js';
import { bindKernel } from '../../kernel/bind.js';
import { gmemCommon } from '../../kernel/guest_memfd.js';
import { inPlaceWhatIf } from '../../kernel/inplace_series.js';
import { kernelServiceGroups } from '../../kernel/Kernel.js';
import { kvmMain, type KvmMainK } from '../../kernel/kvm_main.js';
import { preFaultMemory, x86PreFaultMemory, type PreFaultMemoryFns } from '../../kernel/pre_fault_memory.js';
import { KVM } from '../../kernel/services/kvmcore.js';
import { KVM_TDX_MEASURE_MEMORY_REGION, tdxVcpu, type KvmTdxInitMemRegion } from './uapi.js';
import type { UserStructRef } from '../snp/uapi.js';
import { u64, u64AtMost } from '../../kernel/u64.js';

/** TDX's guest_memfd arch hooks: no folio-free hook; invalidation zaps the S-EPT. */
const tdxArchHooks: Impl<GmemArchHooks, TdxK & GmemArchHooks> = {
  kvm_arch_gmem_invalidate: () => undefined,
  kvm_mmu_unmap_gfn_range: (k, kvm, start, end) => k.tdx_zap_private_range(kvm, start, end),
  // arch/x86/kvm/x86.c (v6.18+): `!kvm_arch_has_private_mem(kvm)`, false for every VM modelled.
  kvm_arch_supports_gmem_init_shared: () => false,
};

/**
 * The region as userspace reads it back, as numbers: the gpa starts as one (below 2^53) and
 * moves only by the pages populated, so stays exact; a count past 2^53 (a wrapping nr_pages)
 * rounds, as the oracle's `fields` does with the same value, so the two still compare equal.
 */
function regionOut(r: KvmTdxInitMemRegion): Record<string, number> {
  return { source_addr: r.source_addr, gpa: Number(r.gpa), nr_pages: Number(r.nr_pages) };
}

export const tdxBackend: BackendModel = {
  id: 'tdx',
  title: 'Intel TDX (KVM_TDX_INIT_MEM_REGION)',
  createState: (scenario) => createTdxState(scenario.launch !== 'not_started', scenario.vcpus ?? 1),
  boot(w, revision) {
    const k = bindKernel<TdxK & KvmMainK & GmemArchHooks & PreFaultMemoryFns>(w, [...kernelServiceGroups(w), tdxServices(w)], [gmemCommon, kvmMain, preFaultMemory, x86PreFaultMemory, tdxCommon, tdxArchHooks, revision.fns, ...inPlaceWhatIf(w)]);
    return {
      k,
      runOp(op) {
        if (op.kind === 'tdx_init_mem_region') {
          const data: UserStructRef<KvmTdxInitMemRegion> = { tag: 'kvm_tdx_init_mem_region', value: { source_addr: op.source_addr, gpa: u64(op.gpa), nr_pages: op.nr_pages }, readOnly: op.arg_readonly === true };
          const ret = k.kvm_vcpu_ioctl(tdxVcpu(op.vcpu ?? 0), { id: 'KVM_TDX_INIT_MEM_REGION', flags: op.flags, data, hw_error: op.hw_error ?? 0 });
          // tdx.c writes the region back on every exit of its loop and a failed copy replaces the
          // loop's own result with -EFAULT, which is not kept: the count reads the region alone.
          const lost = data.lost === undefined ? {} : { lost: { ret, out: regionOut(data.lost) } };
          return { ret, out: regionOut(data.value), ...lost };
        }
        if (op.kind === 'tdx_init_vcpu') return { ret: k.kvm_vcpu_ioctl(tdxVcpu(op.vcpu ?? 0), { id: 'KVM_TDX_INIT_VCPU', flags: op.flags ?? 0, data: 0, hw_error: op.hw_error ?? 0 }), out: {} };
        if (op.kind === 'tdx_finalize_vm') return { ret: k.tdx_td_finalize(KVM), out: {} };
        return undefined;
      },
    };
  },
  firmware: [TDH_MEM_PAGE_ADD, TDH_MR_EXTEND, TDH_MR_FINALIZE, TDH_MEM_RANGE_BLOCK, TDH_MEM_TRACK, TDH_MEM_PAGE_REMOVE, TDH_PHYMEM_PAGE_WBINVD] as readonly FirmwareCommand<never, unknown>[],
  ops: ['tdx_init_vcpu', 'tdx_init_mem_region', 'tdx_finalize_vm'],
  populateRequest(op, { page_size: ps, nr_host_pages }) {
    if (op.kind !== 'tdx_init_mem_region') return undefined;
    return {
      gfn_start: Math.floor(op.gpa / ps),
      npages: u64AtMost(op.nr_pages, nr_host_pages),
      src: op.source_addr,
      flavour: (op.flags & KVM_TDX_MEASURE_MEMORY_REGION) !== 0 ? 'measured' : 'unmeasured',
      may_write_source: false,
    };
  },
  populatedCount(op, _ret, out, ps) {
    if (op.kind !== 'tdx_init_mem_region') return 0;
    return Math.max(0, Math.floor(((out.gpa ?? op.gpa) - op.gpa) / ps));
  },
  ownership(w, pfn) {
    const m = tdxOf(w).module;
    const gfn = m.pamt.get(pfn);
    if (gfn !== undefined) return { kind: 'guest', gpa: gfn * w.geo.page_size, state: 'TD private page' };
    return m.unflushed.has(pfn) ? { kind: 'firmware', state: 'removed from the TD, its cache lines under the TD\'s HKID not written back (TDH.PHYMEM.PAGE.WBINVD)' } : { kind: 'host' };
  },
  ownershipAt(w, pa) {
    return this.ownership(w, Math.floor(pa / w.geo.page_size));
  },
  measurement: (w) => tdxOf(w).module.mrtd,
  expectedMeasurement(req, gfn, source, w) {
    const ps = w.geo.page_size;
    const gpa = gfn * ps;
    const out = [{ what: 'MEM.PAGE.ADD', gpa, contents: '' }];
    if (req.flavour === 'measured') {
      const chunk = ps / TDX_EXTENDMR_CHUNKS_PER_PAGE;
      for (let off = 0; off < ps; off += chunk) out.push({ what: 'MR.EXTEND', gpa: gpa + off, contents: hashBytes(source.subarray(off, off + chunk)) });
    }
    return out;
  },
  leakedByDesign: () => [],
  mappedByKvm: (w, pfn) => [...tdxOf(w).mirror.values()].includes(pfn),
};

import type { Impl } from '../../kernel/bind.js';
import type { GmemArchHooks } from '../../kernel/guest_memfd.js';
import { hashBytes } from '../../world/hash.js';
import { TDX_EXTENDMR_CHUNKS_PER_PAGE } from '../../geometry.js';
import type { BackendModel } from '../Backend.js';
import type { FirmwareCommand } from '../firmwareCommand.js';
import { tdxOf } from './access.js';
import { TDH_MEM_PAGE_ADD } from './firmware/TDH_MEM_PAGE_ADD.js';
import { TDH_MEM_PAGE_REMOVE } from './firmware/TDH_MEM_PAGE_REMOVE.js';
import { TDH_MR_EXTEND } from './firmware/TDH_MR_EXTEND.js';
import { TDH_MR_FINALIZE } from './firmware/TDH_MR_FINALIZE.js';
import { tdxServices } from './services.js';
import { createTdxState } from './state.js';
import type { TdxK } from './tdx.js';
import { KVM_TDX_MEASURE_MEMORY_REGION } from './uapi.js';

/** TDX's guest_memfd arch hooks: no folio-free hook; invalidation zaps the S-EPT. */
const tdxArchHooks: Impl<GmemArchHooks, TdxK & GmemArchHooks> = {
  kvm_arch_gmem_invalidate: () => undefined,
  kvm_mmu_unmap_gfn_range: (k, kvm, start, end) => k.tdx_zap_private_range(kvm, start, end),
};

export const tdxBackend: BackendModel = {
  id: 'tdx',
  title: 'Intel TDX (KVM_TDX_INIT_MEM_REGION)',
  createState: createTdxState,
  services: tdxServices,
  archHooks: tdxArchHooks,
  firmware: [TDH_MEM_PAGE_ADD, TDH_MR_EXTEND, TDH_MR_FINALIZE, TDH_MEM_PAGE_REMOVE] as readonly FirmwareCommand<never, unknown>[],
  ops: ['tdx_init_mem_region', 'tdx_finalize_vm'],
  populateRequest(op, ps) {
    if (op.kind !== 'tdx_init_mem_region') return undefined;
    return {
      gfn_start: Math.floor(op.gpa / ps),
      npages: op.nr_pages,
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
    const gfn = tdxOf(w).module.pamt.get(pfn);
    return gfn === undefined ? { kind: 'host' } : { kind: 'guest', gpa: gfn * w.geo.page_size, state: 'TD private page' };
  },
  measurement: (w) => tdxOf(w).module.mrtd,
  expectedMeasurement(req, gfn, source, ps) {
    const gpa = gfn * ps;
    const out = [{ what: 'MEM.PAGE.ADD', gpa, contents: '' }];
    if (req.flavour === 'measured') {
      const chunk = ps / TDX_EXTENDMR_CHUNKS_PER_PAGE;
      for (let off = 0; off < ps; off += chunk) out.push({ what: 'MR.EXTEND', gpa: gpa + off, contents: hashBytes(source.subarray(off, off + chunk)) });
    }
    return out;
  },
  leakedByDesign: () => [],
};

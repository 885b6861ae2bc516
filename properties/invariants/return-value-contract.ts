import { defineInvariant } from '../Invariant.js';
import type { BackendModel, FwOwnership, PopulateRequest } from '../../model/backends/Backend.js';
import type { World } from '../../model/world/World.js';
import { hostPage } from '../../model/world/hostMemory.js';
import { hashBytes } from '../../model/world/hash.js';
import { gfnFolioPfn } from '../views.js';
import { kernelOutcome } from '../../model/scenario/runScenario.js';
import { u64Json, u64_sub_pages } from '../../model/kernel/u64.js';

/**
 * `return ret && !i ? ret : i;`: kvm_gmem_populate() reports the pages it populated, or an
 * error only when it populated none; the ioctls turn that into progress userspace resumes from
 * (SNP advances gfn_start/uaddr/len and returns 0, TDX writes back the region). So: reported
 * progress is consistent with the arguments; every page it covers is the guest's; the page that
 * failed is not left the guest's; and pages past it are untouched (ownership, measurement,
 * contents of folios that already existed).
 */
interface GfnState {
  readonly owner: FwOwnership;
  readonly contents: string | undefined;
}

export const returnValueContract = defineInvariant({
  id: 'return-value-contract',
  description: 'Require the reported progress to match what was populated, and pages past it to be untouched',
  cites: [
    'include/linux/kvm_host.h (kvm_gmem_populate kernel-doc: "Returns the number of pages that were populated")',
    'Documentation/virt/kvm/x86/amd-memory-encryption.rst (SNP_LAUNCH_UPDATE: remaining range written back)',
  ],
  observes: ['fw'],
  messages: {
    noProgress: '{ioctl} returned 0 without populating anything (userspace would retry forever)',
    progressMismatch: '{ioctl} wrote back {field}={got}, expected {want} for {count} populated page(s)',
    paramsOnError: '{ioctl} failed with {ret} but changed {field} from {before} to {got}',
    notPopulated: 'gfn {gfn} is reported populated but the firmware does not give it to the guest ({state})',
    failedPageKept: 'gfn {gfn}, the first page past the {count} reported, was given to the guest by this call and left so ({state})',
    pastCountTouched: 'gfn {gfn}, past the {count} reported page(s), changed: {what}',
    measuredPastCount: 'measurement grew by {got} entries, but {count} page(s) were reported',
  },
  create: () => {
    let req: PopulateRequest | undefined;
    let before = new Map<number, GfnState>();
    let measuredBefore = 0;
    // gfns the firmware handed to the guest during this ioctl. A gfn whose new folio reuses a
    // page the firmware never gave back (leaked-page's finding) is the guest's without a grant.
    const granted = new Set<number>();
    const stateOf = (w: World, backend: BackendModel, gfn: number): GfnState => {
      const pfn = gfnFolioPfn(w, gfn);
      const p = pfn === undefined ? undefined : hostPage(w.host, pfn);
      return { owner: pfn === undefined ? { kind: 'host' } : backend.ownership(w, pfn), contents: p === undefined ? undefined : hashBytes(p.data) };
    };
    return {
      opBegin(_i, op, w, backend) {
        req = backend.populateRequest(op, w.geo);
        before = new Map();
        granted.clear();
        measuredBefore = backend.measurement(w).length;
        if (req === undefined) return;
        for (let i = 0; i < req.npages; i++) before.set(req.gfn_start + i, stateOf(w, backend, req.gfn_start + i));
      },
      event(e, w) {
        if (e.kind === 'fw' && e.outcome.kind === 'succeeded' && e.grantGpa !== null) granted.add(Math.floor(e.grantGpa / w.geo.page_size));
      },
      opEnd(result, w, backend, report) {
        if (req === undefined || w.kvm.vm_bugged) return;
        const ps = w.geo.page_size;
        const op = result.op;
        // Where the copy back faulted, the struct the kernel wrote is checked, not what userspace kept.
        const done = kernelOutcome(result);
        const count = backend.populatedCount(op, done.ret, done.out, ps);
        if (op.kind === 'snp_launch_update') {
          const o = done.out;
          if (done.ret === 0) {
            // A zero length asks for nothing: done with nothing is both readings of S1.8 (v6.16/v6.17).
            if (count <= 0 && op.len > 0n) report('noProgress', { ioctl: 'KVM_SEV_SNP_LAUNCH_UPDATE' });
            // The u64 len as C leaves it, read back as a number (model/backends/snp/backend.ts).
            const want = Number(u64_sub_pages(op.len, count, ps));
            if (o.len !== want) report('progressMismatch', { ioctl: 'KVM_SEV_SNP_LAUNCH_UPDATE', field: 'len', got: o.len ?? -1, want, count });
          } else if (o.gfn_start !== undefined && (o.gfn_start !== Number(op.gfn_start) || o.len !== Number(op.len) || o.uaddr !== op.uaddr)) {
            report('paramsOnError', { ioctl: 'KVM_SEV_SNP_LAUNCH_UPDATE', ret: done.ret, field: 'gfn_start/len/uaddr', before: u64Json(op.gfn_start), got: o.gfn_start });
          }
        }
        if (op.kind === 'tdx_init_mem_region') {
          const o = done.out;
          if (done.ret === 0 && o.nr_pages !== undefined && o.nr_pages !== 0) report('progressMismatch', { ioctl: 'KVM_TDX_INIT_MEM_REGION', field: 'nr_pages', got: o.nr_pages, want: 0, count });
          // In place a NULL source stays NULL: v8 23/46 advances only a real one.
          const source = op.source_addr === 0 && w.kvm.gmem_in_place_conversion ? 0 : op.source_addr + count * ps;
          if (o.source_addr !== undefined && o.source_addr !== source) report('progressMismatch', { ioctl: 'KVM_TDX_INIT_MEM_REGION', field: 'source_addr', got: o.source_addr, want: source, count });
        }
        for (let i = 0; i < req.npages; i++) {
          const gfn = req.gfn_start + i;
          const now = stateOf(w, backend, gfn);
          const was = before.get(gfn);
          if (i < count) {
            if (now.owner.kind !== 'guest') report('notPopulated', { gfn, state: now.owner.kind === 'host' ? 'host-owned' : now.owner.state });
          } else if (i === count) {
            if (now.owner.kind === 'guest' && granted.has(gfn)) report('failedPageKept', { gfn, count, state: now.owner.state });
          } else if (was !== undefined) {
            if (now.owner.kind !== was.owner.kind && (now.owner.kind !== 'guest' || granted.has(gfn))) report('pastCountTouched', { gfn, count, what: `ownership ${was.owner.kind} -> ${now.owner.kind}` });
            else if (was.contents !== undefined && now.contents !== was.contents) report('pastCountTouched', { gfn, count, what: 'contents' });
          }
        }
        const grew = backend.measurement(w).length - measuredBefore;
        const per = count === 0 ? 0 : backend.expectedMeasurement(req, req.gfn_start, new Uint8Array(ps), w).length;
        if (grew > count * per) report('measuredPastCount', { got: grew, count });
      },
    };
  },
});

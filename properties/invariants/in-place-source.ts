import { defineInvariant } from '../Invariant.js';
import type { PopulateRequest } from '../../model/backends/Backend.js';
import { GUEST_MEMFD_FLAG_MMAP } from '../../model/kernel/guest_memfd.js';
import { hostPage } from '../../model/world/hostMemory.js';
import { provenanceText } from '../../model/world/provenance.js';
import { gfnFileIndex, gfnFolioPfn, populatesInPlace } from '../views.js';
import { VmmImage } from '../vmmImage.js';
import { kernelOutcome } from '../../model/scenario/runScenario.js';

/**
 * Populating in place (a NULL source under the in-place series) loads each page as the VMM's
 * mapping of the guest_memfd shows it (properties/vmmImage.ts): what the VMM wrote while the page
 * was shared, or zeros for a page it never faulted. Never stale memory: that is host data handed
 * to the guest and measured into its launch digest (B17, v7: __kvm_gmem_get_pfn() cleared nothing
 * until v8 21/46).
 * And only from a guest_memfd the VMM can map at all: without GUEST_MEMFD_FLAG_MMAP nothing it
 * wrote can be in the page, so a NULL source there can only be a mistake the kernel should refuse
 * (B19: Yan Zhao on v8 23/46, who proposed an explicit opt-in; Sean Christopherson held that the
 * contents are userspace's business, so this half is a reviewer's rule, not a documented one).
 * Populates from a user buffer are src-offset-straddling's.
 */
interface Pending {
  readonly req: PopulateRequest;
  readonly want: { readonly data: Uint8Array; readonly prov: Float64Array };
}

export const inPlaceSourceInvariant = defineInvariant({
  id: 'in-place-source',
  description: 'Require an in-place populate to load what the VMM\'s mapping shows (its writes, or zeros), from a guest_memfd it can map',
  cites: [
    'https://lore.kernel.org/all/20260618-gmem-inplace-conversion-v8-21-9d2959357853@google.com/ (21/46 "Zero page while getting pfn")',
    'https://lore.kernel.org/all/20260618-gmem-inplace-conversion-v8-23-9d2959357853@google.com/ (23/46; Yan Zhao\'s reply <ajjc0hw8PjGw69e9@yzhao56-desk.sh.intel.com>)',
  ],
  observes: ['folio'],
  messages: {
    stale: 'gfn {gfn} byte {byte}: populated in place with {got} where the VMM\'s page holds {want}',
    unmappable: '{ioctl} populated gfn {gfn} in place from guest_memfd {file}, created without GUEST_MEMFD_FLAG_MMAP: the VMM cannot have written it',
  },
  create: () => {
    let pending: Pending | undefined;
    const image = new VmmImage();
    return {
      opBegin(_i, op, w, backend) {
        const req = backend.populateRequest(op, w.geo);
        pending = req === undefined || !populatesInPlace(w, req) ? undefined : { req, want: image.expected(w, req.gfn_start, req.npages) };
      },
      event(e) {
        image.event(e);
      },
      opEnd(result, w, backend, report) {
        image.opEnd(result.op, w, backend);
        if (pending === undefined || w.kvm.vm_bugged) return;
        const { req, want } = pending;
        const ps = w.geo.page_size;
        const done = kernelOutcome(result);
        const count = backend.populatedCount(result.op, done.ret, done.out, ps);
        for (let i = 0; i < count; i++) {
          const gfn = req.gfn_start + i;
          const at = gfnFileIndex(w, gfn);
          const file = at === undefined ? undefined : w.gmem.files.get(at.file);
          if (at !== undefined && file !== undefined && (file.flags & GUEST_MEMFD_FLAG_MMAP) === 0) {
            report('unmappable', { ioctl: result.op.kind, gfn, file: at.file });
            return;
          }
          const dst = hostPage(w.host, gfnFolioPfn(w, gfn) ?? 0);
          if (dst === undefined) continue;
          for (let b = 0; b < ps; b++) {
            const got = dst.prov[b] ?? Number.NaN;
            const tag = want.prov[i * ps + b] ?? Number.NaN;
            if (got !== tag || dst.data[b] !== want.data[i * ps + b]) {
              report('stale', { gfn, byte: b, got: provenanceText(got), want: provenanceText(tag) });
              return;
            }
          }
        }
      },
    };
  },
});

import { defineInvariant } from '../Invariant.js';
import type { PopulateRequest } from '../../model/backends/Backend.js';
import type { MeasureEntry } from '../../model/world/events.js';
import { populatesInPlace, readUser } from '../views.js';
import { VmmImage } from '../vmmImage.js';
import { kernelOutcome } from '../../model/scenario/runScenario.js';

/**
 * The launch measurement (SNP launch digest, TDX MRTD) is a pure function of what was reported
 * populated: for each page, in order, the entries the firmware ABI defines for its GPA, type
 * and source contents (SNP: GPA and type for every page, contents only for NORMAL; TDX:
 * MEM.PAGE.ADD with the GPA, and with KVM_TDX_MEASURE_MEMORY_REGION one MR.EXTEND per 256-byte
 * chunk of the source). Nothing else may be measured, and a measured page must hold exactly the
 * source it was populated from, or attestation vouches for something else. A VM that KVM has
 * bugged is dead and exempt.
 */
export const measurement = defineInvariant({
  id: 'measurement',
  description: 'Require the launch measurement to be a pure function of the pages reported populated',
  cites: [
    'amd/AMD-ASPFW:fw/psp_bl_uapps/sev_uapp/src/sev_mcmd.c@3ca6650d (SNP_LAUNCH_UPDATE digest update)',
    'intel/tdx-module@1666adc4 (tdh_mem_page_add.c, tdh_mr_extend.c)',
  ],
  observes: ['folio'],
  messages: {
    mismatch: 'measurement entry {n} after {ioctl}: got {got}, expected {want}',
    extra: '{ioctl} appended {got} measurement entries for {count} populated page(s), expected {want}',
  },
  create: () => {
    let req: PopulateRequest | undefined;
    let source: Uint8Array = new Uint8Array(0);
    let start = 0;
    const image = new VmmImage();
    const text = (e: MeasureEntry | undefined): string => (e === undefined ? 'nothing' : `${e.what} gpa 0x${e.gpa.toString(16)}${e.contents === '' ? '' : ` #${e.contents}`}`);
    return {
      opBegin(_i, op, w, backend) {
        req = backend.populateRequest(op, w.geo);
        start = backend.measurement(w).length;
        // In place (in-place-source.ts) the source is the destination as the VMM's mapping shows it.
        source = req === undefined ? new Uint8Array(0)
          : populatesInPlace(w, req) ? image.expected(w, req.gfn_start, req.npages).data
          : req.src === 0 ? new Uint8Array(0) : readUser(w, req.src, req.npages * w.geo.page_size).data;
      },
      event(e) {
        image.event(e);
      },
      opEnd(result, w, backend, report) {
        image.opEnd(result.op, w, backend);
        if (w.kvm.vm_bugged) return;
        const ps = w.geo.page_size;
        const got = backend.measurement(w).slice(start);
        const ioctl = result.op.kind;
        if (req === undefined) {
          const allowed = [...(backend.otherMeasurement?.(result.op) ?? [])];
          const unexpected = got.filter((e) => {
            const i = allowed.findIndex((a) => a.what === e.what && a.gpa === e.gpa);
            if (i >= 0) allowed.splice(i, 1);
            return i < 0;
          });
          if (unexpected.length > 0) report('extra', { ioctl, got: got.length, count: 0, want: got.length - unexpected.length });
          return;
        }
        const done = kernelOutcome(result);
        const count = backend.populatedCount(result.op, done.ret, done.out, ps);
        const want: MeasureEntry[] = [];
        for (let i = 0; i < count; i++) {
          const bytes = source.length === 0 ? new Uint8Array(ps) : source.subarray(i * ps, (i + 1) * ps);
          want.push(...backend.expectedMeasurement(req, req.gfn_start + i, bytes, w));
        }
        for (let n = 0; n < Math.min(got.length, want.length); n++) {
          const g = got[n];
          const x = want[n];
          if (g === undefined || x === undefined || g.what !== x.what || g.gpa !== x.gpa || g.contents !== x.contents) {
            report('mismatch', { n: start + n, ioctl, got: text(g), want: text(x) });
            return;
          }
        }
        if (got.length !== want.length) report('extra', { ioctl, got: got.length, count, want: want.length });
      },
    };
  },
});

import { defineFirmwareCommand } from '../../firmwareCommand.js';
import { setRmp, snpOf } from '../access.js';
import { rmpEntry, rmpStateName, type RmpEntry } from '../state.js';

/**
 * RMPUPDATE, the instruction behind rmp_make_private()/rmp_make_shared()
 * (arch/x86/virt/svm/sev.c: rmpupdate() retries FAIL_OVERLAP and turns any other failure into
 * -EFAULT, torvalds/linux@0cbc0258). Status names are the APM's RMPUPDATE return codes.
 * (assumed) changing an immutable entry fails with FAIL_PERMISSION, as the APM describes.
 */
export interface RmpupdateArgs {
  readonly pfn: number;
  readonly next: RmpEntry;
}

export const RMPUPDATE = defineFirmwareCommand<RmpupdateArgs, void>({
  name: 'RMPUPDATE',
  spec: 'AMD64 APM vol. 3, RMPUPDATE',
  failures: [
    { id: 'rmp_immutable', status: 'FAIL_PERMISSION', when: (a, w) => rmpEntry(snpOf(w), a.pfn).immutable },
    { id: 'rmp_inuse', status: 'FAIL_INUSE' },
  ],
  success: (a, w) => setRmp(w, a.pfn, a.next),
  target: (a, w) => a.pfn * w.geo.page_size,
  grants: (a) => (a.next.assigned ? a.next.gpa : null),
  describe: (a) => `pfn 0x${a.pfn.toString(16)} -> ${rmpStateName(a.next)}`,
});

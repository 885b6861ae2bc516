import { expect } from 'vitest';
import { worldWellFormed } from '../../properties/invariants/world-well-formed.js';
import { GMEM, PS, initMemRegion, launchUpdate, scenario, setupOps } from '../model/fixtures.js';
import { invariantCases, mutant, rev } from './caseTable.js';

const S = setupOps();

invariantCases(worldWellFormed, {
  holds: [
    {
      name: 'a full SNP lifecycle: populate, punch the page out, close everything',
      revision: rev('kvm-x86-next'),
      scenario: scenario('snp', [
        ...S, launchUpdate({ npages: 2 }),
        { kind: 'punch_hole', guest_memfd: GMEM, offset: 0, len: 2 * PS, faults: [] },
        { kind: 'close_guest_memfd', guest_memfd: GMEM }, { kind: 'close_vm' },
      ]),
      check: (r) => {
        // Every guest_memfd page went back: only the 9 source pages are still allocated.
        expect(r.world.host.pages.filter((p) => p.owner.kind !== 'free').map((p) => p.owner.kind)).toEqual(Array<string>(9).fill('anon'));
        expect(r.world.kvm.destroyed).toBe(true);
        expect(r.world.freeList).toEqual([...r.world.freeList].sort((a, b) => a - b));
      },
    },
    {
      name: 'TDX populate then munmap of the source it pinned',
      revision: rev('kvm-x86-next-2025.11.07'),
      scenario: scenario('tdx', [...S, initMemRegion({ nr_pages: 2 }), { kind: 'munmap', addr: 0x40000, length: 9 * PS }]),
      check: (r) => expect(r.world.mm.vmas).toEqual([]),
    },
  ],
  violated: [
    {
      name: 'the SNP callback drops the source reference the caller drops again',
      revision: mutant('kvm-x86-next+double-put'),
      scenario: scenario('snp', [...S, launchUpdate()]),
      messageId: 'freeButHeld',
      opIndex: 4,
    },
  ],
});

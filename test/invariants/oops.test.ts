import { expect, test } from 'vitest';
import type { Revision } from '../../model/revisions/Revision.js';
import { oops } from '../../properties/invariants/oops.js';
import { blame, isRevisionFile, stackFrames } from '../../properties/crash.js';
import { initMemRegion, launchUpdate, scenario, setupOps } from '../model/fixtures.js';
import { invariantCases, mutant, rev } from './caseTable.js';

const S = setupOps();
const next = rev('kvm-x86-next');
/** A revision whose SNP ioctl handler throws, as a C NULL dereference would oops. */
const throwing: Revision = { ...next, id: 'throwing', fns: { ...next.fns, snp_launch_update: () => { throw new TypeError("Cannot read properties of null (reading 'npages')"); } } };

invariantCases(oops, {
  holds: [
    { name: 'a clean populate', revision: next, scenario: scenario('snp', [...S, launchUpdate()]) },
    { name: 'a populate that fails cleanly', revision: next, scenario: scenario('tdx', [initMemRegion()]), check: (r) => expect(r.crash).toBeUndefined() },
  ],
  violated: [
    {
      name: 'a NULL slot dereferenced before the check: TDX with no memslot at all',
      revision: mutant('kvm-x86-next+slot-before-null-check'),
      scenario: scenario('tdx', [initMemRegion()]),
      messageId: 'exception',
      opIndex: 0,
      check: (r) => {
        expect(r.crash?.crash).toMatchObject({ kind: 'exception', name: 'TypeError', site: 'kvm_gmem_populate' });
        // The trace keeps what ran before the crash, and the crash itself.
        expect(r.world.log.at(-1)?.kind).toBe('crash');
      },
    },
    {
      name: 'a throw in a revision written in a test file',
      revision: throwing,
      scenario: scenario('snp', [...S, launchUpdate(), launchUpdate()]),
      messageId: 'exception',
      opIndex: 4,
    },
  ],
});

test('blame: the first file frame decides, revision code is the revision\'s, model code is gmemcheck\'s', () => {
  const here = new URL(import.meta.url).pathname;
  const model = new URL('../../model/kernel/services/userStruct.ts', import.meta.url).pathname;
  const rfc = new URL('../../model/revisions/rfc-v1.ts', import.meta.url).pathname;
  expect(isRevisionFile(here)).toBe(true);
  expect(isRevisionFile(rfc)).toBe(true);
  expect(isRevisionFile(model)).toBe(false);
  expect(isRevisionFile(new URL('../../model/revisions/Revision.ts', import.meta.url).pathname)).toBe(false);
  expect(isRevisionFile('/home/me/patches/my-fix.ts')).toBe(true);
  const stack = `TypeError: x\n    at f (node:internal/x:1:2)\n    at g (${model}:10:5)\n    at h (file://${here}:20:3)`;
  expect(stackFrames(stack).map((f) => f.line)).toEqual([10, 20]);
  const b = blame({ kind: 'exception', name: 'TypeError', message: 'x', stack, site: 'f', kernelStack: ['f'] });
  expect(b).toMatchObject({ kind: 'model-error', at: { line: 10 }, revisionFrame: { line: 20 } });
  expect(blame({ kind: 'exception', name: 'Error', message: 'x', stack: `Error: x\n    at h (${here}:7:1)`, site: 'f', kernelStack: [] })).toMatchObject({ kind: 'oops', at: { line: 7 } });
});

import { expect, test } from 'vitest';
import type { Revision } from '../../model/revisions/Revision.js';
import { softLockup } from '../../properties/invariants/soft-lockup.js';
import { OP_WORK_LIMIT } from '../../model/world/lockup.js';
import { runScenario } from '../../model/scenario/runScenario.js';
import { launchUpdate, scenario, setupOps } from '../model/fixtures.js';
import { invariantCases, mutant, rev } from './caseTable.js';

const S = setupOps();
const next = rev('kvm-x86-next');
/** The loop of the issue report: lock, unlock, lock ... with nothing else. */
const spinning: Revision = {
  ...next,
  id: 'spinning',
  fns: {
    ...next.fns,
    snp_launch_update: (k: { filemap_invalidate_lock: (f: number) => void; filemap_invalidate_unlock: (f: number) => void }) => {
      for (;;) {
        k.filemap_invalidate_lock(1);
        k.filemap_invalidate_unlock(1);
      }
    },
  },
};

invariantCases(softLockup, {
  holds: [
    { name: 'the largest populate the generators make ends well inside the budget', revision: next, scenario: scenario('snp', [...S, launchUpdate({ npages: 4 })]), check: (r) => expect(r.world.log.length).toBeLessThan(OP_WORK_LIMIT / 20) },
  ],
  violated: [
    {
      name: 'a retry of a page whose error never goes away: populating a shared gfn',
      revision: mutant('kvm-x86-next+retry-until-populated'),
      scenario: scenario('snp', [...setupOps({ private: null }), launchUpdate()]),
      messageId: 'budget',
      opIndex: 3,
      check: (r) => expect(r.crash?.crash).toMatchObject({ kind: 'soft_lockup', site: '__kvm_gmem_populate' }),
    },
    {
      name: 'lock and unlock in a loop: the log stays bounded instead of growing to gigabytes',
      revision: spinning,
      scenario: scenario('snp', [...S, launchUpdate()]),
      messageId: 'budget',
      opIndex: 4,
      check: (r) => expect(r.world.log.length).toBeLessThan(OP_WORK_LIMIT + 1000),
    },
  ],
});

test('the budget is per operation: operations that each do most of it are no lockup together', () => {
  const busy: Revision = {
    ...next,
    id: 'busy',
    fns: {
      ...next.fns,
      snp_launch_update: (k: { filemap_invalidate_lock: (f: number) => void; filemap_invalidate_unlock: (f: number) => void }) => {
        for (let i = 0; i < OP_WORK_LIMIT * 0.3; i++) {
          k.filemap_invalidate_lock(1);
          k.filemap_invalidate_unlock(1);
        }
        return 0;
      },
    },
  };
  const r = runScenario(scenario('snp', [...S, launchUpdate(), launchUpdate(), launchUpdate()]), busy);
  expect(r.crash).toBeUndefined();
  expect(r.world.log.length).toBeGreaterThan(OP_WORK_LIMIT * 1.5);
});

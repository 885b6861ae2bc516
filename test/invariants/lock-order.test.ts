import { expect, test } from 'vitest';
import { lockOrder } from '../../properties/invariants/lock-order.js';
import type { Op } from '../../model/scenario/Scenario.js';
import type { Revision } from '../../model/revisions/Revision.js';
import type { BackendId, Scenario } from '../../model/scenario/Scenario.js';
import { GUEST_MEMFD_FLAG_MMAP } from '../../model/kernel/guest_memfd.js';
import { expectation } from '../../properties/matrix.js';
import { GMEM, allocate, initMemRegion, launchUpdate, memoryFailure, scenario, setupOps } from '../model/fixtures.js';
import { ccaScenario, ccaSetupOps, rmiPopulate } from '../model/ccaFixtures.js';
import { MF_DELAYED } from '../../model/kernel/guest_memfd.js';
import { expectMatrixViolated, invariantCases, rev } from './caseTable.js';

const S = setupOps({ gmemFlags: GUEST_MEMFD_FLAG_MMAP });

/** The in-place what-if's machine (model/whatIf.ts): the fault path takes the invalidate lock. */
const inPlace = (backend: BackendId, ops: readonly Op[]): Scenario => ({ ...scenario(backend, ops), inPlace: true });

/** kvm-x86-next with an SNP handler that nests two vCPU mutexes, annotated or not. */
function nesting(annotated: boolean): Revision {
  const next = rev('kvm-x86-next');
  type L = { mutex_lock: (l: string) => void; mutex_lock_nested: (l: string, s: number) => void; mutex_unlock: (l: string) => void };
  const snp_launch_update = (k: L) => {
    k.mutex_lock('vcpu0->mutex');
    if (annotated) k.mutex_lock_nested('vcpu1->mutex', 1);
    else k.mutex_lock('vcpu1->mutex');
    k.mutex_unlock('vcpu1->mutex');
    k.mutex_unlock('vcpu0->mutex');
    return 0;
  };
  return { ...next, id: annotated ? 'nested-annotated' : 'nested-plain', fns: { ...next.fns, snp_launch_update } };
}
const userFault: Op = { kind: 'gmem_user_fault', guest_memfd: GMEM, offset: 0 };

/**
 * v7.0 with a memory-failure handler that takes no lock under the folio lock: it only marks the
 * error and leaves the zap to a work item (a fix G29 could take; not a posted patch).
 */
function deferredErrorFolio(): Revision {
  const v70 = rev('v7.0');
  return { ...v70, id: 'v7.0-deferred-error-folio', derivedFrom: 'v7.0', fns: { ...v70.fns, kvm_gmem_error_folio: () => MF_DELAYED } };
}

test('the matrix expects G29 on every revision of every backend', () => {
  expectMatrixViolated('lock-order', 'snp', 'v7.0', 'cycleFolioLock');
  expectMatrixViolated('lock-order', 'tdx', 'kvm-x86-next', 'cycleFolioLock');
  expectMatrixViolated('lock-order', 'cca', 'rme-v9', 'cycleFolioLock');
});

test('the matrix expects B2 on kvm-x86-next-2025.11.07 for both backends, in the in-place what-if only', () => {
  expectMatrixViolated('lock-order', 'snp', 'kvm-x86-next-2025.11.07', 'cycle', 'in-place');
  expectMatrixViolated('lock-order', 'tdx', 'kvm-x86-next-2025.11.07', 'cycle', 'in-place');
  const plain = expectation('lock-order', 'snp', 'kvm-x86-next-2025.11.07');
  expect(plain.verdict === 'violated' ? plain.bugs.map((b) => b.id) : []).toEqual(['G29']);
});

invariantCases(lockOrder, {
  holds: [
    {
      name: 'rme-v9 populates through kvm_gmem_get_pfn() with no invalidate lock: the handler\'s edge alone closes no cycle',
      revision: rev('rme-v9'),
      scenario: ccaScenario([...ccaSetupOps({ slotPages: 2 }), rmiPopulate(), memoryFailure()]),
      check: (r) => expect(r.world.log.some((e) => e.kind === 'note' && e.text.includes('hardware-poisoned'))).toBe(true),
    },
    { name: 'a handler that takes no lock under the folio lock (the zap deferred)', revision: deferredErrorFolio(), scenario: scenario('snp', [...S, launchUpdate(), memoryFailure(), allocate()]) },
    {
      name: 'v7.0 pins the source before the invalidate lock, so the fault path closes no cycle',
      revision: rev('v7.0'),
      scenario: inPlace('snp', [...S, launchUpdate({ npages: 2 }), userFault]),
      // VM_FAULT_SIGBUS: SNP guest_memfd is never shared.
      check: (r) => expect(r.results[5]?.ret).toBe(2),
    },
    { name: 'rfc-v1 bulk GUP before the lock', revision: rev('rfc-v1'), scenario: inPlace('snp', [...S, launchUpdate({ npages: 3 }), userFault]) },
    { name: 'kvm-x86-next TDX: slots_lock, invalidate lock, then mmu_lock', revision: rev('kvm-x86-next'), scenario: inPlace('tdx', [...S, initMemRegion({ nr_pages: 2 }), userFault]) },
    { name: 'fault first, populate after: kvm-x86-next-2025.11.07 only has one direction', revision: rev('kvm-x86-next-2025.11.07'), scenario: inPlace('snp', [...S, userFault]) },
    {
      name: 'kvm-x86-next-2025.11.07 as merged: the v6.18 fault path is SIGBUS before any lock, so no cycle',
      revision: rev('kvm-x86-next-2025.11.07'),
      scenario: scenario('snp', [...S, launchUpdate(), userFault]),
      check: (r) => expect(r.results[5]?.ret).toBe(2),
    },
    {
      name: 'v6.17 as released: no guest_memfd of the VM can be created mmap()able (-EINVAL), so mmap() is -ENODEV and no fault reaches it',
      revision: rev('v6.17'),
      scenario: scenario('snp', [{ kind: 'create_guest_memfd', size: 4096n, flags: BigInt(GUEST_MEMFD_FLAG_MMAP) }, ...setupOps(), launchUpdate(), userFault]),
      check: (r) => expect([r.results[0]?.ret, r.results[6]?.ret]).toEqual([-22, -19]),
    },
    {
      name: 'two locks of one class nested with a subclass (mutex_lock_nested) are ordered',
      revision: nesting(true),
      scenario: scenario('snp', [...S, launchUpdate()]),
    },
  ],
  violated: [
    {
      name: 'G29: a populated page\'s memory error: the handler takes the invalidate lock under the folio lock populate took under it',
      revision: rev('v7.0'),
      scenario: scenario('snp', [...S, launchUpdate(), memoryFailure()]),
      messageId: 'cycleFolioLock',
      opIndex: 5,
    },
    {
      name: 'G29 on TDX, the old populate path',
      revision: rev('kvm-x86-next-2025.11.07'),
      scenario: scenario('tdx', [...S, initMemRegion(), memoryFailure()]),
      messageId: 'cycleFolioLock',
      opIndex: 5,
    },
    {
      name: 'G29 on rme-v9, whose populate takes no invalidate lock: the edge comes from fallocate()',
      revision: rev('rme-v9'),
      scenario: ccaScenario([...ccaSetupOps({ slotPages: 2 }), { kind: 'fallocate', guest_memfd: GMEM, mode: 1, offset: 0, len: 64, faults: [] }, memoryFailure()]),
      messageId: 'cycleFolioLock',
    },
    {
      name: 'G29 the other way round: the error first, fallocate() of the poisoned page after',
      revision: rev('rme-v9'),
      scenario: ccaScenario([...ccaSetupOps({ slotPages: 2 }), rmiPopulate(), memoryFailure(), { kind: 'fallocate', guest_memfd: GMEM, mode: 1, offset: 0, len: 64, faults: [] }]),
      messageId: 'cycleFolioLock',
    },
    {
      name: 'two locks of one class nested without an annotation: possible recursive locking',
      revision: nesting(false),
      scenario: scenario('snp', [...S, launchUpdate()]),
      messageId: 'recursiveClass',
      opIndex: 4,
    },
    {
      name: 'B2: kvm-x86-next-2025.11.07 SNP copy_from_user under the invalidate lock, then the mmap fault path',
      revision: rev('kvm-x86-next-2025.11.07'),
      scenario: inPlace('snp', [...S, launchUpdate(), userFault]),
      messageId: 'cycle',
      opIndex: 5,
    },
    {
      name: 'B2 in the other order: the fault path first, then kvm-x86-next-2025.11.07 populate',
      revision: rev('kvm-x86-next-2025.11.07'),
      scenario: inPlace('snp', [...S, userFault, launchUpdate()]),
      messageId: 'cycle',
      opIndex: 5,
    },
    {
      name: 'B2: kvm-x86-next-2025.11.07 TDX GUP inside the callback',
      revision: rev('kvm-x86-next-2025.11.07'),
      scenario: inPlace('tdx', [...S, initMemRegion(), userFault]),
      messageId: 'cycle',
      opIndex: 5,
    },
  ],
});

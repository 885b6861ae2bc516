import { expect, test } from 'vitest';
import { lockOrder } from '../../properties/invariants/lock-order.js';
import type { Op } from '../../model/scenario/Scenario.js';
import type { RunResult } from '../../model/scenario/runScenario.js';
import type { Revision } from '../../model/revisions/Revision.js';
import type { BackendId, Scenario } from '../../model/scenario/Scenario.js';
import { GUEST_MEMFD_FLAG_MMAP } from '../../model/kernel/guest_memfd.js';
import { expectation } from '../../properties/matrix.js';
import { GMEM, PS, SLOT_PAGES, allocate, initMemRegion, launchUpdate, memoryFailure, scenario, setupOps } from '../model/fixtures.js';
import { gmemUserAddress } from '../../model/world/userspaceMm.js';
import { ccaScenario, ccaSetupOps, rmiPopulate } from '../model/ccaFixtures.js';
import { MF_DELAYED } from '../../model/kernel/guest_memfd.js';
import { expectMatrixViolated, invariantCases, mutant, rev } from './caseTable.js';

const S = setupOps({ gmemFlags: GUEST_MEMFD_FLAG_MMAP });

/** The in-place what-if's machine (model/whatIf.ts): the fault path takes the invalidate lock. */
const inPlace = (backend: BackendId, ops: readonly Op[]): Scenario => ({ ...scenario(backend, ops), inPlace: true });

/** rme-v12's realm (two slot pages, an MMAP guest_memfd of three) populated from the file's last page, shared. */
function ccaFromMapping(touched: boolean): Scenario {
  const setup = ccaSetupOps({ slotPages: 2 }).map((o): Op => (o.kind === 'create_guest_memfd' ? { ...o, flags: BigInt(GUEST_MEMFD_FLAG_MMAP) } : o));
  return {
    ...ccaScenario([
      ...setup,
      { kind: 'gmem_convert', guest_memfd: GMEM, offset: 2 * PS, size: PS, to: 'shared' },
      ...(touched ? [{ kind: 'gmem_user_fault', guest_memfd: GMEM, offset: 2 * PS, write: true } as const] : []),
      rmiPopulate({ source_uaddr: gmemUserAddress(GMEM, 2, PS) }),
    ]),
    inPlace: true,
  };
}

/**
 * kvm-x86-next with an SNP handler that nests two vCPU mutexes: plainly, with a subclass
 * (mutex_lock_nested()), or with kvm->lock as nest_lock, held or not.
 */
function nesting(how: 'plain' | 'subclass' | 'nest' | 'nest-unheld'): Revision {
  const next = rev('kvm-x86-next');
  type L = { mutex_lock: (l: string) => void; mutex_lock_nested: (l: string, s: number) => void; mutex_lock_killable_nest_lock: (l: string, n: string) => number; mutex_unlock: (l: string) => void };
  const snp_launch_update = (k: L) => {
    // The SNP ioctl holds kvm->lock (sev_mem_enc_ioctl()); kvm->mmu_lock it does not.
    if (how === 'nest' || how === 'nest-unheld') {
      const nest = how === 'nest' ? 'kvm->lock' : 'kvm->mmu_lock';
      k.mutex_lock_killable_nest_lock('vcpu0->mutex', nest);
      k.mutex_lock_killable_nest_lock('vcpu1->mutex', nest);
    } else {
      k.mutex_lock('vcpu0->mutex');
      if (how === 'subclass') k.mutex_lock_nested('vcpu1->mutex', 1);
      else k.mutex_lock('vcpu1->mutex');
    }
    k.mutex_unlock('vcpu1->mutex');
    k.mutex_unlock('vcpu0->mutex');
    return 0;
  };
  return { ...next, id: `nested-${how}`, fns: { ...next.fns, snp_launch_update } };
}

/** A TD with a second vCPU: vCPU 1 initialized and populated through, then the TD finalized. */
const twoVcpuTd: Scenario = {
  ...scenario('tdx', [...setupOps(), { kind: 'tdx_init_vcpu', vcpu: 1 }, initMemRegion({ vcpu: 1 }), { kind: 'tdx_finalize_vm', faults: [] }]),
  vcpus: 2,
};
const userFault: Op = { kind: 'gmem_user_fault', guest_memfd: GMEM, offset: 0 };

/**
 * A populate of slot page 0 whose source is the VMM's own mapping of the guest_memfd: its last
 * page (index SLOT_PAGES, bound by no memslot), converted to shared, and touched first (a write
 * through the mapping: its PTE is there) or not (the populate's own access faults it in).
 */
function fromGmemMapping(backend: BackendId, touched: boolean): Op[] {
  const src = gmemUserAddress(GMEM, SLOT_PAGES, PS);
  return [
    { kind: 'gmem_convert', guest_memfd: GMEM, offset: SLOT_PAGES * PS, size: PS, to: 'shared' },
    ...(touched ? [{ kind: 'gmem_user_fault', guest_memfd: GMEM, offset: SLOT_PAGES * PS, write: true } as const] : []),
    backend === 'snp' ? launchUpdate({ uaddr: src }) : initMemRegion({ source_addr: src }),
  ];
}

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
    {
      // The VMM's write fault takes mmap_lock, then the invalidate lock: the order populate_region()
      // takes them in. A touched page needs no fault in the populate: nothing to report (kernel-facts'
      // B25 expected an AB-BA here).
      name: 'rme-v12 from a guest_memfd page the VMM touched first: mmap_lock before the invalidate lock on both paths',
      revision: rev('rme-v12'),
      scenario: ccaFromMapping(true),
      check: (r: { results: readonly { ret: number }[] }) => expect(r.results.at(-1)?.ret).toBe(PS),
    },
    ...(['snp', 'tdx'] as const).flatMap((backend) => [
      ...(['rfc-v1', 'v7.0', 'kvm-x86-next', 'inplace-v8'] as const).map((id) => ({
        name: `${backend}: a source in the guest_memfd mapping is faulted in before the invalidate lock`,
        revision: rev(id),
        scenario: inPlace(backend, [...S, ...fromGmemMapping(backend, false)]),
        check: (r: { results: readonly { ret: number }[] }) => expect(r.results.at(-1)?.ret).toBe(0),
      })),
      {
        name: `${backend}: a source page the VMM already touched is pinned with no fault`,
        revision: rev('v7.0'),
        scenario: inPlace(backend, [...S, ...fromGmemMapping(backend, true)]),
        check: (r: { results: readonly { ret: number }[] }) => expect(r.results.at(-1)?.ret).toBe(0),
      },
    ]),
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
      revision: nesting('subclass'),
      scenario: scenario('snp', [...S, launchUpdate()]),
    },
    {
      name: 'two locks of one class nested under their held nest_lock (kvm_lock_all_vcpus()) are ordered',
      revision: nesting('nest'),
      scenario: scenario('snp', [...S, launchUpdate()]),
    },
    ...(['kvm-x86-next', 'v6.17'] as const).map((id) => ({
      // The newest guard nests both vcpu->mutex under kvm->lock; v6.17 takes only the fd's own.
      name: `a TD with two vCPUs on ${id}: init, populate through vCPU 1, finalize`,
      revision: rev(id),
      scenario: twoVcpuTd,
      check: (r: RunResult) => expect(r.results.slice(-3).map((x) => x.ret)).toEqual([0, 0, 0]),
    })),
  ],
  violated: [
    {
      name: 'B2 in one thread on rme-v12: populate_region() holds mmap_lock, the callback\'s get_user_pages() faults the source in under the invalidate lock',
      revision: rev('rme-v12'),
      scenario: ccaFromMapping(false),
      messageId: 'recursive',
      opIndex: 6,
    },
    ...(['snp', 'tdx'] as const).flatMap((backend) => (['v6.17', 'kvm-x86-next-2025.11.07'] as const).map((id) => ({
      name: `B2 in one thread: ${backend} ${id}'s populate faults its source in from the guest_memfd mapping under the invalidate lock it holds`,
      revision: rev(id),
      scenario: inPlace(backend, [...S, ...fromGmemMapping(backend, false)]),
      messageId: 'recursive' as const,
      opIndex: 5,
      check: (r: { world: { log: readonly { kind: string; site?: string; action?: string; lock?: string }[] } }) => {
        // The fault's shared acquisition of the lock the populate holds exclusive.
        const rec = r.world.log.find((e) => e.kind === 'lock' && e.action === 'acquire' && e.lock === 'gmem1->invalidate_lock' && e.site === 'kvm_gmem_fault_user_mapping');
        expect(rec).toBeDefined();
      },
    }))),
    ...(['snp', 'tdx'] as const).map((backend) => ({
      // The touched page's PTE spares the populate a fault, but the VMM's write fault took
      // mmap_lock then the invalidate lock, and the old callback's access orders them the other way.
      name: `B2: ${backend} v6.17's populate from a guest_memfd page the VMM touched first: no fault in the populate, the two orders still meet`,
      revision: rev('v6.17'),
      scenario: inPlace(backend, [...S, ...fromGmemMapping(backend, true)]),
      messageId: 'cycle' as const,
      opIndex: 6,
    })),
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
      revision: nesting('plain'),
      scenario: scenario('snp', [...S, launchUpdate()]),
      messageId: 'recursiveClass',
      opIndex: 4,
    },
    {
      name: 'a nest_lock annotation naming a lock not held',
      revision: nesting('nest-unheld'),
      scenario: scenario('snp', [...S, launchUpdate()]),
      messageId: 'nestLockNotHeld',
      opIndex: 4,
    },
    {
      name: 'kvm_lock_all_vcpus() without its nest_lock, on a TD with two vCPUs',
      revision: mutant('kvm-x86-next+lock-all-vcpus-no-nest'),
      scenario: twoVcpuTd,
      messageId: 'recursiveClass',
      opIndex: setupOps().length,
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

import { describe, expect, test } from 'vitest';
import { minimizeScenario } from '../../properties/minimize.js';
import { runWithInvariant } from '../../properties/check.js';
import { refcountBalance } from '../../properties/invariants/refcount-balance.js';
import { memorySafety } from '../../properties/invariants/memory-safety.js';
import { warnReachable as warnReachableNever } from '../../properties/invariants/warn-reachable.js';
import type { Op, Scenario } from '../../model/scenario/Scenario.js';
import type { Revision } from '../../model/revisions/Revision.js';
import type { Invariant } from '../../properties/Invariant.js';
import { BASE_GFN, GEO, GMEM, PS, SLOT_PAGES, SRC, SRC2, allocate, initMemRegion, launchUpdate, memoryFailure, scenario, setupOps } from '../model/fixtures.js';
import { lockOrder } from '../../properties/invariants/lock-order.js';
import { leakedPage } from '../../properties/invariants/leaked-page.js';
import { asScenario, scenarioSchema } from '../../model/scenario/schema.js';
import { functionalSpec } from '../../properties/invariants/functional-spec.js';
import { keyOf } from '../../properties/signature.js';
import { KVM_SEV_SNP_PAGE_TYPE_CPUID, KVM_SEV_SNP_PAGE_TYPE_NORMAL, KVM_SEV_SNP_PAGE_TYPE_ZERO } from '../../model/backends/snp/uapi.js';
import { runScenario } from '../../model/scenario/runScenario.js';
import { KVM_MEMORY_ATTRIBUTE_PRIVATE } from '../../model/world/kvmState.js';
import { rev } from './caseTable.js';

const v611 = rev('kvm-x86-next-2025.11.07');

/** Minimize while the invariant still breaks, anywhere. */
function minimizeCounterexample(s: Scenario, revision: Revision, invariant: Invariant): Scenario {
  return minimizeScenario(s, (x) => runWithInvariant(x, revision, invariant).violations[0]?.opIndex);
}
/** B1 on kvm-x86-next-2025.11.07: the only thing that matters is a populate whose source cannot be copied. */
const B1_CORE: Op[] = setupOps({ holes: [0] }).slice(0, 3);
/** The same, with the memslot and the attribute range shrunk to the one page the populate needs. */
const B1_MIN: Op[] = B1_CORE.map(onePage);

/** A memslot or attribute range of the set-up cut to its first page. */
function onePage(op: Op): Op {
  return op.kind === 'set_memory_attributes' ? { ...op, size: PS } : op.kind === 'set_user_memory_region2' ? { ...op, memory_size: PS } : op;
}

describe('minimizeScenario()', () => {
  test('cuts what follows the failure and drops set-up the failure does not need', () => {
    const padded = scenario('snp', [
      ...setupOps({ holes: [0, 5] }),
      { kind: 'mmap', addr: SRC2, length: 2 * PS, prot: 'rw', holes: [] },
      { kind: 'set_memory_attributes', address: BASE_GFN * PS, size: PS, attributes: 8n, flags: 0n },
      launchUpdate(),
      { kind: 'punch_hole', guest_memfd: GMEM, offset: 0, len: PS, faults: [] },
      { kind: 'close_vm' },
    ], { 'sev_gmem_post_populate:x': 5 });
    const min = minimizeCounterexample(padded, v611, refcountBalance);
    // Without any mapping the source is unreadable all the same, so the mmap goes too.
    expect(min.ops).toEqual([...B1_MIN, launchUpdate()]);
    expect(min.ub).toEqual({ 'sev_gmem_post_populate:x': 0 });
    expect(runWithInvariant(min, v611, refcountBalance).violations[0]?.messageId).toBe('kmapLeaked');
  });

  test('shrinks a populate to the pages it needs, and drops faults that do not matter', () => {
    const s = scenario('snp', [...B1_CORE, launchUpdate({ faults: [{ kind: 'signal', nth: 9 }] })]);
    expect(minimizeCounterexample(s, v611, refcountBalance).ops).toEqual([...B1_MIN, launchUpdate()]);
    const long = scenario('snp', [...B1_CORE, launchUpdate({ npages: 4 })]);
    expect(minimizeCounterexample(long, v611, refcountBalance).ops.at(-1)).toEqual(launchUpdate({ npages: 1 }));
  });

  test('drops a fault once a smaller scenario fails without it, and shrinks a TDX region', () => {
    const rfc = rev('rfc-v1');
    const s = scenario('tdx', [...setupOps({ srcPages: 4 }), initMemRegion({ nr_pages: 3, faults: [{ kind: 'gup', nth: 1, result: 'efault' }] })]);
    const min = minimizeCounterexample(s, rfc, refcountBalance);
    // With the mapping gone GUP fails on its own, so the injected failure is not needed (B7 all the same).
    expect(min.ops).toEqual([...setupOps().slice(0, 2).map(onePage), initMemRegion({ nr_pages: 1 })]);
    expect(runWithInvariant(min, rfc, refcountBalance).violations[0]?.messageId).toBe('kmallocLeaked');
  });

  test('a source the failure does not need becomes NULL, its mapping goes, and the undefined value is zeroed', () => {
    // RFC v1 TDX indexes src_pages with an uninitialised i whether or not a source was pinned
    // (a NULL one hands the callback a NULL array), so the mapping is not needed: 4 operations.
    const s = scenario('tdx', [...setupOps({ srcPages: 3, holes: [2] }), initMemRegion()], { 'tdx_gmem_post_populate:i': 1 });
    const min = minimizeCounterexample(s, rev('rfc-v1'), memorySafety);
    expect(min.ops).toEqual([...setupOps().slice(0, 3).map(onePage), initMemRegion({ source_addr: 0 })]);
    expect(min.ub).toEqual({ 'tdx_gmem_post_populate:i': 0 });
  });

  test('returns a scenario that does not fail unchanged', () => {
    const s = scenario('snp', [...setupOps(), launchUpdate()]);
    expect(minimizeCounterexample(s, rev('kvm-x86-next'), refcountBalance)).toBe(s);
  });

  test('faults dropped earlier in the pass stay dropped when the length shrinks (finding F4)', () => {
    const s = scenario('snp', [...B1_CORE, launchUpdate({ npages: 3, faults: [{ kind: 'signal', nth: 9 }] })]);
    expect(minimizeCounterexample(s, v611, refcountBalance).ops.at(-1)).toEqual(launchUpdate());
  });

  test('keeps what the predicate asks for: a signature, not just any violation of the invariant', () => {
    // RFC v1 on a short pin leaks the array and the pinned pages: minimized for each, each stays.
    const rfc = rev('rfc-v1');
    const s = scenario('snp', [...setupOps({ srcPages: 3 }), launchUpdate({ npages: 2, faults: [{ kind: 'gup', nth: 1, result: 'short' }] })]);
    const keys = (x: Scenario) => runWithInvariant(x, rfc, refcountBalance).violations.map((v) => `${v.invariant}/${v.messageId}@${v.site}`);
    for (const key of ['refcount-balance/pinLeaked@kvm_gmem_populate', 'refcount-balance/kmallocLeaked@kvm_gmem_populate']) {
      const min = minimizeScenario(s, (x) => runWithInvariant(x, rfc, refcountBalance).violations.find((v) => `${v.invariant}/${v.messageId}@${v.site}` === key)?.opIndex);
      expect(keys(min)).toContain(key);
      expect(min.ops.length).toBeLessThan(s.ops.length);
    }
  });

  test('lowers a fault to the first call that still shows it, and reaches a fixpoint', () => {
    const s = scenario('snp', [...setupOps(), launchUpdate({ npages: 3, faults: [{ kind: 'fw', cmd: 'SNP_LAUNCH_UPDATE', condition: 'fw_resource', nth: 3 }] })]);
    const failsOnFwFailure = (x: Scenario) => (runWithInvariant(x, rev('kvm-x86-next'), warnReachableNever).violations.length >= 0 && x.ops.some((o) => o.kind === 'snp_launch_update' && o.faults.some((f) => f.kind === 'fw')) ? x.ops.length - 1 : undefined);
    const min = minimizeScenario(s, failsOnFwFailure);
    expect(min.ops).toHaveLength(1);
    expect(min.ops[0]).toMatchObject({ kind: 'snp_launch_update', len: BigInt(PS), faults: [{ nth: 1 }] });
    expect(minimizeScenario(min, failsOnFwFailure)).toEqual(min);
  });

  test('a smaller machine: fewer granules per page unless the failure needs them', () => {
    const on64K: Scenario = { ...scenario('cca', [{ kind: 'close_vm' }]), cca: { granules_per_page: 16, rtt_depth: 0 } };
    expect(minimizeScenario(on64K, () => 0).cca).toEqual({ granules_per_page: 1, rtt_depth: 0 });
    const needsSeveral = (x: Scenario): number | undefined => ((x.cca?.granules_per_page ?? 1) > 1 ? 0 : undefined);
    expect(minimizeScenario(on64K, needsSeveral).cca).toEqual({ granules_per_page: 4, rtt_depth: 0 });
  });

  test('a populate moved to where an earlier one wrote, when that is what the failure needs', () => {
    const twice = scenario('tdx', [...setupOps(), initMemRegion({ at: 0 }), initMemRegion({ at: 1 })]);
    // Fails while there are two populates: moving the second onto the first's gfn keeps it failing.
    const twoPopulates = (x: Scenario): number | undefined => {
      const at = x.ops.flatMap((o, i) => (o.kind === 'tdx_init_mem_region' ? [i] : []));
      return at.length >= 2 ? at[1] : undefined;
    };
    const min = minimizeScenario(twice, twoPopulates);
    const populates = min.ops.filter((o) => o.kind === 'tdx_init_mem_region');
    expect(populates).toHaveLength(2);
    expect(new Set(populates.map((o) => (o.kind === 'tdx_init_mem_region' ? o.gpa : -1))).size).toBe(1);
  });

  test('the source moves along with the destination when the failure needs them together (rme-v9\'s alias; seed 14)', () => {
    const twice = scenario('tdx', [...setupOps(), initMemRegion({ at: 0 }), initMemRegion({ at: 1 })]);
    // Fails while there are two populates and the last reads at its own offset from its
    // destination, as rme-v9's "the source is the slot's shared alias" requires.
    const first = twice.ops.find((o) => o.kind === 'tdx_init_mem_region');
    const second = twice.ops.filter((o) => o.kind === 'tdx_init_mem_region')[1];
    if (first?.kind !== 'tdx_init_mem_region' || second?.kind !== 'tdx_init_mem_region') throw new Error('two populates');
    const offset = second.source_addr - second.gpa;
    const aliasKept = (x: Scenario): number | undefined => {
      const at = x.ops.flatMap((o, i) => (o.kind === 'tdx_init_mem_region' ? [i] : []));
      const last = x.ops[at[at.length - 1] ?? -1];
      return at.length >= 2 && last?.kind === 'tdx_init_mem_region' && last.source_addr - last.gpa === offset ? at[1] : undefined;
    };
    const min = minimizeScenario(twice, aliasKept);
    const populates = min.ops.filter((o) => o.kind === 'tdx_init_mem_region');
    expect(populates.map((o) => (o.kind === 'tdx_init_mem_region' ? o.gpa : -1))).toEqual([first.gpa, first.gpa]);
    expect(populates.map((o) => (o.kind === 'tdx_init_mem_region' ? o.source_addr - o.gpa : -1))[1]).toBe(offset);
  });

  test('an SNP populate becomes a ZERO page, so the buffer only it read goes (paolo-v1 [hugepages] G22, seed 11)', () => {
    const cpuid = launchUpdate({ type: KVM_SEV_SNP_PAGE_TYPE_CPUID, faults: [{ kind: 'fw', cmd: 'SNP_LAUNCH_UPDATE', condition: 'cpuid_table', nth: 1 }] });
    // Fails while a populate's own firmware call fails, whatever the page type.
    const fwFails = (x: Scenario): number | undefined => {
      const i = x.ops.findIndex((o) => o.kind === 'snp_launch_update' && o.faults.some((f) => f.kind === 'fw' && f.cmd === 'SNP_LAUNCH_UPDATE'));
      return i < 0 ? undefined : i;
    };
    const min = minimizeScenario(scenario('snp', [...setupOps(), cpuid]), fwFails);
    expect(min.ops.some((o) => o.kind === 'mmap')).toBe(false);
    expect(min.ops.at(-1)).toMatchObject({ type: KVM_SEV_SNP_PAGE_TYPE_ZERO, uaddr: 0, faults: [{ condition: 'fw_resource', nth: 1 }] });
    // A failure that needs the CPUID page keeps it, its source and its fault.
    const needsCpuid = (x: Scenario): number | undefined => (x.ops.some((o) => o.kind === 'snp_launch_update' && o.type === KVM_SEV_SNP_PAGE_TYPE_CPUID) ? fwFails(x) : undefined);
    expect(minimizeScenario(scenario('snp', [...setupOps(), cpuid]), needsCpuid).ops.at(-1)).toMatchObject({ type: KVM_SEV_SNP_PAGE_TYPE_CPUID, faults: [{ condition: 'cpuid_table' }] });
  });

  test('two adjacent memslots of two guest_memfds become one (paolo-v1 G21, seed 10: 9 operations, 6)', () => {
    const [gmem, slot, attributes, mmap] = setupOps({ slotPages: 2 });
    if (slot?.kind !== 'set_user_memory_region2' || gmem === undefined || attributes === undefined || mmap === undefined) throw new Error('set-up');
    const neighbour: Op[] = [
      { kind: 'create_guest_memfd', size: BigInt(2 * PS), flags: 0n },
      { ...slot, slot: 1, guest_phys_addr: slot.guest_phys_addr + 2 * PS, guest_memfd: 2, guest_memfd_offset: 0n },
      { kind: 'set_memory_attributes', address: slot.guest_phys_addr + 2 * PS, size: PS, attributes: BigInt(KVM_MEMORY_ATTRIBUTE_PRIVATE), flags: 0n },
    ];
    const s = scenario('snp', [gmem, slot, attributes, mmap, ...neighbour, launchUpdate({ at: 1 }), launchUpdate({ at: 2 })]);
    const v70 = rev('v7.0');
    // Fails while a page of each slot's range is populated (G21's wrong byte needs two populates
    // next to each other): dropping either slot ends it, one slot over both does not.
    const bothPopulated = (x: Scenario): number | undefined => {
      const r = runScenario(x, v70);
      const at = x.ops.flatMap((o, i) => (o.kind === 'snp_launch_update' && r.results[i]?.ret === 0 ? [o.gfn_start] : []));
      return at.includes(BigInt(BASE_GFN + 1)) && at.includes(BigInt(BASE_GFN + 2)) ? x.ops.length - 1 : undefined;
    };
    expect(bothPopulated(s)).toBe(8);
    const min = minimizeScenario(s, bothPopulated);
    // One slot over both pages: the file grown to 4 pages, the memslot cut to the 3 it needs.
    expect(min.ops.filter((o) => o.kind === 'set_user_memory_region2')).toEqual([{ ...slot, memory_size: 3 * PS }]);
    expect(min.ops.filter((o) => o.kind === 'create_guest_memfd')).toEqual([{ ...gmem, size: BigInt(4 * PS) }]);
    expect(min.ops.length).toBeLessThan(s.ops.length);
  });

  test('a source aligned to its page, so the second mapping an unaligned one read goes (snp/rfc-v1 G2 through G30\'s generator: 6 operations, 5)', () => {
    const rw: Op = { kind: 'mmap', addr: SRC, length: PS, prot: 'rw', holes: [] };
    const ro: Op = { kind: 'mmap', addr: SRC + PS, length: PS, prot: 'ro', holes: [] };
    const s = scenario('snp', [...setupOps().slice(0, 3).map(onePage), rw, ro, launchUpdate({ uaddr: SRC + 3 })]);
    // "Fails" while the populate reads a mapped source, as G2's write-back needs.
    const readsMapped = (x: Scenario) => {
      const op = x.ops.at(-1);
      if (op?.kind !== 'snp_launch_update') return undefined;
      const maps = x.ops.filter((o) => o.kind === 'mmap');
      const mapped = (a: number) => maps.some((m) => a >= m.addr && a < m.addr + m.length);
      return mapped(op.uaddr) && mapped(op.uaddr + PS - 1) ? x.ops.length - 1 : undefined;
    };
    const min = minimizeScenario(s, readsMapped);
    expect(min.ops.at(-1)).toMatchObject({ uaddr: SRC });
    expect(min.ops).not.toContainEqual(ro);
  });

  test('order-0 folios before huge ones, then a PMD-order folio before a PUD-order one, as far as the failure allows (paolo-v1 [hugepages], seed 10: 17 pages, 2)', () => {
    const pud: Scenario = { ...scenario('snp', [{ kind: 'close_vm' }]), hugepages: { order: 2 * GEO.pmd_order } };
    // A failure that needs no huge folio loses the what-if (the campaign's G30 kept it).
    expect(minimizeScenario(pud, () => 0).hugepages).toBeUndefined();
    expect(minimizeScenario(pud, (x) => (x.hugepages !== undefined ? 0 : undefined)).hugepages).toEqual({ order: GEO.pmd_order });
    expect(minimizeScenario(pud, (x) => ((x.hugepages?.order ?? 0) > GEO.pmd_order ? 0 : undefined)).hugepages).toEqual({ order: 2 * GEO.pmd_order });
  });

  test('the usual launch before a late one: the start op goes with it (paolo-v1 [in-place] G28, seed 8: 6 operations, 5)', () => {
    const paolo = rev('paolo-v1');
    const late: Scenario = {
      ...scenario('snp', [...setupOps().slice(0, 3), { kind: 'snp_launch_start' }, allocate({ npages: SLOT_PAGES }), launchUpdate({ type: 3, uaddr: 0, npages: 2 })]),
      launch: 'not_started',
    };
    const key = 'functional-spec/wrongErrno[S1.1]@snp_launch_update';
    const min = minimizeScenario(late, (x) => runWithInvariant(x, paolo, functionalSpec).violations.find((v) => keyOf(v) === key)?.opIndex);
    expect(min.launch).toBeUndefined();
    expect(min.ops.map((op) => op.kind)).toEqual(['create_guest_memfd', 'set_user_memory_region2', 'set_memory_attributes', 'fallocate', 'snp_launch_update']);
  });

  test('a memslot cut so that a populate past its end asks for fewer pages (snp/paolo-v1 G28 S1.3, suite seed: 4 pages, 2)', () => {
    const s = scenario('snp', [...setupOps({ slotPages: 3 }).slice(0, 3), allocate(), launchUpdate({ type: 3, uaddr: 0, npages: 4 })]);
    const key = 'functional-spec/wrongErrno[S1.3]@snp_launch_update';
    const min = minimizeScenario(s, (x) => runWithInvariant(x, rev('paolo-v1'), functionalSpec).violations.find((v) => keyOf(v) === key)?.opIndex);
    expect(min.ops.find((op) => op.kind === 'set_user_memory_region2')).toMatchObject({ memory_size: PS });
    expect(min.ops.at(-1)).toMatchObject({ kind: 'snp_launch_update', len: BigInt(2 * PS) });
  });

  test('a CCA populate without its first pages, when the page that matters is a later one (cca/rme-v9 [4k-guard-lifted] G15, seed 2: 3 pages, 2)', () => {
    const s = asScenario(scenarioSchema.parse({
      backend: 'cca', geometry: { page_size: 32, pmd_order: 2, nr_host_pages: 192 }, ub: {}, cca: { granules_per_page: 4, rtt_depth: 3 },
      ops: [
        { kind: 'create_guest_memfd', size: 224, flags: 0 },
        { kind: 'set_user_memory_region2', slot: 0, flags: 4, guest_phys_addr: 512, memory_size: 64, userspace_addr: 262144, guest_memfd: 1, guest_memfd_offset: 32 },
        { kind: 'mmap', addr: 262144, length: 64, prot: 'rw', holes: [] },
        { kind: 'arm_realm_create', faults: [] },
        { kind: 'arm_rmi_populate', base: 544, size: 32, source_uaddr: 262176, flags: 1, reserved: 0, faults: [{ kind: 'fw', cmd: 'RMI_DATA_CREATE', condition: 'src_copy', nth: 1, unit: 3 }, { kind: 'fw', cmd: 'RMI_DATA_DESTROY', condition: 'rmm_defect', nth: 1, unit: 0 }] },
        { kind: 'arm_rmi_populate', base: 512, size: 64, source_uaddr: 262144, flags: 1, reserved: 0, faults: [] },
        { kind: 'close_guest_memfd', guest_memfd: 1, faults: [] },
      ],
    }));
    const key = 'leaked-page/heldBack@realm_create_protected_data_page';
    const min = minimizeScenario(s, (x) => runWithInvariant(x, rev('rme-v9'), leakedPage).violations.find((v) => keyOf(v) === key)?.opIndex);
    expect(min.ops.filter((op) => op.kind === 'arm_rmi_populate').map((op) => (op.kind === 'arm_rmi_populate' ? op.size : 0n))).toEqual([32n, 32n]);
  });

  test('a fallocate() to the one page a memory error hits (G29: the whole file, then one page)', () => {
    const s = scenario('snp', [setupOps()[0] ?? allocate(), allocate({ npages: SLOT_PAGES }), memoryFailure(3)]);
    const min = minimizeCounterexample(s, rev('v7.0'), lockOrder);
    expect(min.ops.find((op) => op.kind === 'fallocate')).toMatchObject({ offset: 3 * PS, len: PS });
  });

  test('an unused guest_memfd goes, the files after it renumbered (snp/rfc-v1 G2, seed 29: 6 operations, 5)', () => {
    const [gmem, slot, ...rest] = setupOps();
    if (gmem === undefined || slot?.kind !== 'set_user_memory_region2') throw new Error('set-up');
    const s = scenario('snp', [{ kind: 'create_guest_memfd', size: BigInt(2 * PS), flags: 0n }, gmem, { ...slot, guest_memfd: 2 }, ...rest, launchUpdate()]);
    const v70 = rev('v7.0');
    const populated = (x: Scenario): number | undefined => (runScenario(x, v70).results[x.ops.length - 1]?.ret === 0 ? x.ops.length - 1 : undefined);
    const min = minimizeScenario(s, populated);
    expect(min.ops.filter((o) => o.kind === 'create_guest_memfd')).toEqual([gmem]);
    expect(min.ops.find((o) => o.kind === 'set_user_memory_region2')).toEqual({ ...slot, memory_size: PS });
  });

  test('a source made unreadable by a munmap() moves to a page nobody maps, and the munmap goes (paolo-v1 G21, seed 30: 7 operations, 6)', () => {
    // B1 on the second populate (its source cannot be read) after a first that loads a NORMAL
    // page from the mapping: the mapping stays for the first, the munmap only served the second.
    const s = scenario('snp', [...setupOps(), launchUpdate({ at: 1 }), { kind: 'munmap', addr: SRC, length: PS }, launchUpdate()]);
    const firstLoadedThenB1 = (x: Scenario): number | undefined => {
      const r = runWithInvariant(x, v611, refcountBalance);
      const first = x.ops.findIndex((o) => o.kind === 'snp_launch_update');
      const loaded = x.ops[first]?.kind === 'snp_launch_update' && x.ops[first].type === KVM_SEV_SNP_PAGE_TYPE_NORMAL && r.result.results[first]?.ret === 0;
      return loaded ? r.violations.find((v) => v.messageId === 'kmapLeaked' && v.opIndex > first)?.opIndex : undefined;
    };
    expect(firstLoadedThenB1(s)).toBe(s.ops.length - 1);
    const min = minimizeScenario(s, firstLoadedThenB1);
    expect(min.ops.some((o) => o.kind === 'munmap')).toBe(false);
    expect(min.ops.filter((o) => o.kind === 'snp_launch_update').map((o) => (o.kind === 'snp_launch_update' ? o.uaddr : -1))).toEqual([SRC, SRC + 2 * PS]);
  });

  test('a populate becomes fallocate() of its first page, and the memslot, attributes and source go (G29 on v7.0: 6 operations, 3)', () => {
    // The lock cycle needs only a folio in the page the memory error hits: fallocate() makes one
    // with no memslot, attributes or source (the minimizer alone kept the populate's set-up).
    const s = scenario('snp', [...setupOps(), launchUpdate({ at: 2 }), memoryFailure(2)]);
    const min = minimizeCounterexample(s, rev('v7.0'), lockOrder);
    expect(min.ops.map((o) => o.kind)).toEqual(['create_guest_memfd', 'fallocate', 'memory_failure']);
    expect(min.ops[1]).toMatchObject({ offset: 2 * PS, len: PS });
    // A failure that needs the populate keeps it.
    const needsPopulate = (x: Scenario): number | undefined => (x.ops.some((o) => o.kind === 'snp_launch_update') ? runWithInvariant(x, rev('v7.0'), lockOrder).violations[0]?.opIndex : undefined);
    expect(minimizeScenario(s, needsPopulate).ops.some((o) => o.kind === 'snp_launch_update')).toBe(true);
  });

  test('two attribute calls with the same attributes become one over both (snp/v6.17 [hugepages] B1\'s consequence: 7 operations, 6)', () => {
    const second: Op = { kind: 'set_memory_attributes', address: (BASE_GFN + 1) * PS, size: PS, attributes: BigInt(KVM_MEMORY_ATTRIBUTE_PRIVATE), flags: 0n };
    const s = scenario('snp', [...setupOps({ private: [0, 1] }), second, launchUpdate({ npages: 2 })]);
    // "Fails" while a two-page populate loads both pages (len written back as 0), so both must
    // be private.
    const bothLoaded = (x: Scenario): number | undefined => {
      const at = x.ops.findIndex((o) => o.kind === 'snp_launch_update' && o.len === BigInt(2 * PS));
      const r = at < 0 ? undefined : runScenario(x, v611).results[at];
      return r?.ret === 0 && r.out.len === 0 ? at : undefined;
    };
    expect(bothLoaded(s)).toBe(5);
    const min = minimizeScenario(s, bothLoaded);
    expect(min.ops.filter((o) => o.kind === 'set_memory_attributes')).toEqual([{ kind: 'set_memory_attributes', address: BASE_GFN * PS, size: 2 * PS, attributes: BigInt(KVM_MEMORY_ATTRIBUTE_PRIVATE), flags: 0n }]);
    // Calls with different attributes are not made one (a failure that needs a private page and
    // a shared one keeps both calls).
    const other = scenario('snp', [...setupOps({ private: [0, 1] }), { ...second, attributes: 0n }]);
    const attrs = (x: Scenario) => x.ops.flatMap((o) => (o.kind === 'set_memory_attributes' ? [o.attributes] : []));
    const both = (x: Scenario): number | undefined => (attrs(x).includes(0n) && attrs(x).includes(BigInt(KVM_MEMORY_ATTRIBUTE_PRIVATE)) ? x.ops.length - 1 : undefined);
    expect(attrs(minimizeScenario(other, both))).toEqual([BigInt(KVM_MEMORY_ATTRIBUTE_PRIVATE), 0n]);
    // Nor are ranges apart: their span would be a larger scenario (one 2^52 bytes away spans 2^46 pages).
    const far: Op = { ...second, address: 2 ** 52 };
    const apart = scenario('snp', [...setupOps({ private: [0, 1] }), far]);
    const covers = (x: Scenario, gpa: number) => x.ops.some((o) => o.kind === 'set_memory_attributes' && gpa >= o.address && gpa < o.address + o.size);
    const bothCovered = (x: Scenario): number | undefined => (covers(x, BASE_GFN * PS) && covers(x, 2 ** 52) ? x.ops.length - 1 : undefined);
    expect(bothCovered(apart)).toBeDefined();
    expect(attrs(minimizeScenario(apart, bothCovered))).toHaveLength(2);
  });
});

import { rangeHas } from '../../properties/oracle/generic.js';
import { describe, expect, test } from 'vitest';
import { backendById } from '../../model/backends/registry.js';
import { KVM_SEV_SNP_PAGE_TYPE_CPUID, KVM_SEV_SNP_PAGE_TYPE_ZERO } from '../../model/backends/snp/uapi.js';
import { TDX_SHARED_BIT } from '../../model/backends/tdx/uapi.js';
import { EBUSY, EEXIST, EFAULT, EHWPOISON, EINTR, EINVAL, EIO, ENOMEM, ENOSPC, ENXIO, EOPNOTSUPP, EPERM } from '../../model/kernel/errno.js';
import { gmemCreateV618 } from '../../model/kernel/guest_memfd_create.js';
import { MUTANTS } from '../../model/revisions/mutants.js';
import { REVISIONS } from '../../model/revisions/registry.js';
import { runScenario, type RunResult } from '../../model/scenario/runScenario.js';
import type { BackendId, Op, Scenario } from '../../model/scenario/Scenario.js';
import { KVM_MEMORY_ATTRIBUTE_PRIVATE, KVM_MEM_GUEST_MEMFD } from '../../model/world/kvmState.js';
import { runWithInvariant } from '../../properties/check.js';
import { judge } from '../../properties/explore.js';
import { functionalSpec } from '../../properties/invariants/functional-spec.js';
import { ALL_ROWS, ARM_UAPI_GENERATION, GENERATIONS, SPECS, generationOf, gmemApiOf, predictGeneric, type Generation } from '../../properties/oracle/index.js';
import type { Prediction } from '../../properties/oracle/spec.js';
import type { Revision } from '../../model/revisions/Revision.js';
import { rfc_v1, rfcV1Fns } from '../../model/revisions/rfc-v1.js';
import { BASE_GFN as G, GMEM, PS, SLOT_PAGES, SRC, allocate, folioPfn, initMemRegion, launchUpdate, memoryFailure, scenario, setupOps } from '../model/fixtures.js';
import { folioOf } from '../../model/kernel/services/filemap.js';
import { hostPage } from '../../model/world/hostMemory.js';
import { ccaScenario, ccaSetupOps, fw, punchPage, rmiPopulate } from '../model/ccaFixtures.js';
import { expectMatrixViolated, invariantCases, mutant, rev } from './caseTable.js';

/**
 * The functional oracle. The case table holds it to every built-in revision across the documented
 * conditions (a row per condition and generation), shows the injected bugs only it catches, and
 * pins the real departures the matrix expects. The unit tests below check the specification
 * itself: each row's condition, in a world a set-up built, predicts the row's result.
 */
const S = setupOps();
const C = ccaSetupOps({ slotPages: 2 });
const finish: Op = { kind: 'snp_launch_finish', faults: [] };
const finalize: Op = { kind: 'tdx_finalize_vm', faults: [] };
const activate: Op = { kind: 'arm_realm_activate', faults: [] };
/** The first page shared, then private again: a conversion each way. */
const roundTrip: Op[] = [0n, BigInt(KVM_MEMORY_ATTRIBUTE_PRIVATE)].map((attributes): Op => ({ kind: 'set_memory_attributes', address: G * PS, size: PS, attributes, flags: 0n }));
/** The CCA set-up with the shared alias of page 1 unmapped (only page 0 of the source mapped). */
const C1 = C.map((op) => (op.kind === 'mmap' ? { ...op, length: PS } : op));
/** C with its guest_memfd created INIT_SHARED | MMAP: every index starts shared (rmi-newest takes it on a realm). */
const CS = C.map((op) => (op.kind === 'create_guest_memfd' ? { ...op, flags: 3n } : op));
/** KVM_ARM_RMI_POPULATE of page 0 from its alias, with fields overridden. */
/** A page-aligned `__u64 size` with which base + size wraps past 2^64 (a syscall fuzzer's value). */
const WRAP = (1n << 64n) - BigInt(PS);
const armOp = (o: Partial<Omit<Extract<Op, { kind: 'arm_rmi_populate' }>, 'kind'>>): Op => ({ kind: 'arm_rmi_populate', base: G * PS, size: BigInt(PS), source_uaddr: SRC, flags: 1, reserved: 0, faults: [], ...o });
const last = (r: { results: readonly { ret: number; out: Readonly<Record<string, number>> }[] }) => r.results[r.results.length - 1];

test('the matrix expects the departures: G3 on v7.0, B3 on TDX rfc-v1, G9 on rme-v9, G10 on rme-v12 with the 4K guard lifted', () => {
  expectMatrixViolated('functional-spec', 'snp', 'v7.0', 'wrongErrno');
  expectMatrixViolated('functional-spec', 'tdx', 'rfc-v1', 'wrongErrno');
  expectMatrixViolated('functional-spec', 'cca', 'rme-v9', 'touchedPastCount');
  expectMatrixViolated('functional-spec', 'cca', 'rme-v12', 'touchedPastCount', '4k-guard-lifted');
});

invariantCases(functionalSpec, {
  holds: [
    // SEV-SNP, S2 (v7.0 text, newest code) and S1.
    { name: 'S1.1: the whole range, written back', revision: rev('kvm-x86-next'), scenario: scenario('snp', [...S, launchUpdate({ npages: 3 })]), check: (r) => expect(last(r)).toMatchObject({ ret: 0, out: { gfn_start: G + 3, uaddr: SRC + 3 * PS, len: 0, error: 0 } }) },
    { name: 'S1.1 on S1', revision: rev('kvm-x86-next-2025.11.07'), scenario: scenario('snp', [...S, launchUpdate({ npages: 3 })]) },
    // S1.19, S2.10, T.16, RN.12: the struct in a read-only mapping. The pages are loaded, the call
    // says -EFAULT, userspace keeps the struct it passed; the progress is judged from what the kernel wrote.
    ...['v6.17', 'v7.0', 'kvm-x86-next', 'kvm-x86-next-2025.11.07', 'rfc-v1', 'paolo-v1', 'roth-v2', 'roth-v3-posted'].flatMap((id) => [
      { name: `S1.19/S2.10 on ${id}: copy back faults after 2 pages`, revision: rev(id), scenario: scenario('snp', [...S, launchUpdate({ npages: 2, arg_readonly: true })]), check: (r: RunResult) => expect(last(r)).toMatchObject({ ret: -EFAULT, out: { gfn_start: G, len: 2 * PS }, lost: { ret: 0, out: { gfn_start: G + 2, len: 0 } } }) },
      ...(rev(id).backends.includes('tdx') ? [{ name: `T.16 on ${id}: copy back faults after 1 of 2 pages`, revision: rev(id), scenario: scenario('tdx', [...setupOps({ private: [0, 1] }), initMemRegion({ nr_pages: 2, arg_readonly: true })]), check: (r: RunResult) => expect(last(r)).toMatchObject({ ret: -EFAULT, out: { gpa: G * PS, nr_pages: 2 }, lost: { out: { gpa: (G + 1) * PS, nr_pages: 1 } } }) }] : []),
    ]),
    { name: 'RN.12: copy back faults after 2 pages', revision: rev('rmi-newest'), scenario: ccaScenario([...C, rmiPopulate({ npages: 2, arg_readonly: true })]), check: (r) => expect(last(r)).toMatchObject({ ret: -EFAULT, out: { reported: 0 }, lost: { ret: 0, out: { reported: 2 } } }) },
    { name: 'R12: no copy back, so a read-only struct changes nothing', revision: rev('rme-v12'), scenario: ccaScenario([...C, rmiPopulate({ npages: 2, arg_readonly: true })]), check: (r) => expect(last(r)).toMatchObject({ ret: 2 * PS }) },
    { name: 'T1: a contended PAGE.ADD is retried inside the map and leaves nothing prepared (RFC v1 base)', revision: rev('kvm-x86-next-2025.11.07'), scenario: scenario('tdx', [...S, initMemRegion({ faults: [{ kind: 'fw', cmd: 'TDH.MEM.PAGE.ADD', condition: 'tdr_busy', nth: 1 }] })]) },
    // v8 21/46 clears and marks the folio in the lookup: the refused page comes out uptodate, zeroed.
    {
      name: 'T3.2 on inplace-v8: a NULL source refused with in-place conversion off leaves the page uptodate and cleared',
      revision: rev('inplace-v8'),
      scenario: scenario('tdx', [...S, initMemRegion({ source_addr: 0 })]),
      check: (r) => {
        expect(last(r)?.ret).toBe(-EOPNOTSUPP);
        const pfn = folioPfn(r.world, 0);
        const page = pfn === undefined ? undefined : hostPage(r.world.host, pfn);
        expect({ uptodate: pfn === undefined ? undefined : folioOf(r.world, pfn)?.folio.uptodate, zeroed: page?.data.every((b) => b === 0) }).toEqual({ uptodate: true, zeroed: true });
      },
    },
    { name: 'S1.8 on v6.17: len 0 is done with nothing', revision: rev('v6.17'), scenario: scenario('snp', [...S, launchUpdate({ len: 0 })]), check: (r) => expect(last(r)?.ret).toBe(0) },
    // Seed 16 found the row wrong: kvm_gmem_populate() gets the file before its empty loop.
    { name: 'S1.8 on v6.17: len 0 once the guest_memfd is released is -EIO', revision: rev('v6.17'), scenario: scenario('snp', [...S, { kind: 'close_guest_memfd', guest_memfd: GMEM, faults: [] }, launchUpdate({ len: 0 })]), check: (r) => expect(last(r)?.ret).toBe(-EIO) },
    { name: 'S1.3, GP.3: cut at the memslot end', revision: rev('v7.0'), scenario: scenario('snp', [...S, launchUpdate({ at: 6, npages: 4 })]), check: (r) => expect(last(r)?.out.len).toBe(2 * PS) },
    { name: 'S1.3: RFC v1 stops at GMEM_GUP_NPAGES, which S1 allows', revision: rev('rfc-v1'), scenario: scenario('snp', [...S, launchUpdate({ npages: 6 })]), check: (r) => expect(last(r)?.out.gfn_start).toBe(G + 4) },
    { name: 'S1.4/S2.4: ZERO ignores uaddr', revision: rev('kvm-x86-next'), scenario: scenario('snp', [...S, launchUpdate({ type: KVM_SEV_SNP_PAGE_TYPE_ZERO, uaddr: 0x1234, npages: 2 })]), check: (r) => expect(last(r)?.out.uaddr).toBe(0x1234) },
    { name: 'S1.2: first page shared: -EIO, error 0, nothing written back', revision: rev('v7.0'), scenario: scenario('snp', [...setupOps({ private: null }), launchUpdate({ npages: 2 })]), check: (r) => expect(last(r)).toMatchObject({ ret: -EIO, out: { gfn_start: G, error: 0 } }) },
    { name: 'S1.2, S1.20: second page shared: 0 after one page', revision: rev('kvm-x86-next-2025.11.07'), scenario: scenario('snp', [...setupOps({ private: [0, 1] }), launchUpdate({ npages: 2 })]), check: (r) => expect(last(r)?.out.gfn_start).toBe(G + 1) },
    // fallocate() in allocate mode (FA.*), and populate over what it pre-allocated (merged trees: not prepared, S1.1).
    { name: 'FA.1: allocate mode puts a folio at every index of the range', revision: rev('v7.0'), scenario: scenario('snp', [...S, allocate({ npages: 3 })]), check: (r) => expect(last(r)?.ret).toBe(0) },
    { name: 'FA.1 then S1.1: v6.17 populates the pages fallocate() pre-allocated', revision: rev('v6.17'), scenario: scenario('snp', [...S, allocate({ npages: 3 }), launchUpdate({ npages: 3 })]), check: (r) => expect(last(r)).toMatchObject({ ret: 0, out: { len: 0 } }) },
    { name: 'FA.1 then T.1: TDX v7.0 adds a pre-allocated page', revision: rev('v7.0'), scenario: scenario('tdx', [...S, allocate(), initMemRegion()]), check: (r) => expect(last(r)?.ret).toBe(0) },
    { name: 'FA.1 then RN: rmi-newest populates a pre-allocated page', revision: rev('rmi-newest'), scenario: ccaScenario([...C, { kind: 'fallocate', guest_memfd: GMEM, mode: 1, offset: 0, len: PS, faults: [] }, rmiPopulate()]) },
    { name: 'FA.3: allocate past the end of the file', revision: rev('v7.0'), scenario: scenario('snp', [...S, allocate({ at: SLOT_PAGES, npages: 2 })]), check: (r) => expect(last(r)?.ret).toBe(-EINVAL) },
    { name: 'FA.4: no KEEP_SIZE', revision: rev('kvm-x86-next'), scenario: scenario('snp', [...S, allocate({ mode: 0 })]), check: (r) => expect(last(r)?.ret).toBe(-EOPNOTSUPP) },
    { name: 'FA.4: ZERO_RANGE', revision: rev('kvm-x86-next'), scenario: scenario('tdx', [...S, allocate({ mode: 0x11 })]), check: (r) => expect(last(r)?.ret).toBe(-EOPNOTSUPP) },
    { name: 'FA.2: len 0 is -EINVAL before the mode is looked at', revision: rev('v7.0'), scenario: scenario('snp', [...S, allocate({ mode: 0, npages: 0 })]), check: (r) => expect(last(r)?.ret).toBe(-EINVAL) },
    { name: 'FA.1 under a failed folio allocation: -ENOMEM, the folios made before it kept', revision: rev('v7.0'), scenario: scenario('snp', [...S, allocate({ npages: 3, faults: [{ kind: 'alloc', nth: 2, site: 'folio' }] })]), check: (r) => expect(last(r)?.ret).toBe(-ENOMEM) },
    { name: 'FA.1 under a pending signal: -EINTR', revision: rev('v7.0'), scenario: scenario('snp', [...S, allocate({ npages: 3, faults: [{ kind: 'signal', nth: 2 }] })]), check: (r) => expect(last(r)?.ret).toBe(-EINTR) },
    // TV.*, TF.*: TDX's launch steps, old and new TDX MMU.
    ...['v6.17', 'kvm-x86-next'].flatMap((id) => [
      {
        name: `TV.1-TV.4, TF.1, TF.2 on ${id}: INIT_VCPU once, then with flags, again, FINALIZE twice, INIT_VCPU after`, revision: rev(id),
        scenario: { ...scenario('tdx', [...S, { kind: 'tdx_init_vcpu' }, { kind: 'tdx_init_vcpu', flags: 1 }, { kind: 'tdx_init_vcpu' }, { kind: 'tdx_finalize_vm', faults: [] }, { kind: 'tdx_finalize_vm', faults: [] }, { kind: 'tdx_init_vcpu' }]), launch: 'not_started' as const },
        check: (r: RunResult) => expect(r.results.slice(-6).map((x) => x.ret)).toEqual([0, -EINVAL, -EINVAL, 0, -EINVAL, -EINVAL]),
      },
      {
        name: `TV.4 on ${id}: a vCPU never initialized, after FINALIZE`, revision: rev(id),
        scenario: { ...scenario('tdx', [...S, { kind: 'tdx_finalize_vm', faults: [] }, { kind: 'tdx_init_vcpu' }]), launch: 'not_started' as const },
        check: (r: RunResult) => expect(r.results.slice(-2).map((x) => x.ret)).toEqual([0, -EINVAL]),
      },
      {
        name: `TF.1 on ${id}: a contended TDH.MR.FINALIZE is -EBUSY and leaves the TD open`, revision: rev(id),
        scenario: scenario('tdx', [...S, { kind: 'tdx_finalize_vm', faults: [{ kind: 'fw', cmd: 'TDH.MR.FINALIZE', condition: 'tdr_busy', nth: 1 }] }, initMemRegion()]),
        check: (r: RunResult) => expect(r.results.slice(-2).map((x) => x.ret)).toEqual([-EBUSY, 0]),
      },
    ]),
    { name: 'S1.17: before LAUNCH_START', revision: rev('v7.0'), scenario: { ...scenario('snp', [...S, launchUpdate()]), launch: 'not_started' }, check: (r) => expect(last(r)?.ret).toBe(-EINVAL) },
    { name: 'S1.5: unknown type', revision: rev('v7.0'), scenario: scenario('snp', [...S, launchUpdate({ type: 7 })]) },
    { name: 'S1.6: flags', revision: rev('kvm-x86-next-2025.11.07'), scenario: scenario('snp', [...S, launchUpdate({ flags: 1 })]) },
    { name: 'S1.7: len not a page multiple', revision: rev('kvm-x86-next'), scenario: scenario('snp', [...S, launchUpdate({ len: PS + 1 })]) },
    { name: 'S1.8: len 0 on S1 (-EINVAL since 2025, 0 before)', revision: rev('kvm-x86-next-2025.11.07'), scenario: scenario('snp', [...S, launchUpdate({ len: 0 })]), check: (r) => expect(last(r)?.ret).toBe(-EINVAL) },
    { name: 'S2.3: len 0', revision: rev('v7.0'), scenario: scenario('snp', [...S, launchUpdate({ len: 0 })]) },
    { name: 'S1.9: S1 takes an unaligned uaddr', revision: rev('kvm-x86-next-2025.11.07'), scenario: scenario('snp', [...S, launchUpdate({ uaddr: SRC + 1, npages: 2 })]) },
    { name: 'S2.1: S2 rejects an unaligned uaddr', revision: rev('v7.0'), scenario: scenario('snp', [...S, launchUpdate({ uaddr: SRC + 1 })]), check: (r) => expect(last(r)?.ret).toBe(-EINVAL) },
    { name: 'S1.10: uaddr 0 on S1 is -EIO', revision: rev('rfc-v1'), scenario: scenario('snp', [...S, launchUpdate({ uaddr: 0 })]) },
    { name: 'S2.2: uaddr 0 on S2 is -EINVAL', revision: rev('kvm-x86-next'), scenario: scenario('snp', [...S, launchUpdate({ uaddr: 0 })]) },
    { name: 'S1.11/S2.5: gfn_start in no memslot', revision: rev('kvm-x86-next'), scenario: scenario('snp', [...S, launchUpdate({ at: SLOT_PAGES })]) },
    { name: 'S1.12: populated again (S1)', revision: rev('kvm-x86-next-2025.11.07'), scenario: scenario('snp', [...S, launchUpdate(), launchUpdate()]) },
    { name: 'S2.6: populated again (S2)', revision: rev('kvm-x86-next'), scenario: scenario('snp', [...S, launchUpdate(), launchUpdate()]), check: (r) => expect(last(r)?.ret).toBe(-EIO) },
    { name: 'S2.7: source hole in the first page', revision: rev('v7.0'), scenario: scenario('snp', [...setupOps({ holes: [0] }), launchUpdate()]) },
    { name: 'S2.8: CPUID from a read-only source', revision: rev('kvm-x86-next'), scenario: scenario('snp', [...setupOps({ prot: 'ro' }), launchUpdate({ type: KVM_SEV_SNP_PAGE_TYPE_CPUID })]), check: (r) => expect(last(r)?.ret).toBe(-EIO) },
    { name: 'S1.18: after LAUNCH_FINISH, consistency only', revision: rev('kvm-x86-next'), scenario: scenario('snp', [...S, finish, launchUpdate({ npages: 2 })]) },
    { name: 'relational: LAUNCH_UPDATE fails on page 2', revision: rev('v7.0'), scenario: scenario('snp', [...S, launchUpdate({ npages: 3, faults: [{ kind: 'fw', cmd: 'SNP_LAUNCH_UPDATE', condition: 'fw_resource', nth: 2 }] })]) },
    // GP.5: a page memory_failure() poisoned, in every generation's check order.
    { name: 'GP.5 on S2: a poisoned, pre-allocated page is -EIO', revision: rev('v7.0'), scenario: scenario('snp', [...S, allocate(), memoryFailure(), launchUpdate()]), check: (r) => expect(last(r)?.ret).toBe(-EIO) },
    { name: 'GP.5 on S1: page 2 poisoned, page 1 populated', revision: rev('v6.17'), scenario: scenario('snp', [...S, allocate({ at: 1 }), memoryFailure(1), launchUpdate({ npages: 2 })]), check: (r) => expect(last(r)).toMatchObject({ ret: 0, out: { len: PS } }) },
    { name: 'GP.5 on T2: a populated page, poisoned (and zapped from the S-EPT), is -EHWPOISON', revision: rev('v7.0'), scenario: scenario('tdx', [...S, initMemRegion(), memoryFailure(), initMemRegion()]), check: (r) => expect(last(r)?.ret).toBe(-EHWPOISON) },
    { name: 'GP.5 on T1: before the prepared check (-EEXIST)', revision: rev('kvm-x86-next-2025.11.07'), scenario: scenario('tdx', [...S, initMemRegion(), memoryFailure(), initMemRegion()]), check: (r) => expect(last(r)?.ret).toBe(-EHWPOISON) },
    { name: 'GP.5 on RN', revision: rev('rmi-newest'), scenario: ccaScenario([...C, { kind: 'fallocate', guest_memfd: GMEM, mode: 1, offset: 0, len: PS, faults: [] }, memoryFailure(), rmiPopulate()]), check: (r) => expect(last(r)?.ret).toBe(-EHWPOISON) },
    { name: 'GP.5 on R9', revision: rev('rme-v9'), scenario: ccaScenario([...C, { kind: 'fallocate', guest_memfd: GMEM, mode: 1, offset: 0, len: PS, faults: [] }, memoryFailure(), rmiPopulate()]), check: (r) => expect(last(r)?.ret).toBe(-EHWPOISON) },
    { name: 'memory_failure() where no folio backs the offset does nothing', revision: rev('kvm-x86-next'), scenario: scenario('snp', [...S, memoryFailure(), launchUpdate()]), check: (r) => expect(last(r)?.ret).toBe(0) },
    // TDX, T1 and T2.
    { name: 'T.1, T.2: measured pages, region written back', revision: rev('kvm-x86-next'), scenario: scenario('tdx', [...S, initMemRegion({ nr_pages: 3 })]), check: (r) => expect(last(r)).toMatchObject({ ret: 0, out: { nr_pages: 0, gpa: (G + 3) * PS } }) },
    { name: 'T.1 on T1, unmeasured', revision: rev('kvm-x86-next-2025.11.07'), scenario: scenario('tdx', [...S, initMemRegion({ nr_pages: 2, flags: 0 })]) },
    { name: 'T.3: unknown flag', revision: rev('v7.0'), scenario: scenario('tdx', [...S, initMemRegion({ flags: 2 })]) },
    { name: 'T.5: page 2 shared: -EINVAL after one page, written back', revision: rev('v7.0'), scenario: scenario('tdx', [...setupOps({ private: [0, 1] }), initMemRegion({ nr_pages: 3 })]), check: (r) => expect(last(r)).toMatchObject({ ret: -EINVAL, out: { nr_pages: 2 } }) },
    { name: 'T.6: unaligned source', revision: rev('rfc-v1'), scenario: scenario('tdx', [...S, initMemRegion({ source_addr: SRC + 1 })]) },
    { name: 'T.7: shared GPA', revision: rev('kvm-x86-next'), scenario: scenario('tdx', [...S, initMemRegion({ gpa: G * PS + TDX_SHARED_BIT })]) },
    { name: 'T.7: nr_pages 0', revision: rev('kvm-x86-next-2025.11.07'), scenario: scenario('tdx', [...S, initMemRegion({ nr_pages: 0 })]) },
    { name: 'T.8 on T1: source 0 is -EFAULT', revision: rev('kvm-x86-next-2025.11.07'), scenario: scenario('tdx', [...S, initMemRegion({ source_addr: 0 })]), check: (r) => expect(last(r)?.ret).toBe(-EFAULT) },
    { name: 'T.8 on T2: source 0 is -EOPNOTSUPP in v7.0', revision: rev('v7.0'), scenario: scenario('tdx', [...S, initMemRegion({ source_addr: 0 })]), check: (r) => expect(last(r)?.ret).toBe(-EOPNOTSUPP) },
    { name: 'T.8 on T2: source 0 is -EINVAL in the newest tree', revision: rev('kvm-x86-next'), scenario: scenario('tdx', [...S, initMemRegion({ source_addr: 0 })]), check: (r) => expect(last(r)?.ret).toBe(-EINVAL) },
    { name: 'T.9: after KVM_TDX_FINALIZE_VM', revision: rev('kvm-x86-next'), scenario: scenario('tdx', [...S, finalize, initMemRegion()]) },
    { name: 'T.13 on T1: added again is -EEXIST', revision: rev('kvm-x86-next-2025.11.07'), scenario: scenario('tdx', [...S, initMemRegion(), initMemRegion()]), check: (r) => expect(last(r)?.ret).toBe(-EEXIST) },
    { name: 'T.13 on T1: RFC v1 (no preparation tracking) says -EIO', revision: rev('rfc-v1'), scenario: scenario('tdx', [...S, initMemRegion(), initMemRegion()]), check: (r) => expect(last(r)?.ret).toBe(-EIO) },
    { name: 'T.13 on T2: added again is -EIO', revision: rev('v7.0'), scenario: scenario('tdx', [...S, initMemRegion(), initMemRegion()]) },
    // A conversion round trip takes the page out of the S-EPT but leaves its folio prepared: the
    // old tree still refuses it, RFC v1 (no preparation tracking) adds it again; T1 allows both
    // (a fuzz campaign found the oracle refusing the second: seed 20261130, rfc-v1).
    { name: 'T.13 on T1: after a conversion round trip the old tree still says -EEXIST', revision: rev('kvm-x86-next-2025.11.07'), scenario: scenario('tdx', [...S, initMemRegion(), ...roundTrip, initMemRegion()]), check: (r) => expect(last(r)?.ret).toBe(-EEXIST) },
    { name: 'T.13 on T1: after a conversion round trip RFC v1 adds the page again', revision: rev('rfc-v1'), scenario: scenario('tdx', [...S, initMemRegion(), ...roundTrip, initMemRegion()]), check: (r) => expect(last(r)?.ret).toBe(0) },
    { name: 'T.gp: past the memslot, one page a call', revision: rev('kvm-x86-next'), scenario: scenario('tdx', [...S, initMemRegion({ at: 7, nr_pages: 2 })]), check: (r) => expect(last(r)).toMatchObject({ ret: -EINVAL, out: { nr_pages: 1 } }) },
    { name: 'T.src: source hole at page 2', revision: rev('kvm-x86-next-2025.11.07'), scenario: scenario('tdx', [...setupOps({ holes: [1] }), initMemRegion({ nr_pages: 2 })]) },
    // Arm CCA: R9, R12, RN.
    { name: 'R9.1: the whole range from the shared alias', revision: rev('rme-v9'), scenario: ccaScenario([...C, rmiPopulate({ npages: 2 })]), check: (r) => expect(last(r)?.ret).toBe(0) },
    { name: 'R9.2: before the realm is created', revision: rev('rme-v9'), scenario: ccaScenario([...C.filter((op) => op.kind !== 'arm_realm_create'), rmiPopulate()]), check: (r) => expect(last(r)?.ret).toBe(-EPERM) },
    { name: 'R9.4: size 0 does nothing', revision: rev('rme-v9'), scenario: ccaScenario([...C, rmiPopulate({ npages: 0 })]) },
    { name: 'R9.5: the chunk crosses the memslot end', revision: rev('rme-v9'), scenario: ccaScenario([...C, rmiPopulate({ at: 1, npages: 2 })]), check: (r) => expect(last(r)?.ret).toBe(-EINVAL) },
    { name: 'R9.7: populated again', revision: rev('rme-v9'), scenario: ccaScenario([...C, rmiPopulate(), rmiPopulate()]), check: (r) => expect(last(r)?.ret).toBe(-ENXIO) },
    { name: 'R12.1: bytes populated, 4-granule pages', revision: rev('rme-v12'), scenario: ccaScenario([...C, rmiPopulate({ npages: 2 })], { granules_per_page: 4 }), check: (r) => expect(last(r)?.ret).toBe(2 * PS) },
    { name: 'R12.2: after a vCPU ran', revision: rev('rme-v12'), scenario: ccaScenario([...C, rmiPopulate(), activate, rmiPopulate({ at: 1 })]), check: (r) => expect(last(r)?.ret).toBe(-EBUSY) },
    { name: 'R12.5: size 0 is -EINVAL (the WARN, warn-reachable\'s G12)', revision: rev('rme-v12'), scenario: ccaScenario([...C, rmiPopulate({ npages: 0 })]) },
    { name: 'R12.7: shared, -EINVAL', revision: rev('rme-v12'), scenario: ccaScenario([...ccaSetupOps({ slotPages: 2, private: false }), rmiPopulate()]) },
    { name: 'R12.7: populated again, -EEXIST', revision: rev('rme-v12'), scenario: ccaScenario([...C, rmiPopulate(), rmiPopulate()]), check: (r) => expect(last(r)?.ret).toBe(-EEXIST) },
    { name: 'R12.8: page 2\'s source unmapped: the bytes of page 1', revision: rev('rme-v12'), scenario: ccaScenario([...C1, rmiPopulate({ npages: 2 })]), check: (r) => expect(last(r)?.ret).toBe(PS) },
    { name: 'RN.1: base/size/source_uaddr written back on a short success', revision: rev('rmi-newest'), scenario: ccaScenario([...C1, rmiPopulate({ npages: 2 })]), check: (r) => expect(last(r)).toMatchObject({ ret: 0, out: { size: PS } }) },
    { name: 'RN.3: unaligned source', revision: rev('rmi-newest'), scenario: ccaScenario([...C, rmiPopulate({ source_uaddr: SRC + 1 })]) },
    { name: 'RN.5: after a vCPU ran', revision: rev('rmi-newest'), scenario: ccaScenario([...C, rmiPopulate(), activate, rmiPopulate({ at: 1 })]) },
    { name: 'RN.8: size 0', revision: rev('rmi-newest'), scenario: ccaScenario([...C, rmiPopulate({ npages: 0 })]) },
    { name: 'RN.10: populated again, -ENXIO', revision: rev('rmi-newest'), scenario: ccaScenario([...C, rmiPopulate(), rmiPopulate()]), check: (r) => expect(last(r)?.ret).toBe(-ENXIO) },
    { name: 'relational: an RMI refusal on page 2', revision: rev('rmi-newest'), scenario: ccaScenario([...C, rmiPopulate({ npages: 2, faults: [fw('RMI_RTT_DATA_MAP_INIT', 'src_copy', 2)] })]) },
    // The VM ioctls around populate.
    {
      name: 'MA.1-MA.5, G.1-G.3, M.1, M.4, M.5, FA.2, FA.5 on a good revision',
      revision: rev('kvm-x86-next'),
      scenario: scenario('snp', [
        { kind: 'create_guest_memfd', size: BigInt(PS + 1), flags: 0n },
        { kind: 'create_guest_memfd', size: BigInt(4 * PS), flags: 4n },
        ...S,
        { kind: 'set_memory_attributes', address: G * PS, size: PS, attributes: BigInt(KVM_MEMORY_ATTRIBUTE_PRIVATE), flags: 1n },
        { kind: 'set_memory_attributes', address: G * PS, size: PS, attributes: 1n, flags: 0n },
        { kind: 'set_memory_attributes', address: G * PS, size: 0, attributes: 0n, flags: 0n },
        { kind: 'set_memory_attributes', address: G * PS + 1, size: PS, attributes: 0n, flags: 0n },
        { kind: 'set_memory_attributes', address: G * PS, size: 2 * PS, attributes: 0n, flags: 0n },
        { kind: 'set_user_memory_region2', slot: 1, flags: KVM_MEM_GUEST_MEMFD, guest_phys_addr: G * PS, memory_size: PS, userspace_addr: 0, guest_memfd: GMEM, guest_memfd_offset: BigInt(SLOT_PAGES * PS) },
        { kind: 'create_guest_memfd', size: BigInt(2 * PS), flags: 0n },
        { kind: 'set_user_memory_region2', slot: 2, flags: KVM_MEM_GUEST_MEMFD, guest_phys_addr: 0x100 * PS, memory_size: PS, userspace_addr: 0, guest_memfd: GMEM + 1, guest_memfd_offset: BigInt(4 * PS) },
        { kind: 'set_user_memory_region2', slot: 2, flags: KVM_MEM_GUEST_MEMFD, guest_phys_addr: 0x100 * PS, memory_size: PS, userspace_addr: 0, guest_memfd: GMEM + 1, guest_memfd_offset: BigInt(PS) },
        launchUpdate({ at: 2 }),
        { kind: 'punch_hole', guest_memfd: GMEM, offset: 1, len: PS, faults: [] },
        { kind: 'punch_hole', guest_memfd: GMEM, offset: 2 * PS, len: PS, faults: [] },
      ]),
      check: (r) => expect(r.results.map((x) => x.ret)).toEqual([-EINVAL, -EINVAL, 1, 0, 0, 0, -EINVAL, -EINVAL, -EINVAL, -EINVAL, 0, -EEXIST, 2, -EINVAL, 0, 0, -EINVAL, 0]),
    },
  ],
  violated: [
    {
      name: 'S2.10: an injected bug ignores the failed copy back and answers 0',
      revision: mutant('kvm-x86-next+copy-back-unchecked'),
      scenario: scenario('snp', [...S, launchUpdate({ npages: 2, arg_readonly: true })]),
      messageId: 'wrongErrno',
      opIndex: 4,
    },
    {
      name: 'B21: v6.17\'s TDX callback prepares the folio through the fault path before a PAGE.ADD that fails: a retry would get -EEXIST',
      revision: rev('v6.17'),
      scenario: scenario('tdx', [...S, initMemRegion({ faults: [{ kind: 'fw', cmd: 'TDH.MEM.PAGE.ADD', condition: 'tdr_busy', nth: 1 }] })]),
      messageId: 'markedPrepared',
      opIndex: 4,
    },
    {
      name: 'B9 (hugepages what-if): the old populate lowers the order to the private half of a 4-page folio, populates those 2 pages, and marks the whole folio prepared',
      revision: rev('kvm-x86-next-2025.11.07'),
      scenario: { ...scenario('snp', [...setupOps({ private: [0, 2] }), launchUpdate({ npages: 2 })]), hugepages: { order: 2 } },
      messageId: 'markedPrepared',
      opIndex: 4,
    },
    {
      name: 'injected: every populate fails (SNP: -EIO where S1.1 says 0)',
      revision: mutant('kvm-x86-next+populate-fails'),
      scenario: scenario('snp', [...S, launchUpdate()]),
      messageId: 'wrongErrno',
      opIndex: 4,
    },
    {
      name: 'injected: every populate fails (TDX: -EINVAL where T.1 says 0)',
      revision: mutant('kvm-x86-next+populate-fails'),
      scenario: scenario('tdx', [...S, initMemRegion()]),
      messageId: 'wrongErrno',
      opIndex: 4,
    },
    {
      // Teeth of T1's two answers: after a conversion round trip the second add may be the old
      // tree's -EEXIST or RFC v1's 0, nothing else.
      name: 'RFC v1 whose second add of a page fails with -ENOSPC: neither answer T1 allows after a conversion round trip',
      revision: ((): Revision => {
        // Per VM, so a rerun of the case (Stryker runs it many times in one process) starts afresh.
        const calls = new WeakMap<object, number>();
        const add: typeof rfcV1Fns.tdx_gmem_post_populate = (...a) => {
          const n = (calls.get(a[1]) ?? 0) + 1;
          calls.set(a[1], n);
          return n === 2 ? -ENOSPC : rfcV1Fns.tdx_gmem_post_populate(...a);
        };
        return { ...rfc_v1, id: 'rfc-v1-second-add-enospc', derivedFrom: 'rfc-v1', fns: { ...rfcV1Fns, tdx_gmem_post_populate: add } };
      })(),
      scenario: scenario('tdx', [...S, initMemRegion(), ...roundTrip, initMemRegion()]),
      messageId: 'wrongErrno',
      detail: 'T.13',
      opIndex: 7,
    },
    {
      // FA.5's frame condition: a hole unmaps nothing outside it.
      name: 'injected: a punched hole that also zaps the next gfn\'s S-EPT leaf (FA.5)',
      revision: mutant('kvm-x86-next+invalidate-past-hole'),
      scenario: scenario('tdx', [...S, initMemRegion({ nr_pages: 2 }), { kind: 'punch_hole', guest_memfd: GMEM, offset: 0, len: PS, faults: [] }]),
      messageId: 'wrongState',
      detail: 'FA.5',
      opIndex: 5,
    },
    {
      // T.10 per vCPU: vCPU 1 was never KVM_TDX_INIT_VCPU'd, vCPU 0 was.
      name: 'injected: a populate through an uninitialized second vCPU, judged by vCPU 0\'s state (T.10)',
      revision: mutant('kvm-x86-next+init-mem-region-vcpu0-state'),
      scenario: { ...scenario('tdx', [...S, initMemRegion({ vcpu: 1 })]), vcpus: 2 },
      messageId: 'wrongErrno',
      detail: 'T.10',
      opIndex: S.length,
    },
    {
      name: 'injected: KVM_PRE_FAULT_MEMORY with a flag set answered as without it (PF.1)',
      revision: mutant('kvm-x86-next+pre-fault-flags-unchecked'),
      scenario: scenario('snp', [...S, { kind: 'pre_fault_memory', gpa: BigInt(G * PS), size: BigInt(PS), flags: 1n, faults: [] }]),
      messageId: 'wrongErrno',
      detail: 'PF.1',
      opIndex: S.length,
    },
    {
      name: 'injected: KVM_PRE_FAULT_MEMORY at an unaligned gpa answered for the launch state (PF.2)',
      revision: mutant('kvm-x86-next+pre-fault-unaligned'),
      scenario: scenario('tdx', [...S, { kind: 'pre_fault_memory', gpa: BigInt(G * PS + 8), size: BigInt(PS), flags: 0n, faults: [] }]),
      messageId: 'wrongErrno',
      detail: 'PF.2',
      opIndex: S.length,
    },
    {
      name: 'injected: a failed KVM_PRE_FAULT_MEMORY that skips the copy back of a read-only struct (PF.4)',
      revision: mutant('kvm-x86-next+pre-fault-copy-back-on-success'),
      scenario: scenario('snp', [...S, { kind: 'pre_fault_memory', gpa: BigInt(G * PS), size: BigInt(PS), flags: 0n, arg_readonly: true, faults: [] }]),
      messageId: 'wrongErrno',
      detail: 'PF.4',
      opIndex: S.length,
    },
    {
      name: 'injected: a shared guest_memfd index (INIT_SHARED) populated into the realm (RN.2)',
      revision: mutant('rmi-newest+populate-shared-index'),
      scenario: ccaScenario([...CS, rmiPopulate()]),
      messageId: 'wrongErrno',
      detail: 'RN.2',
      opIndex: CS.length,
    },
    {
      name: 'injected: a refused KVM_PRE_FAULT_MEMORY that still allocates the gfn\'s folio (PF.3)',
      revision: mutant('kvm-x86-next+pre-fault-folio-first'),
      scenario: scenario('tdx', [...S, { kind: 'pre_fault_memory', gpa: BigInt(G * PS), size: BigInt(PS), flags: 0n, faults: [] }]),
      messageId: 'wrongState',
      detail: 'PF.3',
      opIndex: S.length,
    },
    {
      name: 'injected: a populated folio left not uptodate (SNP), which the next fault would clear',
      revision: mutant('kvm-x86-next+no-uptodate'),
      scenario: scenario('snp', [...S, launchUpdate()]),
      messageId: 'notUptodate',
      opIndex: 4,
    },
    {
      name: 'injected: a populated folio left not uptodate (TDX)',
      revision: mutant('kvm-x86-next+no-uptodate'),
      scenario: scenario('tdx', [...S, initMemRegion()]),
      messageId: 'notUptodate',
      opIndex: 4,
    },
    {
      name: 'injected: the folio of a page whose LAUNCH_UPDATE failed marked uptodate all the same (page 2 of 3)',
      revision: mutant('kvm-x86-next+uptodate-on-failure'),
      scenario: scenario('snp', [...S, launchUpdate({ npages: 3, faults: [{ kind: 'fw', cmd: 'SNP_LAUNCH_UPDATE', condition: 'fw_resource', nth: 2 }] })]),
      messageId: 'markedUptodate',
      opIndex: 4,
    },
    {
      // S3/T3: the page a failed call leaves uptodate must not hold stale memory. With in-place
      // conversion off, a NULL source is the TDX callback's -EOPNOTSUPP after the lookup.
      name: 'injected: the in-place v7 marks the folio of a refused NULL-source page uptodate, holding what the allocator left (T3.2)',
      revision: mutant('inplace-v7+uptodate-on-failure'),
      scenario: scenario('tdx', [...S, initMemRegion({ source_addr: 0 })]),
      messageId: 'markedUptodate',
      opIndex: 4,
    },
    {
      name: 'injected: guest_memfd flags cut to 32 bits, so bit 32 is accepted where G.2 says -EINVAL',
      revision: mutant('kvm-x86-next+flags-int'),
      scenario: scenario('snp', [{ kind: 'create_guest_memfd', size: BigInt(PS), flags: (1n << 32n) | 1n }]),
      messageId: 'wrongErrno',
      detail: 'G.2',
      opIndex: 0,
    },
    {
      // What the model did to every revision until stop 21: one kvm_gmem_create() for all trees.
      name: 'v6.17 with v6.18\'s kvm_gmem_create(): an mmap()able guest_memfd created where G.6 says -EINVAL',
      revision: { ...rev('v6.17'), id: 'v6.17-with-v6.18-create', derivedFrom: 'v6.17', fns: { ...rev('v6.17').fns, kvm_gmem_create: gmemCreateV618.kvm_gmem_create } },
      scenario: scenario('snp', [{ kind: 'create_guest_memfd', size: BigInt(PS), flags: 1n }]),
      messageId: 'wrongErrno',
      detail: 'G.6',
      opIndex: 0,
    },
    {
      name: 'a kvm_gmem_bind() that does nothing: 0 with the range unbound, where M.1 says bound (no fault needed)',
      revision: { ...rev('kvm-x86-next'), id: 'bind-does-nothing', derivedFrom: 'kvm-x86-next', fns: { ...rev('kvm-x86-next').fns, kvm_gmem_bind: () => 0 } },
      scenario: scenario('snp', S.slice(0, 2)),
      messageId: 'wrongState',
      detail: 'M.1',
      opIndex: 1,
    },
    {
      name: 'injected: an unaligned uaddr answered with -EFAULT, not S2.1\'s -EINVAL',
      revision: mutant('kvm-x86-next+unaligned-uaddr-efault'),
      scenario: scenario('snp', [launchUpdate({ uaddr: SRC + 1 })]),
      messageId: 'wrongErrno',
      detail: 'S2.1',
      opIndex: 0,
      check: (r) => expect(last(r)?.ret).toBe(-EFAULT),
    },
    {
      name: 'G3: v7.0 answers uaddr 0 with -EIO through the WARN, S2.2 says -EINVAL',
      revision: rev('v7.0'),
      scenario: scenario('snp', [...S, launchUpdate({ uaddr: 0 })]),
      messageId: 'wrongErrno',
      detail: 'S2.2',
      opIndex: 4,
    },
    {
      name: 'injected: __kvm_gmem_get_pfn() without its hwpoison check adds a page memory_failure() poisoned (and zapped) to the TD again, GP.5 says -EHWPOISON',
      revision: mutant('kvm-x86-next+no-hwpoison-check'),
      scenario: scenario('tdx', [...S, initMemRegion(), memoryFailure(), initMemRegion()]),
      messageId: 'wrongErrno',
      detail: 'GP.5',
      opIndex: 6,
      check: (r) => expect(last(r)?.ret).toBe(0),
    },
    {
      // The row is in the signature (S1.17, not G3's S2.2), so the matrix cannot take it for G3.
      name: 'injected: v7.0 without the snp_context check lets a LAUNCH_UPDATE before LAUNCH_START through, S1.17 says -EINVAL',
      revision: mutant('v7.0+no-context-check'),
      scenario: { ...scenario('snp', [...S, launchUpdate()]), launch: 'not_started' },
      messageId: 'wrongErrno',
      detail: 'S1.17',
      opIndex: 4,
    },
    {
      // The u64 edge of generators/ops/snp.ts: 2^32 above the slot's first gfn.
      name: 'injected: v7.0 reading gfn_start through 32 bits populates a gfn 2^32 below the one asked, S2.5 says -EINVAL',
      revision: mutant('v7.0+u32-gfn-start'),
      scenario: scenario('snp', [...S, launchUpdate({ gfn_start: (1n << 32n) + BigInt(G) })]),
      messageId: 'wrongErrno',
      detail: 'S2.5',
      opIndex: 4,
    },
    {
      // Found by the suite on its own: Sean Christopherson's review of v1 09/11 (G28).
      name: 'G28: paolo-v1 refuses to populate a page fallocate() pre-allocated (and prepared), S1.1 says 0',
      revision: rev('paolo-v1'),
      scenario: scenario('snp', [...S, allocate(), launchUpdate()]),
      messageId: 'wrongErrno',
      detail: 'S1.1',
      opIndex: 5,
      check: (r) => expect(last(r)?.ret).toBe(-EIO),
    },
    {
      name: 'an allocate that does nothing: 0 with no folio in the page cache, where FA.1 says one per index',
      revision: { ...rev('v7.0'), id: 'allocate-does-nothing', derivedFrom: 'v7.0', fns: { ...rev('v7.0').fns, kvm_gmem_allocate: () => 0 } },
      scenario: scenario('snp', [...S, allocate({ npages: 2 })]),
      messageId: 'wrongState',
      detail: 'FA.1',
      opIndex: 4,
    },
    {
      name: 'G2: v7.0 populates a CPUID page from a read-only source, S2.8 says -EIO',
      revision: rev('v7.0'),
      scenario: scenario('snp', [...setupOps({ prot: 'ro' }), launchUpdate({ type: KVM_SEV_SNP_PAGE_TYPE_CPUID })]),
      messageId: 'wrongErrno',
      detail: 'S2.8',
      opIndex: 4,
    },
    {
      name: 'B3: RFC v1 TDX "adds" a page from source_addr 0, T.8 (T1) says -EFAULT',
      revision: rev('rfc-v1'),
      scenario: scenario('tdx', [...S, initMemRegion({ source_addr: 0 })]),
      messageId: 'wrongErrno',
      detail: 'T.8',
      opIndex: 4,
    },
    {
      name: 'G9: rme-v9 fails page 2 (R9.6) and leaves page 1 populated, which R9.8 cannot report',
      revision: rev('rme-v9'),
      scenario: ccaScenario([...C1, rmiPopulate({ npages: 2 })]),
      messageId: 'touchedPastCount',
      opIndex: 5,
      check: (r) => expect(last(r)?.ret).toBe(-EFAULT),
    },
    {
      name: 'G10: rme-v12 rolls back granules 0-2 of a page whose granule 3 fails, but they stay measured',
      revision: rev('rme-v12'),
      scenario: ccaScenario([...C, rmiPopulate({ faults: [fw('RMI_DATA_CREATE', 'src_copy', 1, 3)] })], { granules_per_page: 4 }),
      messageId: 'touchedPastCount',
      opIndex: 5,
    },
  ],
});

// TF.3 sits behind B21 on v6.17: the busy PAGE.ADD that leaves the entry premapped also leaves its
// folio marked prepared (markedPrepared), so the finalize is judged in a run that goes on.
describe('TF.3: KVM_TDX_FINALIZE_VM after a busy PAGE.ADD left an entry premapped (v6.16 .. v6.18)', () => {
  const busyThenFinalize = scenario('tdx', [...S, initMemRegion({ faults: [{ kind: 'fw', cmd: 'TDH.MEM.PAGE.ADD', condition: 'tdr_busy', nth: 1 }] }), { kind: 'tdx_finalize_vm', faults: [] }]);
  const found = (r: Revision) => {
    const j = judge(busyThenFinalize, r, [functionalSpec]);
    return { rets: j.run.results.slice(-2).map((x) => x.ret), keys: j.violations.map((v) => `${v.messageId}${v.detail === undefined ? '' : `[${v.detail}]`}@${v.opIndex}`) };
  };
  test('v6.17 as released refuses the finalize; only B21 is reported', () => {
    expect(found(rev('v6.17'))).toEqual({ rets: [-EBUSY, -EINVAL], keys: ['markedPrepared@4'] });
  });
  test('injected: v6.17 without the nr_premapped check finalizes, where TF.3 says -EINVAL', () => {
    expect(found(mutant('v6.17+finalize-premapped'))).toEqual({ rets: [-EBUSY, 0], keys: ['markedPrepared@4', 'wrongErrno[TF.3]@5'] });
  });
});

describe('the oracle gives no verdict where it cannot know the document', () => {
  test('a module with neither a built-in id nor derivedFrom', () => {
    const stranger = { ...rev('v7.0'), id: 'my-patch' };
    const { violations } = runWithInvariant(scenario('snp', [...S, launchUpdate({ uaddr: 0 })]), stranger, functionalSpec);
    expect(violations).toEqual([]);
  });

  test('a module derived from v7.0 is held to S2/T2', () => {
    const derived = { ...rev('v7.0'), id: 'my-patch', derivedFrom: 'v7.0' };
    const { violations } = runWithInvariant(scenario('snp', [...S, launchUpdate({ uaddr: 0 })]), derived, functionalSpec);
    expect(violations.map((v) => v.messageId)).toEqual(['wrongErrno']);
  });
});

describe('generations: one table', () => {
  test('every built-in revision has a generation on each of its backends', () => {
    for (const r of REVISIONS) for (const b of r.backends) expect(generationOf(r, b), `${b}/${r.id}`).toBeDefined();
    expect(Object.keys(GENERATIONS).sort()).toEqual(REVISIONS.map((r) => r.id).sort());
  });

  test('an Arm revision\'s generation is the one its arm.uapi names', () => {
    for (const r of REVISIONS.filter((x) => x.arm !== undefined)) expect(generationOf(r, 'cca')).toBe(r.arm === undefined ? undefined : ARM_UAPI_GENERATION[r.arm.uapi]);
  });

  test('derived modules inherit; injected bugs take their base\'s; strangers get none', () => {
    expect(generationOf({ id: 'x', derivedFrom: 'rfc-v1' }, 'tdx')).toBe('T1');
    expect(generationOf({ id: 'x', derivedFrom: 'rme-v12', arm: { rmm: 'v1.0', uapi: 'rmi-populate-writeback', privateTracking: 'vm-attributes' } }, 'cca')).toBe('RN');
    for (const m of MUTANTS) for (const b of m.backends) expect(generationOf(m, b)).toBe(GENERATIONS[m.base]?.[b]);
    expect(generationOf({ id: 'x' }, 'snp')).toBeUndefined();
  });
});

describe('the rows', () => {
  test('ids are unique; rows the model cannot express say why', () => {
    const ids = ALL_ROWS.map((r) => r.id);
    expect(ids.filter((id, i) => ids.indexOf(id) !== i)).toEqual([]);
    for (const r of ALL_ROWS) if (r.encoded === false) expect(r.why, r.id).toBeTruthy();
    for (const r of ALL_ROWS) expect(r.doc.length, r.id).toBeGreaterThan(0);
  });
});

/** What a generation's spec predicts for `op` after `setup` ran on `revision`. */
interface Verdict { rows: string[]; ret: number[]; min: number; max: number; relational?: boolean; or?: Partial<Verdict>; none?: never }

function verdictOf(p: Extract<Prediction, { kind: 'verdict' }>): Verdict {
  return {
    rows: p.rows.map((r) => r.id), ret: [...p.ret].sort((a, b) => a - b), min: p.min, max: p.max,
    ...(p.relational === undefined ? {} : { relational: true }), ...(p.or === undefined ? {} : { or: verdictOf(p.or) }),
  };
}

function predict(revision: string, gen: Generation, s: Scenario, op: Op): { none: string } | Verdict {
  const w = runScenario(s, rev(revision)).world;
  const p = SPECS[gen].predict(op, w, backendById(s.backend));
  return p.kind === 'none' ? { none: p.why } : verdictOf(p);
}

interface SpecCase {
  readonly row: string;
  readonly on: string;
  readonly gen: Generation;
  readonly backend: BackendId;
  readonly setup: readonly Op[];
  readonly op: Op;
  readonly cca?: { granules_per_page: number };
  readonly want: Partial<ReturnType<typeof predict>>;
}

/** The set-up with its memslot's binding lost: the xarray store fails and every tree's bind ignores it (B16). */
const UNBOUND = S.map((op): Op => (op.kind === 'set_user_memory_region2' ? { ...op, faults: [{ kind: 'alloc', nth: 1, site: 'xa_node' }] } : op));

const SPEC_CASES: readonly SpecCase[] = [
  // GP.6: a populate of the slot whose binding B16 lost fails in __kvm_gmem_get_pfn() (-EIO).
  { row: 'GP.6', on: 'kvm-x86-next', gen: 'S2', backend: 'snp', setup: UNBOUND, op: launchUpdate(), want: { rows: ['GP.6'], ret: [-EIO], max: 0 } },
  { row: 'GP.6', on: 'v6.17', gen: 'S1', backend: 'snp', setup: UNBOUND, op: launchUpdate(), want: { rows: ['GP.6'], ret: [-EIO], max: 0 } },
  { row: 'GP.6', on: 'kvm-x86-next', gen: 'T2', backend: 'tdx', setup: UNBOUND, op: initMemRegion(), want: { rows: ['GP.6'], ret: [-EIO], max: 0 } },
  // T2 pins the source before the lookup: an unmapped one answers first; T1's old tree pins in the callback, after it.
  { row: 'GP.6', on: 'kvm-x86-next', gen: 'T2', backend: 'tdx', setup: UNBOUND, op: initMemRegion({ source_addr: 0x10000 }), want: { rows: ['T.src'], ret: [-EFAULT], max: 0 } },
  { row: 'GP.6', on: 'kvm-x86-next-2025.11.07', gen: 'T1', backend: 'tdx', setup: UNBOUND, op: initMemRegion({ source_addr: 0x10000 }), want: { rows: ['GP.6', 'T.src'], ret: [-EFAULT, -EIO], max: 0 } },
  // A released file fails before the loop (-EFAULT), binding or not.
  { row: 'GP.2', on: 'kvm-x86-next', gen: 'T2', backend: 'tdx', setup: [...UNBOUND, { kind: 'close_guest_memfd', guest_memfd: GMEM, faults: [] }], op: initMemRegion(), want: { rows: ['GP.2'], ret: [-EFAULT], max: 0 } },
  // The struct in a read-only mapping: the outcomes whose path copies it back answer -EFAULT
  // after the same work; the ones that return before the copy keep their errno.
  { row: 'S2.10', on: 'kvm-x86-next', gen: 'S2', backend: 'snp', setup: S, op: launchUpdate({ npages: 2, arg_readonly: true }), want: { rows: ['S2.10', 'S1.1'], ret: [-EFAULT], min: 2, max: 2 } },
  { row: 'S2.10', on: 'kvm-x86-next', gen: 'S2', backend: 'snp', setup: setupOps({ private: null }), op: launchUpdate({ arg_readonly: true }), want: { rows: ['S1.2'], ret: [-EIO], max: 0 } },
  { row: 'S2.10', on: 'kvm-x86-next', gen: 'S2', backend: 'snp', setup: S, op: launchUpdate({ flags: 1, arg_readonly: true }), want: { rows: ['S1.6'], ret: [-EINVAL] } },
  { row: 'S1.19', on: 'v6.17', gen: 'S1', backend: 'snp', setup: setupOps({ private: [0, 1] }), op: launchUpdate({ npages: 2, arg_readonly: true }), want: { rows: ['S1.19', 'S1.20', 'S1.2'], ret: [-EFAULT], min: 1, max: 1 } },
  { row: 'T.16', on: 'kvm-x86-next', gen: 'T2', backend: 'tdx', setup: S, op: initMemRegion({ nr_pages: 2, arg_readonly: true }), want: { rows: ['T.16', 'T.1'], ret: [-EFAULT], min: 2, max: 2 } },
  { row: 'T.16', on: 'v6.17', gen: 'T1', backend: 'tdx', setup: setupOps({ private: [0, 1] }), op: initMemRegion({ nr_pages: 2, arg_readonly: true }), want: { rows: ['T.16', 'T.5'], ret: [-EFAULT], min: 1, max: 1 } },
  { row: 'T.16', on: 'kvm-x86-next', gen: 'T2', backend: 'tdx', setup: S, op: initMemRegion({ source_addr: SRC + 1, arg_readonly: true }), want: { rows: ['T.6'], ret: [-EINVAL] } },
  { row: 'RN.12', on: 'rmi-newest', gen: 'RN', backend: 'cca', setup: C, op: rmiPopulate({ npages: 2, arg_readonly: true }), want: { rows: ['RN.12', 'RN.1'], ret: [-EFAULT], min: 2, max: 2 } },
  { row: 'RN.12', on: 'rmi-newest', gen: 'RN', backend: 'cca', setup: C, op: armOp({ flags: 2, arg_readonly: true }), want: { rows: ['RN.12', 'RN.4'], ret: [-EFAULT] } },
  // S2
  { row: 'S1.1', on: 'kvm-x86-next', gen: 'S2', backend: 'snp', setup: S, op: launchUpdate({ npages: 3 }), want: { rows: ['S1.1'], ret: [0], min: 3, max: 3 } },
  { row: 'S2.3', on: 'kvm-x86-next', gen: 'S2', backend: 'snp', setup: S, op: launchUpdate({ len: 0 }), want: { rows: ['S2.3'], ret: [-EINVAL], max: 0 } },
  { row: 'S1.7', on: 'kvm-x86-next', gen: 'S2', backend: 'snp', setup: S, op: launchUpdate({ len: PS + 1 }), want: { rows: ['S1.7'], ret: [-EINVAL] } },
  { row: 'S1.6', on: 'kvm-x86-next', gen: 'S2', backend: 'snp', setup: S, op: launchUpdate({ flags: 1 }), want: { rows: ['S1.6'], ret: [-EINVAL] } },
  { row: 'S1.5', on: 'kvm-x86-next', gen: 'S2', backend: 'snp', setup: S, op: launchUpdate({ type: 2 }), want: { rows: ['S1.5'], ret: [-EINVAL] } },
  { row: 'S2.2', on: 'kvm-x86-next', gen: 'S2', backend: 'snp', setup: S, op: launchUpdate({ uaddr: 0 }), want: { rows: ['S2.2'], ret: [-EINVAL] } },
  { row: 'S2.1', on: 'kvm-x86-next', gen: 'S2', backend: 'snp', setup: S, op: launchUpdate({ uaddr: SRC + PS - 1 }), want: { rows: ['S2.1'], ret: [-EINVAL] } },
  { row: 'S2.4', on: 'kvm-x86-next', gen: 'S2', backend: 'snp', setup: S, op: launchUpdate({ type: KVM_SEV_SNP_PAGE_TYPE_ZERO, uaddr: 1 }), want: { rows: ['S1.1'], ret: [0], max: 1 } },
  { row: 'S2.5', on: 'kvm-x86-next', gen: 'S2', backend: 'snp', setup: S, op: launchUpdate({ at: -1 }), want: { rows: ['S2.5'], ret: [-EINVAL] } },
  { row: 'S1.2', on: 'kvm-x86-next', gen: 'S2', backend: 'snp', setup: setupOps({ private: null }), op: launchUpdate(), want: { rows: ['S1.2'], ret: [-EIO], max: 0 } },
  { row: 'S2.9', on: 'kvm-x86-next', gen: 'S2', backend: 'snp', setup: setupOps({ private: [0, 2] }), op: launchUpdate({ npages: 3 }), want: { rows: ['S2.9', 'S1.2'], ret: [0], min: 2, max: 2 } },
  { row: 'GP.3', on: 'kvm-x86-next', gen: 'S2', backend: 'snp', setup: S, op: launchUpdate({ at: 6, npages: 4 }), want: { rows: ['S1.3', 'GP.3'], ret: [0], max: 2 } },
  { row: 'S2.6', on: 'kvm-x86-next', gen: 'S2', backend: 'snp', setup: [...S, launchUpdate()], op: launchUpdate({ npages: 2 }), want: { rows: ['S2.6'], ret: [-EIO], max: 0 } },
  { row: 'S2.7', on: 'kvm-x86-next', gen: 'S2', backend: 'snp', setup: setupOps({ holes: [1] }), op: launchUpdate({ npages: 2 }), want: { rows: ['S2.9', 'S2.7'], ret: [0], max: 1 } },
  { row: 'S2.8', on: 'kvm-x86-next', gen: 'S2', backend: 'snp', setup: setupOps({ prot: 'ro' }), op: launchUpdate({ type: KVM_SEV_SNP_PAGE_TYPE_CPUID }), want: { rows: ['S2.8'], ret: [-EIO] } },
  { row: 'S1.18', on: 'kvm-x86-next', gen: 'S2', backend: 'snp', setup: [...S, finish], op: launchUpdate(), want: { relational: true } },
  // GP.5: after the source's GUP on S2, T2 and RN; first on S1, T1 and R12.
  { row: 'GP.5', on: 'kvm-x86-next', gen: 'S2', backend: 'snp', setup: [...S, allocate(), memoryFailure()], op: launchUpdate(), want: { rows: ['GP.5'], ret: [-EIO], max: 0 } },
  { row: 'GP.5', on: 'kvm-x86-next', gen: 'S2', backend: 'snp', setup: [...setupOps({ holes: [0] }), allocate(), memoryFailure()], op: launchUpdate(), want: { rows: ['S2.7'], ret: [-EIO] } },
  { row: 'GP.5', on: 'kvm-x86-next-2025.11.07', gen: 'S1', backend: 'snp', setup: [...S, launchUpdate(), memoryFailure()], op: launchUpdate(), want: { rows: ['GP.5'], ret: [-EIO] } },
  { row: 'GP.5', on: 'v7.0', gen: 'T2', backend: 'tdx', setup: [...S, allocate({ at: 1 }), memoryFailure(1)], op: initMemRegion({ nr_pages: 2 }), want: { rows: ['GP.5'], ret: [-EHWPOISON], min: 1, max: 1 } },
  { row: 'GP.5', on: 'kvm-x86-next-2025.11.07', gen: 'T1', backend: 'tdx', setup: [...S, initMemRegion(), memoryFailure()], op: initMemRegion(), want: { rows: ['GP.5'], ret: [-EHWPOISON] } },
  // S1
  { row: 'S1.8', on: 'kvm-x86-next-2025.11.07', gen: 'S1', backend: 'snp', setup: S, op: launchUpdate({ len: 0 }), want: { rows: ['S1.8'], ret: [-EINVAL, 0], max: 0 } },
  { row: 'S1.11', on: 'kvm-x86-next-2025.11.07', gen: 'S1', backend: 'snp', setup: S, op: launchUpdate({ at: SLOT_PAGES, len: 0 }), want: { rows: ['S1.11'], ret: [-EINVAL] } },
  { row: 'S1.9', on: 'kvm-x86-next-2025.11.07', gen: 'S1', backend: 'snp', setup: S, op: launchUpdate({ uaddr: SRC + 1, npages: 2 }), want: { rows: ['S1.1'], ret: [0], max: 2 } },
  { row: 'S1.10', on: 'kvm-x86-next-2025.11.07', gen: 'S1', backend: 'snp', setup: S, op: launchUpdate({ uaddr: 0 }), want: { rows: ['S1.10'], ret: [-EIO] } },
  { row: 'S1.12', on: 'kvm-x86-next-2025.11.07', gen: 'S1', backend: 'snp', setup: [...S, launchUpdate()], op: launchUpdate(), want: { rows: ['S1.12'], ret: [-EIO] } },
  { row: 'S1.3', on: 'kvm-x86-next-2025.11.07', gen: 'S1', backend: 'snp', setup: S, op: launchUpdate({ npages: 6 }), want: { rows: ['S1.1'], ret: [0], min: 4, max: 6 } },
  { row: 'S1.13', on: 'kvm-x86-next-2025.11.07', gen: 'S1', backend: 'snp', setup: setupOps({ holes: [2] }), op: launchUpdate({ npages: 4 }), want: { rows: ['S1.20', 'S1.13'], max: 2, relational: true } },
  // T2
  { row: 'T.1', on: 'kvm-x86-next', gen: 'T2', backend: 'tdx', setup: S, op: initMemRegion({ nr_pages: 3 }), want: { rows: ['T.1'], ret: [0], min: 3, max: 3 } },
  { row: 'T.3', on: 'kvm-x86-next', gen: 'T2', backend: 'tdx', setup: S, op: initMemRegion({ flags: 3 }), want: { rows: ['T.3'], ret: [-EINVAL] } },
  { row: 'T.6', on: 'kvm-x86-next', gen: 'T2', backend: 'tdx', setup: S, op: initMemRegion({ source_addr: SRC + 1 }), want: { rows: ['T.6'], ret: [-EINVAL] } },
  { row: 'T.7', on: 'kvm-x86-next', gen: 'T2', backend: 'tdx', setup: S, op: initMemRegion({ gpa: G * PS + 1 }), want: { rows: ['T.7'], ret: [-EINVAL] } },
  { row: 'T.8', on: 'kvm-x86-next', gen: 'T2', backend: 'tdx', setup: S, op: initMemRegion({ source_addr: 0 }), want: { rows: ['T.8'], ret: [-EINVAL, -EOPNOTSUPP, -EFAULT] } },
  { row: 'T.8', on: 'v7.0', gen: 'T2', backend: 'tdx', setup: [...S, allocate(), memoryFailure()], op: initMemRegion({ source_addr: 0 }), want: { rows: ['T.8'], ret: [-EINVAL, -EOPNOTSUPP, -EFAULT, -EHWPOISON] } },
  { row: 'T.9', on: 'kvm-x86-next', gen: 'T2', backend: 'tdx', setup: [...S, finalize], op: initMemRegion(), want: { rows: ['T.9'], ret: [-EINVAL] } },
  { row: 'T.5', on: 'kvm-x86-next', gen: 'T2', backend: 'tdx', setup: setupOps({ private: [0, 1] }), op: initMemRegion({ nr_pages: 2 }), want: { rows: ['T.5'], ret: [-EINVAL], min: 1, max: 1 } },
  { row: 'T.gp', on: 'kvm-x86-next', gen: 'T2', backend: 'tdx', setup: S, op: initMemRegion({ at: 7, nr_pages: 3 }), want: { rows: ['T.gp'], ret: [-EINVAL], max: 1 } },
  { row: 'T.src', on: 'kvm-x86-next', gen: 'T2', backend: 'tdx', setup: setupOps({ holes: [0], private: null }), op: initMemRegion(), want: { rows: ['T.src'], ret: [-EFAULT], max: 0 } },
  { row: 'T.13', on: 'kvm-x86-next', gen: 'T2', backend: 'tdx', setup: [...S, initMemRegion()], op: initMemRegion(), want: { rows: ['T.13'], ret: [-EIO] } },
  // T1
  { row: 'T.8', on: 'kvm-x86-next-2025.11.07', gen: 'T1', backend: 'tdx', setup: S, op: initMemRegion({ source_addr: 0 }), want: { rows: ['T.8'], ret: [-EFAULT, -EOPNOTSUPP] } },
  { row: 'T.13', on: 'kvm-x86-next-2025.11.07', gen: 'T1', backend: 'tdx', setup: [...S, initMemRegion()], op: initMemRegion(), want: { rows: ['T.13'], ret: [-EEXIST, -EIO] } },
  { row: 'T.13', on: 'kvm-x86-next-2025.11.07', gen: 'T1', backend: 'tdx', setup: [...S, initMemRegion(), ...roundTrip], op: initMemRegion(), want: { rows: ['T.13'], ret: [-EEXIST], or: { rows: ['T.1'], ret: [0], min: 1, max: 1 } } },
  { row: 'T.5', on: 'kvm-x86-next-2025.11.07', gen: 'T1', backend: 'tdx', setup: setupOps({ holes: [0], private: null }), op: initMemRegion(), want: { rows: ['T.5', 'T.src'], ret: [-EINVAL, -EFAULT] } },
  // R9
  { row: 'R9.1', on: 'rme-v9', gen: 'R9', backend: 'cca', setup: C, op: rmiPopulate({ npages: 2 }), want: { rows: ['R9.1'], ret: [0], max: 2 } },
  { row: 'R9.2', on: 'rme-v9', gen: 'R9', backend: 'cca', setup: [...C, activate], op: rmiPopulate(), want: { rows: ['R9.2'], ret: [-EPERM] } },
  { row: 'R9.3', on: 'rme-v9', gen: 'R9', backend: 'cca', setup: C, op: armOp({ flags: 2 }), want: { rows: ['R9.3'], ret: [-EINVAL] } },
  { row: 'R9.4', on: 'rme-v9', gen: 'R9', backend: 'cca', setup: C, op: rmiPopulate({ npages: 0 }), want: { rows: ['R9.4'], ret: [0], max: 0 } },
  { row: 'R9.4', on: 'rme-v9', gen: 'R9', backend: 'cca', setup: C, op: armOp({ size: WRAP }), want: { rows: ['R9.4'], ret: [-EINVAL] } },
  { row: 'R9.5', on: 'rme-v9', gen: 'R9', backend: 'cca', setup: C, op: rmiPopulate({ at: 1, npages: 2 }), want: { rows: ['R9.5'], ret: [-EINVAL] } },
  { row: 'R9.6', on: 'rme-v9', gen: 'R9', backend: 'cca', setup: C1, op: rmiPopulate({ npages: 2 }), want: { rows: ['R9.6', 'R9.8'], ret: [-EFAULT], max: 0 } },
  { row: 'R9.7', on: 'rme-v9', gen: 'R9', backend: 'cca', setup: [...C, rmiPopulate()], op: rmiPopulate(), want: { rows: ['R9.7'], ret: [-ENXIO] } },
  { row: 'R9.src', on: 'rme-v9', gen: 'R9', backend: 'cca', setup: C, op: rmiPopulate({ source_uaddr: SRC + PS }), want: { none: 'R9.src: not expressible in the v9 uAPI (the model answers -ENOTTY): no verdict' } },
  // R12
  { row: 'R12.1', on: 'rme-v12', gen: 'R12', backend: 'cca', setup: C, op: rmiPopulate({ npages: 2 }), want: { rows: ['R12.1'], ret: [2 * PS], max: 2 } },
  { row: 'R12.2', on: 'rme-v12', gen: 'R12', backend: 'cca', setup: [...C, rmiPopulate(), activate], op: rmiPopulate({ at: 1 }), want: { rows: ['R12.2'], ret: [-EBUSY] } },
  // No wrap test in v12: a size whose base + size wraps is cut at the memslot's end (GP.3).
  { row: 'R12.1', on: 'rme-v12', gen: 'R12', backend: 'cca', setup: C, op: armOp({ size: WRAP }), want: { rows: ['R12.1', 'GP.3'], ret: [2 * PS], max: 2 } },
  { row: 'R12.4', on: 'rme-v12', gen: 'R12', backend: 'cca', setup: C, op: armOp({ reserved: 1 }), want: { rows: ['R12.4'], ret: [-EINVAL] } },
  { row: 'R12.5', on: 'rme-v12', gen: 'R12', backend: 'cca', setup: C, op: rmiPopulate({ npages: 0 }), want: { rows: ['R12.5'], ret: [-EINVAL] } },
  { row: 'R12.7', on: 'rme-v12', gen: 'R12', backend: 'cca', setup: [...C, rmiPopulate()], op: rmiPopulate(), want: { rows: ['R12.7'], ret: [-EEXIST] } },
  { row: 'R12.8', on: 'rme-v12', gen: 'R12', backend: 'cca', setup: C1, op: rmiPopulate({ npages: 2 }), want: { rows: ['R12.8', 'R12.src'], ret: [PS], max: 1 } },
  // RN
  { row: 'RN.1', on: 'rmi-newest', gen: 'RN', backend: 'cca', setup: C, op: rmiPopulate({ npages: 2 }), want: { rows: ['RN.1'], ret: [0], max: 2 } },
  { row: 'RN.2', on: 'rmi-newest', gen: 'RN', backend: 'cca', setup: CS, op: rmiPopulate(), want: { rows: ['RN.2'], ret: [-EINVAL] } },
  { row: 'RN.3', on: 'rmi-newest', gen: 'RN', backend: 'cca', setup: C, op: rmiPopulate({ source_uaddr: 0 }), want: { rows: ['RN.3'], ret: [-EINVAL] } },
  { row: 'RN.4', on: 'rmi-newest', gen: 'RN', backend: 'cca', setup: C, op: armOp({ size: WRAP }), want: { rows: ['RN.4'], ret: [-EINVAL] } },
  { row: 'RN.4', on: 'rmi-newest', gen: 'RN', backend: 'cca', setup: C, op: armOp({ size: BigInt(PS + 1) }), want: { rows: ['RN.4'], ret: [-EINVAL] } },
  { row: 'RN.5', on: 'rmi-newest', gen: 'RN', backend: 'cca', setup: [...C, rmiPopulate(), activate], op: rmiPopulate({ at: 1 }), want: { rows: ['RN.5'], ret: [-EBUSY] } },
  { row: 'RN.8', on: 'rmi-newest', gen: 'RN', backend: 'cca', setup: C, op: rmiPopulate({ npages: 0 }), want: { rows: ['RN.8'], ret: [0], max: 0 } },
  { row: 'RN.10', on: 'rmi-newest', gen: 'RN', backend: 'cca', setup: [...C, rmiPopulate()], op: rmiPopulate({ npages: 2 }), want: { rows: ['RN.10'], ret: [-ENXIO] } },
  { row: 'GP.1', on: 'rmi-newest', gen: 'RN', backend: 'cca', setup: C, op: rmiPopulate({ at: 2 }), want: { rows: ['GP.1'], ret: [-EINVAL] } },
  { row: 'GP.4', on: 'rmi-newest', gen: 'RN', backend: 'cca', setup: C1, op: rmiPopulate({ npages: 2 }), want: { rows: ['GP.4', 'RN.src'], ret: [0], max: 1 } },
  { row: 'RN.11', on: 'rmi-newest', gen: 'RN', backend: 'cca', setup: [...C, rmiPopulate(), punchPage(0, [fw('RMI_RTT_DATA_UNMAP', 'rmm_defect')])], op: rmiPopulate(), want: { relational: true } },
];

describe('the specification, row by row: the condition predicts the documented result', () => {
  for (const c of SPEC_CASES) {
    test(`${c.gen} ${c.row}: ${JSON.stringify(c.want)}`, () => {
      const s: Scenario = c.backend === 'cca' ? ccaScenario(c.setup, c.cca ?? {}) : scenario(c.backend, c.setup);
      const got = predict(c.on, c.gen, s, c.op);
      // The allowed return values are a set: compare them sorted.
      const sorted = <T extends object>(x: T): T => ('ret' in x && Array.isArray(x.ret) ? { ...x, ret: [...(x.ret as number[])].sort((a, b) => a - b) } : x);
      expect(sorted(got)).toMatchObject(sorted(c.want));
    });
  }
});

describe('the VM ioctls, row by row', () => {
  const w = runScenario(scenario('snp', S), rev('kvm-x86-next')).world;
  const row = (op: Op) => predictGeneric(op, w, 'snp', 'A2');
  test.each([
    ['MA.2', { kind: 'set_memory_attributes', address: G * PS, size: PS, attributes: 0n, flags: 1n }, [-EINVAL]],
    ['MA.3', { kind: 'set_memory_attributes', address: G * PS, size: PS, attributes: 1n, flags: 0n }, [-EINVAL]],
    ['MA.4', { kind: 'set_memory_attributes', address: G * PS, size: 0, attributes: 0n, flags: 0n }, [-EINVAL]],
    ['MA.5', { kind: 'set_memory_attributes', address: G * PS, size: PS + 1, attributes: 0n, flags: 0n }, [-EINVAL]],
    ['MA.6', { kind: 'set_memory_attributes', address: G * PS, size: PS, attributes: BigInt(KVM_MEMORY_ATTRIBUTE_PRIVATE), flags: 0n }, [0]],
    ['MA.1', { kind: 'set_memory_attributes', address: G * PS, size: PS, attributes: 0n, flags: 0n }, [0]],
    ['G.2', { kind: 'create_guest_memfd', size: BigInt(PS), flags: 4n }, [-EINVAL]],
    ['G.5', { kind: 'create_guest_memfd', size: BigInt(PS), flags: 2n }, [-EINVAL]],
    ['G.3', { kind: 'create_guest_memfd', size: 0n, flags: 0n }, [-EINVAL]],
    ['G.1', { kind: 'create_guest_memfd', size: BigInt(PS), flags: 1n }, 'fd'],
    ['M.5', { kind: 'set_user_memory_region2', slot: 1, flags: KVM_MEM_GUEST_MEMFD, guest_phys_addr: G * PS, memory_size: PS, userspace_addr: 0, guest_memfd: GMEM, guest_memfd_offset: BigInt(8 * PS) }, [-17]],
    ['M.4', { kind: 'set_user_memory_region2', slot: 1, flags: KVM_MEM_GUEST_MEMFD, guest_phys_addr: 0x100 * PS, memory_size: PS, userspace_addr: 0, guest_memfd: GMEM, guest_memfd_offset: BigInt(9 * PS) }, [-EINVAL]],
    ['M.1', { kind: 'set_user_memory_region2', slot: 1, flags: KVM_MEM_GUEST_MEMFD, guest_phys_addr: 0x100 * PS, memory_size: PS, userspace_addr: 0, guest_memfd: GMEM, guest_memfd_offset: BigInt(8 * PS) }, [0]],
    // Exact u64 arithmetic: an offset whose sum with the size passes 2^63 is past the file (B15).
    ['M.4', { kind: 'set_user_memory_region2', slot: 1, flags: KVM_MEM_GUEST_MEMFD, guest_phys_addr: 0x100 * PS, memory_size: PS, userspace_addr: 0, guest_memfd: GMEM, guest_memfd_offset: (1n << 63n) - BigInt(PS) }, [-EINVAL]],
    ['M.3', { kind: 'set_user_memory_region2', slot: 1, flags: KVM_MEM_GUEST_MEMFD, guest_phys_addr: 0x100 * PS, memory_size: PS, userspace_addr: 0, guest_memfd: GMEM, guest_memfd_offset: 0n }, [-EINVAL, -EEXIST]],
    ['M.6', { kind: 'set_user_memory_region2', slot: 0, flags: KVM_MEM_GUEST_MEMFD, guest_phys_addr: 0x100 * PS, memory_size: PS, userspace_addr: 0, guest_memfd: GMEM, guest_memfd_offset: 0n }, [-EINVAL]],
    // Bit 32 of the u64s: invalid, like every unknown bit.
    ['MA.2', { kind: 'set_memory_attributes', address: G * PS, size: PS, attributes: 0n, flags: 1n << 32n }, [-EINVAL]],
    ['MA.3', { kind: 'set_memory_attributes', address: G * PS, size: PS, attributes: BigInt(KVM_MEMORY_ATTRIBUTE_PRIVATE) | (1n << 32n), flags: 0n }, [-EINVAL]],
    ['G.2', { kind: 'create_guest_memfd', size: BigInt(PS), flags: (1n << 32n) | 1n }, [-EINVAL]],
    ['G.3', { kind: 'create_guest_memfd', size: 1n << 63n, flags: 0n }, [-EINVAL]],
    ['FA.2', { kind: 'punch_hole', guest_memfd: GMEM, offset: 1, len: PS, faults: [] }, [-EINVAL]],
    ['FA.5', { kind: 'punch_hole', guest_memfd: GMEM, offset: 0, len: PS, faults: [] }, [0]],
  ] as [string, Op, readonly number[] | 'fd'][])('%s', (id, op, ret) => {
    expect(row(op)).toMatchObject({ row: { id }, ret });
  });

  test('before KVM_CAP_GUEST_MEMFD_FLAGS (A1) every flag is -EINVAL, MMAP too (G.6)', () => {
    for (const flags of [1n, 2n, 1n << 32n]) expect(predictGeneric({ kind: 'create_guest_memfd', size: BigInt(PS), flags }, w, 'snp', 'A1')).toMatchObject({ row: { id: 'G.6' }, ret: [-EINVAL] });
    expect(predictGeneric({ kind: 'create_guest_memfd', size: BigInt(PS), flags: 0n }, w, 'snp', 'A1')).toMatchObject({ row: { id: 'G.1' }, ret: 'fd' });
  });

  // The table the generators and the oracle read agrees with each revision's kvm_gmem_create()
  // form, and the in-place what-if lifts A1's refusal.
  test.each(REVISIONS.flatMap((r) => r.backends.map((b) => [r.id, b] as const)))('%s on %s: GUEST_MEMFD_FLAG_MMAP accepted exactly where gmemApiOf() says A2', (id, backend) => {
    const on = (inPlace: boolean) => {
      const sc = backend === 'cca' ? ccaScenario([{ kind: 'create_guest_memfd', size: BigInt(PS), flags: 1n }]) : { ...scenario(backend, [{ kind: 'create_guest_memfd', size: BigInt(PS), flags: 1n }]), ...(inPlace ? { inPlace: true as const } : {}) };
      return runScenario(sc, rev(id)).results[0]?.ret;
    };
    expect(on(false) === -EINVAL ? 'A1' : 'A2').toBe(gmemApiOf(rev(id), false));
    if (backend !== 'cca') expect(on(true)).toBeGreaterThan(0);
  });

  test('the in-place trees\' attributes are not judged', () => {
    const wn = runScenario(ccaScenario(C), rev('rmi-newest')).world;
    expect(predictGeneric({ kind: 'set_memory_attributes', address: G * PS, size: PS, attributes: 0n, flags: 1n }, wn, 'cca', 'A2')).toBeUndefined();
  });
});

describe('the KVM_SET_MEMORY_ATTRIBUTES no-op test (MA.6)', () => {
  test('answers from the stored entries, for a range of any size a u64 allows', () => {
    const stored = new Map([[16, 8], [17, 8]]);
    expect(rangeHas(stored, 16, 18, 8)).toBe(true);
    expect(rangeHas(stored, 16, 19, 8)).toBe(false);
    expect(rangeHas(stored, 18, 2 ** 52, 0)).toBe(true);
    expect(rangeHas(stored, 0, 2 ** 52, 0)).toBe(false);
    // 2^52 gfns: listing them (what the oracle did) throws RangeError; this answers at once.
    expect(rangeHas(stored, 0, 2 ** 52, 8)).toBe(false);
  });
});

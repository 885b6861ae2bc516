import { describe, expect, test } from 'vitest';
import { EFAULT, EINTR, EINVAL, EOPNOTSUPP } from '../../model/kernel/errno.js';
import { runScenario } from '../../model/scenario/runScenario.js';
import type { BackendId, Op } from '../../model/scenario/Scenario.js';
import { issuesOf, scenarioSchema } from '../../model/scenario/schema.js';
import { rev } from '../invariants/caseTable.js';
import { BASE_GFN, PS, launchUpdate, scenario, setupOps } from './fixtures.js';

const GPA = BigInt(BASE_GFN * PS);

function preFault(o: Partial<{ gpa: bigint; size: bigint; flags: bigint; arg_readonly: true; signal: true }> = {}): Op {
  return {
    kind: 'pre_fault_memory', gpa: o.gpa ?? GPA, size: o.size ?? BigInt(2 * PS), flags: o.flags ?? 0n,
    ...(o.arg_readonly === undefined ? {} : { arg_readonly: true }), faults: o.signal === undefined ? [] : [{ kind: 'signal', nth: 1 }],
  };
}

function last(backend: BackendId, ops: readonly Op[], revision = 'kvm-x86-next') {
  const r = runScenario(scenario(backend, [...setupOps(), ...ops]), rev(revision));
  const res = r.results[r.results.length - 1];
  if (res === undefined) throw new Error('no result');
  return { r, res };
}

describe('KVM_PRE_FAULT_MEMORY before the launch finishes', () => {
  for (const backend of ['snp', 'tdx'] as const) {
    test(`${backend}: a valid private range is refused for the VM's state, nothing mapped, the range as it was`, () => {
      const { r, res } = last(backend, [preFault()]);
      expect([res.ret, res.out]).toEqual([-EOPNOTSUPP, { gpa: Number(GPA), size: 2 * PS }]);
      // No folio, no firmware command, no state change: only the vCPU mutex and SRCU.
      const log = r.world.log.slice(r.world.log.findLastIndex((e) => e.kind === 'op_begin'));
      expect([...new Set(log.map((e) => e.kind))].filter((k) => !['op_begin', 'op_end', 'lock', 'call', 'note'].includes(k))).toEqual([]);
      expect(log.flatMap((e) => (e.kind === 'lock' && e.action === 'acquire' ? [e.lock] : []))).toEqual(['vcpu0->mutex', 'kvm->srcu']);
    });
  }

  test('the generic checks first: flags, alignment, size 0, a range that wraps (as u64s)', () => {
    const top = (1n << 64n) - BigInt(PS);
    // A range ending at 2^64 wraps to 0 too; one ending a page below it does not.
    const cases = [preFault({ flags: 1n }), preFault({ flags: 1n << 63n }), preFault({ gpa: GPA + 1n }), preFault({ size: BigInt(PS) - 1n }), preFault({ size: 0n }), preFault({ gpa: top, size: BigInt(2 * PS) }), preFault({ gpa: top, size: BigInt(PS) }), preFault({ gpa: top - BigInt(PS), size: BigInt(PS) })];
    expect(cases.map((op) => last('tdx', [op]).res.ret)).toEqual([-EINVAL, -EINVAL, -EINVAL, -EINVAL, -EINVAL, -EINVAL, -EINVAL, -EOPNOTSUPP]);
  });

  test('a pending signal is -EINTR; a read-only struct turns any answer into -EFAULT, the range kept as lost', () => {
    expect(last('snp', [preFault({ signal: true })]).res.ret).toBe(-EINTR);
    const { res } = last('snp', [preFault({ arg_readonly: true, flags: 1n })]);
    expect([res.ret, res.lost]).toEqual([-EFAULT, { ret: -EFAULT, out: { gpa: Number(GPA), size: 2 * PS } }]);
  });

  test('paolo-v1 predates the ioctl: -EINVAL, nothing copied back', () => {
    const { res } = last('snp', [preFault({ arg_readonly: true })], 'paolo-v1');
    expect([res.ret, res.lost]).toEqual([-EINVAL, undefined]);
  });

  test('after a populate the answer is the same: populate never allows it', () => {
    expect(last('snp', [launchUpdate(), preFault()]).res.ret).toBe(-EOPNOTSUPP);
  });
});

describe('after the launch: not modelled', () => {
  test('the schema refuses a pre-fault after a launch-finishing op, and on cca', () => {
    const base = { geometry: scenario('snp', []).geometry, ub: {} };
    const problems = (backend: BackendId, ops: readonly Op[]) => {
      // As a scenario file holds it: u64s as decimal strings.
      const r = scenarioSchema.safeParse(JSON.parse(JSON.stringify({ ...base, backend, ops }, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))));
      return r.success ? [] : issuesOf(r.error).map((p) => p.message);
    };
    expect(problems('snp', [...setupOps(), { kind: 'snp_launch_finish', faults: [] }, preFault()])).toEqual([expect.stringContaining('KVM_PRE_FAULT_MEMORY is modelled before the launch finishes only')]);
    expect(problems('snp', [...setupOps(), preFault(), { kind: 'snp_launch_finish', faults: [] }])).toEqual([]);
    expect(problems('cca', [preFault()])).toEqual([expect.stringContaining('modelled for snp and tdx')]);
  });

  test('a run that gets there anyway (no schema) stops with a model error, not a verdict', () => {
    const r = runScenario(scenario('tdx', [...setupOps(), { kind: 'tdx_finalize_vm', faults: [] }, preFault()]), rev('kvm-x86-next'));
    const crash = r.crash?.crash;
    expect(crash?.kind === 'exception' ? crash.message : crash?.kind).toContain('is not modelled');
  });
});

import { describe, expect, test } from 'vitest';
import { EINVAL } from '../../model/kernel/errno.js';
import { U64_MAX, type u64 } from '../../model/kernel/u64.js';
import { revisionsFor } from '../../model/revisions/registry.js';
import type { Revision } from '../../model/revisions/Revision.js';
import { judge } from '../../properties/explore.js';
import { keyOf } from '../../properties/signature.js';
import { INVARIANTS } from '../../properties/registry.js';
import { BASE_GFN, launchUpdate, PS, scenario, setupOps, SLOT_PAGES } from './fixtures.js';

/**
 * The two `__u64` fields of `struct kvm_sev_snp_launch_update` at the values a syscall fuzzer
 * sends (generators/ops/snp.ts u64EdgeOf), on every SNP revision: snp_launch_update() looks
 * gfn_start up with gfn_to_memslot() (no slot: -EINVAL, before any page), divides len into a
 * `long npages` that kvm_gmem_populate() cuts at the slot's end, and writes both back advanced
 * by the pages populated, len as the u64 C leaves it
 * (torvalds/linux:arch/x86/kvm/svm/sev.c@0097f9df, v7.0 alike).
 */
const SNP = revisionsFor('snp');
const ZERO = 3;

function run(revision: Revision, fields: { gfn_start?: u64; len?: u64 }) {
  const j = judge(scenario('snp', [...setupOps(), launchUpdate({ type: ZERO, uaddr: 0, ...fields })]), revision, INVARIANTS);
  const r = j.run.results.at(-1);
  const fw = j.run.world.log.filter((e) => e.kind === 'fw').length;
  return { ret: r?.ret, out: r?.out ?? {}, fw, keys: new Set(j.violations.map(keyOf)), modelError: j.modelError };
}

describe.each(SNP.map((r) => [r.id, r] as const))('%s: gfn_start and len past 32 bits', (_id, revision) => {
  test.each([
    ['the largest u64', U64_MAX],
    ['2^63 above the slot', (1n << 63n) + BigInt(BASE_GFN)],
    ['2^32 above the slot', (1n << 32n) + BigInt(BASE_GFN)],
  ])('a gfn_start no memslot holds (%s): -EINVAL before any firmware command, nothing written back', (_what, gfn_start) => {
    const setup = run(revision, { len: 0n }).fw;
    const got = run(revision, { gfn_start });
    expect(got.modelError).toBeUndefined();
    expect(got.ret).toBe(-EINVAL);
    expect(got.fw).toBe(setup);
    expect(got.out.gfn_start).toBe(Number(gfn_start));
  });

  test('a len of 2^64 - PAGE_SIZE does what a len to the slot\'s end does, and writes back the u64 C leaves', () => {
    const whole = run(revision, { len: BigInt(SLOT_PAGES * PS) });
    const big = U64_MAX + 1n - BigInt(PS);
    const got = run(revision, { len: big });
    expect(got.modelError).toBeUndefined();
    expect(got.ret).toBe(whole.ret);
    expect(got.ret).toBe(0);
    expect(got.fw).toBe(whole.fw);
    expect(got.keys).toEqual(whole.keys);
    const count = (got.out.gfn_start ?? 0) - BASE_GFN;
    expect(count).toBe((whole.out.gfn_start ?? 0) - BASE_GFN);
    expect(count).toBeGreaterThan(0);
    expect(got.out.len).toBe(Number(big - BigInt(count * PS)));
  });

  test('a len of 2^32 + PAGE_SIZE is more than the slot, not one page', () => {
    const whole = run(revision, { len: BigInt(SLOT_PAGES * PS) });
    const got = run(revision, { len: (1n << 32n) + BigInt(PS) });
    expect(got.ret).toBe(0);
    expect(got.out.gfn_start).toBe(whole.out.gfn_start);
    expect(got.out.len).toBe(2 ** 32 + PS - ((whole.out.gfn_start ?? 0) - BASE_GFN) * PS);
  });

  test('a len of 2^64 - 1 is not page-aligned: -EINVAL', () => {
    expect(run(revision, { len: U64_MAX }).ret).toBe(-EINVAL);
  });
});

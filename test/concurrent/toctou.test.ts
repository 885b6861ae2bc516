import { beforeAll, describe, expect, test } from 'vitest';
import { loadConcurrent, type ConcurrentModel } from '../../model/concurrent/load.js';
import { nonPreemptive } from '../../model/concurrent/scheduler.js';
import { EAGAIN, ENOTTY } from '../../model/kernel/errno.js';
import { GUEST_MEMFD_FLAG_MMAP, VM_FAULT_SIGBUS } from '../../model/kernel/guest_memfd.js';
import { GUEST_MEMFD_FLAG_INIT_PRIVATE, GUEST_MEMFD_FLAG_SUPPORT_SHARED } from '../../model/kernel/guest_memfd_inplace_rfc_v2.js';
import type { Revision } from '../../model/revisions/Revision.js';
import type { Op, Scenario } from '../../model/scenario/Scenario.js';
import { expectedInterleaving, exploreExhaustive, exploreRandom, isExpected, judgeThreads, missedBugs, replayOn, RFC_V2_FAULT_PAST_EOF, TOCTOU, type InterleaveCell } from '../../properties/interleave.js';
import { counterexampleTimeline } from '../../reports/timeline.js';
import { GMEM, PS, SLOT_PAGES, scenario, setupOps } from '../model/fixtures.js';
import { suiteSeed } from '../suite.js';

/**
 * B20 (kernel-facts §5.2, §6): a host fault on the VMM's mapping of a guest_memfd checks that
 * the page is shared, then maps it; a conversion to private landing in between leaves the host
 * mapping a private page. Ackerley Tng's RFC v2 as posted closes the window twice (the check and
 * the folio look-up in one section under the invalidate lock, which conversions take exclusive;
 * the folio's reference, held until the PTE is installed, makes the conversion back off with
 * -EAGAIN), as the review thread concluded; v8 does the same under the attributes' documented
 * lock. The injected forms (model/kernel/inplace_series.ts) each take one defence away, and the
 * TOCTOU happens. Everything here is under in-place semantics (the in-place what-if).
 */
let m: ConcurrentModel;
beforeAll(async () => {
  m = await loadConcurrent();
}, 120_000);

function v70(): Revision {
  const r = m.revisionById('v7.0');
  if (r === undefined) throw new Error('no v7.0 in the concurrent build');
  return r;
}

const AS_POSTED = ['v8', 'rfc-v2'] as const;
const INJECTED = ['rfc-v2~check-outside-lock', 'rfc-v2~no-safe-refcount'] as const;
const CELLS = [['snp', 'v7.0'], ['tdx', 'kvm-x86-next']] as const;

/** The page past the memslot's binding (the fixtures' file has one spare page): the VMM's shared window. */
const WINDOW = SLOT_PAGES;
const fault: Op = { kind: 'gmem_user_fault', guest_memfd: GMEM, offset: WINDOW * PS };
const convert = (to: 'shared' | 'private'): Op => ({ kind: 'gmem_convert', guest_memfd: GMEM, offset: WINDOW * PS, size: PS, to });

/** The file created the series' way, every index private, the window converted to shared. */
function race(backend: 'snp' | 'tdx', series: string, threads: readonly (readonly Op[])[]): Scenario {
  const flags = series.startsWith('rfc-v2') ? GUEST_MEMFD_FLAG_SUPPORT_SHARED | GUEST_MEMFD_FLAG_INIT_PRIVATE : GUEST_MEMFD_FLAG_MMAP;
  return { ...scenario(backend, [...setupOps({ gmemFlags: flags }), convert('shared')]), inPlace: series === 'v8' ? true : series, threads };
}

const timeline = counterexampleTimeline;

describe('random mode (PCT over generated threads), under in-place semantics', () => {
  for (const [backend, revision] of CELLS) {
    for (const series of INJECTED) {
      test(`${backend} × ${revision} [in-place ${series}]: the TOCTOU of B20, found and shrunk, drawn as a timeline`, () => {
        const cell: InterleaveCell = { backend, revision, inPlace: true, series };
        const o = exploreRandom(m, cell, { runs: 400, seed: suiteSeed(), depth: 3 });
        expect(o.status).toBe('violated');
        if (o.status !== 'violated') return;
        // B20 and RFC v2's WARN past the file's end (one thread), and nothing else.
        const signatures = o.counterexamples.map((x) => x.verdict.signature);
        expect(signatures.filter((s) => !isExpected(expectedInterleaving(cell), s))).toEqual([]);
        expect(missedBugs(expectedInterleaving(cell), signatures)).toEqual([]);
        const c = o.counterexamples.find((x) => x.verdict.signature.startsWith(TOCTOU));
        expect(c).toBeDefined();
        if (c === undefined) return;
        const text = timeline(c);
        console.log(`${backend} × ${revision} [in-place ${series}], found after ${c.runsToFind} runs, shrunk to ${c.size.threads} threads, ${c.size.ops} operations, ${c.size.steps} steps, ${c.size.preemptions} preemption(s):\n${text}\nreplay: ${JSON.stringify(c.scenario, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v))}`);
        // The two operations of the race, one preemption between the fault's check and its PTE.
        expect(c.size).toMatchObject({ threads: 2, ops: 2, preemptions: 1 });
        expect((c.scenario.threads ?? []).flat().map((op) => op.kind).sort()).toEqual(['gmem_convert', 'gmem_user_fault']);
        expect(text).toContain('◀ op');
        // The timeline ends at the bad mapping, and the scenario with its schedule replays it.
        expect(text).toContain('✗ no-double-private/hostMapsPrivate');
        expect(replayOn(m, cell, c.scenario).verdict).toEqual(c.verdict);
      });
    }
    for (const series of AS_POSTED) {
      test(`${backend} × ${revision} [in-place ${series}]: no TOCTOU, the race reached and each defence seen working`, () => {
        const o = exploreRandom(m, { backend, revision, inPlace: true, series }, { runs: 300, seed: suiteSeed(), depth: 3 });
        // v8 holds. RFC v2 as posted shows one finding, in one thread: a host fault past the
        // file's end reaches the shareability WARN (Yan Zhao's report on 02/51).
        const found = o.status === 'violated' ? o.counterexamples : [];
        expect(found.map((c) => c.verdict.signature)).toEqual(series === 'rfc-v2' ? [RFC_V2_FAULT_PAST_EOF] : []);
        for (const c of found) {
          expect(c.size).toMatchObject({ threads: 1, ops: 1, preemptions: 0 });
          const op = c.scenario.threads?.[0]?.[0];
          const file = c.scenario.ops.find((x) => x.kind === 'create_guest_memfd');
          expect(op?.kind === 'gmem_user_fault' && file?.kind === 'create_guest_memfd' && BigInt(op.offset) >= file.size).toBe(true);
        }
        // A fault and a conversion to private of the window in flight together, a conversion
        // refused for the reference a fault held, a fault refused a page gone private. Fewest
        // over seeds 1..30: 50, 9 and 15 runs of 300.
        expect(o.cases.overlap).toBeGreaterThanOrEqual(20);
        expect(o.cases['convert-refused']).toBeGreaterThanOrEqual(2);
        expect(o.cases['fault-refused']).toBeGreaterThanOrEqual(6);
      });
    }
  }
});

describe('bounded-exhaustive: a host fault against a conversion to private of the same page', () => {
  for (const [backend, revision] of CELLS) {
    test(`${backend} × ${revision}: the series as posted hold for every schedule within 2 preemptions; each injected form fails within 1`, () => {
      for (const series of AS_POSTED) {
        const r = exploreExhaustive(m, { backend, revision, inPlace: true, series }, race(backend, series, [[fault], [convert('private')]]), 2);
        expect(r.counterexample).toBeUndefined();
        expect(r.complete).toBe(true);
        expect(r.schedules).toBeGreaterThan(10);
      }
      for (const series of INJECTED) {
        const r = exploreExhaustive(m, { backend, revision, inPlace: true, series }, race(backend, series, [[fault], [convert('private')]]), 1);
        expect(r.counterexample?.verdict.signature.startsWith(TOCTOU)).toBe(true);
        expect(r.counterexample?.size.preemptions).toBe(1);
      }
    });
  }
});

describe('the conversion itself, one thread after another', () => {
  const judge = (series: string, threads: readonly (readonly Op[])[]) => judgeThreads(m, race('snp', series, threads), v70(), nonPreemptive);
  test('v8: a mapped page converted to private loses its PTE first; the fault after it gets SIGBUS', () => {
    const j = judge('v8', [[fault], [convert('private')], [fault]]);
    expect(j.verdict.kind).toBe('ok');
    const [mapped, converted, refused] = j.run.results.slice(-3);
    expect([mapped?.ret, converted?.ret, refused?.ret]).toEqual([0, 0, VM_FAULT_SIGBUS]);
    expect(j.run.world.log.some((e) => e.kind === 'gmem_pte' && e.action === 'unmap')).toBe(true);
  });
  test('v8: a conversion to private that meets a fault holding the folio answers -EAGAIN with error_offset', () => {
    // The fault stops after its folio look-up (the invalidate lock's release); the conversion runs whole.
    const sc = race('snp', 'v8', [[fault], [convert('private')]]);
    const r = exploreExhaustive(m, { backend: 'snp', revision: 'v7.0', inPlace: true, series: 'v8' }, sc, 1);
    expect(r.counterexample).toBeUndefined();
    let refused = 0;
    for (let first = 0; first < 40; first++) {
      const j = judgeThreads(m, { ...sc, schedule: [...Array<number>(first).fill(1), 2] }, v70());
      const conv = j.run.results.find((x) => x.op.kind === 'gmem_convert' && x.index >= sc.ops.length);
      if (conv?.ret === -EAGAIN) {
        refused++;
        expect(conv.out.error_offset).toBe(WINDOW * PS);
      }
    }
    expect(refused).toBeGreaterThan(0);
  });
  test('injected v8~no-conversion-checks: the conversion leaves the PTE on a private page, in one thread', () => {
    const j = judge('v8~no-conversion-checks', [[fault], [convert('private')]]);
    expect(j.verdict.kind).toBe('violation');
    expect(j.verdict.kind === 'violation' ? j.verdict.signature : '').toMatch(/^no-double-private\/convertedWhileMapped@/);
  });
  test('a conversion on a kernel without the series is -ENOTTY', () => {
    const sc: Scenario = { ...scenario('snp', setupOps({ gmemFlags: GUEST_MEMFD_FLAG_MMAP })), threads: [[convert('private')]] };
    const j = judgeThreads(m, sc, v70(), nonPreemptive);
    expect(j.run.results.at(-1)?.ret).toBe(-ENOTTY);
  });
});

describe('the in-place series\' own populate against a conversion of its page (random mode)', () => {
  for (const backend of ['snp', 'tdx'] as const) {
    for (const revision of ['inplace-v8', 'inplace-v7'] as const) {
      test(`${backend} × ${revision} [in-place]: nothing beyond the cell's known bugs; the image loaded after the conversion and refused before it`, () => {
        // The set-up writes the image into a bound page through the mapping (shared); one thread
        // converts it to private, another loads it in place. A known bug of the cell (B17 on v7) is
        // the matrix's, set aside here if reached. Fewest over seeds 1..30: 33 loaded, 32 refused.
        const o = exploreRandom(m, { backend, revision, inPlace: true }, { runs: 300, seed: suiteSeed(), depth: 3 });
        expect(o.status === 'violated' ? o.counterexamples.map((c) => c.verdict.signature) : []).toEqual([]);
        expect(o.cases['image-loaded']).toBeGreaterThanOrEqual(20);
        expect(o.cases['image-refused']).toBeGreaterThanOrEqual(20);
      });
    }
  }
});

describe('injected v8~no-conversion-checks under threads (random mode)', () => {
  for (const backend of ['snp', 'tdx'] as const) {
    test(`${backend} × inplace-v8 [in-place v8~no-conversion-checks]: the PTE left on a private page, and behind it the populate granting a page the VMM still maps`, () => {
      const cell: InterleaveCell = { backend, revision: 'inplace-v8', inPlace: true, series: 'v8~no-conversion-checks' };
      const o = exploreRandom(m, cell, { runs: 300, seed: suiteSeed(), depth: 3 });
      const signatures = o.status === 'violated' ? o.counterexamples.map((c) => c.verdict.signature) : [];
      expect(signatures.filter((s) => !isExpected(expectedInterleaving(cell), s))).toEqual([]);
      expect(signatures.some((s) => s.startsWith('no-double-private/convertedWhileMapped@'))).toBe(true);
      expect(signatures.some((s) => s.startsWith('no-double-private/grantWhileMapped@'))).toBe(true);
    });
  }
});

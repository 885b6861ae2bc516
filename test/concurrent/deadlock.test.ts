import { beforeAll, describe, expect, test } from 'vitest';
import { loadConcurrent, type ConcurrentModel } from '../../model/concurrent/load.js';
import { GUEST_MEMFD_FLAG_MMAP } from '../../model/kernel/guest_memfd.js';
import type { Op, Scenario } from '../../model/scenario/Scenario.js';
import { B2_DEADLOCK, B2_SELF_DEADLOCK, expectedInterleaving, exploreExhaustive, exploreRandom, isExpected, replayOn, type InterleaveCell } from '../../properties/interleave.js';
import { counterexampleTimeline } from '../../reports/timeline.js';
import { GMEM, PS, SLOT_PAGES, initMemRegion, launchUpdate, scenario, setupOps } from '../model/fixtures.js';
import { gmemUserAddress } from '../../model/world/userspaceMm.js';
import { suiteSeed } from '../suite.js';

/**
 * B2 shown happening (kernel-facts §1.8, §6 B2): on a tree with the in-place conversion series,
 * the host fault path takes mmap_lock, then the invalidate lock; the populate of v6.11..v6.19
 * takes the invalidate lock, then mmap_lock when GUP or copy_from_user() faults the source in.
 * Both take mmap_lock for read, and readers share: two threads alone never deadlock. A third
 * that asks for mmap_lock for write (mmap(), munmap()) between them queues, and the populate's
 * read queues behind it: three threads, two locks. v7.0 pins the source before the invalidate
 * lock (Roth v3), and holds under every schedule. Every finding here is under in-place semantics
 * (the in-place what-if, model/whatIf.ts).
 */
let m: ConcurrentModel;
beforeAll(async () => {
  m = await loadConcurrent();
}, 120_000);

const OLD = ['v6.17', 'kvm-x86-next-2025.11.07'] as const;
const FIXED = ['rfc-v1', 'v7.0', 'kvm-x86-next'] as const;
const BACKENDS = ['snp', 'tdx'] as const;
/** Runs the random mode gets: the AB-BA's worst over seeds 1..20 is 325 (bench:interleave); 1..30 pass. */
const RUNS = 1000;

const timeline = counterexampleTimeline;

/** The set-up of the lock-order tests, the source page never touched (its access faults). */
function b2(backend: 'snp' | 'tdx', threads: readonly (readonly Op[])[]): Scenario {
  const ops = setupOps({ gmemFlags: GUEST_MEMFD_FLAG_MMAP }).map((o): Op => (o.kind === 'mmap' ? { ...o, untouched: [0] } : o));
  return { ...scenario(backend, ops), inPlace: true, threads };
}
const fault: Op = { kind: 'gmem_user_fault', guest_memfd: GMEM, offset: 0 };
const munmap: Op = { kind: 'munmap', addr: 0x100000, length: 64 };
const populate = (backend: 'snp' | 'tdx'): Op => (backend === 'snp' ? launchUpdate() : initMemRegion());

describe('random mode (PCT over generated threads), under in-place semantics', () => {
  for (const backend of BACKENDS) {
    for (const revision of OLD) {
      test(`${backend} × ${revision} [in-place]: the AB-BA deadlock of B2 and its one-thread form, found and shrunk, drawn as a timeline`, () => {
        const cell: InterleaveCell = { backend, revision, inPlace: true };
        const o = exploreRandom(m, cell, { runs: RUNS, seed: suiteSeed(), depth: 3 });
        expect(o.status).toBe('violated');
        if (o.status !== 'violated') return;
        // Both forms of B2, each found with the other set aside, and nothing else.
        const expected = expectedInterleaving(cell);
        expect(o.counterexamples.map((x) => x.verdict.signature).filter((s) => !isExpected(expected, s))).toEqual([]);
        const self = o.counterexamples.find((x) => x.verdict.signature.startsWith(B2_SELF_DEADLOCK));
        expect(self?.size).toMatchObject({ threads: 1, ops: 1, preemptions: 0 });
        const c = o.counterexamples.find((x) => x.verdict.signature.startsWith(B2_DEADLOCK));
        expect(c).toBeDefined();
        if (c === undefined) return;
        const text = timeline(c);
        console.log(`${backend} × ${revision} [in-place], found after ${c.runsToFind} runs, shrunk to ${c.size.threads} threads, ${c.size.ops} operations, ${c.size.steps} steps, ${c.size.preemptions} preemption(s):\n${text}\nreplay: ${JSON.stringify(c.scenario, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v))}`);
        expect(c.verdict.kind).toBe('deadlock');
        if (c.verdict.kind !== 'deadlock') return;
        expect(c.verdict.signature).toMatch(/^deadlock\/gmem->invalidate_lock\+mm->mmap_lock@/);
        expect(new Set(c.verdict.cycle.map((l) => l.thread)).size).toBe(3);
        expect(c.size).toMatchObject({ threads: 3, ops: 3 });
        expect(c.size.preemptions).toBe(1);
        // The populate waits behind the queued writer, the writer for the fault's read hold, the
        // fault for the populate's invalidate lock.
        expect(c.verdict.cycle.map((l) => `${l.wants.lock} ${l.because}`).sort()).toEqual(['gmem1->invalidate_lock holds', 'mm->mmap_lock holds', 'mm->mmap_lock queued']);
        expect(text).toContain('⊗ waits for mm->mmap_lock (read)');
        expect(text).toMatch(/^deadlock: T\d → T\d → T\d → T\d/m);
        // The scenario, with the schedule it carries, replays it.
        expect(replayOn(m, cell, c.scenario).verdict).toEqual(c.verdict);
      });
    }
    for (const revision of FIXED) {
      test(`${backend} × ${revision} [in-place]: holds, with most runs contended`, () => {
        const o = exploreRandom(m, { backend, revision, inPlace: true }, { runs: 200, seed: suiteSeed(), depth: 3 });
        expect(o).toMatchObject({ status: 'holds', runs: 200 });
        // A run is contended when a thread waited at a lock another held: the interesting case.
        if (o.status === 'holds') expect(o.contended).toBeGreaterThanOrEqual(60);
      });
    }
  }

  test('v6.17 as released: no guest_memfd of a confidential VM can be mmap()ed, so no fault path and no deadlock', () => {
    const o = exploreRandom(m, { backend: 'snp', revision: 'v6.17', inPlace: false }, { runs: 200, seed: suiteSeed(), depth: 3 });
    expect(o.status).toBe('holds');
  });
});

describe('bounded-exhaustive mode on the B2 scenarios', () => {
  for (const backend of BACKENDS) {
    test(`${backend}: two threads (populate, fault) never deadlock on any revision: the readers share mmap_lock`, () => {
      for (const revision of [...OLD, ...FIXED]) {
        const r = exploreExhaustive(m, { backend, revision, inPlace: true }, b2(backend, [[populate(backend)], [fault]]), 2);
        expect({ revision, complete: r.complete, found: r.counterexample?.verdict.kind }).toEqual({ revision, complete: true, found: undefined });
      }
    });

    test(`${backend}: three threads (populate, fault, munmap): the old populate deadlocks within one preemption, the fixed ones hold for every schedule within the bound`, () => {
      const sc = b2(backend, [[populate(backend)], [fault], [munmap]]);
      for (const revision of OLD) {
        const r = exploreExhaustive(m, { backend, revision, inPlace: true }, sc, 1);
        expect(r.counterexample?.verdict.kind).toBe('deadlock');
        expect(r.counterexample?.size.preemptions).toBe(1);
      }
      // Two preemptions on v7.0 (1,096 schedules on SNP, 4,096 on TDX: bench:interleave), one on the others.
      for (const revision of FIXED) {
        const bound = revision === 'v7.0' ? 2 : 1;
        const r = exploreExhaustive(m, { backend, revision, inPlace: true }, sc, bound);
        expect({ revision, complete: r.complete, found: r.counterexample?.verdict.kind }).toEqual({ revision, complete: true, found: undefined });
        expect(r.schedules).toBeGreaterThan(bound === 2 ? 1000 : 100);
      }
    });
  }
});

describe('one thread: a populate source in the VMM\'s own mapping of the guest_memfd, under in-place semantics', () => {
  /** The file's last page (no memslot binds it) shared and untouched, slot page 0 populated from it. */
  const fromMapping = (backend: 'snp' | 'tdx'): Scenario => {
    const src = gmemUserAddress(GMEM, SLOT_PAGES, PS);
    const setup: Op[] = [...setupOps({ gmemFlags: GUEST_MEMFD_FLAG_MMAP }), { kind: 'gmem_convert', guest_memfd: GMEM, offset: SLOT_PAGES * PS, size: PS, to: 'shared' }];
    return { ...scenario(backend, setup), inPlace: true, threads: [[backend === 'snp' ? launchUpdate({ uaddr: src }) : initMemRegion({ source_addr: src })]] };
  };
  for (const backend of BACKENDS) {
    test(`${backend}: the old populate waits for the invalidate lock it holds itself (a cycle of one thread); v7.0 and kvm-x86-next finish`, () => {
      for (const revision of OLD) {
        const r = exploreExhaustive(m, { backend, revision, inPlace: true }, fromMapping(backend), 0);
        const c = r.counterexample;
        expect(c?.verdict.kind).toBe('deadlock');
        if (c?.verdict.kind !== 'deadlock') continue;
        expect(c.verdict.cycle.map((l) => l.thread)).toEqual([1]);
        expect(c.verdict.cycle[0]?.wants.lock).toBe('gmem1->invalidate_lock');
        expect(c.verdict.signature.startsWith(B2_SELF_DEADLOCK)).toBe(true);
        expect(isExpected(expectedInterleaving({ backend, revision, inPlace: true }), c.verdict.signature)).toBe(true);
        const text = timeline(c);
        expect(text).toMatch(/^deadlock: T1 → T1/m);
        console.log(`${backend} × ${revision} [in-place], one thread:\n${text}`);
      }
      for (const revision of ['v7.0', 'kvm-x86-next'] as const) {
        const r = exploreExhaustive(m, { backend, revision, inPlace: true }, fromMapping(backend), 0);
        expect({ revision, complete: r.complete, found: r.counterexample?.verdict.kind }).toEqual({ revision, complete: true, found: undefined });
      }
    });
  }
});

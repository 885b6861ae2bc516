/**
 * The interleavings benchmark (`npm run bench:interleave [-- --seeds N --runs N]`), issue 10's
 * figures: what the scheduler costs (runs per second of one cell's scenarios: the sequential
 * model, the concurrent build on one thread, and with threads under PCT); how many random runs
 * find each form of B2's deadlock (the three-thread AB-BA and the one-thread recursion; median
 * and worst over N seeds, SNP and TDX, each form found with the other set aside); how many
 * schedules the bounded-exhaustive mode runs on the B2 scenarios, and how long it takes; the
 * shrunk size of each counterexample; the same for B20's TOCTOU on the injected forms of RFC v2
 * and RFC v2's WARN past the file's end, and how often the series as posted meet the race and
 * refuse it. Prints tables; exit 2 on a bad argument.
 */
import fc from 'fast-check';
import { parseArgs } from 'node:util';
import { loadConcurrent } from '../model/concurrent/load.js';
import { GUEST_MEMFD_FLAG_MMAP } from '../model/kernel/guest_memfd.js';
import { GUEST_MEMFD_FLAG_INIT_PRIVATE, GUEST_MEMFD_FLAG_SUPPORT_SHARED } from '../model/kernel/guest_memfd_inplace_rfc_v2.js';
import { revisionById } from '../model/revisions/registry.js';
import { runScenario } from '../model/scenario/runScenario.js';
import type { Op, Scenario } from '../model/scenario/Scenario.js';
import { threadedScenarioArb } from '../generators/threads.js';
import { arbitraryFor } from '../properties/explore.js';
import { B2_DEADLOCK, B2_SELF_DEADLOCK, exploreExhaustive, exploreRandom, interleaveCellName, TOCTOU, type InterleaveCell } from '../properties/interleave.js';
import { textTable, type Column } from './textTable.js';

const USAGE = 'usage: npm run bench:interleave -- [--seeds N] [--runs N]';

function parse(): { seeds: number; runs: number } {
  try {
    const { values } = parseArgs({ options: { seeds: { type: 'string', default: '20' }, runs: { type: 'string', default: '2000' } }, strict: true });
    const seeds = Number(values.seeds);
    const runs = Number(values.runs);
    if (!Number.isInteger(seeds) || seeds < 1) throw new Error(`--seeds must be a positive integer, got '${values.seeds}'`);
    if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs must be a positive integer, got '${values.runs}'`);
    return { seeds, runs };
  } catch (e) {
    process.stderr.write(`bench:interleave: ${e instanceof Error ? e.message : String(e)}\n${USAGE}\n`);
    process.exit(2);
  }
}

const { seeds, runs } = parse();
const m = await loadConcurrent();
const L = (head: string): Column => ({ head, align: 'left' });
const R = (head: string): Column => ({ head, align: 'right' });
const ms = (t0: number): number => performance.now() - t0;

/**
 * Random mode on one cell over seeds 1..N, each seed's search ended once every target signature
 * is found (bugs behind bugs: each found with those before it set aside): per target, the rows
 * of the table (found, median and worst runs to find, shrunk sizes).
 */
function hunt(cell: InterleaveCell, targets: readonly (readonly [string, string])[]): string[][] {
  const found = targets.map(() => [] as number[]);
  const sizes = targets.map(() => new Set<string>());
  const t0 = performance.now();
  for (let seed = 1; seed <= seeds; seed++) {
    const enough = (sigs: readonly string[]): boolean => targets.every(([, t]) => sigs.some((x) => x.startsWith(t)));
    const o = exploreRandom(m, cell, { runs, seed, depth: 3, enough });
    if (o.status !== 'violated') continue;
    targets.forEach(([, t], i) => {
      const c = o.counterexamples.find((x) => x.verdict.signature.startsWith(t));
      if (c === undefined) return;
      found[i]?.push(c.runsToFind);
      sizes[i]?.add(`${c.size.threads}t/${c.size.ops}op/${c.size.preemptions}p`);
    });
  }
  const time = `${(ms(t0) / 1000).toFixed(1)} s`;
  return targets.map(([what], i) => {
    const sorted = [...(found[i] ?? [])].sort((a, b) => a - b);
    return [`${interleaveCellName(cell)}`, what, `${sorted.length}/${seeds}`, String(sorted[Math.floor((sorted.length - 1) / 2)] ?? 0), String(sorted.at(-1) ?? '-'), [...(sizes[i] ?? [])].join(' '), i === 0 ? time : ''];
  });
}

// 1. Cost of the scheduler: one cell's scenarios, three ways.
{
  const rows: string[][] = [];
  for (const [backend, id] of [['snp', 'v6.17'], ['tdx', 'kvm-x86-next']] as const) {
    const rev = revisionById(id);
    const conRev = m.revisionById(id);
    if (rev === undefined || conRev === undefined) throw new Error(`no revision ${id}`);
    const scenarios = fc.sample(arbitraryFor({ backend, revision: rev, whatIf: 'in-place' }), { seed: 1, numRuns: 300 });
    const threaded = fc.sample(threadedScenarioArb(backend, 'v8'), { seed: 1, numRuns: 300 });
    const rate = (f: () => void, n: number): string => {
      f();
      const t0 = performance.now();
      f();
      return (n / (ms(t0) / 1000)).toFixed(0);
    };
    const seq = rate(() => { for (const s of scenarios) runScenario(s, rev); }, scenarios.length);
    const one = rate(() => { for (const s of scenarios) m.runThreads(s, conRev); }, scenarios.length);
    const seqThreads = rate(() => { for (const s of threaded) runScenario({ ...s, ops: [...s.ops, ...(s.threads ?? []).flat()], threads: undefined }, rev); }, threaded.length);
    const thr = rate(() => { for (const s of threaded) m.runThreads(s, conRev); }, threaded.length);
    rows.push([`${backend} × ${id} [in-place]`, seq, one, seqThreads, thr]);
  }
  console.log('Runs per second (one core): the generated scenarios of the cell, sequential model vs the concurrent build on one thread;\nthe threaded scenarios with their threads run one after the other (sequential) vs interleaved under the scheduler.');
  console.log(textTable([L('cell'), R('sequential'), R('concurrent, 1 thread'), R('threads run in turn'), R('threads interleaved')], rows, '  '));
}

// 2. Random mode: runs to find B2, its AB-BA and its one-thread form.
{
  const rows: string[][] = [];
  for (const backend of ['snp', 'tdx'] as const) {
    for (const revision of ['v6.17', 'kvm-x86-next-2025.11.07']) {
      rows.push(...hunt({ backend, revision, inPlace: true }, [['AB-BA', B2_DEADLOCK], ['one thread', B2_SELF_DEADLOCK]]));
    }
  }
  console.log(`\nRandom mode (PCT, depth 3, up to ${runs} runs a seed): runs until each form of B2's deadlock, over seeds 1..${seeds}; shrunk size as threads/operations/preemptions.`);
  console.log(textTable([L('cell'), L('finding'), R('found'), R('median'), R('worst'), L('shrunk'), R('time')], rows, '  '));
}

// 3. Bounded-exhaustive mode on the B2 scenarios.
{
  const rows: string[][] = [];
  const setup = (backend: 'snp' | 'tdx', threads: readonly (readonly Op[])[]): Scenario => ({
    backend, geometry: { page_size: 64, pmd_order: 2, nr_host_pages: 192 }, ub: {}, inPlace: true, threads,
    ops: [
      { kind: 'create_guest_memfd', size: 576n, flags: BigInt(GUEST_MEMFD_FLAG_MMAP) },
      { kind: 'set_user_memory_region2', slot: 0, flags: 4, guest_phys_addr: 0x400, memory_size: 512, userspace_addr: 0x40000, guest_memfd: 1, guest_memfd_offset: 0n },
      { kind: 'set_memory_attributes', address: 0x400, size: 512, attributes: 8n, flags: 0n },
      { kind: 'mmap', addr: 0x40000, length: 576, prot: 'rw', holes: [], untouched: [0] },
    ],
  });
  const fault: Op = { kind: 'gmem_user_fault', guest_memfd: 1, offset: 0 };
  const munmap: Op = { kind: 'munmap', addr: 0x100000, length: 64 };
  for (const backend of ['snp', 'tdx'] as const) {
    const populate: Op = backend === 'snp'
      ? { kind: 'snp_launch_update', gfn_start: BigInt(0x10), uaddr: 0x40000, len: BigInt(64), type: 1, flags: 0, faults: [] }
      : { kind: 'tdx_init_mem_region', source_addr: 0x40000, gpa: 0x400, nr_pages: 1n, flags: 1, faults: [] };
    for (const [what, threads] of [['2 threads (populate, fault)', [[populate], [fault]]], ['3 threads (+ munmap)', [[populate], [fault], [munmap]]]] as const) {
      for (const revision of ['v6.17', 'v7.0']) {
        for (const bound of [0, 1, 2]) {
          const t0 = performance.now();
          const r = exploreExhaustive(m, { backend, revision, inPlace: true }, setup(backend, threads), bound);
          const c = r.counterexample;
          rows.push([`${backend} × ${revision}`, what, String(bound), String(r.schedules), r.complete ? 'all' : 'stopped', c === undefined ? '-' : `${c.verdict.kind} (${c.size.steps} steps, ${c.size.preemptions}p)`, `${ms(t0).toFixed(0)} ms`]);
          if (c !== undefined) break;
        }
      }
    }
  }
  console.log('\nBounded-exhaustive mode (CHESS preemption bounding) on the B2 scenarios: schedules run until a deadlock or all of them.');
  console.log(textTable([L('cell [in-place]'), L('scenario'), R('bound'), R('schedules'), L('explored'), L('found'), R('time')], rows, '  '));
}

// 4. B20, the in-place host fault against a conversion to private of the same page.
{
  const rows: string[][] = [];
  const cells = [['snp', 'v7.0'], ['tdx', 'kvm-x86-next']] as const;
  for (const [backend, revision] of cells) {
    for (const series of ['rfc-v2', 'rfc-v2~check-outside-lock', 'rfc-v2~no-safe-refcount']) {
      rows.push(...hunt({ backend, revision, inPlace: true, series }, [...(series === 'rfc-v2' ? [] : [['B20', TOCTOU] as const]), ['fault past EOF', 'warn-reachable/warnWithoutFault@']]));
    }
  }
  console.log(`\nRandom mode (PCT, depth 3, up to ${runs} runs a seed): runs until B20's TOCTOU on the injected forms of RFC v2, and until RFC v2's WARN past the file's end, over seeds 1..${seeds}.`);
  console.log(textTable([L('cell'), L('finding'), R('found'), R('median'), R('worst'), L('shrunk'), R('time')], rows, '  '));

  const cases: string[][] = [];
  for (const [backend, revision] of cells) {
    for (const series of ['v8', 'rfc-v2']) {
      const t0 = performance.now();
      const o = exploreRandom(m, { backend, revision, inPlace: true, series }, { runs: 300, seed: 1, depth: 3 });
      const findings = o.status === 'holds' ? 'none' : o.counterexamples.map((c) => c.verdict.signature).join(', ');
      cases.push([`${backend} × ${revision} [in-place ${series}]`, findings, String(o.cases.overlap), String(o.cases['convert-refused']), String(o.cases['fault-refused']), `${(ms(t0) / 1000).toFixed(1)} s`]);
    }
  }
  console.log('\nThe series as posted, 300 random runs (seed 1): runs with a fault and a conversion of its page in flight at once, with a conversion refused (-EAGAIN) for the reference a fault held, with a fault refused a page gone private.');
  console.log(textTable([L('cell'), L('findings'), R('overlap'), R('convert refused'), R('fault refused'), R('time')], cases, '  '));

  const exhaustive: string[][] = [];
  const window = 9;
  const race = (backend: 'snp' | 'tdx', series: string): Scenario => ({
    backend, geometry: { page_size: 64, pmd_order: 2, nr_host_pages: 192 }, ub: {}, inPlace: series === 'v8' ? true : series,
    ops: [
      { kind: 'create_guest_memfd', size: 640n, flags: BigInt(series.startsWith('rfc-v2') ? GUEST_MEMFD_FLAG_SUPPORT_SHARED | GUEST_MEMFD_FLAG_INIT_PRIVATE : GUEST_MEMFD_FLAG_MMAP) },
      { kind: 'set_user_memory_region2', slot: 0, flags: 4, guest_phys_addr: 0x400, memory_size: 512, userspace_addr: 0x40000, guest_memfd: 1, guest_memfd_offset: 0n },
      { kind: 'gmem_convert', guest_memfd: 1, offset: window * 64, size: 64, to: 'shared' },
    ],
    threads: [[{ kind: 'gmem_user_fault', guest_memfd: 1, offset: window * 64 }], [{ kind: 'gmem_convert', guest_memfd: 1, offset: window * 64, size: 64, to: 'private' }]],
  });
  for (const [backend, revision] of cells) {
    for (const series of ['v8', 'rfc-v2', 'rfc-v2~check-outside-lock', 'rfc-v2~no-safe-refcount']) {
      for (const bound of [0, 1, 2]) {
        const t0 = performance.now();
        const r = exploreExhaustive(m, { backend, revision, inPlace: true, series }, race(backend, series), bound);
        const c = r.counterexample;
        exhaustive.push([`${backend} × ${revision} [in-place ${series}]`, String(bound), String(r.schedules), r.complete ? 'all' : 'stopped', c === undefined ? '-' : `${c.verdict.signature} (${c.size.steps} steps, ${c.size.preemptions}p)`, `${ms(t0).toFixed(0)} ms`]);
        if (c !== undefined) break;
      }
    }
  }
  console.log('\nBounded-exhaustive mode on B20\'s scenario (a host fault on the shared window, its conversion to private): schedules run until a violation or all of them.');
  console.log(textTable([L('cell'), R('bound'), R('schedules'), L('explored'), L('found'), R('time')], exhaustive, '  '));
}

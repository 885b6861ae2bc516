import { BACKENDS } from '../backends/registry.js';
import type { Geometry } from '../geometry.js';
import { GENERIC_OPS, type Op, type Scenario } from './Scenario.js';

/**
 * What a stored scenario may ask of the model. A scenario is data a reviewer may have edited by
 * hand; these limits keep a slip (a count of 1e9, a pasted loop of 80,000 operations) from
 * taking gigabytes or minutes and ending in a RangeError, and say which field to fix.
 *
 * Only counts the model walks are bounded. Every other uAPI field keeps the whole range the
 * model holds (to 2^53 - 1, see schema.ts): an address near the top, a huge offset or unknown
 * flags are what userspace may pass, and the model answers them with the kernel's errno, which
 * is what a scenario pins. Generated counterexamples stay far inside these limits, so what
 * `check --save` writes always loads.
 */

/**
 * The most operations in one scenario. Every invariant runs after every operation and a replay
 * prints each operation's trace, so the cost grows with the count (1,000 one-page operations
 * replay on four revisions in about 2 s). Counterexamples shrink to a dozen operations and the
 * boundary cases need a handful: a longer scenario is an editing mistake, not a test.
 */
export const MAX_SCENARIO_OPS = 1000;

export function tooManyOps(n: number): string {
  return `${n} operations; a scenario has at most ${MAX_SCENARIO_OPS} (MAX_SCENARIO_OPS in model/scenario/limits.ts)`;
}

/**
 * The model's work for one page an operation spans, in bytes copied: its bookkeeping (the
 * kernel model's per-page loops, the invariants' per-page snapshots, the trace) costs about what
 * copying 4 KiB does, and the page's own bytes come on top. Measured on replay, per revision:
 * about 300 µs a page plus 0.09 µs a byte.
 */
function pageWork(page_size: number): number {
  return 4096 + page_size;
}

/**
 * The model's budget for all the pages a scenario's operations span, as pageWork bytes: about
 * 6,000 pages of 16 to 64 bytes, 3,000 of 4096 bytes, 360 of 64 KiB, each about 2 s a revision
 * on replay. The corpus's scenarios span under 100 pages.
 */
export const MAX_SCENARIO_WORK_BYTES = 24 * 2 ** 20;

/** Pages a scenario's operations may span in all, for this page size. */
export function maxScenarioSpanPages(geo: Geometry): number {
  return Math.floor(MAX_SCENARIO_WORK_BYTES / pageWork(geo.page_size));
}

/** A field whose value sizes a loop of the model: its name, its value and the pages it spans. */
interface Span {
  readonly field: string;
  readonly value: number;
  readonly unit: 'bytes' | 'pages';
  readonly pages: number;
}

/**
 * The page ranges an operation makes the model walk. Not here: create_guest_memfd's size (folios
 * are allocated on use, so a 1 TiB guest_memfd costs what a one-page one does), and punch_hole's
 * and munmap's lengths (they walk only the folios and mappings that exist).
 */
function spansOf(op: Op, page_size: number): Span[] {
  const bytes = (field: string, value: number): Span => ({ field, value, unit: 'bytes', pages: Math.ceil(value / page_size) });
  switch (op.kind) {
    case 'set_user_memory_region2': return [bytes('memory_size', op.memory_size)];
    case 'set_memory_attributes': return [bytes('size', op.size)];
    case 'mmap': return [bytes('length', op.length)];
    // Not nr_pages: the TDX loop adds one page at a time and stops at the first that fails, and
    // each page added takes a host page, so any count (2^52 and past, whose size wraps in the
    // C's check, included) walks at most the machine (PopulateRequest.npages). Nor SNP's u64
    // len, nor Arm's u64 size: every kvm_gmem_populate() cuts npages to the slot's end before its
    // loop, and rme-v9's 2 MiB chunks stop at the first one no memslot holds.
    default: return [];
  }
}

/** One way a scenario exceeds the model: where (a path under the scenario) and what. */
export interface LimitProblem {
  readonly path: readonly (string | number)[];
  readonly message: string;
}

/**
 * Operation kinds of another backend, and counts the model cannot afford. The geometry must
 * already be valid (geometryProblem), as the page counts are relative to it.
 */
export function scenarioLimitProblems(s: Scenario): LimitProblem[] {
  if (s.ops.length > MAX_SCENARIO_OPS) {
    // One problem, not one per operation: the file is the mistake.
    return [{ path: ['ops'], message: tooManyOps(s.ops.length) }];
  }
  const out: LimitProblem[] = [];
  const { page_size, nr_host_pages } = s.geometry;
  const mine = BACKENDS[s.backend].ops;
  let spanned = 0;
  for (const [i, op] of s.ops.entries()) {
    if (!GENERIC_OPS.includes(op.kind) && !mine.includes(op.kind)) {
      const owner = Object.values(BACKENDS).find((b) => b.ops.includes(op.kind))?.id ?? 'another backend';
      out.push({ path: ['ops', i, 'kind'], message: `${op.kind} is a ${owner} operation; ${s.backend} scenarios have ${mine.join(', ')} and the common ${GENERIC_OPS.join(', ')}` });
    }
    for (const sp of spansOf(op, page_size)) {
      spanned += sp.pages;
      if (sp.pages <= nr_host_pages) continue;
      const what = sp.unit === 'pages' ? `${sp.value} pages` : `${sp.value} bytes (${sp.pages} pages)`;
      out.push({ path: ['ops', i, sp.field], message: `${what} is more than the machine's ${nr_host_pages} host pages (geometry.nr_host_pages); the model walks every page of it` });
    }
    // mmap tests every page against the list of holes.
    if (op.kind === 'mmap' && op.holes.length > nr_host_pages) {
      out.push({ path: ['ops', i, 'holes'], message: `${op.holes.length} holes is more than the machine's ${nr_host_pages} host pages (geometry.nr_host_pages)` });
    }
  }
  const budget = maxScenarioSpanPages(s.geometry);
  if (out.length === 0 && spanned > budget) {
    out.push({
      path: ['ops'],
      message: `the operations span ${spanned} pages in all (memslots, attributes, mmaps, populates); with ${page_size}-byte pages a scenario may span at most ${budget} (MAX_SCENARIO_WORK_BYTES in model/scenario/limits.ts)`,
    });
  }
  return out;
}

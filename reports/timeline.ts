import type { Pending, ScheduleEnd, Step, WaitLink } from '../model/concurrent/scheduler.js';
import type { Event } from '../model/world/events.js';
import { errnoName } from '../model/kernel/errno.js';
import { threadName } from '../model/scenario/runThreads.js';
import type { Counterexample } from '../properties/interleave.js';

/**
 * A concurrent run as a per-thread timeline: one column per thread, one row per scheduling step,
 * in the column of the thread that ran: the locks it took and dropped, the operations it began
 * and ended, and the switch point where it stopped (what it waits for). The run's end closes it:
 * the wait-for cycle of a deadlock, or the thread that crashed.
 */
export interface TimelineInput {
  /** Thread names by id (1, 2, ...). */
  readonly threads: readonly string[];
  readonly steps: readonly Step[];
  readonly log: readonly Event[];
  readonly end: ScheduleEnd;
  /**
   * The invariant violation the run ended with, if any: shown in the column of the thread whose
   * event broke it, where it happened (`seq`: the log length when it was reported; a fraction for
   * one judged at an operation's end), and the timeline stops there.
   */
  readonly violation?: { readonly seq: number; readonly signature: string; readonly message: string } | undefined;
}

const WIDTH = 38;

function mode(m: string): string {
  return m === 'shared' ? 'read' : 'excl';
}

function stopText(p: Pending): string | undefined {
  switch (p.kind) {
    case 'lock': return `… takes ${p.lock} (${mode(p.mode)}) in ${p.site}`;
    case 'fault': return `… faults at 0x${p.uaddr.toString(16)} in ${p.site}: ${p.lock} (read)`;
    case 'fw': return `… firmware ${p.cmd}`;
    case 'alloc': return `… allocates a ${p.what}`;
    case 'resched': return `… cond_resched()`;
    case 'exit': return '✓ done';
    case 'start': case 'unlock': return undefined;
    default: return p satisfies never;
  }
}

function eventText(e: Event): string | undefined {
  if (e.kind === 'lock' && e.action === 'acquire') return `+ ${e.lock} (${mode(e.mode)}) in ${e.site}`;
  if (e.kind === 'lock' && e.action === 'release') return `- ${e.lock}`;
  if (e.kind === 'op_begin') return `▶ op ${e.index}: ${e.op.kind}`;
  if (e.kind === 'op_end') return `◀ op ${e.index} = ${e.ret < 0 ? errnoName(e.ret) : String(e.ret)}`;
  if (e.kind === 'gmem_pte') return `${e.action === 'map' ? '▣ PTE maps' : '□ PTE zapped:'} gmem${e.file}[${e.index}]`;
  if (e.kind === 'shareability') return `≡ gmem${e.file}[${e.start}${e.end - e.start > 1 ? `..${e.end - 1}` : ''}] now ${e.to}`;
  return undefined;
}

/** Splits at spaces to the column's width (a word longer than the width is cut). */
function wrap(text: string): string[] {
  const out: string[] = [];
  let rest = text;
  while (rest.length > WIDTH) {
    const space = rest.lastIndexOf(' ', WIDTH);
    const cut = space > WIDTH / 2 ? space : WIDTH;
    out.push(rest.slice(0, cut));
    rest = `  ${rest.slice(cut).trimStart()}`;
  }
  out.push(rest);
  return out;
}

function linkText(l: WaitLink): string {
  const why = l.because === 'holds' ? `held by T${l.waitsFor}` : `T${l.waitsFor}, a writer, waits first`;
  return `⊗ waits for ${l.wants.lock} (${mode(l.wants.mode)}): ${why}`;
}

/** The timeline as text. */
export function renderTimeline(t: TimelineInput): string {
  const n = t.threads.length;
  const pad = (s: string): string => s.padEnd(WIDTH);
  const row = (col: number, text: string): string[] =>
    wrap(text).map((piece) => Array.from({ length: n }, (_, i) => pad(i === col ? piece : '│')).join(' ').trimEnd());
  const lines: string[] = [];
  lines.push(t.threads.map((name, i) => pad(`T${i + 1} ${name}`.slice(0, WIDTH))).join(' ').trimEnd());
  lines.push(t.threads.map(() => '─'.repeat(WIDTH)).join(' '));
  const bad = t.violation !== undefined && Number.isInteger(t.violation.seq) ? t.violation : undefined;
  const badText = (v: NonNullable<TimelineInput['violation']>): string => `✗ ${v.signature}: ${v.message}`;
  for (const s of t.steps) {
    const col = s.thread - 1;
    if (col < 0 || col >= n) continue;
    for (let i = s.events[0]; i < s.events[1]; i++) {
      const e = t.log[i];
      const text = e === undefined ? undefined : eventText(e);
      if (text !== undefined) lines.push(...row(col, text));
      if (bad !== undefined && i === bad.seq - 1) {
        lines.push(...row(col, badText(bad)));
        return lines.join('\n');
      }
    }
    // A switch point the thread went on from at once says nothing (a lock it took shows as its
    // `+` line); it shows where another thread ran in between, and a user fault always does.
    const switched = t.steps[t.steps.indexOf(s) + 1]?.thread !== s.thread;
    const quiet = s.to.kind === 'lock' || s.to.kind === 'alloc' || s.to.kind === 'fw' || s.to.kind === 'resched';
    const stop = quiet && !switched ? undefined : stopText(s.to);
    if (stop !== undefined) lines.push(...row(col, stop));
  }
  const end = t.end;
  if (end.kind === 'deadlock') {
    for (const l of end.cycle) lines.push(...row(l.thread - 1, linkText(l)));
    const path = end.cycle.map((l) => `T${l.thread}`);
    lines.push(end.cycle.length === 0 ? 'deadlock: every thread waits' : `deadlock: ${[...path, path[0] ?? ''].join(' → ')} (${path.length === 1 ? 'it waits for a lock it holds itself' : 'each waits for the next'})`);
  } else if (end.kind === 'stuck') {
    for (const l of end.chain) lines.push(...row(l.thread - 1, linkText(l)));
    lines.push(`stuck: ${end.lock} is held by ${end.holder === 0 ? 'the set-up (thread 0)' : `T${end.holder}`}, which has ended: a lock an operation never released`);
  } else if (end.kind === 'crash') {
    lines.push(`T${end.thread} crashed: ${end.error instanceof Error ? end.error.message : String(end.error)}`);
  } else if (end.kind === 'step-limit') {
    lines.push(`stopped after ${end.steps} steps: a thread never stops`);
  }
  if (t.violation !== undefined) lines.push(badText(t.violation));
  return lines.join('\n');
}

/** The timeline of a concurrent counterexample (properties/interleave.ts), ending at its finding. */
export function counterexampleTimeline(c: Pick<Counterexample, 'scenario' | 'run' | 'verdict'>): string {
  const v = c.verdict.kind === 'violation' ? { seq: c.verdict.violation.seq, signature: c.verdict.signature, message: c.verdict.violation.message } : undefined;
  return renderTimeline({ threads: (c.scenario.threads ?? []).map(threadName), steps: c.run.schedule.steps, log: c.run.world.log, end: c.run.schedule.end, violation: v });
}

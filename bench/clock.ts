import { PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks';

/**
 * Where the throughput benchmark's time goes: wall time, the process's CPU time and the
 * garbage collector's pauses over a span of synchronous work. CPU time is the figure to compare
 * across runs on a shared machine: wall time also counts the time another job held the core.
 * CPU time is the whole process's (process.cpuUsage), so V8's helper threads (concurrent
 * marking, the optimizing compiler) count too: they are part of what a scenario costs.
 */

export interface Mark {
  readonly wallMs: number;
  readonly cpuMs: number;
}

export interface Span {
  readonly from: Mark;
  readonly to: Mark;
}

/** What a span cost: wall and CPU milliseconds, and the main thread's GC pauses within it. */
export interface Cost {
  readonly wallMs: number;
  readonly cpuMs: number;
  readonly gcMs: number;
}

export const ZERO: Cost = { wallMs: 0, cpuMs: 0, gcMs: 0 };

export function mark(): Mark {
  const u = process.cpuUsage();
  return { wallMs: performance.now(), cpuMs: (u.user + u.system) / 1000 };
}

export function timed<T>(fn: () => T): { readonly value: T; readonly span: Span } {
  const from = mark();
  const value = fn();
  return { value, span: { from, to: mark() } };
}

export function plus(a: Cost, b: Cost): Cost {
  return { wallMs: a.wallMs + b.wallMs, cpuMs: a.cpuMs + b.cpuMs, gcMs: a.gcMs + b.gcMs };
}

export function minus(a: Cost, b: Cost): Cost {
  return { wallMs: a.wallMs - b.wallMs, cpuMs: a.cpuMs - b.cpuMs, gcMs: a.gcMs - b.gcMs };
}

export function scaled(a: Cost, k: number): Cost {
  return { wallMs: a.wallMs * k, cpuMs: a.cpuMs * k, gcMs: a.gcMs * k };
}

/**
 * The main thread's GC pauses, from perf_hooks' `gc` entries (each with its start on the
 * performance.now() clock and its duration). Entries reach the observer asynchronously, so
 * `settle()` must be awaited after the synchronous work and before `costOf()` asks about it.
 */
export class GcPauses {
  private readonly pauses: { readonly start: number; readonly ms: number }[] = [];
  private readonly observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) this.add(e);
  });

  start(): void {
    this.observer.observe({ entryTypes: ['gc'] });
  }

  stop(): void {
    this.observer.disconnect();
  }

  /** Lets the entries of work already done reach the observer. */
  async settle(): Promise<void> {
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setTimeout(resolve, 0));
  }

  costOf(span: Span): Cost {
    let gcMs = 0;
    for (const p of this.pauses) if (p.start >= span.from.wallMs && p.start < span.to.wallMs) gcMs += p.ms;
    return { wallMs: span.to.wallMs - span.from.wallMs, cpuMs: span.to.cpuMs - span.from.cpuMs, gcMs };
  }

  /** Forgets pauses before `wallMs` (a finished cell's), so costOf() stays cheap. */
  forgetBefore(wallMs: number): void {
    const keep = this.pauses.filter((p) => p.start >= wallMs);
    this.pauses.length = 0;
    this.pauses.push(...keep);
  }

  private add(e: PerformanceEntry): void {
    this.pauses.push({ start: e.startTime, ms: e.duration });
  }
}

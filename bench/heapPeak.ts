/**
 * A sampled peak of the V8 heap in use (process.memoryUsage().heapUsed). The benchmark's loops
 * are synchronous, so a timer would never fire inside them: the loops call tick() once per
 * scenario instead, and every EVERY-th tick reads the heap. process.memoryUsage() also reads
 * the resident set size from /proc, a system call, so reading it on every scenario would add
 * to the times being measured.
 */
const EVERY = 16;

export class HeapPeak {
  private ticks = 0;
  private peakBytes = 0;
  private cellPeakBytes = 0;

  tick(): void {
    if (++this.ticks % EVERY === 0) this.sample();
  }

  sample(): void {
    const used = process.memoryUsage().heapUsed;
    if (used > this.peakBytes) this.peakBytes = used;
    if (used > this.cellPeakBytes) this.cellPeakBytes = used;
  }

  /** The peak since the last call (one cell's), in bytes; starts the next cell's. */
  takeCellPeak(): number {
    this.sample();
    const p = this.cellPeakBytes;
    this.cellPeakBytes = 0;
    return p;
  }

  get peak(): number {
    return this.peakBytes;
  }
}

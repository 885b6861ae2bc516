import { getHeapStatistics } from 'node:v8';

/**
 * A sampled peak of the V8 heap in use: used_heap_size, the figure process.memoryUsage() gives
 * as heapUsed, read without process.memoryUsage()'s system calls for the resident set (in a
 * profile of the benchmark that sampled process.memoryUsage() every 16 scenarios, it took 1.3 %
 * of the time). The benchmark's loops are synchronous, so a timer would never fire inside them:
 * they call tick() once per scenario instead, and every EVERY-th tick reads the heap.
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
    const used = getHeapStatistics().used_heap_size;
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

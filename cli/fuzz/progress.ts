import { formatDuration } from './duration.js';

/**
 * A campaign's progress on stderr: on a terminal one line redrawn in place, otherwise (a CI log)
 * a plain line every so often, which a log keeps readable.
 */

export interface ProgressStats {
  /** Exploration runs so far, those of units still running included. */
  readonly runs: number;
  readonly unitsDone: number;
  readonly running: number;
  /** Distinct signatures met, and those of them new. */
  readonly signatures: number;
  readonly fresh: number;
  readonly elapsedMs: number;
  /** Undefined when not known (a --runs campaign before its first runs). */
  readonly remainingMs: number | undefined;
}

export interface ProgressSink {
  readonly writeErr: (s: string) => void;
  /** stderr is a terminal: redraw one line. */
  readonly tty: boolean;
  /** Without a terminal: a line this often. */
  readonly everyMs: number;
}

/** What the progress line says. */
export function progressLine(s: ProgressStats): string {
  const rate = s.elapsedMs > 0 ? (s.runs * 1000) / s.elapsedMs : 0;
  const left = s.remainingMs === undefined ? '' : `, ${formatDuration(s.remainingMs)} left`;
  return `fuzz: ${s.runs} runs (${rate.toFixed(0)}/s), ${formatDuration(s.elapsedMs)} elapsed${left}; ${s.unitsDone} units done, ${s.running} running; ${s.signatures} signatures, ${s.fresh} new`;
}

/** How often the terminal line is redrawn. */
const REDRAW_MS = 250;

export class Progress {
  private timer: NodeJS.Timeout | undefined;
  private drawn = false;

  constructor(private readonly sink: ProgressSink, private readonly stats: () => ProgressStats) {}

  start(): void {
    this.timer = setInterval(() => this.draw(), this.sink.tty ? REDRAW_MS : this.sink.everyMs);
    // Progress must never keep the process alive on its own.
    this.timer.unref();
  }

  /** A message between progress lines (a new signature): on a terminal, above the redrawn line. */
  say(line: string): void {
    this.sink.writeErr(this.sink.tty && this.drawn ? `\r\x1b[K${line}\n` : `${line}\n`);
    if (this.sink.tty && this.drawn) this.draw();
  }

  private draw(): void {
    const line = progressLine(this.stats());
    if (this.sink.tty) {
      this.sink.writeErr(`\r\x1b[K${line}`);
      this.drawn = true;
    } else this.sink.writeErr(`${line}\n`);
  }

  /** The last line, left on the screen (a terminal) or written once more (a log). */
  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    this.draw();
    if (this.sink.tty) this.sink.writeErr('\n');
  }
}

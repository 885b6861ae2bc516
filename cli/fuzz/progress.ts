import cliProgress from 'cli-progress';
import { formatDuration } from './duration.js';

/**
 * A campaign's progress on stderr: on a terminal a live display (cli-progress), otherwise (a CI
 * log) a plain line every so often, which a log keeps readable.
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
  /** stderr is a terminal: a live display on it. */
  readonly tty: boolean;
  /** The terminal stream the display draws on (stderr). */
  readonly terminal?: NodeJS.WritableStream;
  /** Without a terminal: a line this often. */
  readonly everyMs: number;
}

/** What the progress line says. */
export function progressLine(s: ProgressStats): string {
  const rate = s.elapsedMs > 0 ? (s.runs * 1000) / s.elapsedMs : 0;
  const left = s.remainingMs === undefined ? '' : `, ${formatDuration(s.remainingMs)} left`;
  return `fuzz: ${s.runs} runs (${rate.toFixed(0)}/s), ${formatDuration(s.elapsedMs)} elapsed${left}; ${s.unitsDone} units done, ${s.running} running; ${s.signatures} signatures, ${s.fresh} new`;
}

/** How often the terminal display is redrawn. */
const REDRAW_MS = 250;

/**
 * The live display on a terminal: cli-progress's bar, filled by the time (a --time campaign) or
 * the runs (a --runs one) done, with the progress line's figures beside it. New signatures are
 * printed above it.
 */
class TerminalDisplay {
  private readonly multi: cliProgress.MultiBar;
  private readonly bar: cliProgress.SingleBar;

  constructor(stream: NodeJS.WritableStream) {
    this.multi = new cliProgress.MultiBar({
      stream, fps: 1000 / REDRAW_MS, hideCursor: true, clearOnComplete: false, barsize: 24, noTTYOutput: false,
      format: 'fuzz [{bar}] {percentage}% | {line}',
    }, cliProgress.Presets.shades_classic);
    this.bar = this.multi.create(1, 0, { line: '' });
  }

  draw(s: ProgressStats): void {
    const total = s.remainingMs === undefined ? undefined : s.elapsedMs + s.remainingMs;
    this.bar.setTotal(total === undefined || total <= 0 ? 1 : total);
    this.bar.update(total === undefined ? 0 : s.elapsedMs, { line: progressLine(s).replace(/^fuzz: /, '') });
  }

  say(line: string): void {
    this.multi.log(`${line}\n`);
  }

  stop(s: ProgressStats): void {
    this.draw(s);
    this.multi.stop();
  }
}

export class Progress {
  private timer: NodeJS.Timeout | undefined;
  private readonly display: TerminalDisplay | undefined;

  constructor(private readonly sink: ProgressSink, private readonly stats: () => ProgressStats) {
    this.display = sink.tty && sink.terminal !== undefined ? new TerminalDisplay(sink.terminal) : undefined;
  }

  start(): void {
    this.timer = setInterval(() => this.draw(), this.display !== undefined ? REDRAW_MS : this.sink.everyMs);
    // Progress must never keep the process alive on its own.
    this.timer.unref();
  }

  /** A message between progress lines (a new signature): on a terminal, above the display. */
  say(line: string): void {
    if (this.display !== undefined) this.display.say(line);
    else this.sink.writeErr(`${line}\n`);
  }

  private draw(): void {
    if (this.display !== undefined) this.display.draw(this.stats());
    else this.sink.writeErr(`${progressLine(this.stats())}\n`);
  }

  /** The last figures, left on the screen (a terminal) or written once more (a log). */
  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    if (this.display !== undefined) this.display.stop(this.stats());
    else this.draw();
  }
}

import type { Scenario } from '../../model/scenario/Scenario.js';
import { asScenario, scenarioSchema } from '../../model/scenario/schema.js';
import { jsonReplacer } from '../../model/kernel/u64.js';

/**
 * The watchdog's heartbeat between a campaign unit (worker thread) and the pool (main thread): a
 * SharedArrayBuffer the unit writes before each scenario and the pool reads when it polls. A
 * message per scenario woke the main thread some 300 to 900 times a second and cloned every
 * scenario twice; the pool only needs, every so often, whether the unit moved on and how many
 * runs it has done, and the scenario itself only once the unit has hung or died, when nothing
 * writes any more.
 *
 * Layout: four Int32 slots, then the scenario as UTF-8 JSON (the corpus format). `seq` is odd
 * while a beat is being written (a seqlock): a unit that died in the middle of one has no last
 * scenario to report, rather than half of one.
 */
const SEQ = 0;
const EXPLORE_RUNS = 1;
const PHASE = 2;
const LENGTH = 3;
const HEADER_BYTES = 4 * Int32Array.BYTES_PER_ELEMENT;
/** Room for one scenario's JSON; a larger one (none the generators draw comes near) is not kept. */
const SCENARIO_BYTES = 1 << 20;

export type Phase = 'explore' | 'shrink' | 'corpus';
const PHASES: readonly Phase[] = ['explore', 'shrink', 'corpus'];

export interface Heartbeat {
  readonly phase: Phase;
  readonly scenario: Scenario;
}

export function createHeartbeat(): SharedArrayBuffer {
  return new SharedArrayBuffer(HEADER_BYTES + SCENARIO_BYTES);
}

/** The unit's side. */
export class HeartbeatWriter {
  private readonly header: Int32Array;
  private readonly body: Uint8Array;
  private readonly encoder = new TextEncoder();

  constructor(buffer: SharedArrayBuffer) {
    this.header = new Int32Array(buffer, 0, 4);
    this.body = new Uint8Array(buffer, HEADER_BYTES);
  }

  beat(phase: Phase, scenario: Scenario): void {
    Atomics.add(this.header, SEQ, 1);
    const json = JSON.stringify(scenario, jsonReplacer);
    const { read, written } = this.encoder.encodeInto(json, this.body);
    Atomics.store(this.header, LENGTH, read === json.length ? written : -1);
    Atomics.store(this.header, PHASE, PHASES.indexOf(phase));
    if (phase === 'explore') Atomics.add(this.header, EXPLORE_RUNS, 1);
    Atomics.add(this.header, SEQ, 1);
  }
}

/** The pool's side. */
export class HeartbeatReader {
  private readonly header: Int32Array;
  private readonly body: Uint8Array;

  constructor(buffer: SharedArrayBuffer) {
    this.header = new Int32Array(buffer, 0, 4);
    this.body = new Uint8Array(buffer, HEADER_BYTES);
  }

  /** Beats begun so far, times two (odd: one is being written). */
  seq(): number {
    return Atomics.load(this.header, SEQ);
  }

  /** Scenarios the unit's exploration has run (its heartbeats in the explore phase). */
  exploreRuns(): number {
    return Atomics.load(this.header, EXPLORE_RUNS);
  }

  /** The last beat, when one was written whole; read it only once the unit has stopped. */
  last(): Heartbeat | undefined {
    const seq = this.seq();
    const length = Atomics.load(this.header, LENGTH);
    const phase = PHASES[Atomics.load(this.header, PHASE)];
    if (seq === 0 || seq % 2 === 1 || length < 0 || phase === undefined) return undefined;
    // TextDecoder refuses a view of shared memory: copy the bytes out first.
    const text = new TextDecoder().decode(this.body.slice(0, length));
    return { phase, scenario: asScenario(scenarioSchema.parse(JSON.parse(text))) };
  }
}

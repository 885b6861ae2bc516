import { describe, expect, test } from 'vitest';
import { createHeartbeat, HeartbeatReader, HeartbeatWriter } from '../../cli/fuzz/heartbeat.js';
import type { Scenario } from '../../model/scenario/Scenario.js';
import { launchUpdate, scenario, setupOps } from '../model/fixtures.js';

/** The campaign watchdog's shared-buffer heartbeat: what the pool reads back once a unit stops. */
describe('heartbeat', () => {
  const s: Scenario = scenario('snp', [...setupOps({ gmemFlags: 1 }), launchUpdate()]);

  test('the last scenario comes back whole (u64 fields as bigints), with its phase and the exploration runs counted', () => {
    const buffer = createHeartbeat();
    const w = new HeartbeatWriter(buffer);
    const r = new HeartbeatReader(buffer);
    expect(r.last()).toBeUndefined();
    w.beat('explore', scenario('snp', []));
    w.beat('explore', s);
    w.beat('shrink', s);
    expect(r.exploreRuns()).toBe(2);
    expect(r.seq()).toBe(6);
    expect(r.last()).toEqual({ phase: 'shrink', scenario: s });
    const first = r.last()?.scenario.ops[0];
    expect(first?.kind === 'create_guest_memfd' ? typeof first.size : undefined).toBe('bigint');
  });

  test('a beat half written (the unit died inside it) or too large to keep gives no scenario, not part of one', () => {
    const buffer = createHeartbeat();
    const w = new HeartbeatWriter(buffer);
    w.beat('explore', s);
    const header = new Int32Array(buffer, 0, 4);
    Atomics.add(header, 0, 1);
    expect(new HeartbeatReader(buffer).last()).toBeUndefined();
    Atomics.add(header, 0, 1);
    expect(new HeartbeatReader(buffer).last()?.scenario).toEqual(s);
    const huge: Scenario = { ...s, ops: Array.from({ length: 20_000 }, () => launchUpdate()) };
    w.beat('explore', huge);
    expect(new HeartbeatReader(buffer).last()).toBeUndefined();
  });
});

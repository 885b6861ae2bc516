import { describe, expect, test } from 'vitest';
import { defineFirmwareCommand, invokeFirmware, platformConditions } from '../../model/backends/firmwareCommand.js';
import type { World } from '../../model/world/World.js';
import type { Fault } from '../../model/scenario/Scenario.js';
import { eventsOf, smallWorld } from './fixtures.js';

/**
 * The generic evaluator, on a toy command: `spec_early` and `spec_late` hold from state, the
 * others only when a fault plan forces them; `only_odd` can be forced only on odd arguments.
 */
interface Args {
  readonly n: number;
  readonly early: boolean;
  readonly late: boolean;
}

const effects: string[] = [];
const TOY = defineFirmwareCommand<Args, string>({
  name: 'TOY',
  spec: 'toy',
  failures: [
    { id: 'platform_first', status: 'BUSY' },
    { id: 'spec_early', status: 'EARLY', when: (a) => a.early },
    { id: 'only_odd', status: 'ODD', applies: (a) => a.n % 2 === 1 },
    { id: 'platform_mid', status: 'MID', effect: (a) => effects.push(`mid ${a.n}`) },
    { id: 'spec_late', status: 'LATE', when: (a) => a.late },
    { id: 'platform_last', status: 'LAST' },
  ],
  success: (a) => `ok ${a.n}`,
  describe: (a) => `n=${a.n}`,
  target: (a, w) => a.n * w.geo.page_size,
  grants: (a) => a.n * 10,
});

function worldWith(...plan: Fault[]): World {
  const { w } = smallWorld();
  w.faults = { plan, seen: new Map() };
  return w;
}
const force = (condition: string, nth = 1): Fault => ({ kind: 'fw', cmd: 'TOY', condition, nth });
const args = (n: number, early = false, late = false): Args => ({ n, early, late });

describe('defineFirmwareCommand()', () => {
  test('rejects duplicate condition ids', () => {
    expect(() => defineFirmwareCommand({ ...TOY, failures: [...TOY.failures, { id: 'spec_late', status: 'X' }] })).toThrow('TOY: duplicate condition ids');
  });

  test('platform conditions are the ones without `when`, in table order', () => {
    expect(platformConditions(TOY)).toEqual(['platform_first', 'only_odd', 'platform_mid', 'platform_last']);
  });
});

describe('invokeFirmware()', () => {
  test('succeeds when nothing holds, logging the target and the GPA it grants', () => {
    const w = worldWith();
    expect(invokeFirmware(w, TOY, args(2))).toEqual({ kind: 'succeeded', result: 'ok 2' });
    expect(eventsOf(w, 'fw')).toEqual([{ kind: 'fw', cmd: 'TOY', args: 'n=2', pfn: 2, addr: 2 * w.geo.page_size, grantGpa: 20, outcome: { kind: 'succeeded' } }]);
  });

  test('a spec condition that holds fails the command, unforced', () => {
    const w = worldWith();
    expect(invokeFirmware(w, TOY, args(2, false, true))).toEqual({ kind: 'failed', condition: 'spec_late', status: 'LATE', index: 0 });
    expect(eventsOf(w, 'fw')[0]).toMatchObject({ grantGpa: null, outcome: { kind: 'failed', condition: 'spec_late', status: 'LATE', forced: false } });
  });

  test('a spec condition beats a forced platform condition that comes after it', () => {
    const w = worldWith(force('platform_mid'));
    expect(invokeFirmware(w, TOY, args(2, true))).toMatchObject({ condition: 'spec_early' });
  });

  test('a forced platform condition beats a spec condition that comes after it', () => {
    const w = worldWith(force('platform_mid'));
    expect(invokeFirmware(w, TOY, args(4, false, true))).toMatchObject({ condition: 'platform_mid', status: 'MID' });
    expect(eventsOf(w, 'fw')[0]?.outcome).toMatchObject({ forced: true });
    expect(eventsOf(w, 'fault').map((e) => e.fault)).toEqual(['TOY #1 fails with platform_mid']);
  });

  test('a forced condition runs its effect, once, on failure only', () => {
    effects.length = 0;
    invokeFirmware(worldWith(force('platform_mid')), TOY, args(5));
    invokeFirmware(worldWith(), TOY, args(7));
    expect(effects).toEqual(['mid 5']);
  });

  test('`applies` guards a platform condition: it cannot be forced where it does not apply', () => {
    expect(invokeFirmware(worldWith(force('only_odd')), TOY, args(2))).toEqual({ kind: 'succeeded', result: 'ok 2' });
    expect(invokeFirmware(worldWith(force('only_odd')), TOY, args(3))).toMatchObject({ condition: 'only_odd', status: 'ODD' });
  });

  test('the fault names the nth invocation of this command only', () => {
    const w = worldWith(force('platform_last', 2), { kind: 'fw', cmd: 'OTHER', condition: 'platform_first', nth: 1 });
    expect(invokeFirmware(w, TOY, args(2)).kind).toBe('succeeded');
    expect(invokeFirmware(w, TOY, args(2))).toMatchObject({ condition: 'platform_last' });
    expect(invokeFirmware(w, TOY, args(2)).kind).toBe('succeeded');
    expect(w.faults.seen.get('fw:TOY')).toBe(3);
  });

  test('forcing an id that is a spec condition forces nothing', () => {
    expect(invokeFirmware(worldWith(force('spec_late')), TOY, args(2)).kind).toBe('succeeded');
  });

  test('a fault on a unit of a page fires only on a call that targets a page (PA 0 is none)', () => {
    const onUnit0: Fault = { kind: 'fw', cmd: 'TOY', condition: 'platform_last', nth: 1, unit: 0 };
    expect(invokeFirmware(worldWith(onUnit0), TOY, args(0)).kind).toBe('succeeded');
    expect(invokeFirmware(worldWith(onUnit0), TOY, args(1)).kind).toBe('failed');
  });
});

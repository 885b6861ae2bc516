import { describe, expect, test } from 'vitest';
import { defineInvariant, formatMessage, watch } from '../../properties/Invariant.js';
import { snpBackend } from '../../model/backends/snp/backend.js';
import { createWorld, emit } from '../../model/world/World.js';
import { createSnpState } from '../../model/backends/snp/state.js';
import { GEO } from '../model/fixtures.js';

describe('formatMessage()', () => {
  test('fills placeholders; integers from 256 up print in hex, as kernel logs do', () => {
    expect(formatMessage('pfn {pfn} refcount {n} at {site}', { pfn: 0x104, n: 2, site: 'put_page' })).toBe('pfn 0x104 refcount 2 at put_page');
    expect(formatMessage('{a}/{b}/{c}', { a: 255, b: 256, c: 2.5 })).toBe('255/0x100/2.5');
  });

  test('leaves unknown placeholders as they are', () => {
    expect(formatMessage('{known} {unknown}', { known: 'x' })).toBe('x {unknown}');
  });

  test('prints a negative integer from -256 down as -0x… (finding F2)', () => {
    expect(formatMessage('{a} {b}', { a: -300, b: -255 })).toBe('-0x12c -255');
  });
});

describe('defineInvariant()', () => {
  const base = { id: 'x', cites: [], observes: [], messages: { m: 'msg' }, create: () => ({}) };

  test('requires a "Require ..." or "Forbid ..." description without a trailing period', () => {
    expect(defineInvariant({ ...base, description: 'Require x to hold' }).id).toBe('x');
    expect(() => defineInvariant({ ...base, description: 'Checks that x holds' })).toThrow('x: description must start with Require/Forbid');
    expect(() => defineInvariant({ ...base, description: 'Forbid y.' })).toThrow();
  });
});

describe('watch()', () => {
  const inv = defineInvariant({
    id: 'toy',
    description: 'Forbid notes',
    cites: [],
    observes: ['note'],
    messages: { sawNote: 'note {text} seen', untemplated: '' },
    create: () => ({
      event(e, _w, _b, report) {
        if (e.kind === 'note') report('sawNote', { text: e.text });
      },
      opEnd(r, _w, _b, report) {
        if (r.ret !== 0) report('untemplated', {});
      },
    }),
  });

  test('delivers only observed events, after the first opBegin, and tags violations with the op index and the event they arose at', () => {
    const w = createWorld(GEO, createSnpState(), {}, false);
    const run = watch(inv);
    w.listeners.push((e) => run.observer.event?.(e, w));
    emit(w, { kind: 'note', text: 'before' });
    run.observer.opBegin?.(3, { kind: 'close_vm' }, w, snpBackend);
    emit(w, { kind: 'note', text: 'during' });
    emit(w, { kind: 'fault', fault: 'not observed', source: 'signal' });
    run.observer.opEnd?.({ index: 3, op: { kind: 'close_vm' }, ret: -9, out: {} }, w, snpBackend);
    expect(run.violations).toEqual([
      // No kernel function was running: where they arose is the operation itself. The note was
      // the run's second event; what the operation's end judges comes after its third.
      { invariant: 'toy', messageId: 'sawNote', message: 'note during seen', opIndex: 3, seq: 2, site: 'close_vm' },
      { invariant: 'toy', messageId: 'untemplated', message: '', opIndex: 3, seq: 3.5, site: 'close_vm' },
    ]);
  });
});

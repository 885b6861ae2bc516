import { doWork, emit, type World } from '../world/World.js';
import { fmtArg } from './fmtArg.js';

/**
 * How one service or kernel function is bound into `k` (bind.ts): shared by the sequential
 * binding and the concurrent build's (model/concurrent/bind.ts), which binds generator functions
 * its own way and plain ones as here.
 */
export type AnyFn = (...args: never[]) => unknown;
export type KernelFn = (k: unknown, ...args: never[]) => unknown;

/** A table's functions, listed once per table: every scenario boots from the same tables. */
const tableFunctions = new WeakMap<object, readonly (readonly [string, KernelFn])[]>();

export function functionsOf(table: object): readonly (readonly [string, KernelFn])[] {
  let fns = tableFunctions.get(table);
  if (fns === undefined) {
    fns = Object.entries(table).flatMap(([name, fn]) => (typeof fn === 'function' ? [[name, fn as KernelFn] as const] : []));
    tableFunctions.set(table, fns);
  }
  return fns;
}

/** A service as `k` holds it: itself, or when tracing, wrapped to log its call and result. */
export function bindService(w: World, name: string, f: AnyFn): unknown {
  if (!w.traceCalls) return f;
  return (...args: never[]) => {
    emit(w, { kind: 'call', fn: name, args: args.map(fmtArg).join(', ') });
    const ret = f(...args);
    emit(w, { kind: 'ret', fn: name, ret: fmtArg(ret) });
    return ret;
  };
}

/**
 * A kernel function as `k` holds it: it pushes its name on `w.stack` (the call site services
 * report), counts a unit of work and, when tracing, logs `call`/`ret` events.
 */
export function bindFunction(w: World, k: unknown, name: string, impl: KernelFn): AnyFn {
  const bound = (...args: never[]): unknown => {
    w.stack.push(name);
    try {
      doWork(w);
      if (w.traceCalls) emit(w, { kind: 'call', fn: name, args: args.map(fmtArg).join(', ') });
      const ret = impl(k, ...args);
      if (w.traceCalls) emit(w, { kind: 'ret', fn: name, ret: fmtArg(ret) });
      return ret;
    } catch (e) {
      // The innermost kernel function an exception left, for the oops report.
      w.crashStack ??= [...w.stack];
      throw e;
    } finally {
      w.stack.pop();
    }
  };
  // A trace prints a function argument by its name (fmtArg); nothing else reads it, and
  // naming every function of every table cost a tenth of an empty scenario's boot.
  if (w.traceCalls) Object.defineProperty(bound, 'name', { value: name });
  return bound;
}

import { doWork, emit, type World } from '../world/World.js';
import { fmtArg } from './fmtArg.js';

/**
 * Kernel code is written as tables of functions that take the bound kernel `k` first and call
 * everything else (services, other kernel functions, the revision's own functions) through it.
 * `F` is the table's "header": the C prototypes without `k`. Binding late means a revision that
 * overrides one function changes it for every caller, as relinking the patched file would.
 */
export type Impl<F, K> = {
  readonly [P in keyof F]: F[P] extends (...args: infer A) => infer R ? (k: K, ...args: A) => R : never;
};

type AnyFn = (...args: never[]) => unknown;

export { fmtArg } from './fmtArg.js';

type KernelFn = (k: unknown, ...args: never[]) => unknown;

/** A table's functions, listed once per table: every scenario boots from the same tables. */
const tableFunctions = new WeakMap<object, readonly (readonly [string, KernelFn])[]>();

function functionsOf(table: object): readonly (readonly [string, KernelFn])[] {
  let fns = tableFunctions.get(table);
  if (fns === undefined) {
    fns = Object.entries(table).flatMap(([name, fn]) => (typeof fn === 'function' ? [[name, fn as KernelFn] as const] : []));
    tableFunctions.set(table, fns);
  }
  return fns;
}

/**
 * Builds `k`: services first, then kernel tables in order (later tables override earlier ones,
 * so a revision's table comes last). Every kernel function pushes its name on `w.stack` (the
 * call site services report) and, when tracing, logs `call`/`ret` events.
 */
export function bindKernel<K>(w: World, services: readonly object[], tables: readonly object[]): K {
  const k: Record<string, unknown> = {};
  for (const svc of services) {
    for (const [name, fn] of Object.entries(svc)) {
      if (typeof fn !== 'function') {
        k[name] = fn;
        continue;
      }
      const f = fn as AnyFn;
      k[name] = w.traceCalls
        ? (...args: never[]) => {
            emit(w, { kind: 'call', fn: name, args: args.map(fmtArg).join(', ') });
            const ret = f(...args);
            emit(w, { kind: 'ret', fn: name, ret: fmtArg(ret) });
            return ret;
          }
        : f;
    }
  }
  for (const table of tables) {
    for (const [name, impl] of functionsOf(table)) {
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
      k[name] = bound;
    }
  }
  // The one place a dynamically assembled object is given its static type: every table was
  // type-checked against its header (Impl<F, K>) and every service against its interface.
  return k as K;
}

import type { World } from '../world/World.js';
import { bindFunction, bindService, functionsOf, type AnyFn } from './bindings.js';

/**
 * Kernel code is written as tables of functions that take the bound kernel `k` first and call
 * everything else (services, other kernel functions, the revision's own functions) through it.
 * `F` is the table's "header": the C prototypes without `k`. Binding late means a revision that
 * overrides one function changes it for every caller, as relinking the patched file would.
 */
export type Impl<F, K> = {
  readonly [P in keyof F]: F[P] extends (...args: infer A) => infer R ? (k: K, ...args: A) => R : never;
};

export { fmtArg } from './fmtArg.js';

/**
 * Builds `k`: services first, then kernel tables in order (later tables override earlier ones,
 * so a revision's table comes last). Every kernel function pushes its name on `w.stack` (the
 * call site services report) and, when tracing, logs `call`/`ret` events.
 */
export function bindKernel<K>(w: World, services: readonly object[], tables: readonly object[]): K {
  const k: Record<string, unknown> = {};
  for (const svc of services) {
    for (const [name, fn] of Object.entries(svc)) k[name] = typeof fn === 'function' ? bindService(w, name, fn as AnyFn) : fn;
  }
  for (const table of tables) {
    for (const [name, impl] of functionsOf(table)) k[name] = bindFunction(w, k, name, impl);
  }
  // The one place a dynamically assembled object is given its static type: every table was
  // type-checked against its header (Impl<F, K>) and every service against its interface.
  return k as K;
}

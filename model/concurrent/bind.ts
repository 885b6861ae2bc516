import { doWork, emit, type World } from '../world/World.js';
import { fmtArg } from '../kernel/fmtArg.js';
import { bindFunction, bindService, functionsOf, type AnyFn } from '../kernel/bindings.js';

/**
 * model/kernel/bind.ts as the concurrent build emits it (build.ts OVERRIDES): the same binding,
 * but a kernel function that the build made a generator is bound to a generator wrapper, so the
 * call-site bookkeeping (`w.stack`, the work budget, trace events) happens while the function
 * runs, not when its generator is created. Plain functions are bound as in the sequential model.
 * Call sites in the concurrent build delegate to whatever a binding returns when it is a
 * generator, so one name may be plain in one revision and a generator in another.
 */
export type Impl<F, K> = {
  readonly [P in keyof F]: F[P] extends (...args: infer A) => infer R ? (k: K, ...args: A) => R : never;
};

export { fmtArg } from '../kernel/fmtArg.js';

type GenFn = (...args: never[]) => Generator<unknown, unknown, unknown>;

/** %GeneratorFunction.prototype%: what every generator function inherits from. */
const GENERATOR_FUNCTION_PROTOTYPE: unknown = Object.getPrototypeOf(function* () { /* its prototype only */ });

function isGeneratorFunction(f: unknown): f is GenFn {
  return typeof f === 'function' && Object.getPrototypeOf(f) === GENERATOR_FUNCTION_PROTOTYPE;
}

function bindGeneratorService(w: World, name: string, f: GenFn): unknown {
  if (!w.traceCalls) return f;
  return function* traced(...args: never[]): Generator<unknown, unknown, unknown> {
    emit(w, { kind: 'call', fn: name, args: args.map(fmtArg).join(', ') });
    const ret = yield* f(...args);
    emit(w, { kind: 'ret', fn: name, ret: fmtArg(ret) });
    return ret;
  };
}

/** bindings.ts bindFunction() for a generator: the bookkeeping runs while it runs. */
function bindGeneratorFunction(w: World, k: unknown, name: string, impl: (k: unknown, ...a: never[]) => Generator<unknown, unknown, unknown>): unknown {
  const bound = function* (...args: never[]): Generator<unknown, unknown, unknown> {
    w.stack.push(name);
    try {
      doWork(w);
      if (w.traceCalls) emit(w, { kind: 'call', fn: name, args: args.map(fmtArg).join(', ') });
      const ret = yield* impl(k, ...args);
      if (w.traceCalls) emit(w, { kind: 'ret', fn: name, ret: fmtArg(ret) });
      return ret;
    } catch (e) {
      w.crashStack ??= [...w.stack];
      throw e;
    } finally {
      w.stack.pop();
    }
  };
  if (w.traceCalls) Object.defineProperty(bound, 'name', { value: name });
  return bound;
}

export function bindKernel<K>(w: World, services: readonly object[], tables: readonly object[]): K {
  const k: Record<string, unknown> = {};
  for (const svc of services) {
    for (const [name, fn] of Object.entries(svc)) {
      k[name] = typeof fn !== 'function' ? fn : isGeneratorFunction(fn) ? bindGeneratorService(w, name, fn) : bindService(w, name, fn as AnyFn);
    }
  }
  for (const table of tables) {
    for (const [name, impl] of functionsOf(table)) {
      k[name] = isGeneratorFunction(impl) ? bindGeneratorFunction(w, k, name, impl as unknown as (k: unknown, ...a: never[]) => Generator<unknown, unknown, unknown>) : bindFunction(w, k, name, impl);
    }
  }
  return k as K;
}

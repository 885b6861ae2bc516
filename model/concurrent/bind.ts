import { doWork, emit, type World } from '../world/World.js';
import { fmtArg } from '../kernel/fmtArg.js';

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

type AnyFn = (...args: never[]) => unknown;
type KernelFn = (k: unknown, ...args: never[]) => unknown;
type GenFn = (...args: never[]) => Generator<unknown, unknown, unknown>;

/** %GeneratorFunction.prototype%: what every generator function inherits from. */
const GENERATOR_FUNCTION_PROTOTYPE: unknown = Object.getPrototypeOf(function* () { /* its prototype only */ });

function isGeneratorFunction(f: unknown): f is GenFn {
  return typeof f === 'function' && Object.getPrototypeOf(f) === GENERATOR_FUNCTION_PROTOTYPE;
}

function functionsOf(table: object): (readonly [string, KernelFn])[] {
  return Object.entries(table).flatMap(([name, fn]) => (typeof fn === 'function' ? [[name, fn as KernelFn] as const] : []));
}

function bindService(w: World, name: string, f: AnyFn): unknown {
  if (!w.traceCalls) return f;
  if (isGeneratorFunction(f)) {
    return function* traced(...args: never[]): Generator<unknown, unknown, unknown> {
      emit(w, { kind: 'call', fn: name, args: args.map(fmtArg).join(', ') });
      const ret = yield* f(...args);
      emit(w, { kind: 'ret', fn: name, ret: fmtArg(ret) });
      return ret;
    };
  }
  return (...args: never[]) => {
    emit(w, { kind: 'call', fn: name, args: args.map(fmtArg).join(', ') });
    const ret = f(...args);
    emit(w, { kind: 'ret', fn: name, ret: fmtArg(ret) });
    return ret;
  };
}

function bindFunction(w: World, k: unknown, name: string, impl: KernelFn): unknown {
  const enter = (args: readonly unknown[]): void => {
    w.stack.push(name);
    doWork(w);
    if (w.traceCalls) emit(w, { kind: 'call', fn: name, args: args.map(fmtArg).join(', ') });
  };
  const leave = (ret: unknown): unknown => {
    if (w.traceCalls) emit(w, { kind: 'ret', fn: name, ret: fmtArg(ret) });
    return ret;
  };
  const bound = isGeneratorFunction(impl)
    ? function* (...args: never[]): Generator<unknown, unknown, unknown> {
      try {
        enter(args);
        return leave(yield* (impl as unknown as (k: unknown, ...a: never[]) => Generator<unknown, unknown, unknown>)(k, ...args));
      } catch (e) {
        w.crashStack ??= [...w.stack];
        throw e;
      } finally {
        w.stack.pop();
      }
    }
    : (...args: never[]): unknown => {
      try {
        enter(args);
        return leave(impl(k, ...args));
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
    for (const [name, fn] of Object.entries(svc)) k[name] = typeof fn === 'function' ? bindService(w, name, fn as AnyFn) : fn;
  }
  for (const table of tables) {
    for (const [name, impl] of functionsOf(table)) k[name] = bindFunction(w, k, name, impl);
  }
  return k as K;
}

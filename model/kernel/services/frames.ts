import { doWork, emit, type World } from '../../world/World.js';

/**
 * A kernel function's call frame, for code that bindKernel() does not wrap: the functions of
 * real kernel C compiled to WebAssembly (model/kernelc/) announce their entry and exit, so the
 * call site every event reports, the watchdog's work count and the trace's call/return lines are
 * the same as for a TypeScript revision's functions.
 */
export interface FrameServices {
  kernel_function_enter(name: string): void;
  kernel_function_exit(name: string): void;
}

export function frameServices(w: World): FrameServices {
  return {
    kernel_function_enter(name) {
      w.stack.push(name);
      doWork(w);
      if (w.traceCalls) emit(w, { kind: 'call', fn: name, args: '…' });
    },
    kernel_function_exit(name) {
      if (w.traceCalls) emit(w, { kind: 'ret', fn: name, ret: '…' });
      const top = w.stack.pop();
      if (top !== name) throw new Error(`kernel frame ${name} left while ${String(top)} was innermost`);
    },
  };
}

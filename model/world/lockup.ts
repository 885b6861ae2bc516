/**
 * The soft-lockup watchdog of the model. The kernel's watchdog reports a CPU that runs kernel
 * code for too long without scheduling; the model's equivalent is one operation doing more
 * kernel work than any legitimate populate could. Work is counted in events logged and kernel
 * functions entered (model/kernel/bind.ts), so a revision looping over kernel calls (e.g. lock,
 * unlock, lock ...) is stopped while its log is still small. A loop that calls nothing at all is
 * out of the model's reach in-process: the CLI's wall-clock guard (a worker thread) ends it.
 *
 * The limit: the most kernel work any generated operation does is about 1,500 units (an
 * rme-v9 populate of 16-granule pages, measured over three seeds of every revision's budget;
 * a traced run logs a call and a return per function as well, about three times that). The
 * limit is over ten times the most, and still a log of a few MB; a revision that loops hits
 * it within milliseconds.
 */
export const OP_WORK_LIMIT = 20_000;

/** Thrown out of kernel code when an operation exceeds its work budget. */
export class SoftLockup extends Error {
  constructor(readonly site: string, readonly work: number) {
    super(`soft lockup: ${work} units of kernel work in one operation, in ${site}`);
    this.name = 'SoftLockup';
  }
}

/** How a run ended early: the kernel would have printed an oops or a soft-lockup splat. */
export type Crash =
  | { readonly kind: 'soft_lockup'; readonly site: string; readonly work: number; readonly kernelStack: readonly string[] }
  /** A JavaScript exception out of kernel code: a null dereference, a `throw`, a bad call. */
  | { readonly kind: 'exception'; readonly name: string; readonly message: string; readonly stack: string; readonly site: string; readonly kernelStack: readonly string[] };

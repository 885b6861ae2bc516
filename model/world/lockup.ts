/**
 * The soft-lockup watchdog of the model. The kernel's watchdog reports a CPU that runs kernel
 * code for too long without scheduling; the model's equivalent is one operation doing more
 * kernel work than any legitimate populate could. Work is counted in events logged and kernel
 * functions entered (model/kernel/bind.ts), so a revision looping over kernel calls (e.g. lock,
 * unlock, lock ...) is stopped while its log is still small. A loop that calls nothing at all is
 * out of the model's reach in-process: the CLI's wall-clock guard (a worker thread) ends it.
 *
 * The limit: the largest operation the generators and the corpus produce (a CCA populate of a
 * few 16-granule pages with every service logged) does a few thousand units; a hundred times
 * that is still a few MB of log.
 */
export const OP_WORK_LIMIT = 200_000;

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

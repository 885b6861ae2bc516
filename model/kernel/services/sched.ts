import { emit, currentSite, type World } from '../../world/World.js';
import { nextFault } from '../faults.js';
import { switchPoint } from '../../world/switchPoint.js';

/** `current` of the ioctl thread. */
export const current = 'current';

/**
 * Scheduler-facing services: pending signals (from the fault plan), cond_resched() (a
 * scheduling point, no effect sequentially), and reads of uninitialised locals, whose value is
 * undefined behaviour in C and is therefore chosen by the scenario (adversarially, by the
 * generators).
 */
export interface SchedServices {
  signal_pending(task: string): boolean;
  cond_resched(): void;
  /** The value an uninitialised variable `name` of the current function holds. */
  uninitialized_var(name: string): number;
}

export function schedServices(w: World): SchedServices {
  return {
    signal_pending: () => nextFault(w, 'signal') !== undefined,
    cond_resched: () => switchPoint(w, { kind: 'resched', site: currentSite(w) }),
    uninitialized_var(name) {
      const site = `${currentSite(w)}:${name}`;
      const value = w.ub[site] ?? 0;
      emit(w, { kind: 'uninit_use', site, value });
      return value;
    },
  };
}

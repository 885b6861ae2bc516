import { defineInvariant } from '../Invariant.js';

/**
 * An ioctl must return. The kernel's watchdog reports a CPU stuck in kernel code as a soft
 * lockup; the model's is a budget of kernel work per operation (model/world/lockup.ts), so a
 * revision that loops (a retry that never succeeds, a counter never advanced) is reported with
 * its trace up to the budget instead of hanging the tool. A loop that calls no kernel code at
 * all is caught by the CLI's wall-clock guard and reported under the same invariant.
 */
export const softLockup = defineInvariant({
  id: 'soft-lockup',
  description: 'Forbid an operation that does unbounded kernel work (the watchdog would report a soft lockup)',
  cites: ['Documentation/admin-guide/lockup-watchdogs.rst'],
  observes: ['crash'],
  messages: {
    budget: '{work} units of kernel work in one operation without returning, in {site}',
    /** Reported by the CLI's wall-clock watchdog: no progress at all, e.g. a loop that calls nothing. */
    wallClock: 'no progress for {seconds} s in {site} (a loop that calls no kernel code)',
  },
  create: () => ({
    event(e, _w, _b, report) {
      if (e.kind === 'crash' && e.crash.kind === 'soft_lockup') report('budget', { work: e.crash.work, site: e.crash.site }, e.crash.site);
    },
  }),
});

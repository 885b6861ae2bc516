import { defineInvariant } from '../Invariant.js';
import { blame, frameText } from '../crash.js';

/**
 * Kernel code must not crash. A JavaScript exception out of a revision (reading a property of
 * null, indexing past an array, an explicit `throw`) is what a NULL dereference or BUG() is in
 * the C: the kernel prints an oops and kills the task, with whatever locks and references it
 * held lost. It is the revision's finding, reported with its own file and line; an exception
 * out of the model's own code is a bug in gmemcheck and is reported as such, not here.
 */
export const oops = defineInvariant({
  id: 'oops',
  description: 'Forbid an exception raised by revision code (the kernel would oops)',
  cites: ['Documentation/admin-guide/bug-hunting.rst'],
  observes: ['crash'],
  messages: {
    exception: '{name}: {message} in {site} ({where})',
    /** Reported by the CLI's worker when revision code exhausts its heap. */
    outOfMemory: 'the revision exhausted a {mb} MB heap: {error}',
  },
  create: () => ({
    event(e, _w, _b, report) {
      if (e.kind !== 'crash' || e.crash.kind !== 'exception') return;
      const b = blame(e.crash);
      if (b.kind === 'oops') report('exception', { name: e.crash.name, message: e.crash.message, site: e.crash.site, where: frameText(b.at) }, e.crash.site);
    },
  }),
});

import { z } from 'zod';
import type { Scenario } from '../../model/scenario/Scenario.js';
import { scenarioSchema } from '../../model/scenario/schema.js';
import { INVARIANTS } from '../registry.js';

/** An invariant's id, as properties/registry.ts has it: a misspelt one would never match a run. */
const invariantId = z.string().refine((id) => INVARIANTS.some((i) => i.id === id), {
  error: (iss) => `no invariant is called ${JSON.stringify(iss.input)} (known: ${INVARIANTS.map((i) => i.id).join(', ')})`,
});

/**
 * A regression-corpus entry: an explicit scenario and the verdict every revision must get on
 * it, each with a one-line reason and a source link. A verdict is the set of invariants the
 * whole scenario violates on that revision (empty: it holds), so a patch that fixes a bug or
 * introduces one changes it. Nothing here refers to generators, seeds or fast-check paths.
 */
const verdict = z.discriminatedUnion('verdict', [
  z.strictObject({ verdict: z.literal('holds'), reason: z.string().min(1), link: z.string().min(1) }),
  z.strictObject({
    verdict: z.literal('violated'),
    /** Invariant ids, sorted; each with the first message it reported (for the reader). */
    invariants: z.array(invariantId).min(1),
    messages: z.record(z.string(), z.string()).optional(),
    /** Every signature (signature.ts) the scenario shows on the revision, sorted. */
    signatures: z.array(z.string().min(1)).optional(),
    /** What the scenario takes on this revision beyond userspace alone (reach.ts), in words. */
    takes: z.string().min(1).optional(),
    reason: z.string().min(1),
    link: z.string().min(1),
  }).superRefine((v, ctx) => {
    // A record's key schema reports only "Invalid key in record"; say which key and why.
    for (const key of Object.keys(v.messages ?? {})) {
      const checked = invariantId.safeParse(key);
      if (!checked.success) for (const i of checked.error.issues) ctx.addIssue({ code: 'custom', path: ['messages', key], message: i.message });
    }
  }),
]);

export const corpusEntrySchema = z.strictObject({
  /** The file's name without `.json`. */
  name: z.string().regex(/^[a-z0-9][a-z0-9.+-]*$/, 'lower-case letters, digits, ".", "+" and "-" only'),
  about: z.string().min(1),
  /** Where it came from: the cell a check found it in, or the boundary case it pins. */
  origin: z.discriminatedUnion('kind', [
    // `revision` may be a reviewer's own (check --revision-module --save), so any id; `signature`:
    // the finding's signature (signature.ts) the scenario was shrunk for.
    z.strictObject({ kind: z.literal('found'), revision: z.string(), property: invariantId, bug: z.string(), signature: z.string().optional() }),
    z.strictObject({ kind: z.literal('boundary'), case: z.string() }),
  ]),
  scenario: scenarioSchema,
  verdicts: z.record(z.string(), verdict),
});

type StoredEntry = z.infer<typeof corpusEntrySchema>;
export type CorpusEntry = Omit<StoredEntry, 'scenario'> & { readonly scenario: Scenario };
export type Verdict = StoredEntry['verdicts'][string];

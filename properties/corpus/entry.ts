import { z } from 'zod';
import type { Scenario } from '../../model/scenario/Scenario.js';
import { scenarioSchema } from '../../model/scenario/schema.js';

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
    invariants: z.array(z.string().min(1)).min(1),
    messages: z.record(z.string(), z.string()).optional(),
    reason: z.string().min(1),
    link: z.string().min(1),
  }),
]);

export const corpusEntrySchema = z.strictObject({
  /** The file's name without `.json`. */
  name: z.string().regex(/^[a-z0-9][a-z0-9.+-]*$/, 'lower-case letters, digits, ".", "+" and "-" only'),
  about: z.string().min(1),
  /** Where it came from: the cell a check found it in, or the boundary case it pins. */
  origin: z.discriminatedUnion('kind', [
    /** `signature`: the finding's signature (signature.ts) the scenario was shrunk for. */
    z.strictObject({ kind: z.literal('found'), revision: z.string(), property: z.string(), bug: z.string(), signature: z.string().optional() }),
    z.strictObject({ kind: z.literal('boundary'), case: z.string() }),
  ]),
  scenario: scenarioSchema,
  verdicts: z.record(z.string(), verdict),
});

type StoredEntry = z.infer<typeof corpusEntrySchema>;
export type CorpusEntry = Omit<StoredEntry, 'scenario'> & { readonly scenario: Scenario };
export type Verdict = StoredEntry['verdicts'][string];

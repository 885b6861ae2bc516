import { z } from 'zod';
import { WHAT_IF_MODES } from '../model/whatIf.js';

/**
 * A fuzz campaign's state as plain data: the arguments that define the campaign's work (the seed
 * and the selection: the plan of units is a function of them) and one record per unit done,
 * recorded after each unit (cli/fuzz/state.ts: `campaign.json` holds the rest, `units.jsonl` the
 * units), so an interrupted campaign resumes where it stopped and shards merge by taking the
 * union of their units. The summary, Markdown, JUnit and HTML reports are computed from it alone.
 * Format 2: the units moved out of campaign.json into the journal.
 */
export const CAMPAIGN_FORMAT = 'gmemcheck-fuzz-campaign/2';

const backendId = z.enum(['snp', 'tdx', 'cca']);
const whatIfMode = z.enum(WHAT_IF_MODES);

/** `--shard I/N`: this campaign runs the units whose index ≡ I-1 (mod N). */
export const shardSchema = z.strictObject({ index: z.number().int().min(1), count: z.number().int().min(1) });

export const campaignArgsSchema = z.strictObject({
  backends: z.array(backendId).min(1),
  /** Built-in revisions (or injected bugs) by id; empty when a revision module is fuzzed. */
  revisions: z.array(z.string()),
  /** A reviewer's module: where it was, and its content's hash (resuming on an edited file would not replay the same seeds). */
  revisionModule: z.strictObject({ file: z.string(), sha256: z.string(), id: z.string(), derivedFrom: z.string().optional() }).optional(),
  whatIf: z.union([z.literal('all'), z.literal('none'), whatIfMode]),
  properties: z.array(z.string()).min(1),
  seed: z.number().int(),
  /** Total scenario runs of the explorations (the last unit is cut to fit). */
  runs: z.number().int().min(1).optional(),
  /** Wall-clock budget over every session of the campaign (resumes included). */
  timeMs: z.number().int().min(1).optional(),
  /** Runs per unit; absent: the cell's calibrated budget (CELL_RUNS). */
  unitRuns: z.number().int().min(1).optional(),
  shard: shardSchema,
});
export type CampaignArgs = z.infer<typeof campaignArgsSchema>;

/** One signature a unit met: known ones are counted, new ones are shrunk first. */
export const signatureRecordSchema = z.strictObject({
  signature: z.string(),
  status: z.enum(['known', 'new']),
  /** Known: the bug the matrix credits it to, or `corpus` when only the corpus records it. */
  bug: z.string().optional(),
  /** First run (a corpus unit: scenario) that showed it, and how many did. */
  firstRun: z.number().int(),
  runsWithIt: z.number().int(),
  /** New ones: the shrunk counterexample's size, its message and what it takes. */
  ops: z.number().int().optional(),
  pages: z.number().int().optional(),
  message: z.string().optional(),
  reach: z.string().optional(),
});
export type SignatureRecord = z.infer<typeof signatureRecordSchema>;

const modelErrorSchema = z.strictObject({ run: z.number().int(), error: z.string() });

/** One exploration: a cell under seed `seed` (= the campaign's seed + k). */
export const exploreRecordSchema = z.strictObject({
  kind: z.literal('explore'),
  index: z.number().int().min(0),
  backend: backendId,
  revision: z.string(),
  whatIf: whatIfMode.optional(),
  k: z.number().int().min(0),
  seed: z.number().int(),
  /** Runs planned, and run (fewer when a hang or the heap limit ended the unit). */
  runs: z.number().int(),
  ran: z.number().int(),
  ms: z.number(),
  /** Each coverage minimum, with the unit's runs at which it was first reached and first met (absent: never). */
  coverage: z.array(z.strictObject({ key: z.string(), got: z.number().int(), min: z.number().int(), first: z.number().int().optional(), atMin: z.number().int().optional() })),
  signatures: z.array(signatureRecordSchema),
  modelErrors: z.array(modelErrorSchema),
  /** The watchdog ended it: a revision that hung, or exhausted its worker's heap. */
  stopped: z.enum(['hung', 'died']).optional(),
});
export type ExploreRecord = z.infer<typeof exploreRecordSchema>;

/** The corpus replayed on one revision: every scenario of its backend, known failures first. */
export const corpusRecordSchema = z.strictObject({
  kind: z.literal('corpus'),
  index: z.number().int().min(0),
  backend: backendId,
  revision: z.string(),
  ms: z.number(),
  scenarios: z.number().int(),
  /** Scenarios whose recorded verdict for this revision the model no longer gives. */
  mismatches: z.array(z.strictObject({ file: z.string(), problems: z.array(z.string()) })),
  signatures: z.array(signatureRecordSchema),
  modelErrors: z.array(modelErrorSchema),
  stopped: z.enum(['hung', 'died']).optional(),
});
export type CorpusRecord = z.infer<typeof corpusRecordSchema>;

export const unitRecordSchema = z.discriminatedUnion('kind', [exploreRecordSchema, corpusRecordSchema]);
export type UnitRecord = z.infer<typeof unitRecordSchema>;

/** A new signature's files, relative to the campaign folder. */
export const writtenSchema = z.strictObject({ scenario: z.string(), trace: z.string() });

/** campaign.json: everything but the units. */
export const campaignHeaderSchema = z.strictObject({
  format: z.literal(CAMPAIGN_FORMAT, { error: `not a campaign of this gmemcheck (format '${CAMPAIGN_FORMAT}'; a campaign of format 1, before the units journal, cannot be resumed or merged: start a new one)` }),
  args: campaignArgsSchema,
  /** `running` while a session works on it (or was killed outright); how the last session ended otherwise. */
  status: z.enum(['running', 'complete', 'interrupted']),
  /** Wall time spent over every session so far (a resumed --time campaign gets the rest). */
  elapsedMs: z.number(),
  /** Each new signature's scenario and trace, by signature. */
  written: z.record(z.string(), writtenSchema),
  /** A merged campaign: the shard folders it was made from. */
  mergedFrom: z.array(z.string()).optional(),
});

export const campaignFileSchema = campaignHeaderSchema.extend({
  /** Done units, by index. */
  units: z.array(unitRecordSchema),
});
export type CampaignFile = z.infer<typeof campaignFileSchema>;

import type { Revision } from '../../model/revisions/Revision.js';
import { revisionsFor } from '../../model/revisions/registry.js';
import type { Scenario } from '../../model/scenario/Scenario.js';
import { scenarioWhatIf } from '../../model/whatIf.js';
import { BUGS, type KnownBug } from '../bugs.js';
import { bugForSignature, expectation } from '../matrix.js';
import { declaredLabel, needsText, scenarioNeeds } from '../reach.js';
import { keyOf } from '../signature.js';
import type { CorpusEntry, Verdict } from './entry.js';
import { judgeScenario } from './judge.js';

/**
 * The verdict each modelled revision gets on a scenario, as the model judges it now, with the
 * reason taken from the matrix: the known bug behind each violated invariant, or, for a
 * revision that holds, why the bug the scenario was found for is absent there.
 */
export function recordVerdicts(scenario: Scenario, origin: CorpusEntry['origin'], revisions: readonly Revision[] = revisionsFor(scenario.backend)): Record<string, Verdict> {
  const out: Record<string, Verdict> = {};
  const foundBug = origin.kind === 'found' ? findBug(origin.bug) : undefined;
  for (const r of revisions) {
    const j = judgeScenario(scenario, r);
    const fallback = r.cites[0] ?? 'properties/matrix.ts';
    if (j.violated.size === 0) {
      out[r.id] = origin.kind === 'boundary'
        ? { verdict: 'holds', reason: `boundary case (${origin.case}): every invariant holds`, link: fallback }
        : { verdict: 'holds', reason: foundBug === undefined ? `${origin.bug} does not occur on ${r.id}` : `${foundBug.id} does not occur on ${r.id} (the bug: ${foundBug.status})`, link: foundBug?.link ?? fallback };
      continue;
    }
    const explained: { bug: KnownBug | undefined; invariant: string; message: string }[] = [...j.violated].map(([inv, v]) => ({
      bug: bugForSignature(expectation(inv, scenario.backend, r.id, scenarioWhatIf(scenario, r)), keyOf(v)),
      invariant: inv,
      message: v.messageId,
    }));
    const bugs = [...new Map(explained.filter((e) => e.bug !== undefined).map((e) => [e.bug?.id, e.bug])).values()].filter((b): b is KnownBug => b !== undefined);
    const unknown = explained.filter((e) => e.bug === undefined).map((e) => `${e.invariant}/${e.message}`);
    const reason = [
      ...bugs.map((b) => `${b.id}${b.reach === undefined ? '' : ` [${declaredLabel(b.reach)}]`} (${explained.filter((e) => e.bug?.id === b.id).map((e) => e.invariant).join(', ')}): ${b.title}`),
      ...(unknown.length > 0 ? [`not in the matrix: ${unknown.join(', ')}`] : []),
    ].join('; ');
    out[r.id] = {
      verdict: 'violated',
      invariants: [...j.violated.keys()],
      messages: Object.fromEntries([...j.violated].map(([inv, v]) => [inv, v.messageId])),
      signatures: [...j.signatures],
      takes: needsText(scenarioNeeds(scenario, r)),
      reason,
      link: bugs[0]?.link ?? fallback,
    };
  }
  return out;
}

function findBug(id: string): KnownBug | undefined {
  return Object.values<KnownBug>(BUGS).find((b) => b.id === id);
}

/** What a corpus entry for one finding needs to know of it. */
export interface FoundSignature {
  readonly backend: string;
  readonly revision: string;
  readonly signature: string;
  readonly invariant: string;
  readonly messageId: string;
  readonly detail?: string;
  readonly site: string;
  readonly message: string;
  /** The known bug it belongs to, or undefined for a new finding. */
  readonly bug: string | undefined;
  readonly scenario: Scenario;
}

/**
 * A finding as a corpus entry: its shrunk scenario, named for its signature, with the verdict
 * every modelled revision of its backend gets on it now (a reviewer's own revision is named in
 * the origin only).
 */
export function findingEntry(f: FoundSignature): CorpusEntry {
  const origin = { kind: 'found' as const, revision: f.revision, property: f.invariant, bug: f.bug ?? 'new', signature: f.signature };
  return {
    name: `${f.backend}-${f.revision}-${f.invariant}-${f.messageId}${f.detail === undefined ? '' : `-${f.detail}`}-${f.site}`.toLowerCase().replace(/[^a-z0-9.+-]/g, '-'),
    about: `${f.revision} on ${f.backend}: ${f.signature}: ${f.message}`,
    origin,
    scenario: f.scenario,
    verdicts: recordVerdicts(f.scenario, origin),
  };
}

import type { CampaignSummary, SignatureSummary } from './campaignSummary.js';

/**
 * junit.xml: one test case per cell (and per revision whose corpus replay ran), so CI shows a
 * campaign as a test run. A case fails when it met a new signature (or, in the corpus replay, a
 * scenario no longer gets its recorded verdict), and errors on a model error.
 */

function xml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function testcase(classname: string, name: string, ms: number, body: readonly string[]): string {
  const open = `    <testcase classname="${xml(classname)}" name="${xml(name)}" time="${(ms / 1000).toFixed(3)}"`;
  return body.length === 0 ? `${open}/>` : [`${open}>`, ...body.map((l) => `      ${l}`), '    </testcase>'].join('\n');
}

function failure(fresh: readonly SignatureSummary[], extra: readonly string[] = []): string[] {
  if (fresh.length === 0 && extra.length === 0) return [];
  const message = [...fresh.map((f) => `new signature ${f.signature}`), ...extra].join('; ');
  const text = [...fresh.map((f) => `${f.signature}${f.file === undefined ? '' : ` (${f.file})`}`), ...extra].join('\n');
  return [`<failure message="${xml(message)}" type="new-signature">${xml(text)}</failure>`];
}

export function campaignJunit(s: CampaignSummary): string {
  const cases = s.cells.map((c) => {
    const body = [
      ...failure(c.signatures.filter((x) => x.status === 'new')),
      ...(c.modelErrors > 0 ? [`<error message="${c.modelErrors} model error(s): a bug in gmemcheck" type="model-error"/>`] : []),
      `<system-out>${xml(`${c.units} units, ${c.runs} runs, seeds ${c.seeds.join(' ')}; signatures: ${c.signatures.map((x) => `${x.signature} (${x.status}${x.bug === undefined ? '' : ` ${x.bug}`})`).join(', ') || 'none'}`)}</system-out>`,
    ];
    return { failed: body[0]?.startsWith('<failure') === true, error: c.modelErrors > 0, text: testcase(`fuzz.${c.backend}`, c.cell, c.ms, body) };
  });
  const corpus = s.corpus.map((c) => {
    const body = [
      ...failure(c.signatures.filter((x) => x.status === 'new'), c.mismatches.map((m) => `${m.file}: ${m.problems.join('; ')}`)),
      ...(c.modelErrors > 0 ? [`<error message="${c.modelErrors} model error(s): a bug in gmemcheck" type="model-error"/>`] : []),
    ];
    return { failed: body[0]?.startsWith('<failure') === true, error: c.modelErrors > 0, text: testcase(`fuzz.corpus.${c.backend}`, c.revision, c.ms, body) };
  });
  const suite = (name: string, cs: typeof cases, ms: number): string => [
    `  <testsuite name="${xml(name)}" tests="${cs.length}" failures="${cs.filter((c) => c.failed).length}" errors="${cs.filter((c) => c.error).length}" time="${(ms / 1000).toFixed(3)}">`,
    ...cs.map((c) => c.text),
    '  </testsuite>',
  ].join('\n');
  const all = [...cases, ...corpus];
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="gmemcheck fuzz (seed ${s.campaign.seed})" tests="${all.length}" failures="${all.filter((c) => c.failed).length}" errors="${all.filter((c) => c.error).length}" time="${(s.wallMs / 1000).toFixed(3)}">`,
    suite('fuzz cells', cases, s.cells.reduce((n, c) => n + c.ms, 0)),
    ...(corpus.length === 0 ? [] : [suite('corpus replay', corpus, s.corpus.reduce((n, c) => n + c.ms, 0))]),
    '</testsuites>',
    '',
  ].join('\n');
}

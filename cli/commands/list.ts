import type { ListOptions } from '../args.js';
import type { BackendId } from '../../model/scenario/Scenario.js';
import { BACKENDS } from '../../model/backends/registry.js';
import { REVISIONS } from '../../model/revisions/registry.js';
import { MUTANTS } from '../../model/revisions/mutants.js';
import type { KnownBug } from '../../properties/bugs.js';
import { expectation } from '../../properties/matrix.js';
import { INVARIANTS } from '../../properties/registry.js';
import { expectedFor } from '../../properties/expectations.js';
import { declaredLabel } from '../../properties/reach.js';
import type { Revision } from '../../model/revisions/Revision.js';
import { cellName, WHAT_IF_MODES, WHAT_IF_TEXT, whatIfCellsOf, type WhatIfMode } from '../../model/whatIf.js';

/** Legend lines are cut here (at a word): the full text and the links are in `list --json`. */
const LEGEND_WIDTH = 110;

function clip(text: string, width: number): string {
  if (text.length <= width) return text;
  const cut = text.lastIndexOf(' ', width - 1);
  return `${text.slice(0, cut > width / 2 ? cut : width - 1)}…`;
}

/** The known bugs a backend's matrix names, required or tolerated, by id (B1, B1-consequence, B2, ..., G1, ...). */
function bugsOf(backend: BackendId): KnownBug[] {
  const seen = new Map<string, KnownBug>();
  for (const inv of INVARIANTS) {
    for (const { revision: r, whatIf } of cellsOn(backend)) {
      const e = expectation(inv.id, backend, r.id, whatIf);
      // Tolerated bugs too (a consequence, or one only some seeds reach): the legend names them all.
      for (const b of [...(e.verdict === 'violated' ? e.bugs : []), ...e.tolerated]) if (!seen.has(b.id)) seen.set(b.id, b);
    }
  }
  return [...seen.values()].sort((a, b) => a.id.localeCompare(b.id, 'en', { numeric: true }));
}

/** The matrix's columns on a backend: each revision's default cell, then its what-if cells. */
function cellsOn(backend: BackendId): { revision: Revision; whatIf: WhatIfMode | undefined }[] {
  return REVISIONS.filter((x) => x.backends.includes(backend)).flatMap((revision) => [undefined, ...whatIfCellsOf(revision)].map((whatIf) => ({ revision, whatIf })));
}

/** Prints what can be checked, and the expected verdict of every cell. */
export function runList(o: ListOptions, write: (s: string) => void): number {
  const backends = Object.values(BACKENDS).map((b) => ({ id: b.id, title: b.title }));
  const revisions = REVISIONS.map((r) => ({ id: r.id, title: r.title, backends: r.backends, cites: r.cites }));
  const mutants = MUTANTS.map((m) => ({ id: m.id, base: m.base, description: m.description, backends: m.backends, breaks: m.breaks }));
  const properties = INVARIANTS.map((i) => ({ id: i.id, description: i.description, cites: i.cites }));
  const whatIf = WHAT_IF_MODES.map((m) => ({ id: m, description: WHAT_IF_TEXT[m], revisions: REVISIONS.filter((r) => whatIfCellsOf(r).includes(m)).map((r) => r.id) }));
  const matrix = INVARIANTS.flatMap((inv) =>
    backends.flatMap((b) =>
      cellsOn(b.id).map(({ revision: r, whatIf: mode }) => {
        const e = expectedFor(r, inv.id, b.id, mode).expectation;
        return {
          property: inv.id, backend: b.id, revision: r.id, ...(mode === undefined ? {} : { whatIf: mode }), cell: cellName(r.id, mode), expected: e.verdict,
          // Every bug listed must be found (by one of its signatures of this property).
          ...(e.verdict === 'violated' ? { bugs: e.bugs.map((x) => x.id), signatures: e.bugs.flatMap((x) => x.signatures.filter((k) => k.startsWith(`${inv.id}/`))) } : {}),
          // Bugs the cell may show without having to (consequences, bugs some seeds reach).
          ...(e.tolerated.length > 0 ? { tolerated: e.tolerated.map((x) => x.id) } : {}),
        };
      }),
    ),
  );
  const bugs = [...new Map(backends.flatMap((b) => bugsOf(b.id)).map((x) => [x.id, {
    id: x.id, title: x.title, status: x.status, link: x.link,
    ...(x.reach === undefined ? {} : { reach: { ...x.reach, label: declaredLabel(x.reach) } }),
    // The cells whose row names it: backend/revision/property.
    expectedIn: matrix.filter((m) => m.bugs?.includes(x.id) === true).map((m) => `${m.backend}/${m.cell}/${m.property}`),
    toleratedIn: matrix.filter((m) => m.tolerated?.includes(x.id) === true).map((m) => `${m.backend}/${m.cell}/${m.property}`),
  }])).values()].filter((x) => o.reach === undefined || x.reach?.kind === o.reach);
  if (o.json) {
    write(`${JSON.stringify(o.reach === undefined ? { backends, revisions, whatIf, mutants, properties, matrix, bugs } : { reach: o.reach, bugs }, null, 2)}\n`);
    return 0;
  }
  if (o.reach !== undefined) {
    // What a reviewer asks of a report: which of the known bugs a VMM hits by itself, and so on.
    const lines = [`known bugs that take ${o.reach === 'userspace' ? 'userspace alone' : `a ${o.reach === 'what-if' ? 'what-if mode' : o.reach === 'debug' ? 'debug configuration' : 'firmware failure'}`} (${bugs.length}):`];
    for (const x of bugs) {
      lines.push(`  ${x.id.padEnd(16)}${x.reach?.label ?? ''}: ${x.title}`);
      lines.push(`  ${''.padEnd(16)}takes: ${x.reach?.kind === 'debug' ? `${x.reach.config}; ` : ''}${x.reach?.how ?? '?'}`);
      const cells = (where: readonly string[]) => [...new Set(where.map((c) => c.split('/').slice(0, 2).join('/')))].join(', ');
      if (x.expectedIn.length > 0) lines.push(`  ${''.padEnd(16)}expected in: ${cells(x.expectedIn)}`);
      if (x.toleratedIn.length > 0 && x.expectedIn.length === 0) lines.push(`  ${''.padEnd(16)}tolerated in: ${cells(x.toleratedIn)}`);
    }
    write(`${lines.join('\n')}\n`);
    return 0;
  }
  const lines: string[] = ['backends:'];
  for (const b of backends) lines.push(`  ${b.id.padEnd(6)} ${b.title}`);
  lines.push('', 'revisions:');
  for (const r of revisions) lines.push(`  ${r.id.padEnd(14)} [${r.backends.join(',')}] ${r.title}`);
  lines.push('', 'what-if modes (cells of their own, named REVISION [MODE]; check --what-if MODE):');
  for (const m of whatIf) lines.push(`  ${m.id.padEnd(16)} ${m.revisions.length === 0 ? '(a label only: no cell yet)' : `[${m.revisions.join(',')}]`} ${m.description}`);
  lines.push('', 'injected bugs (check them with --revision NAME):');
  for (const m of mutants) lines.push(`  ${m.id.padEnd(32)} [${m.backends.join(',')}] breaks ${m.breaks.invariant}: ${m.description}`);
  lines.push('', 'properties:');
  for (const p of properties) lines.push(`  ${p.id.padEnd(31)} ${p.description}`);
  lines.push('', 'expected matrix (. holds, otherwise the bugs that must all be found):');
  for (const b of backends) {
    const cols = cellsOn(b.id).map((c) => cellName(c.revision.id, c.whatIf));
    const cellOf = (inv: string, r: string) => {
      const m = matrix.find((x) => x.property === inv && x.backend === b.id && x.cell === r);
      return m?.expected === 'violated' ? (m.bugs ?? ['?']).join(' ') : '.';
    };
    const width = Math.max(...cols.map((r) => Math.max(`${b.id}/${r}`.length, ...INVARIANTS.map((inv) => cellOf(inv.id, r).length)))) + 2;
    lines.push('', `  ${''.padEnd(31)} ${cols.map((r) => `${b.id}/${r}`.padEnd(width)).join('')}`.trimEnd());
    for (const inv of INVARIANTS) lines.push(`  ${inv.id.padEnd(31)} ${cols.map((r) => cellOf(inv.id, r).padEnd(width)).join('')}`.trimEnd());
    // Each id once: what the bug is, then where it was fixed or why it stands.
    const legend = bugsOf(b.id);
    const idWidth = Math.max(...legend.map((x) => x.id.length)) + 2;
    if (legend.length > 0) lines.push('');
    for (const x of legend) {
      const label = x.reach === undefined ? '' : `[${declaredLabel(x.reach)}] `;
      lines.push(`  ${x.id.padEnd(idWidth)}${clip(`${label}${x.title}`, LEGEND_WIDTH - 2 - idWidth)}`);
      lines.push(`  ${''.padEnd(idWidth)}${clip(`→ ${x.status}`, LEGEND_WIDTH - 2 - idWidth)}`);
    }
  }
  lines.push('', 'bugs in full, with their links: npx gmemcheck list --json (under "bugs"); by what they take: list --reach userspace|firmware|hardware|debug|what-if');
  write(`${lines.join('\n')}\n`);
  return 0;
}

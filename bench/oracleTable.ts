/**
 * The functional oracle's rows against the revisions (`npm run bench:oracle -- --table`): for
 * every row, on every revision, how many calls it decided over the scan's runs, and whether the
 * revision honoured it (no functional-spec violation on those calls) or departed from it (with
 * the known bugs the matrix credits the departure to, or NEW). Rows nothing reached are listed
 * with why: the model cannot express the condition (the row says so), another row or invariant
 * judges it (the row's `judged`: S1.4's ZERO page is decided by S1.1 and the page rows), or no
 * scenario drew it, a generator gap.
 */
import type { BackendId } from '../model/scenario/Scenario.js';
import { ALL_ROWS, type Row } from '../properties/oracle/index.js';
import { DOC } from '../properties/oracle/rows.js';

interface Tally {
  reached: number;
  departed: number;
  /** Bug ids (or NEW) the departures were credited to. */
  readonly by: Set<string>;
}

/** Which backend's document a row belongs to; undefined for the common ones (kvm_gmem_populate(), api.rst). */
function rowBackend(r: Row): BackendId | undefined {
  if (r.doc === DOC.S1 || r.doc === DOC.S2 || r.doc === DOC.S3) return 'snp';
  if (r.doc === DOC.T1 || r.doc === DOC.T2 || r.doc === DOC.T3) return 'tdx';
  if (r.doc === DOC.R9 || r.doc === DOC.R12 || r.doc === DOC.RN) return 'cca';
  return undefined;
}

export class RowTable {
  private readonly cells = new Map<string, Tally>();
  private readonly columns = new Map<BackendId, string[]>();

  column(backend: BackendId, revision: string): void {
    const cols = this.columns.get(backend) ?? [];
    if (!cols.includes(revision)) cols.push(revision);
    this.columns.set(backend, cols);
  }

  private at(backend: BackendId, revision: string, row: string): Tally {
    const k = `${backend}/${revision}/${row}`;
    const t = this.cells.get(k) ?? { reached: 0, departed: 0, by: new Set<string>() };
    this.cells.set(k, t);
    return t;
  }

  reached(backend: BackendId, revision: string, rows: readonly Row[]): void {
    for (const r of rows) this.at(backend, revision, r.id).reached++;
  }

  departed(backend: BackendId, revision: string, rows: readonly Row[], bug: string): void {
    for (const r of rows) {
      const t = this.at(backend, revision, r.id);
      t.departed++;
      t.by.add(bug);
    }
  }

  markdown(seeds: number, whatIf: boolean): string {
    const out = [
      '# The functional oracle\'s rows, per revision',
      '',
      `\`npm run bench:oracle -- --seeds ${seeds}${whatIf ? ' --what-if' : ''} --table\`: every revision's cells (its default configuration${whatIf ? ' and its what-if cells' : ''}) under seeds 1..${seeds} at the default budget, unshrunk. A cell: \`✓ n\` the row decided n calls and the revision honoured it on every one; \`✗ BUGS d/n\` it departed on d of n (the known bugs the matrix credits, or NEW); \`·\` nothing reached it there. A row decides a call with others (a partial success and the page that stopped it), so a departure is counted under each.`,
      '',
    ];
    const unreached: string[] = [];
    for (const [backend, cols] of this.columns) {
      const rows = ALL_ROWS.filter((r) => (rowBackend(r) ?? backend) === backend);
      out.push(`## ${backend}`, '', `| row | condition | ${cols.join(' | ')} |`, `|---|---|${cols.map(() => '---').join('|')}|`);
      for (const r of rows) {
        const ts = cols.map((c) => this.cells.get(`${backend}/${c}/${r.id}`));
        if (ts.every((t) => t === undefined || t.reached === 0)) {
          unreached.push(`- ${backend} ${r.id} (${r.condition}): ${r.encoded === false ? `not expressible: ${r.why ?? ''}` : r.judged !== undefined ? `judged elsewhere: ${r.judged}` : 'no scenario drew it: a generator gap'}`);
        }
        const cell = (t: Tally | undefined): string => (t === undefined || t.reached === 0 ? '·' : t.departed === 0 ? `✓ ${t.reached}` : `✗ ${[...t.by].sort().join(', ')} ${t.departed}/${t.reached}`);
        out.push(`| ${r.id} | ${r.condition.replace(/\|/g, '\\|')} | ${ts.map(cell).join(' | ')} |`);
      }
      out.push('');
    }
    out.push('## Rows nothing reached', '', ...(unreached.length === 0 ? ['none'] : unreached), '');
    return out.join('\n');
  }
}

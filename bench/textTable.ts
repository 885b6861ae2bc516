/**
 * Plain-text tables with aligned columns: text left-aligned, figures right-aligned, so a column
 * of numbers reads down by its last digit.
 */
export type Align = 'left' | 'right';

export interface Column {
  readonly head: string;
  readonly align: Align;
}

export function textTable(columns: readonly Column[], rows: readonly (readonly string[])[], indent = ''): string {
  const widths = columns.map((c, i) => Math.max(c.head.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    indent + columns.map((c, i) => {
      const v = cells[i] ?? '';
      const w = widths[i] ?? 0;
      return c.align === 'left' ? v.padEnd(w) : v.padStart(w);
    }).join('  ').trimEnd();
  return [line(columns.map((c) => c.head)), ...rows.map(line)].join('\n');
}

/** A figure with thousands separators and `digits` decimals; '-' for a missing or infinite one. */
export function fmt(n: number | undefined, digits = 0): string {
  if (n === undefined || !Number.isFinite(n)) return '-';
  return n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** A share as a whole percentage. */
export function pct(part: number, whole: number): string {
  return whole > 0 ? `${Math.round((100 * part) / whole)}` : '-';
}

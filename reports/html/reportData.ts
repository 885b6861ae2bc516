/**
 * What report.html's page script draws its charts from: the summary's figures, reduced to what
 * the charts need, embedded in the page as JSON (reports/campaignHtml.ts writes it, client.ts
 * reads it). Types only: both sides of the page share them.
 */
export const REPORT_DATA_ID = 'gmemcheck-report-data';

export interface ChartCell {
  /** `snp/v7.0 [hugepages]`. */
  readonly name: string;
  readonly runs: number;
  readonly ms: number;
  /** Each coverage minimum: the cell's run that first reached it and the one that met it (absent: never). */
  readonly coverage: readonly { readonly key: string; readonly firstRun?: number; readonly atMinRun?: number }[];
}

export interface ChartSignature {
  readonly signature: string;
  /** The campaign's CPU time before it first showed, in plan order (known or new). */
  readonly firstCpuMs: number;
  /** New somewhere: the time before it first showed where it is new (a signature can be known on one cell, new on another). */
  readonly newCpuMs?: number;
}

export interface ReportData {
  readonly cells: readonly ChartCell[];
  /** Every distinct signature once, at its earliest. */
  readonly signatures: readonly ChartSignature[];
  /** The campaign's CPU time in units: the signatures chart's end. */
  readonly cpuMs: number;
}

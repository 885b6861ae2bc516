import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import ts from 'typescript';
import type { HtmlAssets } from '../../reports/campaignHtml.js';

/**
 * What report.html inlines, read when a report is written (the page must work offline and
 * stand alone): uPlot's browser build and style from the pinned package, and the page script
 * (reports/html/client.ts), TypeScript turned into JavaScript by the compiler the project pins.
 */
let cached: HtmlAssets | undefined;

export function htmlAssets(): HtmlAssets {
  if (cached !== undefined) return cached;
  const require = createRequire(import.meta.url);
  const dist = join(require.resolve('uplot/package.json'), '..', 'dist');
  const client = readFileSync(new URL('../../reports/html/client.ts', import.meta.url), 'utf8');
  const clientJs = ts.transpileModule(client, {
    compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext, verbatimModuleSyntax: true },
    fileName: 'client.ts',
  }).outputText;
  cached = { uplotJs: readFileSync(join(dist, 'uPlot.iife.min.js'), 'utf8'), uplotCss: readFileSync(join(dist, 'uPlot.min.css'), 'utf8'), clientJs };
  return cached;
}

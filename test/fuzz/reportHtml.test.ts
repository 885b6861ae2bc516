import { existsSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { CampaignSummary } from '../../reports/campaignSummary.js';
import { run } from '../runCli.js';

/**
 * report.html in a real browser: Debian's Chromium, headless, driven by playwright-core (no
 * browser download: `.ci/run` installs the `chromium` package; GMEMCHECK_CHROMIUM names another
 * binary). Outside CI a machine without it skips this file and says so; under CI a missing
 * browser fails it. The page must draw every chart it promises, with pixels on every canvas, log
 * no error, and ask the network for nothing (it is one self-contained file).
 */
const CHROMIUM = process.env.GMEMCHECK_CHROMIUM ?? '/usr/bin/chromium';
const haveBrowser = existsSync(CHROMIUM);
if (!haveBrowser && process.env.CI === undefined) console.warn(`reportHtml.test.ts skipped: no Chromium at ${CHROMIUM} (apt-get install chromium, or set GMEMCHECK_CHROMIUM)`);

const REPO = join(import.meta.dirname, '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'gmemcheck-report-html-'));
const out = join(dir, 'campaign');
// An injected bug with signatures the matrix does not expect: the page has a new finding's trace to show.
const CAMPAIGN = ['fuzz', '--revision', 'kvm-x86-next+double-put', '--backend', 'snp', '--what-if', 'none', '--property', 'no-double-private', '--runs', '40', '--unit-runs', '10', '--workers', '1', '--out', out];

/**
 * Runs in the page (this file's types are Node's, so it is written as the text the browser
 * evaluates): the charts drawn and promised, and the pixels inked on each canvas, since a chart
 * that drew nothing has none.
 */
const PROBE = `({
  drawn: Number(document.body.dataset.chartsDrawn),
  expected: Number(document.body.dataset.chartsExpected),
  canvases: [...document.querySelectorAll('canvas')].map((c) => {
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let inked = 0;
    for (let i = 3; i < d.length; i += 4) if (d[i] > 0) inked++;
    return inked;
  }),
})`;

let browser: Browser | undefined;
let summary: CampaignSummary;

beforeAll(async () => {
  if (!haveBrowser && process.env.CI === undefined) return;
  expect((await run(...CAMPAIGN)).code).toBe(1);
  summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as CampaignSummary;
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    // As root Chromium needs --no-sandbox; the rest keep it from calling out on a closed network.
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
  });
}, 120_000);

afterAll(async () => {
  await browser?.close();
});

describe.runIf(haveBrowser || process.env.CI !== undefined)('report.html in headless Chromium', () => {
  test('every chart draws, every canvas has pixels, no console error, no network request; the new finding\'s trace is on the page', async () => {
    if (browser === undefined) throw new Error(`no browser: Chromium at ${CHROMIUM} did not start`);
    const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    const problems: string[] = [];
    const requests: string[] = [];
    const url = `file://${join(out, 'report.html')}`;
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') problems.push(`${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('request', (r) => {
      if (r.url() !== url) requests.push(r.url());
    });
    await page.goto(url);
    await page.waitForFunction('document.body.dataset.chartsDrawn !== undefined', undefined, { timeout: 20_000 });
    const { drawn, expected, canvases } = await page.evaluate<{ drawn: number; expected: number; canvases: number[] }>(PROBE);
    expect(problems).toEqual([]);
    expect(requests).toEqual([]);
    // Throughput, signatures over time, and one coverage chart per cell.
    expect(expected).toBe(2 + summary.cells.length);
    expect(drawn).toBe(expected);
    expect(canvases).toHaveLength(expected);
    for (const inked of canvases) expect(inked).toBeGreaterThan(500);
    const first = summary.newSignatures[0];
    expect(first).toBeDefined();
    await expect(page.locator('.finding pre').first().textContent()).resolves.toContain(first?.signature ?? '?');
    // For the record (the closing note describes it): reports/out is not committed.
    mkdirSync(join(REPO, 'reports', 'out'), { recursive: true });
    await page.screenshot({ path: join(REPO, 'reports', 'out', 'report-html.png'), fullPage: true });
    await page.close();
  }, 60_000);
});

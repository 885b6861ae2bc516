/**
 * The README's example outputs, made by running the commands they show, so they cannot go
 * stale: `npx tsx scripts/readme.ts` rewrites every block between `<!-- example:ID -->` and
 * `<!-- /example -->`; test/readme.test.ts runs the same steps (the patch-review walkthrough
 * included, fix by fix) and fails if the README differs from what they print now.
 */
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../cli/main.js';

export const README = join(import.meta.dirname, '..', 'README.md');
const REPO = join(import.meta.dirname, '..');

/** One run of the CLI, as a user would type it from `cwd`. */
async function gmemcheck(cwd: string, args: string): Promise<{ code: number; out: string }> {
  const before = process.env.INIT_CWD;
  process.env.INIT_CWD = cwd;
  let out = '';
  try {
    const code = await main(args.split(' '), (s) => (out += s), (s) => (out += s));
    return { code, out };
  } finally {
    if (before === undefined) delete process.env.INIT_CWD;
    else process.env.INIT_CWD = before;
  }
}

/** A shown block: the command, its output (cut after `keep` lines if long), its exit status. */
function block(args: string, r: { code: number; out: string }, keep = Number.POSITIVE_INFINITY): string {
  const lines = r.out.trimEnd().split('\n');
  const shown = lines.length > keep ? [...lines.slice(0, keep), `[... ${lines.length - keep} more lines]`] : lines;
  return ['$ npx gmemcheck ' + args, ...shown, `(exit ${r.code})`].join('\n');
}

/**
 * The first finding of a verbose check, its trace cut to what a reader needs: every operation's
 * line and result, and the calls of the operation that broke the rule; the scenario's JSON too.
 */
function firstFinding(out: string): string {
  const lines = out.split('\n');
  const start = lines.findIndex((l) => l.includes('✗ '));
  const rest = lines.slice(start);
  const end = rest.findIndex((l, i) => i > 0 && /^ {2}✗ /.test(l));
  const body = end < 0 ? rest : rest.slice(0, end);
  const failing = Number(/at operation #(\d+)/.exec(body.join('\n'))?.[1] ?? -1);
  const shown: string[] = [];
  let op = -1;
  let cut = 0;
  for (const l of body) {
    const m = /^ {6}#(\d+) /.exec(l);
    if (m !== null) op = Number(m[1]);
    const keep = m !== null || /^ {8}=> /.test(l) || op === failing || op === -1 || !/^ {7}/.test(l);
    if (/^ {4}scenario: /.test(l)) {
      shown.push('    scenario: {...the shrunk scenario as JSON...}');
      continue;
    }
    if (keep) {
      if (cut > 0) shown.push(`          [... ${cut} lines of calls]`);
      cut = 0;
      shown.push(l);
    } else cut++;
  }
  return collapseRepeats(shown).join('\n');
}

/** Runs of the same few lines but for their numbers (one MR.EXTEND per chunk): the first, a count, the last. */
function collapseRepeats(lines: readonly string[]): string[] {
  const shape = (l: string) => l.replace(/0x[0-9a-f]+|\d+/g, '#');
  const out: string[] = [];
  for (let i = 0; i < lines.length; ) {
    let done = false;
    for (let k = 1; k <= 4 && !done; k++) {
      let n = 1;
      while (i + (n + 1) * k <= lines.length && lines.slice(i + n * k, i + (n + 1) * k).every((l, j) => shape(l) === shape(lines[i + j] ?? ''))) n++;
      if (n >= 4) {
        const indent = /^ */.exec(lines[i] ?? '')?.[0] ?? '';
        out.push(...lines.slice(i, i + k), `${indent}[... ${n - 2} more like it]`, ...lines.slice(i + (n - 1) * k, i + n * k));
        i += n * k;
        done = true;
      }
    }
    if (!done) out.push(lines[i++] ?? '');
  }
  return out;
}

/** The review walkthrough's fixes, applied to the copy as the README tells the reader to. */
export const FIX_INDEX = ["k.page_ptrs_index(src_pages, k.uninitialized_var('i'))", 'k.page_ptrs_index(src_pages, 0)'] as const;
export const FIX_NULL = ['    kvm_tdx.page_add_src = k.page_ptrs_index(src_pages, 0);', '    if (src_pages === null) return -EOPNOTSUPP;\n    kvm_tdx.page_add_src = k.page_ptrs_index(src_pages, 0);'] as const;
export const FIX_IMPORT = ['EEXIST, ENOMEM } from', 'EEXIST, ENOMEM, EOPNOTSUPP } from'] as const;

function edit(file: string, ...pairs: (readonly [string, string])[]): void {
  let text = readFileSync(file, 'utf8');
  for (const [from, to] of pairs) {
    if (!text.includes(from)) throw new Error(`${file}: no '${from}' to replace`);
    text = text.replace(from, to);
  }
  writeFileSync(file, text);
}

/** Every example, by id, with the exit status of each command (what the README promises). */
export async function renderExamples(): Promise<Map<string, { text: string; codes: number[] }>> {
  const out = new Map<string, { text: string; codes: number[] }>();
  const put = (id: string, parts: { text: string; code: number }[]) => out.set(id, { text: parts.map((p) => p.text).join('\n\n'), codes: parts.map((p) => p.code) });

  const mainJob = 'check --backend tdx --revision rfc-v1';
  const mj = await gmemcheck(REPO, mainJob);
  put('main-job', [{ text: block(mainJob, mj), code: mj.code }]);

  const cx = 'check --backend tdx --revision rfc-v1 --property memory-safety --verbose';
  const c = await gmemcheck(REPO, cx);
  put('counterexample', [{ text: ['$ npx gmemcheck ' + cx, firstFinding(c.out)].join('\n'), code: c.code }]);

  // The reader's checkout: the corpus where it is, the module written beside it.
  const dir = mkdtempSync(join(tmpdir(), 'gmemcheck-readme-'));
  symlinkSync(join(REPO, 'corpus'), join(dir, 'corpus'));
  try {
    const made = 'new-revision rfc-v1-fixed --from rfc-v1';
    const n = await gmemcheck(dir, made);
    put('review-copy', [{ text: block(made, n), code: n.code }]);
    const file = join(dir, 'rfc-v1-fixed.ts');
    const posted = 'check --revision-module rfc-v1-fixed.ts --backend tdx';
    const p = await gmemcheck(dir, posted);
    put('review-posted', [{ text: block(posted, p), code: p.code }]);
    edit(file, FIX_INDEX);
    const one = 'check --revision-module rfc-v1-fixed.ts --backend tdx --property memory-safety';
    const o = await gmemcheck(dir, one);
    put('review-index-only', [{ text: block(one, o), code: o.code }]);
    edit(file, FIX_NULL, FIX_IMPORT);
    const f = await gmemcheck(dir, posted);
    put('review-fixed', [{ text: block(posted, f), code: f.code }]);
    const replay = 'replay corpus/tdx-rfc-v1-memory-safety-b3.json --revision-module rfc-v1-fixed.ts';
    const r = await gmemcheck(dir, replay);
    put('review-replay', [{ text: block(replay, r, 12), code: r.code }]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return out;
}

/** A block's text never runs into the next block. */
const BLOCK = /<!-- example:([a-z-]+) -->\n```text\n((?:(?!<!-- example:)[\s\S])*?)\n```\n<!-- \/example -->/g;

/** The example blocks a README holds, by id. */
export function readBlocks(readme: string): Map<string, string> {
  return new Map([...readme.matchAll(BLOCK)].map((m) => [m[1] ?? '', m[2] ?? '']));
}

export function writeBlocks(readme: string, blocks: ReadonlyMap<string, string>): string {
  return readme.replace(BLOCK, (whole, id: string) => {
    const text = blocks.get(id);
    return text === undefined ? whole : `<!-- example:${id} -->\n\`\`\`text\n${text}\n\`\`\`\n<!-- /example -->`;
  });
}

if (process.argv[1] !== undefined && /scripts[\\/]readme\.ts$/.test(process.argv[1])) {
  const examples = await renderExamples();
  const before = readFileSync(README, 'utf8');
  const present = readBlocks(before);
  const missing = [...examples.keys()].filter((id) => !present.has(id));
  if (missing.length > 0) console.error(`README.md has no block for: ${missing.join(', ')} (add <!-- example:ID --> ... <!-- /example -->)`);
  const after = writeBlocks(before, new Map([...examples].map(([id, e]) => [id, e.text])));
  writeFileSync(README, after);
  console.log(after === before ? 'README.md examples are up to date' : 'README.md examples rewritten');
}

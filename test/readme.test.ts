import { readFileSync } from 'node:fs';
import { expect, test } from 'vitest';
import { README, readBlocks, renderExamples } from '../scripts/readme.js';

/**
 * The README's examples are what the commands print now, and the patch-review walkthrough does
 * what the README says at each step (scripts/readme.ts runs it: copy rfc-v1, check, fix the
 * index, check, add the NULL check, check, replay). After a change that alters the output:
 * `npx tsx scripts/readme.ts`.
 */
test('every README example is what its commands print now, and the walkthrough does what it says', async () => {
  const examples = await renderExamples();
  const blocks = readBlocks(readFileSync(README, 'utf8'));
  expect([...blocks.keys()].sort()).toEqual([...examples.keys()].sort());
  for (const [id, e] of examples) expect(blocks.get(id), `README block ${id} is stale: run npx tsx scripts/readme.ts`).toBe(e.text);
  // What the walkthrough's prose claims of each step.
  const text = (id: string) => examples.get(id)?.text ?? '';
  expect(examples.get('review-posted')?.codes).toEqual([0]);
  expect(text('review-posted')).toMatch(/✓ B3 +userspace +memory-safety\/uninitialised@tdx_gmem_post_populate .*as in rfc-v1/);
  expect(text('review-index-only')).toMatch(/✓ B3 +userspace +memory-safety\/wildPointer@tdx_gmem_post_populate .*as in rfc-v1/);
  expect(text('review-index-only')).not.toContain('uninitialised');
  expect(text('review-fixed')).toContain('✓ FIXED B3 on memory-safety');
  expect(text('review-fixed')).not.toMatch(/✓ B3 /);
  expect(text('review-fixed')).toMatch(/✓ B7 /);
  expect(examples.get('review-fixed')?.codes).toEqual([0]);
  expect(text('review-replay')).toContain('? rfc-v1-fixed: holds (no recorded verdict)');
  expect(text('counterexample')).toContain('!!! uninitialised tdx_gmem_post_populate:i');
  // A cap, not a speed target: it runs about 85 s alone, and shares the 2 cores with the fuzz
  // tests' worker pools and the matrix files.
}, 400_000);

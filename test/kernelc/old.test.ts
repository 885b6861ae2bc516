import { describe, expect } from 'vitest';
import { extract } from '../../kernelc/extract.js';
import { kvm_x86_next_2025_11_07 } from '../../model/revisions/kvm-x86-next-2025.11.07.js';
import type { Revision } from '../../model/revisions/Revision.js';
import type { BackendId } from '../../model/scenario/Scenario.js';
import { compareRevisions } from '../../properties/compare.js';
import { CELL_RUNS, type ExploreSpec } from '../../properties/explore.js';
import { INVARIANTS } from '../../properties/registry.js';
import { suiteSeed } from '../suite.js';
import { FIXTURE_OLD_TREE, testWithClang, treeRevision, cli, seen } from './trees.js';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Kernel mode on the v6.11 .. v6.19 kvm_gmem_populate() API (the callback is handed the user
 * source and a folio order, and reads the source itself): the fixture tree
 * test/fixtures/kernel-trees/old, C written here with the kvm-x86-next-2025.11.07 revision's
 * behaviour, known bug B1 included.
 */

const spec = (backend: BackendId, revision: Revision): ExploreSpec => ({ backend, revision, invariants: INVARIANTS, runs: CELL_RUNS[backend], seed: suiteSeed() });

describe('the old populate API', () => {
  testWithClang('is read from kvm_host.h; guest_memfd.c\'s whole-range loop and the callbacks that copy or pin the source are taken', () => {
    const snp = extract(FIXTURE_OLD_TREE, 'snp');
    expect(snp.api).toBe('KSHIM_GMEM_API_OLD');
    expect(snp.taken.map((t) => t.unit.name)).toEqual(expect.arrayContaining(['__kvm_gmem_get_pfn', 'kvm_gmem_mark_prepared', 'kvm_gmem_populate', 'sev_gmem_post_populate', 'snp_launch_update']));
    expect(extract(FIXTURE_OLD_TREE, 'tdx').taken.map((t) => t.unit.name)).toEqual(expect.arrayContaining(['kvm_gmem_populate', 'tdx_gmem_post_populate', 'tdx_sept_map_leaf_spte']));
  });

  for (const backend of ['snp', 'tdx'] as const) {
    testWithClang(`${backend}: the fixture's C shows what kvm-x86-next-2025.11.07 shows, run for run, and --compare finds no difference`, () => {
      const revision = treeRevision(FIXTURE_OLD_TREE, 'kernel-old', [backend]);
      const c = seen(spec(backend, revision));
      expect(c).toEqual(seen(spec(backend, kvm_x86_next_2025_11_07)));
      if (backend === 'snp') expect(c).toHaveProperty(['refcount-balance/kmapLeaked@sev_gmem_post_populate']);
      expect(compareRevisions(backend, revision, kvm_x86_next_2025_11_07, CELL_RUNS[backend], suiteSeed())).toEqual({ runs: CELL_RUNS[backend], difference: null });
    }, 120_000);
  }

  testWithClang('a reviewer applies the kunmap fix to the old tree: kernel mode reports B1 fixed, exit 0', async () => {
    const tree = join(mkdtempSync(join(tmpdir(), 'gmemcheck-old-')), 'tree');
    cpSync(FIXTURE_OLD_TREE, tree, { recursive: true });
    const sev = join(tree, 'arch/x86/kvm/svm/sev.c');
    const before = readFileSync(sev, 'utf8');
    const fixed = before.replace('\t\t\t\tret = -EFAULT;\n\t\t\t\tgoto unwind;\t/* B1: dst stays mapped */', '\t\t\t\tkunmap_local(dst);\n\t\t\t\tret = -EFAULT;\n\t\t\t\tgoto unwind;');
    expect(fixed).not.toBe(before);
    writeFileSync(sev, fixed);
    const r = await cli('kernel', '--tree', tree, '--backend', 'snp', '--what-if', 'none');
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toContain('kvm_gmem_populate() API OLD, compared with kvm-x86-next-2025.11.07');
    expect(r.out).toMatch(/snp\/kernel-tree\s+fixed\s+.*; fixed: B1-consequence B1/);
  }, 120_000);

  testWithClang('a TDX path from before the TDX MMU rework is skipped under --backend all, and refused with --backend tdx', async () => {
    const tree = join(mkdtempSync(join(tmpdir(), 'gmemcheck-old-')), 'tree');
    cpSync(FIXTURE_OLD_TREE, tree, { recursive: true });
    const tdx = join(tree, 'arch/x86/kvm/vmx/tdx.c');
    writeFileSync(tdx, readFileSync(tdx, 'utf8').replace('static int tdx_sept_map_leaf_spte(', 'static int tdx_sept_set_private_spte(').replace('tdx_sept_map_leaf_spte', 'tdx_sept_set_private_spte'));
    const all = await cli('kernel', '--tree', tree, '--what-if', 'none', '--property', 'leaked-page', '--runs', '50');
    expect(all.code).toBe(0);
    expect(all.out).toMatch(/skipped tdx: tdx_sept_map_leaf_spte\(\) is not defined .*before the TDX MMU rework/);
    const one = await cli('kernel', '--tree', tree, '--backend', 'tdx');
    expect(one.code).toBe(2);
    expect(one.err).toMatch(/check --revision v6\.17 --backend tdx/);
  }, 60_000);
});

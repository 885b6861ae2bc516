import { describe, expect } from 'vitest';
import { extract } from '../../kernelc/extract.js';
import { kvm_x86_next } from '../../model/revisions/kvm-x86-next.js';
import type { Revision } from '../../model/revisions/Revision.js';
import { compareRevisions } from '../../properties/compare.js';
import { CELL_RUNS, type ExploreSpec } from '../../properties/explore.js';
import { INVARIANTS } from '../../properties/registry.js';
import { suiteSeed } from '../suite.js';
import { FIXTURE_TREE, editedTree, testWithClang, treeRevision, treeWithout, cli, seen, seededBugTests } from './trees.js';

/**
 * Kernel mode for TDX: the fixture's tdx.c (test/fixtures/kernel-trees/next/arch/x86/kvm/vmx,
 * C written here with the kvm-x86-next revision's behaviour) extracted, built and run as the
 * KVM_TDX_INIT_MEM_REGION handler, with the model's TDP MMU calling back into its S-EPT hook.
 */

const TDX_C = 'arch/x86/kvm/vmx/tdx.c';
const tdxRevision = (tree: string, id = 'kernel-next'): Revision => treeRevision(tree, id, ['tdx']);
const spec = (revision: Revision, invariants = INVARIANTS): ExploreSpec => ({ backend: 'tdx', revision, invariants, runs: CELL_RUNS.tdx, seed: suiteSeed() });

describe('extracting the TDX populate path', () => {
  testWithClang('from tdx_vcpu_init_mem_region() and the S-EPT leaf hook: the callback, PAGE.ADD, and guest_memfd.c\'s populate', () => {
    const x = extract(FIXTURE_TREE, 'tdx');
    const names = x.taken.filter((t) => t.file === TDX_C).map((t) => t.unit.name);
    expect(names).toEqual(['to_kvm_tdx', 'to_tdx', 'tdx_operand_busy', 'tdx_mem_page_add', 'tdx_mem_page_aug', 'tdx_sept_map_leaf_spte', 'tdx_gmem_post_populate_arg', 'tdx_gmem_post_populate', 'tdx_vcpu_init_mem_region']);
    expect(x.taken.filter((t) => t.file === 'virt/kvm/guest_memfd.c').map((t) => t.unit.name)).toContain('kvm_gmem_populate');
    // The prelude's TDX_BUG_ON() reports to the model; the tree's own definition is not taken.
    expect(x.source).not.toContain('fixture_unused');
  });
});

describe('the fixture\'s TDX C as a revision', () => {
  testWithClang('shows what the kvm-x86-next revision shows, run for run, under the suite seed', () => {
    const c = seen(spec(tdxRevision(FIXTURE_TREE)));
    expect(Object.keys(c).length).toBeGreaterThan(3);
    expect(c).toEqual(seen(spec(kvm_x86_next)));
  }, 120_000);

  // Seeded bugs in the fixture's C, each found as a signature kvm-x86-next does not show and shrunk.
  const cases = [
    {
      name: 'page_add_src left set after the map: the next page hits KVM_BUG_ON(page_add_src)',
      from: '\tkvm_tdx->page_add_src = NULL;\n', to: '',
      key: 'warn-reachable/warnWithoutFault@tdx_gmem_post_populate', ops: 6,
    },
    {
      name: 'MR.EXTEND one chunk short of the page',
      from: 'off < PAGE_SIZE;', to: 'off < PAGE_SIZE - TDX_EXTENDMR_CHUNKSIZE;',
      key: 'measurement/mismatch@tdx_init_mem_region', ops: 6,
    },
    {
      name: 'no NULL source check (Roth v2\'s TDX callback): KVM_BUG_ON(!page_add_src) in tdx_mem_page_add()',
      from: '!r.source_addr || ', to: '',
      key: 'warn-reachable/warnWithoutFault@tdx_mem_page_add', ops: 5,
    },
    {
      // Reached only through a second vCPU's fd (secondVcpuArb): vCPU 0 is initialized at the start.
      name: 'no check that the vCPU is initialized: a populate through a vCPU KVM_TDX_INIT_VCPU never set up succeeds',
      from: '\tif (to_tdx(vcpu)->state != VCPU_TD_STATE_INITIALIZED)\n\t\treturn -EINVAL;\n', to: '',
      key: 'functional-spec/wrongErrno[T.10]@tdx_init_mem_region', ops: 6,
    },
  ];
  seededBugTests({ tree: FIXTURE_TREE, file: TDX_C, spec: (r) => spec(r), revisionOf: (t) => tdxRevision(t, 'kernel-seeded'), base: kvm_x86_next, cases });
});

describe('--compare on TDX', () => {
  testWithClang('the fixture and kvm-x86-next do the same on a cell\'s worth of scenarios', () => {
    expect(compareRevisions('tdx', tdxRevision(FIXTURE_TREE), kvm_x86_next, CELL_RUNS.tdx, suiteSeed())).toEqual({ runs: CELL_RUNS.tdx, difference: null });
  }, 60_000);

  testWithClang('an injected difference is found and minimized: the region\'s gpa not advanced past a populated page', () => {
    const tree = editedTree(TDX_C, '\t\tr.gpa += PAGE_SIZE;\n', '');
    const d = compareRevisions('tdx', tdxRevision(tree), kvm_x86_next, CELL_RUNS.tdx, suiteSeed()).difference;
    expect(d).not.toBeNull();
    if (d === null) return;
    expect(d.scenario.ops.length).toBeLessThanOrEqual(5);
    expect(d.scenario.ops[d.opIndex]).toMatchObject({ kind: 'tdx_init_mem_region' });
    expect(d.a.split('\n')[0]).not.toBe(d.b.split('\n')[0]);
  }, 60_000);
});

describe('gmemcheck kernel with TDX', () => {
  testWithClang('--backend tdx checks the tree\'s TDX C against the kvm-x86-next row; exit 0', async () => {
    const r = await cli('kernel', '--tree', FIXTURE_TREE, '--backend', 'tdx', '--what-if', 'none');
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toContain(`tdx: took ${TDX_C}:`);
    expect(r.out).toMatch(/^tdx × kernel-next \(\d+ runs\): as expected/m);
    expect(r.out).not.toMatch(/^snp × /m);
  }, 60_000);

  testWithClang('every backend the tree has: a tree without tdx.c is checked for SNP and says TDX was skipped', async () => {
    const r = await cli('kernel', '--tree', treeWithout(TDX_C), '--what-if', 'none', '--property', 'leaked-page', '--runs', '50');
    expect(r.code).toBe(0);
    expect(r.out).toContain(`skipped tdx: ${TDX_C} is not in the tree`);
    expect(r.out).toContain('skipped cca: arch/arm64/kvm/rmi.c is not in the tree');
    expect(r.out).toMatch(/^snp × /m);
    expect(r.out).not.toMatch(/^tdx × /m);
  }, 60_000);

  testWithClang('a tdx.c that does not build is the tree\'s error at its own line (B4: KVM_BUG_ON() without its kvm); exit 1', async () => {
    const tree = editedTree(TDX_C, 'if (KVM_BUG_ON(kvm_tdx->page_add_src, kvm))', 'if (KVM_BUG_ON(kvm_tdx->page_add_src))');
    const r = await cli('kernel', '--tree', tree, '--backend', 'tdx');
    expect(r.code).toBe(1);
    expect(r.out).toMatch(new RegExp(`${TDX_C.replace(/[/.]/g, '\\$&')}:\\d+:\\d+: error: too few arguments provided to function-like macro invocation`));
    expect(r.out).toContain('the tdx populate path\'s own code fails to compile');
  });
});

import { describe, expect } from 'vitest';
import { kvm_x86_next } from '../../model/revisions/kvm-x86-next.js';
import type { Revision } from '../../model/revisions/Revision.js';
import { runScenario } from '../../model/scenario/runScenario.js';
import { CELL_RUNS, explore, scenarioSize, type ExploreSpec } from '../../properties/explore.js';
import { INVARIANTS } from '../../properties/registry.js';
import { launchUpdate, scenario, setupOps, SLOT_PAGES } from '../model/fixtures.js';
import { suiteSeed } from '../suite.js';
import { FIXTURE_TREE, editedTree, testWithClang, treeRevision, seen } from './trees.js';

const spec = (revision: Revision, invariants = INVARIANTS): ExploreSpec => ({ backend: 'snp', revision, invariants, runs: CELL_RUNS.snp, seed: suiteSeed() });

describe('a tree\'s C as a revision', () => {
  testWithClang('the fixture\'s C shows what the kvm-x86-next revision shows, run for run, under the suite seed', () => {
    const c = seen(spec(treeRevision(FIXTURE_TREE, 'kernel-next')));
    expect(Object.keys(c).length).toBeGreaterThan(5);
    expect(c).toEqual(seen(spec(kvm_x86_next)));
  }, 120_000);

  testWithClang('the C reads the model\'s kvm->arch.pre_fault_allowed: false before LAUNCH_FINISH, true after', () => {
    // A patch that refuses a launch update once pre-faulting is allowed (-EPERM, an errno the path never returns).
    const tree = editedTree('arch/x86/kvm/svm/sev.c', '\tif (!sev_snp_guest(kvm) || !to_kvm_sev_info(kvm)->snp_context)\n\t\treturn -EINVAL;', '\tif (kvm->arch.pre_fault_allowed)\n\t\treturn -EPERM;\n\tif (!sev_snp_guest(kvm) || !to_kvm_sev_info(kvm)->snp_context)\n\t\treturn -EINVAL;');
    const ops = [...setupOps(), launchUpdate(), { kind: 'snp_launch_finish', faults: [] } as const, launchUpdate({ at: 1 })];
    const r = runScenario(scenario('snp', ops), treeRevision(tree, 'kernel-pre-fault'));
    expect(r.results.slice(-3).map((x) => x.ret)).toEqual([0, 0, -1]);
  });

  testWithClang('a launch update of 2^40 bytes populates up to the memslot\'s end, as the 64-bit kernel does', () => {
    const len = 2 ** 40;
    const ops = [...setupOps(), launchUpdate({ at: 0, len, type: 3 })];
    const c = runScenario(scenario('snp', ops), treeRevision(FIXTURE_TREE, 'kernel-next'));
    const ts = runScenario(scenario('snp', ops), kvm_x86_next);
    expect(c.results.at(-1)?.ret).toBe(0);
    expect(c.results).toEqual(ts.results);
    const fw = (r: typeof c) => r.world.log.filter((e) => e.kind === 'fw' && e.cmd === 'SNP_LAUNCH_UPDATE').length;
    expect(fw(c)).toBe(SLOT_PAGES);
  });
});

describe('seeded bugs in a tree\'s C are caught and shrunk', () => {
  const cases = [
    {
      name: 'the source page\'s pin kept (put_page() dropped)',
      file: 'virt/kvm/guest_memfd.c', from: '\t\tif (src_page)\n\t\t\tput_page(src_page);\n', to: '',
      invariant: 'refcount-balance',
    },
    {
      name: 'the kmaps undone out of order',
      file: 'arch/x86/kvm/svm/sev.c', from: '\t\tkunmap_local(to);\n\t\tkunmap_local(from);', to: '\t\tkunmap_local(from);\n\t\tkunmap_local(to);',
      invariant: 'kmap-local-lifo',
    },
  ];
  for (const c of cases) {
    testWithClang(c.name, () => {
      const invariants = INVARIANTS.filter((i) => i.id === c.invariant);
      const revision = treeRevision(editedTree(c.file, c.from, c.to), 'kernel-seeded');
      const before = seen(spec(kvm_x86_next, invariants));
      const x = explore({ ...spec(revision, invariants), wanted: (key) => !(key in before) });
      const fresh = x.findings.filter((f) => !(f.key in before));
      expect(fresh.map((f) => f.key)).not.toEqual([]);
      for (const f of fresh) expect(scenarioSize(f.counterexample).ops).toBeLessThanOrEqual(6);
    }, 120_000);
  }
});

describe('a crash in a tree\'s C is the tree\'s oops, never a gmemcheck error', () => {
  const oopsOf = (tree: string) => {
    const invariants = INVARIANTS.filter((i) => i.id === 'oops');
    const x = explore({ ...spec(treeRevision(tree, 'kernel-crash'), invariants), shrinkIf: () => false });
    return { modelErrors: x.modelErrors.map((m) => m.error.split('\n')[0]), keys: (x.counted ?? []).map((f) => f.key) };
  };

  testWithClang('a write through a page handle (a trap in the C) is an oops at the C function', () => {
    const r = oopsOf(editedTree('arch/x86/kvm/svm/sev.c', '\t\tmemcpy(to, from, PAGE_SIZE);', '\t\t*(int *)src_page = 0;\n\t\tmemcpy(to, from, PAGE_SIZE);'));
    expect(r.modelErrors).toEqual([]);
    expect(r.keys).toEqual([expect.stringMatching(/^oops\/\w+@sev_gmem_post_populate$/)]);
  });

  testWithClang('a NULL dereference traps (in wasm, address 0 is ordinary memory): the memslot NULL check dropped', () => {
    const r = oopsOf(editedTree('arch/x86/kvm/svm/sev.c', '\tif (!kvm_slot_has_gmem(memslot))\n\t\treturn -EINVAL;', '\tif (!(memslot->flags & KVM_MEM_GUEST_MEMFD))\n\t\treturn -EINVAL;'));
    expect(r.modelErrors).toEqual([]);
    expect(r.keys).toEqual([expect.stringMatching(/^oops\/\w+@snp_launch_update$/)]);
  });
});

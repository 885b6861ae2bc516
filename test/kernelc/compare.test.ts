import { describe, expect } from 'vitest';
import { KVM_SEV_SNP_PAGE_TYPE_ZERO } from '../../model/backends/snp/uapi.js';
import { kvm_x86_next } from '../../model/revisions/kvm-x86-next.js';
import { compareRevisions } from '../../properties/compare.js';
import { CELL_RUNS } from '../../properties/explore.js';
import { main } from '../../cli/main.js';
import { suiteSeed } from '../suite.js';
import { FIXTURE_TREE, editedTree, testWithClang, treeRevision } from './trees.js';


describe('--compare: the tree\'s C against a TypeScript revision', () => {
  testWithClang('the fixture and kvm-x86-next do the same on a cell\'s worth of scenarios', () => {
    const c = compareRevisions('snp', treeRevision(FIXTURE_TREE, 'kernel-tree'), kvm_x86_next, CELL_RUNS.snp, suiteSeed());
    expect(c).toEqual({ runs: CELL_RUNS.snp, difference: null });
  });

  testWithClang('an injected difference is found and minimized: a ZERO page\'s uaddr advanced on write-back', () => {
    const tree = editedTree('arch/x86/kvm/svm/sev.c', '\tif (src)\n\t\tparams.uaddr += count * PAGE_SIZE;', '\tparams.uaddr += count * PAGE_SIZE;');
    const d = compareRevisions('snp', treeRevision(tree, 'kernel-tree'), kvm_x86_next, CELL_RUNS.snp, suiteSeed()).difference;
    expect(d).not.toBeNull();
    if (d === null) return;
    expect(d.scenario.ops.length).toBeLessThanOrEqual(5);
    expect(d.scenario.ops[d.opIndex]).toMatchObject({ kind: 'snp_launch_update', type: KVM_SEV_SNP_PAGE_TYPE_ZERO });
    expect(d.a.split('\n')[0]).not.toBe(d.b.split('\n')[0]);
  });

  testWithClang('the command prints the minimized scenario and both sides; exit 1 on a difference, 2 for an unknown revision', async () => {
    let out = '';
    let err = '';
    const run = (...a: string[]) => main(['kernel', '--tree', FIXTURE_TREE, ...a], (s) => (out += s), (s) => (err += s));
    // The newest tree rejects a NULL source before taking slots_lock; v7.0 takes it first.
    expect(await run('--compare', 'v7.0', '--runs', '50')).toBe(1);
    expect(out).toMatch(/compared kernel-next with v7\.0 on \d+ generated scenario\(s\), seed \d+: run \d+ differs; minimized to 1 operation\(s\):\n {2}> 0 KVM_SEV_SNP_LAUNCH_UPDATE/);
    expect(out).toContain('"lock":"kvm->slots_lock"');
    expect(await run('--compare', 'nope')).toBe(2);
    expect(err).toMatch(/--compare 'nope' is not a built-in revision/);
  });
});

describe('a tree\'s C that spins without calling the kernel', () => {
  testWithClang('--compare reports the hang with its scenario (exit 1) and never hangs itself', async () => {
    const saved = process.env.GMEMCHECK_RUN_TIMEOUT_MS;
    process.env.GMEMCHECK_RUN_TIMEOUT_MS = '1500';
    try {
      // A SECRETS page spins on a volatile: no import is ever called, so only the wall clock can end it.
      const tree = editedTree('arch/x86/kvm/svm/sev.c', '\tif (src_page) {\n\t\tvoid *from', '\tif (args->type == KVM_SEV_SNP_PAGE_TYPE_SECRETS) {\n\t\tvolatile int spin = 1;\n\n\t\twhile (spin)\n\t\t\t;\n\t}\n\n\tif (src_page) {\n\t\tvoid *from');
      let out = '';
      const code = await main(['kernel', '--tree', tree, '--compare', 'kvm-x86-next'], (t) => (out += t), () => undefined);
      expect(code).toBe(1);
      expect(out).toMatch(/the run stopped making progress for \d+\.\d s on scenario \d+:/);
      expect(out).toContain('type: SECRETS');
    } finally {
      if (saved === undefined) delete process.env.GMEMCHECK_RUN_TIMEOUT_MS;
      else process.env.GMEMCHECK_RUN_TIMEOUT_MS = saved;
    }
  }, 120_000);
});

import { describe, expect } from 'vitest';
import { extract } from '../../kernelc/extract.js';
import { rmi_newest } from '../../model/revisions/rmi-newest.js';
import type { Revision } from '../../model/revisions/Revision.js';
import { compareRevisions } from '../../properties/compare.js';
import { CELL_RUNS, type ExploreSpec } from '../../properties/explore.js';
import { INVARIANTS } from '../../properties/registry.js';
import { suiteSeed } from '../suite.js';
import { FIXTURE_ARM_TREE, FIXTURE_OLD_TREE, FIXTURE_TREE, cli, editedTree, seen, seededBugTests, testWithClang, treeRevision } from './trees.js';

/**
 * Kernel mode for Arm CCA: the fixture's rmi.c (test/fixtures/kernel-trees/arm/arch/arm64/kvm,
 * C written here with the rmi-newest revision's behaviour) and its guest_memfd.c (private memory
 * tracked by guest_memfd itself) extracted, built and run as KVM_ARM_RMI_POPULATE, with the
 * realm's creation and the RMM the model's.
 */

const RMI_C = 'arch/arm64/kvm/rmi.c';
const ccaRevision = (tree: string, id = 'kernel-arm'): Revision => treeRevision(tree, id, ['cca']);
const spec = (revision: Revision): ExploreSpec => ({ backend: 'cca', revision, invariants: INVARIANTS, runs: CELL_RUNS.cca, seed: suiteSeed() });

describe('extracting the Arm RMI populate path', () => {
  testWithClang('from kvm_arm_rmi_populate() down to RMI_RTT_DATA_MAP_INIT and the RTTs it makes; realm_create_rd() is the model\'s', () => {
    const x = extract(FIXTURE_ARM_TREE, 'cca');
    expect(x.taken.filter((t) => t.file === RMI_C).map((t) => t.unit.name)).toEqual([
      'alloc_delegated_granule', 'alloc_rtt', 'free_rtt', 'rmi_rtt_level_mapsize', 'realm_rtt_create', 'realm_create_rtt_levels', 'realm_data_map_init', 'populate_region_cb', 'realm_ensure_created', 'kvm_arm_rmi_populate',
    ]);
    expect(x.taken.filter((t) => t.file === 'virt/kvm/guest_memfd.c').map((t) => t.unit.name)).toContain('kvm_gmem_populate');
    // The function shares its name with the uAPI struct the prelude declares: both are kept apart.
    expect(x.source).toMatch(/^int kvm_arm_rmi_populate\(struct kvm \*kvm, struct kvm_arm_rmi_populate \*args\)$/m);
    expect(x.source).not.toContain('fixture_unused');
  });

  testWithClang('a tree of another kvm_gmem_populate() API: the RMM 1.0 series are the revisions\', said so', () => {
    expect(() => extract(FIXTURE_OLD_TREE, 'cca')).toThrow(/OLD kvm_gmem_populate\(\) API: kernel mode runs the RMI populate path of RMM 2\.0 trees/);
  });
});

describe('the fixture\'s RMI C as a revision', () => {
  testWithClang('shows what the rmi-newest revision shows, run for run, under the suite seed', () => {
    const c = seen(spec(ccaRevision(FIXTURE_ARM_TREE)));
    expect(Object.keys(c).length).toBeGreaterThan(2);
    expect(c).toEqual(seen(spec(rmi_newest)));
  }, 120_000);

  // Seeded bugs in the fixture's C, each found as a signature rmi-newest does not show and shrunk.
  const cases = [
    {
      name: 'the struct not advanced past the populated pages: userspace would populate them again',
      from: '\targs->base += done << PAGE_SHIFT;\n', to: '',
      key: 'functional-spec/writeBack@arm_rmi_populate', ops: 4,
    },
    {
      name: 'KVM_ARM_RMI_POPULATE_FLAGS_MEASURE dropped: the pages are not measured',
      from: '\t\tdata_flags |= RMI_MEASURE_CONTENT;', to: '\t\t;',
      key: 'measurement/mismatch@arm_rmi_populate', ops: 4,
    },
    {
      name: 'no NULL source check: GUP of address 0 answers -EFAULT where the uAPI says -EINVAL',
      from: ' || !args->source_uaddr ||', to: ' ||',
      key: 'functional-spec/wrongErrno[RN.3]@arm_rmi_populate', ops: 1,
    },
    {
      name: 'the RTT made for the faulting IPA, not the base of what it maps: the RMM refuses it and the creation WARNs',
      from: 'ALIGN_DOWN(ipa, rmi_rtt_level_mapsize(level - 1))', to: 'ipa',
      key: 'warn-reachable/warnWithoutFault@realm_create_rtt_levels', ops: 4,
    },
  ];
  seededBugTests({ tree: FIXTURE_ARM_TREE, file: RMI_C, spec, revisionOf: (t) => ccaRevision(t, 'kernel-seeded'), base: rmi_newest, cases });
});

describe('--compare on Arm CCA', () => {
  testWithClang('the fixture and rmi-newest do the same on a cell\'s worth of scenarios', () => {
    expect(compareRevisions('cca', ccaRevision(FIXTURE_ARM_TREE), rmi_newest, CELL_RUNS.cca, suiteSeed())).toEqual({ runs: CELL_RUNS.cca, difference: null });
  }, 60_000);

  testWithClang('an injected difference is found and minimized: a base at the end of the protected range with size 0 is not refused', () => {
    // range_overflows() refuses base == BIT(ia_bits - 1) even when nothing follows it; base + size
    // > max does not.
    const tree = editedTree(RMI_C, 'range_overflows(args->base, args->size, BIT_ULL(kvm->arch.realm.ia_bits - 1))', 'args->base + args->size > BIT_ULL(kvm->arch.realm.ia_bits - 1)', FIXTURE_ARM_TREE);
    const d = compareRevisions('cca', ccaRevision(tree), rmi_newest, CELL_RUNS.cca, suiteSeed()).difference;
    expect(d).not.toBeNull();
    if (d === null) return;
    expect(d.scenario.ops.length).toBeLessThanOrEqual(3);
    expect(d.scenario.ops[d.opIndex]).toMatchObject({ kind: 'arm_rmi_populate', size: 0n });
    expect(d.a.split('\n')[0]).not.toBe(d.b.split('\n')[0]);
  }, 60_000);
});

describe('gmemcheck kernel with Arm CCA', () => {
  testWithClang('--backend cca checks the tree\'s RMI C against the rmi-newest row; exit 0', async () => {
    const r = await cli('kernel', '--tree', FIXTURE_ARM_TREE, '--backend', 'cca');
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toContain('compared with rmi-newest');
    expect(r.out).toContain(`cca: took ${RMI_C}:`);
    expect(r.out).toMatch(/^cca × kernel-arm \(\d+ runs\): as expected/m);
  }, 60_000);

  testWithClang('--backend all on an x86 tree: CCA is skipped for want of rmi.c, and said so', async () => {
    const r = await cli('kernel', '--tree', FIXTURE_TREE, '--what-if', 'none', '--property', 'leaked-page', '--runs', '30', '--json');
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.out) as { kernel: { skipped: string[]; base: Record<string, string> } };
    expect(doc.kernel.skipped).toEqual([`cca: ${RMI_C} is not in the tree`]);
    expect(doc.kernel.base).toEqual({ snp: 'kvm-x86-next', tdx: 'kvm-x86-next' });
  }, 60_000);
});

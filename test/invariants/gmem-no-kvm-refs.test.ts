import { describe, expect, test } from 'vitest';
import { ccaBackend } from '../../model/backends/cca/backend.js';
import { ccaOf } from '../../model/backends/cca/access.js';
import { granuleState } from '../../model/backends/cca/state.js';
import { pageRefInc } from '../../model/kernel/pages.js';
import type { RunResult } from '../../model/scenario/runScenario.js';
import type { Scenario } from '../../model/scenario/Scenario.js';
import { runWithInvariant } from '../../properties/check.js';
import { gmemNoKvmRefs } from '../../properties/invariants/gmem-no-kvm-refs.js';
import { ccaScenario, ccaSetupOps, ccaWorld, fw, punchPage, rmiPopulate } from '../model/ccaFixtures.js';
import { GMEM, PS, folioPfn, launchUpdate, page, scenario, setupOps } from '../model/fixtures.js';
import { auditWorld } from './auditWorld.js';
import { expectMatrixViolated, invariantCases, rev } from './caseTable.js';

const S = ccaSetupOps({ slotPages: 2 });
const copyFails = fw('RMI_DATA_CREATE', 'src_copy');
const undelegateFails = fw('RMI_GRANULE_UNDELEGATE', 'gran_gpt');
/** Granule 1 of a 4-granule page fails its copy, and the rollback's destroy of granule 0 fails. */
const rollbackDestroyFails = [fw('RMI_DATA_CREATE', 'src_copy', 1, 1), fw('RMI_DATA_DESTROY', 'rmm_defect')];
const GPP4 = { granules_per_page: 4 };
const refs = (r: RunResult, at = 0) => page(r.world, folioPfn(r.world, at) ?? 0).refcount;
const granule = (r: RunResult, at = 0) => granuleState(ccaOf(r.world), (folioPfn(r.world, at) ?? 0) * PS);

test('the matrix expects G8 on rme-v9 and B23 on rme-v12; rmi-newest holds', () => {
  expectMatrixViolated('gmem-no-kvm-refs', 'cca', 'rme-v9', 'kvmRefHeld');
  expectMatrixViolated('gmem-no-kvm-refs', 'cca', 'rme-v12', 'kvmRefHeld');
});

invariantCases(gmemNoKvmRefs, {
  holds: [
    {
      name: 'rmi-newest: two populated pages hold only their page-cache reference',
      revision: rev('rmi-newest'),
      scenario: ccaScenario([...S, rmiPopulate({ npages: 2 })]),
      check: (r) => expect([refs(r, 0), refs(r, 1), granule(r, 0), granule(r, 1)]).toEqual([1, 1, 'DATA', 'DATA']),
    },
    {
      name: 'rmi-newest: an undelegate that fails bugs the VM and takes no reference on the DELEGATED page',
      revision: rev('rmi-newest'),
      scenario: ccaScenario([...S, rmiPopulate({ faults: [fw('RMI_RTT_DATA_MAP_INIT', 'src_copy'), fw('RMI_GRANULE_RANGE_UNDELEGATE', 'gran_gpt')] })]),
      check: (r) => expect([r.world.kvm.vm_bugged, granule(r), refs(r)]).toEqual([true, 'DELEGATED', 1]),
    },
    {
      name: 'rme-v12: kvm_gmem_populate() drops its folio reference after each page',
      revision: rev('rme-v12'),
      scenario: ccaScenario([...S, rmiPopulate({ npages: 2 })], GPP4),
      check: (r) => expect([refs(r, 0), refs(r, 1), r.results[5]?.ret]).toEqual([1, 1, 2 * PS]),
    },
    {
      name: 'rme-v12: a failed copy rolled back in full leaves a host-owned page with one reference',
      revision: rev('rme-v12'),
      scenario: ccaScenario([...S, rmiPopulate({ faults: [copyFails] })]),
      check: (r) => expect([granule(r), refs(r)]).toEqual(['UNDELEGATED', 1]),
    },
    {
      name: 'rme-v12: punching out a populated page frees it',
      revision: rev('rme-v12'),
      scenario: ccaScenario([...S, rmiPopulate(), punchPage(0)]),
      check: (r) => expect(r.world.host.pages.filter((p) => p.owner.kind === 'gmem')).toEqual([]),
    },
    {
      name: 'SNP: a populated guest page carries the page cache\'s reference only',
      revision: rev('kvm-x86-next'),
      scenario: scenario('snp', [...setupOps(), launchUpdate()]),
      check: (r) => expect(page(r.world, folioPfn(r.world, 0) ?? 0).refcount).toBe(1),
    },
    {
      name: 'non-gmem pages are not its business: rfc-v1 leaks pins on anonymous source pages (B7)',
      revision: rev('rfc-v1'),
      scenario: scenario('snp', [...setupOps(), launchUpdate({ npages: 3, faults: [{ kind: 'gup', nth: 1, result: 'short' }] })]),
      check: (r) => expect(r.world.host.pages.some((p) => p.owner.kind === 'anon' && p.refcount > 1)).toBe(true),
    },
  ],
  violated: [
    {
      name: 'G8, guest-owned: rme-v9 never puts the gmem_page of a populated DATA page',
      revision: rev('rme-v9'),
      scenario: ccaScenario([...S, rmiPopulate({ npages: 2 })]),
      messageId: 'kvmRefHeld',
      opIndex: 5,
      check: (r) => expect([granule(r, 0), refs(r, 0), refs(r, 1)]).toEqual(['DATA', 2, 2]),
    },
    {
      name: 'G8, host-owned: rme-v9 rolls a failed copy back but keeps the gmem_page reference',
      revision: rev('rme-v9'),
      scenario: ccaScenario([...S, rmiPopulate({ faults: [copyFails] })]),
      messageId: 'kvmRefHeld',
      opIndex: 5,
      check: (r) => expect([r.results[5]?.ret, granule(r), refs(r)]).toEqual([-6, 'UNDELEGATED', 2]),
    },
    {
      name: 'B23, firmware-owned: rme-v12 get_page()s a page whose granule stays DELEGATED',
      revision: rev('rme-v12'),
      scenario: ccaScenario([...S, rmiPopulate({ faults: [copyFails, undelegateFails] })]),
      messageId: 'kvmRefHeld',
      opIndex: 5,
      check: (r) => expect([granule(r), refs(r)]).toEqual(['DELEGATED', 2]),
    },
    {
      name: 'B23, guest-owned: the rollback\'s DATA_DESTROY fails, the granule stays DATA and cannot be undelegated',
      revision: rev('rme-v12'),
      scenario: ccaScenario([...S, rmiPopulate({ faults: rollbackDestroyFails })], GPP4),
      messageId: 'kvmRefHeld',
      opIndex: 5,
      check: (r) => expect([granule(r), refs(r), ccaOf(r.world).s2tte.get(0x400)?.state]).toEqual(['DATA', 2, 'ASSIGNED']),
    },
  ],
});

describe('gmem-no-kvm-refs messages name who owns the page', () => {
  const first = (s: Scenario, revision: string) => runWithInvariant(s, rev(revision), gmemNoKvmRefs).violations[0]?.message;
  test.each([
    ['host-owned', 'rme-v9', ccaScenario([...S, rmiPopulate({ faults: [copyFails] })])],
    ['DELEGATED granule 0x4100', 'rme-v12', ccaScenario([...S, rmiPopulate({ faults: [copyFails, undelegateFails] })])],
    ['DATA granule 0x4100', 'rme-v9', ccaScenario([...S, rmiPopulate()])],
  ])('%s [%s]', (state, revision, s) => {
    expect(first(s, revision)).toBe(`guest_memfd pfn 0x104 (${state}) has refcount 2; the page cache and user mappings account for 1`);
  });
});

describe('gmem-no-kvm-refs accounting, on hand-built worlds', () => {
  /** A CCA world with one guest_memfd folio holding only its page-cache reference. */
  function cachedPage() {
    const { w, k } = ccaWorld('v1.0', { granules_per_page: 1, rtt_depth: 0 });
    const file = k.gmem_file_create(2 * PS, 0);
    const pfn = k.filemap_grab_folio(file, 0);
    k.folio_unlock(pfn);
    k.folio_put(pfn);
    return { w, p: page(w, pfn) };
  }
  const audit = (w: Parameters<typeof auditWorld>[1], during?: () => void) => auditWorld(gmemNoKvmRefs, w, ccaBackend, during).map((v) => v.message);

  test('a folio with only its page-cache reference passes', () => {
    const { w, p } = cachedPage();
    expect([p.refcount, w.gmem.files.get(GMEM)?.folios.size]).toEqual([1, 1]);
    expect(audit(w)).toEqual([]);
  });

  test('each user mapping accounts for one reference; one more is KVM\'s', () => {
    const { w, p } = cachedPage();
    w.mm.vmas.push({ start: 0x10000, end: 0x10000 + PS, prot: 'rw', pfns: [p.pfn] });
    expect(audit(w, () => pageRefInc(w, p, 'mmap'))).toEqual([]);
    expect(audit(w, () => pageRefInc(w, p, 'get_page'))).toEqual(['guest_memfd pfn 0x100 (host-owned) has refcount 3; the page cache and user mappings account for 2']);
    // Reported once, by the operation that took it: the next one that changes nothing is clean.
    expect(audit(w)).toEqual([]);
  });

  test('a page out of the page cache may hold no reference at all', () => {
    const { w, p } = cachedPage();
    expect(audit(w, () => w.gmem.files.get(GMEM)?.folios.clear())).toEqual(['guest_memfd pfn 0x100 (host-owned) has refcount 1; the page cache and user mappings account for 0']);
    expect(p.refcount).toBe(1);
  });

  test('anonymous and kernel pages are ignored whatever their refcount', () => {
    const { w, p } = cachedPage();
    p.owner = { kind: 'anon' };
    pageRefInc(w, p, 'gup');
    pageRefInc(w, p, 'gup');
    expect(audit(w)).toEqual([]);
    p.owner = { kind: 'kernel', what: 'rtt' };
    expect(audit(w)).toEqual([]);
  });
});

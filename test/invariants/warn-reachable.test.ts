import { expect, test } from 'vitest';
import { warnReachable } from '../../properties/invariants/warn-reachable.js';
import { KVM_SEV_SNP_PAGE_TYPE_ZERO } from '../../model/backends/snp/uapi.js';
import { initMemRegion, launchUpdate, scenario, setupOps } from '../model/fixtures.js';
import { ccaScenario, ccaSetupOps, rmiPopulate } from '../model/ccaFixtures.js';
import { expectMatrixViolated, invariantCases, mutant, rev } from './caseTable.js';

const S = setupOps();

test('the matrix expects G3 on SNP kvm-x86-next-2025.11.07, rfc-v1 and v7.0', () => {
  for (const r of ['kvm-x86-next-2025.11.07', 'rfc-v1', 'v7.0']) expectMatrixViolated('warn-reachable', 'snp', r, 'warnWithoutFault');
});

invariantCases(warnReachable, {
  holds: [
    {
      name: 'kvm-x86-next rejects uaddr 0 for a non-ZERO page up front',
      revision: rev('kvm-x86-next'),
      scenario: scenario('snp', [...S, launchUpdate({ uaddr: 0 })]),
      check: (r) => expect(r.results[4]?.ret).toBe(-22),
    },
    { name: 'a ZERO page has no source to warn about', revision: rev('v7.0'), scenario: scenario('snp', [...S, launchUpdate({ uaddr: 0, type: KVM_SEV_SNP_PAGE_TYPE_ZERO })]) },
    {
      name: 'rmi-newest creates the missing level-3 table at the base of what it maps, and populates',
      revision: rev('rmi-newest'),
      scenario: ccaScenario([...ccaSetupOps({ private: false }), rmiPopulate({ at: 1 })], { rtt_depth: 2 }),
      check: (r) => expect([r.results[4]?.ret, r.world.log.filter((e) => e.kind === 'fw' && e.cmd === 'RMI_RTT_CREATE').length]).toEqual([0, 1]),
    },
    {
      name: 'TDX_BUG_ON after an injected MR.EXTEND failure is allowed, and kills the VM',
      revision: rev('kvm-x86-next'),
      scenario: scenario('tdx', [...S, initMemRegion({ faults: [{ kind: 'fw', cmd: 'TDH.MR.EXTEND', condition: 'tdr_busy', nth: 1 }] }), initMemRegion({ at: 1 })]),
      check: (r) => {
        expect(r.results.slice(4).map((x) => x.ret)).toEqual([-5, -5]);
        expect(r.world.kvm.vm_bugged).toBe(true);
      },
    },
  ],
  violated: [
    {
      name: 'G3: v7.0 WARN_ON_ONCE(type != ZERO && !src_page) from uaddr 0',
      revision: rev('v7.0'),
      scenario: scenario('snp', [...S, launchUpdate({ uaddr: 0 })]),
      messageId: 'warnWithoutFault',
      opIndex: 4,
      check: (r) => expect(r.results[4]).toMatchObject({ ret: -5, out: { error: 0 } }),
    },
    { name: 'G3: kvm-x86-next-2025.11.07', revision: rev('kvm-x86-next-2025.11.07'), scenario: scenario('snp', [...S, launchUpdate({ uaddr: 0 })]), messageId: 'warnWithoutFault', opIndex: 4 },
    { name: 'G3: rfc-v1', revision: rev('rfc-v1'), scenario: scenario('snp', [...S, launchUpdate({ uaddr: 0 })]), messageId: 'warnWithoutFault', opIndex: 4 },
    {
      // An allocation failure excuses no warning (fail_nth, a memcg limit): only firmware does.
      name: 'a WARN an allocation failure alone reaches (injected bug)',
      revision: mutant('kvm-x86-next+warn-on-folio-enomem'),
      scenario: scenario('snp', [...S, launchUpdate({ faults: [{ kind: 'alloc', site: 'folio', nth: 1 }] })]),
      messageId: 'warnWithoutFault',
      opIndex: 4,
    },
    {
      // The RMM refuses a table made for the faulting IPA (TF-RMM validate_rtt_structure_cmds()):
      // realm_create_rtt_levels() WARNs, though nothing was injected. rmi-newest aligns it down.
      name: 'an RTT created at an IPA that is not the base of what it maps (injected bug)',
      revision: mutant('rmi-newest+rtt-unaligned'),
      scenario: ccaScenario([...ccaSetupOps({ private: false }), rmiPopulate({ at: 1 })], { rtt_depth: 2 }),
      messageId: 'warnWithoutFault',
      opIndex: 4,
    },
    {
      // A kernel-side fault earlier in the run does not turn a known warning into another finding.
      name: 'G3 after an unrelated allocation failure: the same signature',
      revision: rev('v7.0'),
      scenario: scenario('snp', [...S, launchUpdate({ at: 1, faults: [{ kind: 'alloc', site: 'folio', nth: 1 }] }), launchUpdate({ uaddr: 0 })]),
      messageId: 'warnWithoutFault',
      opIndex: 5,
    },
  ],
});

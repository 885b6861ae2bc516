import { kmapLocalLifo } from '../../properties/invariants/kmap-local-lifo.js';
import { KVM_SEV_SNP_PAGE_TYPE_CPUID } from '../../model/backends/snp/uapi.js';
import { PS, SRC, launchUpdate, scenario, setupOps } from '../model/fixtures.js';
import { expectMatrixViolated, invariantCases, rev } from './caseTable.js';
import { test } from 'vitest';

const S = setupOps();
const cpuidWriteBack = launchUpdate({ type: KVM_SEV_SNP_PAGE_TYPE_CPUID, faults: [{ kind: 'fw', cmd: 'SNP_LAUNCH_UPDATE', condition: 'cpuid_table', nth: 1 }] });

test('the matrix expects G1 on SNP rfc-v1 and v7.0', () => {
  expectMatrixViolated('kmap-local-lifo', 'snp', 'rfc-v1', 'outOfOrder');
  expectMatrixViolated('kmap-local-lifo', 'snp', 'v7.0', 'outOfOrder');
});

invariantCases(kmapLocalLifo, {
  holds: [
    { name: 'kvm-x86-next unmaps dst then src (138f5f9cbe37)', revision: rev('kvm-x86-next'), scenario: scenario('snp', [...S, launchUpdate({ npages: 3 })]) },
    { name: 'kvm-x86-next CPUID write-back', revision: rev('kvm-x86-next'), scenario: scenario('snp', [...S, cpuidWriteBack]) },
    { name: 'kvm-x86-next-2025.11.07 maps one page at a time (copy_from_user)', revision: rev('kvm-x86-next-2025.11.07'), scenario: scenario('snp', [...S, launchUpdate({ uaddr: SRC + PS - 1, npages: 2 })]) },
  ],
  violated: [
    { name: 'v7.0 unmaps the source before the destination', revision: rev('v7.0'), scenario: scenario('snp', [...S, launchUpdate()]), messageId: 'outOfOrder', opIndex: 4 },
    { name: 'rfc-v1 unmaps the first source page while dst is mapped', revision: rev('rfc-v1'), scenario: scenario('snp', [...S, launchUpdate({ uaddr: SRC + 1 })]), messageId: 'outOfOrder', opIndex: 4 },
  ],
});

import { describe, expect, test } from 'vitest';
import { snpServices } from '../../model/backends/snp/services.js';
import { allocPage } from '../../model/kernel/pages.js';
import { eventsOf, smallWorld } from './fixtures.js';

/**
 * The VMSA page's services (model/backends/snp/services.ts): what the first backend mutation run
 * left unasserted (reports/mutation-triage.md, services.ts:105 and :112). The matrix cannot see
 * either: every generated machine has memory to spare at vCPU creation, and every revision
 * writes the VMSA before it is made private, where the access kind decides no verdict.
 */
describe('SNP VMSA services', () => {
  test('snp_safe_alloc_page() gives NULL (pfn 0, which no host page has) when host memory is exhausted', () => {
    const { w } = smallWorld();
    const snp = snpServices(w);
    while (allocPage(w, { kind: 'kernel', what: 'filler' }) !== undefined);
    expect(snp.snp_safe_alloc_page()).toBe(0);
  });

  test('sev_es_copy_save_area() writes the whole VMSA page as the host', () => {
    const { w } = smallWorld();
    const snp = snpServices(w);
    const pfn = snp.snp_safe_alloc_page();
    snp.sev_es_copy_save_area(pfn);
    expect(eventsOf(w, 'mem_write')).toEqual([{ kind: 'mem_write', pfn, offset: 0, len: w.geo.page_size, via: 'host' }]);
  });
});

/**
 * The known bugs and hazards the matrix expects to be found, with where they were reported and
 * how small their shrunk counterexample must be (operations including set-up, and pages the
 * populate calls ask for). Ids B1..B31 follow kernel-facts.md §6; G-ids are this project's
 * numbering for the rest (found by the suite, or reported on the lists after §6 was written).
 */
import type { Reach } from './reach.js';
import { parseSignature, type SignatureKey } from './signature.js';

export interface KnownBug {
  readonly id: string;
  readonly title: string;
  readonly link: string;
  /** Where it was fixed, or why it stands. */
  readonly status: string;
  /**
   * What it takes to reach it on a real machine (reach.ts), shown with every finding of it.
   * Every bug below has one; an injected bug (expectations.ts) has none: what its findings take
   * is read off each counterexample.
   */
  readonly reach?: Reach;
  /**
   * Every signature (signature.ts: invariant/message@kernel function) the bug may show, over all
   * the cells it is expected in: different paths to it (a punch-hole and a close that free the
   * same page) are different signatures of one bug. A cell must find the bug by at least one of
   * them, and every signature it finds must belong to one of its bugs.
   */
  readonly signatures: readonly SignatureKey[];
  readonly maxOps: number;
  readonly maxPages: number;
  /**
   * A signature whose shortest known route is longer than the bug's own (a downstream
   * consequence that needs more of userspace's doing): its operation bound. The bug's other
   * signatures keep `maxOps`.
   */
  readonly maxOpsFor?: Readonly<Partial<Record<SignatureKey, number>>>;
  /** The same for pages: a signature whose shortest route the minimizer reaches takes more pages. */
  readonly maxPagesFor?: Readonly<Partial<Record<SignatureKey, number>>>;
  /**
   * Signatures the bug shows only after another of its violations: a finding of one of a rule's
   * `signatures` is credited to the bug only when its counterexample showed one of the rule's
   * `prior` signatures first (Finding.prior): at or before the violation's event, since within
   * one ioctl a read before the free is not of the freed page (Violation.seq); what an ioctl's
   * end judges counts for that whole ioctl. Another bug with the same signature and no such
   * prior violation is new. A prior whose invariant the search did not watch cannot be asked
   * for, and then the rule does not apply.
   */
  readonly onlyAfter?: readonly PriorRule[];
}

/** One rule of KnownBug.onlyAfter. */
export interface PriorRule {
  readonly signatures: readonly SignatureKey[];
  readonly prior: readonly SignatureKey[];
}

/**
 * A page freed while the firmware owned it (leaked-page's freedWhileFirmwareOwned, or a leaked
 * page freed): the only way the bugs that free such pages make a later mmap(), madvise() or folio
 * hand it out again. Without such a free, the same hand-out signature is someone else's (a CPUID
 * table copied back from a page whose reclaim failed: kvm-x86-next+reclaim-forgets-failure).
 */
const FREED_FIRMWARE_PAGE: readonly SignatureKey[] = ['leaked-page/freedWhileFirmwareOwned@*', 'leaked-page/leakedPageFreed@*'];

/**
 * A page freed while the firmware owns it, taken by the in-place series' host fault for a new
 * folio of a page the VMM shares (the threads generator's window, properties/interleave.ts; the
 * in-place image and guest_memfd-source flows, generators/ops/inplace.ts): clear_highpage()
 * writes it, the VMM maps it, and may write it.
 */
const IN_PLACE_FAULT_REUSE: readonly SignatureKey[] = [
  'no-double-private/hostAccessPrivate@kvm_gmem_fault_user_mapping',
  'no-double-private/hostAccessPrivate@kvm_gmem_fault_shared',
  'no-double-private/privateStillMapped@gmem_user_fault',
  // The VMM then writes through that mapping (the in-place image and gmem-source flows).
  'no-double-private/hostAccessPrivate@gmem_user_fault',
];

/**
 * The same freed page given to a guest_memfd folio of the in-place series' populate (v8 21/46):
 * __kvm_gmem_get_pfn() clears the new folio, a host write to what the firmware still owns.
 */
const GET_PFN_CLEAR_REUSE: readonly SignatureKey[] = ['no-double-private/hostAccessPrivate@__kvm_gmem_get_pfn'];

/** The freed page handed out again: its bug's only after a FREED_FIRMWARE_PAGE. */
function viaFreedPage(signatures: readonly SignatureKey[]): readonly PriorRule[] {
  return [{ signatures, prior: FREED_FIRMWARE_PAGE }];
}

export const BUGS = {
  B1: {
    id: 'B1',
    title: 'kunmap_local() skipped when copy_from_user() fails in sev_gmem_post_populate()',
    link: 'https://lore.kernel.org/all/20260108214622.1084057-2-michael.roth@amd.com/',
    status: 'fixed by kvm-x86 60b590de8b30 (Roth v3 1/6, from Yan Zhao)',
    reach: { kind: 'debug', config: 'CONFIG_DEBUG_KMAP_LOCAL_FORCE_MAP', how: 'a source page copy_from_user() cannot read; on x86-64 kmap_local_pfn() is page_address() and the skipped kunmap_local() loses nothing unless that option forces real mappings (arch/x86/Kconfig selects ARCH_SUPPORTS_KMAP_LOCAL_FORCE_MAP)' },
    signatures: [
      'refcount-balance/kmapLeaked@sev_gmem_post_populate',
    ],
    maxOps: 5,
    maxPages: 2,
  },
  'B1-consequence': {
    id: 'B1-consequence',
    title: 'the kmap B1 leaks stays live, and the next populate makes that page private while the host still maps it',
    link: 'https://lore.kernel.org/all/20260108214622.1084057-2-michael.roth@amd.com/',
    status: 'fixed with B1',
    reach: { kind: 'debug', config: 'CONFIG_DEBUG_KMAP_LOCAL_FORCE_MAP', how: 'the leaked mapping is a stray host alias only when kmap_local forces mappings; otherwise the direct map aliases every page and the RMP alone protects it' },
    signatures: [
      'no-double-private/grantWhileMapped@sev_gmem_post_populate',
      'no-double-private/privateStillMapped@snp_launch_update',
    ],
    // Only with B1's leaked kmap first. Another bug that makes a mapped page private (a
    // mapping some other path forgets) is new, not this one.
    onlyAfter: [{
      signatures: ['no-double-private/grantWhileMapped@sev_gmem_post_populate', 'no-double-private/privateStillMapped@snp_launch_update'],
      prior: ['refcount-balance/kmapLeaked@*'],
    }],
    // Two paths: the leaked kmap's page made private by the next populate of its gfn (6
    // operations), or freed by a punch-hole and handed to another gfn's folio (7).
    maxOps: 7,
    maxPages: 4,
  },
  B2: {
    id: 'B2',
    title: 'mmap_lock taken (GUP, copy_from_user) under the filemap invalidate lock: AB-BA with the in-place fault path, and a self-deadlock when the source is the VMM\'s mapping of the guest_memfd itself',
    link: 'https://lore.kernel.org/all/20251113230759.1562024-4-michael.roth@amd.com/',
    status: 'GUP hoisted above the lock in RFC v1, merged per page in v7.0',
    reach: { kind: 'what-if', mode: 'in-place', how: 'a host fault on a guest_memfd mapping takes the invalidate lock under mmap_lock only with in-place conversion (not merged; kernel-facts §1.7, §1.8); before v6.18 no SNP/TDX guest_memfd can be mapped, and from v6.18 its fault is SIGBUS before any lock' },
    signatures: [
      'lock-order/cycle@kvm_gmem_fault_user_mapping',
      // One thread: a populate source in the VMM's mapping of the guest_memfd, faulted in by the
      // callback's copy_from_user() or GUP under the invalidate lock the loop holds exclusive;
      // the fault takes it shared (a self-deadlock; lockdep's "possible recursive locking").
      'lock-order/recursive@kvm_gmem_fault_user_mapping',
    ],
    maxOps: 6,
    maxPages: 2,
  },
  B3: {
    id: 'B3',
    title: 'TDX callback indexes src_pages[i] with i uninitialised (and src_pages NULL when source_addr is 0)',
    link: 'https://lore.kernel.org/all/20251113230759.1562024-4-michael.roth@amd.com/',
    status: 'squashed fix (src_pages[0]) per Roth; moot from RFC v2 (single src_page)',
    reach: { kind: 'userspace', how: 'any KVM_TDX_INIT_MEM_REGION; source_addr 0 makes the array NULL' },
    signatures: [
      'memory-safety/uninitialised@tdx_gmem_post_populate',
      'memory-safety/outOfBounds@tdx_gmem_post_populate',
      'memory-safety/wildPointer@tdx_gmem_post_populate',
      'memory-safety/wildPointer@tdx_mem_page_add',
      'measurement/mismatch@tdx_init_mem_region',
      'src-offset-straddling/wrongByte@tdx_init_mem_region',
      // source_addr 0 "adds" from a wild pointer where T1 documents (by its code) -EFAULT.
      'functional-spec/wrongErrno[T.8]@tdx_init_mem_region',
      'functional-spec/populatedCount@tdx_init_mem_region',
    ],
    // The add from 0 of a page already added decides T.13 and T.8 together, a signature of its
    // own: set-up, the add, the add from 0 (seed 1: 6 operations).
    maxOps: 6,
    maxPages: 2,
  },
  B7: {
    id: 'B7',
    title: 'RFC v1 GUP error paths leak the kmalloc()ed page array, and the pinned pages on a short pin',
    link: 'https://lore.kernel.org/all/20251113230759.1562024-4-michael.roth@amd.com/',
    status: 'moot from RFC v2 (per-page GUP, no array)',
    reach: { kind: 'userspace', how: 'a source range with an unmapped page (GUP fails), or another thread unmapping its tail (a short pin)' },
    signatures: [
      'refcount-balance/kmallocLeaked@kvm_gmem_populate',
      'refcount-balance/pinLeaked@kvm_gmem_populate',
      'refcount-balance/pageRefLeaked@kvm_gmem_populate',
    ],
    maxOps: 5,
    maxPages: 3,
  },
  G1: {
    id: 'G1',
    title: 'kmap_local mappings unmapped out of LIFO order in sev_gmem_post_populate()',
    link: 'https://lore.kernel.org/all/20260522-fix-sev-gmem-post-populate-v1-0-9fc8d6437b65@google.com/',
    status: 'fixed by kvm-x86 138f5f9cbe37 (benign on 64-bit)',
    reach: { kind: 'debug', config: 'CONFIG_DEBUG_KMAP_LOCAL_FORCE_MAP', how: 'every multi-page populate unmaps out of order; kunmap_local() checks the order only when mappings are forced' },
    signatures: [
      'kmap-local-lifo/outOfOrder@sev_gmem_post_populate',
    ],
    maxOps: 5,
    maxPages: 2,
  },
  G2: {
    id: 'G2',
    title: 'SNP CPUID write-back into a source page pinned without FOLL_WRITE and never marked dirty',
    link: 'https://lore.kernel.org/all/20260522-fix-sev-gmem-post-populate-v1-0-9fc8d6437b65@google.com/',
    status: 'fixed by kvm-x86 f13e90059908 (may_writeback_src) and 97cd21d57e9b (set_page_dirty)',
    reach: { kind: 'userspace', how: 'a CPUID page with an entry the firmware corrects: the corrected table is written through a pin taken without FOLL_WRITE' },
    signatures: [
      'source-write-permission/writeWithoutFollWrite@sev_gmem_post_populate',
      'source-write-permission/notDirtied@sev_gmem_post_populate',
      // A source page the VMM never wrote is the shared zero page to a pin without FOLL_WRITE,
      // so the write-back lands there (it takes a firmware that refuses an all-zero table,
      // properties/reach.ts, so the exploration keeps it behind the other two).
      'source-write-permission/zeroPageWritten@sev_gmem_post_populate',
      // S2.8: the newest code pins a CPUID source for write, so a read-only one fails (-EIO); v7.0 populates it.
      'functional-spec/wrongErrno[S2.8]@snp_launch_update',
      'functional-spec/populatedCount@snp_launch_update',
    ],
    // zeroPageWritten by way of madvise(MADV_DONTNEED) on a written source page (the zero page
    // mapped after it) takes the madvise as a sixth operation, which no minimizer step turns into
    // an untouched mmap (snp/rfc-v1 under seed 2 of the detection benchmark: 6 operations).
    maxOps: 6,
    maxPages: 3,
  },
  B15: {
    id: 'B15',
    title: 'kvm_gmem_bind() takes the offset as a signed loff_t: an offset just below 2^63 whose sum with the size wraps negative passes "offset + size > i_size" and binds the slot past the end of the file',
    link: 'https://lore.kernel.org/all/20260522-fix-sev-gmem-post-populate-v1-0-9fc8d6437b65@google.com/',
    status: 'fixed by kvm-x86 eba85fee7fc6 ("KVM: guest_memfd: Treat memslot binding offset+size as unsigned values", uoff_t; selftest b408b52e7111), backported to 7.1.y',
    reach: { kind: 'userspace', how: 'KVM_SET_USER_MEMORY_REGION2 with a guest_memfd_offset in [2^63 - memory_size, 2^63 - PAGE_SIZE]' },
    signatures: [
      'functional-spec/wrongErrno[M.4]@set_user_memory_region2',
    ],
    maxOps: 2,
    maxPages: 0,
  },
  B16: {
    id: 'B16',
    title: 'kvm_gmem_bind() ignores xa_store_range()\'s -ENOMEM: KVM_SET_USER_MEMORY_REGION2 returns 0 over a range that is not bound, and the slot keeps its file',
    link: 'https://lore.kernel.org/all/20260522-fix-sev-gmem-post-populate-v1-0-9fc8d6437b65@google.com/',
    status: 'open in every merged tree (kvm-x86 5e38e1bd, kamalca 6f122715): the roll-back (Ackerley Tng, v2 3/5) was skipped on apply on 2026-05-27 and lives only in sean-jc/linux@046bca20',
    reach: { kind: 'debug', config: 'CONFIG_FAILSLAB', how: 'an xarray node allocation that fails (GFP_KERNEL slab: fault injection)' },
    signatures: [
      'functional-spec/wrongState[M.1]@set_user_memory_region2',
    ],
    maxOps: 2,
    maxPages: 0,
  },
  B17: {
    id: 'B17',
    title: 'In-place populate (a NULL source) of a page the VMM never touched loads whatever the allocator left in it: v7\'s __kvm_gmem_get_pfn() clears nothing, so stale host memory goes into the guest\'s initial image and its launch measurement',
    link: 'https://lore.kernel.org/all/CAEvNRgEVC=fFuKVgZYvWyZD7t_zvUZihFG8hrACjvtkD5cwugw@mail.gmail.com/',
    status: 'fixed in v8 21/46 "Zero page while getting pfn" (the fault path\'s clearing moved into __kvm_gmem_get_pfn()); reported by Sashiko on v7, both vendors (Ackerley Tng, <CAEvNRgG1nHipzw4=eBgwhvyXi8xYo7FQD_sy9Ax6FDf7YDu3Og@mail.gmail.com>). The link is the suggested fix kernel-facts cites, which the stored archive lacks; Ackerley\'s list of v7 items that points to it is <CAEvNRgGpaggjd3=ooyzv7iEbmA-x1mWJHgjLSjPi8=5CPrk-yQ@mail.gmail.com>',
    reach: { kind: 'what-if', mode: 'in-place', how: 'with the in-place series and its module parameter on: KVM_SEV_SNP_LAUNCH_UPDATE with uaddr 0 (not ZERO) or KVM_TDX_INIT_MEM_REGION with source_addr 0, on a private page no fault or populate has cleared' },
    signatures: [
      'in-place-source/stale@snp_launch_update',
      'in-place-source/stale@tdx_init_mem_region',
      'measurement/mismatch@snp_launch_update',
      'measurement/mismatch@tdx_init_mem_region',
    ],
    // create, memslot, the launch step's populate (SNP: LAUNCH_START is the set-up's).
    maxOps: 4,
    maxPages: 1,
  },
  B19: {
    id: 'B19',
    title: 'In-place populate accepted from a guest_memfd created without GUEST_MEMFD_FLAG_MMAP: the VMM cannot have written the page, so a NULL source there is a mistake loaded as zeros and measured',
    link: 'https://lore.kernel.org/all/20260618-gmem-inplace-conversion-v8-23-9d2959357853@google.com/',
    status: 'open in v8 as posted: Yan Zhao (<ajjc0hw8PjGw69e9@yzhao56-desk.sh.intel.com>) asked for an explicit opt-in (KVM_TDX_IN_PLACE_COPY_INITIAL_MEMORY_REGION, -EOPNOTSUPP without it); Sean Christopherson declined (contents are userspace\'s business) and his "not uptodate" alternative always passes after 21/46. The same holds for SNP\'s NULL uaddr (22/46). Later linux-next code not found',
    reach: { kind: 'what-if', mode: 'in-place', how: 'with the in-place series and its module parameter on: a NULL-source populate of a guest_memfd created without GUEST_MEMFD_FLAG_MMAP' },
    signatures: [
      'in-place-source/unmappable@snp_launch_update',
      'in-place-source/unmappable@tdx_init_mem_region',
    ],
    maxOps: 4,
    maxPages: 1,
  },
  B30: {
    id: 'B30',
    title: 'Roth v2\'s TDX callback has no NULL source check: KVM_TDX_INIT_MEM_REGION with source_addr 0 reaches KVM_BUG_ON(!page_add_src) in tdx_mem_page_add(), killing the VM (-EIO)',
    link: 'https://lore.kernel.org/all/aU33Y56qBXgrL5/3@yzhao56-desk.sh.intel.com/',
    // The other B30 review items are not findings: v2's kmap_local_pfn(page_to_pfn(src_page)) is
    // kmap_local_page() without HIGHMEM, and clearing only a folio's first page differs from
    // clearing all of it only for folios larger than order 0, which guest_memfd does not make.
    status: 'fixed in v3 6/6 (Yan Zhao: `if (!src_page) return -EOPNOTSUPP;`), merged v7.0',
    reach: { kind: 'userspace', how: 'KVM_TDX_INIT_MEM_REGION with source_addr 0 (tdx_vcpu_init_mem_region() checks alignment only)' },
    signatures: [
      'warn-reachable/warnWithoutFault@tdx_mem_page_add',
      // T.8: v7.0 answers a NULL source with -EOPNOTSUPP; v2 with the -EIO of the dead VM.
      'functional-spec/wrongErrno[T.8]@tdx_init_mem_region',
    ],
    maxOps: 4,
    maxPages: 1,
  },
  B31: {
    id: 'B31',
    title: 'Roth v2/v3 as posted: kvm_gmem_get_folio() tests folio_order() of what __filemap_get_folio_mpol() returned, an ERR_PTR when the folio cannot be allocated: a load at the error pointer (oops)',
    link: 'https://lore.kernel.org/all/aWk9PusYNW0iADuD@google.com/',
    status: 'fixed by Sean Christopherson on apply (kvm-x86 gmem, 2026-01-15): WARN_ON_ONCE(!IS_ERR(folio) && folio_order(folio)), merged v7.0',
    reach: { kind: 'userspace', how: 'a populate whose guest_memfd folio cannot be allocated or charged (a memory-cgroup limit on the VMM)' },
    signatures: [
      'memory-safety/wildPointer@kvm_gmem_get_folio',
    ],
    maxOps: 4,
    maxPages: 1,
  },
  G3: {
    id: 'G3',
    title: 'uaddr 0 with a non-ZERO type reaches WARN_ON_ONCE(type != ZERO && !src) in the SNP callback',
    link: 'kvm-x86/linux:arch/x86/kvm/svm/sev.c@1a27afa0511e404fd87c1a5e643945940ef72f90',
    status: 'fixed June 2026 ("kvm: sev: Fix issues reported by Sashiko"): !params.uaddr rejected up front',
    reach: { kind: 'userspace', how: 'KVM_SEV_SNP_LAUNCH_UPDATE with uaddr 0 and a type other than ZERO' },
    signatures: [
      'warn-reachable/warnWithoutFault@sev_gmem_post_populate',
      // S2.2: the newest code answers uaddr 0 with -EINVAL up front; v7.0 lets it into kvm_gmem_populate() (-EIO, through the WARN or a page check).
      'functional-spec/wrongErrno[S2.2]@snp_launch_update',
    ],
    maxOps: 4,
    maxPages: 1,
  },
  G4: {
    id: 'G4',
    title: 'SNP frees a page the firmware still owns: snp_leak_pages() takes no reference, and sev_gmem_invalidate() only WARNs when RMPUPDATE fails; a leaked page freed so leaves its list_head on the leaked-pages list, which the page\'s next user corrupts',
    link: 'https://lore.kernel.org/all/20231016132819.1002933-17-michael.roth@amd.com/',
    status: 'open in every modelled tree (Babka, 2023: "Not dropping the refcount to zero does")',
    reach: { kind: 'firmware', how: 'RMPUPDATE (or SNP_PAGE_RECLAIM) failing for a page guest_memfd then frees' },
    signatures: [
      'leaked-page/freedWhileFirmwareOwned@kvm_gmem_release',
      'leaked-page/freedWhileFirmwareOwned@kvm_gmem_punch_hole',
      'leaked-page/leakedPageFreed@kvm_gmem_release',
      'leaked-page/leakedPageFreed@kvm_gmem_punch_hole',
      // The freed page handed out again by a later mmap(): the host maps what the firmware owns,
      // and munmap() frees it a second time (snp/v6.17 and snp/paolo-v1 under seed 19: a
      // punch-hole that frees it, then mmap() and munmap() of one page, 7 operations).
      'no-double-private/privateStillMapped@mmap',
      'no-double-private/hostAccessPrivate@mmap',
      // ... or by MADV_PAGEOUT's new page for a source page (or the zero page MADV_DONTNEED
      // first maps): madvise() maps what the firmware owns.
      'no-double-private/privateStillMapped@madvise',
      'no-double-private/hostAccessPrivate@madvise',
      // ... or by the write fault that copies the zero page under a source the VMM never wrote
      // (kvm-x86-next's FOLL_WRITE pin of a CPUID source: snp/kvm-x86-next [hugepages], seed 30).
      'no-double-private/hostAccessPrivate@sev_gmem_post_populate',
      'no-double-private/privateStillMapped@snp_launch_update',
      'leaked-page/freedWhileFirmwareOwned@munmap',
      'leaked-page/leakedPageFreed@munmap',
      ...IN_PLACE_FAULT_REUSE,
      ...GET_PFN_CLEAR_REUSE,
    ],
    onlyAfter: viaFreedPage([
      'no-double-private/privateStillMapped@mmap', 'no-double-private/hostAccessPrivate@mmap', 'no-double-private/privateStillMapped@madvise',
      'no-double-private/hostAccessPrivate@madvise', 'no-double-private/hostAccessPrivate@sev_gmem_post_populate', 'no-double-private/privateStillMapped@snp_launch_update',
      ...IN_PLACE_FAULT_REUSE,
      ...GET_PFN_CLEAR_REUSE,
    ]),
    // Two ways to make LAUNCH_UPDATE fail before its reclaim fails: a forced firmware failure
    // (6 operations), or LAUNCH_FINISH first so the firmware refuses the update for the guest's
    // state (7: seed 15 found only this one in snp/v7.0 leaked-page).
    maxOps: 7,
    maxPages: 2,
    // The freed page handed out by the write fault of a CPUID write-back into a source mapped
    // afresh and never written (zeroPageCpuidArb), then freed by munmap(): the leak (populate,
    // punch-hole), the new mapping (munmap, mmap) and the CPUID populate after the set-up's four
    // make 10 operations (snp/paolo-v1 [in-place] under seed 1, 1-minimal).
    maxOpsFor: {
      'leaked-page/freedWhileFirmwareOwned@munmap': 10, 'leaked-page/leakedPageFreed@munmap': 10,
      // The same write fault, the page freed by paolo-v1's own undo (G20) instead of a
      // punch-hole: set-up 4, the leaking populate, munmap(), mmap() untouched, the CPUID
      // populate make 8 (snp/paolo-v1 under seed 22 once the minimizer alone shrinks; fast-check's
      // shrinker had always reached B1-consequence's 5-operation route to this signature).
      'no-double-private/privateStillMapped@snp_launch_update': 8,
    },
    // The freed page taken by the fault of a populate's source in the VMM's guest_memfd mapping
    // (in-place what-if): the populate's own destination folio takes the lowest free pfn first,
    // so the leak needs a second freed page behind a normally freed one, a 2-page populate whose
    // punch fails on its second page (snp/v6.17 [in-place] under seed 4: 7 operations, 3 pages;
    // with a 1-page leak the destination takes the freed page, not the source's fault).
    maxPagesFor: { 'no-double-private/hostAccessPrivate@sev_gmem_post_populate': 3 },
  },
  'G4-consequence': {
    id: 'G4-consequence',
    title: 'the page G4 freed while the firmware owned it or while it was on the leaked-pages list, handed to a user mapping by the next mmap() and freed again by madvise(MADV_PAGEOUT / MADV_DONTNEED)',
    link: 'https://lore.kernel.org/all/20231016132819.1002933-17-michael.roth@amd.com/',
    status: 'a consequence of G4, fixed with it',
    reach: { kind: 'firmware', how: 'as G4 (SNP_PAGE_RECLAIM or RMPUPDATE failing for a page guest_memfd then frees), then an mmap() that gets the page and a madvise() that drops it' },
    signatures: [
      // snp/paolo-v1 [in-place] under seed 11: the leak, paolo-v1's undo hole punch freeing the
      // page (the first signature, set aside), mmap() and MADV_PAGEOUT: 6 operations.
      'leaked-page/leakedPageFreed@madvise',
      'leaked-page/freedWhileFirmwareOwned@madvise',
    ],
    maxOps: 8,
    maxPages: 2,
  },
  G5: {
    id: 'G5',
    title: 'TDX frees a page the TD still owns, or whose TD-keyed cache lines were not written back, when a step of S-EPT removal fails (BLOCK or REMOVE contended twice, any other error, TRACK, WBINVD): KVM_BUG_ON returns at once, and no page reference keeps it',
    link: 'https://lore.kernel.org/all/20250807094241.4523-1-yan.y.zhao@intel.com/',
    status: 'accepted by design ("Drop superfluous page pinning in S-EPT management": KVM_BUG_ON, panic_on_warn if it matters)',
    reach: { kind: 'firmware', how: 'a TDH.MEM.RANGE.BLOCK, TDH.MEM.TRACK, TDH.MEM.PAGE.REMOVE or TDH.PHYMEM.PAGE.WBINVD that fails for a page guest_memfd then frees (one non-contention error is enough)' },
    signatures: [
      'leaked-page/freedWhileFirmwareOwned@kvm_gmem_release',
      'leaked-page/freedWhileFirmwareOwned@kvm_gmem_punch_hole',
      // The freed page handed out again by a later mmap(): the host maps what the firmware owns.
      'no-double-private/privateStillMapped@mmap',
      'no-double-private/hostAccessPrivate@mmap',
      // ... or by MADV_PAGEOUT's new page for a source page (or the zero page MADV_DONTNEED
      // first maps): madvise() maps what the firmware owns.
      'no-double-private/privateStillMapped@madvise',
      'no-double-private/hostAccessPrivate@madvise',
      ...IN_PLACE_FAULT_REUSE,
      ...GET_PFN_CLEAR_REUSE,
    ],
    onlyAfter: viaFreedPage(['no-double-private/privateStillMapped@mmap', 'no-double-private/hostAccessPrivate@mmap', 'no-double-private/privateStillMapped@madvise', 'no-double-private/hostAccessPrivate@madvise', ...IN_PLACE_FAULT_REUSE, ...GET_PFN_CLEAR_REUSE]),
    maxOps: 7,
    maxPages: 2,
  },
  'G5-consequence': {
    id: 'G5-consequence',
    title: 'the page G5 freed while the TD still owned it, handed to a user mapping (MADV_PAGEOUT\'s fresh page for a source page, or the next mmap()) and freed again by munmap() while the TDX module owns it',
    link: 'https://lore.kernel.org/all/20250807094241.4523-1-yan.y.zhao@intel.com/',
    status: 'a consequence of G5, accepted with it',
    reach: { kind: 'firmware', how: 'as G5 (an S-EPT removal step failing for a page guest_memfd then frees), then a user mapping that gets the page and a munmap() that frees it' },
    signatures: [
      // Seen under 1 seed of 30 on every TDX cell with G5 (bench:detect at stop 44, seed 19), once
      // the leaking punch came first in the run (generators/scenario.ts): the punched page is the
      // lowest free pfn, which MADV_PAGEOUT's fresh page for a source page then takes (9 ops).
      'leaked-page/freedWhileFirmwareOwned@munmap',
    ],
    maxOps: 9,
    maxPages: 2,
  },
  B23: {
    id: 'B23',
    title: 'get_page() keeps a guest_memfd folio whose granule cannot be undelegated: a KVM reference guest_memfd forbids',
    link: 'https://lore.kernel.org/all/80c46a5c-7559-4763-bbf2-6c755a4b067c@arm.com/',
    status: 'rmi-newest: KVM_BUG_ON(rmi_undelegate_page()), no reference (the page "remains owned by the RMM")',
    reach: { kind: 'firmware', how: 'RMI_GRANULE_UNDELEGATE failing during a populate rollback' },
    signatures: [
      'gmem-no-kvm-refs/kvmRefHeld@realm_create_protected_data_page',
    ],
    maxOps: 6,
    maxPages: 2,
  },
  'B23-consequence': {
    id: 'B23-consequence',
    title: 'the get_page() reference outlives the delegation: when the stage-2 unmap later destroys and undelegates the granule, nothing puts it and the page never returns to the allocator',
    link: 'https://lore.kernel.org/all/80c46a5c-7559-4763-bbf2-6c755a4b067c@arm.com/',
    status: 'needs an RMM defect (a rollback DATA_DESTROY that fails, so the granule stays DATA and its undelegate fails); gone with B23 in rmi-newest',
    // On rme-v12 the rollback that fails exists only with several granules per page: the matrix
    // expects it in the 4K-guard-lifted cell there, and the label of that finding says so.
    reach: { kind: 'firmware', how: 'an RMM defect: a rollback RMI_DATA_DESTROY that fails, so the later undelegate fails too; on rme-v12 also several granules per page (a lifted 4K guard, a what-if), since a one-granule page has no earlier granule to roll back' },
    signatures: [
      'leaked-page/heldBack@realm_create_protected_data_page',
      'refcount-balance/pageRefLeaked@realm_create_protected_data_page',
    ],
    // rme-v9's stage-2 unmap puts one reference of a page it gets back (its free_page()), which
    // also covers the get_page() one when G15 holds none: there the stray reference shows after a
    // second populate of the page (two pages asked for).
    maxOps: 7,
    maxPages: 2,
  },
  // G6 (withdrawn): "rme-v9 populate_region() calls vma_lookup() without mmap_lock" came from the
  // model's own lock assertion in vma_lookup(). The kernel's vma_lookup() is mtree_load() under
  // RCU with no assertion, v9 only tests the result for NULL, and __kvm_faultin_pfn() then takes
  // mmap_lock itself: a stale answer at worst, nothing a reviewer would act on. The id stays unused.
  G7: {
    id: 'G7',
    title: 'rme-v9 populates a gfn whose attributes are not PRIVATE (only kvm_slot_can_be_private() is checked)',
    link: 'https://lore.kernel.org/all/CAGtprH-on3JdsHx-DyjN_z_5Z6HJoSQjJpA5o5_V6=rygMSbtQ@mail.gmail.com/',
    status: 'gone in rme-v12 (kvm_gmem_populate() requires KVM_MEMORY_ATTRIBUTE_PRIVATE)',
    reach: { kind: 'userspace', how: 'a populate of a gfn whose memory attributes are shared' },
    signatures: [
      'private-attribute-precondition/notPrivate@realm_create_protected_data_granule',
    ],
    maxOps: 5,
    maxPages: 1,
  },
  G8: {
    id: 'G8',
    title: 'rme-v9 holds the gmem_page reference kvm_gmem_get_pfn() returns for as long as the page is mapped (the stage-2 unmap drops it): a KVM folio reference guest_memfd forbids',
    link: 'https://lore.kernel.org/all/CAGtprH-on3JdsHx-DyjN_z_5Z6HJoSQjJpA5o5_V6=rygMSbtQ@mail.gmail.com/',
    status: 'gone in rme-v12 (kvm_gmem_populate() drops its folio reference)',
    reach: { kind: 'userspace', how: 'any successful populate' },
    signatures: [
      'gmem-no-kvm-refs/kvmRefHeld@kvm_gmem_get_folio',
    ],
    maxOps: 7,
    maxPages: 2,
  },
  G9: {
    id: 'G9',
    title: 'rme-v9 reports no progress: an error after some pages were populated leaves them DATA and measured, and userspace cannot resume',
    link: 'https://lore.kernel.org/all/CAGtprH-on3JdsHx-DyjN_z_5Z6HJoSQjJpA5o5_V6=rygMSbtQ@mail.gmail.com/',
    status: 'rme-v12 returns bytes populated; rmi-newest writes back base/size/source_uaddr (Marc Zyngier on v12 06/46: https://lore.kernel.org/all/86tsuy8g0u.wl-maz@kernel.org/)',
    reach: { kind: 'userspace', how: 'a populate that fails after its first page (e.g. a later gfn not private)' },
    signatures: [
      'measurement/extra@arm_rmi_populate',
      'return-value-contract/failedPageKept@arm_rmi_populate',
      'return-value-contract/measuredPastCount@arm_rmi_populate',
      'return-value-contract/pastCountTouched@arm_rmi_populate',
      // R9.8: "negative value on error" with an input-only struct, yet earlier pages stay populated.
      'functional-spec/touchedPastCount@arm_rmi_populate',
    ],
    maxOps: 6,
    maxPages: 3,
  },
  G10: {
    id: 'G10',
    title: 'a failure in a later granule of a host page rolls the earlier granules back with RMI_DATA_DESTROY, but their RIM extension stays',
    link: 'https://lore.kernel.org/all/20251217101125.91098-21-steven.price@arm.com/',
    status: 'moot in rmi-newest (RMM v2.0 granule = host page, one RMI call per page); latent in rme-v9/v12 while kvm_init_rme() accepts only 4K hosts (observation)',
    reach: { kind: 'what-if', mode: '4k-guard-lifted', how: 'several granules per host page (a 16K or 64K host, which kvm_init_rme() refuses) and a later granule failing' },
    signatures: [
      'measurement/extra@arm_rmi_populate',
      'return-value-contract/failedPageKept@arm_rmi_populate',
      'return-value-contract/measuredPastCount@arm_rmi_populate',
      // The failed page is past the count reported, yet measured.
      'functional-spec/touchedPastCount@arm_rmi_populate',
    ],
    maxOps: 6,
    maxPages: 2,
  },
  G11: {
    id: 'G11',
    title: 'rme-v12 accepts an unaligned source_uaddr and the RMM copies from the start of the pinned page',
    link: 'https://lore.kernel.org/all/20251217101125.91098-21-steven.price@arm.com/',
    status: 'rmi-newest rejects it (!PAGE_ALIGNED(source_uaddr) → -EINVAL)',
    reach: { kind: 'userspace', how: 'KVM_ARM_RMI_POPULATE with an unaligned source_uaddr' },
    signatures: [
      'src-offset-straddling/readPastSource@realm_create_protected_data_granule',
      'src-offset-straddling/wrongByte@arm_rmi_populate',
      'measurement/mismatch@arm_rmi_populate',
    ],
    maxOps: 6,
    maxPages: 2,
  },
  G12: {
    id: 'G12',
    title: 'rme-v12 passes size 0 to kvm_gmem_populate(), whose WARN_ON_ONCE(npages <= 0) userspace can then fire',
    link: 'https://lore.kernel.org/all/20251217101125.91098-21-steven.price@arm.com/',
    status: 'rmi-newest returns 0 for size 0 before kvm_gmem_populate()',
    reach: { kind: 'userspace', how: 'KVM_ARM_RMI_POPULATE with size 0' },
    signatures: [
      'warn-reachable/warnWithoutFault@kvm_gmem_populate',
    ],
    maxOps: 3,
    maxPages: 0,
  },
  G13: {
    id: 'G13',
    title: 'Arm frees a granule the RMM still owns: when undelegate fails, stage-2 unmap only WARNs and (rmi-newest) populate only KVM_BUG_ONs, neither keeps a reference, and arm64 has no guest_memfd free_folio hook',
    link: 'https://lore.kernel.org/all/CAGtprH-TChZuLgb0sOU_14YGpCynw7sukLT0tP9sEzzd040dHw@mail.gmail.com/',
    status: 'open in rmi-newest (kamalca/linux:arch/arm64/kvm/rmi.c@845841b280d3 realm_unmap_private_range: "remains owned by the RMM")',
    // The newest tree retries RMI_BUSY/RMI_BLOCKED without limit and continues RMI_INCOMPLETE, so
    // a correct RMM never fails an undelegate: only a broken RMM or EL3 does (rmi_undelegate_range(),
    // rmi_sro_execute(), kamalca/linux:drivers/firmware/arm_rmm/rmi.c@d0c1c70a).
    reach: { kind: 'firmware', how: 'RMI_GRANULE_UNDELEGATE failing (a broken RMM or EL3) for a granule guest_memfd then frees' },
    signatures: [
      'leaked-page/freedWhileFirmwareOwned@kvm_gmem_release',
      'leaked-page/freedWhileFirmwareOwned@kvm_gmem_punch_hole',
      // The freed page handed out again by a later mmap(): the host maps what the firmware owns.
      'no-double-private/privateStillMapped@mmap',
      'no-double-private/hostAccessPrivate@mmap',
      // ... or by MADV_PAGEOUT's new page for a source page (or the zero page MADV_DONTNEED
      // first maps): madvise() maps what the firmware owns.
      'no-double-private/privateStillMapped@madvise',
      'no-double-private/hostAccessPrivate@madvise',
      // ... or, in rme-v12's in-place cell, by the host fault on the guest_memfd mapping.
      ...IN_PLACE_FAULT_REUSE,
    ],
    onlyAfter: viaFreedPage(['no-double-private/privateStillMapped@mmap', 'no-double-private/hostAccessPrivate@mmap', 'no-double-private/privateStillMapped@madvise', 'no-double-private/hostAccessPrivate@madvise', ...IN_PLACE_FAULT_REUSE]),
    maxOps: 7,
    maxPages: 2,
  },
  'G13-consequence': {
    id: 'G13-consequence',
    title: 'the granule G13 freed while the RMM still owned it, handed out again as a new RTT page: its delegation fails (the RMM holds it already) and the RTT allocator frees it a second time',
    link: 'https://lore.kernel.org/all/CAGtprH-TChZuLgb0sOU_14YGpCynw7sukLT0tP9sEzzd040dHw@mail.gmail.com/',
    status: 'a consequence of G13, fixed with it',
    // Required of G13 at stop 29 (seen under seeds 6 and 9 once populates from the top of the
    // protected IPA space built new tables); the detection benchmark at 888537e found it under
    // 0 of 30 seeds on rme-v12 and 2 of 30 on rmi-newest: only when the page allocator's next
    // RTT page is the very page G13 freed. A consequence to tolerate, like G4's.
    reach: { kind: 'firmware', how: 'as G13 (RMI_GRANULE_UNDELEGATE failing for a granule guest_memfd then frees), then a populate whose stage-2 walk needs a new RTT and gets that page' },
    // Every Arm tree allocates RTT pages with alloc_delegated_granule() (the newest under alloc_rtt()).
    signatures: ['leaked-page/freedWhileFirmwareOwned@alloc_delegated_granule'],
    // G13's 7 and the populate that allocates the RTT; tolerated, so 2 more (CONSEQUENCE_EXTRA_OPS):
    // rme-v12 [4k-guard-lifted] shrank to 10 (stop 30, detection benchmark).
    maxOps: 8,
    maxPages: 2,
  },
  G14: {
    id: 'G14',
    title: 'rme-v9 populate_region() keeps the source page __kvm_faultin_pfn() pinned when kvm_gmem_get_pfn() fails: the break skips kvm_release_page_clean()',
    link: 'https://lore.kernel.org/all/20250611104844.245235-20-steven.price@arm.com/',
    status: 'gone in rme-v12 (the source is pinned inside kvm_gmem_populate()\'s callback and put on every path); hidden behind G8 until signatures were searched separately',
    reach: { kind: 'userspace', how: 'a populate whose guest_memfd page cannot be had (kvm_gmem_get_pfn() fails)' },
    signatures: [
      'refcount-balance/pageRefLeaked@populate_region',
      'refcount-balance/pinLeaked@populate_region',
    ],
    // A folio allocation that fails takes 5 operations; a memory error in the page (fallocate(),
    // the error, then the populate) takes 7 (seed 2), and shrinking cannot cross from one to
    // the other.
    maxOps: 7,
    maxPages: 1,
  },
  G15: {
    id: 'G15',
    title: 'rme-v9 populate_region() breaks out of a failed realm_create_protected_data_page() without putting the gmem_page reference: only the stage-2 unmap of a mapped page drops it, so the page never returns to the allocator',
    link: 'https://lore.kernel.org/all/20250611104844.245235-20-steven.price@arm.com/',
    status: 'gone in rme-v12 (kvm_gmem_populate() drops its folio reference on every path)',
    // A VMM gets there alone by populating a page twice: the second RMI_GRANULE_DELEGATE fails,
    // as the granule is already DATA (seed 20). A failing table allocation or RMI command does too.
    reach: { kind: 'userspace', how: 'populating the same page twice (the second delegate of its granule fails), or any failure creating the data page' },
    signatures: [
      'leaked-page/heldBack@kvm_gmem_get_folio',
      'refcount-balance/pageRefLeaked@kvm_gmem_get_folio',
    ],
    maxOps: 7,
    maxPages: 2,
  },
  G16: {
    id: 'G16',
    title: 'rme-v9\'s stage-2 unmap frees a page by the granules it visited: once an earlier unmap left a granule DELEGATED (undelegate failed, WARN), a later one skips it as unmapped, gives the others back and free_page()s the page the RMM still holds',
    link: 'https://lore.kernel.org/all/20250611104844.245235-16-steven.price@arm.com/',
    status: 'rme-v12 drops the free_page() (and G13 takes its place); moot in rmi-newest (one granule per page)',
    reach: { kind: 'what-if', mode: '4k-guard-lifted', how: 'several granules per host page, an RMI_GRANULE_UNDELEGATE failing in one unmap and a second unmap of the page (punch-hole, then close)' },
    signatures: [
      'leaked-page/freedWhileFirmwareOwned@realm_unmap_private_page',
      // The freed page handed out again (a guest_memfd folio cleared by prepare, or the next
      // mmap()): the host touches what the RMM holds. Tolerated consequences (matrix.ts MAY).
      'no-double-private/hostAccessPrivate@kvm_gmem_prepare_folio',
      'no-double-private/privateStillMapped@mmap',
      'no-double-private/hostAccessPrivate@mmap',
      // ... or by MADV_PAGEOUT's new page for a source page (or the zero page MADV_DONTNEED
      // first maps): madvise() maps what the firmware owns.
      'no-double-private/privateStillMapped@madvise',
      'no-double-private/hostAccessPrivate@madvise',
    ],
    onlyAfter: viaFreedPage(['no-double-private/hostAccessPrivate@kvm_gmem_prepare_folio', 'no-double-private/privateStillMapped@mmap', 'no-double-private/hostAccessPrivate@mmap', 'no-double-private/privateStillMapped@madvise', 'no-double-private/hostAccessPrivate@madvise']),
    // Its consequence (the freed page reused) needs a populate that gets the page again.
    maxOps: 7,
    maxPages: 2,
  },
  B21: {
    id: 'B21',
    title: 'TDX\'s populate callback maps the gfn by faulting it in again through guest_memfd (kvm_tdp_map_page() -> kvm_gmem_get_pfn()), which prepares the folio (uptodate) before TDH.MEM.PAGE.ADD: a failure after the map leaves the page prepared, so a retry gets -EEXIST for a page never added (and nr_premapped keeps KVM_TDX_FINALIZE_VM refusing until a punch-hole)',
    link: 'https://lore.kernel.org/all/20251017003244.186495-5-seanjc@google.com/',
    status: 'v6.19: kvm_tdp_mmu_map_private_pfn() is handed the pfn (kvm-x86-tdx-6.19); the nested invalidate lock of the same re-entry existed only with unmerged patches that lock in kvm_gmem_get_pfn() (Roth 2024-12, Ackerley\'s in-place tree)',
    reach: { kind: 'firmware', how: 'TDH.MEM.PAGE.ADD (or TDH.MR.EXTEND) failing after the prefetch fault mapped the gfn' },
    signatures: [
      'functional-spec/markedPrepared@tdx_init_mem_region',
      // The re-fault's preparation also clears the page (kvm_gmem_prepare_folio()).
      'functional-spec/touchedPastCount@tdx_init_mem_region',
    ],
    maxOps: 5,
    maxPages: 1,
  },
  B5: {
    id: 'B5',
    title: 'RFC v1 pins at most GMEM_GUP_NPAGES source pages (and no more than asked) but hands the callback &src_pages[i] with the folio\'s order: a folio larger than what was pinned makes the SNP callback read struct page pointers past the array and copy from whatever they point at',
    link: 'https://lore.kernel.org/all/20251113230759.1562024-4-michael.roth@amd.com/',
    status: 'moot from RFC v2: per-page populate, hugepage handling removed ("KVM: guest_memfd: Remove partial hugepage handling from kvm_gmem_populate()")',
    reach: { kind: 'what-if', mode: 'hugepages', how: 'a populate of fewer pages than its folio holds (Yan Zhao on RFC v1: "What if the max_order returned from __kvm_gmem_get_pfn() is 1GB"); every 2M folio populated by less than 2M does it too' },
    signatures: [
      'memory-safety/outOfBounds@sev_gmem_post_populate',
      'memory-safety/wildPointer@sev_gmem_post_populate',
      'memory-safety/useAfterFree@sev_gmem_post_populate',
      'measurement/mismatch@snp_launch_update',
      'src-offset-straddling/wrongByte@snp_launch_update',
    ],
    maxOps: 6,
    // A huge folio's pages at most (matrix.ts HUGE_FOLIO_MAX_PAGES): the case needs the folio around the page.
    maxPages: 16,
  },
  B6: {
    id: 'B6',
    title: 'kvm_gmem_populate()\'s WARN_ON(!IS_ALIGNED(gfn, 1 << max_order) || npages - i < 1 << max_order) fires whenever a huge folio is populated by fewer pages than it holds (TDX always asks for one), and the loop carries on: the callback populates and measures the whole order, past the pages asked for (and past the folio when the gfn is unaligned), reading the source past its length',
    link: 'https://lore.kernel.org/all/20251113230759.1562024-4-michael.roth@amd.com/',
    status: 'latent in v6.11 .. v6.19 (max_order is always 0 there); removed with the hugepage handling in Roth v2/v3 (v7.0)',
    reach: { kind: 'what-if', mode: 'hugepages', how: 'a populate of a huge folio asking for fewer pages than it holds: every TDX page, any SNP length that is not a multiple of the folio' },
    signatures: [
      'warn-reachable/warnWithoutFault@kvm_gmem_populate',
      'functional-spec/touchedPastCount@snp_launch_update',
      'functional-spec/touchedPastCount@tdx_init_mem_region',
      // The pages populated past the request then answer the next populate of them under whatever
      // condition it meets, whichever row of the oracle ([*]).
      'functional-spec/wrongErrno[*]@snp_launch_update',
      'functional-spec/wrongErrno[*]@tdx_init_mem_region',
      'functional-spec/populatedCount@snp_launch_update',
      'functional-spec/notPopulated@snp_launch_update',
      'measurement/extra@snp_launch_update',
      'measurement/extra@tdx_init_mem_region',
      'measurement/mismatch@snp_launch_update',
      'return-value-contract/measuredPastCount@snp_launch_update',
      'return-value-contract/measuredPastCount@tdx_init_mem_region',
      'return-value-contract/pastCountTouched@snp_launch_update',
      'return-value-contract/pastCountTouched@tdx_init_mem_region',
      'return-value-contract/failedPageKept@tdx_init_mem_region',
      'return-value-contract/notPopulated@snp_launch_update',
      'src-offset-straddling/readPastSource@sev_gmem_post_populate',
      'src-offset-straddling/wrongByte@snp_launch_update',
      'src-offset-straddling/writeBackOutside@snp_launch_update',
      // Past the folio the page may be anyone's: a source page the user mm just mapped there is
      // copied into, made the guest's while still mapped, and read as a source again.
      'no-double-private/hostAccessPrivate@sev_gmem_post_populate',
      'no-double-private/grantWhileMapped@sev_gmem_post_populate',
      // ... and still mapped when the ioctl returns (snp/rfc-v1 [hugepages], seed 20261122).
      'no-double-private/privateStillMapped@snp_launch_update',
      'source-write-permission/writeWithoutFollWrite@sev_gmem_post_populate',
      'source-write-permission/notDirtied@sev_gmem_post_populate',
      // ... and when that page is the call's own source, the source changes as if written back
      // (v6.17 [hugepages], seed 16: 6 operations).
      'src-offset-straddling/writeBackWrong@snp_launch_update',
      // ... or a page the allocator still owns, made guest-private, that the next mmap() takes
      // and madvise(MADV_PAGEOUT) or munmap() frees while the RMP gives it to the guest
      // (rfc-v1 [hugepages], seed 1, once pastFolioArb populates before the buffers are mapped).
      'leaked-page/freedWhileFirmwareOwned@madvise',
      'leaked-page/freedWhileFirmwareOwned@munmap',
      // ... so mmap() (or madvise()'s new page) maps it while the RMP gives it to the guest: with
      // no page freed, G4 cannot have handed it out (snp/v6.17, kvm-x86-next-2025.11.07 and rfc-v1
      // [hugepages] at the suite seed once KnownBug.onlyAfter asks G4 for its free: 5 operations).
      'no-double-private/privateStillMapped@mmap',
      'no-double-private/hostAccessPrivate@mmap',
      'no-double-private/privateStillMapped@madvise',
      'no-double-private/hostAccessPrivate@madvise',
    ],
    // Three populates after the set-up: a folio populated past the request, then two that meet
    // what it left (snp/rfc-v1, seed 28). Landing on the user's page takes a populate that
    // allocates the folio, the mmap that gets the next pfn, the populate past the folio, and
    // the buffers the two read (v6.17 [hugepages] writeBackOutside, seed 10: 8 operations, and
    // none of the 7-operation variants tried by hand shows it).
    maxOps: 8,
    // A huge folio's pages at most (matrix.ts HUGE_FOLIO_MAX_PAGES): the case needs the folio around the page.
    maxPages: 16,
    // The same landing on a source mapped afresh and never written (zeroPageCpuidArb's munmap,
    // mmap and CPUID populate between the two): 9 operations (v6.17 [hugepages], seed 18).
    maxOpsFor: { 'src-offset-straddling/writeBackWrong@snp_launch_update': 9, 'src-offset-straddling/writeBackOutside@snp_launch_update': 9 },
  },
  B9: {
    id: 'B9',
    title: 'kvm_gmem_populate() marks the whole folio uptodate ("prepared") after its callback populated only the part the private-attribute loop left it (max_order lowered): the rest of a huge folio is never populated, yet populating it gets -EEXIST',
    link: 'https://lore.kernel.org/all/20251113230759.1562024-1-michael.roth@amd.com/',
    status: 'latent in v6.11 .. v6.19; preparation tracking removed in Roth v3 3/6 (v7.0)',
    reach: { kind: 'what-if', mode: 'hugepages', how: 'a huge folio whose gfns are not all private when it is populated' },
    signatures: [
      'functional-spec/markedPrepared@snp_launch_update',
      'functional-spec/markedPrepared@tdx_init_mem_region',
      // The rest of the folio then refused: -EEXIST for a page never populated, under whichever row
      // predicted that call (a full, truncated or stopped range: [*]).
      'functional-spec/wrongErrno[*]@snp_launch_update',
      'functional-spec/wrongErrno[*]@tdx_init_mem_region',
      'functional-spec/populatedCount@snp_launch_update',
      'functional-spec/populatedCount@tdx_init_mem_region',
    ],
    // Set-up of two guest_memfds with their memslots and attributes (6), an mmap, and two
    // populates: one fills a page of the other file first (tdx/v6.17, seed 3 shrinks no further).
    maxOps: 9,
    // A huge folio's pages at most (matrix.ts HUGE_FOLIO_MAX_PAGES): the case needs the folio around the page.
    maxPages: 16,
  },
  G17: {
    id: 'G17',
    title: 'v6.16 .. v6.18 TDX pins every page it maps (get_page() in tdx_sept_set_private_spte(), dropped only after a successful removal): a KVM reference on a guest_memfd folio, which in-place conversion and folio splitting cannot tolerate',
    link: 'https://lore.kernel.org/all/20250807094241.4523-1-yan.y.zhao@intel.com/',
    status: 'v6.19: "KVM: TDX: Drop superfluous page pinning in S-EPT management" (kvm-x86-tdx-6.19)',
    reach: { kind: 'userspace', how: 'every populated page carries the pin; it does harm once guest_memfd converts or splits folios (in-place conversion, hugepages), which wait for extra references to go' },
    signatures: [
      'gmem-no-kvm-refs/kvmRefHeld@tdx_sept_set_private_spte',
    ],
    maxOps: 5,
    maxPages: 1,
  },
  G18: {
    id: 'G18',
    title: 'v6.16 .. v6.18 TDX: a TDH.MR.EXTEND failure returns -EIO without bugging the VM, so the page stays added and partly measured while the ioctl reports it not populated',
    link: 'https://lore.kernel.org/all/20251030200951.3402865-1-seanjc@google.com/',
    status: 'v6.19: "KVM: TDX: Bug the VM if extending the initial measurement fails" (kvm-x86-tdx-6.19)',
    reach: { kind: 'firmware', how: 'TDH.MR.EXTEND failing after TDH.MEM.PAGE.ADD succeeded' },
    signatures: [
      'measurement/extra@tdx_init_mem_region',
      'return-value-contract/failedPageKept@tdx_init_mem_region',
      'return-value-contract/measuredPastCount@tdx_init_mem_region',
    ],
    maxOps: 5,
    maxPages: 1,
  },
  G19: {
    id: 'G19',
    title: 'v6.16 .. v6.18 TDX: a premapped page (PAGE.ADD never happened) whose zap fails (TDH.MEM.RANGE.BLOCK contended twice) keeps its pin: KVM_BUG_ON, and a host page nobody owns is never freed',
    link: 'https://lore.kernel.org/all/20251030200951.3402865-1-seanjc@google.com/',
    status: 'v6.19 drops the pins and nr_premapped (TDH.MEM.PAGE.ADD under the fault)',
    reach: { kind: 'firmware', how: 'TDH.MEM.PAGE.ADD failing, then TDH.MEM.RANGE.BLOCK contended twice when the page is zapped' },
    signatures: [
      'leaked-page/heldBack@tdx_sept_set_private_spte',
      'refcount-balance/pageRefLeaked@tdx_sept_set_private_spte',
    ],
    // A contended PAGE.ADD at the nth call with n pages asked: the minimizer moves neither alone.
    maxOps: 6,
    maxPages: 2,
  },
  G20: {
    id: 'G20',
    title: 'paolo-v1\'s undo punches out the failed page even when its reclaim failed: kvm_gmem_undo_get_pfn() frees, in the same ioctl, a page snp_leak_pages() just leaked and the firmware still owns',
    link: 'https://lore.kernel.org/all/20240404185034.3184582-10-pbonzini@redhat.com/',
    status: 'v2 dropped the undo (Sean: unwinding "will affect the measurement", https://lore.kernel.org/all/Zip-JsAB5TIRDJVl@google.com/); the free then waits for the next punch-hole or release (G4)',
    reach: { kind: 'firmware', how: 'SNP_LAUNCH_UPDATE failing, then its SNP_PAGE_RECLAIM failing' },
    signatures: [
      'leaked-page/freedWhileFirmwareOwned@__kvm_gmem_punch_hole',
      'leaked-page/leakedPageFreed@__kvm_gmem_punch_hole',
      // The next populate's new folio gets the freed page and clears it: the host writes what the
      // firmware owns. Tolerated consequence (matrix.ts MAY).
      'no-double-private/hostAccessPrivate@kvm_gmem_get_folio',
      // ... or gets it and fails too: the page snp_leak_pages() already listed is leaked again.
      'leaked-page/leakedTwice@snp_page_reclaim',
      'leaked-page/leakedTwice@host_rmp_make_shared',
      // ... or an mmap() gets it, and the next populate reads its source from a page the
      // firmware owns (seed 23).
      'no-double-private/hostAccessPrivate@sev_gmem_post_populate',
    ],
    // Both host accesses are the freed page come back. Without the free, the same read is
    // another bug's: the CPUID table copied back from a reclaimed page that was never made
    // shared (paolo-v1's reclaim condition with `||` for its first `&&`, which G20 hid).
    onlyAfter: viaFreedPage(['no-double-private/hostAccessPrivate@kvm_gmem_get_folio', 'no-double-private/hostAccessPrivate@sev_gmem_post_populate']),
    // The page coming back takes the leaking populate, what reuses the page, and what fails or
    // frees it again, around a LAUNCH_FINISH or a close (seeds 23 and 25: 6 and 7 operations).
    maxOps: 7,
    maxPages: 2,
  },
  G21: {
    id: 'G21',
    title: 'SNP v14/v15\'s sev_gmem_post_populate() returns copy_from_user()\'s count of bytes not copied: kvm_gmem_populate() takes it for pages populated, and snp_launch_update() advances gfn_start and uaddr by it and wraps len',
    link: 'https://lore.kernel.org/all/20240612115040.2423290-4-dan.carpenter@linaro.org/',
    status: 'fixed before v6.11 by Dan Carpenter\'s "KVM: SVM: Fix an error code in sev_gmem_post_populate()" (-EFAULT)',
    reach: { kind: 'userspace', how: 'KVM_SEV_SNP_LAUNCH_UPDATE whose source is not all mapped' },
    signatures: [
      'functional-spec/populatedCount@snp_launch_update',
      'functional-spec/notPopulated@snp_launch_update',
      'functional-spec/notMeasured@snp_launch_update',
      'measurement/extra@snp_launch_update',
      'return-value-contract/notPopulated@snp_launch_update',
      'src-offset-straddling/wrongByte@snp_launch_update',
    ],
    // notMeasured needs an earlier populated page inside the wrongly counted range: shrinking the
    // second call's start and length together is a step the minimizer does not take.
    maxOps: 6,
    maxPages: 6,
    // ... or a page G28's fallocate() prepared (private, nothing measured) inside it: the populate
    // must reach that page, and shrinking the fallocate()'s offset with the populate's length is
    // the same two-field step (paolo-v1 [in-place] at the suite seed: 7 pages, from
    // allocatePopulateArb's first-page-only form).
    maxPagesFor: { 'functional-spec/notMeasured@snp_launch_update': 8 },
  },
  G22: {
    id: 'G22',
    title: 'paolo-v1 with huge folios: kvm_gmem_get_folio() creates, clears and marks uptodate a whole huge folio for its first page, so FGP_CREAT_ONLY refuses every other page of it with -EEXIST once populate had to lower the order (a short or unaligned range); a failure part-way through a multi-page callback leaves measured pages reported as not populated',
    link: 'https://lore.kernel.org/all/20240404185034.3184582-5-pbonzini@redhat.com/',
    status: 'never merged: v2 of the series dropped FGP_CREAT_ONLY and the undo hole punch, and the merged populate refuses a prepared (uptodate) folio instead',
    reach: { kind: 'what-if', mode: 'hugepages', how: 'a populate of part of a huge folio' },
    signatures: [
      'functional-spec/markedPrepared@snp_launch_update',
      'functional-spec/touchedPastCount@snp_launch_update',
      'return-value-contract/measuredPastCount@snp_launch_update',
      'return-value-contract/pastCountTouched@snp_launch_update',
      // A page of the folio refused with -EEXIST is a wrongErrno under S1.1, S1.3 or S1.20, the rows
      // G28 (paolo-v1 in every cell) lists by name: the same signature, credited to G28. A wildcard
      // here was never credited (0 of 30 seeds, reports/detection.md at d5518ca: no other row
      // ever showed), so G22 names no wrongErrno of its own.
      'functional-spec/populatedCount@snp_launch_update',
      // A CPUID page failing part-way through a whole folio: the firmware's table is copied back
      // to that page's source (src + i * PAGE_SIZE), while the count says the first page failed
      // (snp/paolo-v1 [hugepages] under seed 2, once hugeLayoutArb drew folio-aligned slots).
      'src-offset-straddling/writeBackOutside@snp_launch_update',
    ],
    // Set when G22 still listed wrongErrno[S1.3] (seed 14: 6 operations), which G28 now carries.
    // The signatures the detection table credits to G22 came out at 3 or 4 operations under all
    // 30 seeds (reports/detection.json at ff3427e); it does not credit the return-value-contract
    // pair or writeBackOutside to G22 in any cell, so their size is unmeasured and 6 stays.
    maxOps: 6,
    // A huge folio's pages at most (matrix.ts HUGE_FOLIO_MAX_PAGES): the case needs the folio around the page.
    maxPages: 16,
  },
  G23: {
    id: 'G23',
    title: 'v7.0 and later refuse a large guest_memfd folio only with WARN_ON_ONCE(folio_order(folio)) in kvm_gmem_get_folio(), and go on with it',
    link: 'https://lore.kernel.org/all/20260108214622.1084057-3-michael.roth@amd.com/',
    status: 'by design until guest_memfd allocates huge folios (Roth v2/v3 removed the partial hugepage handling, to be redesigned with a real hugepage implementation); the WARN is the refusal',
    reach: { kind: 'what-if', mode: 'hugepages', how: 'any populate once guest_memfd hands out a huge folio' },
    signatures: [
      'warn-reachable/warnWithoutFault@kvm_gmem_get_folio',
      // What going on means: one page populated, the whole folio marked uptodate (B9's shape in
      // the generation where uptodate means "cleared"), so the fault path maps the rest uncleared.
      'functional-spec/markedUptodate@snp_launch_update',
      'functional-spec/markedUptodate@tdx_init_mem_region',
    ],
    maxOps: 4,
    maxPages: 1,
  },
  G24: {
    id: 'G24',
    title: 'The old order loops check the gfn\'s alignment to the folio (v6.x\'s WARN, paolo-v1\'s order drop), but a folio is aligned in the file: with a memslot whose base_gfn and guest_memfd offset differ modulo the folio size, an aligned gfn sits mid-folio and the callback works on pfns past the folio, pages the allocator owns',
    link: 'https://lore.kernel.org/all/20231230172351.574091-2-michael.roth@amd.com/',
    status: 'latent: no merged kernel reports max_order > 0 (SNP v11 01/35\'s rule leaves gfn alignment to the caller, and rounds the index up rather than down); gone with the order loops in v7.0',
    reach: { kind: 'what-if', mode: 'hugepages', how: 'a memslot whose base_gfn and guest_memfd_offset are not congruent modulo the folio size, and a populate of an aligned gfn inside a folio' },
    signatures: [
      'memory-safety/useAfterFree@sev_gmem_post_populate',
      'functional-spec/notUptodate@snp_launch_update',
      // The pages past the folio, made the guest's, are the next folio's when a later page of the
      // same call allocates it: clear_highpage() writes them while the guest owns them
      // (snp/paolo-v1 [hugepages], seed 19 at stop 45: 4 ops, 5 pages).
      'no-double-private/hostAccessPrivate@kvm_gmem_get_folio',
    ],
    maxOps: 6,
    maxPages: 16,
  },
  G25: {
    id: 'G25',
    title: 'A hole over part of a huge folio that cannot be split (someone holds a reference: TDX\'s pin) takes the whole folio out of the page cache, but kvm_gmem_invalidate_begin() zapped only the hole: the rest stays mapped and owned by the guest while guest_memfd has forgotten it',
    link: 'https://lore.kernel.org/all/20231230172351.574091-2-michael.roth@amd.com/',
    status: 'a hazard of the what-if page cache (truncate_inode_partial_folio() drops a clean folio it cannot split); the hugetlb guest_memfd series restructures folios under the invalidate lock instead',
    reach: { kind: 'what-if', mode: 'hugepages', how: 'a punch-hole over part of a huge folio while a reference on it is held, then release' },
    signatures: [
      'leaked-page/freedWhileFirmwareOwned@kvm_gmem_release',
      'leaked-page/freedWhileFirmwareOwned@kvm_gmem_punch_hole',
    ],
    maxOps: 7,
    maxPages: 16,
  },
  G26: {
    id: 'G26',
    title: 'A second KVM_SEV_SNP_LAUNCH_FINISH (or a retry once a vCPU\'s VMSA went to the firmware) syncs the VMSA again: sev_es_sync_vmsa() writes the save area into a page the RMP gives the guest, an RMP #PF that oopses the host, and snp_launch_update_vmsa() makes the guest\'s page private a second time',
    link: 'https://lore.kernel.org/all/d98692e2-d96b-4c36-8089-4bc1e5cc3d57@fortanix.com/',
    status: 'reported by Jethro Beekman (Jan 2026, a host oops on 6.18); fixed in v7.1 by 9b9f7962e3e8 "KVM: SEV: Reject attempts to sync VMSA of an already-launched/encrypted vCPU" (-EINVAL), backported to 7.0.1 and 6.12.83; kvm-x86-next has it',
    reach: { kind: 'userspace', how: 'KVM_SEV_SNP_LAUNCH_FINISH twice' },
    signatures: [
      'no-double-private/hostAccessPrivate@sev_es_sync_vmsa',
      // After the write, which the kernel does not survive (sev_vmsa.ts): what would follow.
      'no-double-private/privateTwice@snp_launch_update_vmsa',
    ],
    maxOps: 3,
    maxPages: 0,
  },
  G27: {
    id: 'G27',
    title: 'When the VMSA\'s SNP_LAUNCH_UPDATE fails and the page cannot be given back (SNP_PAGE_RECLAIM or the RMPUPDATE to shared fails), the VMSA is leaked (snp_leak_pages) but stays the vCPU\'s: sev_free_vcpu() later leaks it a second time (its list_head added to the leaked-pages list twice) or, if the RMPUPDATE to shared now works, frees the leaked page (its list_head left on the list)',
    link: 'https://lore.kernel.org/all/20240501085210.2213060-8-michael.roth@amd.com/',
    status: 'stands from SNP v15 07/20 to kvm-x86-next (torvalds/linux:arch/x86/kvm/svm/sev.c@0097f9df, kvm-x86/linux@1a27afa0): snp_launch_update_vmsa() ignores what became of the page it could not reclaim, and sev_free_vcpu() gives it back again',
    reach: { kind: 'firmware', how: 'the VMSA\'s SNP_LAUNCH_UPDATE fails, then SNP_PAGE_RECLAIM or the RMPUPDATE to shared fails; the list corruption is reported under CONFIG_DEBUG_LIST' },
    signatures: [
      'leaked-page/leakedTwice@kvm_rmp_make_shared',
      // SNP v15's helpers (paolo-v1): the second leak is host_rmp_make_shared()'s, or, since
      // they leave the VM running, snp_page_reclaim()'s when LAUNCH_FINISH is retried on the
      // vCPU's leaked VMSA and fails again (past the retry's write into that still-assigned
      // page, an RMP #PF the kernel does not survive: a model-only path, sev_vmsa.ts).
      'leaked-page/leakedTwice@host_rmp_make_shared',
      'leaked-page/leakedTwice@snp_page_reclaim',
      'leaked-page/leakedPageFreed@sev_free_vcpu',
    ],
    maxOps: 4,
    maxPages: 0,
  },
  G28: {
    id: 'G28',
    title: 'Paolo Bonzini\'s v1 with SNP v15: fallocate() prepares every folio it allocates (kvm_gmem_get_folio(..., true) runs sev_gmem_prepare()), so each bound page becomes guest-private in the RMP with nothing loaded, private attribute or not; a later KVM_SEV_SNP_LAUNCH_UPDATE of a pre-allocated page fails (FGP_CREAT_ONLY refuses its folio; without it the RMP check would)',
    link: 'https://lore.kernel.org/all/ZmeOxAtwfTsDCi1x@google.com/',
    status: 'raised by Sean Christopherson in review (June 2024: "unnecessarily restrictive and wrong"); fixed before SNP was merged by Paolo Bonzini\'s lazy preparation, torvalds/linux b85524314a3d "KVM: guest_memfd: delay kvm_gmem_prepare_folio() until the memory is passed to the guest" (v6.11)',
    reach: { kind: 'userspace', how: 'fallocate(FALLOC_FL_KEEP_SIZE) on the guest_memfd before KVM_SEV_SNP_LAUNCH_UPDATE of the range' },
    signatures: [
      // The populate of a pre-allocated page refused where the document promises a success: the
      // whole range (S1.1), a range cut at the memslot end (S1.3), or the pages before one that
      // stops it (S1.20).
      'functional-spec/wrongErrno[S1.1]@snp_launch_update',
      'functional-spec/wrongErrno[S1.3]@snp_launch_update',
      'functional-spec/wrongErrno[S1.20]@snp_launch_update',
      'functional-spec/populatedCount@snp_launch_update',
      // A page of a shared gfn, which guest_memfd does not back for the guest, made guest-private.
      'private-attribute-precondition/notPrivate@sev_gmem_prepare',
      // With B1's leaked kmap of the page (CONFIG_DEBUG_KMAP_LOCAL_FORCE_MAP): made private while
      // the host maps it (a consequence, tolerated: matrix.ts MAY).
      'no-double-private/grantWhileMapped@sev_gmem_prepare',
      'no-double-private/privateStillMapped@fallocate',
    ],
    maxOps: 5,
    // The refusal of a pre-allocated first page where the oracle expects that page populated,
    // the walk stopped at an already populated second one (S1.12, S1.20), and the struct's copy
    // back faulting (S1.19): seen under seed 25 (snp/paolo-v1 [in-place], reports/detection.md)
    // as 6 operations, and 6 is the least it takes: the set-up's three, a populate of the second
    // page, fallocate() of the first, the read-only populate of both. A page fallocate() alone
    // prepared is not "already populated" to the oracle (preparedOnly() in
    // properties/oracle/snp.ts), so the earlier populate cannot go: without it the same read-only
    // populate of a pre-allocated second page is functional-spec/populatedCount, of a first one
    // wrongErrno[S1.19+S1.1] (both run from the seed-25 scenario at 0f066ae).
    maxOpsFor: { 'functional-spec/wrongErrno[S1.19+S1.20+S1.12]@snp_launch_update': 6 },
    // A pre-allocated page first, and (S1.3) a range past the memslot end: seen shrunk to 3 pages.
    maxPages: 3,
  },
  G29: {
    id: 'G29',
    title: 'kvm_gmem_error_folio() takes the filemap invalidate lock while memory_failure() holds the folio lock: an AB-BA with every guest_memfd path that locks a folio under the invalidate lock (kvm_gmem_populate(), punch-hole\'s truncation, fallocate()\'s allocation), which lockdep cannot report because the folio lock is a bit lock',
    link: 'torvalds/linux:virt/kvm/guest_memfd.c@01f492e1817e858d1712f2489d0afbaa552f417b',
    status: 'found by this suite (the lock-order property with the folio lock in the graph); not reported on the lists that the search tool reaches (lore searched for kvm_gmem_error_folio and its locking). Present in every tree from v6.8 (torvalds/linux a7800aa80ea4, where guest_memfd first handles memory errors) to kvm-x86-next: memory_failure() -> me_pagecache_clean() -> truncate_error_folio() calls error_remove_folio with the folio locked (mm/memory-failure.c), and mm/filemap.c orders ->invalidate_lock before ->lock_page. Lisa Wang\'s MF_DELAYED fix (https://lore.kernel.org/all/57ed0bcbcfcec6fda89d60727467d7bd621c95ab.1760551864.git.wyihan@google.com/), the thread about guest_memfd\'s memory-failure handling, does not touch the locking',
    reach: { kind: 'hardware', how: 'a memory error in a guest_memfd page while the VMM populates that page, punches a hole over it or fallocate()s it: the error\'s handler holds the folio lock and waits for the invalidate lock the VMM\'s thread holds, which waits for the folio lock (with a queued writer, fallocate()\'s shared hold deadlocks the same way). Injectable as root through the hwpoison-inject debugfs file (CONFIG_HWPOISON_INJECT); two threads, which the model shows as an order-graph cycle' },
    signatures: [
      'lock-order/cycleFolioLock@kvm_gmem_error_folio',
      // paolo-v1's punch-hole (its own, also the undo of a failed populate) is
      // __kvm_gmem_punch_hole, which sorts first among the cycle's edge sites (seeds 2, 4).
      'lock-order/cycleFolioLock@__kvm_gmem_punch_hole',
    ],
    // create, memslot, attributes and the populate that makes the folio, then the error: or on
    // CCA the folio from fallocate() (3 operations). paolo-v1's own punch-hole path needs a
    // second page: the poisoned one, and another whose failed populate the undo punches out
    // (seed 2: 6 operations, 2 pages); or one page, punched out after the error so that the
    // failed populate's undo meets a new folio there (seed 19: 7 operations, 1 page; no single
    // operation of it can go, and the minimizer does not trade the punch-hole for a second page).
    maxOps: 7,
    maxPages: 2,
  },
  G30: {
    id: 'G30',
    title: 'The old SNP callback writes a CPUID page the firmware corrected back to an unaligned source with one copy_to_user() of a whole page: where the source runs into a page userspace cannot write, the corrected table lands in part, and the failure is only pr_debug()ed (the ioctl\'s -EIO is the firmware\'s), so the VMM reads back a table half corrected and half its own',
    link: 'torvalds/linux:arch/x86/kvm/svm/sev.c@0097f9dfcd4a4ee39ba2b9ac6e3f1f82d4aad1c6',
    status: 'found by this suite\'s first hour-long fuzz campaign (seed 20261122, unit 1575, in the hugepages cell; it needs no huge folio); not reported on the lists the search tool reaches. Moot from v7.0, whose page-aligned uaddr makes the source one page, written whole or not at all (the Roth series\' alignment check, kernel-facts §2.2)',
    reach: { kind: 'userspace', how: 'KVM_SEV_SNP_LAUNCH_UPDATE of a CPUID page with an entry the firmware corrects, from an unaligned uaddr whose next page the VMM mapped read-only' },
    signatures: ['src-offset-straddling/writeBackPartial@snp_launch_update'],
    // create, memslot, attributes, the source's two mappings (read-only, then its first page
    // writable again) and the LAUNCH_UPDATE (the campaign's: 6 operations, 1 page).
    maxOps: 6,
    maxPages: 1,
  },
} as const satisfies Record<string, KnownBug>;

export type BugId = keyof typeof BUGS;

/** The message ids a bug's signatures use. */
export function bugMessageIds(bug: KnownBug): string[] {
  return [...new Set(bug.signatures.flatMap((k) => parseSignature(k)?.messageId ?? []))];
}

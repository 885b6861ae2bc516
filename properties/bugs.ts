/**
 * The known bugs and hazards the matrix expects to be found, with where they were reported and
 * how small their shrunk counterexample must be (operations including set-up, and pages the
 * populate calls ask for). Ids B1..B31 follow kernel-facts.md §6; G-ids are this project's.
 */
export interface KnownBug {
  readonly id: string;
  readonly title: string;
  readonly link: string;
  /** Where it was fixed, or why it stands. */
  readonly status: string;
  /** Message ids a shrunk counterexample may report. */
  readonly messageIds: readonly string[];
  readonly maxOps: number;
  readonly maxPages: number;
}

export const BUGS = {
  B1: {
    id: 'B1',
    title: 'kunmap_local() skipped when copy_from_user() fails in sev_gmem_post_populate()',
    link: 'https://lore.kernel.org/all/20260108214622.1084057-2-michael.roth@amd.com/',
    status: 'fixed by kvm-x86 60b590de8b30 (Roth v3 1/6, from Yan Zhao)',
    messageIds: ['kmapLeaked'],
    maxOps: 5,
    maxPages: 2,
  },
  'B1-consequence': {
    id: 'B1-consequence',
    title: 'the kmap B1 leaks stays live, and the next populate makes that page private while the host still maps it',
    link: 'https://lore.kernel.org/all/20260108214622.1084057-2-michael.roth@amd.com/',
    status: 'fixed with B1',
    messageIds: ['grantWhileMapped', 'privateStillMapped'],
    maxOps: 6,
    maxPages: 4,
  },
  B2: {
    id: 'B2',
    title: 'mmap_lock taken (GUP, copy_from_user) under the filemap invalidate lock: AB-BA with the in-place fault path',
    link: 'https://lore.kernel.org/all/20251113230759.1562024-4-michael.roth@amd.com/',
    status: 'GUP hoisted above the lock in RFC v1, merged per page in v7.0',
    messageIds: ['cycle'],
    maxOps: 6,
    maxPages: 2,
  },
  B3: {
    id: 'B3',
    title: 'TDX callback indexes src_pages[i] with i uninitialised (and src_pages NULL when source_addr is 0)',
    link: 'https://lore.kernel.org/all/20251113230759.1562024-4-michael.roth@amd.com/',
    status: 'squashed fix (src_pages[0]) per Roth; moot from RFC v2 (single src_page)',
    messageIds: ['uninitialised', 'wildPointer', 'outOfBounds', 'wrongByte', 'mismatch'],
    maxOps: 5,
    maxPages: 2,
  },
  B7: {
    id: 'B7',
    title: 'RFC v1 GUP error paths leak the kmalloc()ed page array, and the pinned pages on a short pin',
    link: 'https://lore.kernel.org/all/20251113230759.1562024-4-michael.roth@amd.com/',
    status: 'moot from RFC v2 (per-page GUP, no array)',
    messageIds: ['kmallocLeaked', 'pinLeaked', 'pageRefLeaked'],
    maxOps: 5,
    maxPages: 3,
  },
  G1: {
    id: 'G1',
    title: 'kmap_local mappings unmapped out of LIFO order in sev_gmem_post_populate()',
    link: 'https://lore.kernel.org/all/20260522-fix-sev-gmem-post-populate-v1-0-9fc8d6437b65@google.com/',
    status: 'fixed by kvm-x86 138f5f9cbe37 (benign on 64-bit)',
    messageIds: ['outOfOrder'],
    maxOps: 5,
    maxPages: 2,
  },
  G2: {
    id: 'G2',
    title: 'SNP CPUID write-back into a source page pinned without FOLL_WRITE and never marked dirty',
    link: 'https://lore.kernel.org/all/20260522-fix-sev-gmem-post-populate-v1-0-9fc8d6437b65@google.com/',
    status: 'fixed by kvm-x86 f13e90059908 (may_writeback_src) and 97cd21d57e9b (set_page_dirty)',
    messageIds: ['writeWithoutFollWrite', 'notDirtied'],
    maxOps: 5,
    maxPages: 3,
  },
  G3: {
    id: 'G3',
    title: 'uaddr 0 with a non-ZERO type reaches WARN_ON_ONCE(type != ZERO && !src) in the SNP callback',
    link: 'kvm-x86/linux:arch/x86/kvm/svm/sev.c@1a27afa0511e404fd87c1a5e643945940ef72f90',
    status: 'fixed June 2026 ("kvm: sev: Fix issues reported by Sashiko"): !params.uaddr rejected up front',
    messageIds: ['warnWithoutFault'],
    maxOps: 4,
    maxPages: 1,
  },
  G4: {
    id: 'G4',
    title: 'SNP frees a page the firmware still owns: snp_leak_pages() takes no reference, and sev_gmem_invalidate() only WARNs when RMPUPDATE fails',
    link: 'https://lore.kernel.org/all/20231016132819.1002933-17-michael.roth@amd.com/',
    status: 'open in every modelled tree (Babka, 2023: "Not dropping the refcount to zero does")',
    messageIds: ['freedWhileFirmwareOwned', 'leakedPageFreed'],
    maxOps: 6,
    maxPages: 2,
  },
  G5: {
    id: 'G5',
    title: 'TDX frees a TD-owned page when S-EPT removal fails twice: KVM_BUG_ON, and no page reference keeps it',
    link: 'https://lore.kernel.org/all/20250807094241.4523-1-yan.y.zhao@intel.com/',
    status: 'accepted by design ("Drop superfluous page pinning in S-EPT management": KVM_BUG_ON, panic_on_warn if it matters)',
    messageIds: ['freedWhileFirmwareOwned'],
    maxOps: 7,
    maxPages: 2,
  },
} as const satisfies Record<string, KnownBug>;

export type BugId = keyof typeof BUGS;

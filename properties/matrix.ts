import type { BackendId } from '../model/scenario/Scenario.js';
import type { Revision } from '../model/revisions/Revision.js';
import { cellName, scenarioWhatIf, type WhatIfMode } from '../model/whatIf.js';
import { BUGS, type BugId, type KnownBug } from './bugs.js';
import type { Finding, PriorShown } from './explore.js';
import { atLeast, scenarioNeeds, type Need } from './reach.js';
import { parseSignature, signatureMatches, siteBackend, type SignatureKey } from './signature.js';

/**
 * The in-place series' populate revisions (model/revisions/inplace-v8.ts, inplace-v7.ts) are
 * kvm-x86-next's tree with the series applied: each of kvm-x86-next's cells is theirs too, so
 * only what the series changes is written for them (a cell they list themselves replaces the
 * inherited one: it must name kvm-x86-next's bugs again).
 */
const SERIES_BASE = /^(snp|tdx)\/kvm-x86-next( \[[a-z0-9-]+\])?$/;
const ON_SERIES_BASE = ['inplace-v7', 'inplace-v8'] as const;

function withSeriesCells<T>(table: Readonly<Record<string, Readonly<Partial<Record<`${BackendId}/${string}`, T>>>>>): Readonly<Record<string, Readonly<Partial<Record<`${BackendId}/${string}`, T>>>>> {
  return Object.fromEntries(Object.entries(table).map(([invariant, cells]) => {
    const inherited = Object.entries(cells).flatMap(([key, v]) => {
      const m = SERIES_BASE.exec(key);
      return m === null ? [] : ON_SERIES_BASE.map((id) => [`${m[1] ?? ''}/${id}${m[2] ?? ''}`, v] as const);
    });
    return [invariant, { ...Object.fromEntries(inherited), ...cells }];
  }));
}

/**
 * The expected verdict of every cell: invariant × backend × revision. A cell names the known
 * bug it must find, or is absent from its row and must hold. Like TLA+'s manifest.json and
 * TF-RMM's baselines, a change in either direction fails until this file is updated.
 *
 * A what-if cell (`cca/rme-v12 [4k-guard-lifted]`, `snp/v6.17 [in-place]`, model/whatIf.ts) runs
 * a superset of its revision's accepted configurations, so it expects its default cell's bugs
 * plus its own; a hugepages cell runs other machines altogether and only tolerates its default
 * cell's bugs.
 */
const ROWS: Readonly<Record<string, Readonly<Partial<Record<`${BackendId}/${string}`, BugId | readonly BugId[]>>>>> = withSeriesCells<BugId | readonly BugId[]>({
  'world-well-formed': {},
  // B17: v7's populate of an untouched page in place loads stale memory (both vendors); B19: v7
  // and v8 populate in place from a guest_memfd the VMM cannot map.
  'in-place-source': {
    'snp/inplace-v7 [in-place]': ['B17', 'B19'], 'tdx/inplace-v7 [in-place]': ['B17', 'B19'],
    'snp/inplace-v8 [in-place]': 'B19', 'tdx/inplace-v8 [in-place]': 'B19',
  },
  // B15: the loff_t kvm_gmem_bind() of v6.8 .. v7.0 (the kvm-x86 and newest Arm trees have uoff_t);
  // B16: every merged kvm_gmem_bind() ignores xa_store_range()'s error.
  'functional-spec': {
    'snp/paolo-v1 [hugepages]': 'G22', 'snp/v6.17 [hugepages]': ['B6', 'B9'], 'tdx/v6.17 [hugepages]': ['B6', 'B9'], 'snp/kvm-x86-next-2025.11.07 [hugepages]': ['B6', 'B9'], 'tdx/kvm-x86-next-2025.11.07 [hugepages]': ['B6', 'B9'], 'snp/rfc-v1 [hugepages]': 'B6', 'tdx/rfc-v1 [hugepages]': ['B6', 'B9'],
    'snp/paolo-v1': ['G21', 'G28', 'B15', 'B16'], 'snp/v6.17': ['B15', 'B16'], 'snp/kvm-x86-next-2025.11.07': ['B15', 'B16'], 'snp/rfc-v1': ['B15', 'B16'], 'snp/roth-v2': ['G3', 'B15', 'B16'], 'snp/roth-v3-posted': ['G3', 'B15', 'B16'],
    'snp/v7.0': ['G3', 'B15', 'B16'], 'snp/kvm-x86-next': 'B16',
    'tdx/v6.17': ['B21', 'B15', 'B16'], 'tdx/kvm-x86-next-2025.11.07': ['B15', 'B16'], 'tdx/rfc-v1': ['B3', 'B15', 'B16'], 'tdx/roth-v2': ['B30', 'B15', 'B16'], 'tdx/roth-v3-posted': ['B15', 'B16'],
    'tdx/v7.0': ['B15', 'B16'], 'tdx/kvm-x86-next': 'B16',
    'cca/rme-v9': ['G9', 'B15', 'B16'], 'cca/rme-v12': ['B15', 'B16'], 'cca/rme-v12 [4k-guard-lifted]': 'G10', 'cca/rmi-newest': 'B16',
  },
  'gmem-no-kvm-refs': { 'tdx/v6.17': 'G17', 'cca/rme-v9': ['G8', 'B23'], 'cca/rme-v12': 'B23' },
  'kmap-local-lifo': { 'snp/rfc-v1': 'G1', 'snp/roth-v2': 'G1', 'snp/roth-v3-posted': 'G1', 'snp/v7.0': 'G1' },
  'leaked-page': {
    // G27: the VMSA page a failed LAUNCH_FINISH leaked, leaked again or freed when the vCPU goes.
    // On paolo-v1 a page G20's undo freed can come back as a folio and be leaked again: the same
    // leakedTwice signatures, credited to the first bug listed, so G27 comes first there (G20 is
    // found by its own signatures at __kvm_gmem_punch_hole).
    'snp/paolo-v1': ['G27', 'G20', 'G4'], 'snp/v6.17': ['G4', 'G27'], 'snp/kvm-x86-next-2025.11.07': ['G4', 'G27'], 'snp/rfc-v1': ['G4', 'G27'],
    'snp/roth-v2': ['G4', 'G27'], 'snp/roth-v3-posted': ['G4', 'G27'], 'snp/v7.0': ['G4', 'G27'], 'snp/kvm-x86-next': ['G4', 'G27'],
    'tdx/kvm-x86-next-2025.11.07': 'G5', 'tdx/rfc-v1': 'G5', 'tdx/roth-v2': 'G5', 'tdx/roth-v3-posted': 'G5', 'tdx/v7.0': 'G5', 'tdx/kvm-x86-next': 'G5',
    // B23's consequence needs a rollback DATA_DESTROY of an earlier granule of the page:
    // several granules per page.
    'cca/rme-v9': 'G15', 'cca/rme-v9 [4k-guard-lifted]': 'G16',
    'cca/rme-v12': 'G13', 'cca/rme-v12 [4k-guard-lifted]': 'B23-consequence', 'cca/rmi-newest': 'G13',
  },
  // v6.17's pins keep a page whose removal failed from the allocator: no G5 there.
  // B2 needs the in-place series' fault path: merged trees take no lock in a fault on a
  // confidential VM's guest_memfd, and before v6.18 cannot map one at all.
  // G29: guest_memfd's memory-failure handler against every path that locks a folio under the
  // invalidate lock, in every tree since v6.8 (the hugepages cells inherit it, tolerated).
  'lock-order': {
    'snp/paolo-v1': 'G29', 'snp/v6.17': 'G29', 'snp/kvm-x86-next-2025.11.07': 'G29', 'snp/rfc-v1': 'G29', 'snp/roth-v2': 'G29', 'snp/roth-v3-posted': 'G29', 'snp/v7.0': 'G29', 'snp/kvm-x86-next': 'G29',
    'tdx/v6.17': 'G29', 'tdx/kvm-x86-next-2025.11.07': 'G29', 'tdx/rfc-v1': 'G29', 'tdx/roth-v2': 'G29', 'tdx/roth-v3-posted': 'G29', 'tdx/v7.0': 'G29', 'tdx/kvm-x86-next': 'G29',
    'cca/rme-v9': 'G29', 'cca/rme-v12': 'G29', 'cca/rmi-newest': 'G29',
    'snp/paolo-v1 [in-place]': 'B2', 'snp/v6.17 [in-place]': 'B2', 'tdx/v6.17 [in-place]': 'B2', 'snp/kvm-x86-next-2025.11.07 [in-place]': 'B2', 'tdx/kvm-x86-next-2025.11.07 [in-place]': 'B2',
    // rme-v12's old kvm_gmem_populate() under populate_region()'s mmap_read_lock(): B2's one-thread
    // form only (a source in the guest_memfd mapping faulted in by the callback's GUP; CANNOT below).
    'cca/rme-v12 [in-place]': 'B2',
  },
  measurement: {
    'snp/inplace-v7 [in-place]': 'B17', 'tdx/inplace-v7 [in-place]': 'B17',
    'snp/v6.17 [hugepages]': 'B6', 'snp/kvm-x86-next-2025.11.07 [hugepages]': 'B6', 'tdx/kvm-x86-next-2025.11.07 [hugepages]': 'B6', 'snp/rfc-v1 [hugepages]': 'B5', 'tdx/rfc-v1 [hugepages]': 'B6', 'snp/paolo-v1': 'G21', 'tdx/v6.17': 'G18', 'tdx/rfc-v1': 'B3', 'cca/rme-v9': 'G9', 'cca/rme-v12': 'G11', 'cca/rme-v12 [4k-guard-lifted]': 'G10' },
  'memory-safety': {
    'snp/rfc-v1 [hugepages]': 'B5', 'tdx/rfc-v1': 'B3', 'snp/roth-v2': 'B31', 'snp/roth-v3-posted': 'B31', 'tdx/roth-v2': 'B31', 'tdx/roth-v3-posted': 'B31' },
  // G26: LAUNCH_FINISH twice, every tree before v7.1's fix (kvm-x86-next has it).
  'no-double-private': {
    'snp/paolo-v1': ['B1-consequence', 'G26'], 'snp/v6.17': ['B1-consequence', 'G26'], 'snp/kvm-x86-next-2025.11.07': ['B1-consequence', 'G26'],
    'snp/rfc-v1': 'G26', 'snp/roth-v2': 'G26', 'snp/roth-v3-posted': 'G26', 'snp/v7.0': 'G26',
  },
  oops: {},
  'soft-lockup': {},
  'private-attribute-precondition': { 'snp/paolo-v1': 'G28', 'cca/rme-v9': 'G7' },
  'refcount-balance': { 'snp/paolo-v1': 'B1', 'snp/v6.17': 'B1', 'snp/kvm-x86-next-2025.11.07': 'B1', 'snp/rfc-v1': 'B7', 'tdx/rfc-v1': 'B7', 'cca/rme-v9': ['G15', 'B23-consequence', 'G14'], 'cca/rme-v12 [4k-guard-lifted]': 'B23-consequence' },
  'return-value-contract': {
    'snp/v6.17 [hugepages]': 'B6', 'snp/kvm-x86-next-2025.11.07 [hugepages]': 'B6', 'tdx/kvm-x86-next-2025.11.07 [hugepages]': 'B6', 'tdx/rfc-v1 [hugepages]': 'B6', 'snp/paolo-v1': 'G21', 'tdx/v6.17': 'G18', 'cca/rme-v9': 'G9', 'cca/rme-v12 [4k-guard-lifted]': 'G10' },
  'source-write-permission': { 'snp/rfc-v1': 'G2', 'snp/roth-v2': 'G2', 'snp/roth-v3-posted': 'G2', 'snp/v7.0': 'G2' },
  // G30: the old SNP callback's write-back to an unaligned source (generators/ops/snp.ts cpuidStraddlingArb).
  'src-offset-straddling': {
    'snp/v6.17 [hugepages]': 'B6', 'snp/kvm-x86-next-2025.11.07 [hugepages]': 'B6', 'snp/rfc-v1 [hugepages]': 'B5', 'tdx/rfc-v1': 'B3', 'cca/rme-v12': 'G11',
    'snp/paolo-v1': 'G30', 'snp/v6.17': 'G30', 'snp/kvm-x86-next-2025.11.07': 'G30' },
  'warn-reachable': {
    // The hugepages what-if: the old order loop WARNs and carries on (B6); v7.0 and later WARN in kvm_gmem_get_folio() (G23).
    'snp/v6.17 [hugepages]': 'B6', 'tdx/v6.17 [hugepages]': 'B6', 'snp/kvm-x86-next-2025.11.07 [hugepages]': 'B6', 'tdx/kvm-x86-next-2025.11.07 [hugepages]': 'B6', 'snp/rfc-v1 [hugepages]': 'B6', 'tdx/rfc-v1 [hugepages]': 'B6',
    'snp/roth-v2 [hugepages]': 'G23', 'tdx/roth-v2 [hugepages]': 'G23', 'snp/roth-v3-posted [hugepages]': 'G23', 'tdx/roth-v3-posted [hugepages]': 'G23', 'snp/v7.0 [hugepages]': 'G23', 'tdx/v7.0 [hugepages]': 'G23', 'snp/kvm-x86-next [hugepages]': 'G23', 'tdx/kvm-x86-next [hugepages]': 'G23', 'snp/paolo-v1': 'G3', 'snp/v6.17': 'G3', 'snp/kvm-x86-next-2025.11.07': 'G3', 'snp/rfc-v1': 'G3', 'snp/roth-v2': 'G3', 'snp/roth-v3-posted': 'G3', 'snp/v7.0': 'G3', 'tdx/roth-v2': 'B30', 'cca/rme-v12': 'G12' },
});

/**
 * What a cell may show without having to: the downstream consequences of a bug the backend's
 * revision has, reached only when a later step happens to reuse what the bug left behind. A page
 * freed while the firmware still owns it (G4, G5, G13) is handed out again only if a later
 * allocation picks that very page, e.g. the next mmap(): then the host maps memory the firmware
 * owns, which no-double-private reports. Seen on cca/rme-v12 under one seed in thirty.
 */
const MAY: Readonly<Record<string, Readonly<Partial<Record<`${BackendId}/${string}`, readonly BugId[]>>>>> = withSeriesCells<readonly BugId[]>({
  // G2 as the oracle sees it (a read-only CPUID source populated where S2.8 says -EIO) shares its
  // exact-mode signature with G3; its relational one needs a CPUID-table fault on a read-only
  // source and shows under some seeds only. B9 on snp/rfc-v1's hugepages cell: about 1 run in 60.
  // G24's callback populates a page past its folio, which a later lookup then hands out as a
  // fresh folio, not uptodate, though the count says it holds what was loaded.
  'functional-spec': {
    'snp/roth-v2': ['G2'], 'snp/roth-v3-posted': ['G2'], 'snp/v7.0': ['G2'], 'snp/rfc-v1 [hugepages]': ['B9', 'G24'],
    'snp/paolo-v1 [hugepages]': ['G24'], 'snp/v6.17 [hugepages]': ['G24'], 'snp/kvm-x86-next-2025.11.07 [hugepages]': ['G24'],
    // G23's kernels WARN and go on: the whole folio comes out uptodate after one page (a folio
    // the layout puts past the populated range shows nothing).
    'snp/roth-v2 [hugepages]': ['G23'], 'tdx/roth-v2 [hugepages]': ['G23'], 'snp/roth-v3-posted [hugepages]': ['G23'], 'tdx/roth-v3-posted [hugepages]': ['G23'],
    'snp/v7.0 [hugepages]': ['G23'], 'tdx/v7.0 [hugepages]': ['G23'], 'snp/kvm-x86-next [hugepages]': ['G23'], 'tdx/kvm-x86-next [hugepages]': ['G23'],
  },
  // rme-v9's unmap puts one reference of a page it gets back, G15's or B23's alike: its leak
  // shows as B23-consequence only after a second populate of the page.
  // G19 needs two TDX-module failures on one page (PAGE.ADD, then BLOCK contended twice at its
  // zap): seen about once in 400 runs.
  // With huge folios a page paolo-v1 leaks can outlive the call's undo punch (which covers only
  // the order populate lowered to), so release frees it later (G4), as on the other revisions.
  // B6 makes a page past the folio guest-private while the allocator owns it; when a mapping
  // takes it next and madvise() or munmap() frees it, the page goes back with the RMP's grant.
  // G4's freed page may meet the same end (its munmap() paths are G4's own: leakingPunchArb
  // reaches them under every seed; madvise() after the mmap() is rarer, seen under 1 seed of 30).
  'leaked-page': {
    'cca/rme-v9 [4k-guard-lifted]': ['B23-consequence'], 'tdx/v6.17': ['G19'], 'snp/paolo-v1 [hugepages]': ['G4', 'B6'], 'tdx/v6.17 [hugepages]': ['G25'],
    'snp/v6.17 [hugepages]': ['B6'], 'snp/kvm-x86-next-2025.11.07 [hugepages]': ['B6'], 'snp/rfc-v1 [hugepages]': ['B6'],
    'snp/paolo-v1': ['G4-consequence'], 'snp/v6.17': ['G4-consequence'], 'snp/kvm-x86-next-2025.11.07': ['G4-consequence'], 'snp/rfc-v1': ['G4-consequence'],
    'snp/roth-v2': ['G4-consequence'], 'snp/roth-v3-posted': ['G4-consequence'], 'snp/v7.0': ['G4-consequence'], 'snp/kvm-x86-next': ['G4-consequence'],
    // G13's freed granule taken by the next RTT allocation: 2 seeds in 30 at most (stop 30).
    'cca/rme-v12': ['G13-consequence'], 'cca/rmi-newest': ['G13-consequence'],
    // G5's freed page given to a user mapping (MADV_PAGEOUT's fresh page) and freed by munmap(): 1 seed in 30.
    'tdx/kvm-x86-next-2025.11.07': ['G5-consequence'], 'tdx/rfc-v1': ['G5-consequence'], 'tdx/roth-v2': ['G5-consequence'],
    'tdx/roth-v3-posted': ['G5-consequence'], 'tdx/v7.0': ['G5-consequence'], 'tdx/kvm-x86-next': ['G5-consequence'],
  },
  'refcount-balance': { 'tdx/v6.17': ['G19'] },
  // G21 puts a wrong source into a page only when a later populate overlaps the wrongly advanced one.
  'src-offset-straddling': {
    'snp/rfc-v1 [hugepages]': ['B6'], 'snp/paolo-v1': ['G21'],
    // A CPUID page failing inside a whole folio's callback: about one run in 300.
    'snp/paolo-v1 [hugepages]': ['G22'] },
  // B6 past an unaligned folio's end can land on a page the user mm was given meanwhile (one
  // run in 300 on the copy_from_user() callbacks: seen with the hole-retry pair; on rfc-v1's
  // ZERO pages, made private while mapped: no-double-private, seed 20261122).
  'source-write-permission': { 'snp/paolo-v1 [hugepages]': ['B6'], 'snp/v6.17 [hugepages]': ['B6'], 'snp/kvm-x86-next-2025.11.07 [hugepages]': ['B6'] },
  // G24's pages past the folio, made the guest's, cleared by the next folio's allocation in the
  // same call: under 1 seed of 30 (stop 45).
  'no-double-private': {
    'snp/paolo-v1 [hugepages]': ['B6', 'G24'], 'snp/v6.17 [hugepages]': ['B6', 'G24'], 'snp/kvm-x86-next-2025.11.07 [hugepages]': ['B6', 'G24'], 'snp/rfc-v1 [hugepages]': ['B6', 'G24'],
    'cca/rme-v9 [4k-guard-lifted]': ['G16'],
    // G28's fallocate() makes private a page B1's leaked kmap still maps.
    'snp/paolo-v1': ['G4', 'G20', 'G28'], 'snp/v6.17': ['G4'], 'snp/kvm-x86-next-2025.11.07': ['G4'], 'snp/rfc-v1': ['G4'], 'snp/roth-v2': ['G4'], 'snp/roth-v3-posted': ['G4'], 'snp/v7.0': ['G4'], 'snp/kvm-x86-next': ['G4'],
    'tdx/kvm-x86-next-2025.11.07': ['G5'], 'tdx/rfc-v1': ['G5'], 'tdx/roth-v2': ['G5'], 'tdx/roth-v3-posted': ['G5'], 'tdx/v7.0': ['G5'], 'tdx/kvm-x86-next': ['G5'],
    'cca/rme-v12': ['G13'], 'cca/rmi-newest': ['G13'],
  },
  'memory-safety': {
    // G24 needs a memslot misaligned with its guest_memfd modulo the folio: about 1 run in 80.
    'snp/paolo-v1 [hugepages]': ['G24'], 'snp/v6.17 [hugepages]': ['G24'], 'snp/kvm-x86-next-2025.11.07 [hugepages]': ['G24'], 'snp/rfc-v1 [hugepages]': ['G24'],
  },
  'measurement': {
    'snp/rfc-v1 [hugepages]': ['B6'],
  },
  'return-value-contract': {
    'snp/paolo-v1 [hugepages]': ['G22'], 'tdx/v6.17 [hugepages]': ['B6'], 'snp/rfc-v1 [hugepages]': ['B6'],
  },
});

const PAST_COUNT_TDX = 'TDX asks kvm_gmem_populate() for one page at a time and this tree\'s callback adds just that page whatever the order, touching no other page of the folio; v6.17 shows it because its re-fault through kvm_gmem_get_pfn() prepares (clears) the whole huge folio';

/**
 * Signatures of a cell's bug that the cell cannot show, and why: a bug's signature list covers
 * every cell it is expected on, and some paths exist on one backend only.
 */
const V15_HELPERS = 'SNP v15\'s snp_page_reclaim() and host_rmp_make_shared() leak on their own, so the second leak of G27 is host_rmp_make_shared()\'s';
const MERGED_HELPERS = 'the merged snp_page_reclaim() and kvm_rmp_make_shared() bug the VM when they leak, so no LAUNCH_FINISH can follow to leak the VMSA again there; host_rmp_make_shared() is SNP v15\'s';
/** G29's cycle at paolo-v1's punch-hole, whose function only that revision names __kvm_gmem_punch_hole. */
const PUNCH_SITE = { signatures: ['lock-order/cycleFolioLock@__kvm_gmem_punch_hole'], why: 'only paolo-v1 names its punch-hole __kvm_gmem_punch_hole (the earliest of the cycle\'s edge sites there)' } as const;
const NOT_PAOLO: readonly `${BackendId}/${string}`[] = [
  'snp/v6.17', 'snp/kvm-x86-next-2025.11.07', 'snp/rfc-v1', 'snp/roth-v2', 'snp/roth-v3-posted', 'snp/v7.0', 'snp/kvm-x86-next',
  'tdx/v6.17', 'tdx/kvm-x86-next-2025.11.07', 'tdx/rfc-v1', 'tdx/roth-v2', 'tdx/roth-v3-posted', 'tdx/v7.0', 'tdx/kvm-x86-next',
  'cca/rme-v9', 'cca/rme-v12', 'cca/rmi-newest',
];


const CANNOT: Readonly<Record<string, Readonly<Partial<Record<`${BackendId}/${string}`, { readonly signatures: readonly SignatureKey[]; readonly why: string }>>>>> = withSeriesCells<{ readonly signatures: readonly SignatureKey[]; readonly why: string }>({
  'lock-order': {
    ...Object.fromEntries(NOT_PAOLO.map((cell) => [cell, PUNCH_SITE])),
    'cca/rme-v12 [in-place]': {
      signatures: ['lock-order/cycle@kvm_gmem_fault_user_mapping'],
      why: 'populate_region() takes mmap_lock before the invalidate lock, the in-place fault path\'s own order, and its callback\'s get_user_pages() runs under that mmap_lock: nothing takes mmap_lock under the invalidate lock (kernel-facts\' B25 expected an AB-BA there; the model finds the one-thread form only)',
    },
  },
  'leaked-page': {
    'snp/paolo-v1': {
      // A leaked page does come back to a later punch-hole or release, but only through the
      // allocator: the undo freed it (G20), the next populate of a gfn got it as its new folio
      // (a populate whose make-shared failed, then the same gfn again: 6 operations), and the
      // file frees it a second time (G4's no-reference leak, so G4 takes those signatures).
      signatures: ['leaked-page/leakedTwice@kvm_rmp_make_shared'],
      why: V15_HELPERS,
    },
    ...Object.fromEntries(['v6.17', 'kvm-x86-next-2025.11.07', 'rfc-v1', 'roth-v2', 'roth-v3-posted', 'v7.0', 'kvm-x86-next'].map((id) => [
      `snp/${id}`, { signatures: ['leaked-page/leakedTwice@host_rmp_make_shared', 'leaked-page/leakedTwice@snp_page_reclaim'], why: MERGED_HELPERS },
    ])),
  },
  'return-value-contract': {
    'tdx/kvm-x86-next-2025.11.07 [hugepages]': { signatures: ['return-value-contract/pastCountTouched@tdx_init_mem_region'], why: PAST_COUNT_TDX },
    'tdx/rfc-v1 [hugepages]': { signatures: ['return-value-contract/pastCountTouched@tdx_init_mem_region'], why: PAST_COUNT_TDX },
  },
  'refcount-balance': {
    'tdx/rfc-v1': {
      signatures: ['refcount-balance/pinLeaked@kvm_gmem_populate', 'refcount-balance/pageRefLeaked@kvm_gmem_populate'],
      why: 'TDX calls kvm_gmem_populate() one page at a time: the bulk GUP pins that page or fails, so no short pin leaves pinned pages behind (only the array leaks)',
    },
  },
});

/**
 * A violated cell names the known bugs it must find (each by at least one of its signatures);
 * `bug` is the first listed. Either kind of cell may also tolerate consequences (MAY), and
 * exclude signatures its bugs cannot show there (CANNOT).
 */
export type Expectation =
  | { readonly verdict: 'holds'; readonly tolerated: readonly KnownBug[]; readonly excluded: readonly SignatureKey[] }
  | { readonly verdict: 'violated'; readonly bug: KnownBug; readonly bugs: readonly KnownBug[]; readonly tolerated: readonly KnownBug[]; readonly excluded: readonly SignatureKey[] };

/**
 * The signatures a cell's expected bugs show on its invariant, less those it cannot show: those
 * listed in CANNOT, and (given the cell's backend) those at another backend's functions.
 */
export function expectedSignatures(e: Expectation, invariant: string, backend?: BackendId): SignatureKey[] {
  if (e.verdict !== 'violated') return [];
  const ours = (k: SignatureKey): boolean => backend === undefined || (siteBackend(k) ?? backend) === backend;
  return [...new Set(e.bugs.flatMap((b) => b.signatures.filter((k) => k.startsWith(`${invariant}/`) && !e.excluded.includes(k) && ours(k))))];
}

type CellKey = `${BackendId}/${string}`;

/** The keys a cell's expectation is the union of: its revision's default cell, and its what-if cell's own. */
function cellKeys(backend: BackendId, revision: string, whatIf: WhatIfMode | undefined): CellKey[] {
  return whatIf === undefined ? [`${backend}/${revision}`] : [`${backend}/${revision}`, `${backend}/${cellName(revision, whatIf)}`];
}

function listed<T>(table: Readonly<Partial<Record<CellKey, T | readonly T[]>>> | undefined, keys: readonly CellKey[]): T[] {
  return [...new Set(keys.flatMap((k): T[] => {
    const v = table?.[k];
    return v === undefined ? [] : Array.isArray(v) ? [...(v as readonly T[])] : [v as T];
  }))];
}

export function expectation(invariant: string, backend: BackendId, revision: string, whatIf?: WhatIfMode): Expectation {
  const row = ROWS[invariant];
  if (row === undefined) throw new Error(`matrix has no row for invariant ${invariant}`);
  const keys = cellKeys(backend, revision, whatIf);
  // A hugepages cell draws other machines (whole huge folios, their own layouts), where its
  // default cell's bugs are not all as likely: it requires its own, and tolerates those.
  const own = whatIf === 'hugepages' ? keys.slice(1) : keys;
  const inherited = whatIf === 'hugepages' ? listed(row, keys.slice(0, 1)) : [];
  const tolerated = [...new Set([...listed(MAY[invariant], keys), ...inherited])].map((id) => BUGS[id]);
  const excluded = own.flatMap((k) => CANNOT[invariant]?.[k]?.signatures ?? []);
  const ids = listed(row, own);
  if (ids.length === 0) return { verdict: 'holds', tolerated, excluded };
  const bugs = ids.map((id) => BUGS[id]);
  const first = bugs[0];
  if (first === undefined) throw new Error(`matrix cell ${invariant} ${backend}/${cellName(revision, whatIf)} lists no bug`);
  return { verdict: 'violated', bug: first, bugs, tolerated, excluded };
}

/**
 * Every expected (or tolerated) bug a signature belongs to (as signatureMatches() says): those
 * listing it without a wildcard first, then required ones before tolerated ones. Two bugs of a
 * cell can share a signature: on paolo-v1 a page the undo freed (G20) comes back as the next
 * populate's folio and is leaked again, at the same site as G27's second leak of the VMSA.
 */
export function bugsForSignature(e: Expectation, key: SignatureKey | undefined, shownIn?: ShownIn): KnownBug[] {
  if (key === undefined || e.excluded.some((k) => signatureMatches(k, key))) return [];
  // A bug that lists the finding's own row comes before one that covers it by `[*]`: B3's
  // source_addr 0 (T.8) in a hugepages cell is B3's, tolerated there, not B6's.
  const wildcards = (b: KnownBug): number => Math.min(...b.signatures.filter((k) => signatureMatches(k, key)).map((k) => k.split('*').length - 1));
  // And a bug whose label the counterexample does not meet comes last: one that needs a what-if
  // mode for a counterexample that runs without it (B1's leaked kmap made private by the next
  // populate is no-double-private/grantWhileMapped at sev_gmem_post_populate, B6's signature
  // too, but with order-0 folios it is B1's), one that needs a firmware failure for one that
  // takes none (privateStillMapped@snp_launch_update: G4's freed page or B1's kmap).
  const misfit = (b: KnownBug): number => {
    if (shownIn === undefined || b.reach === undefined) return 0;
    if (b.reach.kind === 'what-if' && b.reach.mode !== shownIn.mode) return 1;
    return shownIn.needs !== undefined && !atLeast(b.reach, shownIn.needs) ? 1 : 0;
  };
  return [...(e.verdict === 'violated' ? e.bugs : []), ...e.tolerated]
    .filter((b) => b.signatures.some((k) => signatureMatches(k, key)))
    .filter((b) => creditsPrior(b, key, shownIn?.prior))
    .map((b) => ({ b, w: wildcards(b), m: misfit(b) }))
    .sort((x, y) => x.m - y.m || x.w - y.w)
    .map((x) => x.b);
}

/**
 * The machine a counterexample runs on, when known: its what-if mode (model/whatIf.ts
 * scenarioWhatIf()), or undefined for one the revision's kernel accepts.
 */
export interface ShownIn {
  readonly mode: WhatIfMode | undefined;
  /** What it takes beyond userspace (properties/reach.ts scenarioNeeds()). */
  readonly needs?: readonly Need[];
  /** Finding.prior: what a bug's KnownBug.onlyAfter rules ask for. */
  readonly prior?: PriorShown;
}

/**
 * Whether `b` may be credited with `key` from a counterexample that showed `prior` before it
 * (KnownBug.onlyAfter; undefined: not known, so it may).
 */
export function creditsPrior(b: KnownBug, key: SignatureKey, prior: PriorShown | undefined): boolean {
  return (b.onlyAfter ?? []).every((rule) =>
    !rule.signatures.some((k) => signatureMatches(k, key))
    || prior === undefined
    // A prior no invariant of the search watched cannot have been seen: not asked for.
    || !rule.prior.some((p) => prior.watched.includes(parseSignature(p)?.invariant ?? ''))
    || prior.keys.some((k) => rule.prior.some((p) => signatureMatches(p, k))));
}

/** The bug a signature is reported under: the first of bugsForSignature(). */
export function bugForSignature(e: Expectation, key: SignatureKey | undefined, shownIn?: ShownIn): KnownBug | undefined {
  return bugsForSignature(e, key, shownIn)[0];
}

/**
 * Operations a tolerated consequence (MAY) may take beyond its bug's own bound: the freed page
 * handed out again needs the mmap() that gets it, and a populate after the free that makes the
 * allocator pick it (cca/rme-v12 no-double-private, seed 4: 9 operations against G13's 7).
 */
const CONSEQUENCE_EXTRA_OPS = 2;

/**
 * The most pages a hugepages counterexample may need to ask for: two huge folios, the largest
 * the generators draw being 16 pages (generators/layout.ts, hugeLayoutArb). A bug that shrinks
 * to one page elsewhere may need the folio around it there, and one at a folio boundary a whole
 * folio and a page of the next (tdx/v6.17 [hugepages] B9, seed 26: a page of the second folio
 * populated, then 17 pages from the first folio's start, which meet the second folio marked
 * prepared: 18 pages; neither the folio order nor the populate shrinks alone).
 */
export const HUGE_FOLIO_MAX_PAGES = 32;

/**
 * Operations a default cell's bug may take beyond its bound when a hugepages cell shows it: a
 * huge folio needs a naturally aligned free run of pages, so an earlier allocation (a second
 * guest_memfd's create, memslot and attributes) can decide which pages it gets, and the minimizer
 * cannot drop it (snp/paolo-v1 [hugepages] G21, seed 13: 9 operations against 6 + 2).
 */
const HUGE_EXTRA_OPS = 3;

/** How small a finding of `bug` on a cell must shrink: the bug's bound, or a consequence's. */
export function sizeBound(e: Expectation, bug: KnownBug, whatIf?: WhatIfMode): { readonly maxOps: number; readonly maxPages: number } {
  const required = e.verdict === 'violated' && e.bugs.some((b) => b.id === bug.id);
  const huge = whatIf === 'hugepages';
  const maxPages = huge ? Math.max(bug.maxPages, HUGE_FOLIO_MAX_PAGES) : bug.maxPages;
  return required ? { maxOps: bug.maxOps, maxPages } : { maxOps: bug.maxOps + CONSEQUENCE_EXTRA_OPS + (huge ? HUGE_EXTRA_OPS : 0), maxPages };
}

/**
 * How small a finding of `key` on a cell must shrink: the loosest bound of the required bugs it
 * may be a path of (a signature two bugs share may have come by either's path), or of the
 * tolerated ones when no required bug has it. A tolerated consequence never loosens a required
 * bug's bound.
 */
export function signatureBound(e: Expectation, key: SignatureKey, whatIf?: WhatIfMode): { readonly maxOps: number; readonly maxPages: number } | undefined {
  const all = bugsForSignature(e, key);
  const required = all.filter((b) => e.verdict === 'violated' && e.bugs.includes(b));
  const bounds = (required.length > 0 ? required : all).map((b) => bugBoundFor(e, b, key, whatIf));
  if (bounds.length === 0) return undefined;
  return { maxOps: Math.max(...bounds.map((b) => b.maxOps)), maxPages: Math.max(...bounds.map((b) => b.maxPages)) };
}

/**
 * The size a finding credited to `bug` is held to: its signature's bound, or the credited bug's
 * own bound for that signature where that is larger. A signature two routes reach (B1's leaked
 * kmap, G4's freed page) is held to the route the counterexample took, not only to the required
 * bug's (snp/paolo-v1 privateStillMapped@snp_launch_update under seed 22: G4's 8 operations).
 */
export function findingBound(e: Expectation, key: SignatureKey, bug: KnownBug, whatIf?: WhatIfMode): { readonly maxOps: number; readonly maxPages: number } {
  const own = bugBoundFor(e, bug, key, whatIf);
  const sig = signatureBound(e, key, whatIf);
  return sig === undefined ? own : { maxOps: Math.max(sig.maxOps, own.maxOps), maxPages: Math.max(sig.maxPages, own.maxPages) };
}

/** One bug's bound for one of its signatures: its size bound, widened by its `maxOpsFor`/`maxPagesFor`. */
function bugBoundFor(e: Expectation, bug: KnownBug, key: SignatureKey, whatIf?: WhatIfMode): { readonly maxOps: number; readonly maxPages: number } {
  const size = sizeBound(e, bug, whatIf);
  return { maxOps: Math.max(size.maxOps, bug.maxOpsFor?.[key] ?? 0), maxPages: Math.max(size.maxPages, bug.maxPagesFor?.[key] ?? 0) };
}

/** A cell's signatures set against what the matrix expects of it. */
export interface CellJudgement {
  /** Findings that belong to an expected bug. */
  readonly known: readonly { readonly finding: Finding; readonly bug: KnownBug }[];
  /** Findings no expected bug of the cell explains: new. */
  readonly unexpected: readonly Finding[];
  /** Expected bugs no finding is reported under. */
  readonly missing: readonly KnownBug[];
}

export function judgeAgainst(e: Expectation, findings: readonly Finding[], revision?: Pick<Revision, 'id'> & Partial<Pick<Revision, 'arm' | 'derivedFrom'>>): CellJudgement {
  const known: { finding: Finding; bug: KnownBug }[] = [];
  const unexpected: Finding[] = [];
  for (const f of findings) {
    const shownIn = revision === undefined ? undefined : { mode: scenarioWhatIf(f.counterexample, revision), needs: scenarioNeeds(f.counterexample, revision), prior: f.prior };
    const bug = bugForSignature(e, f.key, shownIn);
    if (bug === undefined) unexpected.push(f);
    else known.push({ finding: f, bug });
  }
  // Credited to the bug each finding is reported under, not to every bug sharing its signature:
  // a shared signature (B6's and B9's wrongErrno) must not hide that one of them is gone.
  const missing = e.verdict === 'violated' ? e.bugs.filter((b) => !known.some((k) => k.bug.id === b.id)) : [];
  return { known, unexpected, missing };
}

export function matrixInvariants(): string[] {
  return Object.keys(ROWS);
}

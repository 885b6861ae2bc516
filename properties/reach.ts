import type { Revision } from '../model/revisions/Revision.js';
import type { Fault, Scenario } from '../model/scenario/Scenario.js';
import { GUEST_MEMFD_FLAG_MMAP } from '../model/kernel/guest_memfd.js';
import { MADV_DONTNEED } from '../model/scenario/userspace.js';
import { scenarioWhatIf, type WhatIfMode } from '../model/whatIf.js';
import { gmemMappingAt } from '../model/world/userspaceMm.js';
import { gmemApiOf } from './oracle/generations.js';

/**
 * What it takes to reach a finding on a real machine. The model can drive every path; a kernel
 * developer weighing a report needs to know whether an unprivileged VMM hits it by itself, or
 * only when firmware fails, when the hardware reports a memory error, under a debug
 * configuration, or in a configuration the kernel of that revision refuses (a what-if mode).
 */
export const REACH_KINDS = ['userspace', 'firmware', 'hardware', 'debug', 'what-if'] as const;
export type ReachKind = (typeof REACH_KINDS)[number];

/** The what-if modes a finding may need: configurations the revision's kernel does not accept (model/whatIf.ts). */
export type WhatIf = WhatIfMode;

/** A bug's declared reachability (properties/bugs.ts), with the reason in words. */
export type Reach =
  | { readonly kind: 'userspace'; readonly how: string }
  | { readonly kind: 'firmware'; readonly how: string }
  /** A hardware memory error (machine check) in a page the path uses: memory_failure(). */
  | { readonly kind: 'hardware'; readonly how: string }
  /** The trigger is reachable, but the damage is visible only under `config` (not modelled). */
  | { readonly kind: 'debug'; readonly config: string; readonly how: string }
  | { readonly kind: 'what-if'; readonly mode: WhatIf; readonly how: string };

/** One thing a scenario needs beyond what a VMM can do by itself. */
export interface Need {
  readonly kind: Exclude<ReachKind, 'userspace'>;
  readonly mode?: WhatIf;
  readonly what: string;
}

/** Strongest last: a finding needing a firmware failure and a what-if mode is a what-if finding. */
const ORDER: readonly ReachKind[] = ['userspace', 'debug', 'hardware', 'firmware', 'what-if'];

export function reachLabel(kind: ReachKind, mode?: WhatIf): string {
  switch (kind) {
    case 'userspace':
      return 'userspace';
    case 'firmware':
      return 'firmware failure';
    case 'hardware':
      return 'hardware error';
    case 'debug':
      return 'debug config';
    case 'what-if':
      return `what-if: ${mode ?? '?'}`;
  }
}

export function declaredLabel(r: Reach): string {
  return reachLabel(r.kind, r.kind === 'what-if' ? r.mode : undefined);
}

/**
 * Firmware conditions a VMM provokes by what it passes: the SNP firmware checks a CPUID page
 * against the CPU's real values and refuses a table it disagrees with (writing the corrected
 * table back), which userspace triggers by supplying any wrong entry (amd-memory-encryption.rst,
 * SNP_LAUNCH_UPDATE: "the firmware will update the CPUID page with the correct values").
 */
const USERSPACE_CONDITIONS: ReadonlySet<string> = new Set(['cpuid_reserved', 'cpuid_table']);

function faultNeed(f: Fault): Need | undefined {
  switch (f.kind) {
    // Another thread unmaps the source while the ioctl runs; a signal is sent; a memory cgroup
    // limit fails the guest_memfd folio charge (page cache is charged to the VMM's memcg).
    case 'gup':
    case 'signal':
      return undefined;
    case 'alloc':
      // A small GFP_KERNEL kmalloc() does not fail in practice ("too small to fail"): only
      // failslab fault injection makes it.
      // The same holds for an xarray's radix-tree node (kmem_cache_alloc(), GFP_KERNEL).
      if (f.site === 'folio') return undefined;
      return { kind: 'debug', what: f.site === 'kmalloc' ? 'a failing kmalloc() (CONFIG_FAILSLAB fault injection)' : 'a failing xarray node allocation (CONFIG_FAILSLAB fault injection)' };
    case 'fw':
      return USERSPACE_CONDITIONS.has(f.condition) ? undefined : { kind: 'firmware', what: `${f.cmd} fails with ${f.condition}` };
  }
}

/**
 * What `scenario` needs on `revision` beyond userspace alone, read off its operations, fault
 * plans and machine. The minimizer drops every fault a finding does not need, so on a shrunk
 * counterexample this is what the finding takes.
 */
export function scenarioNeeds(scenario: Scenario, revision: Pick<Revision, 'id'> & Partial<Pick<Revision, 'arm' | 'derivedFrom' | 'gmemAttributes'>>): Need[] {
  const needs = new Map<string, Need>();
  const add = (n: Need | undefined): void => {
    if (n !== undefined) needs.set(`${n.kind}:${n.what}`, n);
  };
  const untouched = new Set<number>();
  for (const op of scenario.ops) {
    if (op.kind === 'mmap') trackUntouched(untouched, op, scenario.geometry.page_size);
    // MADV_DONTNEED leaves its pages mapping the zero page too (model/scenario/userspace.ts).
    if (op.kind === 'madvise' && op.advice === MADV_DONTNEED) for (let a = op.addr; a < op.addr + op.length; a += scenario.geometry.page_size) untouched.add(Math.floor(a / scenario.geometry.page_size));
    if ('faults' in op) for (const f of op.faults ?? []) add(op.kind === 'snp_launch_update' && untouched.has(Math.floor(op.uaddr / scenario.geometry.page_size)) ? zeroTableNeed(f) ?? faultNeed(f) : faultNeed(f));
    // Also the hwpoison-inject debugfs file (corrupt-pfn, CONFIG_HWPOISON_INJECT, root); a guest_memfd
    // page of a confidential VM is never mapped for MADV_HWPOISON.
    if (op.kind === 'memory_failure') add({ kind: 'hardware', what: 'a memory error in a guest_memfd page (memory_failure())' });
  }
  // The in-place what-if's machine differs from the revision's own in the host fault path on a
  // guest_memfd mapping (it takes the invalidate lock, kernel-facts §1.7, §5.2) and, on a tree
  // before v6.18, in creating a guest_memfd that can be mmap()ed at all.
  // A tree that carries the series' populate (Revision.gmemAttributes) differs besides in its
  // module parameter: a NULL source populates in place, and private memory is the file's own.
  if (scenario.inPlace !== undefined) {
    const a1 = gmemApiOf(revision, false) === 'A1';
    // A populate source in the VMM's mapping of a guest_memfd faults through that path too.
    const inMapping = (uaddr: number): boolean => gmemMappingAt(uaddr, scenario.geometry.page_size) !== undefined;
    const uses = scenario.ops.some((op) => op.kind === 'gmem_user_fault' || op.kind === 'gmem_convert'
      || (op.kind === 'snp_launch_update' && inMapping(op.uaddr)) || (op.kind === 'tdx_init_mem_region' && inMapping(op.source_addr))
      || (op.kind === 'arm_rmi_populate' && inMapping(op.source_uaddr))
      || (a1 && op.kind === 'create_guest_memfd' && (op.flags & BigInt(GUEST_MEMFD_FLAG_MMAP)) !== 0n));
    if (uses) add({ kind: 'what-if', mode: 'in-place', what: 'a guest_memfd mapping of the confidential VM and the in-place fault path' });
    if (revision.gmemAttributes === true) add({ kind: 'what-if', mode: 'in-place', what: 'the in-place series\' module parameter (gmem_in_place_conversion): populate in place, private memory tracked by guest_memfd' });
  }
  // kvm_init_rme() of the RMM v1.0 series accepts only 4K hosts (model/whatIf.ts).
  if (scenarioWhatIf(scenario, revision) === '4k-guard-lifted') {
    add({ kind: 'what-if', mode: '4k-guard-lifted', what: `a ${scenario.cca?.granules_per_page === 4 ? '16K' : '64K'} host, which kvm_init_rme() refuses` });
  }
  if (scenario.hugepages !== undefined) {
    add({ kind: 'what-if', mode: 'hugepages', what: `order-${scenario.hugepages.order} guest_memfd folios, which no merged kernel allocates` });
  }
  return [...needs.values()];
}

/**
 * Pages (user page numbers) that map the zero page, as the mmaps so far left them. A page the
 * kernel or the VMM wrote since is not tracked: the minimizer keeps only what a finding needs.
 */
function trackUntouched(pages: Set<number>, op: Extract<Scenario['ops'][number], { kind: 'mmap' }>, ps: number): void {
  const first = Math.floor(op.addr / ps);
  for (let i = 0; i < op.length / ps; i++) pages.delete(first + i);
  for (const i of op.untouched ?? []) if (!op.holes.includes(i)) pages.add(first + i);
}

/**
 * A CPUID table the firmware refuses, from a source page the VMM never wrote: the table is all
 * zeros (a count of 0), which SNP_LAUNCH_UPDATE accepts: AMD's firmware validates each entry and
 * a count of 0 has none (amd/AMD-ASPFW fw/psp_bl_uapps/sev_uapp/src/cpuid_lookup.c@3ca6650d).
 * So the refusal, and the write-back into the zero page after it, takes a firmware failure.
 */
function zeroTableNeed(f: Fault): Need | undefined {
  if (f.kind !== 'fw' || !USERSPACE_CONDITIONS.has(f.condition)) return undefined;
  return { kind: 'firmware', what: `${f.cmd} refusing an all-zero CPUID table (${f.condition}), which the firmware accepts` };
}

/** The strongest kind among `needs` (userspace when there are none), and its what-if mode. */
export function reachOf(needs: readonly Need[]): { kind: ReachKind; mode?: WhatIf } {
  let kind: ReachKind = 'userspace';
  let mode: WhatIf | undefined;
  for (const n of needs) {
    if (ORDER.indexOf(n.kind) > ORDER.indexOf(kind)) kind = n.kind;
    if (n.mode !== undefined) mode = n.mode;
  }
  return mode === undefined ? { kind } : { kind, mode };
}

/** "userspace alone", or what it needs, in words. */
export function needsText(needs: readonly Need[]): string {
  if (needs.length === 0) return 'userspace alone';
  const byLabel = new Map<string, string[]>();
  for (const n of needs) {
    const label = reachLabel(n.kind, n.mode);
    byLabel.set(label, [...(byLabel.get(label) ?? []), n.what]);
  }
  return [...byLabel].map(([label, what]) => `${label}: ${what.join(', ')}`).join('; ');
}

/**
 * Whether a counterexample takes at least what the bug's label says: one that needs less shows
 * the label is too pessimistic (a "firmware" bug a VMM reaches alone). A debug-configuration
 * bug is reached by userspace; the configuration only makes its damage visible.
 */
export function atLeast(declared: Reach, needs: readonly Need[]): boolean {
  if (declared.kind === 'debug') return true;
  return ORDER.indexOf(reachOf(needs).kind) >= ORDER.indexOf(declared.kind);
}

/** Whether the kind a counterexample needs agrees with the bug's declared reach. */
export function agreesWith(declared: Reach, needs: readonly Need[]): boolean {
  const got = reachOf(needs);
  // The damage of a debug-configuration bug is not modelled: its trigger needs no more than userspace.
  if (declared.kind === 'debug') return got.kind === 'userspace' || got.kind === 'debug';
  return got.kind === declared.kind && (declared.kind !== 'what-if' || got.mode === declared.mode);
}

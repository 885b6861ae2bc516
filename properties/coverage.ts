import { errnoName } from '../model/kernel/errno.js';
import { gmemGupNpages } from '../model/geometry.js';
import { FALLOC_FL_KEEP_SIZE, FALLOC_FL_PUNCH_HOLE } from '../model/kernel/guest_memfd.js';
import { kernelOutcome, type RunObserver } from '../model/scenario/runScenario.js';
import type { Op } from '../model/scenario/Scenario.js';
import { KVM_SEV_SNP_PAGE_TYPE_ZERO } from '../model/backends/snp/uapi.js';
import { TDX_SHARED_BIT } from '../model/backends/tdx/uapi.js';
import { KVM_MEMORY_ATTRIBUTE_PRIVATE, KVM_MEM_GUEST_MEMFD } from '../model/world/kvmState.js';
import { fwUnitSize, type World } from '../model/world/World.js';
import { hostPage } from '../model/world/hostMemory.js';
import { userPfn } from '../model/world/userspaceMm.js';
import { gfnIsPrivate } from '../model/world/privacy.js';
import { U64_MAX } from '../model/kernel/u64.js';
import { gfnFileIndex, gmemUserPage, populatesInPlace } from './views.js';
import { gmemMappingAt } from '../model/world/userspaceMm.js';
import { VmmImage } from './vmmImage.js';

/**
 * Counters of the interesting cases a run reached, so a property can fail when its runs did
 * not reach them (fast-check has no `cover`): operations and their outcomes, source offsets,
 * page counts at the boundaries that matter, every firmware condition met, every injected fault
 * that fired, undefined-behaviour values read.
 */
export type Coverage = Map<string, number>;

export function bump(c: Coverage, key: string, n = 1): void {
  c.set(key, (c.get(key) ?? 0) + n);
}

export function mergeCoverage(into: Coverage, from: Coverage): void {
  for (const [k, v] of from) bump(into, k, v);
}

/**
 * Where a firmware unit sits in its host page: `only` when the page is one unit, else `first`,
 * `last` or `middle`. The three differ in what a rollback has to undo (nothing, every earlier
 * granule, some); the middle positions are alike.
 */
export function unitPosition(addr: number, pageSize: number, unitSize: number): string {
  const n = pageSize / unitSize;
  const i = Math.floor((addr % pageSize) / unitSize);
  return n === 1 ? 'only' : i === 0 ? 'first' : i === n - 1 ? 'last' : 'middle';
}

/**
 * What a syscall fuzzer would send (syzkaller's dev_kvm descriptions of the same calls), as
 * coverage keys: the generators draw these on purpose (generators/ops/common.ts and the
 * backends' op arbitraries) and the requirements hold the runs to reaching them.
 */
export function edgeKeys(op: Op, w: World): string[] {
  const ps = w.geo.page_size;
  const slotOf = (gfn: number) => [...w.kvm.memslots.values()].find((s) => gfn >= s.base_gfn && gfn < s.base_gfn + s.npages);
  switch (op.kind) {
    case 'create_guest_memfd': return [
      ...((op.flags & ~1n) !== 0n ? ['edge:gmem_flags'] : []),
      ...(op.flags >> 32n !== 0n ? ['edge:u64_high_bits'] : []),
      // A size kvm_gmem_create() refuses: 0, not page-aligned, or negative as a loff_t.
      ...(op.size === 0n || op.size % BigInt(ps) !== 0n || op.size >= 1n << 63n ? ['edge:gmem_size'] : []),
    ];
    // madvise() on the VMM's memory, by advice (model/scenario/userspace.ts), and on its mapping
    // of a guest_memfd (model/scenario/gmemMadvise.ts).
    case 'madvise': return [`edge:madvise:${op.advice}`, ...(gmemMappingAt(op.addr, ps) === undefined ? [] : [`edge:madvise_gmem:${op.advice}`])];
    case 'set_memory_attributes': {
      const keys: string[] = [];
      if (op.address % ps !== 0 || op.size % ps !== 0) keys.push('edge:attr_unaligned');
      if (op.size === 0) keys.push('edge:attr_empty');
      if ((op.attributes & ~BigInt(KVM_MEMORY_ATTRIBUTE_PRIVATE)) !== 0n) keys.push('edge:attr_unknown_bits');
      if ((op.attributes | op.flags) >> 32n !== 0n) keys.push('edge:u64_high_bits');
      if (op.size > 0 && slotOf(Math.floor(op.address / ps)) === undefined) keys.push('edge:attr_outside_slots');
      return keys.length > 0 ? [...keys, 'edge:attr'] : keys;
    }
    case 'punch_hole': return op.offset % ps !== 0 || op.len % ps !== 0 || op.len === 0 ? ['edge:punch_unaligned'] : [];
    // KVM_PRE_FAULT_MEMORY while the launch is under way: a valid range (refused for the VM's
    // state, PF.3), or one the generic checks refuse (PF.1, PF.2), and on a private gfn.
    case 'pre_fault_memory': {
      const gpa = op.gpa % BigInt(ps) === 0n && op.gpa < BigInt(Number.MAX_SAFE_INTEGER) ? Number(op.gpa) / ps : undefined;
      const invalid = op.flags !== 0n || op.gpa % BigInt(ps) !== 0n || op.size % BigInt(ps) !== 0n || op.size === 0n || op.gpa + op.size >= 1n << 64n;
      return [
        invalid ? 'edge:pre_fault_invalid' : 'edge:pre_fault_valid',
        ...(gpa !== undefined && gfnIsPrivate(w, gpa) ? ['edge:pre_fault_private'] : []),
      ];
    }
    // A mode guest_memfd refuses (-EOPNOTSUPP): no KEEP_SIZE, or a bit besides KEEP_SIZE and PUNCH_HOLE.
    case 'fallocate': return (op.mode & FALLOC_FL_KEEP_SIZE) === 0 || (op.mode & ~(FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE)) !== 0 ? ['edge:fallocate_mode'] : [];
    case 'set_user_memory_region2': {
      const keys: string[] = [];
      if (op.memory_size > 0 && [...w.kvm.memslots.values()].some((s) => s.id !== op.slot && s.gmem_file === op.guest_memfd && op.guest_memfd !== 0)) keys.push('edge:second_slot_same_gmem');
      if (op.guest_memfd_offset % BigInt(ps) !== 0n) keys.push('edge:gmem_offset_unaligned');
      const f = w.gmem.files.get(op.guest_memfd);
      if (f !== undefined && op.memory_size > 0 && op.guest_memfd_offset + BigInt(op.memory_size) > BigInt(f.size)) keys.push('edge:gmem_offset_past_end');
      // offset + size past 2^63: the loff_t sum of the old kvm_gmem_bind() wraps negative (B15).
      if (op.memory_size > 0 && op.guest_memfd_offset + BigInt(op.memory_size) >= 1n << 63n) keys.push('edge:gmem_offset_loff_overflow');
      // A new slot over another slot's GPA range: kvm_set_memory_region()'s -EEXIST.
      const base = op.guest_phys_addr / ps;
      const npages = op.memory_size / ps;
      if (op.memory_size > 0 && !w.kvm.memslots.has(op.slot) && [...w.kvm.memslots.values()].some((s) => base < s.base_gfn + s.npages && s.base_gfn < base + npages)) keys.push('edge:slot_overlap');
      return keys.some((k) => k.startsWith('edge:gmem_offset')) ? [...keys, 'edge:gmem_offset'] : keys;
    }
    // A populate before the launch step it needs (Scenario.launch): SNP_LAUNCH_START, KVM_TDX_INIT_VCPU.
    case 'snp_launch_update': return [
      ...(![1, 3, 4, 5, 6].includes(op.type) ? ['edge:snp_type_unknown'] : []),
      ...(op.flags !== 0 ? ['edge:snp_flags'] : []),
      // The __u64 fields past 32 bits: a gfn no slot holds, a len past what any slot spans.
      ...(op.gfn_start >> 32n !== 0n ? ['edge:snp_gfn_u64'] : []),
      ...(op.len >> 32n !== 0n ? ['edge:snp_len_u64'] : []),
      // A NULL source for a type that needs one.
      ...(op.uaddr === 0 && op.type !== KVM_SEV_SNP_PAGE_TYPE_ZERO ? ['edge:null_source'] : []),
      ...(w.fw.backend === 'snp' && !w.fw.kernel.snp_context ? ['edge:before_launch'] : []),
      ...(op.arg_readonly === true ? ['edge:arg_readonly'] : []),
    ];
    case 'tdx_init_mem_region': return [
      ...(op.nr_pages === 0n ? ['edge:tdx_nr_pages_0'] : []),
      // `nr_pages << PAGE_SHIFT` past 64 bits: the size the C checks wraps.
      ...(op.nr_pages >> BigInt(64 - Math.log2(ps)) !== 0n ? ['edge:tdx_size_wraps'] : []),
      ...(op.source_addr === 0 ? ['edge:null_source'] : []),
      ...((op.hw_error ?? 0) !== 0 ? ['edge:tdx_hw_error'] : []),
      // Starts below the shared bit and ends past it.
      ...(op.gpa < TDX_SHARED_BIT && BigInt(op.gpa) + op.nr_pages * BigInt(ps) > BigInt(TDX_SHARED_BIT) ? ['edge:tdx_range_shared_end'] : []),
      ...(w.fw.backend === 'tdx' && w.fw.vcpus[op.vcpu ?? 0]?.state !== 'VCPU_TD_STATE_INITIALIZED' ? ['edge:before_launch'] : []),
      ...(op.arg_readonly === true ? ['edge:arg_readonly'] : []),
      // Through the second vCPU's fd: its own state, and every vCPU mutex in the newest guard.
      ...(op.vcpu === 1 ? ['edge:tdx_second_vcpu'] : []),
    ];
    case 'tdx_init_vcpu': return [
      ...((op.hw_error ?? 0) !== 0 || (op.flags ?? 0) !== 0 ? ['edge:tdx_hw_error'] : []),
      ...(op.vcpu === 1 ? ['edge:tdx_second_vcpu_init'] : []),
    ];
    // Past the protected half of the realm's IPA space (BIT(ia_bits - 1)).
    case 'arm_rmi_populate': {
      // base + size as the C's u64 sees it: a sum past 2^64 wraps (armPopulateArb's WRAPPING_SIZE).
      const end = BigInt(op.base) + op.size;
      const limit = w.fw.backend === 'cca' ? 1n << BigInt(w.fw.kernel.ia_bits - 1) : undefined;
      const gfn0 = Math.floor(op.base / ps);
      const slot = slotOf(gfn0);
      const file = slot === undefined ? undefined : w.gmem.files.get(slot.gmem_file);
      return [
        // A base whose guest_memfd index is shared where guest_memfd tracks each index (an
        // INIT_SHARED file on rmi-newest): __kvm_gmem_populate()'s -EINVAL.
        ...(w.kvm.private_tracking === 'guest_memfd' && file !== undefined && !gfnIsPrivate(w, gfn0) ? ['edge:populate_shared_index'] : []),
        ...(end > U64_MAX ? ['edge:populate_range_wraps'] : []),
        ...(limit !== undefined && end <= U64_MAX && end > limit ? ['edge:outside_ipa'] : []),
        // From a memslot's page below the boundary to past it (protectedEdgeSlotArb).
        ...(limit !== undefined && BigInt(op.base) < limit && end <= U64_MAX && end > limit && slot !== undefined ? ['edge:ipa_range_crosses_protected'] : []),
        // A realm whose activation failed after marking it DEAD (rme-v12: a REC page not had).
        ...(w.fw.backend === 'cca' && w.fw.kernel.state === 'REALM_STATE_DEAD' ? ['edge:realm_dead'] : []),
        ...(op.arg_readonly === true ? ['edge:arg_readonly'] : []),
      ];
    }
    default: return [];
  }
}

function poisonedAt(w: World, file: number, index: number): boolean {
  const folio = w.gmem.files.get(file)?.folios.get(index);
  return folio !== undefined && hostPage(w.host, folio.pfn)?.hwpoison === true;
}

export function coverageObserver(c: Coverage): RunObserver {
  let populate: Op | undefined;
  let closed = false;
  let unit = 0;
  const failedIn = new Map<number, number>();
  let launchFailedAt: number | undefined;
  let restoredEarlier = false;
  let inPlace: 'written' | 'untouched' | undefined;
  let gmemSourceFaults = false;
  const image = new VmmImage();
  return {
    opBegin(_i, op, w, backend) {
      bump(c, `op:${op.kind}`);
      for (const key of edgeKeys(op, w)) bump(c, key);
      // A close in the middle: an operation other than the tear-down's other close follows it.
      const isClose = op.kind === 'close_guest_memfd' || op.kind === 'close_vm';
      if (closed && !isClose) bump(c, 'edge:close_mid_scenario');
      closed = closed || isClose;
      unit = fwUnitSize(w);
      failedIn.clear();
      launchFailedAt = undefined;
      restoredEarlier = false;
      if (unit !== w.geo.page_size) bump(c, `units_per_page:${w.geo.page_size / unit}`);
      const req = backend.populateRequest(op, w.geo);
      populate = req === undefined ? undefined : op;
      if (req === undefined) return;
      const ps = w.geo.page_size;
      const gup = gmemGupNpages(w.geo);
      const off = req.src % ps;
      if (req.src !== 0) bump(c, off === 0 ? 'src_offset:0' : 'src_offset:nonzero');
      // A source page the VMM never wrote: the shared zero page (model/kernel/zeroPage.ts).
      if (req.src !== 0 && w.mm.zeroPage !== undefined && userPfn(w.mm, req.src, ps) === w.mm.zeroPage) bump(c, 'src:zero_page');
      if (off === 1) bump(c, 'src_offset:1');
      if (off === ps - 1) bump(c, 'src_offset:PAGE_SIZE-1');
      if (req.npages === 1) bump(c, 'pages:1');
      // Runs past the end of its memslot, into the next one (a second guest_memfd's).
      const from = [...w.kvm.memslots.values()].find((s) => req.gfn_start >= s.base_gfn && req.gfn_start < s.base_gfn + s.npages);
      // A memslot without KVM_MEM_GUEST_MEMFD (kvm_slot_has_gmem() false): populate must refuse it.
      if (from !== undefined && (from.flags & KVM_MEM_GUEST_MEMFD) === 0) bump(c, 'edge:slot_without_gmem');
      if (from !== undefined && req.gfn_start + req.npages > from.base_gfn + from.npages && [...w.kvm.memslots.values()].some((s) => s.base_gfn === from.base_gfn + from.npages)) bump(c, 'edge:populate_crosses_slot');
      if (req.npages === gup - 1) bump(c, 'pages:GMEM_GUP_NPAGES-1');
      if (req.npages === gup) bump(c, 'pages:GMEM_GUP_NPAGES');
      if (req.npages === gup + 1) bump(c, 'pages:GMEM_GUP_NPAGES+1');
      for (const s of w.kvm.memslots.values()) {
        if (req.gfn_start >= s.base_gfn && req.gfn_start + req.npages === s.base_gfn + s.npages) bump(c, 'pages:slot_end');
      }
      // The first page's folio hardware-poisoned (memory_failure()): kvm_gmem_get_pfn()'s -EHWPOISON.
      if (from !== undefined && poisonedAt(w, from.gmem_file, req.gfn_start - from.base_gfn + from.gmem_pgoff)) bump(c, 'edge:populate_poisoned');
      bump(c, `flavour:${req.flavour}`);
      // Populating in place (the in-place series' NULL source), a page the VMM wrote first or not.
      inPlace = populatesInPlace(w, req) ? (image.written(w, req.gfn_start) ? 'written' : 'untouched') : undefined;
      if (inPlace !== undefined) bump(c, 'inplace:null_source');
      // A source in the VMM's mapping of a guest_memfd: already mapped, or faulted in by the
      // populate's own GUP or copy_from_user() (under the invalidate lock, on the old path).
      const gmemSource = req.src === 0 ? undefined : gmemUserPage(w, req.src);
      gmemSourceFaults = gmemSource?.mapped === undefined && gmemSource?.faultable === true;
      if (gmemSource !== undefined) bump(c, gmemSource.mapped !== undefined ? 'src:gmem_mapped' : gmemSource.faultable ? 'src:gmem_fault' : 'src:gmem_unmappable');
    },
    event(e, w) {
      image.event(e);
      if (e.kind === 'fw') {
        const o = e.outcome;
        bump(c, `fw:${e.cmd}:${o.kind === 'failed' ? o.condition : 'ok'}`);
        if (o.kind === 'failed' && o.status === 'RMI_ERROR_RTT') bump(c, `fw:${e.cmd}:${o.condition}:L${o.index}`);
        // The old SNP callback's cleanup loop: after a page of a multi-page call fails, the pages
        // made private before it go back to shared (RMPUPDATE to the hypervisor of another pfn).
        if (e.cmd === 'SNP_LAUNCH_UPDATE' && o.kind === 'failed') launchFailedAt = e.pfn;
        if (e.cmd === 'RMPUPDATE' && o.kind === 'succeeded' && launchFailedAt !== undefined && e.pfn !== launchFailedAt && e.args.endsWith('-> hypervisor')) restoredEarlier = true;
        if (o.kind === 'failed' && e.addr !== 0 && unit !== 0) {
          bump(c, `fw:${e.cmd}:${o.condition}@${unitPosition(e.addr, w.geo.page_size, unit)}`);
          const n = (failedIn.get(e.pfn) ?? 0) + (o.forced ? 1 : 0);
          failedIn.set(e.pfn, n);
          if (o.forced && n === 2) bump(c, 'fw:two injected failures in one page');
        }
      }
      else if (e.kind === 'fault') bump(c, `fault:${e.fault.replace(/ #\d+/, '')}`);
      else if (e.kind === 'uninit_use') bump(c, `ub:${e.site}=${e.value}`);
      else if (e.kind === 'warn') bump(c, `warn:${e.macro}`);
    },
    opEnd(result, w, backend) {
      // A source page the populate itself faulted in from a guest_memfd mapping, loaded.
      if (populate !== undefined && gmemSourceFaults) {
        const done = kernelOutcome(result);
        if (backend.populatedCount(result.op, done.ret, done.out, w.geo.page_size) > 0) bump(c, 'src:gmem_fault_loaded');
      }
      // A page the VMM wrote, loaded in place: the first page of the call populated.
      if (populate !== undefined && inPlace === 'written') {
        const done = kernelOutcome(result);
        if (backend.populatedCount(result.op, done.ret, done.out, w.geo.page_size) > 0) bump(c, 'inplace:loaded_written');
      }
      image.opEnd(result.op, w, backend);
      if (result.op.kind === 'fallocate' || result.op.kind === 'pre_fault_memory') bump(c, `ret:${result.op.kind}:${errnoName(result.ret)}`);
      if (populate === undefined) return;
      bump(c, `ret:${result.op.kind}:${errnoName(result.ret)}`);
      // The struct in a read-only mapping, and the copy back reached (S1.19, S2.10, T.16, RN.12).
      if (result.lost !== undefined) bump(c, 'edge:copy_back_fault');
      if (restoredEarlier) bump(c, 'huge:snp_cleanup_restored_earlier_pages');
      // The hugepages what-if: a populate whose first page sits in a huge folio, and one asking
      // for fewer pages than that folio holds (B6's WARN, B9's partial marking).
      const req = backend.populateRequest(populate, w.geo);
      const at = req === undefined ? undefined : gfnFileIndex(w, req.gfn_start);
      const folio = at === undefined ? undefined : w.gmem.files.get(at.file)?.folios.get(at.index);
      if (req !== undefined && folio !== undefined && folio.order > 0) {
        bump(c, 'huge:populate_in_huge_folio');
        if (req.npages < 2 ** folio.order) bump(c, 'huge:populate_part_of_folio');
        if (folio.order > w.geo.pmd_order) bump(c, 'huge:folio_larger_than_GMEM_GUP_NPAGES');
        // A whole folio asked for from its first page: the only populate for which the old order
        // loop (paolo-v1 to v6.17) hands post_populate an order above 0.
        const nr = 2 ** folio.order;
        if (at !== undefined && req.gfn_start % nr === 0 && at.index % nr === 0 && req.npages >= nr) bump(c, 'huge:populate_whole_folio');
      }
    },
  };
}

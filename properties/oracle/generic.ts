import { EBUSY, EEXIST, EFAULT, EINTR, EINVAL, ENOMEM, EOPNOTSUPP } from '../../model/kernel/errno.js';
import { u64_add } from '../../model/kernel/u64.js';
import { FALLOC_FL_KEEP_SIZE, FALLOC_FL_PUNCH_HOLE, GUEST_MEMFD_FLAG_MMAP } from '../../model/kernel/guest_memfd.js';
import type { BackendId, Op } from '../../model/scenario/Scenario.js';
import { KVM_MEMORY_ATTRIBUTE_PRIVATE, KVM_MEM_GUEST_MEMFD } from '../../model/world/kvmState.js';
import { GUEST_MEMFD_FLAG_INIT_SHARED } from '../../model/world/privacy.js';
import type { World } from '../../model/world/World.js';
import type { GmemApi } from './generations.js';
import { GENERIC, PRE_FAULT, TDX_LAUNCH, type Row } from './rows.js';
import { firmwareMappings, type FirmwareMapping } from '../views.js';

/**
 * The VM ioctls around populate, where the document (api.rst §4.140-4.142, A1/A2) states a
 * result the model can express: KVM_SET_MEMORY_ATTRIBUTES (MA.*), KVM_CREATE_GUEST_MEMFD (G.*),
 * KVM_SET_USER_MEMORY_REGION2 with a guest_memfd (M.1, M.3-M.6) and fallocate() in its punch-hole
 * and allocate modes (FA.*); and TDX's launch steps, KVM_TDX_INIT_VCPU and KVM_TDX_FINALIZE_VM
 * (TV.*, TF.*, intel-tdx.rst); and KVM_PRE_FAULT_MEMORY while the launch is under way (PF.*). Each prediction is exact: a return value (or "a new fd") and, on success, the state the
 * document promises, checked on the world after the call.
 *
 * Left out: the in-place trees' attributes (A3, rmi-newest: the VM ioctl does not exist there,
 * and KVM_SET_MEMORY_ATTRIBUTES2 is not modelled).
 */
export interface GenericPrediction {
  readonly ioctl: string;
  readonly row: Row;
  /** Allowed return values; `fd`: a new file descriptor (> 0). */
  readonly ret: readonly number[] | 'fd';
  /** On success: what the document promises of the world after the call, or a description of how it differs. */
  readonly after?: (w: World) => string | undefined;
  /**
   * The errnos an injected fault may turn the call into. Without it, a call that suffered a
   * fault is judged on nothing; with it, a call that suffered one returns one of these, or
   * succeeds with `after` holding all the same.
   */
  readonly underFault?: readonly number[];
}

/** `preFault`: the tree has KVM_PRE_FAULT_MEMORY (generations.ts hasPreFaultMemory()). */
export function predictGeneric(op: Op, w: World, backend: BackendId, gmemApi: GmemApi, preFault = true): GenericPrediction | undefined {
  const ps = w.geo.page_size;
  switch (op.kind) {
    case 'set_memory_attributes': {
      if (w.kvm.private_tracking !== 'vm-attributes') return undefined;
      const ioctl = 'KVM_SET_MEMORY_ATTRIBUTES';
      // Both are u64s: the document's "must be 0" and "supported attributes" cover all 64 bits.
      if (op.flags !== 0n) return { ioctl, row: GENERIC['MA.2'], ret: [-EINVAL] };
      if ((op.attributes & ~BigInt(KVM_MEMORY_ATTRIBUTE_PRIVATE)) !== 0n) return { ioctl, row: GENERIC['MA.3'], ret: [-EINVAL] };
      const attributes = Number(op.attributes);
      if (op.size <= 0 || op.address + op.size < op.address) return { ioctl, row: GENERIC['MA.4'], ret: [-EINVAL] };
      if (op.address % ps !== 0 || op.size % ps !== 0) return { ioctl, row: GENERIC['MA.5'], ret: [-EINVAL] };
      const start = op.address / ps;
      const end = start + op.size / ps;
      const noop = rangeHas(w.kvm.attributes, start, end, attributes);
      return {
        ioctl, row: GENERIC[noop ? 'MA.6' : 'MA.1'], ret: [0],
        after(wa) {
          for (let g = start; g < end; g++) {
            const got = wa.kvm.attributes.get(g) ?? 0;
            if (got !== attributes) return `gfn ${g} has attributes ${got}, not ${attributes}`;
          }
          return undefined;
        },
      };
    }
    case 'create_guest_memfd': {
      const ioctl = 'KVM_CREATE_GUEST_MEMFD';
      // flags is a u64 (every bit counts); size is a u64 the document calls "size in bytes" and the
      // code reads as loff_t: above 2^63 - 1 it is negative, so invalid (G.3).
      if (gmemApi === 'A1' && op.flags !== 0n) return { ioctl, row: GENERIC['G.6'], ret: [-EINVAL] };
      if ((op.flags & ~BigInt(GUEST_MEMFD_FLAG_MMAP | GUEST_MEMFD_FLAG_INIT_SHARED)) !== 0n) return { ioctl, row: GENERIC['G.2'], ret: [-EINVAL] };
      if ((op.flags & BigInt(GUEST_MEMFD_FLAG_INIT_SHARED)) !== 0n) return backend === 'cca' ? undefined : { ioctl, row: GENERIC['G.5'], ret: [-EINVAL] };
      if (op.size <= 0n || op.size >= 1n << 63n || op.size % BigInt(ps) !== 0n) return { ioctl, row: GENERIC['G.3'], ret: [-EINVAL] };
      return { ioctl, row: GENERIC['G.1'], ret: 'fd' };
    }
    case 'set_user_memory_region2': {
      const ioctl = 'KVM_SET_USER_MEMORY_REGION2';
      // Only the guest_memfd creation of a new slot with otherwise valid arguments is judged.
      if (op.flags !== KVM_MEM_GUEST_MEMFD || op.memory_size <= 0 || op.slot < 0 || op.slot >= 32 || w.kvm.destroyed) return undefined;
      // Every path through an existing slot id refuses a guest_memfd slot with -EINVAL.
      if (w.kvm.memslots.has(op.slot)) return { ioctl, row: GENERIC['M.6'], ret: [-EINVAL] };
      if (op.memory_size % ps !== 0 || op.guest_phys_addr % ps !== 0 || op.userspace_addr % ps !== 0) return undefined;
      const file = w.gmem.files.get(op.guest_memfd);
      if (file === undefined || !file.fdOpen || file.released) return undefined;
      const npages = op.memory_size / ps;
      const base = op.guest_phys_addr / ps;
      // Exact arithmetic: neither the u64 sum nor the kernel's loff_t may wrap past the file's end.
      const offsetBad = op.guest_memfd_offset % BigInt(ps) !== 0n || op.guest_memfd_offset + BigInt(op.memory_size) > BigInt(file.size);
      const overlaps = [...w.kvm.memslots.values()].some((s) => base < s.base_gfn + s.npages && s.base_gfn < base + npages);
      // The code checks the offset's alignment before the overlap and its bound after (note §7 "Order"): judge one failure at a time.
      if (offsetBad && overlaps) return undefined;
      if (overlaps) return { ioctl, row: GENERIC['M.5'], ret: [-EEXIST] };
      if (offsetBad) return { ioctl, row: GENERIC['M.4'], ret: [-EINVAL] };
      const first = Number(op.guest_memfd_offset / BigInt(ps));
      // The document's -EINVAL, or the -EEXIST kvm-x86 chose since (both generations are modelled).
      for (let i = first; i < first + npages; i++) if (file.bindings.has(i)) return { ioctl, row: GENERIC['M.3'], ret: [-EINVAL, -EEXIST] };
      return {
        ioctl, row: GENERIC['M.1'], ret: [0],
        // An xarray node that cannot be allocated: -ENOMEM, never a 0 over an unbound range.
        underFault: [-ENOMEM],
        after(wa) {
          const s = wa.kvm.memslots.get(op.slot);
          if (s === undefined || s.base_gfn !== base || s.npages !== npages || s.gmem_file !== op.guest_memfd || s.gmem_pgoff !== first) return `slot ${op.slot} is not [gfn ${base}, +${npages}) bound at page ${first}`;
          const f = wa.gmem.files.get(op.guest_memfd);
          for (let i = first; i < first + npages; i++) if (f?.bindings.get(i) !== op.slot) return `guest_memfd page ${i} is not bound to slot ${op.slot}`;
          return undefined;
        },
      };
    }
    case 'tdx_init_vcpu': {
      if (w.fw.backend !== 'tdx') return undefined;
      const ioctl = 'KVM_TDX_INIT_VCPU';
      const t = w.fw;
      if ((op.flags ?? 0) !== 0 || (op.hw_error ?? 0) !== 0) return { ioctl, row: TDX_LAUNCH['TV.2'], ret: [-EINVAL] };
      if (t.kvm_tdx.state === 'TD_STATE_RUNNABLE') return { ioctl, row: TDX_LAUNCH['TV.4'], ret: [-EINVAL] };
      const id = op.vcpu ?? 0;
      if (t.vcpus[id]?.state !== 'VCPU_TD_STATE_UNINITIALIZED') return { ioctl, row: TDX_LAUNCH['TV.3'], ret: [-EINVAL] };
      // Only that vCPU: another's state stays as it was.
      const others = t.vcpus.map((v) => v.state);
      return {
        ioctl, row: TDX_LAUNCH['TV.1'], ret: [0],
        after: (wa) => {
          if (wa.fw.backend !== 'tdx') return 'not a TD';
          if (wa.fw.vcpus[id]?.state !== 'VCPU_TD_STATE_INITIALIZED') return `vCPU ${id} is not initialized`;
          const changed = wa.fw.vcpus.findIndex((v, i) => i !== id && v.state !== others[i]);
          return changed < 0 ? undefined : `vCPU ${changed} changed state too`;
        },
      };
    }
    case 'pre_fault_memory':
      return predictPreFault(op, w, backend, preFault);
    case 'tdx_finalize_vm': {
      if (w.fw.backend !== 'tdx') return undefined;
      const ioctl = 'KVM_TDX_FINALIZE_VM';
      if (w.fw.kvm_tdx.state === 'TD_STATE_RUNNABLE') return { ioctl, row: TDX_LAUNCH['TF.2'], ret: [-EINVAL] };
      if (w.fw.kvm_tdx.nr_premapped !== 0) return { ioctl, row: TDX_LAUNCH['TF.3'], ret: [-EINVAL] };
      return {
        ioctl, row: TDX_LAUNCH['TF.1'], ret: [0],
        // A contended TDH.MR.FINALIZE (a fault plan): -EBUSY and the TD still open.
        underFault: [-EBUSY],
        after: (wa) => (wa.fw.backend === 'tdx' && wa.fw.kvm_tdx.state === 'TD_STATE_RUNNABLE' ? undefined : 'the TD is not runnable'),
      };
    }
    case 'punch_hole':
      return predictFallocate({ ...op, mode: FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE }, w);
    case 'fallocate':
      return predictFallocate(op, w);
    default:
      return undefined;
  }
}

/** fallocate() on a guest_memfd: the punch-hole and allocate modes, and the modes it refuses. */
function predictFallocate(op: Pick<Extract<Op, { kind: 'fallocate' }>, 'guest_memfd' | 'mode' | 'offset' | 'len'>, w: World): GenericPrediction | undefined {
  const ps = w.geo.page_size;
  const punch = (op.mode & FALLOC_FL_PUNCH_HOLE) !== 0;
  const ioctl = punch ? 'fallocate(PUNCH_HOLE)' : 'fallocate()';
  const file = w.gmem.files.get(op.guest_memfd);
  if (file === undefined || !file.fdOpen) return undefined;
  if (op.len <= 0) return { ioctl, row: GENERIC['FA.2'], ret: [-EINVAL] };
  if ((op.mode & FALLOC_FL_KEEP_SIZE) === 0 || (op.mode & ~(FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE)) !== 0) return { ioctl, row: GENERIC['FA.4'], ret: [-EOPNOTSUPP] };
  if (op.offset % ps !== 0 || op.len % ps !== 0) return { ioctl, row: GENERIC['FA.2'], ret: [-EINVAL] };
  const start = op.offset / ps;
  const end = start + op.len / ps;
  if (punch) {
    // The hole's gfns (through the file's bindings) and the pages of its folios: only firmware
    // mappings of those may change. SNP's RMP is indexed by pfn and may hold a stale GPA (a page
    // leaked and reused, G4), so a mapping counts as inside if either end of it is.
    const gfns = new Set<number>();
    const pfns = new Set<number>();
    // Over what is bound or cached, not the range itself: a hole may reach far past the file's end.
    for (const [i, id] of file.bindings) {
      const slot = w.kvm.memslots.get(id);
      if (i >= start && i < end && slot !== undefined) gfns.add(slot.base_gfn + i - slot.gmem_pgoff);
    }
    for (const [i, folio] of file.folios) if (i >= start && i < end) for (let p = 0; p < 2 ** folio.order; p++) pfns.add(folio.pfn + p);
    const outside = (ms: FirmwareMapping[]) => new Set(ms.filter((m) => !gfns.has(m.gfn) && !pfns.has(m.pfn)).map((m) => m.text));
    const before = outside(firmwareMappings(w));
    return {
      ioctl, row: GENERIC['FA.5'], ret: [0],
      after(wa) {
        const f = wa.gmem.files.get(op.guest_memfd);
        const left = [...(f?.folios.keys() ?? [])].filter((i) => i >= start && i < end);
        if (left.length > 0) return `folio(s) at ${left.join(', ')} still in the page cache`;
        // A hole in [offset, offset + len) unmaps nothing else (FA.5: "deallocates" that range).
        const now = outside(firmwareMappings(wa));
        const gone = [...before].filter((t) => !now.has(t));
        const added = [...now].filter((t) => !before.has(t));
        if (gone.length > 0) return `a firmware mapping outside the hole is gone: ${gone[0] ?? ''}`;
        if (added.length > 0) return `a firmware mapping outside the hole appeared: ${added[0] ?? ''}`;
        return undefined;
      },
    };
  }
  if (op.offset + op.len > file.size) return { ioctl, row: GENERIC['FA.3'], ret: [-EINVAL] };
  return {
    // A folio that cannot be had, or a signal, stops the loop with what it made kept. A tree
    // whose allocation prepares the folio (paolo-v1's kvm_gmem_get_folio(prepare) ->
    // kvm_gmem_prepare_folio(), 06/11 lore 20240404185034.3184582-7-pbonzini@redhat.com) returns
    // sev_gmem_prepare()'s -EINVAL for a failed RMPUPDATE (Roth's SNP series v15 13/20, lore
    // 20240501085210.2213060-14-michael.roth@amd.com); its -ENOENT for a failed RMP lookup is
    // left out: the model's lookup fails only for a pfn outside memory. The document is silent.
    ioctl, row: GENERIC['FA.1'], ret: [0], underFault: [-ENOMEM, -EINTR, -EINVAL],
    after(wa) {
      const f = wa.gmem.files.get(op.guest_memfd);
      const missing: number[] = [];
      for (let i = start; i < end; i++) if (f?.folios.has(i) !== true) missing.push(i);
      return missing.length === 0 ? undefined : `no folio at ${missing.join(', ')} in the page cache`;
    },
  };
}

/**
 * Whether every gfn of [start, end) has `attributes` in `kvm->mem_attr_array` (absent = 0), in
 * time bounded by the entries stored rather than by the range: a range of any size a u64 allows
 * is answered without walking it (a range larger than the entries cannot all be set).
 */
export function rangeHas(stored: ReadonlyMap<number, number>, start: number, end: number, attributes: number): boolean {
  if (attributes === 0) return ![...stored].some(([g, a]) => g >= start && g < end && a !== 0);
  if (end - start > stored.size) return false;
  for (let g = start; g < end; g++) if (stored.get(g) !== attributes) return false;
  return true;
}

/**
 * KVM_PRE_FAULT_MEMORY around populate (PF.*): before the launch is finished nothing is mapped
 * whatever the call, so every answer leaves the firmware's mappings and guest_memfd's folios as
 * they were. None once the launch is finished (PF.6, not modelled).
 */
function predictPreFault(op: Extract<Op, { kind: 'pre_fault_memory' }>, w: World, backend: BackendId, preFault: boolean): GenericPrediction | undefined {
  if (backend === 'cca') return undefined;
  const ioctl = 'KVM_PRE_FAULT_MEMORY';
  const snapshot = (wa: World) => [...firmwareMappings(wa).map((m) => m.text), ...[...wa.gmem.files.values()].map((f) => `gmem ${f.id}: ${f.folios.size} folio(s)`)];
  const before = snapshot(w);
  const unchanged = (wa: World): string | undefined => {
    const now = snapshot(wa);
    const changed = now.find((t) => !before.includes(t)) ?? before.find((t) => !now.includes(t));
    return changed === undefined ? undefined : `the call changed what the guest or guest_memfd holds: ${changed}`;
  };
  if (!preFault) return { ioctl, row: PRE_FAULT['PF.5'], ret: [-EINVAL], after: unchanged };
  const finished = w.fw.backend === 'snp' ? w.fw.guest.snp_state === 'GSTATE_RUNNING' : w.fw.backend === 'tdx' && w.fw.kvm_tdx.state === 'TD_STATE_RUNNABLE';
  if (finished) return undefined;
  const readOnly = op.arg_readonly === true;
  const refused = (row: Row, errno: number): GenericPrediction => ({ ioctl, row: readOnly ? PRE_FAULT['PF.4'] : row, ret: [readOnly ? -EFAULT : errno], after: unchanged });
  if (op.flags !== 0n) return refused(PRE_FAULT['PF.1'], -EINVAL);
  const ps = BigInt(w.geo.page_size);
  if (op.gpa % ps !== 0n || op.size % ps !== 0n || u64_add(op.gpa, op.size) <= op.gpa) return refused(PRE_FAULT['PF.2'], -EINVAL);
  // A pending signal is checked before each page: -EINTR in place of the refusal.
  return { ...refused(PRE_FAULT['PF.3'], -EOPNOTSUPP), underFault: [readOnly ? -EFAULT : -EINTR] };
}

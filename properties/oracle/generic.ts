import { EEXIST, EINVAL } from '../../model/kernel/errno.js';
import { GUEST_MEMFD_FLAG_MMAP } from '../../model/kernel/guest_memfd.js';
import type { BackendId, Op } from '../../model/scenario/Scenario.js';
import { KVM_MEMORY_ATTRIBUTE_PRIVATE, KVM_MEM_GUEST_MEMFD } from '../../model/world/kvmState.js';
import { GUEST_MEMFD_FLAG_INIT_SHARED } from '../../model/world/privacy.js';
import type { World } from '../../model/world/World.js';
import { GENERIC, type Row } from './rows.js';

/**
 * The VM ioctls around populate, where the document (api.rst §4.140-4.142, A1/A2) states a
 * result the model can express: KVM_SET_MEMORY_ATTRIBUTES (MA.*), KVM_CREATE_GUEST_MEMFD (G.*),
 * KVM_SET_USER_MEMORY_REGION2 with a guest_memfd (M.1, M.4, M.5) and fallocate(PUNCH_HOLE)
 * (FA.*). Each prediction is exact: a return value (or "a new fd") and, on success, the state the
 * document promises, checked on the world after the call.
 *
 * Left out: the in-place trees' attributes (A3, rmi-newest: the VM ioctl does not exist there,
 * and KVM_SET_MEMORY_ATTRIBUTES2 is not modelled), a bound guest_memfd range (M.3) and a modified
 * guest_memfd slot (M.6), which the document and code answer with -EINVAL and the model with
 * -EEXIST (reported as a model disagreement, not judged).
 */
export interface GenericPrediction {
  readonly ioctl: string;
  readonly row: Row;
  /** Allowed return values; `fd`: a new file descriptor (> 0). */
  readonly ret: readonly number[] | 'fd';
  /** On success: what the document promises of the world after the call, or a description of how it differs. */
  readonly after?: (w: World) => string | undefined;
}

export function predictGeneric(op: Op, w: World, backend: BackendId): GenericPrediction | undefined {
  const ps = w.geo.page_size;
  switch (op.kind) {
    case 'set_memory_attributes': {
      if (w.kvm.private_tracking !== 'vm-attributes') return undefined;
      const ioctl = 'KVM_SET_MEMORY_ATTRIBUTES';
      if (op.flags !== 0) return { ioctl, row: GENERIC['MA.2'], ret: [-EINVAL] };
      if ((op.attributes & ~KVM_MEMORY_ATTRIBUTE_PRIVATE) !== 0) return { ioctl, row: GENERIC['MA.3'], ret: [-EINVAL] };
      if (op.size <= 0 || op.address + op.size < op.address) return { ioctl, row: GENERIC['MA.4'], ret: [-EINVAL] };
      if (op.address % ps !== 0 || op.size % ps !== 0) return { ioctl, row: GENERIC['MA.5'], ret: [-EINVAL] };
      const start = op.address / ps;
      const end = start + op.size / ps;
      const noop = Array.from({ length: end - start }, (_x, i) => start + i).every((g) => (w.kvm.attributes.get(g) ?? 0) === op.attributes);
      return {
        ioctl, row: GENERIC[noop ? 'MA.6' : 'MA.1'], ret: [0],
        after(wa) {
          for (let g = start; g < end; g++) {
            const got = wa.kvm.attributes.get(g) ?? 0;
            if (got !== op.attributes) return `gfn ${g} has attributes ${got}, not ${op.attributes}`;
          }
          return undefined;
        },
      };
    }
    case 'create_guest_memfd': {
      const ioctl = 'KVM_CREATE_GUEST_MEMFD';
      if ((op.flags & ~(GUEST_MEMFD_FLAG_MMAP | GUEST_MEMFD_FLAG_INIT_SHARED)) !== 0) return { ioctl, row: GENERIC['G.2'], ret: [-EINVAL] };
      if ((op.flags & GUEST_MEMFD_FLAG_INIT_SHARED) !== 0) return backend === 'cca' ? undefined : { ioctl, row: GENERIC['G.5'], ret: [-EINVAL] };
      if (op.size <= 0 || op.size % ps !== 0) return { ioctl, row: GENERIC['G.3'], ret: [-EINVAL] };
      return { ioctl, row: GENERIC['G.1'], ret: 'fd' };
    }
    case 'set_user_memory_region2': {
      const ioctl = 'KVM_SET_USER_MEMORY_REGION2';
      // Only the guest_memfd creation of a new slot with otherwise valid arguments is judged.
      if (op.flags !== KVM_MEM_GUEST_MEMFD || op.memory_size <= 0 || op.slot < 0 || op.slot >= 32) return undefined;
      if (op.memory_size % ps !== 0 || op.guest_phys_addr % ps !== 0 || op.userspace_addr % ps !== 0) return undefined;
      if (w.kvm.memslots.has(op.slot) || w.kvm.destroyed) return undefined;
      const file = w.gmem.files.get(op.guest_memfd);
      if (file === undefined || !file.fdOpen || file.released) return undefined;
      const npages = op.memory_size / ps;
      const base = op.guest_phys_addr / ps;
      const offsetBad = op.guest_memfd_offset < 0 || op.guest_memfd_offset % ps !== 0 || op.guest_memfd_offset + op.memory_size > file.size;
      const overlaps = [...w.kvm.memslots.values()].some((s) => base < s.base_gfn + s.npages && s.base_gfn < base + npages);
      // The code checks the offset's alignment before the overlap and its bound after (note §7 "Order"): judge one failure at a time.
      if (offsetBad && overlaps) return undefined;
      if (overlaps) return { ioctl, row: GENERIC['M.5'], ret: [-EEXIST] };
      if (offsetBad) return { ioctl, row: GENERIC['M.4'], ret: [-EINVAL] };
      const first = op.guest_memfd_offset / ps;
      for (let i = first; i < first + npages; i++) if (file.bindings.has(i)) return undefined; // M.3: not judged
      return {
        ioctl, row: GENERIC['M.1'], ret: [0],
        after(wa) {
          const s = wa.kvm.memslots.get(op.slot);
          if (s === undefined || s.base_gfn !== base || s.npages !== npages || s.gmem_file !== op.guest_memfd || s.gmem_pgoff !== first) return `slot ${op.slot} is not [gfn ${base}, +${npages}) bound at page ${first}`;
          const f = wa.gmem.files.get(op.guest_memfd);
          for (let i = first; i < first + npages; i++) if (f?.bindings.get(i) !== op.slot) return `guest_memfd page ${i} is not bound to slot ${op.slot}`;
          return undefined;
        },
      };
    }
    case 'punch_hole': {
      const ioctl = 'fallocate(PUNCH_HOLE)';
      const file = w.gmem.files.get(op.guest_memfd);
      if (file === undefined || !file.fdOpen) return undefined;
      if (op.offset % ps !== 0 || op.len % ps !== 0 || op.len <= 0) return { ioctl, row: GENERIC['FA.2'], ret: [-EINVAL] };
      const start = op.offset / ps;
      const end = start + op.len / ps;
      return {
        ioctl, row: GENERIC['FA.5'], ret: [0],
        after(wa) {
          const f = wa.gmem.files.get(op.guest_memfd);
          const left = [...(f?.folios.keys() ?? [])].filter((i) => i >= start && i < end);
          return left.length === 0 ? undefined : `folio(s) at ${left.join(', ')} still in the page cache`;
        },
      };
    }
    default:
      return undefined;
  }
}

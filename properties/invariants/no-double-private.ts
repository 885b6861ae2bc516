import { defineInvariant } from '../Invariant.js';
import { hostPage } from '../../model/world/hostMemory.js';
import { userMapCount } from '../views.js';

/**
 * A pfn is handed to the guest only while the host holds no access to it, and only once:
 * never granted while it is already the guest's (private twice: on SNP an RMPUPDATE of an
 * assigned entry silently drops its validated state), never granted while kmapped, GUP-pinned
 * or mapped in the user mm, and never read or written by the host while the guest owns it
 * (an RMP #PF on SNP, poison on TDX). `sev_gmem_post_populate`'s RMP look-up and
 * `kvm_gmem_populate`'s ordering (copy, unmap, then make private) exist for this.
 *
 * Under in-place conversion (model/kernel/inplace_series.ts) the guest_memfd itself says which
 * indices are the guest's: the VMM's mapping of the file must never map a private index (a host
 * fault that checked shareability and then mapped the page after a conversion to private: the
 * TOCTOU of B20), and a conversion to private must never leave one mapped. Judged at the event,
 * so a concurrent run is judged at every step.
 */
export const noDoublePrivate = defineInvariant({
  id: 'no-double-private',
  description: 'Forbid making a page private twice or while the host still maps, pins or accesses it',
  cites: [
    'kvm-x86/linux:arch/x86/kvm/svm/sev.c@1a27afa0 (sev_gmem_post_populate: snp_lookup_rmpentry before rmp_make_private)',
    'torvalds/linux:arch/x86/kvm/svm/sev.c@0097f9df (preconditions comment in snp_launch_update)',
  ],
  observes: ['fw', 'mem_read', 'mem_write', 'gmem_pte', 'shareability'],
  messages: {
    privateTwice: '{cmd} hands pfn {pfn} to the guest at gpa {gpa} but it already is the guest\'s ({state})',
    grantWhileMapped: '{cmd} hands pfn {pfn} to the guest while the host still has {what}',
    hostAccessPrivate: 'host {access} of pfn {pfn} (+{offset}, {len} bytes, via {via}) while the guest owns it ({state})',
    privateStillMapped: 'pfn {pfn} is the guest\'s ({state}) at ioctl return but the host still has {what}',
    hostMapsPrivate: 'the VMM\'s mapping of guest_memfd {file} now maps index {index} (pfn {pfn}), which is private',
    convertedWhileMapped: 'guest_memfd {file} index {index} became private while the VMM\'s mapping still maps it (pfn {pfn})',
  },
  create: () => {
    // A page left private and mapped stays so: reported once, by the operation that left it.
    const stillMapped = new Set<number>();
    return {
    event(e, w, backend, report) {
      if (e.kind === 'gmem_pte') {
        if (e.action === 'map' && w.gmem.files.get(e.file)?.shareability.get(e.index) === 'private') report('hostMapsPrivate', { file: e.file, index: e.index, pfn: e.pfn });
        return;
      }
      if (e.kind === 'shareability') {
        const f = w.gmem.files.get(e.file);
        if (e.to !== 'private' || f === undefined) return;
        for (let index = e.start; index < e.end; index++) {
          const pfn = f.hostMapped.get(index);
          if (pfn !== undefined) report('convertedWhileMapped', { file: e.file, index, pfn });
        }
        return;
      }
      if (e.kind === 'fw' && e.outcome.kind === 'succeeded' && e.grantGpa !== null) {
        const owner = backend.ownershipAt(w, e.addr);
        if (owner.kind === 'guest') report('privateTwice', { cmd: e.cmd, pfn: e.pfn, gpa: owner.gpa, state: owner.state });
        const p = hostPage(w.host, e.pfn);
        const maps = userMapCount(w).get(e.pfn) ?? 0;
        if (p !== undefined && p.kmaps > 0) report('grantWhileMapped', { cmd: e.cmd, pfn: e.pfn, what: `${p.kmaps} kmap_local mapping(s)` });
        if (p !== undefined && p.gupRefs > 0) report('grantWhileMapped', { cmd: e.cmd, pfn: e.pfn, what: `${p.gupRefs} GUP pin(s)` });
        if (maps > 0) report('grantWhileMapped', { cmd: e.cmd, pfn: e.pfn, what: 'a user mapping' });
        return;
      }
      if ((e.kind === 'mem_read' || e.kind === 'mem_write') && e.via !== 'firmware') {
        const owner = backend.ownership(w, e.pfn);
        if (owner.kind !== 'host') {
          report('hostAccessPrivate', { access: e.kind === 'mem_read' ? 'read' : 'write', pfn: e.pfn, offset: e.offset, len: e.len, via: e.via, state: owner.state });
        }
      }
    },
    opEnd(_r, w, backend, report) {
      const maps = userMapCount(w);
      for (const p of w.host.pages) {
        if (p.kmaps === 0 && p.gupRefs === 0 && !maps.has(p.pfn)) continue;
        const owner = backend.ownership(w, p.pfn);
        if (owner.kind === 'host') continue;
        const what = p.kmaps > 0 ? 'a kmap_local mapping' : p.gupRefs > 0 ? 'a GUP pin' : 'a user mapping';
        if (stillMapped.has(p.pfn)) continue;
        stillMapped.add(p.pfn);
        report('privateStillMapped', { pfn: p.pfn, state: owner.state, what });
      }
    },
    };
  },
});

import { defineInvariant } from '../Invariant.js';
import { gfnIsPrivate } from '../../model/world/privacy.js';
import { hostPage } from '../../model/world/hostMemory.js';

/**
 * A GPA may only be populated as private memory if userspace set KVM_MEMORY_ATTRIBUTE_PRIVATE
 * on it first: "It is required that the GPA ranges initialized by this command have had the
 * KVM_MEMORY_ATTRIBUTE_PRIVATE attribute set in advance" (amd-memory-encryption.rst; the same
 * for TDX in intel-tdx.rst). Otherwise the guest would fault on memory KVM maps as shared.
 * Checked at the moment the firmware hands the page to the guest. A kernel page KVM gives the
 * firmware for its own use (an SNP vCPU's VMSA, at INITIAL_VMSA_GPA) is not guest memory.
 */
export const privateAttributePrecondition = defineInvariant({
  id: 'private-attribute-precondition',
  description: 'Forbid populating a GPA that lacks KVM_MEMORY_ATTRIBUTE_PRIVATE',
  cites: [
    'Documentation/virt/kvm/x86/amd-memory-encryption.rst (KVM_SEV_SNP_LAUNCH_UPDATE)',
    'torvalds/linux:virt/kvm/guest_memfd.c@01f492e1 (__kvm_gmem_populate: kvm_range_has_memory_attributes)',
  ],
  observes: ['fw'],
  messages: {
    notPrivate: '{cmd} gives pfn {pfn} to the guest at gfn {gfn}, whose attributes are {attrs} (not PRIVATE)',
  },
  create: () => ({
    event(e, w, _backend, report) {
      if (e.kind !== 'fw' || e.outcome.kind !== 'succeeded' || e.grantGpa === null) return;
      if (hostPage(w.host, e.pfn)?.owner.kind === 'kernel') return;
      const gfn = Math.floor(e.grantGpa / w.geo.page_size);
      if (!gfnIsPrivate(w, gfn)) report('notPrivate', { cmd: e.cmd, pfn: e.pfn, gfn, attrs: w.kvm.private_tracking === 'vm-attributes' ? String(w.kvm.attributes.get(gfn) ?? 0) : 'shared in guest_memfd' });
    },
  }),
});

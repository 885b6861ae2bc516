import { EFAULT } from '../../kernel/errno.js';
import { currentSite, emit, type World } from '../../world/World.js';
import { hostPage, isValidPfn } from '../../world/hostMemory.js';
import { findVma } from '../../world/userspaceMm.js';
import { invokeFirmware, type FirmwareCommand } from '../firmwareCommand.js';
import { allocPage, pageRefDec } from '../../kernel/pages.js';
import { nextFault } from '../../kernel/faults.js';
import type { KvmMemorySlot } from '../../kernel/services/kvmcore.js';
import type { PagePtrArray } from '../../kernel/services/slab.js';
import { FOLL_WRITE } from '../../kernel/services/gup.js';
import { ccaOf } from './access.js';
import { RMI_DATA_CREATE, type DataCreateArgs } from './rmi/RMI_DATA_CREATE.js';
import { RMI_DATA_DESTROY, RMI_RTT_DATA_UNMAP } from './rmi/RMI_DATA_DESTROY.js';
import { RMI_GRANULE_DELEGATE } from './rmi/RMI_GRANULE_DELEGATE.js';
import { RMI_GRANULE_RANGE_DELEGATE, RMI_GRANULE_RANGE_UNDELEGATE } from './rmi/RMI_GRANULE_RANGE.js';
import { RMI_GRANULE_UNDELEGATE } from './rmi/RMI_GRANULE_UNDELEGATE.js';
import { RMI_REALM_ACTIVATE, RMI_REALM_CREATE, RMI_REALM_DESTROY } from './rmi/RMI_REALM.js';
import { RMI_RTT_CREATE } from './rmi/RMI_RTT_CREATE.js';
import { RMI_RTT_DATA_MAP_INIT } from './rmi/RMI_RTT_DATA_MAP_INIT.js';
import type { CcaState } from './state.js';
import { RMI_STATUS } from './uapi.js';

/**
 * The RMI SMC wrappers of arch/arm64/include/asm/rmi_cmds.h (RMM 1.0) and
 * include/linux/arm-rmi-cmds.h (RMM 2.0), returning the RMI status word as the C does
 * (status in bits 7:0, index in 15:8), plus the arm64 helpers the populate paths call.
 */
export interface CcaServices {
  rmi_granule_delegate(phys: number): number;
  rmi_granule_undelegate(phys: number): number;
  rmi_data_create(rd: number, data: number, ipa: number, src: number, flags: number): number;
  /** `data_out` receives the destroyed data granule's PA. */
  rmi_data_destroy(rd: number, ipa: number, data_out: { value: number } | null): number;
  rmi_rtt_create(rd: number, rtt: number, ipa: number, level: number): number;
  rmi_realm_create(rd: number): number;
  rmi_realm_activate(rd: number): number;
  rmi_realm_destroy(rd: number): number;
  /** RMM 2.0: rmi_delegate_range(phys, PAGE_SIZE, NULL). */
  rmi_delegate_page(phys: number): number;
  rmi_undelegate_page(phys: number): number;
  rmi_rtt_data_map_init(rd: number, data: number, ipa: number, src: number, flags: number): number;
  rmi_rtt_data_unmap(rd: number, ipa: number, data_out: { value: number } | null): number;
  /** `struct realm` of the VM: the kernel's state, RD PA, IPA bits. */
  kvm_realm(kvm: unknown): CcaState['kernel'] & { readonly rd: number };
  set_realm_state(kvm: unknown, state: CcaState['kernel']['state']): void;
  kvm_is_realm(kvm: unknown): boolean;
  /** The RTT pages of the realm's stage 2 (what realm_destroy_rtts() walks). */
  realm_rtt_granules(kvm: unknown): number[];
  RMM_PAGE_SIZE(): number;
  /** __get_free_page(GFP_KERNEL): a kernel page's PA, or 0. */
  __get_free_page_phys(what: string): number;
  free_page_phys(phys: number): void;
  /**
   * A __get_free_page() whose page the model does not keep (its owner's life is not modelled):
   * only whether the fault plan lets it succeed.
   */
  __get_free_page_untracked(what: string): boolean;
  /** gfn_to_hva_memslot(). */
  gfn_to_hva_memslot(slot: KvmMemorySlot, gfn: number): number;
  /**
   * vma_lookup(current->mm, addr): mtree_load() under its own RCU read lock, with no lock
   * assertion (unlike find_vma_intersection()). Unlocked, the answer may be stale by the time
   * the caller acts on it, which a later GUP (taking mmap_lock itself) checks again.
   */
  vma_lookup(addr: number): boolean;
  /** __kvm_faultin_pfn(slot, gfn, flags, &writable, &page): GUP of the shared HVA; pfn or -EFAULT. */
  __kvm_faultin_pfn(slot: KvmMemorySlot, gfn: number, flags: number, page: PagePtrArray): number;
  kvm_release_page_clean(page: number): void;
}

export function ccaServices(w: World, gup: (start: number, nr: number, flags: number, pages: PagePtrArray) => number): CcaServices {
  const ps = w.geo.page_size;
  const rmi = <A, R>(cmd: FirmwareCommand<A, R>, args: A): number => {
    const r = invokeFirmware(w, cmd, args);
    return r.kind === 'succeeded' ? 0 : (RMI_STATUS[r.status] ?? 0xff) | (r.index << 8);
  };
  const rmiOut = <A>(cmd: FirmwareCommand<A, number>, args: A, out: { value: number } | null): number => {
    const r = invokeFirmware(w, cmd, args);
    if (r.kind !== 'succeeded') return (RMI_STATUS[r.status] ?? 0xff) | (r.index << 8);
    if (out !== null) out.value = r.result;
    return 0;
  };
  const data = (rd: number, d: number, ipa: number, src: number, flags: number): DataCreateArgs => ({ rd, data: d, ipa, src, flags });
  return {
    rmi_granule_delegate: (addr) => rmi(RMI_GRANULE_DELEGATE, { addr }),
    rmi_granule_undelegate: (addr) => rmi(RMI_GRANULE_UNDELEGATE, { addr }),
    rmi_data_create: (rd, d, ipa, src, flags) => rmi(RMI_DATA_CREATE, data(rd, d, ipa, src, flags)),
    rmi_data_destroy: (rd, ipa, out) => rmiOut(RMI_DATA_DESTROY, { rd, ipa }, out),
    rmi_rtt_create: (rd, rtt, ipa, level) => rmi(RMI_RTT_CREATE, { rd, rtt, ipa, level }),
    rmi_realm_create: (rd) => rmi(RMI_REALM_CREATE, { rd }),
    rmi_realm_activate: (rd) => rmi(RMI_REALM_ACTIVATE, { rd }),
    rmi_realm_destroy: (rd) => rmi(RMI_REALM_DESTROY, { rd }),
    rmi_delegate_page: (addr) => rmi(RMI_GRANULE_RANGE_DELEGATE, { addr }),
    rmi_undelegate_page: (addr) => rmi(RMI_GRANULE_RANGE_UNDELEGATE, { addr }),
    rmi_rtt_data_map_init: (rd, d, ipa, src, flags) => rmi(RMI_RTT_DATA_MAP_INIT, data(rd, d, ipa, src, flags)),
    rmi_rtt_data_unmap: (rd, ipa, out) => rmiOut(RMI_RTT_DATA_UNMAP, { rd, ipa }, out),
    kvm_realm: () => ({ ...ccaOf(w).kernel, rd: ccaOf(w).realm.rd }),
    set_realm_state(_kvm, state) {
      const s = ccaOf(w);
      emit(w, { kind: 'fw_state', what: 'kvm realm', key: 'state', before: s.kernel.state, after: state });
      s.kernel.state = state;
    },
    kvm_is_realm: () => w.fw.backend === 'cca',
    realm_rtt_granules: () => [...ccaOf(w).granules].filter(([, st]) => st === 'RTT').map(([pa]) => pa),
    RMM_PAGE_SIZE: () => ccaOf(w).granule_size,
    __get_free_page_phys(what) {
      if (nextFault(w, 'alloc:kmalloc') !== undefined) return 0;
      const p = allocPage(w, { kind: 'kernel', what });
      return p === undefined ? 0 : p.pfn * ps;
    },
    __get_free_page_untracked: () => nextFault(w, 'alloc:kmalloc') === undefined,
    // free_page(phys_to_virt(phys)): PA 0 is the model's "no page" (a failed __get_free_page()),
    // which frees nothing; any other PA that is no host page (an unset or PHYS_ADDR_MAX out_rtt,
    // say) is a page struct at a wild address.
    free_page_phys(phys) {
      if (phys === 0) return;
      const pfn = Math.floor(phys / ps);
      if (!isValidPfn(w.host, pfn)) {
        emit(w, { kind: 'bad_access', what: 'wild_pointer', detail: `free_page() of PA 0x${phys.toString(16)}, no host page`, site: currentSite(w) });
        return;
      }
      const p = hostPage(w.host, pfn);
      if (p !== undefined) pageRefDec(w, p, 'free_page');
    },
    gfn_to_hva_memslot: (slot, gfn) => slot.userspace_addr + (gfn - slot.base_gfn) * ps,
    vma_lookup(addr) {
      return findVma(w.mm, addr) !== undefined;
    },
    __kvm_faultin_pfn(slot, gfn, flags, page) {
      const hva = slot.userspace_addr + (gfn - slot.base_gfn) * ps;
      const n = gup(hva, 1, flags & FOLL_WRITE, page);
      return n === 1 ? page.at(0) : -EFAULT;
    },
    kvm_release_page_clean(page) {
      const p = hostPage(w.host, page);
      if (p !== undefined) pageRefDec(w, p, 'put_page');
    },
  };
}

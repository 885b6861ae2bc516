import { emit } from '../../../world/World.js';
import { defineFirmwareCommand } from '../../firmwareCommand.js';
import { tdxOf } from '../access.js';

/**
 * TDH.MEM.RANGE.BLOCK of one 4K private leaf (`intel/tdx-module@1666adc4`): the S-EPT entry stops
 * translating, and records the TLB epoch its removal must wait for (TDH.MEM.TRACK). A leaf that
 * was never added (FREE) is refused as an entry in the wrong state, with the GPA operand (RCX):
 * (assumed) that status from KVM's own reading of it before v6.19, tdx_is_sept_zap_err_due_to_premap()
 * in kernelorg-mirror/virt_kvm_kvm:arch/x86/kvm/vmx/tdx.c@6249af4632166284e82033226a1679e38cb3e6e8.
 */
export interface RangeBlockArgs {
  readonly gfn: number;
}

export const TDH_MEM_RANGE_BLOCK = defineFirmwareCommand<RangeBlockArgs, void>({
  name: 'TDH.MEM.RANGE.BLOCK',
  spec: 'Intel TDX module 1.5 ABI (intel/tdx-module@1666adc4)',
  failures: [
    { id: 'tdr_busy', status: 'TDX_OPERAND_BUSY' },
    { id: 'sept_entry_state', status: 'TDX_EPT_ENTRY_STATE_INCORRECT|TDX_OPERAND_ID_RCX', when: (a, w) => !tdxOf(w).module.sept.has(a.gfn) },
    { id: 'already_blocked', status: 'TDX_GPA_RANGE_ALREADY_BLOCKED', when: (a, w) => tdxOf(w).module.blocked.has(a.gfn) },
  ],
  success: (a, w) => {
    const m = tdxOf(w).module;
    m.blocked.set(a.gfn, m.epoch);
    emit(w, { kind: 'fw_state', what: 'sept', key: `gfn 0x${a.gfn.toString(16)}`, before: `mapped pfn 0x${(m.sept.get(a.gfn) ?? 0).toString(16)}`, after: 'blocked' });
  },
  describe: (a) => `gfn 0x${a.gfn.toString(16)}`,
});

import type { MeasureEntry } from '../../world/events.js';

/**
 * TDX state: KVM's side (`struct kvm_tdx`, the mirror page table, vCPU state) and the TDX
 * module's (TD op state, S-EPT leaves, PAMT ownership, MRTD).
 */
export interface TdxState {
  readonly backend: 'tdx';
  readonly kvm_tdx: {
    state: 'TD_STATE_INITIALIZED' | 'TD_STATE_RUNNABLE';
    /** Non-owning pointer to the source page of an in-flight PAGE.ADD, or 0. */
    page_add_src: number;
    readonly hkid_assigned: boolean;
    /**
     * v6.16 .. v6.18 only: mirror SPTEs set before the TD is runnable whose TDH.MEM.PAGE.ADD has
     * not happened yet (`atomic64_t nr_premapped`); tdx_td_finalize() refuses while non-zero.
     */
    nr_premapped: number;
  };
  /**
   * Each vCPU's `struct vcpu_tdx`, by vcpu_id (Scenario.vcpus): KVM_TDX_INIT_VCPU makes it
   * VCPU_TD_STATE_INITIALIZED.
   */
  readonly vcpus: readonly TdxVcpuState[];
  /** KVM's mirror SPTEs: gfn → pfn. */
  readonly mirror: Map<number, number>;
  readonly module: {
    op_state: 'OP_STATE_INITIALIZED' | 'OP_STATE_RUNNABLE';
    /** S-EPT leaves the module has mapped: gfn → pfn. */
    readonly sept: Map<number, number>;
    /** PAMT: pfn → gfn of TD-owned private pages. */
    readonly pamt: Map<number, number>;
    /** Blocked S-EPT leaves: gfn → the TLB epoch they were blocked in. */
    readonly blocked: Map<number, number>;
    /** The TD's TLB epoch (TDH.MEM.TRACK advances it). */
    epoch: number;
    /** Pages removed from the TD whose cache lines under its HKID are not written back yet. */
    readonly unflushed: Set<number>;
    readonly mrtd: MeasureEntry[];
  };
}

/** `struct vcpu_tdx`'s state. */
export interface TdxVcpuState {
  state: 'VCPU_TD_STATE_UNINITIALIZED' | 'VCPU_TD_STATE_INITIALIZED';
}

/**
 * `started`: the scenario begins after KVM_TDX_INIT_VCPU on vCPU 0 (Scenario.launch absent);
 * a second vCPU (`nr_vcpus` 2) begins uninitialized.
 */
export function createTdxState(started = true, nr_vcpus = 1): TdxState {
  return {
    backend: 'tdx',
    kvm_tdx: { state: 'TD_STATE_INITIALIZED', page_add_src: 0, hkid_assigned: true, nr_premapped: 0 },
    vcpus: Array.from({ length: nr_vcpus }, (_v, id): TdxVcpuState => ({ state: started && id === 0 ? 'VCPU_TD_STATE_INITIALIZED' : 'VCPU_TD_STATE_UNINITIALIZED' })),
    mirror: new Map(),
    module: { op_state: 'OP_STATE_INITIALIZED', sept: new Map(), pamt: new Map(), blocked: new Map(), epoch: 0, unflushed: new Set(), mrtd: [] },
  };
}

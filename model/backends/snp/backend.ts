import type { Impl } from '../../kernel/bind.js';
import type { GmemArchHooks } from '../../kernel/guest_memfd.js';
import { hashBytes } from '../../world/hash.js';
import type { BackendModel } from '../Backend.js';
import type { FirmwareCommand } from '../firmwareCommand.js';
import { snpOf } from './access.js';
import { RMPUPDATE } from './firmware/RMPUPDATE.js';
import { SNP_LAUNCH_FINISH } from './firmware/SNP_LAUNCH_FINISH.js';
import { SNP_LAUNCH_UPDATE } from './firmware/SNP_LAUNCH_UPDATE.js';
import { SNP_PAGE_RECLAIM } from './firmware/SNP_PAGE_RECLAIM.js';
import { snpServices } from './services.js';
import { sevCommon, type SnpK } from './sev.js';
import { sevVmsa } from './sev_vmsa.js';
import { bindKernel } from '../../kernel/bind.js';
import { gmemCommon } from '../../kernel/guest_memfd.js';
import { inPlaceWhatIf } from '../../kernel/inplace_series.js';
import { kernelServiceGroups } from '../../kernel/Kernel.js';
import { kvmMain, type KvmMainK } from '../../kernel/kvm_main.js';
import { preFaultMemory, x86PreFaultMemory, type PreFaultMemoryFns } from '../../kernel/pre_fault_memory.js';
import { KVM } from '../../kernel/services/kvmcore.js';
import { u64AtMost, u64ToGfn } from '../../kernel/u64.js';
import { createSnpState, rmpEntry, rmpStateName } from './state.js';
import {
  INITIAL_VMSA_GPA, KVM_SEV_SNP_PAGE_TYPE_CPUID, KVM_SEV_SNP_PAGE_TYPE_NORMAL, KVM_SEV_SNP_PAGE_TYPE_VMSA, KVM_SEV_SNP_PAGE_TYPE_ZERO, SVM_VCPU0, snpPageTypeName,
  type KvmSevSnpLaunchUpdate, type UserStructRef,
} from './uapi.js';

/** The /dev/sev fd userspace passes in `kvm_sev_cmd.sev_fd`. */
const SEV_FD = 3;

/** SNP's guest_memfd arch hooks: folio free makes the RMP entry shared; no NPT zap is modelled. */
const snpArchHooks: Impl<GmemArchHooks, SnpK & GmemArchHooks> = {
  kvm_arch_gmem_invalidate: (k, start, end) => k.sev_gmem_invalidate(start, end),
  kvm_mmu_unmap_gfn_range: () => undefined,
  // arch/x86/kvm/x86.c (v6.18+): `!kvm_arch_has_private_mem(kvm)`, false for every VM modelled.
  kvm_arch_supports_gmem_init_shared: () => false,
};

/**
 * The params as userspace reads them back, as numbers (as TDX's region): `gfn_start` starts below
 * 2^53 whenever a slot took it and moves only by the pages populated, so stays exact; a `len`
 * past 2^53 (a fuzzer's, or one a wrong count wrapped) rounds, as the oracle's `fields` does with
 * the same value, so the two still compare equal.
 */
function paramsOut(p: KvmSevSnpLaunchUpdate): Record<string, number> {
  return { gfn_start: Number(p.gfn_start), uaddr: p.uaddr, len: Number(p.len), type: p.type, flags: p.flags };
}

export const snpBackend: BackendModel = {
  id: 'snp',
  title: 'AMD SEV-SNP (KVM_SEV_SNP_LAUNCH_UPDATE)',
  createState: (scenario) => createSnpState(scenario.launch !== 'not_started'),
  boot(w, revision) {
    const k = bindKernel<SnpK & KvmMainK & GmemArchHooks & PreFaultMemoryFns>(w, [...kernelServiceGroups(w), snpServices(w)], [gmemCommon, kvmMain, preFaultMemory, x86PreFaultMemory, sevCommon, sevVmsa, snpArchHooks, revision.fns, ...inPlaceWhatIf(w)]);
    // KVM_CREATE_VCPU before the scenario: vCPU 0 and its VMSA page.
    k.sev_vcpu_create(SVM_VCPU0);
    return {
      k,
      // kvm_destroy_vm() -> kvm_destroy_vcpus() -> sev_free_vcpu().
      destroyVm: () => k.sev_free_vcpu(SVM_VCPU0),
      runOp(op) {
        if (op.kind === 'snp_launch_update') {
          const data: UserStructRef<KvmSevSnpLaunchUpdate> = { tag: 'kvm_sev_snp_launch_update', value: { gfn_start: op.gfn_start, uaddr: op.uaddr, len: op.len, type: op.type, flags: op.flags }, readOnly: op.arg_readonly === true };
          const argp = { data, error: 0, sev_fd: SEV_FD };
          const ret = k.sev_mem_enc_ioctl(KVM, { id: 'KVM_SEV_SNP_LAUNCH_UPDATE', argp });
          // Every generation's snp_launch_update() copies the params back only after
          // kvm_gmem_populate() succeeded, so a faulted copy back followed a result of 0.
          const lost = data.lost === undefined ? {} : { lost: { ret: 0, out: { ...paramsOut(data.lost), error: argp.error } } };
          return { ret, out: { ...paramsOut(data.value), error: argp.error }, ...lost };
        }
        if (op.kind === 'snp_launch_start') {
          const argp = { data: { tag: 'kvm_sev_snp_launch_start', value: {} }, error: 0, sev_fd: SEV_FD };
          const ret = k.sev_mem_enc_ioctl(KVM, { id: 'KVM_SEV_SNP_LAUNCH_START', argp });
          return { ret, out: { error: argp.error } };
        }
        if (op.kind === 'snp_launch_finish') {
          const argp = { data: { tag: 'kvm_sev_snp_launch_finish', value: {} }, error: 0, sev_fd: SEV_FD };
          const ret = k.sev_mem_enc_ioctl(KVM, { id: 'KVM_SEV_SNP_LAUNCH_FINISH', argp });
          return { ret, out: { error: argp.error } };
        }
        return undefined;
      },
    };
  },
  firmware: [SNP_LAUNCH_UPDATE, SNP_PAGE_RECLAIM, RMPUPDATE, SNP_LAUNCH_FINISH] as readonly FirmwareCommand<never, unknown>[],
  ops: ['snp_launch_start', 'snp_launch_update', 'snp_launch_finish'],
  populateRequest(op, { page_size: ps, nr_host_pages }) {
    if (op.kind !== 'snp_launch_update') return undefined;
    return {
      gfn_start: u64ToGfn(op.gfn_start),
      npages: u64AtMost(op.len / BigInt(ps), nr_host_pages),
      src: op.type === KVM_SEV_SNP_PAGE_TYPE_ZERO ? 0 : op.uaddr,
      flavour: snpPageTypeName(op.type),
      may_write_source: op.type === KVM_SEV_SNP_PAGE_TYPE_CPUID,
    };
  },
  populatedCount(op, ret, out) {
    if (op.kind !== 'snp_launch_update' || ret !== 0) return 0;
    return (out.gfn_start ?? Number(op.gfn_start)) - Number(op.gfn_start);
  },
  ownership(w, pfn) {
    const e = rmpEntry(snpOf(w), pfn);
    return e.assigned ? { kind: 'guest', gpa: e.gpa, state: rmpStateName(e) } : { kind: 'host' };
  },
  ownershipAt(w, pa) {
    return this.ownership(w, Math.floor(pa / w.geo.page_size));
  },
  measurement: (w) => snpOf(w).guest.ld,
  // LAUNCH_FINISH measures each vCPU's VMSA at INITIAL_VMSA_GPA (one vCPU is modelled).
  otherMeasurement: (op) => (op.kind === 'snp_launch_finish' ? [{ what: `SNP_LAUNCH_UPDATE ${snpPageTypeName(KVM_SEV_SNP_PAGE_TYPE_VMSA)}`, gpa: INITIAL_VMSA_GPA }] : []),
  expectedMeasurement(req, gfn, source, w) {
    const ps = w.geo.page_size;
    const contents = req.flavour === snpPageTypeName(KVM_SEV_SNP_PAGE_TYPE_NORMAL) ? hashBytes(source) : '';
    return [{ what: `SNP_LAUNCH_UPDATE ${req.flavour}`, gpa: gfn * ps, contents }];
  },
  leakedByDesign: (w) => snpOf(w).kernel.leaked,
};

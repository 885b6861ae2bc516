import { match } from 'ts-pattern';
import { EBADF, EIO, ENOTTY } from '../kernel/errno.js';
import { bindKernel } from '../kernel/bind.js';
import { gmemCommon, FALLOC_FL_KEEP_SIZE, FALLOC_FL_PUNCH_HOLE } from '../kernel/guest_memfd.js';
import { kernelServices } from '../kernel/Kernel.js';
import { kvmMain } from '../kernel/kvm_main.js';
import { KVM } from '../kernel/services/kvmcore.js';
import { MM_LOCK } from '../kernel/services/locking.js';
import { snpServices } from '../backends/snp/services.js';
import { sevCommon } from '../backends/snp/sev.js';
import type { KvmSevSnpLaunchUpdate } from '../backends/snp/uapi.js';
import { tdxServices } from '../backends/tdx/services.js';
import { tdxCommon } from '../backends/tdx/tdx.js';
import { VCPU0, type KvmTdxInitMemRegion } from '../backends/tdx/uapi.js';
import type { BackendModel } from '../backends/Backend.js';
import { backendById } from '../backends/registry.js';
import { geometryProblem } from '../geometry.js';
import type { Revision, X86K } from '../revisions/Revision.js';
import { emit, createWorld, type World } from '../world/World.js';
import type { Event } from '../world/events.js';
import type { Op, Scenario } from './Scenario.js';
import { userMmap, userMunmap } from './userspace.js';

/** What an operation returned to userspace: the ioctl's return value and written-back fields. */
export interface OpResult {
  readonly index: number;
  readonly op: Op;
  readonly ret: number;
  readonly out: Readonly<Record<string, number>>;
}

/** Watches a run: called before each operation, on every event, and after each operation. */
export interface RunObserver {
  opBegin?(index: number, op: Op, w: World, backend: BackendModel): void;
  event?(e: Event, w: World): void;
  opEnd?(result: OpResult, w: World, backend: BackendModel): void;
}

export interface RunOptions {
  readonly observers?: readonly RunObserver[];
  /** Log every kernel call (for printed traces). */
  readonly traceCalls?: boolean;
  /** Checked after each operation: stop the run early. */
  readonly stop?: () => boolean;
}

export interface RunResult {
  readonly world: World;
  readonly results: readonly OpResult[];
}

/** A scenario that cannot run at all (bad geometry, a backend the revision lacks). */
export class ScenarioError extends Error {}

type RunK = X86K & Record<string, unknown>;

function buildKernel(w: World, backend: BackendModel, revision: Revision): RunK {
  const services = [kernelServices(w), snpServices(w), tdxServices(w), backend.services(w)];
  const k = bindKernel<RunK>(w, services, [gmemCommon, kvmMain, sevCommon, tdxCommon, backend.archHooks, revision.fns]);
  w.hooks = { free_folio: (pfn) => k.kvm_gmem_free_folio(pfn) };
  return k;
}

const VM_IOCTLS: readonly Op['kind'][] = [
  'set_user_memory_region2', 'set_memory_attributes', 'snp_launch_update', 'snp_launch_finish',
  'tdx_init_mem_region', 'tdx_finalize_vm', 'create_guest_memfd',
];

function execOp(k: RunK, w: World, backend: BackendModel, op: Op): { ret: number; out: Record<string, number> } {
  const plain = (ret: number) => ({ ret, out: {} });
  if (VM_IOCTLS.includes(op.kind)) {
    if (w.kvm.vm_fd_closed) return plain(-EBADF);
    // kvm_vm_ioctl()/kvm_vcpu_ioctl(): a bugged (dead) VM refuses everything.
    if (w.kvm.vm_bugged) return plain(-EIO);
  }
  if ((op.kind.startsWith('snp_') || op.kind.startsWith('tdx_')) && !backend.ops.includes(op.kind)) return plain(-ENOTTY);
  return match(op)
    .with({ kind: 'create_guest_memfd' }, (o) => plain(k.kvm_gmem_create(KVM, o.size, o.flags)))
    .with({ kind: 'set_user_memory_region2' }, (o) => plain(k.kvm_vm_ioctl_set_memory_region(KVM, o)))
    .with({ kind: 'set_memory_attributes' }, (o) => plain(k.kvm_vm_ioctl_set_mem_attributes(KVM, o)))
    .with({ kind: 'mmap' }, (o) => plain(userMmap(w, o.addr, o.length, o.prot, o.holes)))
    .with({ kind: 'munmap' }, (o) => plain(userMunmap(w, o.addr, o.length)))
    .with({ kind: 'snp_launch_update' }, (o) => {
      const data = { tag: 'kvm_sev_snp_launch_update', value: { gfn_start: o.gfn_start, uaddr: o.uaddr, len: o.len, type: o.type, flags: o.flags } satisfies KvmSevSnpLaunchUpdate };
      const argp = { data, error: 0, sev_fd: 3 };
      const ret = k.sev_mem_enc_ioctl(KVM, { id: 'KVM_SEV_SNP_LAUNCH_UPDATE', argp });
      return { ret, out: { ...data.value, error: argp.error } };
    })
    .with({ kind: 'snp_launch_finish' }, () => {
      const argp = { data: { tag: 'kvm_sev_snp_launch_finish', value: {} }, error: 0, sev_fd: 3 };
      const ret = k.sev_mem_enc_ioctl(KVM, { id: 'KVM_SEV_SNP_LAUNCH_FINISH', argp });
      return { ret, out: { error: argp.error } };
    })
    .with({ kind: 'tdx_init_mem_region' }, (o) => {
      const data = { tag: 'kvm_tdx_init_mem_region', value: { source_addr: o.source_addr, gpa: o.gpa, nr_pages: o.nr_pages } satisfies KvmTdxInitMemRegion };
      const ret = k.tdx_vcpu_unlocked_ioctl(VCPU0, { id: 'KVM_TDX_INIT_MEM_REGION', flags: o.flags, data, hw_error: 0 });
      return { ret, out: { ...data.value } };
    })
    .with({ kind: 'tdx_finalize_vm' }, () => plain(k.tdx_td_finalize(KVM)))
    .with({ kind: 'punch_hole' }, (o) => {
      if (!w.gmem.files.get(o.guest_memfd)?.fdOpen) return plain(-EBADF);
      return plain(k.kvm_gmem_fallocate(o.guest_memfd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, o.offset, o.len));
    })
    .with({ kind: 'gmem_user_fault' }, (o) => {
      if (!w.gmem.files.get(o.guest_memfd)?.fdOpen) return plain(-EBADF);
      // do_user_addr_fault() holds mmap_lock for read around vm_ops->fault.
      k.mmap_read_lock(MM_LOCK);
      const ret = k.kvm_gmem_fault_user_mapping(o.guest_memfd, Math.floor(o.offset / w.geo.page_size));
      k.mmap_read_unlock(MM_LOCK);
      return plain(ret);
    })
    .with({ kind: 'close_guest_memfd' }, (o) => {
      const f = w.gmem.files.get(o.guest_memfd);
      if (f === undefined || !f.fdOpen) return plain(-EBADF);
      f.fdOpen = false;
      k.fput(o.guest_memfd);
      return plain(0);
    })
    .with({ kind: 'close_vm' }, () => {
      if (w.kvm.vm_fd_closed) return plain(-EBADF);
      w.kvm.vm_fd_closed = true;
      return plain(0);
    })
    .exhaustive();
}

/**
 * After an operation: files whose last reference went are released (__fput runs as task work
 * on return to userspace), and a VM whose fd is closed is destroyed once no guest_memfd pins it.
 */
function afterOp(k: RunK, w: World): void {
  for (const f of w.gmem.files.values()) {
    if (f.refcount === 0 && !f.released) {
      f.released = true;
      k.kvm_gmem_release(f.id);
    }
  }
  if (w.kvm.vm_fd_closed && !w.kvm.destroyed && [...w.gmem.files.values()].every((f) => f.released)) {
    w.kvm.destroyed = true;
    for (const s of [...w.kvm.memslots.values()]) k.memslot_delete(s.id);
    emit(w, { kind: 'note', text: 'kvm_destroy_vm()' });
  }
}

export function runScenario(scenario: Scenario, revision: Revision, options: RunOptions = {}): RunResult {
  const problem = geometryProblem(scenario.geometry);
  if (problem !== null) throw new ScenarioError(`geometry: ${problem}`);
  if (!revision.backends.includes(scenario.backend)) throw new ScenarioError(`revision ${revision.id} has no ${scenario.backend} backend`);
  const backend = backendById(scenario.backend);
  const w = createWorld(scenario.geometry, backend.createState(), scenario.ub, options.traceCalls ?? false);
  const observers = options.observers ?? [];
  for (const o of observers) {
    const ev = o.event;
    if (ev !== undefined) w.listeners.push((e) => ev.call(o, e, w));
  }
  const k = buildKernel(w, backend, revision);
  const results: OpResult[] = [];
  for (const [index, op] of scenario.ops.entries()) {
    w.faults = { plan: 'faults' in op ? op.faults : [], seen: new Map() };
    for (const o of observers) o.opBegin?.(index, op, w, backend);
    emit(w, { kind: 'op_begin', index, op });
    const { ret, out } = execOp(k, w, backend, op);
    afterOp(k, w);
    emit(w, { kind: 'op_end', index, ret, out });
    const result: OpResult = { index, op, ret, out };
    results.push(result);
    for (const o of observers) o.opEnd?.(result, w, backend);
    if (options.stop?.() === true) break;
  }
  return { world: w, results };
}

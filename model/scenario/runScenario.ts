import { EBADF, EIO, ENOTTY } from '../kernel/errno.js';
import { FALLOC_FL_KEEP_SIZE, FALLOC_FL_PUNCH_HOLE } from '../kernel/guest_memfd.js';
import { memory_failure } from '../kernel/memory_failure.js';
import type { GmemInPlaceFns } from '../kernel/guest_memfd_inplace.js';
import { KVM, vcpuMutex } from '../kernel/services/kvmcore.js';
import type { KvmPreFaultMemory, PreFaultMemoryFns } from '../kernel/pre_fault_memory.js';
import type { UserStructRef } from '../backends/snp/uapi.js';
import { MM_LOCK } from '../kernel/services/locking.js';
import type { BackendModel, BootedKernel, OpOutcome } from '../backends/Backend.js';
import { backendById } from '../backends/registry.js';
import { geometryProblem } from '../geometry.js';
import type { Revision } from '../revisions/Revision.js';
import { emit, createWorld, type World } from '../world/World.js';
import type { Event } from '../world/events.js';
import { OP_WORK_LIMIT, SoftLockup, type Crash } from '../world/lockup.js';
import { inPlaceSeriesOf, type Op, type Scenario } from './Scenario.js';
import { userMmap, userMadvise, userMunmap, userWriteGmemPage } from './userspace.js';
import { gmemMadvise } from './gmemMadvise.js';
import { gmemMappingAt } from '../world/userspaceMm.js';

/** What an operation returned to userspace: the ioctl's return value and written-back fields. */
export interface OpResult extends OpOutcome {
  readonly index: number;
  readonly op: Op;
}

/**
 * The call as the kernel finished it: where the copy back of its struct faulted, what it had
 * computed before (OpOutcome.lost), else what userspace got. Progress is read from this.
 */
export function kernelOutcome(r: OpOutcome): { readonly ret: number; readonly out: Readonly<Record<string, number>> } {
  return r.lost ?? r;
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
  /** The operation during which kernel code crashed (oops or soft lockup); the run ends there. */
  readonly crash?: { readonly opIndex: number; readonly crash: Crash };
}

/** A scenario that cannot run at all (bad geometry, a backend the revision lacks). */
export class ScenarioError extends Error {}

const VM_IOCTLS: readonly Op['kind'][] = [
  'set_user_memory_region2', 'set_memory_attributes', 'snp_launch_start', 'snp_launch_update', 'snp_launch_finish',
  'tdx_init_vcpu', 'tdx_init_mem_region', 'tdx_finalize_vm', 'create_guest_memfd', 'arm_rmi_populate', 'arm_realm_create',
  'arm_realm_activate', 'pre_fault_memory',
];

function execOp(booted: BootedKernel, w: World, backend: BackendModel, op: Op): OpOutcome {
  const k = booted.k;
  const plain = (ret: number) => ({ ret, out: {} });
  if (VM_IOCTLS.includes(op.kind)) {
    if (w.kvm.vm_fd_closed) return plain(-EBADF);
    // kvm_vm_ioctl()/kvm_vcpu_ioctl(): a bugged (dead) VM refuses everything.
    if (w.kvm.vm_bugged) return plain(-EIO);
  }
  if (backend.ops.includes(op.kind)) return booted.runOp(op) ?? plain(-ENOTTY);
  // A switch, not ts-pattern's match(): this runs for every operation of every scenario, and
  // building the match chain each time was 7 % of a matrix cell's time. `op satisfies never`
  // keeps it exhaustive.
  switch (op.kind) {
    case 'snp_launch_start': case 'snp_launch_update': case 'snp_launch_finish':
    case 'tdx_init_vcpu': case 'tdx_init_mem_region': case 'tdx_finalize_vm':
    case 'arm_rmi_populate': case 'arm_realm_create': case 'arm_realm_activate':
      return plain(-ENOTTY);
    case 'create_guest_memfd':
      return plain(k.kvm_gmem_create(KVM, op.size, op.flags));
    case 'set_user_memory_region2':
      return plain(k.kvm_vm_ioctl_set_memory_region(KVM, op));
    case 'set_memory_attributes':
      return plain(k.kvm_vm_ioctl_set_mem_attributes(KVM, op));
    // mmap() and munmap() change the VMM's address space under mmap_lock for write
    // (vm_mmap_pgoff(), __vm_munmap()); madvise() of these advices reads it (madvise_lock()).
    case 'mmap':
      return plain(underMmapLock(k, 'exclusive', () => userMmap(w, op.addr, op.length, op.prot, op.holes, op.untouched ?? [])));
    case 'munmap':
      return plain(underMmapLock(k, 'exclusive', () => userMunmap(w, op.addr, op.length)));
    case 'madvise':
      // The VMM's mapping of a guest_memfd is a shared file mapping (gmemMadvise.ts).
      if (gmemMappingAt(op.addr, w.geo.page_size) !== undefined) return plain(gmemMadvise(w, k, op.addr, op.length, op.advice));
      return plain(underMmapLock(k, 'shared', () => userMadvise(w, op.addr, op.length, op.advice)));
    case 'punch_hole':
      if (!w.gmem.files.get(op.guest_memfd)?.fdOpen) return plain(-EBADF);
      return plain(k.kvm_gmem_fallocate(op.guest_memfd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, op.offset, op.len));
    case 'fallocate':
      if (!w.gmem.files.get(op.guest_memfd)?.fdOpen) return plain(-EBADF);
      return plain(k.kvm_gmem_fallocate(op.guest_memfd, op.mode, op.offset, op.len));
    case 'memory_failure': {
      const folio = w.gmem.files.get(op.guest_memfd)?.folios.get(Math.floor(op.offset / w.geo.page_size));
      if (folio === undefined) return plain(0);
      return plain(memory_failure(w, k, folio.pfn + (Math.floor(op.offset / w.geo.page_size) - folio.index)));
    }
    case 'gmem_user_fault': {
      if (!w.gmem.files.get(op.guest_memfd)?.fdOpen) return plain(-EBADF);
      // do_user_addr_fault() holds mmap_lock for read around vm_ops->fault.
      k.mmap_read_lock(MM_LOCK);
      const index = Math.floor(op.offset / w.geo.page_size);
      const ret = k.kvm_gmem_fault_user_mapping(op.guest_memfd, index);
      k.mmap_read_unlock(MM_LOCK);
      if (op.write === true) userWriteGmemPage(w, op.guest_memfd, index);
      return plain(ret);
    }
    case 'gmem_convert': {
      if (!w.gmem.files.get(op.guest_memfd)?.fdOpen) return plain(-EBADF);
      if (w.gmemInPlace === undefined) return plain(-ENOTTY);
      const arg = { offset: op.offset, size: op.size, to_private: op.to === 'private', error_offset: 0 };
      // The series' table (model/kernel/inplace_series.ts) is bound whenever w.gmemInPlace is set.
      const ret = (k as typeof k & GmemInPlaceFns).kvm_gmem_ioctl(op.guest_memfd, arg);
      return { ret, out: { error_offset: arg.error_offset } };
    }
    case 'close_guest_memfd': {
      const f = w.gmem.files.get(op.guest_memfd);
      if (f === undefined || !f.fdOpen) return plain(-EBADF);
      f.fdOpen = false;
      k.fput(op.guest_memfd);
      return plain(0);
    }
    case 'pre_fault_memory': {
      // x86 only: the schema refuses it on cca, whose modelled trees have no such ioctl.
      if (backend.id === 'cca') return plain(-ENOTTY);
      const id = op.vcpu ?? 0;
      const argp: UserStructRef<KvmPreFaultMemory> = { tag: 'kvm_pre_fault_memory', value: { gpa: op.gpa, size: op.size, flags: op.flags }, readOnly: op.arg_readonly === true };
      // The x86 backends bind model/kernel/pre_fault_memory.ts.
      const ret = (k as typeof k & PreFaultMemoryFns).kvm_vcpu_ioctl_pre_fault_memory({ vcpu_id: id, mutex: vcpuMutex(id) }, argp);
      const out = (r: KvmPreFaultMemory) => ({ gpa: Number(r.gpa), size: Number(r.size) });
      return { ret, out: out(argp.value), ...(argp.lost === undefined ? {} : { lost: { ret, out: out(argp.lost) } }) };
    }
    case 'close_vm':
      if (w.kvm.vm_fd_closed) return plain(-EBADF);
      w.kvm.vm_fd_closed = true;
      return plain(0);
    default:
      return op satisfies never;
  }
}

function underMmapLock(k: BootedKernel['k'], mode: 'shared' | 'exclusive', body: () => number): number {
  if (mode === 'shared') k.mmap_read_lock(MM_LOCK);
  else k.mmap_write_lock(MM_LOCK);
  const ret = body();
  if (mode === 'shared') k.mmap_read_unlock(MM_LOCK);
  else k.mmap_write_unlock(MM_LOCK);
  return ret;
}

/**
 * After an operation: files whose last reference went are released (__fput runs as task work
 * on return to userspace), and a VM whose fd is closed is destroyed once no guest_memfd pins it.
 */
function afterOp(booted: BootedKernel, w: World): void {
  const k = booted.k;
  for (const f of w.gmem.files.values()) {
    if (f.refcount === 0 && !f.released) {
      f.released = true;
      k.kvm_gmem_release(f.id);
    }
  }
  if (w.kvm.vm_fd_closed && !w.kvm.destroyed && w.kvm.ioctls_in_flight === 0 && [...w.gmem.files.values()].every((f) => f.released)) {
    w.kvm.destroyed = true;
    booted.destroyVm?.();
    for (const s of [...w.kvm.memslots.values()]) k.memslot_delete(s.id);
    emit(w, { kind: 'note', text: 'kvm_destroy_vm()' });
  }
}

/** A run under way: the world, the booted kernel and what the operations returned so far. */
export interface Run {
  readonly w: World;
  readonly booted: BootedKernel;
  readonly backend: BackendModel;
  readonly observers: readonly RunObserver[];
  readonly results: OpResult[];
}

/** Boots the scenario's machine with the revision's kernel, the observers listening. */
export function startRun(scenario: Scenario, revision: Revision, options: RunOptions = {}): Run {
  const problem = geometryProblem(scenario.geometry);
  if (problem !== null) throw new ScenarioError(`geometry: ${problem}`);
  if (!revision.backends.includes(scenario.backend)) throw new ScenarioError(`revision ${revision.id} has no ${scenario.backend} backend`);
  const backend = backendById(scenario.backend);
  const w = createWorld(scenario.geometry, backend.createState(scenario, revision), scenario.ub, options.traceCalls ?? false);
  w.gmemHugeOrder = scenario.hugepages?.order ?? 0;
  w.kvm.online_vcpus = scenario.vcpus ?? 1;
  w.gmemInPlace = inPlaceSeriesOf(scenario);
  if (revision.gmemAttributes === true && w.gmemInPlace !== undefined) {
    w.kvm.private_tracking = 'guest_memfd';
    w.kvm.gmem_in_place_conversion = true;
  }
  const observers = options.observers ?? [];
  for (const o of observers) {
    const ev = o.event?.bind(o);
    if (ev !== undefined) w.listeners.push((e) => ev(e, w));
  }
  const booted = backend.boot(w, revision);
  const k = booted.k;
  w.hooks = { free_folio: (pfn) => k.kvm_gmem_free_folio(pfn), gmem_fault: (file, index) => k.kvm_gmem_fault_user_mapping(file, index) };
  return { w, booted, backend, observers, results: [] };
}

/** Operations on a guest_memfd's fd (or, for a host fault, its mapping): the file they act on. */
function gmemFdOf(op: Op): number | undefined {
  switch (op.kind) {
    case 'fallocate': case 'punch_hole': case 'gmem_convert': case 'gmem_user_fault': return op.guest_memfd;
    default: return undefined;
  }
}

/**
 * Runs operation `index` of the run: its fault plan armed, the observers told, the files and VM
 * its end released. Returns the crash when kernel code crashed (the kernel would print an oops,
 * or the watchdog a soft lockup, and kill the task), else undefined.
 *
 * `shared`: the operation runs on one of several threads of the VMM, whose fd table they share.
 * fdget() then takes a reference for the syscall (fdget_light() takes none in a process with one
 * thread), so a close() by another thread releases nothing until it returns; a host fault holds
 * the mapping's file the same way (its VMA's reference, for the fault's duration at least). A VM
 * or vCPU ioctl keeps the VM from being destroyed until it returns (KvmState.ioctls_in_flight).
 */
export function runOp(run: Run, index: number, op: Op, shared = false): Crash | undefined {
  const { w, booted, backend, observers } = run;
  w.faults = { plan: 'faults' in op ? (op.faults ?? []) : [], seen: new Map() };
  w.work = { done: 0, limit: OP_WORK_LIMIT };
  w.crashStack = undefined;
  for (const o of observers) o.opBegin?.(index, op, w, backend);
  let done: OpOutcome;
  try {
    emit(w, { kind: 'op_begin', index, op });
    const ioctl = VM_IOCTLS.includes(op.kind) && !w.kvm.vm_fd_closed;
    const file = shared ? w.gmem.files.get(gmemFdOf(op) ?? -1) : undefined;
    const held = file !== undefined && file.fdOpen ? file : undefined;
    if (ioctl) w.kvm.ioctls_in_flight++;
    if (held !== undefined) {
      held.refcount++;
      emit(w, { kind: 'file_ref', file: held.id, delta: 1, refcount: held.refcount });
    }
    done = execOp(booted, w, backend, op);
    if (held !== undefined) booted.k.fput(held.id);
    if (ioctl) w.kvm.ioctls_in_flight--;
    afterOp(booted, w);
  } catch (e) {
    const crash = crashOf(e, w);
    w.work = { done: 0, limit: Number.POSITIVE_INFINITY };
    w.stack.length = 0;
    emit(w, { kind: 'crash', crash });
    return crash;
  }
  const { ret, out, lost } = done;
  emit(w, { kind: 'op_end', index, ret, out, ...(lost === undefined ? {} : { lost: lost.out }) });
  const result: OpResult = { index, ...done, op };
  run.results.push(result);
  for (const o of observers) o.opEnd?.(result, w, backend);
  return undefined;
}

export function runScenario(scenario: Scenario, revision: Revision, options: RunOptions = {}): RunResult {
  if (scenario.threads !== undefined) throw new ScenarioError('a scenario with threads runs in the concurrent build (model/scenario/runThreads.ts), not in runScenario()');
  const run = startRun(scenario, revision, options);
  for (const [index, op] of scenario.ops.entries()) {
    const crash = runOp(run, index, op);
    // The run ends at a crash, with the log up to it for the trace.
    if (crash !== undefined) return { world: run.w, results: run.results, crash: { opIndex: index, crash } };
    if (options.stop?.() === true) break;
  }
  return { world: run.w, results: run.results };
}

function crashOf(e: unknown, w: World): Crash {
  const kernelStack = w.crashStack ?? [...w.stack];
  if (e instanceof SoftLockup) {
    const first = w.work.tripped ?? e;
    return { kind: 'soft_lockup', site: first.site, work: first.work, kernelStack };
  }
  const err = e instanceof Error ? e : new Error(String(e));
  return { kind: 'exception', name: err.name, message: err.message, stack: err.stack ?? '', site: kernelStack[kernelStack.length - 1] ?? 'userspace', kernelStack };
}

import type { KernelServices } from '../kernel/Kernel.js';
import { KVM } from '../kernel/services/kvmcore.js';
import { current } from '../kernel/services/sched.js';
import { KMAP_BASE } from '../kernel/services/kmap.js';
import type { Memslot } from '../world/kvmState.js';
import { FOLIO_HANDLE_BASE, KernelCFault, LinearMemory, PAGE_HANDLE_BASE, fromCPointer, toCPointer, toNumber, u64 } from './wasm.js';

/**
 * The kernel as WebAssembly imports: each function the prelude (kernelc/prelude/kshim.h)
 * declares with KIMPORT, answered by the same kernel-services API a TypeScript revision calls,
 * so real C and a revision produce the same events for the same invariants to judge.
 *
 * Objects the C dereferences (the VM, memslots, guest_memfd files) are built in linear memory by
 * the shim's constructors and mapped here to the model's; objects the C only passes back (pages,
 * folios) are handles above linear memory; kmap addresses and user addresses are the model's own
 * numbers, which the C never dereferences (it calls memcpy()/copy_*_user(), imports too).
 */

/** The kernel a C build needs: the services and guest_memfd's page cache (the model's own). */
export type KernelCK = KernelServices & { kvm_gmem_get_folio(inode: number, index: number): number };

/** An import: a function of the C's scalar arguments (numbers for i32, bigints for i64). */
export type ImportFn = (...args: never[]) => unknown;

/** The shim's exports every build has (kernelc/prelude/kshim.c, kshim_gmem.c). */
export interface ShimExports {
  readonly kshim_init: (page_size: bigint, page_shift: number, pmd_order: number) => void;
  readonly kshim_new_slot: () => bigint;
  readonly kshim_slot_set: (slot: bigint, base_gfn: bigint, npages: bigint, flags: number, id: number, file: bigint, pgoff: bigint) => void;
  readonly kshim_slot_of_file_field: (fpp: bigint) => bigint;
  readonly kshim_new_gmem_file: (id: number, kvm: bigint) => bigint;
  readonly kshim_scratch: (size: bigint) => bigint;
}

/** An export by name, checked to exist: a build without it is the shim's fault, said so. */
export function exportFn<T>(exports: WebAssembly.Exports, name: string): T {
  const f = exports[name];
  if (typeof f !== 'function') throw new Error(`kernel-C build exports no ${name}() (kernelc/prelude is out of step with model/kernelc)`);
  return f as T;
}

export function shimExports(exports: WebAssembly.Exports): ShimExports {
  return {
    kshim_init: exportFn(exports, 'kshim_init'),
    kshim_new_slot: exportFn(exports, 'kshim_new_slot'),
    kshim_slot_set: exportFn(exports, 'kshim_slot_set'),
    kshim_slot_of_file_field: exportFn(exports, 'kshim_slot_of_file_field'),
    kshim_new_gmem_file: exportFn(exports, 'kshim_new_gmem_file'),
    kshim_scratch: exportFn(exports, 'kshim_scratch'),
  };
}

/** A uAPI struct in user memory, as `copy_from_user()`/`copy_to_user()` of the ioctl's argument reach it. */
export interface UserArg {
  readonly size: number;
  /** Writes the model's value into linear memory at `to`. */
  read(mem: LinearMemory, to: bigint): void;
  /** Reads linear memory at `from` back into the model; returns the bytes not copied. */
  write(mem: LinearMemory, from: bigint): number;
}

/** User address the shim gives an ioctl's argument struct: in no mapping the model creates. */
export const USER_ARG_ADDR = 0x7fff_fff0_0000n;

/**
 * The state one instance of a C build keeps beside the model: which linear-memory address is
 * which lock, file and memslot.
 */
export class KernelCState {
  mem!: LinearMemory;
  shim!: ShimExports;
  kvm = 0n;
  readonly locks = new Map<bigint, string>();
  readonly files = new Map<number, bigint>();
  readonly fileOf = new Map<bigint, number>();
  readonly slots = new Map<number, bigint>();
  readonly slotOf = new Map<bigint, number>();
  userArg: UserArg | null = null;

  constructor(readonly k: KernelCK) {}

  lock(p: bigint): string {
    const name = this.locks.get(u64(p));
    if (name === undefined) throw new KernelCFault(`kernel C took a lock at 0x${u64(p).toString(16)} the shim did not name`);
    return name;
  }

  file(p: bigint, what: string): number {
    const id = this.fileOf.get(u64(p));
    if (id === undefined) throw new KernelCFault(`kernel C passed 0x${u64(p).toString(16)} as a guest_memfd ${what} the shim did not build`);
    return id;
  }

  /** The C file object of a guest_memfd, built on first use. */
  filePtr(id: number): bigint {
    if (id === 0) return 0n;
    let p = this.files.get(id);
    if (p === undefined) {
      p = u64(this.shim.kshim_new_gmem_file(id, this.kvm));
      this.files.set(id, p);
    }
    return p;
  }

  /** The C memslot for a model memslot, one object per slot id, its fields refreshed from the model. */
  slotPtr(s: Memslot): bigint {
    let p = this.slots.get(s.id);
    if (p === undefined) {
      p = u64(this.shim.kshim_new_slot());
      this.slots.set(s.id, p);
      this.slotOf.set(p, s.id);
    }
    this.shim.kshim_slot_set(p, BigInt(s.base_gfn), BigInt(s.npages), s.flags, s.id, this.filePtr(s.gmem_file), BigInt(s.gmem_pgoff));
    return p;
  }

  slotById(id: number): bigint {
    const s = this.k.memslot_by_id(id);
    if (s !== null) return this.slotPtr(s);
    // A binding to a slot the VM no longer has: a distinct object, so pointer comparisons fail as in the C.
    let p = this.slots.get(id);
    if (p === undefined) {
      p = u64(this.shim.kshim_new_slot());
      this.slots.set(id, p);
      this.slotOf.set(p, id);
    }
    return p;
  }

  page(p: bigint): number {
    return fromCPointer(p, PAGE_HANDLE_BASE, 'struct page');
  }

  folio(p: bigint): number {
    return fromCPointer(p, FOLIO_HANDLE_BASE, 'struct folio');
  }
}

// kmap_local_*() addresses: the model hands them out from KMAP_BASE, far below the handles.
const KMAP_END = 0x4000_0000_0000n;
const isKva = (p: bigint): boolean => u64(p) >= BigInt(KMAP_BASE) && u64(p) < KMAP_END;

const WARN_MACROS = ['WARN_ON', 'WARN_ON_ONCE', 'WARN', 'WARN_ONCE', 'KVM_BUG_ON', 'KVM_BUG'] as const;

/** The imports every build needs: guest_memfd, mm, locking, uaccess, diagnostics. */
export function genericImports(s: KernelCState): Record<string, ImportFn> {
  const { k } = s;
  const b = (v: boolean): number => (v ? 1 : 0);
  return {
    kernel_function_enter: (name: bigint) => k.kernel_function_enter(s.mem.cString(name)),
    kernel_function_exit: (name: bigint) => k.kernel_function_exit(s.mem.cString(name)),
    kshim_report_warn(macro: number, msg: bigint) {
      const m = s.mem.cString(msg).replace(/\n$/, '');
      switch (WARN_MACROS[macro]) {
        case 'WARN_ON': k.WARN_ON(true); break;
        case 'WARN_ON_ONCE': k.WARN_ON_ONCE(true); break;
        case 'WARN':
        case 'WARN_ONCE': k.WARN(true, m); break;
        default: throw new Error(`kernel C reported warning macro ${macro}`);
      }
    },
    kshim_report_kvm_bug(macro: number, _kvm: bigint, msg: bigint) {
      if (WARN_MACROS[macro] === 'KVM_BUG') k.KVM_BUG(true, KVM, s.mem.cString(msg).replace(/\n$/, ''));
      else k.KVM_BUG_ON(true, KVM);
    },
    kshim_report_print(level: number, msg: bigint) {
      const m = s.mem.cString(msg).replace(/\n$/, '');
      if (level >= 7) k.pr_debug(m);
      else k.pr_warn(m);
    },
    kshim_out_of_memory(size: bigint) {
      throw new Error(`the kernel-C shim's arena is full (${toNumber(size)} bytes more wanted)`);
    },
    kshim_name_lock(lock: bigint, name: bigint) {
      s.locks.set(u64(lock), s.mem.cString(name));
    },
    kshim_register_file(id: number, file: bigint, inode: bigint, mapping: bigint, bindings: bigint) {
      for (const p of [file, inode, mapping, bindings]) s.fileOf.set(u64(p), id);
    },
    kshim_memcpy(dst: bigint, src: bigint, n: bigint) {
      const len = toNumber(n);
      if (isKva(dst) && isKva(src)) k.memcpy(toNumber(dst), toNumber(src), len);
      else if (s.mem.contains(dst, n) && s.mem.contains(src, n)) s.mem.copyWithin(dst, src, len);
      else throw new Error(`memcpy(0x${u64(dst).toString(16)}, 0x${u64(src).toString(16)}, ${len}) between the C's own memory and a mapped page is not modelled`);
      return dst;
    },
    kshim_memset(dst: bigint, c: number, n: bigint) {
      if (!s.mem.contains(dst, n)) throw new Error(`memset(0x${u64(dst).toString(16)}) of a mapped page is not modelled`);
      s.mem.fill(dst, c, toNumber(n));
      return dst;
    },
    mutex_lock: (l: bigint) => k.mutex_lock(s.lock(l)),
    mutex_lock_nested: (l: bigint, subclass: number) => k.mutex_lock_nested(s.lock(l), subclass),
    mutex_unlock: (l: bigint) => k.mutex_unlock(s.lock(l)),
    kshim_lockdep_assert_held: (l: bigint) => k.lockdep_assert_held(s.lock(l)),
    get_file_active(fpp: bigint) {
      const slotId = s.slotOf.get(u64(s.shim.kshim_slot_of_file_field(fpp)));
      const slot = slotId === undefined ? null : k.memslot_by_id(slotId);
      if (slot === null) throw new KernelCFault('get_file_active() of a file pointer outside every memslot the shim built');
      return s.filePtr(k.kvm_gmem_get_file(slot));
    },
    fput: (file: bigint) => k.fput(s.file(file, 'file')),
    xa_load(xa: bigint, index: bigint) {
      const id = k.kvm_gmem_bindings_load(s.file(xa, 'bindings'), toNumber(index));
      return id === null ? 0n : s.slotById(id);
    },
    filemap_invalidate_lock: (m: bigint) => k.filemap_invalidate_lock(s.file(m, 'mapping')),
    filemap_invalidate_unlock: (m: bigint) => k.filemap_invalidate_unlock(s.file(m, 'mapping')),
    filemap_invalidate_lock_shared: (m: bigint) => k.filemap_invalidate_lock_shared(s.file(m, 'mapping')),
    filemap_invalidate_unlock_shared: (m: bigint) => k.filemap_invalidate_unlock_shared(s.file(m, 'mapping')),
    get_user_pages_fast(start: bigint, nr: number, flags: number, pages: bigint) {
      const out = k.local_page_ptrs('pages', Math.max(nr, 0));
      const ret = k.get_user_pages_fast(toNumber(start), nr, flags, out);
      for (let i = 0; i < ret; i++) s.mem.setU64(pages + BigInt(8 * i), toCPointer(out.at(i), PAGE_HANDLE_BASE));
      return ret;
    },
    put_page: (p: bigint) => k.put_page(s.page(p)),
    get_page: (p: bigint) => k.get_page(s.page(p)),
    set_page_dirty: (p: bigint) => {
      k.set_page_dirty(s.page(p));
      return 1;
    },
    page_to_pfn: (p: bigint) => BigInt(k.page_to_pfn(s.page(p))),
    pfn_to_page: (pfn: bigint) => toCPointer(k.pfn_to_page(toNumber(pfn)), PAGE_HANDLE_BASE),
    kmap_local_page: (p: bigint) => BigInt(k.kmap_local_page(s.page(p))),
    kmap_local_pfn: (pfn: bigint) => BigInt(k.kmap_local_pfn(toNumber(pfn))),
    kshim_kunmap_local: (addr: bigint) => k.kunmap_local(toNumber(addr)),
    clear_highpage: (p: bigint) => k.clear_highpage(s.page(p)),
    folio_unlock: (f: bigint) => k.folio_unlock(s.folio(f)),
    folio_put: (f: bigint) => k.folio_put(s.folio(f)),
    folio_test_uptodate: (f: bigint) => b(k.folio_test_uptodate(s.folio(f))),
    folio_mark_uptodate: (f: bigint) => k.folio_mark_uptodate(s.folio(f)),
    folio_test_hwpoison: (f: bigint) => b(k.folio_test_hwpoison(s.folio(f))),
    folio_order: (f: bigint) => k.folio_order(s.folio(f)),
    folio_nr_pages: (f: bigint) => BigInt(k.folio_nr_pages(s.folio(f))),
    // A folio's handle is its head page's pfn (model/kernel/services/filemap.ts).
    folio_pfn: (f: bigint) => BigInt(s.folio(f)),
    folio_page: (f: bigint, n: bigint) => toCPointer(k.folio_page(s.folio(f), toNumber(n)), PAGE_HANDLE_BASE),
    folio_file_page: (f: bigint, index: bigint) => toCPointer(k.folio_file_page(s.folio(f), toNumber(index)), PAGE_HANDLE_BASE),
    folio_file_pfn: (f: bigint, index: bigint) => BigInt(k.folio_file_pfn(s.folio(f), toNumber(index))),
    kvm_gmem_get_folio: (inode: bigint, index: bigint) => toCPointer(k.kvm_gmem_get_folio(s.file(inode, 'inode'), toNumber(index)), FOLIO_HANDLE_BASE),
    signal_pending: () => b(k.signal_pending(current)),
    cond_resched: () => k.cond_resched(),
    copy_from_user(to: bigint, from: bigint, n: bigint) {
      const arg = s.userArg;
      if (u64(from) === USER_ARG_ADDR && arg !== null) {
        if (toNumber(n) !== arg.size) throw new KernelCFault(`copy_from_user() of ${toNumber(n)} bytes of a ${arg.size}-byte argument struct`);
        arg.read(s.mem, to);
        return 0n;
      }
      // Into a kmapped page (the old populate API's callbacks copy the source themselves).
      if (isKva(to)) return BigInt(k.copy_from_user(toNumber(to), toNumber(from), toNumber(n)));
      throw new Error(`copy_from_user(0x${u64(to).toString(16)}, 0x${u64(from).toString(16)}) into the C's own memory: only the ioctl's argument struct is modelled`);
    },
    copy_to_user(to: bigint, from: bigint, n: bigint) {
      const arg = s.userArg;
      if (u64(to) === USER_ARG_ADDR && arg !== null) {
        if (toNumber(n) !== arg.size) throw new KernelCFault(`copy_to_user() of ${toNumber(n)} bytes of a ${arg.size}-byte argument struct`);
        return BigInt(arg.write(s.mem, from));
      }
      if (isKva(from)) return BigInt(k.copy_to_user(toNumber(to), toNumber(from), toNumber(n)));
      throw new Error(`copy_to_user(0x${u64(to).toString(16)}, 0x${u64(from).toString(16)}) from the C's own memory: only the ioctl's argument struct is modelled`);
    },
    gfn_to_memslot(_kvm: bigint, gfn: bigint) {
      const slot = k.gfn_to_memslot(KVM, toNumber(gfn));
      return slot === null ? 0n : s.slotPtr(slot);
    },
    kvm_range_has_memory_attributes: (_kvm: bigint, start: bigint, end: bigint, mask: bigint, attrs: bigint) =>
      b(k.kvm_range_has_memory_attributes(KVM, toNumber(start), toNumber(end), toNumber(mask), toNumber(attrs))),
    kvm_is_private_gfn: (_kvm: bigint, gfn: bigint) => b(k.kvm_is_private_gfn(KVM, toNumber(gfn))),
  };
}

/**
 * A new instance of a build for one scenario: the generic imports and the backend's own, its
 * memory and the shim's exports wired into `s`, the machine's geometry set. Returns the exports,
 * for the backend's own entries.
 */
export function instantiate(module: WebAssembly.Module, s: KernelCState, own: Record<string, ImportFn>): WebAssembly.Exports {
  const instance = new WebAssembly.Instance(module, { kernel: { ...genericImports(s), ...own } });
  const memory = instance.exports['memory'];
  if (!(memory instanceof WebAssembly.Memory)) throw new Error('kernel-C build exports no memory');
  s.mem = new LinearMemory(memory);
  s.shim = shimExports(instance.exports);
  s.shim.kshim_init(BigInt(s.k.PAGE_SIZE), s.k.PAGE_SHIFT, s.k.PMD_ORDER);
  return instance.exports;
}

/** One instance per bound kernel, that is per scenario, made on its first use. */
export function perKernel<K extends object, I>(make: (k: K) => I): (k: K) => I {
  const instances = new WeakMap<K, I>();
  return (k) => {
    let inst = instances.get(k);
    if (inst === undefined) {
      inst = make(k);
      instances.set(k, inst);
    }
    return inst;
  };
}

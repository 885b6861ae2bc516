import type { Fault, Op } from '../scenario/Scenario.js';
import type { LockMode } from './locks.js';
import type { PageOwner } from './hostMemory.js';
import type { Crash } from './lockup.js';
import type { Shareability } from './gmem.js';

/**
 * Everything observable is an event. Invariants are monitors over this log (plus the live
 * world); the trace printer turns it into a kernel-log-style text. Ghost: not in the kernel.
 */
export type FwOutcome =
  | { readonly kind: 'succeeded' }
  /** `index`: the RMI error index (the RTT level a walk reached), 0 where the status has none. */
  | { readonly kind: 'failed'; readonly condition: string; readonly status: string; readonly forced: boolean; readonly index: number };

/** One entry appended to a launch measurement (SNP digest, TDX MRTD, CCA RIM). */
export interface MeasureEntry {
  /** What was measured: firmware operation and page type. */
  readonly what: string;
  readonly gpa: number;
  /** Hash of the measured bytes, or '' when the entry measures no contents. */
  readonly contents: string;
}

export type AccessVia = 'kmap' | 'uaccess' | 'firmware' | 'host';

export type BadAccessKind =
  | 'out_of_bounds'
  | 'wild_pointer'
  | 'use_after_free'
  | 'unmapped_kva'
  | 'double_free'
  | 'bad_unlock'
  | 'kunmap_order';

export type WarnMacro = 'WARN_ON' | 'WARN_ON_ONCE' | 'WARN' | 'KVM_BUG_ON' | 'KVM_BUG' | 'TDX_BUG_ON' | 'TDX_BUG_ON_2';

export type Event =
  | { readonly kind: 'op_begin'; readonly index: number; readonly op: Op }
  | { readonly kind: 'op_end'; readonly index: number; readonly ret: number; readonly out: Readonly<Record<string, number>>; readonly lost?: Readonly<Record<string, number>> }
  | { readonly kind: 'call'; readonly fn: string; readonly args: string }
  | { readonly kind: 'ret'; readonly fn: string; readonly ret: string }
  | { readonly kind: 'page_ref'; readonly pfn: number; readonly delta: number; readonly refcount: number; readonly via: string }
  | { readonly kind: 'gup'; readonly start: number; readonly nr_pages: number; readonly gup_flags: number; readonly pfns: readonly number[]; readonly ret: number }
  | { readonly kind: 'page_alloc'; readonly pfn: number; readonly owner: PageOwner }
  | { readonly kind: 'page_free'; readonly pfn: number; readonly owner: PageOwner }
  | { readonly kind: 'page_leak'; readonly pfn: number; readonly by: string }
  | { readonly kind: 'kmap'; readonly vaddr: number; readonly pfn: number }
  | { readonly kind: 'kunmap'; readonly vaddr: number; readonly pfn: number }
  | { readonly kind: 'mem_read'; readonly pfn: number; readonly offset: number; readonly len: number; readonly via: AccessVia }
  | { readonly kind: 'mem_write'; readonly pfn: number; readonly offset: number; readonly len: number; readonly via: AccessVia }
  /** `subclass`: the lockdep nesting annotation (mutex_lock_nested() and friends), 0 for none. */
  | { readonly kind: 'lock'; readonly action: 'acquire' | 'release' | 'might'; readonly lock: string; readonly mode: LockMode; readonly thread: number; readonly site: string; readonly subclass?: number; readonly nest_lock?: string }
  | { readonly kind: 'lockdep_assert_held'; readonly lock: string; readonly held: boolean; readonly site: string }
  | { readonly kind: 'kmalloc'; readonly ptr: number; readonly nmemb: number; readonly size: number; readonly site: string }
  | { readonly kind: 'kfree'; readonly ptr: number }
  | { readonly kind: 'file_ref'; readonly file: number; readonly delta: number; readonly refcount: number }
  | { readonly kind: 'bad_access'; readonly what: BadAccessKind; readonly detail: string; readonly site: string }
  | { readonly kind: 'uninit_use'; readonly site: string; readonly value: number }
  | { readonly kind: 'warn'; readonly macro: WarnMacro; readonly site: string; readonly message: string }
  /**
   * A firmware command, logged before its effects: `addr` is the physical address of the page
   * or granule it acts on and `pfn` its page (0: none), `grantGpa` the GPA at which success hands
   * that unit to the guest (null: it does not).
   */
  | { readonly kind: 'fw'; readonly cmd: string; readonly args: string; readonly pfn: number; readonly addr: number; readonly grantGpa: number | null; readonly outcome: FwOutcome }
  | { readonly kind: 'page_dirty'; readonly pfn: number }
  | { readonly kind: 'fw_state'; readonly what: string; readonly key: string; readonly before: string; readonly after: string }
  | { readonly kind: 'measure'; readonly register: string; readonly entry: MeasureEntry }
  | { readonly kind: 'fault'; readonly fault: string; readonly source: Fault['kind'] }
  | { readonly kind: 'folio'; readonly pfn: number; readonly index: number; readonly change: 'create' | 'lock' | 'unlock' | 'uptodate' | 'remove' }
  | { readonly kind: 'attr'; readonly gfn: number; readonly before: number; readonly after: number }
  /** A page-table entry of the VMM's mapping of a guest_memfd installed (finish_fault()) or zapped (unmap_mapping_pages(), truncation). */
  | { readonly kind: 'gmem_pte'; readonly file: number; readonly index: number; readonly pfn: number; readonly action: 'map' | 'unmap' }
  /** The in-place series stored a shareability for guest_memfd indices [start, end). */
  | { readonly kind: 'shareability'; readonly file: number; readonly start: number; readonly end: number; readonly to: Shareability }
  | { readonly kind: 'note'; readonly text: string }
  /** Kernel code crashed (an exception, or the soft-lockup budget); the run ends. */
  | { readonly kind: 'crash'; readonly crash: Crash };

export type EventKind = Event['kind'];

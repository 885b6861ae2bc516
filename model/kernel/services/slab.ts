import { emit, currentSite, type World } from '../../world/World.js';
import { WILD_PAGE, type KmallocObject } from '../../world/kheap.js';
import { nextFault } from '../faults.js';
import { switchPoint } from '../../world/switchPoint.js';

/**
 * A `struct page **`: a pointer into an array of page pointers, either a kmalloc_array()
 * object or a local variable. Indexing is bounds-checked against the whole object, as KASAN
 * would; a read past the end or of a never-written slot is logged and yields a wild pointer.
 */
export interface PagePtrArray {
  /** Address of element 0 of this view (for traces). */
  readonly ptr: number;
  at(i: number): number;
  set(i: number, page: number): void;
  /** `&array[i]`. */
  plus(i: number): PagePtrArray;
}

export const GFP_KERNEL = 0xcc0;

function view(w: World, obj: KmallocObject, base: number): PagePtrArray {
  const check = (i: number, op: string): boolean => {
    const idx = base + i;
    if (!Number.isInteger(idx) || idx < 0 || idx >= obj.nmemb) {
      emit(w, {
        kind: 'bad_access',
        what: 'out_of_bounds',
        detail: `${op} of element ${idx} of ${obj.site} [${obj.nmemb}] at 0x${obj.ptr.toString(16)}`,
        site: currentSite(w),
      });
      return false;
    }
    if (obj.freed) {
      emit(w, { kind: 'bad_access', what: 'use_after_free', detail: `${op} of freed ${obj.site}`, site: currentSite(w) });
    }
    return true;
  };
  return {
    ptr: obj.ptr + base * 8,
    at(i) {
      if (!check(i, 'read')) return WILD_PAGE;
      const v = obj.slots[base + i];
      if (v === undefined) {
        emit(w, { kind: 'uninit_use', site: `${obj.site}[${base + i}]`, value: WILD_PAGE });
        return WILD_PAGE;
      }
      return v;
    },
    set(i, page) {
      if (check(i, 'write')) obj.slots[base + i] = page;
    },
    plus(i) {
      return view(w, obj, base + i);
    },
  };
}

export interface SlabServices {
  /** kmalloc_array(n, sizeof(struct page *), flags) for a page-pointer array, or null (-ENOMEM). */
  kmalloc_array(n: number, size: number, flags: number): PagePtrArray | null;
  kfree(p: PagePtrArray | null): void;
  /**
   * A local `struct page *name[n]` (or `struct page *name` for n = 1) on the stack: not
   * tracked for leaks, but still bounds- and initialisation-checked.
   */
  local_page_ptrs(name: string, n: number): PagePtrArray;
  /**
   * `p[i]` where the C does not check `p` for NULL: a NULL `p` is logged as a NULL-pointer
   * dereference (the kernel would oops) and reads as a wild pointer.
   */
  page_ptrs_index(p: PagePtrArray | null, i: number): number;
}

export function slabServices(w: World): SlabServices {
  return {
    kmalloc_array(n, size, _flags) {
      switchPoint(w, { kind: 'alloc', what: 'kmalloc', site: currentSite(w) });
      if (nextFault(w, 'alloc:kmalloc') !== undefined) return null;
      const ptr = w.heap.nextPtr;
      w.heap.nextPtr += Math.max(64, n * size);
      const obj: KmallocObject = { ptr, nmemb: n, size, site: `kmalloc_array@${currentSite(w)}`, freed: false, slots: new Array<number | undefined>(n).fill(undefined) };
      w.heap.objects.set(ptr, obj);
      emit(w, { kind: 'kmalloc', ptr, nmemb: n, size, site: currentSite(w) });
      return view(w, obj, 0);
    },
    kfree(p) {
      if (p === null) return;
      const obj = w.heap.objects.get(p.ptr);
      if (obj === undefined || obj.freed) {
        emit(w, { kind: 'bad_access', what: 'double_free', detail: `kfree(0x${p.ptr.toString(16)})`, site: currentSite(w) });
        return;
      }
      obj.freed = true;
      emit(w, { kind: 'kfree', ptr: p.ptr });
    },
    page_ptrs_index(p, i) {
      if (p !== null) return p.at(i);
      emit(w, { kind: 'bad_access', what: 'wild_pointer', detail: `NULL dereference: (struct page **)NULL[${i}]`, site: currentSite(w) });
      return WILD_PAGE;
    },
    local_page_ptrs(name, n) {
      const obj: KmallocObject = { ptr: 0x7ff0_0000_0000 + w.log.length * 8, nmemb: n, size: 8, site: `${currentSite(w)}:${name}`, freed: false, slots: new Array<number | undefined>(n).fill(undefined) };
      return view(w, obj, 0);
    },
  };
}

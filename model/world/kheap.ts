/**
 * Kernel heap objects that revisions allocate (kmalloc_array of `struct page *`), so a
 * leaked array or an index past its end is observable.
 */
export interface KmallocObject {
  readonly ptr: number;
  readonly nmemb: number;
  readonly size: number;
  readonly site: string;
  freed: boolean;
  /** Element values when used as `struct page *[]`; undefined = never written (uninitialised). */
  readonly slots: (number | undefined)[];
}

export interface KernelHeap {
  readonly objects: Map<number, KmallocObject>;
  nextPtr: number;
}

/** Kernel pointers live above every user address the model hands out. */
export const KERNEL_HEAP_BASE = 0x1000_0000_0000;
/** Direct-map base: `kmap_local_pfn(pfn)` returns DIRECT_MAP_BASE + pfn * PAGE_SIZE. */
export const DIRECT_MAP_BASE = 0x2000_0000_0000;
/** A `struct page *` read from memory that never held one (an out-of-bounds or wild read). */
export const WILD_PAGE = 0xdead_0000;

export function createKernelHeap(): KernelHeap {
  return { objects: new Map(), nextPtr: KERNEL_HEAP_BASE };
}

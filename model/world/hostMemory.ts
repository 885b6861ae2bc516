import type { Geometry } from '../geometry.js';
import { PROV_GARBAGE } from './provenance.js';

/**
 * Who a host page belongs to, as the host kernel sees it. Firmware ownership (RMP, PAMT,
 * granule state) lives in the backend's firmware state; invariants compare the two.
 */
export type PageOwner =
  | { readonly kind: 'free' }
  /** Anonymous memory mapped in the user mm (the populate source buffer). */
  | { readonly kind: 'anon' }
  /** A page of a guest_memfd folio: the one at `index` of file `file`. */
  | { readonly kind: 'gmem'; readonly file: number; readonly index: number }
  /** A kernel allocation (__get_free_page): Arm RTT and RD pages. */
  | { readonly kind: 'kernel'; readonly what: string }
  /** Taken out of circulation for good (snp_leak_pages, or a reference deliberately never dropped). */
  | { readonly kind: 'leaked'; readonly by: string };

/** One host page: `struct page` plus its contents. */
export interface HostPage {
  readonly pfn: number;
  owner: PageOwner;
  /** page_ref_count(). */
  refcount: number;
  /** References taken by GUP and not yet dropped (a subset of `refcount`). */
  gupRefs: number;
  /** Of `gupRefs`, those taken with FOLL_WRITE. */
  gupWriteRefs: number;
  /** Live kmap_local mappings of this page. */
  kmaps: number;
  /** set_page_dirty() was called since the page was last mapped. */
  dirty: boolean;
  /** compound_order() of the compound page this page heads: 0 for a single page. */
  order: number;
  /**
   * PG_hwpoison: memory_failure() met a hardware error here (model/kernel/memory_failure.ts).
   * folio_test_hwpoison() reads it off the folio's head page.
   */
  hwpoison: boolean;
  /** compound_head() of a tail page of a large folio (its refcount lives there); undefined otherwise. */
  head: number | undefined;
  readonly data: Uint8Array;
  /** Ghost: provenance tag of each byte (see provenance.ts). */
  readonly prov: Float64Array;
}

/** First pfn handed out, so that pfn 0 can play NULL in `struct page *` handles. */
export const PFN_BASE = 0x100;

export interface HostMemory {
  readonly pages: HostPage[];
}

/**
 * A host page whose byte views are made when first used: a scenario touches a few of its 192
 * pages, and two typed-array views for every page cost 5 % of a scenario's CPU (`npm run bench`
 * profile). The bytes are one buffer for all pages (a backing store per page cost 10 %).
 */
class LazyHostPage implements HostPage {
  owner: PageOwner = { kind: 'free' };
  refcount = 0;
  gupRefs = 0;
  gupWriteRefs = 0;
  kmaps = 0;
  dirty = false;
  order = 0;
  hwpoison = false;
  head: number | undefined = undefined;
  readonly pfn: number;
  // ES private fields, kept out of the page's own enumerable fields (the struct page ones).
  readonly #bytes: Uint8Array;
  readonly #tags: Float64Array;
  readonly #start: number;
  readonly #end: number;
  #data: Uint8Array | undefined;
  #prov: Float64Array | undefined;
  constructor(pfn: number, bytes: Uint8Array, tags: Float64Array, start: number, end: number) {
    this.pfn = pfn;
    this.#bytes = bytes;
    this.#tags = tags;
    this.#start = start;
    this.#end = end;
  }
  get data(): Uint8Array {
    return (this.#data ??= this.#bytes.subarray(this.#start, this.#end));
  }
  get prov(): Float64Array {
    return (this.#prov ??= this.#tags.subarray(this.#start, this.#end));
  }
}

export function createHostMemory(geo: Geometry): HostMemory {
  const pages: HostPage[] = [];
  const ps = geo.page_size;
  const data = new Uint8Array(geo.nr_host_pages * ps).fill(0xa5);
  const prov = new Float64Array(geo.nr_host_pages * ps).fill(PROV_GARBAGE);
  for (let i = 0; i < geo.nr_host_pages; i++) pages.push(new LazyHostPage(PFN_BASE + i, data, prov, i * ps, (i + 1) * ps));
  return { pages };
}

export function hostPage(host: HostMemory, pfn: number): HostPage | undefined {
  return host.pages[pfn - PFN_BASE];
}

export function isValidPfn(host: HostMemory, pfn: number): boolean {
  return Number.isInteger(pfn) && pfn >= PFN_BASE && pfn < PFN_BASE + host.pages.length;
}

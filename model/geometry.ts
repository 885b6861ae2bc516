/**
 * Geometry of a modelled machine. The arithmetic of the populate path is the same for any
 * power-of-two page size, so tests run with small pages (16..64 bytes) for speed and the CLI
 * can run the real 4096-byte geometry.
 *
 * `PMD_ORDER` scales `GMEM_GUP_NPAGES` (= 1 << PMD_ORDER, 512 on x86-64 with 4K pages,
 * see the RFC v1 define in https://lore.kernel.org/all/20251113230759.1562024-4-michael.roth@amd.com/)
 * so that page counts around `GMEM_GUP_NPAGES ± 1` stay cheap to generate.
 */
export interface Geometry {
  /** Host PAGE_SIZE in bytes: a power of two, at least 16. */
  readonly page_size: number;
  /** PMD_ORDER: GMEM_GUP_NPAGES = 1 << pmd_order. 9 on x86-64. */
  readonly pmd_order: number;
  /** Host physical pages available to the allocator. */
  readonly nr_host_pages: number;
}

export const REAL_X86_GEOMETRY: Geometry = { page_size: 4096, pmd_order: 9, nr_host_pages: 2048 };

/** TDX_EXTENDMR_CHUNKSIZE is 256 bytes for a 4096-byte page: 16 chunks a page, kept as a ratio. */
export const TDX_EXTENDMR_CHUNKS_PER_PAGE = 16;

export function tdxExtendChunkSize(geo: Geometry): number {
  return geo.page_size / TDX_EXTENDMR_CHUNKS_PER_PAGE;
}

export function gmemGupNpages(geo: Geometry): number {
  return 2 ** geo.pmd_order;
}

/**
 * The most host memory a modelled machine may have, in bytes: the real x86 geometry's 8 MiB.
 * The model keeps every host byte twice (its value, and its provenance as a float64: 9 bytes of
 * model a byte) and builds the machine afresh for every run, so 64 KiB pages × 65536 would ask
 * for 36 GiB before the first operation.
 */
export const MAX_HOST_BYTES = 8 * 2 ** 20;

/** Names what is wrong with a geometry, or returns null when it is usable. */
export function geometryProblem(geo: Geometry): string | null {
  const { page_size, pmd_order, nr_host_pages } = geo;
  if (!Number.isInteger(page_size) || page_size < 16 || (page_size & (page_size - 1)) !== 0 || page_size > 65536) {
    return `page_size must be a power of two between 16 and 65536, got ${page_size}`;
  }
  if (!Number.isInteger(pmd_order) || pmd_order < 0 || pmd_order > 12) {
    return `pmd_order must be an integer in 0..12, got ${pmd_order}`;
  }
  if (!Number.isInteger(nr_host_pages) || nr_host_pages < 8 || nr_host_pages > 65536) {
    return `nr_host_pages must be an integer in 8..65536, got ${nr_host_pages}`;
  }
  if (page_size * nr_host_pages > MAX_HOST_BYTES) {
    return `${nr_host_pages} host pages of ${page_size} bytes is more host memory than the model's ${MAX_HOST_BYTES / 2 ** 20} MiB (page_size × nr_host_pages at most ${MAX_HOST_BYTES})`;
  }
  return null;
}

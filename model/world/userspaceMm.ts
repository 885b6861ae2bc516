/**
 * The user mm of the VMM process: anonymous mappings that hold the populate source buffer,
 * at any byte alignment, with holes where GUP and uaccess fail; and, at fixed addresses of their
 * own, the VMM's mappings of its guest_memfds (gmemUserAddress()), whose page-table entries live
 * on the file (GmemFile.hostMapped) as a shared file mapping's do in its i_mmap.
 */
export type Prot = 'rw' | 'ro';

export interface Vma {
  /** Page-aligned start and end (exclusive) user addresses. */
  readonly start: number;
  readonly end: number;
  readonly prot: Prot;
  /** pfn backing each page of the VMA. */
  readonly pfns: number[];
}

export interface UserMm {
  vmas: Vma[];
  /** Ghost: how many times each page-aligned address has been mapped (provenance generation). */
  readonly generations: Map<number, number>;
  /** pfn of the shared zero page, once an untouched page mapped it (model/kernel/zeroPage.ts). */
  zeroPage: number | undefined;
}

export function createUserMm(): UserMm {
  return { vmas: [], generations: new Map(), zeroPage: undefined };
}

export function findVma(mm: UserMm, uaddr: number): Vma | undefined {
  return mm.vmas.find((v) => uaddr >= v.start && uaddr < v.end);
}

/** The pfn mapped at a user address, or undefined in a hole. */
export function userPfn(mm: UserMm, uaddr: number, page_size: number): number | undefined {
  const vma = findVma(mm, uaddr);
  if (vma === undefined) return undefined;
  return vma.pfns[Math.floor((uaddr - vma.start) / page_size)];
}

/** The user address at which `pfn` is mapped (first mapping), for reverse lookups in reports. */
export function pfnUserAddress(mm: UserMm, pfn: number, page_size: number): number | undefined {
  for (const vma of mm.vmas) {
    const i = vma.pfns.indexOf(pfn);
    if (i >= 0) return vma.start + i * page_size;
  }
  return undefined;
}

/**
 * Where the VMM maps guest_memfd `file` (with GUEST_MEMFD_FLAG_MMAP; MAP_SHARED, read-write):
 * page `index` of it. Each file has a fixed range of its own, above every anonymous mapping, so a
 * byte written through the mapping has a provenance of its own and a populate source in it is
 * told from anonymous memory by its address alone.
 */
export function gmemUserAddress(file: number, index: number, page_size: number): number {
  return GMEM_MMAP_BASE + file * GMEM_MMAP_STRIDE + index * page_size;
}

/** The guest_memfd page a user address of a guest_memfd mapping falls in, or undefined for anonymous memory. */
export function gmemMappingAt(uaddr: number, page_size: number): { readonly file: number; readonly index: number } | undefined {
  if (uaddr < GMEM_MMAP_BASE) return undefined;
  const rel = uaddr - GMEM_MMAP_BASE;
  return { file: Math.floor(rel / GMEM_MMAP_STRIDE), index: Math.floor((rel % GMEM_MMAP_STRIDE) / page_size) };
}

const GMEM_MMAP_BASE = 2 ** 44;
const GMEM_MMAP_STRIDE = 2 ** 32;

/**
 * The user mm of the VMM process: anonymous mappings that hold the populate source buffer,
 * at any byte alignment, with holes where GUP and uaccess fail.
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

/**
 * guest_memfd: each file's filemap of folios, its bindings to memslots (the `bindings` xarray)
 * and the invalidate lock's identity. Folios are order 0 (every merged kernel allocates single
 * pages for guest_memfd) unless the machine runs the hugepages what-if (model/whatIf.ts), where
 * a large folio sits at every index it covers.
 */
/**
 * Shareability of a guest_memfd index under the in-place conversion series (model/whatIf.ts
 * `in-place`): RFC v2's `enum shareability` (SHAREABILITY_ALL / SHAREABILITY_GUEST) and v8's
 * PRIVATE attribute, stored per index in the inode's maple tree. `shared` indices may be faulted
 * into the host's mapping of the file; `private` ones only into the guest.
 */
export type Shareability = 'shared' | 'private';

/**
 * Which in-place conversion series the in-place what-if applies (model/kernel/guest_memfd_inplace.ts):
 * Ackerley Tng's RFC v2 (May 2025) or the v8 series (June 2026), or an injected bug of one of them
 * (`rfc-v2~...`).
 */
export type InPlaceSeriesId = string;

export interface Folio {
  /** pfn of the folio's first (head) page: `folio_pfn()`, also the model's folio handle. */
  readonly pfn: number;
  /** Index of its first page: aligned to the folio's size. */
  readonly index: number;
  /** folio_order(). */
  readonly order: number;
  locked: boolean;
  uptodate: boolean;
  /**
   * Ghost: the thread holding the folio lock while `locked` (model/concurrent/ makes a thread
   * that wants it wait). Truncation's own short lock is not recorded.
   */
  lockedBy?: number | undefined;
}

export interface GmemFile {
  /** File handle (`struct file *`), ≥ 1. */
  readonly id: number;
  readonly size: number;
  readonly flags: number;
  /** `file_count()`: the fd's reference plus get_file_active() references. */
  refcount: number;
  /** The fd is still open in the VMM. */
  fdOpen: boolean;
  /** kvm_gmem_release() ran and the inode was evicted. */
  released: boolean;
  /** The inode's page cache: index → the folio covering it (one folio at each of its indices). */
  readonly folios: Map<number, Folio>;
  /** `gmem->bindings`: index → memslot id. */
  readonly bindings: Map<number, number>;
  /**
   * Per-index shareability (the in-place series' maple tree); empty where the kernel has none,
   * which is every merged one.
   */
  readonly shareability: Map<number, Shareability>;
  /**
   * The VMM's page-table entries on its mmap() of the file (the inode's i_mmap): index → pfn.
   * Each holds the page reference its fault returned, as a mapped file page does.
   */
  readonly hostMapped: Map<number, number>;
}

export interface GmemState {
  readonly files: Map<number, GmemFile>;
  nextId: number;
}

export function createGmemState(): GmemState {
  return { files: new Map(), nextId: 1 };
}

/** The filemap invalidate lock of a guest_memfd inode (`file->f_mapping->invalidate_lock`). */
export function invalidateLockOf(file: number): string {
  return `gmem${file}->invalidate_lock`;
}

/** The distinct folios of a page cache, lowest index first. */
export function distinctFolios(file: GmemFile): Folio[] {
  return [...new Set(file.folios.values())].sort((a, b) => a.index - b.index);
}

/** The folio lock (PG_locked) of the folio whose head is `pfn`, as switch points name it. */
export function folioLockName(pfn: number): string {
  return `folio@0x${pfn.toString(16)}`;
}

/** The thread holding a folio lock named by folioLockName(), if a thread holds it. */
export function folioLockHolder(gmem: GmemState, lock: string): number | undefined {
  const pfn = Number.parseInt(lock.slice('folio@0x'.length), 16);
  for (const file of gmem.files.values()) {
    for (const folio of file.folios.values()) if (folio.pfn === pfn && folio.locked) return folio.lockedBy;
  }
  return undefined;
}

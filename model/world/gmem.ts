/**
 * guest_memfd: each file's filemap of folios, its bindings to memslots (the `bindings` xarray)
 * and the invalidate lock's identity. Folios are order 0 (every merged kernel allocates single
 * pages for guest_memfd) unless the machine runs the hugepages what-if (model/whatIf.ts), where
 * a large folio sits at every index it covers.
 */
export interface Folio {
  /** pfn of the folio's first (head) page: `folio_pfn()`, also the model's folio handle. */
  readonly pfn: number;
  /** Index of its first page: aligned to the folio's size. */
  readonly index: number;
  /** folio_order(). */
  readonly order: number;
  locked: boolean;
  uptodate: boolean;
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

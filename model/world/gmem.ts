/**
 * guest_memfd: each file's filemap of folios (order 0 here: every revision modelled either
 * never allocates huge folios or WARNs on them, see kvm_gmem_get_folio), its bindings to
 * memslots (the `bindings` xarray) and the invalidate lock's identity.
 */
export interface Folio {
  /** pfn of the folio's (only) page. */
  readonly pfn: number;
  readonly index: number;
  locked: boolean;
  uptodate: boolean;
  hwpoison: boolean;
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
  /** The inode's page cache. */
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

import type { BackendId } from '../scenario/Scenario.js';
import type { Revision } from '../revisions/Revision.js';
import { REVISIONS } from '../revisions/registry.js';
import { snpKernelCFns } from './snp.js';
import { tdxKernelCFns } from './tdx.js';
import { ccaKernelCFns } from './cca.js';

/**
 * A kernel tree's own populate C as a revision (gmemcheck kernel): each backend's entry ioctl is
 * the tree's compiled code (model/kernelc/snp.ts, tdx.ts); everything the tree's extract does not
 * cover (memslot binding, guest_memfd creation, the fault path, LAUNCH_FINISH, the TDP MMU) is
 * the TypeScript revision of the same kvm_gmem_populate() API generation, which is also the
 * matrix row its verdicts are compared with (`derivedFrom`).
 */

/** kvm_gmem_populate()'s API generation, as kernelc/prelude/kshim.h names them. */
export type GmemApi = 'KSHIM_GMEM_API_PAGE_WB' | 'KSHIM_GMEM_API_PAGE' | 'KSHIM_GMEM_API_OLD';

/** The backends kernel mode builds a tree's C for (kernelc/extract.ts BACKENDS). */
export type KernelCBackend = Extract<BackendId, 'snp' | 'tdx' | 'cca'>;
export const KERNEL_C_BACKENDS: readonly KernelCBackend[] = ['snp', 'tdx', 'cca'];

/** The built-in x86 revision of each API generation kernel mode runs. */
export const BASE_REVISION: Readonly<Record<GmemApi, string>> = {
  // kvm-x86 2026-05: per-page callback and may_writeback_src.
  KSHIM_GMEM_API_PAGE_WB: 'kvm-x86-next',
  // v7.0: per-page callback.
  KSHIM_GMEM_API_PAGE: 'v7.0',
  // v6.11 .. v6.19: the callback reads the user source itself (copy_from_user() into a kmapped
  // page, or its own GUP). The revision of this generation whose TDX has the TDX MMU rework
  // (page_add_src and the S-EPT leaf hook kernel mode enters), and whose guest_memfd.c and sev.c
  // are the stored torvalds files (0f94e51b, 0097f9df).
  KSHIM_GMEM_API_OLD: 'kvm-x86-next-2025.11.07',
};

/**
 * The built-in revision a backend's build is compared with and borrows what it does not build
 * from: on x86 the one of the tree's API generation; on Arm the RMM 2.0 tree's (kernel mode runs
 * only that generation there: kernelc/extract.ts BACKENDS.cca.apis).
 */
export function baseRevisionId(backend: KernelCBackend, api: GmemApi): string {
  return backend === 'cca' ? 'rmi-newest' : BASE_REVISION[api];
}

export interface KernelCMeta {
  readonly id: string;
  readonly title: string;
  readonly cites: readonly string[];
  readonly api: GmemApi;
}

const FNS: Readonly<Record<KernelCBackend, (module: WebAssembly.Module, base: object) => object>> = {
  snp: snpKernelCFns,
  tdx: tdxKernelCFns,
  cca: ccaKernelCFns,
};

/**
 * A revision over one build per backend, all of one base revision (an x86 and an Arm build are
 * two revisions: their guest_memfd.c, hooks and what-if cells differ).
 */
export function kernelCRevision(meta: KernelCMeta, modules: ReadonlyMap<KernelCBackend, WebAssembly.Module>): Revision {
  const ids = [...new Set([...modules.keys()].map((b) => baseRevisionId(b, meta.api)))];
  const [baseId] = ids;
  if (baseId === undefined || ids.length > 1) throw new Error(`kernel mode builds one revision over builds of one base revision, not ${ids.length === 0 ? 'none' : ids.join(' and ')}`);
  const base = REVISIONS.find((r) => r.id === baseId);
  if (base === undefined) throw new Error(`kernel mode has no revision ${baseId}`);
  const built = [...modules].filter(([b]) => base.backends.includes(b));
  const fns = built.reduce<object>((acc, [b, m]) => FNS[b](m, acc), base.fns);
  return { id: meta.id, title: meta.title, backends: built.map(([b]) => b), cites: meta.cites, derivedFrom: base.id, fns, ...(base.arm === undefined ? {} : { arm: base.arm }) };
}

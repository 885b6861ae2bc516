import { MUTANTS } from '../../model/revisions/mutants.js';
import type { Revision } from '../../model/revisions/Revision.js';
import type { BackendId } from '../../model/scenario/Scenario.js';

/**
 * uAPI generations: which document (and, where it is silent, which kernel tree) a revision is
 * held to, per backend. The one place that maps revisions to generations.
 *
 * - S1/T1: amd-memory-encryption.rst / intel-tdx.rst as in v6.11-v6.19, silent cases decided by
 *   the old trees (sev.c@0097f9df, old guest_memfd.c, old tdx.c) and, where RFC v1 decides them
 *   differently, by either (the RFC is a patch on that text).
 * - S2/T2: the v7.0 text (Roth v3 4/6, 5/6), silent cases decided by the newest kvm-x86 code
 *   (the note's "code agrees?" column), except where v7.0's own merged choice is not a bug
 *   (T.8: -EOPNOTSUPP, kernel-facts B30).
 * - S3/T3: S2/T2 with the in-place series applied (v7, v8): a NULL source loads the destination
 *   as it is when gmem_in_place_conversion is on, is refused by the callback when it is off.
 * - R9, R12, RN: the Arm series' api.rst at v9, v12 and the newest stored tree; an Arm
 *   revision declares its uAPI in `arm.uapi`, which must agree.
 *
 * A reviewer's module inherits the generation of its `derivedFrom` (an Arm module's own
 * `arm.uapi` decides its Arm generation); an injected bug that of its base. A module with
 * neither a built-in id nor `derivedFrom` gets no oracle verdict: what it implements is unknown.
 */
export type Generation = 'S1' | 'S2' | 'S3' | 'T1' | 'T2' | 'T3' | 'R9' | 'R12' | 'RN';

export const GENERATIONS: Readonly<Record<string, Readonly<Partial<Record<BackendId, Generation>>>>> = {
  // SNP v15 06/20's amd-memory-encryption.rst text is S1's in substance.
  'paolo-v1': { snp: 'S1' },
  'v6.17': { snp: 'S1', tdx: 'T1' },
  'kvm-x86-next-2025.11.07': { snp: 'S1', tdx: 'T1' },
  'rfc-v1': { snp: 'S1', tdx: 'T1' },
  // v2 3/5 and 4/5 are the documents v3 4/6 and 5/6 reposted unchanged.
  'roth-v2': { snp: 'S2', tdx: 'T2' },
  'roth-v3-posted': { snp: 'S2', tdx: 'T2' },
  'v7.0': { snp: 'S2', tdx: 'T2' },
  'kvm-x86-next': { snp: 'S2', tdx: 'T2' },
  // The in-place series' populate on the June 2026 kvm-x86 base (model/revisions/inplace-v8.ts).
  'inplace-v7': { snp: 'S3', tdx: 'T3' },
  'inplace-v8': { snp: 'S3', tdx: 'T3' },
  'rme-v9': { cca: 'R9' },
  'rme-v12': { cca: 'R12' },
  'rmi-newest': { cca: 'RN' },
};

/** The Arm generation each declared uAPI is. */
export const ARM_UAPI_GENERATION: Readonly<Record<NonNullable<Revision['arm']>['uapi'], Generation>> = {
  'rme-cap': 'R9',
  'rmi-populate-bytes': 'R12',
  'rmi-populate-writeback': 'RN',
};

export type RevisionLike = Pick<Revision, 'id'> & Partial<Pick<Revision, 'derivedFrom' | 'arm'>>;

/** The generation `revision` is held to on `backend`, or undefined (no oracle verdict). */
export function generationOf(revision: RevisionLike, backend: BackendId): Generation | undefined {
  const base = MUTANTS.find((m) => m.id === revision.id)?.base ?? revision.id;
  const own = GENERATIONS[base];
  const parent = own ?? (revision.derivedFrom === undefined ? undefined : GENERATIONS[revision.derivedFrom]);
  if (parent === undefined) return undefined;
  if (backend === 'cca' && own === undefined && revision.arm !== undefined) return ARM_UAPI_GENERATION[revision.arm.uapi];
  return parent[backend];
}

/**
 * api.rst's KVM_CREATE_GUEST_MEMFD as a revision's tree has it, for a VM with private memory:
 * A1 (v6.8 .. v6.17: no flag is defined for it, the code's valid flags are none) or A2 (v6.18+:
 * KVM_CAP_GUEST_MEMFD_FLAGS, GUEST_MEMFD_FLAG_MMAP for every VM, INIT_SHARED where the arch
 * allows it). The in-place what-if runs a tree with the in-place series applied, which builds
 * on A2 (model/whatIf.ts). Must agree with each revision's kvm_gmem_create() form
 * (model/kernel/guest_memfd_create.ts); test/invariants/functional-spec.test.ts checks it.
 */
export type GmemApi = 'A1' | 'A2';

const GMEM_API_A1: ReadonlySet<string> = new Set(['paolo-v1', 'v6.17', 'rme-v9']);

/** The guest_memfd uAPI `revision` is held to (A2 for a module derived from nothing built in). */
export function gmemApiOf(revision: RevisionLike, inPlace: boolean): GmemApi {
  if (inPlace) return 'A2';
  const base = MUTANTS.find((m) => m.id === revision.id)?.base ?? revision.id;
  const known = GENERATIONS[base] !== undefined ? base : revision.derivedFrom;
  return known !== undefined && GMEM_API_A1.has(known) ? 'A1' : 'A2';
}

/**
 * Whether `revision`'s tree has KVM_PRE_FAULT_MEMORY (v6.11 on): every x86 tree modelled but
 * paolo-v1, whose April 2024 base is older (its own kvm_vcpu_ioctl_pre_fault_memory() says so).
 * A module derived from nothing built in is taken to be a current tree.
 */
export function hasPreFaultMemory(revision: RevisionLike): boolean {
  const base = MUTANTS.find((m) => m.id === revision.id)?.base ?? revision.id;
  const known = GENERATIONS[base] !== undefined ? base : revision.derivedFrom;
  return known !== 'paolo-v1';
}

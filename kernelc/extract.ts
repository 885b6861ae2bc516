import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { splitUnits, type Unit } from './units.js';
import type { GmemApi, KernelCBackend } from '../model/kernelc/revision.js';

/**
 * Extraction of a backend's populate path from a kernel tree: from the entry function, every
 * function, struct, macro and DEFINE_CLASS() of the backend's files that the code mentions,
 * transitively, in file order, under the configuration the model stands for. What the prelude
 * already gives (kernelc/prelude) and what the model owns (guest_memfd's page cache) is left
 * out; anything else the code calls must be declared by the prelude, or the build says which.
 */

export type BackendC = KernelCBackend;

export interface BackendSpec {
  /** Files searched, relative to the tree's root, in the order their units are emitted. */
  readonly files: readonly string[];
  /** Entry points (static ones get an exported wrapper in the shim). */
  readonly entries: readonly string[];
  /** Prelude headers and tree-dependent shim files, in kernelc/prelude. */
  readonly headers: readonly string[];
  readonly shims: readonly string[];
  /** The kernel configuration the model stands for: these are y, every other CONFIG_ is n. */
  readonly config: readonly string[];
  /** Why an entry may be missing from a tree kernel mode otherwise reads: what that tree is. */
  readonly missingEntry?: Readonly<Record<string, string>>;
  /** Functions of the backend's files the model runs instead (the prelude declares each as an import). */
  readonly modelOwned?: readonly string[];
  /** The API generations kernel mode runs this backend's C on, with why another is refused. */
  readonly apis?: { readonly runs: readonly GmemApi[]; readonly otherwise: string };
}

/**
 * One x86 kernel for both vendors, as a distribution builds it: guest_memfd.c is compiled once,
 * with the hooks either vendor selects (arch/x86/kvm/Kconfig).
 */
const X86_CONFIG = [
  'CONFIG_64BIT', 'CONFIG_X86_64', 'CONFIG_KVM', 'CONFIG_KVM_X86', 'CONFIG_KVM_GUEST_MEMFD',
  'CONFIG_KVM_GENERIC_MEMORY_ATTRIBUTES', 'CONFIG_KVM_VM_MEMORY_ATTRIBUTES', 'CONFIG_HAVE_KVM_ARCH_GMEM_POPULATE',
  'CONFIG_HAVE_KVM_ARCH_GMEM_PREPARE', 'CONFIG_HAVE_KVM_ARCH_GMEM_INVALIDATE', 'CONFIG_KVM_PRIVATE_MEM',
  'CONFIG_KVM_AMD', 'CONFIG_KVM_AMD_SEV', 'CONFIG_KVM_INTEL', 'CONFIG_KVM_INTEL_TDX', 'CONFIG_INTEL_TDX_HOST',
];

/**
 * An arm64 kernel with the RMI series: guest_memfd.c with populate and guest_memfd's own private
 * tracking (no VM memory attributes, no prepare or invalidate hook: arch/arm64/kvm/Kconfig).
 */
const ARM64_CONFIG = ['CONFIG_64BIT', 'CONFIG_ARM64', 'CONFIG_KVM', 'CONFIG_KVM_GUEST_MEMFD', 'CONFIG_HAVE_KVM_ARCH_GMEM_POPULATE'];

export const BACKENDS: Readonly<Record<BackendC, BackendSpec>> = {
  snp: {
    files: ['virt/kvm/guest_memfd.c', 'arch/x86/kvm/svm/sev.c'],
    entries: ['snp_launch_update'],
    headers: ['kshim.h', 'kshim_x86.h', 'kshim_sev.h'],
    shims: ['kshim_gmem.c', 'kshim_sev.c'],
    config: X86_CONFIG,
  },
  /*
   * KVM_TDX_INIT_MEM_REGION from tdx_vcpu_init_mem_region() (tdx_vcpu_unlocked_ioctl(), which
   * takes the VM state guard, is the model's), and the S-EPT hook the TDP MMU calls back while
   * mapping each page: tdx_sept_map_leaf_spte() and the TDH.MEM.PAGE.ADD it issues.
   */
  tdx: {
    files: ['virt/kvm/guest_memfd.c', 'arch/x86/kvm/vmx/tdx.c'],
    entries: ['tdx_vcpu_init_mem_region', 'tdx_sept_map_leaf_spte'],
    headers: ['kshim.h', 'kshim_x86.h', 'kshim_tdx.h'],
    shims: ['kshim_gmem.c', 'kshim_tdx.c'],
    config: X86_CONFIG,
    missingEntry: {
      tdx_sept_map_leaf_spte: 'a TDX path from before the TDX MMU rework (https://lore.kernel.org/all/20251030200951.3402865-1-seanjc@google.com/, in v6.19), which maps each page through kvm_tdp_map_page() and counts nr_premapped: kernel mode does not run it yet (the v6.17 revision models it: gmemcheck check --revision v6.17 --backend tdx)',
    },
  },
  /*
   * KVM_ARM_RMI_POPULATE from kvm_arm_rmi_populate() (arm.c's ioctl, which copies the struct in
   * and out, is the model's) down to RMI_RTT_DATA_MAP_INIT and the RTTs it creates on the way.
   * realm_create_rd() is the model's: the realm's parameters, its stage-2 PGD and RMI_REALM_CREATE
   * are not on the populate path, only that the realm exists afterwards.
   */
  cca: {
    files: ['virt/kvm/guest_memfd.c', 'arch/arm64/kvm/rmi.c'],
    entries: ['kvm_arm_rmi_populate'],
    headers: ['kshim.h', 'kshim_arm64.h'],
    shims: ['kshim_gmem.c', 'kshim_arm64.c'],
    config: ARM64_CONFIG,
    modelOwned: ['realm_create_rd'],
    apis: {
      runs: ['KSHIM_GMEM_API_PAGE_WB'],
      otherwise: 'kernel mode runs the RMI populate path of RMM 2.0 trees (kvm_gmem_populate() with may_writeback_src, as kamalca/linux@845841b2 has it); the RMM 1.0 series are modelled by the rme-v9 and rme-v12 revisions (gmemcheck check --backend cca)',
    },
  },
};

/** Functions the model owns even when a tree defines them (its page cache). */
const MODEL_OWNED = new Set(['kvm_gmem_get_folio']);

export const PRELUDE_DIR = join(import.meta.dirname, 'prelude');

export interface TakenUnit {
  readonly file: string;
  readonly unit: Unit;
}

export interface Extraction {
  readonly backend: BackendC;
  readonly api: GmemApi;
  readonly taken: readonly TakenUnit[];
  /** The translation unit: prelude, forward declarations, the taken units with #line, the shims. */
  readonly source: string;
}

export class ExtractError extends Error {}

/** A vendor file of a generation kernel mode does not run yet (BackendSpec.missingEntry). */
export class OlderGenerationError extends ExtractError {}

/**
 * Evaluates a preprocessor condition the way cpp would, given which CONFIG_ symbols are y. An
 * #elif or #else carries the chain before it (`elif B|if A`, `else|elif B|if A`, as units.ts
 * records them): it is taken only when no earlier branch of the chain was.
 */
export function evalCondition(cond: string, config: ReadonlySet<string>): boolean {
  const [own = '', ...before] = cond.split('|');
  const earlierTaken = before.some((branch) => ownCondition(branch, config));
  if (own === 'else') return !earlierTaken;
  if (own.startsWith('elif ')) return !earlierTaken && evalExpr(own.slice(5), config);
  return ownCondition(own, config);
}

/** One branch's own condition, whatever came before it. */
function ownCondition(branch: string, config: ReadonlySet<string>): boolean {
  if (branch.startsWith('ifdef ')) return config.has(branch.slice(6).trim());
  if (branch.startsWith('ifndef ')) return !config.has(branch.slice(7).trim());
  if (branch.startsWith('if ')) return evalExpr(branch.slice(3), config);
  if (branch.startsWith('elif ')) return evalExpr(branch.slice(5), config);
  return false;
}

function evalExpr(expr: string, config: ReadonlySet<string>): boolean {
  const e = expr
    .replace(/\b(?:defined|IS_ENABLED|IS_BUILTIN|IS_REACHABLE)\s*\(\s*(\w+)\s*\)/g, (_m, n: string) => (config.has(n) ? '1' : '0'))
    .replace(/\bdefined\s+(\w+)/g, (_m, n: string) => (config.has(n) ? '1' : '0'))
    .replace(/\b[A-Za-z_]\w*\b/g, (n) => (config.has(n) ? '1' : '0'));
  const tokens = e.match(/\d+|&&|\|\||==|!=|[()!]|\S/g) ?? [];
  let at = 0;
  const fail = (): never => {
    throw new ExtractError(`cannot evaluate the preprocessor condition "${expr}"`);
  };
  // or := and ('||' and)*; and := eq ('&&' eq)*; eq := unary (('=='|'!=') unary)*; unary := '!' unary | num | '(' or ')'
  const unary = (): number => {
    const t = tokens[at++];
    if (t === '!') return unary() ? 0 : 1;
    if (t === '(') {
      const v = or();
      if (tokens[at++] !== ')') fail();
      return v;
    }
    if (t !== undefined && /^\d+$/.test(t)) return Number(t);
    return fail();
  };
  const eq = (): number => {
    let v = unary();
    while (tokens[at] === '==' || tokens[at] === '!=') v = (tokens[at++] === '==') === (v === unary()) ? 1 : 0;
    return v;
  };
  // Both operands are always evaluated: a closed expression of constants has no side effects.
  const binary = (next: () => number, op: string, f: (a: boolean, b: boolean) => boolean) => (): number => {
    let v = next();
    while (tokens[at] === op) {
      at++;
      const r = next();
      v = f(v !== 0, r !== 0) ? 1 : 0;
    }
    return v;
  };
  const and = binary(eq, '&&', (x, y) => x && y);
  const or = binary(and, '||', (x, y) => x || y);
  const v = or();
  if (at !== tokens.length) fail();
  return v !== 0;
}

/** The API generation the tree declares in include/linux/kvm_host.h. */
export function detectGmemApi(tree: string): GmemApi {
  const path = join(tree, 'include/linux/kvm_host.h');
  if (!existsSync(path)) throw new ExtractError(`${path} is missing: kernel mode reads kvm_gmem_populate()'s API from it`);
  const text = readFileSync(path, 'utf8');
  const cb = /typedef\s+int\s*\(\s*\*\s*kvm_gmem_populate_cb\s*\)\s*\(([^;]*)\)\s*;/s.exec(text)?.[1];
  const proto = /long\s+kvm_gmem_populate\s*\(([^;]*)\)\s*;/s.exec(text)?.[1];
  if (cb === undefined || proto === undefined) {
    throw new ExtractError(`${path} declares no kvm_gmem_populate_cb and kvm_gmem_populate(): a tree before guest_memfd populate (v6.11), or one kernel mode does not know`);
  }
  if (/struct\s+page\s*\*/.test(cb)) return /may_writeback_src/.test(proto) ? 'KSHIM_GMEM_API_PAGE_WB' : 'KSHIM_GMEM_API_PAGE';
  if (/__user/.test(cb) && /\border\b/.test(cb)) return 'KSHIM_GMEM_API_OLD';
  throw new ExtractError(`${path}: kvm_gmem_populate_cb(${cb.replace(/\s+/g, ' ').trim()}) is an API generation kernel mode does not know`);
}

/** A struct, union or enum definition (its name is the tag, which a function may share). */
function isTagDefinition(u: Unit): boolean {
  return u.kind === 'declaration' && /^\s*(?:struct|union|enum)\s+\w+\s*\{/.test(u.text);
}

/**
 * Names the prelude defines itself (inline helpers, macros, structs): never taken from a tree.
 * A struct tag and a function of the same name are different names (`struct
 * kvm_arm_rmi_populate` and kvm_arm_rmi_populate()), so each is kept with what it names.
 */
function preludeNames(headers: readonly string[]): { has(u: Unit): boolean } {
  const tags = new Set<string>();
  const names = new Set<string>();
  for (const h of headers) {
    for (const u of splitUnits(readFileSync(join(PRELUDE_DIR, h), 'utf8'))) {
      if (u.name === null || !(u.kind === 'function' || u.kind === 'directive' || u.kind === 'declaration')) continue;
      (isTagDefinition(u) ? tags : names).add(u.name);
    }
  }
  return { has: (u) => u.name !== null && (isTagDefinition(u) ? tags : names).has(u.name) };
}

/** The body's opening brace: KSHIM_FRAME() goes right after it, on the same line. */
function withFrame(u: Unit): string {
  const header = u.header ?? '';
  const at = u.text.indexOf('{', header.length);
  return `${u.text.slice(0, at + 1)} KSHIM_FRAME("${u.name ?? ''}");${u.text.slice(at + 1)}`;
}

export function extract(tree: string, backend: BackendC): Extraction {
  const spec = BACKENDS[backend];
  const api = detectGmemApi(tree);
  if (spec.apis !== undefined && !spec.apis.runs.includes(api)) throw new OlderGenerationError(`${tree} has the ${api.replace('KSHIM_GMEM_API_', '')} kvm_gmem_populate() API: ${spec.apis.otherwise}`);
  const owned = new Set([...MODEL_OWNED, ...(spec.modelOwned ?? [])]);
  const config = new Set([...spec.config, api]);
  const prelude = preludeNames(spec.headers);
  const all: TakenUnit[] = [];
  for (const file of spec.files) {
    const path = join(tree, file);
    if (!existsSync(path)) throw new ExtractError(`${path} is missing: the ${backend} populate path lives there`);
    for (const unit of splitUnits(readFileSync(path, 'utf8'))) {
      if (unit.conditions.every((c) => evalCondition(c, config))) all.push({ file, unit });
    }
  }
  const byName = new Map<string, TakenUnit[]>();
  for (const t of all) {
    if (t.unit.name === null || owned.has(t.unit.name) || prelude.has(t.unit)) continue;
    byName.set(t.unit.name, [...(byName.get(t.unit.name) ?? []), t]);
  }
  const taken = new Set<TakenUnit>();
  const queue: TakenUnit[] = [];
  const take = (t: TakenUnit): void => {
    if (taken.has(t)) return;
    taken.add(t);
    queue.push(t);
  };
  for (const entry of spec.entries) {
    const defs = (byName.get(entry) ?? []).filter((t) => t.unit.kind === 'function');
    const why = spec.missingEntry?.[entry];
    if (defs.length === 0 && why !== undefined) throw new OlderGenerationError(`${entry}() is not defined in ${spec.files.join(' or ')} of ${tree}: ${why}`);
    if (defs.length === 0) throw new ExtractError(`${entry}() is not defined in ${spec.files.join(' or ')} of ${tree}: kernel mode starts the ${backend} populate path there`);
    defs.forEach(take);
  }
  for (let t = queue.shift(); t !== undefined; t = queue.shift()) {
    for (const id of t.unit.identifiers) {
      if (id === t.unit.name) continue;
      const defs = byName.get(id) ?? [];
      // A name defined in the referring file wins over one of another file.
      const same = defs.filter((d) => d.file === t.file);
      (same.length > 0 ? same : defs).filter((d) => d.unit.kind !== 'declaration' || !isPrototype(d.unit)).forEach(take);
    }
  }
  const ordered = all.filter((t) => taken.has(t));
  return { backend, api, taken: ordered, source: render(spec, api, ordered) };
}

function isPrototype(u: Unit): boolean {
  return u.kind === 'declaration' && /\)\s*;\s*$/.test(u.text) && !/^\s*DEFINE_/.test(u.text);
}

function render(spec: BackendSpec, api: GmemApi, taken: readonly TakenUnit[]): string {
  const fns = taken.filter((t) => t.unit.kind === 'function');
  const out: string[] = [
    '/* Generated by gmemcheck kernel mode: the populate path of a kernel tree with the gmemcheck prelude. */',
    ...spec.config.map((c) => `#define ${c} 1`),
    `#define ${api} 1`,
    ...fns.map((t) => `#define KSHIM_HAVE_${t.unit.name ?? ''} 1`),
    // guest_memfd.c's per-VM file state was `struct kvm_gmem` until v6.19 renamed it gmem_file.
    ...(taken.some((t) => t.unit.name === 'kvm_gmem' && t.unit.kind === 'declaration') && !taken.some((t) => t.unit.name === 'gmem_file') ? ['#define KSHIM_GMEM_STRUCT_KVM_GMEM 1'] : []),
    ...spec.headers.map((h) => `#include "${h}"`),
  ];
  // Macros and types first, then every function's prototype, then the rest in file order
  // (DEFINE_CLASS() expands to functions that call the file's helpers), so order never matters.
  const isType = (u: Unit): boolean => u.kind === 'directive' || /^\s*(?:typedef\b|(?:struct|union|enum)\s+\w+\s*\{)/.test(u.text);
  const line = (t: TakenUnit): string => `#line ${t.unit.startLine} "${t.file}"`;
  for (const t of taken.filter((x) => isType(x.unit))) out.push(line(t), t.unit.text);
  for (const t of fns) out.push(line(t), `${t.unit.header ?? ''};`);
  for (const t of taken.filter((x) => !isType(x.unit))) {
    const framed = t.unit.kind === 'function' && !spec.entries.includes(t.unit.name ?? '');
    out.push(line(t), framed ? withFrame(t.unit) : t.unit.text);
  }
  out.push(...spec.shims.map((s) => `#include "${s}"`), '');
  return out.join('\n');
}

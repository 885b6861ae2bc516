import { IN_PLACE_SERIES } from '../kernel/inplace_series.js';
import { z } from 'zod';
import { geometryProblem } from '../geometry.js';
import { U64_MAX } from '../kernel/u64.js';
import { MAX_SCENARIO_OPS, scenarioLimitProblems, tooManyOps } from './limits.js';
import { LAUNCH_FINISH_OPS, POPULATE_OPS, type Scenario } from './Scenario.js';

/**
 * The schema of a scenario as stored in a file (Scenario.ts is its type): every field of every
 * operation, checked on load so a hand-edited corpus file gets an error naming the field. The
 * compile-time check at the bottom keeps the two in step.
 */
// Addresses and sizes are numbers, exact up to 2^53 - 1: past it the C's own checks (alignment,
// access_ok, overflow of base + size) would refuse them, which the model does not show. The u64s
// the C tests by bit or sign are `u64` below.
const int = z.number().int({
  error: (iss) => (iss.code === 'too_big' ? `${String(iss.input)} is past 2^53 - 1, the largest integer the model holds exactly (u64 values above it are not modelled)` : undefined),
});
const nat = int.nonnegative();
const addr = nat;
/** A narrower uAPI field: userspace cannot write a value the struct member does not hold. */
const uint = (bits: 8 | 16 | 32, member: string) => nat.max(2 ** bits - 1, { error: `${member} is a __u${bits}: at most ${2 ** bits - 1}` });
/**
 * A u64 the C tests bit by bit or by sign, held exactly: a number up to 2^53 - 1, or a string
 * (`"0x8000000000000000"`, or decimal) for any u64; written back the same way (u64Json).
 */
const u64 = z
  .union([nat, z.string().regex(/^(0x[0-9a-fA-F]{1,16}|[0-9]{1,20})$/, { error: 'a u64 written as a string is 0x followed by 1 to 16 hex digits, or decimal' })])
  .transform((v, ctx) => {
    const b = BigInt(v);
    if (b > U64_MAX) ctx.addIssue({ code: 'custom', message: `${String(v)} is past 2^64 - 1` });
    return b;
  });

const fault = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('gup'), nth: int.positive(), result: z.enum(['efault', 'short']) }),
  z.strictObject({ kind: z.literal('alloc'), nth: int.positive(), site: z.enum(['folio', 'kmalloc', 'xa_node']) }),
  z.strictObject({ kind: z.literal('signal'), nth: int.positive() }),
  z.strictObject({ kind: z.literal('fw'), cmd: z.string().min(1), condition: z.string().min(1), nth: int.positive(), unit: nat.optional() }),
]);
const faults = z.array(fault);

const op = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('create_guest_memfd'), size: u64, flags: u64 }),
  z.strictObject({
    kind: z.literal('set_user_memory_region2'), slot: uint(32, 'slot'), flags: uint(32, 'flags'), guest_phys_addr: addr, memory_size: nat,
    userspace_addr: addr, guest_memfd: uint(32, 'guest_memfd'), guest_memfd_offset: u64, faults: faults.optional(),
  }),
  z.strictObject({ kind: z.literal('set_memory_attributes'), address: addr, size: nat, attributes: u64, flags: u64 }),
  z.strictObject({ kind: z.literal('mmap'), addr, length: nat, prot: z.enum(['rw', 'ro']), holes: z.array(nat), untouched: z.array(nat).optional() }),
  z.strictObject({ kind: z.literal('munmap'), addr, length: nat }),
  z.strictObject({ kind: z.literal('madvise'), addr, length: nat, advice: z.union([z.literal(4), z.literal(9), z.literal(21)]) }),
  z.strictObject({ kind: z.literal('snp_launch_update'), gfn_start: u64, uaddr: addr, len: u64, type: uint(8, 'type'), flags: uint(16, 'flags'), arg_readonly: z.boolean().optional(), faults }),
  z.strictObject({ kind: z.literal('snp_launch_finish'), faults }),
  z.strictObject({ kind: z.literal('snp_launch_start') }),
  z.strictObject({ kind: z.literal('tdx_init_mem_region'), source_addr: addr, gpa: addr, nr_pages: u64, flags: uint(32, 'flags (kvm_tdx_cmd.flags)'), hw_error: uint(32, 'hw_error (kvm_tdx_cmd.hw_error)').optional(), arg_readonly: z.boolean().optional(), vcpu: z.literal(1).optional(), faults }),
  z.strictObject({ kind: z.literal('tdx_finalize_vm'), faults }),
  z.strictObject({ kind: z.literal('tdx_init_vcpu'), flags: uint(32, 'flags (kvm_tdx_cmd.flags)').optional(), hw_error: uint(32, 'hw_error (kvm_tdx_cmd.hw_error)').optional(), vcpu: z.literal(1).optional() }),
  z.strictObject({ kind: z.literal('arm_rmi_populate'), base: addr, size: u64, source_uaddr: addr, flags: uint(32, 'flags'), reserved: uint(32, 'reserved'), arg_readonly: z.boolean().optional(), faults }),
  z.strictObject({ kind: z.literal('arm_realm_create'), faults }),
  z.strictObject({ kind: z.literal('arm_realm_activate'), faults }),
  z.strictObject({ kind: z.literal('punch_hole'), guest_memfd: nat, offset: nat, len: nat, faults }),
  z.strictObject({ kind: z.literal('fallocate'), guest_memfd: nat, mode: uint(32, 'mode'), offset: nat, len: nat, faults }),
  z.strictObject({ kind: z.literal('memory_failure'), guest_memfd: nat, offset: nat }),
  z.strictObject({ kind: z.literal('gmem_user_fault'), guest_memfd: nat, offset: nat, write: z.literal(true).optional() }),
  z.strictObject({ kind: z.literal('gmem_convert'), guest_memfd: nat, offset: nat, size: nat, to: z.enum(['shared', 'private']) }),
  z.strictObject({ kind: z.literal('close_vm') }),
  z.strictObject({ kind: z.literal('pre_fault_memory'), gpa: u64, size: u64, flags: u64, vcpu: z.literal(1).optional(), arg_readonly: z.boolean().optional(), faults }),
  z.strictObject({ kind: z.literal('close_guest_memfd'), guest_memfd: nat, faults: faults.optional() }),
]);

export const scenarioSchema = z
  .strictObject({
    backend: z.enum(['snp', 'tdx', 'cca']),
    geometry: z.strictObject({ page_size: int, pmd_order: int, nr_host_pages: int }),
    ops: z.array(op).min(1).max(MAX_SCENARIO_OPS, { error: (iss) => tooManyOps(Array.isArray(iss.input) ? iss.input.length : MAX_SCENARIO_OPS + 1) }),
    ub: z.record(z.string(), int),
    cca: z.strictObject({ granules_per_page: z.union([z.literal(1), z.literal(4), z.literal(16)]), rtt_depth: int.min(0).max(3) }).optional(),
    hugepages: z.strictObject({ order: int.min(1) }).optional(),
    inPlace: z.union([z.literal(true), z.enum(IN_PLACE_SERIES.map((s) => s.id) as [string, ...string[]])]).optional(),
    launch: z.literal('not_started').optional(),
    vcpus: z.literal(2).optional(),
  })
  .superRefine((s, ctx) => {
    const problem = geometryProblem(s.geometry);
    if (problem !== null) ctx.addIssue({ code: 'custom', path: ['geometry'], message: problem });
    // Page counts are relative to the machine: judged only on a usable geometry.
    else for (const p of scenarioLimitProblems(asScenario(s))) ctx.addIssue({ code: 'custom', path: [...p.path], message: p.message });
    if (s.cca !== undefined && s.backend !== 'cca') ctx.addIssue({ code: 'custom', path: ['cca'], message: `only a cca scenario has a cca section (backend is ${s.backend})` });
    if (s.launch !== undefined && s.backend === 'cca') ctx.addIssue({ code: 'custom', path: ['launch'], message: 'launch is for snp and tdx (a realm is created by its own op, arm_realm_create)' });
    if (s.vcpus !== undefined && s.backend !== 'tdx') ctx.addIssue({ code: 'custom', path: ['vcpus'], message: `a second vCPU is modelled for tdx only (backend is ${s.backend})` });
    s.ops.forEach((o, i) => {
      if ('vcpu' in o && o.vcpu !== undefined && s.vcpus === undefined) ctx.addIssue({ code: 'custom', path: ['ops', i, 'vcpu'], message: SECOND_VCPU_MISSING });
      if (o.kind !== 'pre_fault_memory') return;
      if (s.backend === 'cca') ctx.addIssue({ code: 'custom', path: ['ops', i, 'kind'], message: 'KVM_PRE_FAULT_MEMORY is modelled for snp and tdx (the Arm trees modelled have none)' });
      else if (s.ops.slice(0, i).some((p) => LAUNCH_FINISH_OPS.includes(p.kind))) ctx.addIssue({ code: 'custom', path: ['ops', i, 'kind'], message: PRE_FAULT_AFTER_LAUNCH });
    });
    if (s.inPlace !== undefined && s.hugepages !== undefined) ctx.addIssue({ code: 'custom', path: ['inPlace'], message: 'a scenario runs one what-if machine: in-place or hugepages, not both' });
    for (const p of boundConversions(s.ops)) ctx.addIssue({ code: 'custom', path: ['ops', p], message: BOUND_CONVERSION });
    if (s.hugepages !== undefined) {
      const pmd = s.geometry.pmd_order;
      if (s.backend === 'cca') ctx.addIssue({ code: 'custom', path: ['hugepages'], message: 'the hugepages what-if is modelled for snp and tdx only' });
      else if (s.hugepages.order !== pmd && s.hugepages.order !== 2 * pmd) ctx.addIssue({ code: 'custom', path: ['hugepages', 'order'], message: `a huge folio is PMD_ORDER (${pmd}) or PUD_ORDER (${2 * pmd}) of this geometry, got ${s.hugepages.order}` });
    }
  });

/** The threads of a concurrent scenario and its schedule (Scenario.threads, Scenario.schedule). */
const threadsPart = z.strictObject({
  threads: z.array(z.array(op).min(1).max(8)).min(1).max(4),
  schedule: z.array(int.min(0).max(4)).max(10_000).optional(),
});

/**
 * A scenario with threads, as `gmemcheck interleave` prints and reads it: a scenario (above) and
 * its `threads` and `schedule`. corpus/ keeps single-thread scenarios; corpus/threads/ these
 * (properties/corpus/threads.ts).
 */
export function parseThreadedScenario(input: unknown): { readonly scenario: Scenario } | { readonly problems: readonly SchemaProblem[] } {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) return { problems: [{ path: '(top level)', message: 'a scenario is a JSON object' }] };
  const { threads, schedule, ...rest } = input as Record<string, unknown>;
  const base = scenarioSchema.safeParse(rest);
  const extra = threadsPart.safeParse({ threads, ...(schedule === undefined ? {} : { schedule }) });
  const problems = [...(base.success ? [] : issuesOf(base.error)), ...(extra.success ? [] : issuesOf(extra.error))];
  if (base.success && extra.success) {
    const all = [...base.data.ops, ...extra.data.threads.flat()];
    for (const i of boundConversions(all, false)) if (i >= base.data.ops.length) problems.push({ path: `threads (operation ${i - base.data.ops.length} of them)`, message: BOUND_CONVERSION });
    extra.data.threads.forEach((ops, t) => ops.forEach((o, i) => {
      if ('vcpu' in o && o.vcpu !== undefined && base.data.vcpus === undefined) problems.push({ path: `threads.${t}.${i}.vcpu`, message: SECOND_VCPU_MISSING });
      // The threads run once `ops` are done, in an order only the schedule fixes.
      if (o.kind === 'pre_fault_memory') problems.push({ path: `threads.${t}.${i}.kind`, message: `${PRE_FAULT_AFTER_LAUNCH}; in a thread its order against a finish is the schedule's, so threads have none` });
    }));
  }
  if (!base.success || !extra.success || problems.length > 0) return { problems };
  return { scenario: { ...asScenario(base.data), threads: extra.data.threads, ...(extra.data.schedule === undefined ? {} : { schedule: extra.data.schedule }) } };
}

const PRE_FAULT_AFTER_LAUNCH = 'KVM_PRE_FAULT_MEMORY is modelled before the launch finishes only (the fault path after it is the guest\'s, not populate\'s): put it before snp_launch_finish / tdx_finalize_vm';

const SECOND_VCPU_MISSING = 'names vCPU 1, but the scenario has vCPU 0 alone (add "vcpus": 2)';

const BOUND_CONVERSION = 'a conversion to shared of guest_memfd pages a memslot binds, once a populate may have run, is not modelled (the SNP/TDX hooks that take a populated page back from the guest): convert before any populate, or pages past the binding';

/**
 * The `gmem_convert` operations (by index in `ops`) the model cannot judge: a conversion to
 * shared of a range some KVM_SET_USER_MEMORY_REGION2 of the scenario binds, after a populate
 * operation (`ordered`: earlier in `ops`; else anywhere, for threads whose order is the
 * schedule's). Taking a populated page back from the guest is the vendor's hook (SNP's RMP, the
 * TDX S-EPT), which the in-place series adds and the model does not (guest_memfd_inplace.ts).
 * Conversions to private, and to shared before any populate (the VMM writing its initial image,
 * Yan Zhao's steps 3-5 on v8 23/46), are the series' own code. On a revision whose populate reads
 * the VM's attributes (all but the series' own, Revision.gmemAttributes) they run a hybrid of old
 * populate and new conversions; the generator draws them only for the series' revisions.
 */
function boundConversions(ops: readonly z.infer<typeof op>[], ordered = true): number[] {
  const bound = ops.flatMap((o) => (o.kind === 'set_user_memory_region2' ? [{ file: o.guest_memfd, start: Number(o.guest_memfd_offset), end: Number(o.guest_memfd_offset) + o.memory_size }] : []));
  const populates = ops.flatMap((o, i) => (POPULATE_OPS.includes(o.kind) ? [i] : []));
  return ops.flatMap((o, i) => (o.kind === 'gmem_convert' && o.to === 'shared' && populates.some((p) => !ordered || p < i) &&
    bound.some((b) => b.file === o.guest_memfd && o.offset < b.end && b.start < o.offset + o.size) ? [i] : []));
}

/** One problem with a stored scenario: where (a JSON path) and what. */
export interface SchemaProblem {
  readonly path: string;
  readonly message: string;
}

/** A field's path as a reader writes it: `scenario.ops[3].nr_pages`, `verdicts["v7.0"]`. */
export function fieldPath(path: readonly PropertyKey[]): string {
  return z.core.toDotPath([...path]) || '(top level)';
}

export function issuesOf(error: z.ZodError, prefix: readonly (string | number)[] = []): SchemaProblem[] {
  return error.issues.map((i) => ({ path: fieldPath([...prefix, ...i.path]), message: i.message }));
}

/** A validated stored scenario is a Scenario (checked at compile time by this assignment). */
export function asScenario(s: z.infer<typeof scenarioSchema>): Scenario {
  return s;
}

import { errnoName } from '../model/kernel/errno.js';
import type { Event } from '../model/world/events.js';
import type { Violation } from '../properties/Invariant.js';
import { eventText, opText } from './format.js';

/**
 * A run as a kernel log: each operation, then (when the run traced calls) each kernel call with
 * its arguments and result, the state changes it made indented under it, and the invariants it
 * broke right after the operation that broke them.
 */
interface Node {
  readonly fn: string;
  readonly args: string;
  readonly line: string;
  ret: string;
  readonly children: Node[];
}

/** Look-ups and checks that say nothing when they pass; shown with --verbose. */
const QUIET = new Set([
  'to_kvm_tdx', 'to_tdx', 'page_to_pfn', 'pfn_to_page', 'folio_test_hwpoison', 'folio_test_uptodate', 'folio_file_pfn',
  'folio_file_page', 'folio_order', 'folio_nr_pages', 'folio_page', 'kvm_slot_has_gmem', 'kvm_slot_can_be_private',
  'gmem_file_exists', 'gmem_file_size', 'gmem_file_flags', 'gmem_bindings_any', 'memslot_by_id', 'memslot_overlaps',
  'kvm_gmem_get_index', 'vt_is_tdx_private_gpa', 'pre_fault_allowed', 'kvm_vm_dead', 'tdx_operand_busy', 'sev_get_asid',
  'sev_snp_guest', 'sev_snp_context', 'cond_resched', 'copy_struct_from_user', 'kvm_gmem_bindings_load',
  'tdp_mmu_mirror_spte', 'lockdep_assert_held', 'pr_debug', 'local_page_ptrs',
]);
const QUIET_WHEN_FALSE = new Set(['signal_pending', 'WARN_ON', 'WARN_ON_ONCE', 'WARN', 'KVM_BUG_ON', 'KVM_BUG', 'TDX_BUG_ON_2']);

function shown(n: Node, verbose: boolean): boolean {
  if (verbose || n.children.length > 0) return true;
  return !QUIET.has(n.fn) && !(QUIET_WHEN_FALSE.has(n.fn) && n.ret === 'false');
}

/** One line of the trace as data: a kernel call (with its arguments and result) or a state change. */
export interface TraceNode {
  readonly fn?: string;
  readonly args?: string;
  readonly ret?: string;
  /** A state change (`* ...` in the text form). */
  readonly state?: string;
  readonly children: readonly TraceNode[];
}

/** One operation of the trace as data. */
export interface TraceOp {
  readonly index: number;
  readonly op: string;
  readonly calls: readonly TraceNode[];
  readonly ret: string;
  readonly out: Readonly<Record<string, number>>;
  /** The struct the kernel wrote back into a read-only mapping: the copy faulted, userspace never saw it. */
  readonly lost?: Readonly<Record<string, number>>;
  readonly violations: readonly Violation[];
}

/** The run as data: what the text trace prints, structured (`--json`). */
export function buildTrace(log: readonly Event[], violations: readonly Violation[], opts: { verbose?: boolean } = {}): TraceOp[] {
  const ops: TraceOp[] = [];
  const quiet = new Set(['mem_read', 'mem_write', 'page_ref', 'folio', 'file_ref', 'kmap', 'kunmap']);
  let stack: Node[] = [];
  let roots: Node[] = [];
  let current: { index: number; op: string } | undefined;
  const toData = (nodes: readonly Node[]): TraceNode[] =>
    nodes.filter((n) => shown(n, opts.verbose === true)).map((n): TraceNode => (n.fn === ''
      ? { state: n.line.slice(2), children: [] }
      : { fn: n.fn, args: n.args, ...(n.ret === '' || n.ret === 'undefined' ? {} : { ret: n.ret }), children: toData(n.children) }));
  for (const e of log) {
    if (e.kind === 'op_begin') {
      roots = [];
      stack = [];
      current = { index: e.index, op: opText(e.op) };
      continue;
    }
    if (e.kind === 'op_end') {
      ops.push({ index: e.index, op: current?.op ?? '', calls: toData(roots), ret: errnoName(e.ret), out: e.out, ...(e.lost === undefined ? {} : { lost: e.lost }), violations: violations.filter((x) => x.opIndex === e.index) });
      continue;
    }
    const into = stack[stack.length - 1]?.children ?? roots;
    if (e.kind === 'call') {
      const node: Node = { fn: e.fn, args: e.args, line: `${e.fn}(${e.args})`, ret: '', children: [] };
      into.push(node);
      stack.push(node);
      continue;
    }
    if (e.kind === 'ret') {
      const node = stack.pop();
      if (node !== undefined) node.ret = e.ret;
      continue;
    }
    if (e.kind === 'crash') {
      // Where the kernel died: under the innermost call still open, and the operation ends.
      into.push({ fn: '', args: '', line: `* ${eventText(e) ?? ''}`, ret: '', children: [] });
      const index = current?.index ?? ops.length;
      ops.push({ index, op: current?.op ?? '', calls: toData(roots), ret: e.crash.kind === 'soft_lockup' ? 'soft lockup' : 'oops', out: {}, violations: violations.filter((x) => x.opIndex === index) });
      continue;
    }
    if (!opts.verbose && quiet.has(e.kind)) continue;
    const text = eventText(e);
    if (text !== undefined) into.push({ fn: '', args: '', line: `* ${text}`, ret: '', children: [] });
  }
  return ops;
}

/** The trace as the kernel-log text a reviewer reads. */
export function formatTrace(ops: readonly TraceOp[]): string {
  const out: string[] = [];
  const lines = (nodes: readonly TraceNode[], depth: number): void => {
    for (const n of nodes) {
      out.push(`${'  '.repeat(depth)}${n.state !== undefined ? `* ${n.state}` : `${n.fn ?? ''}(${n.args ?? ''})${n.ret === undefined ? '' : ` = ${n.ret}`}`}`);
      lines(n.children, depth + 1);
    }
  };
  for (const op of ops) {
    out.push(`#${op.index} ${op.op}`);
    lines(op.calls, 1);
    const fields = (o: Readonly<Record<string, number>>) => Object.entries(o).map(([k, v]) => `${k}=${Number.isInteger(v) && Math.abs(v) >= 256 ? `0x${v.toString(16)}` : v}`).join(' ');
    const outs = fields(op.out);
    out.push(`  => ${op.ret}${outs === '' ? '' : `  (${outs})`}`);
    if (op.lost !== undefined) out.push(`     the copy back faulted; the kernel had written (${fields(op.lost)})`);
    for (const v of op.violations) out.push(`  VIOLATION [${v.invariant}/${v.messageId}] ${v.message}`);
  }
  return out.join('\n');
}

export function renderTrace(log: readonly Event[], violations: readonly Violation[], opts: { verbose?: boolean } = {}): string {
  return formatTrace(buildTrace(log, violations, opts));
}

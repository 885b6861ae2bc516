// @ts-check
import { PluginKind, declareValuePlugin } from '@stryker-mutator/api/plugin';

/**
 * Mutants Stryker need not make in the model (stryker.config.mjs `ignorers`): text a revision
 * only prints. A violation's signature is invariant, message id and kernel function
 * (properties/signature.ts); pr_debug() lines, WARN()/KVM_BUG() messages, SEAMCALL names in
 * TDX_BUG_ON*(), the macro name and message the TDX services hand kvmBug(), and the names of
 * on-stack page arrays reach a report's prose, never a verdict, so mutating them only makes
 * equivalent mutants.
 */
const PRINTK = new Set(['pr_debug', 'pr_info', 'pr_warn', 'pr_err']);
/** Callee name -> index of its first argument that is only printed. */
const PRINTED_ARG = new Map([['WARN', 1], ['KVM_BUG', 2], ['TDX_BUG_ON', 1], ['TDX_BUG_ON_2', 1], ['local_page_ptrs', 0], ['kvmBug', 1]]);

/** @param {import('@babel/types').Node | null | undefined} node */
function calleeName(node) {
  if (node?.type !== 'CallExpression') return undefined;
  const c = node.callee;
  if (c.type === 'MemberExpression' && c.property.type === 'Identifier') return c.property.name;
  return c.type === 'Identifier' ? c.name : undefined;
}

/** @param {import('@babel/types').Statement | null | undefined} s */
function isPrintk(s) {
  if (s?.type === 'BlockStatement') return s.body.length === 1 && isPrintk(s.body[0]);
  return s?.type === 'ExpressionStatement' && PRINTK.has(calleeName(s.expression) ?? '');
}

export const strykerPlugins = [
  declareValuePlugin(PluginKind.Ignore, 'kernel-diagnostics', {
    /** @param {import('@babel/core').NodePath} path */
    shouldIgnore(path) {
      const n = path.node;
      if (isPrintk(/** @type {import('@babel/types').Statement} */ (n))) return 'pr_*() output is printed, never judged';
      if (n.type === 'IfStatement' && n.alternate == null && isPrintk(n.consequent)) return 'a condition that only decides whether to pr_*()';
      if (n.type === 'StringLiteral' || n.type === 'TemplateLiteral') {
        const parent = path.parent;
        const first = PRINTED_ARG.get(calleeName(parent) ?? '');
        const arg = parent.type === 'CallExpression' ? parent.arguments.indexOf(/** @type {never} */ (n)) : -1;
        if (first !== undefined && arg >= first) return 'a message or name that is printed, never judged';
        // tdh_*(&kvm_tdx->td, ...): a VM has one TD in the model, so the handle names it whatever it says.
        if (arg === 0 && calleeName(parent)?.startsWith('tdh_')) return 'the TD handle: one TD per VM';
      }
      return undefined;
    },
  }),
];

import { defineInvariant } from '../Invariant.js';

/**
 * WARN_ON() and KVM_BUG_ON() mark "cannot happen": a kernel bug, or in KVM_BUG_ON's case a
 * firmware failure bad enough to kill the VM. If userspace can trigger one with ioctl
 * arguments alone, that is itself a bug (panic_on_warn turns it into a host crash). E.g. v7.0's
 * `WARN_ON_ONCE(type != ZERO && !src_page)` fires for `uaddr == 0`, fixed in June 2026 by
 * rejecting a NULL uaddr up front. The same holds when the only failures on the way are ones
 * userspace or memory pressure brings about: an allocation failing (syzkaller's fail_nth
 * reports the WARNs it triggers), a pending signal, a GUP fault. Only a firmware (or TDX-module)
 * failure excuses a warning.
 */
export const warnReachable = defineInvariant({
  id: 'warn-reachable',
  description: 'Forbid WARN and KVM_BUG reachable from userspace, memory pressure or signals, without a firmware failure',
  cites: [
    'Documentation/process/coding-style.rst ("Do not WARN lightly")',
    'Documentation/fault-injection/fault-injection.rst (fail_nth: allocation failures that syzkaller injects)',
    'kvm-x86/linux:arch/x86/kvm/svm/sev.c@1a27afa0 (snp_launch_update rejects !params.uaddr)',
  ],
  observes: ['warn', 'fault'],
  messages: {
    // The id predates allocation, signal and GUP faults excusing nothing: "fault" in it means a
    // firmware failure. A kernel-side fault injected before the warning is named in the text.
    warnWithoutFault: '{macro} in {site} fired with no injected firmware failure{under}{message}',
  },
  scope: 'operation',
  create: () => {
    const faults: string[] = [];
    let firmware = false;
    return {
      event(e, _w, _b, report) {
        if (e.kind === 'fault') {
          faults.push(e.fault);
          firmware = firmware || e.source === 'fw';
        }
        if (e.kind !== 'warn' || firmware) return;
        const under = faults.length === 0 ? '' : ` (injected before it: ${faults.join(', ')})`;
        report('warnWithoutFault', { macro: e.macro, site: e.site, under, message: e.message === '' ? '' : `: ${e.message}` });
      },
    };
  },
});

import { defineInvariant } from '../Invariant.js';

/**
 * WARN_ON() and KVM_BUG_ON() mark "cannot happen": a kernel bug, or in KVM_BUG_ON's case a
 * firmware failure bad enough to kill the VM. If userspace can trigger one with ioctl
 * arguments alone, that is itself a bug (panic_on_warn turns it into a host crash). So a warning
 * is allowed only in a run where the fault plan injected a failure before it. E.g. v7.0's
 * `WARN_ON_ONCE(type != ZERO && !src_page)` fires for `uaddr == 0`, fixed in June 2026 by
 * rejecting a NULL uaddr up front.
 */
export const warnReachable = defineInvariant({
  id: 'warn-reachable',
  description: 'Forbid WARN and KVM_BUG reachable from userspace without an injected failure',
  cites: [
    'Documentation/process/coding-style.rst ("Do not WARN lightly")',
    'kvm-x86/linux:arch/x86/kvm/svm/sev.c@1a27afa0 (snp_launch_update rejects !params.uaddr)',
  ],
  observes: ['warn', 'fault'],
  messages: {
    warnWithoutFault: '{macro} in {site} fired with no injected failure{message}',
  },
  create: () => {
    let faulted = false;
    return {
      event(e, _w, _b, report) {
        if (e.kind === 'fault') faulted = true;
        if (e.kind === 'warn' && !faulted) report('warnWithoutFault', { macro: e.macro, site: e.site, message: e.message === '' ? '' : `: ${e.message}` });
      },
    };
  },
});

import { emit, currentSite, type World } from '../../world/World.js';
import type { WarnMacro } from '../../world/events.js';
import type { Kvm } from './kvmcore.js';

/**
 * WARN*() and KVM_BUG*() (include/asm-generic/bug.h, include/linux/kvm_host.h). Each returns
 * its condition, as the macros do, and logs a `warn` event when it fires. `_ONCE` is left to
 * the invariants: every firing is logged. KVM_BUG_ON() marks the VM bugged, after which KVM
 * fails every VM and vCPU ioctl with -EIO.
 */
export interface BugServices {
  WARN_ON(cond: boolean): boolean;
  WARN_ON_ONCE(cond: boolean): boolean;
  WARN(cond: boolean, message: string): boolean;
  KVM_BUG_ON(cond: boolean, kvm: Kvm): boolean;
  KVM_BUG(cond: boolean, kvm: Kvm, message: string): boolean;
  pr_debug(message: string): void;
  pr_warn(message: string): void;
}

export function fireWarn(w: World, macro: WarnMacro, cond: boolean, message: string): boolean {
  if (cond) emit(w, { kind: 'warn', macro, site: currentSite(w), message });
  return cond;
}

export function kvmBug(w: World, macro: WarnMacro, cond: boolean, message: string): boolean {
  if (cond) {
    emit(w, { kind: 'warn', macro, site: currentSite(w), message });
    w.kvm.vm_bugged = true;
  }
  return cond;
}

export function bugServices(w: World): BugServices {
  return {
    WARN_ON: (c) => fireWarn(w, 'WARN_ON', c, ''),
    WARN_ON_ONCE: (c) => fireWarn(w, 'WARN_ON_ONCE', c, ''),
    WARN: (c, m) => fireWarn(w, 'WARN', c, m),
    KVM_BUG_ON: (c) => kvmBug(w, 'KVM_BUG_ON', c, ''),
    KVM_BUG: (c, _kvm, m) => kvmBug(w, 'KVM_BUG', c, m),
    pr_debug(m) {
      if (w.traceCalls) emit(w, { kind: 'note', text: `pr_debug: ${m}` });
    },
    pr_warn(m) {
      emit(w, { kind: 'note', text: `pr_warn: ${m}` });
    },
  };
}

import { errnoName } from '../model/kernel/errno.js';
import type { Fault, Op } from '../model/scenario/Scenario.js';
import type { Event } from '../model/world/events.js';
import { faultText } from '../model/kernel/faults.js';
import { snpPageTypeName } from '../model/backends/snp/uapi.js';
import { FALLOC_FL_KEEP_SIZE, FALLOC_FL_PUNCH_HOLE } from '../model/kernel/guest_memfd.js';

/** Number as the kernel logs it: hex from 256 up. */
export function hx(n: number | bigint): string {
  if (typeof n === 'bigint') return n >= 256n || n <= -256n ? `${n < 0n ? '-' : ''}0x${(n < 0n ? -n : n).toString(16)}` : String(n);
  return Number.isInteger(n) && Math.abs(n) >= 256 ? `${n < 0 ? '-' : ''}0x${Math.abs(n).toString(16)}` : String(n);
}

/** fallocate()'s mode as its flag names, the bits with no name in hex. */
function fallocMode(mode: number): string {
  const names = [[FALLOC_FL_KEEP_SIZE, 'KEEP_SIZE'], [FALLOC_FL_PUNCH_HOLE, 'PUNCH_HOLE']] as const;
  const rest = names.reduce((m, [bit]) => m & ~bit, mode);
  const parts = [...names.filter(([bit]) => (mode & bit) !== 0).map(([, n]) => n), ...(rest !== 0 ? [hx(rest)] : [])];
  return parts.length === 0 ? '0' : parts.join('|');
}

/** An operation as the ioctl a VMM would issue, with every argument. */
export function opText(op: Op): string {
  switch (op.kind) {
    case 'create_guest_memfd': return `KVM_CREATE_GUEST_MEMFD { size: ${hx(op.size)}, flags: ${hx(op.flags)} }`;
    case 'set_user_memory_region2': return `KVM_SET_USER_MEMORY_REGION2 { slot: ${op.slot}, flags: ${op.flags}, guest_phys_addr: ${hx(op.guest_phys_addr)}, memory_size: ${hx(op.memory_size)}, guest_memfd: ${op.guest_memfd}, guest_memfd_offset: ${hx(op.guest_memfd_offset)} }`;
    case 'set_memory_attributes': return `KVM_SET_MEMORY_ATTRIBUTES { address: ${hx(op.address)}, size: ${hx(op.size)}, attributes: ${hx(op.attributes)}, flags: ${hx(op.flags)} }`;
    case 'mmap': return `mmap(${hx(op.addr)}, ${hx(op.length)}, ${op.prot === 'rw' ? 'PROT_READ|PROT_WRITE' : 'PROT_READ'})${op.holes.length > 0 ? ` with page(s) ${op.holes.join(',')} unmapped` : ''}, filled by userspace`;
    case 'munmap': return `munmap(${hx(op.addr)}, ${hx(op.length)})`;
    case 'madvise': return `madvise(${hx(op.addr)}, ${hx(op.length)}, ${({ 4: 'MADV_DONTNEED', 9: 'MADV_REMOVE', 21: 'MADV_PAGEOUT' } as const)[op.advice]})`;
    case 'snp_launch_update': return `KVM_SEV_SNP_LAUNCH_UPDATE { gfn_start: ${hx(op.gfn_start)}, uaddr: ${hx(op.uaddr)}, len: ${hx(op.len)}, type: ${snpPageTypeName(op.type)}, flags: ${op.flags} }${readOnlyText(op.arg_readonly)}${faultsText(op.faults)}`;
    case 'snp_launch_start': return 'KVM_SEV_SNP_LAUNCH_START';
    case 'snp_launch_finish': return `KVM_SEV_SNP_LAUNCH_FINISH${faultsText(op.faults)}`;
    case 'tdx_init_vcpu': return `KVM_TDX_INIT_VCPU (vCPU ${op.vcpu ?? 0})${op.flags ? ` flags ${op.flags}` : ''}${op.hw_error ? ` hw_error ${op.hw_error}` : ''}`;
    case 'tdx_init_mem_region': return `KVM_TDX_INIT_MEM_REGION { source_addr: ${hx(op.source_addr)}, gpa: ${hx(op.gpa)}, nr_pages: ${op.nr_pages} } flags ${op.flags}${op.vcpu === undefined ? '' : ` (vCPU ${op.vcpu})`}${op.hw_error ? ` hw_error ${op.hw_error}` : ''}${readOnlyText(op.arg_readonly)}${faultsText(op.faults)}`;
    case 'tdx_finalize_vm': return `KVM_TDX_FINALIZE_VM${faultsText(op.faults)}`;
    case 'arm_rmi_populate': return `KVM_ARM_RMI_POPULATE { base: ${hx(op.base)}, size: ${hx(op.size)}, source_uaddr: ${hx(op.source_uaddr)}, flags: ${op.flags}, reserved: ${op.reserved} }${readOnlyText(op.arg_readonly)}${faultsText(op.faults)}`;
    case 'arm_realm_create': return `KVM_ENABLE_CAP(KVM_CAP_ARM_RME, CREATE_REALM)${faultsText(op.faults)}`;
    case 'arm_realm_activate': return `first vCPU run (kvm_activate_realm)${faultsText(op.faults)}`;
    case 'fallocate': return `fallocate(gmem ${op.guest_memfd}, ${fallocMode(op.mode)}, ${hx(op.offset)}, ${hx(op.len)})${faultsText(op.faults)}`;
    case 'memory_failure': return `memory_failure(the page at gmem ${op.guest_memfd} offset ${hx(op.offset)})`;
    case 'punch_hole': return `fallocate(gmem ${op.guest_memfd}, PUNCH_HOLE|KEEP_SIZE, ${hx(op.offset)}, ${hx(op.len)})${faultsText(op.faults)}`;
    case 'gmem_user_fault': return `user fault on mmap of gmem ${op.guest_memfd} at offset ${hx(op.offset)}`;
    case 'gmem_convert': return `convert gmem ${op.guest_memfd} [${hx(op.offset)}, +${hx(op.size)}) to ${op.to} (the in-place series' ioctl)`;
    case 'pre_fault_memory': return `KVM_PRE_FAULT_MEMORY (vCPU ${op.vcpu ?? 0}) { gpa: ${hx(op.gpa)}, size: ${hx(op.size)}, flags: ${hx(op.flags)} }${readOnlyText(op.arg_readonly)}${faultsText(op.faults)}`;
    case 'close_vm': return 'close(vm fd)';
    case 'close_guest_memfd': return `close(gmem ${op.guest_memfd})${faultsText(op.faults ?? [])}`;
  }
}

function readOnlyText(readOnly: boolean | undefined): string {
  return readOnly === true ? ' in a read-only mapping' : '';
}

function faultsText(faults: readonly Fault[]): string {
  return faults.length === 0 ? '' : `  [faults: ${faults.map(faultText).join('; ')}]`;
}

/** One semantic event as a trace line, or undefined for events a trace leaves out. */
export function eventText(e: Event): string | undefined {
  switch (e.kind) {
    case 'op_begin': case 'op_end': case 'call': case 'ret': return undefined;
    case 'page_ref': return `page ${hx(e.pfn)} refcount ${e.delta > 0 ? '+1' : '-1'} = ${e.refcount} (${e.via})`;
    case 'gup': return `GUP ${hx(e.start)} x${e.nr_pages} flags ${e.gup_flags === 0 ? '0' : 'FOLL_WRITE'}: pinned [${e.pfns.map(hx).join(', ')}] = ${errnoName(e.ret)}`;
    case 'page_alloc': return `alloc pfn ${hx(e.pfn)} for ${e.owner.kind}`;
    case 'page_free': return `free pfn ${hx(e.pfn)} (was ${e.owner.kind}) back to the allocator`;
    case 'page_leak': return `LEAK pfn ${hx(e.pfn)} (${e.by})`;
    case 'kmap': return `kmap pfn ${hx(e.pfn)} at ${hx(e.vaddr)}`;
    case 'kunmap': return `kunmap pfn ${hx(e.pfn)} at ${hx(e.vaddr)}`;
    case 'mem_read': return `read pfn ${hx(e.pfn)} +${hx(e.offset)} len ${e.len} (${e.via})`;
    case 'mem_write': return `write pfn ${hx(e.pfn)} +${hx(e.offset)} len ${e.len} (${e.via})`;
    case 'gmem_pte': return `${e.action === 'map' ? 'PTE maps' : 'PTE zapped:'} guest_memfd ${e.file} index ${e.index} (pfn ${hx(e.pfn)}) in the VMM's mapping`;
    case 'shareability': return `guest_memfd ${e.file} indices [${e.start}, ${e.end}) now ${e.to}`;
    case 'lock': return `${e.action === 'might' ? 'might_lock' : e.action} ${e.lock} (${e.mode}) [thread ${e.thread}]`;
    case 'lockdep_assert_held': return e.held ? undefined : `lockdep_assert_held(${e.lock}) FAILED`;
    case 'kmalloc': return `kmalloc ${hx(e.ptr)} (${e.nmemb} x ${e.size} bytes)`;
    case 'kfree': return `kfree ${hx(e.ptr)}`;
    case 'file_ref': return `gmem ${e.file} file refcount ${e.delta > 0 ? '+1' : '-1'} = ${e.refcount}`;
    case 'bad_access': return `!!! ${e.what}: ${e.detail}`;
    case 'uninit_use': return `!!! uninitialised ${e.site} read as ${hx(e.value)}`;
    case 'warn': return `!!! ${e.macro} fired${e.message === '' ? '' : `: ${e.message}`}`;
    case 'fw': return `${e.cmd}(${e.args}) -> ${e.outcome.kind === 'succeeded' ? 'ok' : `${e.outcome.status}${e.outcome.status === 'RMI_ERROR_RTT' ? ` index ${e.outcome.index}` : ''} [${e.outcome.condition}${e.outcome.forced ? ', injected' : ''}]`}`;
    case 'fw_state': return `${e.what} ${e.key}: ${e.before} -> ${e.after}`;
    case 'measure': return `${e.register} += ${e.entry.what} gpa ${hx(e.entry.gpa)}${e.entry.contents === '' ? '' : ` #${e.entry.contents}`}`;
    case 'fault': return `injected: ${e.fault}`;
    case 'folio': return `folio pfn ${hx(e.pfn)} index ${e.index}: ${e.change}`;
    case 'attr': return `attributes gfn ${hx(e.gfn)}: ${e.before} -> ${e.after}`;
    case 'page_dirty': return `set_page_dirty pfn ${hx(e.pfn)}`;
    case 'note': return e.text;
    case 'crash': return e.crash.kind === 'soft_lockup'
      ? `!!! watchdog: BUG: soft lockup in ${e.crash.site} (${e.crash.work} units of kernel work in one operation)`
      : `!!! Oops: ${e.crash.name}: ${e.crash.message} in ${e.crash.site}`;
  }
}

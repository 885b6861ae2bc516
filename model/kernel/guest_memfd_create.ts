import { EINVAL } from './errno.js';
import type { Impl } from './bind.js';
import { GUEST_MEMFD_FLAG_INIT_SHARED, GUEST_MEMFD_FLAG_MMAP, type GmemK } from './guest_memfd.js';
import type { Kvm } from './services/kvmcore.js';
import { as_loff_t, u64, u64_test, u64ToNumber, U64_MAX, type u64 as U64 } from './u64.js';

/**
 * kvm_gmem_create() (KVM_CREATE_GUEST_MEMFD), per generation: which flags a VM with private
 * memory may ask for decides whether a guest_memfd of an SEV-SNP, TDX or realm VM can be mmap()ed
 * at all, so each revision's table takes the form its tree has.
 *
 * Both forms read `args->size` into a `loff_t` (its sign counts) and keep every bit of the u64
 * flags; `__kvm_gmem_create()` (the file itself) is the kernel-services side
 * (model/kernel/services/gmemfile.ts).
 */
export interface GmemCreateFns {
  /** KVM_CREATE_GUEST_MEMFD: returns the new file handle or -errno. */
  kvm_gmem_create(kvm: Kvm, size: U64, flags: U64): number;
}

function checkSizeAndCreate(k: GmemK, args_size: U64, flags: U64): number {
  const size = as_loff_t(args_size);
  if (size <= 0n || size % BigInt(k.PAGE_SIZE) !== 0n) return -EINVAL;
  // A page-aligned size below 2^63 is exactly a double (at most 51 significant bits).
  return k.gmem_file_create(Number(size), u64ToNumber(flags));
}

/**
 * v6.8 .. v6.17 (and v6.18-rc1) for a VM with private memory: no flag is valid. v6.8 .. v6.17
 * have `u64 valid_flags = 0` (torvalds/linux:virt/kvm/guest_memfd.c@a7800aa80ea4d5356b8474c2302812e9d4926fa6,
 * unchanged through @36cf63bb5df68836e55e2839f8174b404d47670b of July 2025). GUEST_MEMFD_FLAG_MMAP
 * came in v6.18 (3d3a04fad25a, the mmap series applied after 6.17-rc1,
 * https://lore.kernel.org/all/20250729225455.670324-1-seanjc@google.com/) only
 * `if (kvm_arch_supports_gmem_mmap(kvm))`, which x86 answered with `!kvm_arch_has_private_mem(kvm)`:
 * false for SEV-SNP and TDX VMs. The revisions on these trees (paolo-v1 on kvm/queue of April
 * 2024, v6.17, rme-v9 on v6.16-rc1) have no guest_memfd a host can map.
 */
export const gmemCreateV68: Impl<GmemCreateFns, GmemK> = {
  kvm_gmem_create(k, _kvm, args_size, args_flags) {
    const valid_flags = 0n;
    if (u64_test(args_flags, U64_MAX ^ valid_flags)) return -EINVAL;
    return checkSizeAndCreate(k, args_size, args_flags);
  },
};

/**
 * include/linux/kvm_host.h kvm_gmem_get_supported_flags() from v6.18-rc2
 * (torvalds/linux:include/linux/kvm_host.h@44c6cb9fe9888b371e31165b2854bd0f4e2787d4, "KVM: guest_memfd:
 * Allow mmap() on guest_memfd for x86 VMs with private memory", after fe2bf6234e94 added
 * INIT_SHARED): GUEST_MEMFD_FLAG_MMAP for every VM, GUEST_MEMFD_FLAG_INIT_SHARED where
 * kvm_arch_supports_gmem_init_shared() says so.
 */
function kvm_gmem_get_supported_flags(k: GmemK, kvm: Kvm): U64 {
  let flags = u64(GUEST_MEMFD_FLAG_MMAP);
  if (k.kvm_arch_supports_gmem_init_shared(kvm)) flags |= u64(GUEST_MEMFD_FLAG_INIT_SHARED);
  return flags;
}

/**
 * v6.18 and later (kvm-x86/linux:virt/kvm/guest_memfd.c@5e38e1bd4e7bbed05481fd358ed47396930b7d1a,
 * torvalds/linux:virt/kvm/guest_memfd.c@0f94e51b5320eacccc2626ab70b8d7e705332334,
 * kamalca/linux:virt/kvm/guest_memfd.c@6f122715419d21a1100823285cb48e99e2366be5): the
 * flags must be within kvm_gmem_get_supported_flags(kvm).
 */
export const gmemCreateV618: Impl<GmemCreateFns, GmemK> = {
  kvm_gmem_create(k, kvm, args_size, args_flags) {
    if (u64_test(args_flags, U64_MAX ^ kvm_gmem_get_supported_flags(k, kvm))) return -EINVAL;
    return checkSizeAndCreate(k, args_size, args_flags);
  },
};

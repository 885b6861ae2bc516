import fc from 'fast-check';
import type { Fault, Op } from '../../model/scenario/Scenario.js';
import type { Layout } from '../layout.js';
import { gfnInSlotArb } from '../sourceAddr.js';

type Shape = 'valid' | 'gpa_unaligned' | 'size_unaligned' | 'size_0' | 'wrap';

/**
 * KVM_PRE_FAULT_MEMORY while an x86 VM's launch is under way (model/kernel/pre_fault_memory.ts):
 * two times in three a page-aligned range of one to four pages from a gfn of the memslot (or
 * just outside it), else an unaligned gpa or size, size 0, or a range that wraps past 2^64
 * (PF.2; syzkaller's u64 values); independently, a flag one time in four (bit 0, or bit 63 past
 * any 32-bit read: PF.1, checked first). A valid range without flags is refused for the VM's
 * state (PF.3). Its struct lies in a read-only mapping one time in six (PF.4), and a signal is
 * pending one time in six (-EINTR). A flag on a valid range is what tells a missing flags check
 * (kvm-x86-next+pre-fault-flags-unchecked): one pre-fault in six.
 */
export function preFaultArb(l: Layout): fc.Arbitrary<Op> {
  const ps = BigInt(l.geometry.page_size);
  const shape = fc.oneof(
    { arbitrary: fc.constant<Shape>('valid'), weight: 2 },
    { arbitrary: fc.constantFrom<Shape>('gpa_unaligned', 'size_unaligned', 'size_0', 'wrap'), weight: 1 },
  );
  return fc
    .record({
      gfn: gfnInSlotArb(l),
      pages: fc.integer({ min: 1, max: 4 }),
      shape,
      flags: fc.oneof({ arbitrary: fc.constant(0n), weight: 3 }, { arbitrary: fc.constantFrom(1n, 1n << 63n), weight: 1 }),
      readOnly: fc.oneof({ arbitrary: fc.constant(false), weight: 5 }, { arbitrary: fc.constant(true), weight: 1 }),
      signal: fc.oneof({ arbitrary: fc.constant<Fault[]>([]), weight: 5 }, { arbitrary: fc.constant<Fault[]>([{ kind: 'signal', nth: 1 }]), weight: 1 }),
    })
    .map(({ gfn, pages, shape: s, flags, readOnly, signal }): Op => {
      const gpa = BigInt(gfn) * ps;
      const size = BigInt(pages) * ps;
      const range = {
        valid: { gpa, size },
        gpa_unaligned: { gpa: gpa + 1n, size },
        size_unaligned: { gpa, size: size - 1n },
        size_0: { gpa, size: 0n },
        // The last page below 2^64 and one more: gpa + size wraps to the range's start.
        wrap: { gpa: (1n << 64n) - ps, size: 2n * ps },
      }[s];
      return { kind: 'pre_fault_memory', ...range, flags, ...(readOnly ? { arg_readonly: true } : {}), faults: signal };
    });
}

/**
 * 64-bit uAPI fields. JavaScript's bitwise operators see 32 bits and its numbers are exact only
 * up to 2^53 - 1, so a u64 the C tests bit by bit (flags, attributes) or by sign (an offset the
 * kernel reads as `loff_t`) is a `bigint` from the scenario to the check that decides it. Once the
 * C's checks have passed, the value is small (a flag set inside its mask, a page index) and the
 * model goes on with a number (`u64ToIndex`).
 */
export type u64 = bigint;

export const U64_MAX: u64 = (1n << 64n) - 1n;

/** A u64 from a number the generators or tests wrote (a non-negative safe integer). */
export function u64(x: number | bigint): u64 {
  const v = BigInt(x);
  if (v < 0n || v > U64_MAX) throw new RangeError(`${String(x)} is not a u64`);
  return v;
}

/** `a + b` as C computes it on u64 (wraps modulo 2^64). */
export function u64_add(a: u64, b: u64): u64 {
  return BigInt.asUintN(64, a + b);
}

/** `a - b` as C computes it on u64 (wraps modulo 2^64). */
export function u64_sub(a: u64, b: u64): u64 {
  return BigInt.asUintN(64, a - b);
}

/** `x << shift` as C computes it on u64: the bits shifted past bit 63 are lost. */
export function u64_shl(x: u64, shift: number): u64 {
  return BigInt.asUintN(64, x << BigInt(shift));
}

/** The u64 read as the kernel's `loff_t` (signed 64-bit, two's complement). */
export function as_loff_t(x: u64): bigint {
  return BigInt.asIntN(64, x);
}

/** `a + b` on loff_t: the kernel builds with -fno-strict-overflow, so signed sums wrap. */
export function loff_add(a: bigint, b: bigint): bigint {
  return BigInt.asIntN(64, a + b);
}

/** `(x & mask) != 0` on u64. */
export function u64_test(x: u64, mask: u64): boolean {
  return (x & mask) !== 0n;
}

/** `x >> shift` as a page index the model computes with; indices of a u64 byte value fit 2^53. */
export function u64ToIndex(x: u64, shift: number): number {
  return Number(x >> BigInt(shift));
}

/** `min(x, n)` as a number: a u64 count read only as far as the model can walk (`n`). */
export function u64AtMost(x: u64, n: number): number {
  return x < BigInt(n) ? Number(x) : n;
}

/** A u64 the C has bounded (a flag set inside its mask, a page-aligned size) as a number. */
export function u64ToNumber(x: u64): number {
  if (x > BigInt(Number.MAX_SAFE_INTEGER)) throw new RangeError(`u64 0x${x.toString(16)} is past 2^53 - 1 where the model needs a number`);
  return Number(x);
}

/** How a u64 is written in JSON: a number while exact, else a `0x…` string the schema reads back. */
export function u64Json(x: u64): number | string {
  return x <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(x) : `0x${x.toString(16)}`;
}

/** JSON.stringify replacer for values that may hold u64 fields. */
export function jsonReplacer(_key: string, v: unknown): unknown {
  return typeof v === 'bigint' ? u64Json(v) : v;
}

/**
 * A u64 gfn as the number gfn the model's memslots are keyed by. Every memslot lies below 2^53
 * bytes (its guest_phys_addr is a number), so a gfn past 2^53 - 1 finds none; it becomes
 * Number.MAX_SAFE_INTEGER, which no slot holds either, rather than rounding to a neighbour.
 */
export function u64ToGfn(x: u64): number {
  return x > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(x);
}

/**
 * `x / d` of a u64 by a page size, as the `long` the C assigns it to: below 2^52 with 4 KiB pages,
 * so exact; with the model's smaller pages a quotient past 2^53 rounds, harmlessly, as every
 * kvm_gmem_populate() cuts npages to the slot's end before using it.
 */
export function u64_div_long(x: u64, d: number): number {
  return Number(BigInt.asIntN(64, x / BigInt(d)));
}

/** `x -= count * PAGE_SIZE` and `x += count` on a u64 field, `count` a `long` (C's conversions). */
export function u64_sub_pages(x: u64, count: number, pageSize: number): u64 {
  return u64_sub(x, BigInt(count) * BigInt(pageSize));
}

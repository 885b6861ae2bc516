import { setFlagsFromString } from 'node:v8';

/**
 * What the model needs to run kernel C compiled for wasm64: the engine flag, and the pointer
 * conventions between the C's 64-bit values and the model's numbers.
 *
 * wasm64 gives the C the kernel's LP64 arithmetic (`long`, `unsigned long` and pointers are
 * 64-bit; wasm32 would truncate a user address or overflow a page count where x86-64 does not).
 * Node 20's V8 accepts memory64 modules only behind `--experimental-wasm-memory64`, which
 * NODE_OPTIONS refuses but v8.setFlagsFromString() sets before the first module is compiled.
 */
let enabled = false;

export function enableMemory64(): void {
  if (enabled) return;
  setFlagsFromString('--experimental-wasm-memory64');
  enabled = true;
}

export function compileKernelModule(bytes: Uint8Array): WebAssembly.Module {
  enableMemory64();
  return new WebAssembly.Module(bytes);
}

/**
 * Something the tree's C did wrong at the boundary (a pointer that is no handle, a lock or file
 * the shim never built, a copy of the wrong size): the revision's oops, like a trap in the C
 * itself (properties/crash.ts). Any other error the shim throws is a gap in gmemcheck.
 */
export class KernelCFault extends Error {
  override readonly name = 'KernelCFault';
}

const U64 = 2n ** 64n;
const MAX_ERRNO = 4095n;

/** A C pointer or unsigned long as the unsigned 64-bit value it is (wasm hands i64 over signed). */
export function u64(v: bigint): bigint {
  return v < 0n ? v + U64 : v;
}

/**
 * Handles for objects the model owns and the C only passes back (`struct page *`,
 * `struct folio *`): a base above any linear memory the shim uses, so a C dereference of one
 * traps instead of reading the shim's own bytes.
 */
export const PAGE_HANDLE_BASE = 0x5000_0000_0000n;
export const FOLIO_HANDLE_BASE = 0x5800_0000_0000n;

/** The model's pointer number (NULL 0, ERR_PTR a negative errno) as a C pointer. */
export function toCPointer(v: number, base: bigint): bigint {
  if (v === 0) return 0n;
  if (v < 0) return BigInt(v);
  return base + BigInt(v);
}

/** A C pointer as the model's number: NULL 0, ERR_PTR a negative errno, else the handle's value. */
export function fromCPointer(p: bigint, base: bigint, what: string): number {
  const v = u64(p);
  if (v === 0n) return 0;
  if (v >= U64 - MAX_ERRNO) return Number(v - U64);
  if (v < base || v - base > BigInt(Number.MAX_SAFE_INTEGER)) throw new KernelCFault(`kernel C passed 0x${v.toString(16)} where a ${what} handle belongs`);
  return Number(v - base);
}

/** A u64 the C produced, as the model's number (values past 2^53 lose precision as the model's own do). */
export function toNumber(v: bigint): number {
  return Number(u64(v));
}

/** Byte access to an instance's linear memory (re-read after growth). */
export class LinearMemory {
  constructor(private readonly memory: WebAssembly.Memory) {}

  private view(): DataView {
    return new DataView(this.memory.buffer);
  }

  get size(): bigint {
    return BigInt(this.memory.buffer.byteLength);
  }

  /** Whether [p, p + n) lies inside linear memory. */
  contains(p: bigint, n: bigint): boolean {
    const v = u64(p);
    return v > 0n && v + n <= this.size;
  }

  at(p: bigint): number {
    return Number(u64(p));
  }

  u8(p: bigint): number {
    return this.view().getUint8(this.at(p));
  }

  setU8(p: bigint, v: number): void {
    this.view().setUint8(this.at(p), v);
  }

  u16(p: bigint): number {
    return this.view().getUint16(this.at(p), true);
  }

  setU16(p: bigint, v: number): void {
    this.view().setUint16(this.at(p), v, true);
  }

  i32(p: bigint): number {
    return this.view().getInt32(this.at(p), true);
  }

  setI32(p: bigint, v: number): void {
    this.view().setInt32(this.at(p), v, true);
  }

  u32(p: bigint): number {
    return this.view().getUint32(this.at(p), true);
  }

  setU32(p: bigint, v: number): void {
    this.view().setUint32(this.at(p), v >>> 0, true);
  }

  u64(p: bigint): bigint {
    return this.view().getBigUint64(this.at(p), true);
  }

  setU64(p: bigint, v: bigint): void {
    this.view().setBigUint64(this.at(p), BigInt.asUintN(64, v), true);
  }

  cString(p: bigint): string {
    const bytes = new Uint8Array(this.memory.buffer);
    const start = this.at(p);
    let end = start;
    while (end < bytes.length && bytes[end] !== 0) end++;
    return new TextDecoder().decode(bytes.subarray(start, end));
  }

  copyWithin(dst: bigint, src: bigint, n: number): void {
    new Uint8Array(this.memory.buffer).copyWithin(this.at(dst), this.at(src), this.at(src) + n);
  }

  fill(dst: bigint, c: number, n: number): void {
    new Uint8Array(this.memory.buffer).fill(c & 0xff, this.at(dst), this.at(dst) + n);
  }
}

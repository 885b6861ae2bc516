/**
 * Ghost state (not in the kernel): where each byte of a host page came from, so a wrong copy
 * is explained byte by byte. A tag is a number so a page's provenance is one Float64Array.
 *
 * Tags ≥ 0 name a byte written by userspace: `uaddr * 256 + generation`, where the generation
 * counts mappings of the same address (an address re-mapped with new contents gets new tags).
 * Negative tags name the other origins.
 */
export const PROV_ZERO = -1;
export const PROV_GARBAGE = -2;
export const PROV_FIRMWARE = -3;

export type Provenance =
  | { readonly kind: 'user'; readonly uaddr: number; readonly generation: number }
  | { readonly kind: 'zero' }
  | { readonly kind: 'garbage' }
  | { readonly kind: 'firmware' };

export function userTag(uaddr: number, generation: number): number {
  return uaddr * 256 + (generation % 256);
}

export function decodeProvenance(tag: number): Provenance {
  if (tag >= 0) return { kind: 'user', uaddr: Math.floor(tag / 256), generation: tag % 256 };
  if (tag === PROV_ZERO) return { kind: 'zero' };
  if (tag === PROV_FIRMWARE) return { kind: 'firmware' };
  return { kind: 'garbage' };
}

export function provenanceText(tag: number): string {
  const p = decodeProvenance(tag);
  switch (p.kind) {
    case 'user': return `user 0x${p.uaddr.toString(16)}`;
    case 'zero': return 'zero';
    case 'garbage': return 'stale';
    case 'firmware': return 'firmware';
  }
}

/** The byte value userspace writes at `uaddr`: a fixed function, so contents can be recomputed. */
export function userByte(uaddr: number, generation: number): number {
  let x = (uaddr ^ (generation * 0x9e37)) >>> 0;
  x = Math.imul(x ^ (x >>> 15), 0x2c1b3c6d) >>> 0;
  return (x ^ (x >>> 12)) & 0xff;
}

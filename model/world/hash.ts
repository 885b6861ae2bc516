/** FNV-1a over bytes, as 8 hex digits: a stand-in for the SHA-384 the firmware uses. */
export function hashBytes(data: Uint8Array): string {
  let h = 0x811c9dc5;
  for (const b of data) {
    h ^= b;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, '0');
}

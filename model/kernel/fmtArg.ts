/** Formats an argument for a trace line. */
export function fmtArg(v: unknown): string {
  if (typeof v === 'number') return Number.isInteger(v) && Math.abs(v) >= 256 ? `${v < 0 ? '-' : ''}0x${Math.abs(v).toString(16)}` : String(v);
  if (typeof v === 'boolean' || v === null || v === undefined) return String(v);
  if (typeof v === 'string') return v;
  if (typeof v === 'function') return v.name === '' ? 'fn' : v.name;
  if (typeof v === 'bigint') return v === 0n ? '0' : `0x${v.toString(16)}`;
  if (typeof v === 'object') {
    if ('ptr' in v && typeof v.ptr === 'number') return `0x${v.ptr.toString(16)}`;
    if ('id' in v && typeof v.id === 'number' && 'base_gfn' in v) return `slot${v.id}`;
    if ('tag' in v && typeof v.tag === 'string') return `&${v.tag}`;
    if ('slots_lock' in v) return 'kvm';
    if ('vcpu_id' in v && typeof v.vcpu_id === 'number') return `vcpu${v.vcpu_id}`;
    if ('argp' in v && 'id' in v && typeof v.id === 'string') return v.id;
    if ('id' in v && typeof v.id === 'string') return v.id;
    if ('err' in v && typeof v.err === 'bigint') return v.err === 0n ? 'TDX_SUCCESS' : `err 0x${v.err.toString(16)}`;
    if ('ret' in v && 'assigned' in v) return `{ret ${String(v.ret)}, assigned ${String(v.assigned)}}`;
    if ('state' in v && typeof v.state === 'string') return v.state;
    if ('pfn' in v) return '&out';
  }
  return '{…}';
}

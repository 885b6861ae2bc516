import type { Violation } from './Invariant.js';

/**
 * A violation's signature: which rule broke (invariant and message id) and the kernel function
 * where it arose. Two violations with one signature are taken to be one bug; a cell reports every
 * distinct signature it finds, the matrix lists the signatures each known bug shows, and the
 * corpus keeps one scenario per signature.
 */
export interface Signature {
  readonly invariant: string;
  readonly messageId: string;
  readonly site: string;
}

/** `invariant/messageId@site`, e.g. `refcount-balance/kmapLeaked@sev_gmem_post_populate`. */
export type SignatureKey = string;

const KEY = /^([a-z0-9-]+)\/([A-Za-z0-9_]+)@([A-Za-z0-9_.:+-]+)$/;

export function signatureOf(v: Pick<Violation, 'invariant' | 'messageId' | 'site'>): Signature {
  return { invariant: v.invariant, messageId: v.messageId, site: v.site };
}

export function signatureKey(s: Signature): SignatureKey {
  return `${s.invariant}/${s.messageId}@${s.site}`;
}

export function keyOf(v: Pick<Violation, 'invariant' | 'messageId' | 'site'>): SignatureKey {
  return signatureKey(signatureOf(v));
}

export function parseSignature(key: string): Signature | undefined {
  const m = KEY.exec(key);
  if (m === null) return undefined;
  return { invariant: m[1] ?? '', messageId: m[2] ?? '', site: m[3] ?? '' };
}

/**
 * The backend a signature's site belongs to, read off the kernel's own prefixes (the SEV code's
 * `snp_`/`sev_`, TDX's `tdx_`/`tdh_`, the Arm series' `realm_`/`rmi_`/`arm_rmi_`); undefined for
 * common code (guest_memfd, kvm_main, mm). A bug found on both x86 backends lists its signatures
 * at each backend's functions, and a cell can only show its own backend's.
 */
export function siteBackend(key: SignatureKey): 'snp' | 'tdx' | 'cca' | undefined {
  const site = parseSignature(key)?.site ?? '';
  if (/^(snp_|sev_)/.test(site)) return 'snp';
  if (/^(tdx_|tdh_)/.test(site)) return 'tdx';
  if (/^(realm_|rmi_|arm_rmi_)/.test(site)) return 'cca';
  return undefined;
}

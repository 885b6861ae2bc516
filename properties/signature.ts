import type { Violation } from './Invariant.js';

/**
 * A violation's signature: which rule broke (invariant and message id), the documented condition
 * it is about where the message covers many (Violation.detail), and the kernel function where it
 * arose. Two violations with one signature are taken to be one bug; a cell reports every
 * distinct signature it finds, the matrix lists the signatures each known bug shows, and the
 * corpus keeps one scenario per signature.
 */
export interface Signature {
  readonly invariant: string;
  readonly messageId: string;
  readonly detail?: string;
  readonly site: string;
}

/**
 * `invariant/messageId@site`, e.g. `refcount-balance/kmapLeaked@sev_gmem_post_populate`, or
 * with a detail `functional-spec/wrongErrno[S2.2]@snp_launch_update`.
 */
export type SignatureKey = string;

const KEY = /^([a-z0-9-]+)\/([A-Za-z0-9_]+)(?:\[([A-Za-z0-9.+*]+)\])?@([A-Za-z0-9_.:+*-]+)$/;

export function signatureOf(v: Pick<Violation, 'invariant' | 'messageId' | 'site' | 'detail'>): Signature {
  return { invariant: v.invariant, messageId: v.messageId, site: v.site, ...(v.detail === undefined ? {} : { detail: v.detail }) };
}

export function signatureKey(s: Signature): SignatureKey {
  return `${s.invariant}/${s.messageId}${s.detail === undefined ? '' : `[${s.detail}]`}@${s.site}`;
}

export function keyOf(v: Pick<Violation, 'invariant' | 'messageId' | 'site' | 'detail'>): SignatureKey {
  return signatureKey(signatureOf(v));
}

export function parseSignature(key: string): Signature | undefined {
  const m = KEY.exec(key);
  if (m === null) return undefined;
  return { invariant: m[1] ?? '', messageId: m[2] ?? '', ...(m[3] === undefined ? {} : { detail: m[3] }), site: m[4] ?? '' };
}

/**
 * Whether a bug's listed signature covers a found one. A listed site `*` stands for every
 * function, a listed detail `[*]` for every condition (with or without a detail): for
 * consequences whose condition is whatever the next call meets (a huge folio populated past the
 * request answers the next populate of those pages under whichever row), where listing rows would
 * make the matrix a record of one seed's draws. A listed key without a detail covers only findings
 * without one.
 */
export function signatureMatches(listed: SignatureKey, found: SignatureKey): boolean {
  if (listed === found) return true;
  const l = parseSignature(listed);
  const f = parseSignature(found);
  if (l === undefined || f === undefined) return false;
  return l.invariant === f.invariant && l.messageId === f.messageId
    && (l.site === '*' || l.site === f.site)
    && detailCovers(l.detail, f.detail);
}

/**
 * A found detail may name several rows (`T.13+T.8`: two conditions the trees of a generation
 * check in either order; `R9.6+R9.8`: a failure after some pages). A listed row covers every
 * answer it is one of the deciding rows of.
 */
function detailCovers(listed: string | undefined, found: string | undefined): boolean {
  if (listed === '*' || listed === found) return true;
  if (listed === undefined || found === undefined) return false;
  const rows = found.split('+');
  return listed.split('+').every((r) => rows.includes(r));
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

import type { Revision } from './Revision.js';
import type { BackendId } from '../scenario/Scenario.js';
import { kvm_x86_next } from './kvm-x86-next.js';
import { rfc_v1 } from './rfc-v1.js';
import { roth_v2 } from './roth-v2.js';
import { roth_v3_posted } from './roth-v3-posted.js';
import { kvm_x86_next_2025_11_07 } from './kvm-x86-next-2025.11.07.js';
import { paolo_v1 } from './paolo-v1.js';
import { v6_17 } from './v6.17.js';
import { v7_0 } from './v7.0.js';
import { rme_v9 } from './rme-v9.js';
import { rme_v12 } from './rme-v12.js';
import { rmi_newest } from './rmi-newest.js';
import { inplace_v7 } from './inplace-v7.js';
import { inplace_v8 } from './inplace-v8.js';

/** The modelled patch revisions: x86 oldest first, then Arm oldest first. */
export const REVISIONS: readonly Revision[] = [paolo_v1, v6_17, kvm_x86_next_2025_11_07, rfc_v1, roth_v2, roth_v3_posted, v7_0, kvm_x86_next, inplace_v7, inplace_v8, rme_v9, rme_v12, rmi_newest];

export function revisionById(id: string): Revision | undefined {
  return REVISIONS.find((r) => r.id === id);
}

/** The modelled revisions that run on `backend`, oldest first. */
export function revisionsFor(backend: BackendId): Revision[] {
  return REVISIONS.filter((r) => r.backends.includes(backend));
}

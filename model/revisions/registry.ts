import type { Revision } from './Revision.js';
import { kvm_x86_next } from './kvm-x86-next.js';
import { rfc_v1 } from './rfc-v1.js';
import { v6_11 } from './v6.11.js';
import { v7_0 } from './v7.0.js';

/** The modelled patch revisions, oldest first. */
export const REVISIONS: readonly Revision[] = [v6_11, rfc_v1, v7_0, kvm_x86_next];

export function revisionById(id: string): Revision | undefined {
  return REVISIONS.find((r) => r.id === id);
}

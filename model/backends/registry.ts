import type { BackendId } from '../scenario/Scenario.js';
import type { BackendModel } from './Backend.js';
import { snpBackend } from './snp/backend.js';
import { tdxBackend } from './tdx/backend.js';
import { ccaBackend } from './cca/backend.js';

/** Every backend, by id. */
export const BACKENDS: Readonly<Record<BackendId, BackendModel>> = {
  snp: snpBackend,
  tdx: tdxBackend,
  cca: ccaBackend,
};

export function backendById(id: BackendId): BackendModel {
  return BACKENDS[id];
}

import type { World } from '../../world/World.js';
import type { TdxState } from './state.js';

export function tdxOf(w: World): TdxState {
  if (w.fw.backend !== 'tdx') throw new Error(`TDX service used on a ${w.fw.backend} machine`);
  return w.fw;
}

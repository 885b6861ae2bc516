import { tdxExtendChunkSize } from '../../geometry.js';
import type { World } from '../../world/World.js';

/** Compile-time constants of the modelled machine, as the C reads its macros. */
export interface ConstServices {
  readonly PAGE_SIZE: number;
  readonly PAGE_SHIFT: number;
  /** PMD_ORDER (9 on x86-64 with 4K pages). */
  readonly PMD_ORDER: number;
  readonly TDX_EXTENDMR_CHUNKSIZE: number;
}

export function constServices(w: World): ConstServices {
  return {
    PAGE_SIZE: w.geo.page_size,
    PAGE_SHIFT: Math.log2(w.geo.page_size),
    PMD_ORDER: w.geo.pmd_order,
    TDX_EXTENDMR_CHUNKSIZE: tdxExtendChunkSize(w.geo),
  };
}

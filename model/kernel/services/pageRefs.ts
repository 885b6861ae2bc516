import { emit, type World } from '../../world/World.js';
import { pageOrBad, pageRefDec, pageRefInc } from '../pages.js';

/** `struct page *` handling: a page handle is its pfn; 0 is NULL. (include/linux/mm.h) */
export interface PageRefServices {
  get_page(page: number): void;
  put_page(page: number): void;
  /** Marks a GUP'd page dirty after the kernel wrote to it (mm/page-writeback.c). */
  set_page_dirty(page: number): void;
  page_to_pfn(page: number): number;
  pfn_to_page(pfn: number): number;
}

export function pageRefServices(w: World): PageRefServices {
  return {
    get_page(page) {
      const p = pageOrBad(w, page, 'get_page');
      if (p !== undefined) pageRefInc(w, p, 'get_page');
    },
    put_page(page) {
      const p = pageOrBad(w, page, 'put_page');
      if (p !== undefined) pageRefDec(w, p, 'put_page');
    },
    set_page_dirty(page) {
      const p = pageOrBad(w, page, 'set_page_dirty');
      if (p === undefined) return;
      p.dirty = true;
      emit(w, { kind: 'page_dirty', pfn: page });
    },
    page_to_pfn: (page) => page,
    pfn_to_page: (pfn) => pfn,
  };
}

import type { BackendModel } from '../model/backends/Backend.js';
import type { Op } from '../model/scenario/Scenario.js';
import { gmemUserAddress } from '../model/world/userspaceMm.js';
import type { Event } from '../model/world/events.js';
import { hostPage } from '../model/world/hostMemory.js';
import { PROV_GARBAGE, PROV_ZERO, userByte, userTag } from '../model/world/provenance.js';
import type { World } from '../model/world/World.js';
import { gfnFileIndex } from './views.js';

/**
 * What the VMM's mapping of a guest_memfd shows, page by page, as the in-place populate must load
 * it (in-place-source, measurement, coverage): recorded from the VMM's own writes, not from the
 * kernel's uptodate flag, so a kernel that loses the image (clears a page the VMM wrote) is seen.
 *
 * A page the VMM wrote (`gmem_user_fault` with `write`) holds its bytes until the folio leaves the
 * page cache or a populate covers the page (a populate from a buffer replaces them; a failed one,
 * or the firmware's CPUID correction, leaves what it left, which the VMM asked for). Any other page
 * shows what it holds if its folio is uptodate (a fault would map it as is), else zeros (the first
 * fault or populate clears it); bytes nobody wrote read as zero: stale host memory is not the VMM's.
 */
export class VmmImage {
  /** `file:index` → the folio pfn the VMM wrote and the generation of its bytes. */
  readonly #written = new Map<string, { readonly pfn: number; readonly generation: number }>();

  /** Watches `folio` events: a folio out of the page cache takes the VMM's bytes with it. */
  event(e: Event): void {
    if (e.kind !== 'folio' || e.change !== 'remove') return;
    for (const [key, f] of [...this.#written]) if (f.pfn === e.pfn) this.#written.delete(key);
  }

  opEnd(op: Op, w: World, backend: BackendModel): void {
    if (op.kind === 'gmem_user_fault' && op.write === true) {
      const index = Math.floor(op.offset / w.geo.page_size);
      const pfn = w.gmem.files.get(op.guest_memfd)?.hostMapped.get(index);
      const generation = w.mm.generations.get(gmemUserAddress(op.guest_memfd, index, w.geo.page_size));
      if (pfn !== undefined && generation !== undefined) this.#written.set(`${op.guest_memfd}:${index}`, { pfn, generation });
      return;
    }
    const req = backend.populateRequest(op, w.geo);
    if (req === undefined) return;
    for (let i = 0; i < req.npages; i++) {
      const at = gfnFileIndex(w, req.gfn_start + i);
      if (at !== undefined) this.#written.delete(`${at.file}:${at.index}`);
    }
  }

  /** Whether the VMM's own writes are what page `gfn` shows. */
  written(w: World, gfn: number): boolean {
    const at = gfnFileIndex(w, gfn);
    return at !== undefined && this.#written.has(`${at.file}:${at.index}`);
  }

  /** The bytes pages [gfn_start, gfn_start + npages) show the VMM, with their provenance. */
  expected(w: World, gfn_start: number, npages: number): { readonly data: Uint8Array; readonly prov: Float64Array } {
    const ps = w.geo.page_size;
    const data = new Uint8Array(npages * ps);
    const prov = new Float64Array(npages * ps).fill(PROV_ZERO);
    for (let i = 0; i < npages; i++) {
      const at = gfnFileIndex(w, gfn_start + i);
      if (at === undefined) continue;
      const mine = this.#written.get(`${at.file}:${at.index}`);
      if (mine !== undefined) {
        const base = gmemUserAddress(at.file, at.index, ps);
        for (let b = 0; b < ps; b++) {
          data[i * ps + b] = userByte(base + b, mine.generation);
          prov[i * ps + b] = userTag(base + b, mine.generation);
        }
        continue;
      }
      const folio = w.gmem.files.get(at.file)?.folios.get(at.index);
      const p = folio === undefined || !folio.uptodate ? undefined : hostPage(w.host, folio.pfn + (at.index - folio.index));
      if (p === undefined) continue;
      for (let b = 0; b < ps; b++) {
        const tag = p.prov[b] ?? PROV_GARBAGE;
        if (tag === PROV_GARBAGE) continue;
        data[i * ps + b] = p.data[b] ?? 0;
        prov[i * ps + b] = tag;
      }
    }
    return { data, prov };
  }
}

import { currentSite, type World } from '../../world/World.js';
import { switchPoint } from '../../world/switchPoint.js';
import { userAccessFaults, userPagePfn } from './gup.js';
import { readKva, writeKva } from './kmap.js';
import { readPage, writePage, type Bytes } from './memory.js';
import { MM_LOCK, mightLockRead } from './locking.js';
import { PROV_ZERO } from '../../world/provenance.js';

/**
 * copy_{from,to}_user() (include/linux/uaccess.h): copy through the user page tables and
 * return the number of bytes NOT copied. A hole (or a read-only page, for writes) ends the
 * copy. `might_fault()` tells lockdep that mmap_lock may be taken for read; a page not faulted
 * in yet (gup.ts userAccessFaults()) is a switch point that needs mmap_lock for read.
 */
export interface UaccessServices {
  copy_from_user(to: number, from: number, n: number): number;
  copy_to_user(to: number, from: number, n: number): number;
}

/** Splits [uaddr, uaddr + n) at page boundaries. */
function pieces(uaddr: number, n: number, ps: number): { uaddr: number; len: number; off: number }[] {
  const out: { uaddr: number; len: number; off: number }[] = [];
  let done = 0;
  while (done < n) {
    const a = uaddr + done;
    const len = Math.min(n - done, ps - (a % ps));
    out.push({ uaddr: a, len, off: done });
    done += len;
  }
  return out;
}

export function uaccessServices(w: World): UaccessServices {
  const ps = w.geo.page_size;
  return {
    copy_from_user(to, from, n) {
      mightLockRead(w, MM_LOCK);
      let copied = 0;
      const chunks: Bytes[] = [];
      for (const piece of pieces(from, n, ps)) {
        if (userAccessFaults(w, piece.uaddr)) switchPoint(w, { kind: 'fault', lock: MM_LOCK, uaddr: piece.uaddr, site: currentSite(w) });
        const pfn = userPagePfn(w, piece.uaddr - (piece.uaddr % ps), false);
        if (pfn === undefined) break;
        chunks.push(readPage(w, pfn, piece.uaddr % ps, piece.len, 'uaccess'));
        copied += piece.len;
      }
      const data = new Uint8Array(copied);
      const prov = new Float64Array(copied);
      let at = 0;
      for (const c of chunks) {
        data.set(c.data, at);
        prov.set(c.prov, at);
        at += c.data.length;
      }
      // On a fault the rest of the kernel buffer is zero-filled (copy_from_user's contract).
      const whole = { data: new Uint8Array(n), prov: new Float64Array(n).fill(PROV_ZERO) };
      whole.data.set(data);
      whole.prov.set(prov);
      if (n > 0) writeKva(w, to, whole);
      return n - copied;
    },
    copy_to_user(to, from, n) {
      mightLockRead(w, MM_LOCK);
      const bytes = readKva(w, from, n);
      let copied = 0;
      for (const piece of pieces(to, n, ps)) {
        if (userAccessFaults(w, piece.uaddr)) switchPoint(w, { kind: 'fault', lock: MM_LOCK, uaddr: piece.uaddr, site: currentSite(w) });
        // A write fault on a page that maps the zero page copies it first.
        const pfn = userPagePfn(w, piece.uaddr - (piece.uaddr % ps), true);
        if (pfn === undefined) break;
        writePage(w, pfn, piece.uaddr % ps, { data: bytes.data.subarray(piece.off, piece.off + piece.len), prov: bytes.prov.subarray(piece.off, piece.off + piece.len) }, 'uaccess');
        copied += piece.len;
      }
      return n - copied;
    },
  };
}

import { errnoName } from '../model/kernel/errno.js';
import { gmemGupNpages } from '../model/geometry.js';
import type { RunObserver } from '../model/scenario/runScenario.js';
import type { Op } from '../model/scenario/Scenario.js';
import { fwUnitSize } from '../model/world/World.js';

/**
 * Counters of the interesting cases a run reached, so a property can fail when its runs did
 * not reach them (fast-check has no `cover`): operations and their outcomes, source offsets,
 * page counts at the boundaries that matter, every firmware condition met, every injected fault
 * that fired, undefined-behaviour values read.
 */
export type Coverage = Map<string, number>;

export function bump(c: Coverage, key: string, n = 1): void {
  c.set(key, (c.get(key) ?? 0) + n);
}

export function mergeCoverage(into: Coverage, from: Coverage): void {
  for (const [k, v] of from) bump(into, k, v);
}

/**
 * Where a firmware unit sits in its host page: `only` when the page is one unit, else `first`,
 * `last` or `middle`. The three differ in what a rollback has to undo (nothing, every earlier
 * granule, some); the middle positions are alike.
 */
export function unitPosition(addr: number, pageSize: number, unitSize: number): string {
  const n = pageSize / unitSize;
  const i = Math.floor((addr % pageSize) / unitSize);
  return n === 1 ? 'only' : i === 0 ? 'first' : i === n - 1 ? 'last' : 'middle';
}

export function coverageObserver(c: Coverage): RunObserver {
  let populate: Op | undefined;
  let unit = 0;
  const failedIn = new Map<number, number>();
  return {
    opBegin(_i, op, w, backend) {
      bump(c, `op:${op.kind}`);
      unit = fwUnitSize(w);
      failedIn.clear();
      if (unit !== w.geo.page_size) bump(c, `units_per_page:${w.geo.page_size / unit}`);
      const req = backend.populateRequest(op, w.geo.page_size);
      populate = req === undefined ? undefined : op;
      if (req === undefined) return;
      const ps = w.geo.page_size;
      const gup = gmemGupNpages(w.geo);
      const off = req.src % ps;
      if (req.src !== 0) bump(c, off === 0 ? 'src_offset:0' : 'src_offset:nonzero');
      if (off === 1) bump(c, 'src_offset:1');
      if (off === ps - 1) bump(c, 'src_offset:PAGE_SIZE-1');
      if (req.npages === 1) bump(c, 'pages:1');
      if (req.npages === gup - 1) bump(c, 'pages:GMEM_GUP_NPAGES-1');
      if (req.npages === gup) bump(c, 'pages:GMEM_GUP_NPAGES');
      if (req.npages === gup + 1) bump(c, 'pages:GMEM_GUP_NPAGES+1');
      for (const s of w.kvm.memslots.values()) {
        if (req.gfn_start >= s.base_gfn && req.gfn_start + req.npages === s.base_gfn + s.npages) bump(c, 'pages:slot_end');
      }
      bump(c, `flavour:${req.flavour}`);
    },
    event(e, w) {
      if (e.kind === 'fw') {
        const o = e.outcome;
        bump(c, `fw:${e.cmd}:${o.kind === 'failed' ? o.condition : 'ok'}`);
        if (o.kind === 'failed' && o.status === 'RMI_ERROR_RTT') bump(c, `fw:${e.cmd}:${o.condition}:L${o.index}`);
        if (o.kind === 'failed' && e.addr !== 0 && unit !== 0) {
          bump(c, `fw:${e.cmd}:${o.condition}@${unitPosition(e.addr, w.geo.page_size, unit)}`);
          const n = (failedIn.get(e.pfn) ?? 0) + (o.forced ? 1 : 0);
          failedIn.set(e.pfn, n);
          if (o.forced && n === 2) bump(c, 'fw:two injected failures in one page');
        }
      }
      else if (e.kind === 'fault') bump(c, `fault:${e.fault.replace(/ #\d+/, '')}`);
      else if (e.kind === 'uninit_use') bump(c, `ub:${e.site}=${e.value}`);
      else if (e.kind === 'warn') bump(c, `warn:${e.macro}`);
    },
    opEnd(result) {
      if (populate !== undefined) bump(c, `ret:${result.op.kind}:${errnoName(result.ret)}`);
    },
  };
}

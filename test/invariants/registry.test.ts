import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { INVARIANTS, invariantById } from '../../properties/registry.js';
import { bugsForSignature, expectation, findingBound, judgeAgainst, matrixInvariants, signatureBound, sizeBound } from '../../properties/matrix.js';
import { judge, priorShown, type Finding } from '../../properties/explore.js';
import { noDoublePrivate } from '../../properties/invariants/no-double-private.js';
import { leakedPage } from '../../properties/invariants/leaked-page.js';
import type { Violation } from '../../properties/Invariant.js';
import { KVM_SEV_SNP_PAGE_TYPE_CPUID } from '../../model/backends/snp/uapi.js';
import { BUGS } from '../../properties/bugs.js';
import { keyOf, parseSignature, signatureMatches } from '../../properties/signature.js';
import { expectedFor } from '../../properties/expectations.js';
import { runWithInvariant } from '../../properties/check.js';
import { functionalSpec } from '../../properties/invariants/functional-spec.js';
import type { Revision } from '../../model/revisions/Revision.js';
import { launchUpdate, scenario, setupOps } from '../model/fixtures.js';
import { mutant } from './caseTable.js';
import { REVISIONS } from '../../model/revisions/registry.js';
import { MUTANTS } from '../../model/revisions/mutants.js';
import { BACKENDS } from '../../model/backends/registry.js';
import { platformConditions } from '../../model/backends/firmwareCommand.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const caseFiles = readdirSync(here).filter((f) => f.endsWith('.test.ts')).map((f) => readFileSync(`${here}${f}`, 'utf8'));

describe('the invariant registry', () => {
  test('the type invariant first, then sorted by id; ids are unique and found by id', () => {
    expect(INVARIANTS[0]?.id).toBe('world-well-formed');
    const rest = INVARIANTS.slice(1).map((i) => i.id);
    expect(rest).toEqual([...rest].sort());
    for (const inv of INVARIANTS) expect(invariantById(inv.id)).toBe(inv);
    expect(invariantById('no-such-invariant')).toBeUndefined();
  });

  test('every invariant has a description, citations and messages, and a row in the matrix', () => {
    expect([...matrixInvariants()].sort()).toEqual(INVARIANTS.map((i) => i.id).sort());
    for (const inv of INVARIANTS) {
      expect(inv.description).toMatch(/^(Require|Forbid) /);
      expect(inv.cites.length).toBeGreaterThan(0);
      expect(Object.keys(inv.messages).length).toBeGreaterThan(0);
    }
    expect(() => expectation('no-such-invariant', 'snp', 'v7.0')).toThrow('matrix has no row for invariant no-such-invariant');
    expect(expectation('world-well-formed', 'snp', 'v7.0')).toEqual({ verdict: 'holds', tolerated: [], excluded: [] });
  });

  test('every invariant has its case table in test/invariants/<id>.test.ts', () => {
    for (const inv of INVARIANTS) expect(existsSync(`${here}${inv.id}.test.ts`), inv.id).toBe(true);
  });

  test('every mutant is exercised by some case table, with the message it must break', () => {
    for (const m of MUTANTS) {
      expect(caseFiles.some((src) => src.includes(`mutant('${m.id}')`)), m.id).toBe(true);
      expect(invariantById(m.breaks.invariant)?.messages).toHaveProperty(m.breaks.messageId);
    }
  });

  test('every firmware platform condition is forced by some fault table', () => {
    const escape = (x: string) => x.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    for (const backend of Object.values(BACKENDS)) {
      for (const cmd of backend.firmware) {
        for (const condition of platformConditions(cmd)) {
          const forced = new RegExp(`'${escape(cmd.name)}'[^\\n]{0,40}'${condition}'`);
          expect(caseFiles.some((src) => forced.test(src)), `${cmd.name} ${condition}`).toBe(true);
        }
      }
    }
  });

  test('every known bug\'s signatures name an invariant and one of its messages', () => {
    for (const bug of Object.values(BUGS)) {
      for (const key of bug.signatures) {
        const sig = parseSignature(key);
        expect(sig, `${bug.id}: ${key}`).toBeDefined();
        const inv = INVARIANTS.find((i) => i.id === sig?.invariant);
        expect(inv, `${bug.id}: ${key}`).toBeDefined();
        expect(Object.keys(inv?.messages ?? {}), `${bug.id}: ${key}`).toContain(sig?.messageId);
      }
    }
  });

  test('every bug a matrix cell lists has a signature of that cell\'s invariant', () => {
    for (const inv of INVARIANTS) {
      for (const r of REVISIONS) {
        for (const b of r.backends) {
          const e = expectation(inv.id, b, r.id);
          if (e.verdict !== 'violated') continue;
          for (const bug of e.bugs) expect(bug.signatures.some((k) => k.startsWith(`${inv.id}/`)), `${b}/${r.id} ${inv.id}: ${bug.id}`).toBe(true);
        }
      }
    }
  });
});

describe('judging a cell', () => {
  const finding = (key: string, ops: number) => ({ key, counterexample: { backend: 'snp', geometry: { page_size: 64, pmd_order: 2, nr_host_pages: 64 }, ops: Array.from({ length: ops }, () => ({ kind: 'close_vm' })), ub: {} } }) as unknown as Finding;
  const e = expectation('leaked-page', 'snp', 'paolo-v1');
  const shared = 'leaked-page/leakedTwice@snp_page_reclaim';

  test('a signature two required bugs share is bounded by the looser, and credited to the first listed (paolo-v1: G27, G20)', () => {
    expect(bugsForSignature(e, shared).map((b) => b.id)).toEqual(['G27', 'G20']);
    expect(signatureBound(e, shared)?.maxOps).toBe(Math.max(BUGS.G20.maxOps, BUGS.G27.maxOps));
    const j = judgeAgainst(e, [finding(shared, 5), finding('leaked-page/leakedPageFreed@__kvm_gmem_punch_hole', 5), finding('leaked-page/freedWhileFirmwareOwned@kvm_gmem_release', 5)]);
    expect(j.missing.map((b) => b.id)).toEqual([]);
    expect(j.unexpected).toEqual([]);
  });

  test('a shared signature does not hide a bug that is gone: B9 is missing when only the wrongErrno it shares with B6 shows (v6.17 [hugepages])', () => {
    const huge = expectation('functional-spec', 'snp', 'v6.17', 'hugepages');
    const j = judgeAgainst(huge, [finding('functional-spec/wrongErrno[S1.20]@snp_launch_update', 4), finding('functional-spec/touchedPastCount@snp_launch_update', 4)]);
    expect(j.missing.map((b) => b.id)).toContain('B9');
    expect(j.missing.map((b) => b.id)).not.toContain('B6');
  });

  test('a signature with a longer route of its own gets its own bound, the bug\'s others keep theirs (G4 at munmap)', () => {
    const v70 = expectation('leaked-page', 'snp', 'v7.0');
    expect(signatureBound(v70, 'leaked-page/freedWhileFirmwareOwned@munmap')?.maxOps).toBe(10);
    expect(signatureBound(v70, 'leaked-page/freedWhileFirmwareOwned@kvm_gmem_release')?.maxOps).toBe(BUGS.G4.maxOps);
    // Pages likewise (G21's notMeasured through a page G28 prepared).
    const paolo = expectation('functional-spec', 'snp', 'paolo-v1');
    expect(signatureBound(paolo, 'functional-spec/notMeasured@snp_launch_update')?.maxPages).toBe(8);
    expect(signatureBound(paolo, 'functional-spec/populatedCount@snp_launch_update')?.maxPages).toBe(Math.max(BUGS.G21.maxPages, BUGS.G28.maxPages));
  });

  test('a finding is held to the bound of the bug it is credited to where that is looser (paolo-v1 seed 22: privateStillMapped through G4\'s freed page, 8 operations)', () => {
    const ndp = expectation('no-double-private', 'snp', 'paolo-v1');
    const key = 'no-double-private/privateStillMapped@snp_launch_update';
    expect(signatureBound(ndp, key)?.maxOps).toBe(BUGS['B1-consequence'].maxOps);
    // G4 is tolerated on this cell: its own bound with a consequence's slack, at least its 8.
    expect(findingBound(ndp, key, BUGS.G4).maxOps).toBe(Math.max(sizeBound(ndp, BUGS.G4).maxOps, 8));
    expect(findingBound(ndp, key, BUGS.G4).maxOps).toBeGreaterThanOrEqual(8);
    expect(findingBound(ndp, key, BUGS['B1-consequence']).maxOps).toBe(BUGS['B1-consequence'].maxOps);
  });

  test('a tolerated consequence does not loosen a required bug\'s bound (v7.0: G3 required, G2 tolerated, a detail naming both rows)', () => {
    const v70 = expectation('functional-spec', 'snp', 'v7.0');
    expect(BUGS.G2.maxOps).toBeGreaterThan(BUGS.G3.maxOps);
    expect(signatureBound(v70, 'functional-spec/wrongErrno[S2.8+S2.2]@snp_launch_update')?.maxOps).toBe(BUGS.G3.maxOps);
    expect(signatureBound(v70, 'functional-spec/wrongErrno[S2.8]@snp_launch_update')?.maxOps).toBe(sizeBound(v70, BUGS.G2).maxOps);
  });

  test('a second wrong answer at the same function is a bug of its own: v7.0 without the snp_context check (S1.17) beside G3 (S2.2)', () => {
    const v70 = expectation('functional-spec', 'snp', 'v7.0');
    const m = mutant('v7.0+no-context-check');
    const derived: Revision = { id: 'v7.0-no-context-check', title: m.title, backends: m.backends, cites: m.cites, fns: m.fns, derivedFrom: 'v7.0' };
    const { violations } = runWithInvariant({ ...scenario('snp', [...setupOps(), launchUpdate()]), launch: 'not_started' }, derived, functionalSpec);
    const keys = violations.map(keyOf);
    expect(keys).toEqual(['functional-spec/wrongErrno[S1.17]@snp_launch_update']);
    const j = judgeAgainst(expectedFor(derived, 'functional-spec', 'snp').expectation, keys.map((k) => finding(k, 5)));
    expect(j.unexpected.map((f) => f.key)).toEqual(keys);
    // G3's own answer is still G3's.
    expect(bugsForSignature(v70, 'functional-spec/wrongErrno[S2.2]@snp_launch_update').map((b) => b.id)).toEqual(['G3']);
  });

  test('a bug listing the row is credited before one covering it by [*]: B3\'s source_addr 0 in tdx/rfc-v1 [hugepages] is B3\'s, not B6\'s', () => {
    const huge = expectation('functional-spec', 'tdx', 'rfc-v1', 'hugepages');
    expect(bugsForSignature(huge, 'functional-spec/wrongErrno[T.8]@tdx_init_mem_region').map((b) => b.id)).toEqual(['B3', 'B6', 'B9']);
    expect(bugsForSignature(huge, 'functional-spec/wrongErrno[T.13]@tdx_init_mem_region').map((b) => b.id)).toEqual(['B6', 'B9']);
  });

  test('a listed row covers every answer it is one of the deciding rows of; [*] and @* cover all', () => {
    expect(signatureMatches('functional-spec/wrongErrno[T.8]@tdx_init_mem_region', 'functional-spec/wrongErrno[T.13+T.8]@tdx_init_mem_region')).toBe(true);
    expect(signatureMatches('functional-spec/wrongErrno[T.8]@tdx_init_mem_region', 'functional-spec/wrongErrno[T.13]@tdx_init_mem_region')).toBe(false);
    expect(signatureMatches('functional-spec/wrongErrno[T.8]@tdx_init_mem_region', 'functional-spec/wrongErrno@tdx_init_mem_region')).toBe(false);
    expect(signatureMatches('functional-spec/wrongErrno@tdx_init_mem_region', 'functional-spec/wrongErrno[T.8]@tdx_init_mem_region')).toBe(false);
    expect(signatureMatches('functional-spec/wrongErrno[*]@*', 'functional-spec/wrongErrno[S2.1]@snp_launch_update')).toBe(true);
    expect(signatureMatches('functional-spec/wrongErrno[*]@*', 'functional-spec/notUptodate@snp_launch_update')).toBe(false);
    expect(parseSignature('functional-spec/wrongErrno[S2.9+S2.8]@snp_launch_update')).toEqual({ invariant: 'functional-spec', messageId: 'wrongErrno', detail: 'S2.9+S2.8', site: 'snp_launch_update' });
  });

  test('a freed page handed out again is G4\'s only when the counterexample freed one (KnownBug.onlyAfter)', () => {
    const nd = expectation('no-double-private', 'snp', 'kvm-x86-next-2025.11.07');
    const key = 'no-double-private/hostAccessPrivate@sev_gmem_post_populate';
    const watched = ['no-double-private', 'leaked-page'];
    const withPrior = (keys: string[], w = watched): Finding => ({ ...finding(key, 5), prior: { keys, watched: w } });
    const rev = { id: 'kvm-x86-next-2025.11.07' };
    expect(judgeAgainst(nd, [withPrior(['leaked-page/freedWhileFirmwareOwned@kvm_gmem_punch_hole'])], rev).known.map((k) => k.bug.id)).toEqual(['G4']);
    expect(judgeAgainst(nd, [withPrior(['leaked-page/leakedPageFreed@kvm_gmem_release'])], rev).known.map((k) => k.bug.id)).toEqual(['G4']);
    // A CPUID table copied back from a page whose reclaim failed: the same signature, no free
    // (a leak without a free is not one).
    expect(judgeAgainst(nd, [withPrior(['leaked-page/leakedTwice@snp_page_reclaim'])], rev).unexpected.map((f) => f.key)).toEqual([key]);
    // Not known when leaked-page was not watched: credited as before.
    expect(judgeAgainst(nd, [withPrior([], ['no-double-private'])], rev).known.map((k) => k.bug.id)).toEqual(['G4']);
    // bugsForSignature() leaves G4 out altogether for a counterexample that freed nothing.
    expect(bugsForSignature(nd, key, { mode: undefined, prior: { keys: [], watched } })).toEqual([]);
  });

  test('paolo-v1: a host read of the page its undo freed is G20\'s (or G4\'s) only after the free (KnownBug.onlyAfter)', () => {
    const nd = expectation('no-double-private', 'snp', 'paolo-v1');
    const key = 'no-double-private/hostAccessPrivate@sev_gmem_post_populate';
    const watched = ['no-double-private', 'leaked-page'];
    expect(bugsForSignature(nd, key, { mode: undefined, prior: { keys: ['leaked-page/freedWhileFirmwareOwned@__kvm_gmem_punch_hole'], watched } }).map((b) => b.id)).toEqual(['G4', 'G20']);
    // The reclaimed page copied back without being made shared (the reclaim condition's first
    // `&&` as `||`, mutation triage row 312): nothing was freed, so it is new.
    const noFree: Finding = { ...finding(key, 5), prior: { keys: [], watched } };
    expect(judgeAgainst(nd, [noFree], { id: 'paolo-v1' }).unexpected.map((f) => f.key)).toEqual([key]);
  });

  test('priorShown(): an event before the violation (or the same one) counts, one after it in the same ioctl does not, and what an ioctl\'s end judged counts for that whole ioctl', () => {
    const v = (invariant: string, messageId: string, opIndex: number, seq: number): Violation => ({ invariant, messageId, message: '', opIndex, seq, site: 'f' });
    const target = v('no-double-private', 'hostAccessPrivate', 4, 10);
    const all = [
      v('leaked-page', 'freedWhileFirmwareOwned', 3, 7),
      v('leaked-page', 'leakedTwice', 4, 10),
      target,
      v('leaked-page', 'leakedPageFreed', 4, 12),
      v('refcount-balance', 'kmapLeaked', 4, 15.5),
      v('refcount-balance', 'pinLeaked', 5, 20.5),
    ];
    expect(priorShown(target, all, []).keys).toEqual(['leaked-page/freedWhileFirmwareOwned@f', 'leaked-page/leakedTwice@f', 'refcount-balance/kmapLeaked@f']);
  });

  test('paolo-v1: a host read before, in the same ioctl, the undo\'s free of that page is not G20\'s (judged by event, not by ioctl)', () => {
    // The reclaim condition as `(!reclaim && !shared) || (CPUID && INVALID_PARAM)` (mutation
    // triage row 312): the rejected CPUID page is copied back from the page the failed reclaim
    // leaked, then the undo punches it out. Both in operation 4.
    const m = mutant('paolo-v1+copy-back-after-failed-reclaim');
    const s = scenario('snp', [...setupOps(), launchUpdate({
      type: KVM_SEV_SNP_PAGE_TYPE_CPUID,
      faults: [{ kind: 'fw', cmd: 'SNP_LAUNCH_UPDATE', condition: 'cpuid_table', nth: 1 }, { kind: 'fw', cmd: 'SNP_PAGE_RECLAIM', condition: 'page_address', nth: 1 }],
    })]);
    const watched = [noDoublePrivate, leakedPage];
    const j = judge(s, m, watched);
    const read = j.violations.find((v) => keyOf(v) === 'no-double-private/hostAccessPrivate@sev_gmem_post_populate');
    const free = j.violations.find((v) => keyOf(v) === 'leaked-page/freedWhileFirmwareOwned@__kvm_gmem_punch_hole');
    if (read === undefined || free === undefined) throw new Error(`expected the read and the free, got ${j.violations.map(keyOf).join(', ')}`);
    expect([read.opIndex, free.opIndex]).toEqual([4, 4]);
    expect(read.seq).toBeLessThan(free.seq);
    const prior = priorShown(read, j.violations, watched);
    expect(prior.keys).not.toContain(keyOf(free));
    expect(bugsForSignature(expectation('no-double-private', 'snp', 'paolo-v1'), keyOf(read), { mode: undefined, prior }).map((b) => b.id)).toEqual([]);
  });

  test('a leaked kmap\'s page made private is B1-consequence\'s only after the leak (KnownBug.onlyAfter)', () => {
    const nd = expectation('no-double-private', 'snp', 'v6.17');
    const key = 'no-double-private/privateStillMapped@snp_launch_update';
    const watched = ['no-double-private', 'refcount-balance'];
    const rev = { id: 'v6.17' };
    const after = (keys: string[]): Finding => ({ ...finding(key, 6), prior: { keys, watched } });
    expect(bugsForSignature(nd, key).map((b) => b.id)).toContain('B1-consequence');
    expect(bugsForSignature(nd, key, { mode: undefined, prior: { keys: ['refcount-balance/kmapLeaked@snp_launch_update'], watched } }).map((b) => b.id)).toContain('B1-consequence');
    // Another way to make a still-mapped page private (a mapping some other path forgets) is new.
    expect(bugsForSignature(nd, key, { mode: undefined, prior: { keys: ['refcount-balance/pinLeaked@snp_launch_update'], watched } }).map((b) => b.id)).not.toContain('B1-consequence');
    // refcount-balance not watched: the leak could not be seen, so it is not asked for.
    expect(bugsForSignature(nd, key, { mode: undefined, prior: { keys: [], watched: ['no-double-private'] } }).map((b) => b.id)).toContain('B1-consequence');
    expect(judgeAgainst(nd, [after(['refcount-balance/kmapLeaked@snp_launch_update'])], rev).missing.map((b) => b.id)).not.toContain('B1-consequence');
  });

  test('an expected bug no finding is reported under is missing', () => {
    const j = judgeAgainst(e, [finding('leaked-page/leakedPageFreed@__kvm_gmem_punch_hole', 5)]);
    expect(j.missing.map((b) => b.id)).toEqual(['G27', 'G4']);
  });
});

import fc from 'fast-check';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { run } from './runCli.js';
import { scenarioArb } from '../generators/scenario.js';
import { BACKENDS } from '../model/backends/registry.js';
import { MAX_HOST_BYTES } from '../model/geometry.js';
import { MAX_SCENARIO_OPS, maxScenarioSpanPages } from '../model/scenario/limits.js';
import { GENERIC_OPS, type Op } from '../model/scenario/Scenario.js';
import { scenarioSchema } from '../model/scenario/schema.js';
import { CorpusFileError, loadCorpusFile } from '../properties/corpus/load.js';
import { jsonReplacer } from '../model/kernel/u64.js';

/**
 * Bad input is refused before it costs anything: corpus files whose counts would make the model
 * take gigabytes or minutes, operations of another backend, invariants that do not exist. Each
 * refusal names the file and the field, and exits 2.
 */
const CORPUS = join(import.meta.dirname, '..', 'corpus');
/** tdx, 64-byte pages, 192 host pages: ops 0-3 create, bind, set private, populate one page. */
const B3 = join(CORPUS, 'tdx-rfc-v1-memory-safety-b3.json');
const SNP = join(CORPUS, 'snp-boundary-fault-alloc-folio.json');
const CCA = join(CORPUS, 'cca-boundary-fault-alloc-folio.json');

interface Edited {
  name: string;
  scenario: { backend: string; geometry: { page_size: number; nr_host_pages: number }; ops: Record<string, unknown>[] };
  origin: Record<string, unknown>;
  verdicts: Record<string, Record<string, unknown>>;
}

let dir = '';
let cwd: string | undefined;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'gmemcheck-inputs-'));
  cwd = process.env.INIT_CWD;
  process.env.INIT_CWD = dir;
});
afterEach(() => {
  if (cwd === undefined) delete process.env.INIT_CWD;
  else process.env.INIT_CWD = cwd;
});

function edited(from: string, edit: (e: Edited) => void, name = 'edited'): string {
  const e = JSON.parse(readFileSync(from, 'utf8')) as Edited;
  e.name = name;
  edit(e);
  const file = join(dir, `${name}.json`);
  writeFileSync(file, JSON.stringify(e));
  return file;
}

function op(e: Edited, kind: string): Record<string, unknown> {
  const found = e.scenario.ops.find((o) => o.kind === kind);
  if (found === undefined) throw new Error(`no ${kind} in ${e.name}`);
  return found;
}

describe('counts the model walks are bounded by the machine', () => {
  test('a TDX nr_pages of 1e9 is no walk: the loop stops at the first page that fails (exit 1, the edited scenario differs from its record)', async () => {
    const file = edited(B3, (e) => (op(e, 'tdx_init_mem_region').nr_pages = 1e9));
    const r = await run('replay', file);
    expect(r.err).toBe('');
    expect(r.code).toBe(1);
    // Its content diagram spans the machine's pages, not a billion.
    expect(r.out).toContain('192 page(s) of 64 bytes, 1 reported populated');
  });

  test('an SNP len of 2^64 - PAGE_SIZE is no walk either: kvm_gmem_populate() cuts it at the slot\'s end, and the u64 comes back exact', async () => {
    const file = edited(SNP, (e) => {
      Object.assign(op(e, 'snp_launch_update'), { len: '0xfffffffffffffff0', faults: [] });
      e.verdicts = {};
    });
    const r = await run('replay', file, '--revision', 'v7.0', '--json');
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.out) as { results: { trace: { ret: string; out?: Record<string, unknown> }[] }[] };
    // The slot's 8 pages of 16 bytes populated: 2^64 - 16 - 8 * 16 written back.
    expect(doc.results[0]?.trace[4]).toMatchObject({ ret: '0', out: { gfn_start: 40, len: 2 ** 64 - 144 } });
  });

  test.each([
    ['set_user_memory_region2', 'memory_size', 'scenario.ops[1].memory_size: 68719476736 bytes (1073741824 pages) is more than'],
    ['set_memory_attributes', 'size', 'scenario.ops[2].size: 68719476736 bytes (1073741824 pages) is more than'],
  ])('%s.%s', (kind, field, message) => {
    const from = kind.startsWith('snp') ? SNP : kind.startsWith('arm') ? CCA : B3;
    const file = edited(from, (e) => (op(e, kind)[field] = 2 ** 36));
    expect(() => loadCorpusFile(file)).toThrow(message);
  });

  test('one page more than the machine is refused, the machine itself is not', () => {
    const at = (n: number) => edited(B3, (e) => (op(e, 'set_memory_attributes').size = n * 64), `n${n}`);
    expect(() => loadCorpusFile(at(192))).not.toThrow();
    expect(() => loadCorpusFile(at(193))).toThrow("12352 bytes (193 pages) is more than the machine's 192 host pages");
  });

  test('mmap holes', () => {
    const file = edited(B3, (e) => e.scenario.ops.unshift({ kind: 'mmap', addr: 0x100000, length: 64, prot: 'rw', holes: Array.from({ length: 500 }, (_, i) => i) }));
    expect(() => loadCorpusFile(file)).toThrow("scenario.ops[0].holes: 500 holes is more than the machine's 192 host pages");
  });

  test('sizes the model does not walk keep the kernel\'s range: the kernel answers them', async () => {
    const file = edited(B3, (e) => {
      op(e, 'create_guest_memfd').size = 2 ** 40;
      e.scenario.ops.push(
        { kind: 'punch_hole', guest_memfd: 1, offset: 0, len: 2 ** 40, faults: [] },
        { kind: 'munmap', addr: 0, length: 2 ** 52 },
        { kind: 'gmem_user_fault', guest_memfd: 1, offset: 2 ** 45 },
      );
      e.verdicts = {};
    });
    const r = await run('replay', file, '--revision', 'v7.0', '--json');
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
  });

  test('addresses near the top of what the model holds reach the kernel, which answers with its errno', async () => {
    const top = 2 ** 53 - 64;
    const file = edited(B3, (e) => {
      e.scenario.ops.push(
        { kind: 'set_memory_attributes', address: top, size: 64, attributes: 8, flags: 0 },
        { kind: 'tdx_init_mem_region', source_addr: top, gpa: top, nr_pages: 1, flags: 1, faults: [] },
        { kind: 'mmap', addr: top, length: 64, prot: 'rw', holes: [] },
      );
      e.verdicts = {};
    });
    const r = await run('replay', file, '--revision', 'v7.0', '--json');
    expect(r.err).toBe('');
    const doc = JSON.parse(r.out) as { results: { trace: { ret: string }[] }[] };
    expect(doc.results[0]?.trace.slice(4).map((t) => t.ret)).toEqual(['0', '-EINVAL', '0']);
  });

  test('a u64 past 2^53 says the model cannot hold it', () => {
    const file = edited(B3, (e) => (op(e, 'tdx_init_mem_region').gpa = 2 ** 64 - 4096));
    expect(() => loadCorpusFile(file)).toThrow('scenario.ops[3].gpa: 18446744073709548000 is past 2^53 - 1, the largest integer the model holds exactly');
  });

  test(`at most ${MAX_SCENARIO_OPS} operations, said once`, async () => {
    const file = edited(B3, (e) => {
      const populate = op(e, 'tdx_init_mem_region');
      for (let i = 0; i < 80_000; i++) e.scenario.ops.push({ ...populate });
    });
    const r = await run('replay', file);
    expect(r.code).toBe(2);
    expect(r.err).toBe('gmemcheck: edited.json: scenario.ops: 80004 operations; a scenario has at most 1000 (MAX_SCENARIO_OPS in model/scenario/limits.ts)\n');
  });

  test('the pages all operations span together are bounded too', () => {
    const budget = maxScenarioSpanPages({ page_size: 64, pmd_order: 3, nr_host_pages: 192 });
    const withRanges = (n: number) => edited(B3, (e) => {
      const attributes = { ...op(e, 'set_memory_attributes'), size: 192 * 64 };
      for (let i = 0; i < n; i++) e.scenario.ops.push(attributes);
    }, `p${n}`);
    // ops 0-3 span 1 + 1 pages (the memslot, the attributes; a TDX nr_pages is no walk).
    const fits = Math.floor((budget - 2) / 192);
    expect(() => loadCorpusFile(withRanges(fits))).not.toThrow();
    expect(() => loadCorpusFile(withRanges(fits + 1))).toThrow(`scenario.ops: the operations span ${2 + 192 * (fits + 1)} pages in all (memslots, attributes, mmaps, populates); with 64-byte pages a scenario may span at most ${budget}`);
  });

  test('the machine itself: host memory is bounded', () => {
    const file = edited(B3, (e) => (e.scenario.geometry = { ...e.scenario.geometry, page_size: 65536, nr_host_pages: 65536 }));
    expect(() => loadCorpusFile(file)).toThrow(`scenario.geometry: 65536 host pages of 65536 bytes is more host memory than the model's 8 MiB (page_size × nr_host_pages at most ${MAX_HOST_BYTES})`);
  });
});

describe('what the generators make, check --save writes and the corpus holds stays inside the limits', () => {
  test.each(['snp', 'tdx', 'cca'] as const)('%s', (backend) => {
    const refused = fc.sample(scenarioArb(backend), { seed: 5, numRuns: 300 }).flatMap((s) => {
      const r = scenarioSchema.safeParse(JSON.parse(JSON.stringify(s, jsonReplacer)));
      return r.success ? [] : [r.error.issues[0]?.message];
    });
    expect(refused).toEqual([]);
  });
});

describe('operations belong to the scenario\'s backend', () => {
  test('an snp scenario with a TDX operation is refused, naming the operation', async () => {
    const file = edited(B3, (e) => {
      e.scenario.backend = 'snp';
      e.verdicts = {};
    });
    const r = await run('replay', file);
    expect(r.code).toBe(2);
    expect(r.err).toContain('gmemcheck: edited.json: scenario.ops[3].kind: tdx_init_mem_region is a tdx operation; snp scenarios have snp_launch_start, snp_launch_update, snp_launch_finish and the common create_guest_memfd,');
  });

  test('launch (the launch step not yet run) is for snp and tdx only', () => {
    const file = edited(B3, (e) => {
      e.scenario.backend = 'cca';
      (e.scenario as { launch?: string }).launch = 'not_started';
    });
    expect(() => loadCorpusFile(file)).toThrow('scenario.launch: launch is for snp and tdx (a realm is created by its own op, arm_realm_create)');
  });

  test('a second vCPU is for tdx, and an op names vCPU 1 only where the scenario has it', () => {
    const snp = edited(SNP, (e) => {
      (e.scenario as { vcpus?: number }).vcpus = 2;
    });
    expect(() => loadCorpusFile(snp)).toThrow('scenario.vcpus: a second vCPU is modelled for tdx only (backend is snp)');
    let i = -1;
    const lone = edited(B3, (e) => {
      i = e.scenario.ops.findIndex((o) => o.kind === 'tdx_init_mem_region');
      const op = e.scenario.ops[i];
      if (op !== undefined) op.vcpu = 1;
    });
    expect(() => loadCorpusFile(lone)).toThrow(`scenario.ops[${i}].vcpu: names vCPU 1, but the scenario has vCPU 0 alone (add "vcpus": 2)`);
  });

  test('the in-place what-if does not go together with hugepages', () => {
    const both = edited(B3, (e) => {
      (e.scenario as { inPlace?: true }).inPlace = true;
      (e.scenario as { hugepages?: { order: number } }).hugepages = { order: 2 };
    });
    expect(() => loadCorpusFile(both)).toThrow('scenario.inPlace: a scenario runs one what-if machine: in-place or hugepages, not both');
  });

  test('every operation kind is common or exactly one backend\'s', () => {
    const kinds = scenarioSchema.shape.ops.element.options.map((o) => o.shape.kind.value);
    const owners = (k: Op['kind']) => [...(GENERIC_OPS.includes(k) ? ['common'] : []), ...Object.values(BACKENDS).filter((b) => b.ops.includes(k)).map((b) => b.id)];
    expect(kinds.map((k) => ({ kind: k, owners: owners(k) })).filter((x) => x.owners.length !== 1)).toEqual([]);
  });
});

describe('verdicts name invariants that exist', () => {
  test.each([
    ['a violated invariant', (e: Edited) => (e.verdicts['rfc-v1'] = { ...e.verdicts['rfc-v1'], invariants: ['memory-safety', 'memory-safty'] }), 'verdicts["rfc-v1"].invariants[1]: no invariant is called "memory-safty" (known: world-well-formed,'],
    ['a message key', (e: Edited) => (e.verdicts['rfc-v1'] = { ...e.verdicts['rfc-v1'], messages: { 'lock-ordering': 'x' } }), 'verdicts["rfc-v1"].messages["lock-ordering"]: no invariant is called "lock-ordering"'],
    ['the origin\'s property', (e: Edited) => (e.origin.property = 'memory'), 'origin.property: no invariant is called "memory"'],
    ['a revision of another backend', (e: Edited) => (e.verdicts['rme-v9'] = { verdict: 'holds', reason: 'r', link: 'l' }), 'verdicts["rme-v9"]: no tdx revision is called rme-v9'],
  ])('%s', async (_what, edit, message) => {
    const file = edited(B3, edit);
    expect(() => loadCorpusFile(file)).toThrow(CorpusFileError);
    const r = await run('replay', file);
    expect(r.code).toBe(2);
    expect(r.err).toContain(`edited.json: ${message}`);
  });
});

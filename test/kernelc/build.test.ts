import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect } from 'vitest';
import { BACKENDS, PRELUDE_DIR, extract } from '../../kernelc/extract.js';
import { CLANG, build, treeKnows } from '../../kernelc/compile.js';
import { compileKernelModule } from '../../model/kernelc/wasm.js';
import { exportFn } from '../../model/kernelc/imports.js';
import { FIXTURE_TREE, editedTree, editsOf, testWithClang, treeWithout, cli } from './trees.js';

const buildTree = (tree: string) => build(extract(tree, 'snp'), BACKENDS.snp.files, treeKnows(tree));

/** A helper the patch calls, which the tree's own header declares but the prelude does not. */
const undeclaredHelper = () => editsOf(
  { file: 'virt/kvm/guest_memfd.c', from: '\tfolio_unlock(folio);\n\n\tr = -EINVAL;', to: '\tfolio_unlock(folio);\n\tkvm_gmem_mark_prepared(folio);\n\n\tr = -EINVAL;' },
  { file: 'include/linux/kvm_host.h', from: 'struct page;\n', to: 'struct page;\nstruct folio;\nvoid kvm_gmem_mark_prepared(struct folio *folio);\n' },
);

describe('building a tree\'s populate path', () => {
  testWithClang('the fixture tree builds to a wasm64 module with the shim\'s entry', () => {
    const r = buildTree(FIXTURE_TREE);
    expect(r.kind).toBe('built');
    if (r.kind !== 'built') return;
    const exports = WebAssembly.Module.exports(compileKernelModule(r.wasm)).map((e) => e.name);
    expect(exports).toEqual(expect.arrayContaining(['kshim_entry_snp_launch_update', 'kshim_new_gmem_file', 'memory']));
  });

  testWithClang('guest_memfd.c\'s per-VM file state under its name before v6.19 (struct kvm_gmem) builds too', () => {
    const tree = editsOf();
    const file = join(tree, 'virt/kvm/guest_memfd.c');
    writeFileSync(file, readFileSync(file, 'utf8').replaceAll('gmem_file', 'kvm_gmem'));
    const r = buildTree(tree);
    expect(r.kind).toBe('built');
    expect(extract(tree, 'snp').source).toContain('#define KSHIM_GMEM_STRUCT_KVM_GMEM 1');
    expect(extract(FIXTURE_TREE, 'snp').source).not.toContain('KSHIM_GMEM_STRUCT_KVM_GMEM');
  });

  testWithClang('code that does not compile is the tree\'s error, at the tree\'s own file and line (B4: KVM_BUG_ON() without its kvm)', () => {
    const tree = editedTree('arch/x86/kvm/svm/sev.c', 'KVM_BUG_ON(rmp_make_shared(pfn, level), kvm)', 'KVM_BUG_ON(rmp_make_shared(pfn, level))');
    const r = buildTree(tree);
    expect(r.kind).toBe('tree-error');
    if (r.kind !== 'tree-error') return;
    expect(r.diagnostics[0]).toMatchObject({ file: 'arch/x86/kvm/svm/sev.c', line: 27, severity: 'error' });
    expect(r.diagnostics[0]?.message).toMatch(/too few arguments provided to function-like macro invocation/);
  });

  testWithClang('a kernel helper the prelude does not declare is gmemcheck\'s gap, named', () => {
    const r = buildTree(undeclaredHelper());
    expect(r.kind).toBe('prelude-gap');
    if (r.kind === 'prelude-gap') expect(r.missing).toEqual(['kvm_gmem_mark_prepared']);
  });

  testWithClang('a name nothing in the tree defines (a typo) is the tree\'s error', () => {
    const r = buildTree(editedTree('virt/kvm/guest_memfd.c', '\tfolio_unlock(folio);\n\n\tr = -EINVAL;', '\tfolio_unlock(folo);\n\n\tr = -EINVAL;'));
    expect(r.kind).toBe('tree-error');
    if (r.kind === 'tree-error') expect(r.diagnostics[0]?.message).toMatch(/undeclared identifier 'folo'/);
  });

});

describe('gmemcheck kernel: exit status', () => {
  testWithClang('1 when the tree does not build, with the compiler\'s message at the tree\'s path', async () => {
    const tree = editedTree('arch/x86/kvm/svm/sev.c', 'KVM_BUG_ON(rmp_make_shared(pfn, level), kvm)', 'KVM_BUG_ON(rmp_make_shared(pfn, level))');
    const r = await cli('kernel', '--tree', tree);
    expect(r.code).toBe(1);
    expect(r.out).toContain(`${join(tree, 'arch/x86/kvm/svm/sev.c')}:27:`);
    expect(r.out).toContain('exit 1: the tree\'s code does not build');
    const json = await cli('kernel', '--tree', tree, '--json');
    expect(json.code).toBe(1);
    expect(JSON.parse(json.out)).toMatchObject({ kernel: { api: 'KSHIM_GMEM_API_PAGE_WB' }, build: { kind: 'tree-error' }, exit: 1 });
    const doc = JSON.parse(json.out) as { build: { diagnostics: { file: string; line: number; message: string }[] } };
    expect(doc.build.diagnostics[0]?.file).toBe(join(tree, 'arch/x86/kvm/svm/sev.c'));
    expect(doc.build.diagnostics[0]?.message).toMatch(/too few arguments/);
  });

  testWithClang('2 when the prelude lacks a declaration the tree uses', async () => {
    const r = await cli('kernel', '--tree', undeclaredHelper());
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/does not declare yet, or declares otherwise: kvm_gmem_mark_prepared/);
  });

  testWithClang('2 for what kernel mode cannot run: no tree, no entry, an API generation it does not know, a backend whose file is missing, a revision option', async () => {
    const refused = async (args: string[], message: RegExp): Promise<void> => {
      const r = await cli('kernel', ...args);
      expect(r.code).toBe(2);
      expect(r.err).toMatch(message);
    };
    await refused(['--tree', '/nonexistent/linux'], /--tree \/nonexistent\/linux: no such folder/);
    await refused(['--tree', editedTree('arch/x86/kvm/svm/sev.c', 'static int snp_launch_update(', 'static int snp_launch_update_v2(')], /snp_launch_update\(\) is not defined/);
    await refused(['--tree', editedTree('include/linux/kvm_host.h', 'struct page *src_page, void *opaque', 'struct folio *src_folio, void *opaque')], /kvm_gmem_populate_cb\(.*struct folio \*src_folio, void \*opaque\) is an API generation kernel mode does not know/);
    await refused(['--tree', FIXTURE_TREE, '--backend', 'cca'], /arch\/arm64\/kvm\/rmi\.c is missing: the cca populate path lives there/);
    await refused(['--tree', treeWithout('arch/x86/kvm/vmx/tdx.c'), '--backend', 'tdx'], /arch\/x86\/kvm\/vmx\/tdx\.c is missing: the tdx populate path lives there/);
    await refused(['--tree', FIXTURE_TREE, '--revision', 'v7.0'], /--revision does not apply to kernel mode/);
    await refused([], /kernel needs --tree DIR/);
  });
});

describe('gmemcheck kernel: a finding\'s replay line', () => {
  testWithClang('names the tree, and replays the finding', async () => {
    const first = await cli('kernel', '--tree', FIXTURE_TREE, '--what-if', 'none', '--property', 'leaked-page', '--runs', '300', '--verbose');
    const line = /replay: npx gmemcheck (kernel --tree \S+ .*--signature (\S+) --path \S+)/.exec(first.out);
    if (line === null) throw new Error(`no replay line in:\n${first.out}`);
    const again = await cli(...(line[1] ?? '').split(' '));
    expect(again.code).toBe(0);
    expect(again.out).toContain(line[2]);
  }, 60_000);
});

describe('pointer size', () => {
  // The fixture's `npages = params.len / PAGE_SIZE` into a `long`, with the kernel's 4 KiB pages.
  const C = '#include "kshim.h"\nunsigned long kshim_page_size = 4096;\nunsigned int kshim_page_shift = 12, kshim_pmd_order = 9;\nlong npages_of(u64 len) { long npages = len / PAGE_SIZE; return npages; }\n';
  const compile = (target: string): WebAssembly.Exports => {
    const dir = mkdtempSync(join(tmpdir(), 'gmemcheck-lp64-'));
    writeFileSync(join(dir, 'n.c'), C);
    const r = spawnSync(CLANG, [`--target=${target}`, '-ffreestanding', '-nostdlib', '-O2', '-DKSHIM_GMEM_API_PAGE_WB', `-I${PRELUDE_DIR}`, '-Wl,--no-entry', '-Wl,--export-all', '-o', join(dir, 'n.wasm'), join(dir, 'n.c')], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(r.stderr);
    return new WebAssembly.Instance(compileKernelModule(new Uint8Array(readFileSync(join(dir, 'n.wasm'))))).exports;
  };

  testWithClang('a page count past 2^31 stays positive on wasm64, as on x86-64; wasm32 would make it negative', () => {
    const len = 2n ** 43n + 4096n;
    const npagesOf = (target: string) => exportFn<(len: bigint) => bigint | number>(compile(target), 'npages_of');
    expect(npagesOf('wasm64-unknown-unknown')(len)).toBe(2n ** 31n + 1n);
    expect(npagesOf('wasm32-unknown-unknown')(len)).toBe(-(2 ** 31) + 1);
  });
});

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PRELUDE_DIR, type Extraction } from './extract.js';

/**
 * Builds an extraction to a wasm64 module with Debian's clang and wasm-ld, and sorts a failed
 * build into the two cases a reviewer must tell apart: the tree's code does not compile (the
 * patch's fault: exit 1 in the CLI), or it calls something the prelude does not declare yet
 * (gmemcheck's fault: exit 2, naming the missing declaration). Diagnostics name the tree's own
 * files and lines (the extraction's #line directives).
 */

export const CLANG = process.env['GMEMCHECK_CLANG'] ?? 'clang';

export const CLANG_FLAGS = [
  '--target=wasm64-unknown-unknown', '-std=gnu11', '-ffreestanding', '-nostdlib', '-O2', '-mbulk-memory',
  // A NULL dereference traps, as it oopses in the kernel (in wasm, address 0 is ordinary memory).
  '-fsanitize=null', '-fsanitize-trap=null',
  '-fno-strict-aliasing', '-fno-builtin', '-Wall', '-Wno-unused-function', '-Wno-unused-variable', '-Wno-unused-label',
  '-Werror=implicit-function-declaration', '-Werror=incompatible-pointer-types', '-Werror=int-conversion',
  '-Werror=return-type', '-Werror=implicit-int',
  '-Wl,--no-entry', '-Wl,--export-all', '-Wl,-z,stack-size=65536',
];

export interface Diagnostic {
  readonly file: string;
  readonly line: number;
  readonly column: number;
  readonly severity: 'error' | 'warning' | 'note';
  readonly message: string;
}

export type BuildResult =
  | { readonly kind: 'built'; readonly wasm: Uint8Array; readonly warnings: readonly Diagnostic[] }
  /** The tree's code does not compile: the patch under review does not build. */
  | { readonly kind: 'tree-error'; readonly diagnostics: readonly Diagnostic[]; readonly output: string }
  /** The prelude lacks something the tree's code uses. */
  | { readonly kind: 'prelude-gap'; readonly missing: readonly string[]; readonly output: string }
  /** clang itself is missing or crashed. */
  | { readonly kind: 'toolchain'; readonly message: string };

const DIAG = /^(.+?):(\d+):(\d+): (error|warning|note): (.*)$/;

export function parseDiagnostics(output: string): Diagnostic[] {
  return output.split('\n').flatMap((l) => {
    const m = DIAG.exec(l);
    if (!m) return [];
    return [{ file: m[1] ?? '', line: Number(m[2]), column: Number(m[3]), severity: m[4] as Diagnostic['severity'], message: m[5] ?? '' }];
  });
}

/** A name the prelude would have to provide (or declare otherwise), if this diagnostic says so. */
export function missingDeclaration(d: Diagnostic): string | null {
  const patterns = [
    /call to undeclared function '(\w+)'/, /implicit declaration of function '(\w+)'/, /use of undeclared identifier '(\w+)'/,
    /unknown type name '(\w+)'/, /static declaration of '(\w+)' follows non-static declaration/, /incomplete definition of type '(struct \w+)'/, /variable has incomplete type '(struct \w+)'/,
    /no member named '(\w+)' in '(?:struct )?(?:kvm|kvm_memory_slot|file|inode|address_space|kvm_sev_info|kvm_svm)'/,
  ];
  for (const p of patterns) {
    const m = p.exec(d.message);
    if (m?.[1] !== undefined) return m[1];
  }
  return null;
}

/**
 * Whose fault a failed build is. An error at the tree's own line is the tree's, except: a name
 * the prelude lacks (an undeclared function, identifier or type, a member of a prelude struct)
 * that the tree itself knows of (`knownToTree`: defined in its headers or sources), since then
 * the prelude is behind; a typo nothing in the tree defines stays the patch's. A misuse of a
 * kernel API the prelude declares as the kernel does (KVM_BUG_ON() without its kvm) is the
 * tree's. An error inside the prelude is the prelude's. Any error of the tree's own makes the
 * whole build the tree's.
 */
export function classify(output: string, treeFiles: readonly string[], knownToTree: (name: string) => boolean): Exclude<BuildResult, { kind: 'built' } | { kind: 'toolchain' }> {
  const all = parseDiagnostics(output);
  const gaps: string[] = [...output.matchAll(/undefined symbol: (\w+)/g)].map((m) => m[1] ?? '');
  const treeOwn: Diagnostic[] = [];
  all.forEach((d) => {
    if (d.severity !== 'error') return;
    const name = missingDeclaration(d);
    if (!treeFiles.includes(d.file)) gaps.push(`${d.file}:${d.line}: ${d.message}`);
    else if (name !== null && knownToTree(name.replace(/^struct /, ''))) gaps.push(name);
    else treeOwn.push(d);
  });
  if (treeOwn.length > 0) return { kind: 'tree-error', diagnostics: treeOwn, output };
  const missing = [...new Set(gaps)];
  return { kind: 'prelude-gap', missing: missing.length > 0 ? missing : ['(see the compiler output)'], output };
}

/**
 * Whether the tree's headers mention `name`: a kernel helper the populate path may call is
 * declared in one (include/, arch/x86's, or a header beside sev.c or guest_memfd.c); a name that
 * only occurs where the code uses it is a typo. (A helper defined in the extracted files
 * themselves is taken with them, so it never reaches here.)
 */
export function treeKnows(tree: string): (name: string) => boolean {
  const dirs = ['include', 'arch/x86/include', 'arch/x86/kvm', 'virt/kvm'].filter((d) => existsSync(join(tree, d)));
  return (name) => {
    if (existsSync(join(tree, '.git'))) {
      const r = spawnSync('git', ['-C', tree, 'grep', '-qw', '-e', name, '--', ...dirs.map((d) => `${d}/*.h`)]);
      if (r.status === 0 || r.status === 1) return r.status === 0;
    }
    const word = new RegExp(`\\b${name}\\b`);
    const walk = (dir: string): boolean => readdirSync(dir, { withFileTypes: true }).some((e) => {
      const p = join(dir, e.name);
      if (e.isDirectory()) return walk(p);
      return e.name.endsWith('.h') && word.test(readFileSync(p, 'utf8'));
    });
    return dirs.some((d) => walk(join(tree, d)));
  };
}

export function build(x: Extraction, treeFiles: readonly string[], knows: (name: string) => boolean): BuildResult {
  const dir = mkdtempSync(join(tmpdir(), 'gmemcheck-kernel-'));
  try {
    const src = join(dir, 'populate.c');
    const out = join(dir, 'populate.wasm');
    writeFileSync(src, x.source);
    const r = spawnSync(CLANG, [...CLANG_FLAGS, `-I${PRELUDE_DIR}`, `-D${x.api}`, '-o', out, src, join(PRELUDE_DIR, 'kshim.c')], { encoding: 'utf8' });
    if (r.error !== undefined) return { kind: 'toolchain', message: `${CLANG}: ${r.error.message} (kernel mode needs clang and wasm-ld: apt-get install clang lld)` };
    const output = `${r.stdout}${r.stderr}`;
    if (r.status !== 0) {
      if (parseDiagnostics(output).length === 0 && !/undefined symbol/.test(output)) return { kind: 'toolchain', message: output.trim() };
      return classify(output, treeFiles, knows);
    }
    return { kind: 'built', wasm: new Uint8Array(readFileSync(out)), warnings: parseDiagnostics(output).filter((d) => d.severity === 'warning') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

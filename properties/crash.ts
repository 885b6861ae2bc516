import { dirname, join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Crash } from '../model/world/lockup.js';

/**
 * Whose fault a crash is. An exception raised by revision code (a built-in revision's file, or
 * a reviewer's module outside this checkout) is that revision's oops: a finding. One raised by
 * the model itself (services, world, backends, invariants) is a bug in gmemcheck. The first
 * frame of the JavaScript stack that is a file decides; the nearest revision frame, if any, is
 * named either way, since a model error right under a revision call is often an API misuse.
 */
export type CrashBlame =
  | { readonly kind: 'soft-lockup' }
  | { readonly kind: 'oops'; readonly at: Frame }
  | { readonly kind: 'model-error'; readonly at: Frame | undefined; readonly revisionFrame: Frame | undefined };

export interface Frame {
  readonly file: string;
  readonly line: number;
  readonly column: number;
  readonly fn: string;
}

const REPO = join(dirname(fileURLToPath(import.meta.url)), '..');
const REVISIONS_DIR = join(REPO, 'model', 'revisions') + sep;
/** Files under model/revisions/ that are the model's, not a revision's. */
const REVISION_PLUMBING = new Set(['Revision.ts', 'registry.ts']);

/** The file frames of a V8 stack trace, innermost first. */
export function stackFrames(stack: string): Frame[] {
  const out: Frame[] = [];
  for (const line of stack.split('\n')) {
    // A frame of kernel C compiled to WebAssembly (model/kernelc/): the tree's own code.
    const wasm = /^\s*at (?:(\S+) \()?wasm:\/\//.exec(line);
    if (wasm !== null) {
      out.push({ file: 'wasm', line: 0, column: 0, fn: wasm[1] ?? '<wasm>' });
      continue;
    }
    const m = /^\s*at (?:(.*?) \()?(.+?):(\d+):(\d+)\)?$/.exec(line);
    if (m === null) continue;
    let file = m[2] ?? '';
    if (file.startsWith('file://')) file = fileURLToPath(file);
    if (file.startsWith('node:') || file.includes(`${sep}node_modules${sep}`) || !file.startsWith(sep)) continue;
    out.push({ file, line: Number(m[3]), column: Number(m[4]), fn: m[1] ?? '<anonymous>' });
  }
  return out;
}

/** gmemcheck's own code: everything a revision runs on, judges it or reports it. */
const MODEL_DIRS = ['model', 'properties', 'generators', 'reports', 'cli'].map((d) => join(REPO, d) + sep);

/** A revision's file: a built-in revision, a reviewer's module anywhere, or one written in a test. */
export function isRevisionFile(file: string): boolean {
  if (file === 'wasm') return true;
  if (file.startsWith(REVISIONS_DIR)) return !REVISION_PLUMBING.has(file.slice(REVISIONS_DIR.length));
  return !MODEL_DIRS.some((d) => file.startsWith(d));
}

export function blame(crash: Crash): CrashBlame {
  if (crash.kind === 'soft_lockup') return { kind: 'soft-lockup' };
  const frames = stackFrames(crash.stack);
  const first = frames[0];
  const revisionFrame = frames.find((f) => isRevisionFile(f.file));
  if (first !== undefined && isRevisionFile(first.file)) return { kind: 'oops', at: first };
  // Kernel C that handed the shim something no kernel function accepts: the C's oops, at the
  // C function that called the shim.
  const c = frames.find((f) => f.file === 'wasm');
  if (crash.name === 'KernelCFault' && c !== undefined) return { kind: 'oops', at: c };
  return { kind: 'model-error', at: first, revisionFrame };
}

/**
 * A frame as `file:line`, relative to the checkout for its own files. The CLI loads a reviewer's
 * module from a fresh copy beside it (`.NAME.pid.thread.n.mts`, same lines): named as the file.
 */
export function frameText(f: Frame): string {
  if (f.file === 'wasm') return `${f.fn} (kernel C)`;
  const file = f.file.replace(/([\\/])\.([^\\/]+)\.\d+\.\d+\.\d+\.mts$/, '$1$2');
  const shown = file.startsWith(REPO + sep) ? file.slice(REPO.length + 1) : file;
  return `${shown}:${f.line}`;
}

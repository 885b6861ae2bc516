import { parseArgs } from 'node:util';

/** Bad command-line input: printed with the usage, exit status 2. */
export class UsageError extends Error {}

export type ArgOptions = Record<string, { readonly type: 'string' | 'boolean' }>;

/** What parse() returns: each option's one value, and the positionals. */
export interface ParsedArgs {
  readonly values: Record<string, string | boolean | undefined>;
  readonly positionals: string[];
}

export function parse(argv: readonly string[], options: ArgOptions, positionals = false): ParsedArgs {
  // Every string option is collected in full, so a repeated one is refused instead of silently
  // keeping its last value (`--backend tdx --backend snp` would check snp only). A repeated
  // flag (`--json --json`) says the same thing twice and loses nothing.
  const all = Object.fromEntries(Object.entries(options).map(([name, o]) => [name, o.type === 'string' ? { type: 'string' as const, multiple: true } : { type: 'boolean' as const }]));
  let parsed: { values: Record<string, string | boolean | (string | boolean)[] | undefined>; positionals: string[] };
  try {
    parsed = parseArgs({ args: [...argv], options: all, allowPositionals: positionals, strict: true });
  } catch (e) {
    throw new UsageError(e instanceof Error ? e.message : String(e));
  }
  const values: Record<string, string | boolean | undefined> = {};
  for (const [name, v] of Object.entries(parsed.values)) {
    if (!Array.isArray(v)) values[name] = v;
    else if (v.length > 1) throw new UsageError(`--${name} given ${v.length} times (${v.map((x) => `'${String(x)}'`).join(', ')}); it takes one value`);
    else values[name] = v[0];
  }
  return { values, positionals: parsed.positionals };
}

export function integer(name: string, raw: string | undefined, dflt: number, min: number, max: number): number {
  if (raw === undefined) return dflt;
  if (!/^-?\d+$/.test(raw)) throw new UsageError(`--${name} must be an integer, got '${raw}'`);
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < min || n > max) throw new UsageError(`--${name} must be between ${min} and ${max}, got ${raw}`);
  return n;
}

export function str(v: string | boolean | undefined): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

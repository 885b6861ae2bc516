import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { describe, expect, test } from 'vitest';

/**
 * Dependencies run one way (style-anchors §6.16): the model knows nothing of properties,
 * generators, reports or the CLI; generators and properties build on the model only; reports
 * may read properties' types; kernel mode's tool side (kernelc/: extraction, the clang build)
 * builds on the model only; the CLI uses everything. And the house rules: no `any`, no
 * `@ts-ignore`, no non-null assertions.
 */
const ROOT = join(import.meta.dirname, '..');
const FOLDERS = ['model', 'properties', 'generators', 'reports', 'kernelc', 'cli'] as const;
type Folder = (typeof FOLDERS)[number];
const ALLOWED: Record<Folder, readonly Folder[]> = {
  model: ['model'],
  generators: ['generators', 'model'],
  properties: ['properties', 'model', 'generators'],
  reports: ['reports', 'model', 'properties'],
  kernelc: ['kernelc', 'model'],
  cli: ['cli', 'model', 'properties', 'generators', 'reports', 'kernelc'],
};

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

describe('layering', () => {
  for (const folder of FOLDERS) {
    test(`${folder}/ imports only ${ALLOWED[folder].join(', ')}`, () => {
      const bad: string[] = [];
      for (const file of files(join(ROOT, folder))) {
        for (const m of readFileSync(file, 'utf8').matchAll(/from '(\.[^']+)'/g)) {
          const target = relative(ROOT, join(file, '..', m[1] ?? '')).split(sep)[0] ?? '';
          if ((FOLDERS as readonly string[]).includes(target) && !(ALLOWED[folder] as readonly string[]).includes(target)) {
            bad.push(`${relative(ROOT, file)} imports ${m[1]}`);
          }
        }
      }
      expect(bad).toEqual([]);
    });
  }
});

describe('house rules', () => {
  const sources = [...FOLDERS, 'test'].flatMap((f) => files(join(ROOT, f)));
  test.each([
    ['an explicit any', /(:\s*any\b|as any\b|<any>|any\[\])/],
    ['@ts-ignore / @ts-nocheck', /@ts-(ignore|nocheck)/],
    ['a non-null assertion', /[\w\])]!\.[a-zA-Z_]/],
  ])('no %s', (_what, re) => {
    const hits = sources.filter((f) => !f.endsWith('layering.test.ts')).flatMap((f) =>
      readFileSync(f, 'utf8').split('\n').flatMap((line, i) => (re.test(line) ? [`${relative(ROOT, f)}:${i + 1}: ${line.trim()}`] : [])),
    );
    expect(hits).toEqual([]);
  });
});

import { describe, expect, test } from 'vitest';
import { evalCondition } from '../../kernelc/extract.js';
import { blank, splitUnits } from '../../kernelc/units.js';

const SRC = `// SPDX-License-Identifier: GPL-2.0
#include <linux/kvm_host.h>

/* A comment with { braces } and a "string". */
struct thing {
	int a; /* } */
};

#define TWICE(x) \\
	((x) + (x))

static const char *name = "{not a body}";

#ifdef CONFIG_FOO
static __always_inline int helper(struct thing *t)
{
	return t->a + '}';
}
#else
static int helper(struct thing *t) { return 0; }
#endif

int __printf(2, 3) logit(int level, const char *fmt, ...);

DEFINE_CLASS(thing_ref, struct thing *, if (_T) put(_T),
	     get(t), struct thing *t);

long entry(struct thing *t)
{
	CLASS(thing_ref, r)(t);
	if (helper(t))
		return TWICE(1);
	return 0;
}
EXPORT_SYMBOL(entry);
`;

describe('splitUnits()', () => {
  const units = splitUnits(SRC);
  const shape = units.map((u) => [u.kind, u.name, u.startLine, u.endLine]);

  test('splits a file the way the kernel lays it out, braces in comments, strings and char constants ignored', () => {
    expect(shape).toEqual([
      ['directive', null, 2, 2],
      ['declaration', 'thing', 5, 7],
      ['directive', 'TWICE', 9, 10],
      ['declaration', 'name', 12, 12],
      ['function', 'helper', 15, 18],
      ['function', 'helper', 20, 20],
      ['declaration', null, 23, 23],
      ['declaration', 'thing_ref', 25, 26],
      ['function', 'entry', 28, 34],
      ['declaration', null, 35, 35],
    ]);
  });

  test('records the conditions around a unit and the identifiers it mentions', () => {
    const helpers = units.filter((u) => u.name === 'helper');
    expect(helpers.map((u) => u.conditions)).toEqual([['ifdef CONFIG_FOO'], ['else|ifdef CONFIG_FOO']]);
    const entry = units.find((u) => u.name === 'entry');
    expect([...(entry?.identifiers ?? [])]).toEqual(expect.arrayContaining(['thing_ref', 'helper', 'TWICE', 'thing']));
    expect(entry?.header).toBe('long entry(struct thing *t)');
  });

  test('layouts that fooled the first splitter: a comment across lines on a #define, = inside an attribute, a macro statement without ;, a // comment after a declarator', () => {
    const more = splitUnits([
      '#define A 1 /* one',
      '   still the comment */',
      'static int __attribute__((diagnose_if(x == 0, "zero", "error"))) f(int x)',
      '{',
      '\treturn x;',
      '}',
      'DEFINE_FREE(thing, struct thing *, put(_T))',
      'static int g(int y) // the second',
      '{',
      '\treturn y;',
      '}',
    ].join('\n'));
    expect(more.map((u) => [u.kind, u.name, u.startLine, u.endLine])).toEqual([
      ['directive', 'A', 1, 2],
      ['function', 'f', 3, 6],
      ['declaration', 'thing', 7, 7],
      ['function', 'g', 8, 11],
    ]);
    expect(more[3]?.header).toBe('static int g(int y)');
  });

  test('blank() keeps offsets and newlines', () => {
    const b = blank(SRC);
    expect(b.length).toBe(SRC.length);
    expect(b.split('\n').length).toBe(SRC.split('\n').length);
    expect(b).not.toContain('braces');
  });
});

describe('evalCondition()', () => {
  const config = new Set(['CONFIG_A']);
  test.each([
    ['ifdef CONFIG_A', true],
    ['ifndef CONFIG_A', false],
    ['if IS_ENABLED(CONFIG_A) && !defined(CONFIG_B)', true],
    ['if defined CONFIG_B || 0', false],
    ['if (CONFIG_A == 1) && (2 != 2)', false],
    ['else|ifdef CONFIG_B', true],
    ['elif defined(CONFIG_A)|if 0', true],
    ['elif defined(CONFIG_A)|if 1', false],
    // A chain's later branches: taken only when no earlier one was.
    ['else|elif defined(CONFIG_B)|if defined(CONFIG_A)', false],
    ['else|elif defined(CONFIG_B)|if 0', true],
    ['elif defined(CONFIG_A)|elif defined(CONFIG_A)|if 0', false],
  ])('%s is %s', (cond, want) => expect(evalCondition(cond, config)).toBe(want));

  test('an expression it cannot read is an error, not a guess', () => {
    expect(() => evalCondition('if FOO(3) > 2', config)).toThrow(/cannot evaluate/);
  });
});

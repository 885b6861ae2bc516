/**
 * A kernel C file as its top-level units, the way the kernel lays them out: a function
 * definition's body closes at depth 0, a declaration (struct, typedef, prototype, variable,
 * DEFINE_CLASS()) ends at a depth-0 `;`, and preprocessor lines stand alone. Enough of C is
 * lexed (comments, strings, character constants, line continuations) that braces and
 * identifiers inside them are not miscounted. Each unit knows the lines it spans, the
 * preprocessor conditions around it and the identifiers it mentions, which is what extraction
 * needs to follow calls from an entry point to the helpers of the same file.
 */

export type UnitKind = 'function' | 'declaration' | 'directive';

export interface Unit {
  readonly kind: UnitKind;
  /** What the unit defines: a function, a struct/union/enum tag, a typedef, a macro, a DEFINE_CLASS() name. */
  readonly name: string | null;
  /** A function's declarator (its text up to the body), for forward declarations. */
  readonly header: string | null;
  readonly text: string;
  /** 1-based lines of the unit's first and last character. */
  readonly startLine: number;
  readonly endLine: number;
  /** The enclosing #if/#ifdef/#ifndef/#elif/#else conditions, outermost first (as written). */
  readonly conditions: readonly string[];
  /** Identifiers outside comments and string literals. */
  readonly identifiers: ReadonlySet<string>;
}


/** Attribute-like macros that may precede a function's name in its declarator. */
const NOT_A_NAME = new Set(['__attribute__', '__printf', '__aligned', '__section', '__must_hold', '__acquires', '__releases', '__no_sanitize_address', '__diag_ignore']);

/** Statement-like macro calls the kernel often writes without a trailing semicolon. */
const MACRO_STATEMENT = /^\s*(?:DEFINE_[A-Z0-9_]+|EXPORT_SYMBOL\w*|module_\w+|MODULE_\w+)\s*\(/;

/** Whether `text` has an `=` outside every parenthesis (an initializer, not an attribute's argument). */
function topLevelEquals(text: string): boolean {
  let parens = 0;
  for (const ch of text) {
    if (ch === '(') parens++;
    else if (ch === ')') parens--;
    else if (ch === '=' && parens === 0) return true;
  }
  return false;
}

/** Removes comments and string/char literal contents, keeping offsets and newlines. */
export function blank(src: string): string {
  const out = src.split('');
  let i = 0;
  while (i < src.length) {
    const c = src[i];
    const d = src[i + 1];
    if (c === '/' && d === '*') {
      const end = src.indexOf('*/', i + 2);
      const stop = end < 0 ? src.length : end + 2;
      for (let j = i; j < stop; j++) if (out[j] !== '\n') out[j] = ' ';
      i = stop;
    } else if (c === '/' && d === '/') {
      while (i < src.length && src[i] !== '\n') out[i++] = ' ';
    } else if (c === '"' || c === "'") {
      i++;
      while (i < src.length && src[i] !== c && src[i] !== '\n') {
        if (src[i] === '\\') out[i++] = ' ';
        if (i < src.length && src[i] !== '\n') out[i++] = ' ';
      }
      i++;
    } else {
      i++;
    }
  }
  return out.join('');
}

function identifiersOf(blanked: string): Set<string> {
  const ids = new Set<string>();
  for (const m of blanked.matchAll(/[A-Za-z_][A-Za-z0-9_]*/g)) ids.add(m[0]);
  return ids;
}

/** The name a declaration defines, if any. */
function declarationName(b: string): string | null {
  const t = b.trim();
  const klass = /^(?:DEFINE_CLASS|DEFINE_GUARD|DEFINE_FREE|DEFINE_LOCK_GUARD_[01]|DEFINE_GUARD_COND)\s*\(\s*([A-Za-z_]\w*)/.exec(t);
  if (klass) return klass[1] ?? null;
  const tag = /^(?:typedef\s+)?(?:struct|union|enum)\s+([A-Za-z_]\w*)\s*\{/.exec(t);
  if (tag && !t.startsWith('typedef')) return tag[1] ?? null;
  if (t.startsWith('typedef')) {
    const fnptr = /\(\s*\*\s*([A-Za-z_]\w*)\s*\)\s*\(/.exec(t);
    if (fnptr) return fnptr[1] ?? null;
    const last = /([A-Za-z_]\w*)\s*(?:\[[^\]]*\]\s*)*;\s*$/.exec(t);
    return last?.[1] ?? null;
  }
  // A variable: the identifier before `=`, `[` or `;` at the top level of the declaration.
  if (/\)\s*;\s*$/.test(t) && !t.includes('=')) return null; // a prototype or a macro statement
  const v = /([A-Za-z_]\w*)\s*(?:\[[^\]]*\]\s*)*(?:=|;)/.exec(t);
  return v?.[1] ?? null;
}

/** `header` without attribute macros and their balanced argument lists (`__attribute__((...))`). */
function withoutAttributes(header: string): string {
  let out = '';
  let i = 0;
  while (i < header.length) {
    const m = /^([A-Za-z_]\w*)\s*\(/.exec(header.slice(i));
    if (m !== null && NOT_A_NAME.has(m[1] ?? '') && (i === 0 || !/\w/.test(header[i - 1] ?? ''))) {
      let j = i + m[0].length;
      for (let depth = 1; j < header.length && depth > 0; j++) depth += header[j] === '(' ? 1 : header[j] === ')' ? -1 : 0;
      i = j;
      continue;
    }
    out += header[i];
    i++;
  }
  return out;
}

/** A function's name: the first identifier followed by `(` once attribute macros are gone. */
function functionName(header: string): string | null {
  return /([A-Za-z_]\w*)\s*\(/.exec(withoutAttributes(header))?.[1] ?? null;
}

export function splitUnits(src: string): Unit[] {
  const b = blank(src);
  const units: Unit[] = [];
  const lineStarts = [0];
  for (let i = 0; i < src.length; i++) if (src[i] === '\n') lineStarts.push(i + 1);
  const lineOf = (offset: number): number => {
    let lo = 0;
    let hi = lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((lineStarts[mid] ?? 0) <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo + 1;
  };
  // Newlines inside /* */ comments: a directive does not end at one of those.
  const commentNewlines = new Set<number>();
  for (const m of src.matchAll(/\/\*[\s\S]*?\*\//g)) {
    for (let j = m.index; j < m.index + m[0].length; j++) if (src[j] === '\n') commentNewlines.add(j);
  }
  const conditions: string[] = [];
  const push = (kind: UnitKind, start: number, end: number, name: string | null, header: string | null): void => {
    units.push({
      kind, name, header, text: src.slice(start, end), startLine: lineOf(start), endLine: lineOf(Math.max(start, end - 1)),
      conditions: [...conditions], identifiers: identifiersOf(b.slice(start, end)),
    });
  };

  let i = 0;
  while (i < b.length) {
    const c = b[i];
    if (c === undefined) break;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === '#') {
      // A directive, with its backslash continuations.
      let end = i;
      while (end < b.length && !(b[end] === '\n' && b[end - 1] !== '\\' && !commentNewlines.has(end))) end++;
      const text = b.slice(i, end);
      const dir = /^#\s*(\w+)\s*(.*)$/s.exec(text);
      const word = dir?.[1] ?? '';
      const rest = (dir?.[2] ?? '').replace(/\\\n/g, ' ').trim();
      if (word === 'if' || word === 'ifdef' || word === 'ifndef') conditions.push(`${word} ${rest}`);
      else if (word === 'elif') conditions.splice(-1, 1, `elif ${rest}|${conditions.at(-1) ?? ''}`);
      else if (word === 'else') conditions.splice(-1, 1, `else|${conditions.at(-1) ?? ''}`);
      else if (word === 'endif') conditions.pop();
      else {
        const macro = word === 'define' ? /^([A-Za-z_]\w*)/.exec(rest)?.[1] ?? null : null;
        push('directive', i, end, macro, null);
      }
      i = end + 1;
      continue;
    }
    // A statement at depth 0: a function definition or a declaration.
    const start = i;
    let depth = 0;
    let parens = 0;
    let end = -1;
    let isFunction = false;
    let header: string | null = null;
    for (; i < b.length; i++) {
      const ch = b[i];
      if (ch === '(') parens++;
      else if (ch === ')') {
        parens--;
        // DEFINE_FREE(...), EXPORT_SYMBOL(...) and the like, written without a semicolon.
        if (parens === 0 && depth === 0 && MACRO_STATEMENT.test(b.slice(start, i)) && !/^\s*;/.test(b.slice(i + 1))) {
          end = i + 1;
          break;
        }
      } else if (ch === '{') {
        if (depth === 0 && parens === 0) {
          const before = b.slice(start, i);
          // A body follows a declarator's `)` (possibly with attributes after it); an
          // initializer or a struct body does not.
          isFunction = /\)\s*(?:__\w+(?:\([^)]*\))?\s*)*$/.test(before) && !topLevelEquals(before) && !/^\s*(?:typedef\s+)?(?:struct|union|enum)\b[^(]*$/.test(before);
          // From the text without comments: a prototype made of it must not end inside one.
          if (isFunction) header = before.trim();
        }
        depth++;
      } else if (ch === '}') {
        depth--;
        if (depth === 0 && isFunction) {
          end = i + 1;
          break;
        }
      } else if (ch === ';' && depth === 0 && parens === 0) {
        end = i + 1;
        break;
      } else if (ch === '\n' && depth === 0 && parens === 0 && b[i + 1] === '#') {
        // A macro invocation without a semicolon (EXPORT_SYMBOL-like) ends at a directive.
        end = i;
        break;
      }
    }
    if (end < 0) end = b.length;
    if (isFunction && header !== null) push('function', start, end, functionName(header), header);
    else push('declaration', start, end, declarationName(b.slice(start, end)), null);
    i = end;
  }
  return units;
}

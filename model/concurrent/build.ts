import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

/**
 * The concurrent build of the model: the same TypeScript, emitted to JavaScript with every
 * function that can reach a switch point (model/world/switchPoint.ts) turned into a generator,
 * and every call that can reach one turned into `yield*`. A thread is then a generator the
 * scheduler (scheduler.ts) steps from switch point to switch point; the kernel code a revision
 * mirrors is not touched, so the sequential runs stay as fast and as readable as before.
 *
 * Which functions yield is decided over the whole program with the type checker, to a fixpoint:
 * - `switchPoint()` yields;
 * - a function yields when it calls a declaration that yields, a member of an interface whose
 *   name some yielding object-literal member bears (the kernel's tables and services are bound
 *   late, `k.fn()`, so the name is what a call site knows), or a function-typed parameter or
 *   property into which a yielding function flows (a callback such as `post_populate`, found from
 *   the contextual type where the function is passed or stored);
 * - a call to a function declaration that yields is `yield* f()`; any other yielding call (and
 *   any call through a function type the model declares) delegates only if the callee returned a
 *   generator (a table may bind a yielding or a plain function under one name); outside a
 *   generator such a call is checked at run time to return none.
 * A yielding function handed to code outside the model (an Array callback, say) cannot be
 * resumed there: the build refuses it, naming the place. model/concurrent/ is opaque (the
 * scheduler and the generator-aware bind are written by hand) and model/kernelc/ is left out
 * (WebAssembly imports cannot yield).
 *
 * The output goes to node_modules/.cache/gmemcheck-concurrent/<hash of the sources>/, built on
 * first use (a few seconds) and reused until a model file changes.
 */

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const MODEL = join(ROOT, 'model');
const CACHE = join(ROOT, 'node_modules', '.cache', 'gmemcheck-concurrent');
/** Files emitted as written (hand-written generator code, or code that must never yield). */
const OPAQUE_DIR = join(MODEL, 'concurrent');
/** Emitted in place of another model file: the generator-aware bind. */
const OVERRIDES: Readonly<Record<string, string>> = {
  [join(MODEL, 'kernel', 'bind.ts')]: join(MODEL, 'concurrent', 'bind.ts'),
};

/** The per-function temporary of a delegating call. */
const TEMP = '__gmc_t';

const HELPERS = [
  'const __gmc_isGen = (r) => r !== null && typeof r === "object" && typeof r.next === "function" && typeof r.throw === "function";',
  'const __gmc_plain = (r, at) => { if (__gmc_isGen(r)) throw new Error(`concurrent build: the call at ${at} returned a generator where the build expected no switch point`); return r; };',
  '',
].join('\n');

export interface ConcurrentBuild {
  /** Where the emitted tree lives: `<dir>/model/...` mirrors the sources. */
  readonly dir: string;
  /** Functions of the model (kernelc and concurrent/ aside) and how many became generators. */
  readonly functions: number;
  readonly generators: number;
}

export class ConcurrentBuildError extends Error {}

function modelFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) {
      if (p === join(MODEL, 'kernelc')) continue;
      out.push(...modelFiles(p));
    } else if (e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) {
      out.push(p);
    }
  }
  return out.sort();
}

function sourceHash(files: readonly string[]): string {
  const h = createHash('sha256');
  h.update(readFileSync(fileURLToPath(import.meta.url)));
  h.update(ts.version);
  for (const f of files) {
    h.update(relative(ROOT, f));
    h.update('\0');
    h.update(readFileSync(f));
  }
  return h.digest('hex').slice(0, 16);
}

type FnLike = ts.FunctionLikeDeclaration;

function isFnLike(n: ts.Node): n is FnLike {
  return ts.isFunctionDeclaration(n) || ts.isMethodDeclaration(n) || ts.isFunctionExpression(n) || ts.isArrowFunction(n)
    || ts.isGetAccessorDeclaration(n) || ts.isSetAccessorDeclaration(n) || ts.isConstructorDeclaration(n);
}

function where(n: ts.Node): string {
  const sf = n.getSourceFile();
  const { line } = sf.getLineAndCharacterOfPosition(n.getStart(sf));
  return `${relative(ROOT, sf.fileName)}:${line + 1}`;
}

function memberName(n: ts.Node): string | undefined {
  const name = (ts.isMethodDeclaration(n) || ts.isPropertyAssignment(n) || ts.isMethodSignature(n) || ts.isPropertySignature(n)) ? n.name : undefined;
  return name !== undefined && (ts.isIdentifier(name) || ts.isStringLiteral(name)) ? name.text : undefined;
}

/** The analysis: which function-like nodes yield, and how each call inside one is emitted. */
class Analysis {
  readonly yielding = new Set<ts.Node>();
  readonly memberNames = new Set<string>();
  readonly markedSigs = new Set<ts.Node>();
  /** Calls by their enclosing function (undefined: module scope). */
  private readonly calls = new Map<FnLike | undefined, ts.CallExpression[]>();
  /** Expressions that may carry a function value somewhere else (argument, initializer, property). */
  readonly valueRefs: ts.Expression[] = [];
  readonly fns: FnLike[] = [];

  private readonly model: ReadonlySet<ts.SourceFile>;

  constructor(private readonly checker: ts.TypeChecker, files: readonly ts.SourceFile[], model: readonly ts.SourceFile[], switchPointDecl: ts.Node) {
    this.model = new Set(model);
    for (const sf of files) this.collect(sf, undefined);
    this.yielding.add(switchPointDecl);
    this.fixpoint();
  }

  private collect(n: ts.Node, fn: FnLike | undefined): void {
    if (isFnLike(n) && n.body !== undefined) {
      this.fns.push(n);
      fn = n;
    }
    if (ts.isCallExpression(n)) {
      const list = this.calls.get(fn) ?? [];
      list.push(n);
      this.calls.set(fn, list);
    }
    if ((ts.isIdentifier(n) || ts.isPropertyAccessExpression(n)) && !this.isCallee(n) && this.isValuePosition(n)) this.valueRefs.push(n);
    ts.forEachChild(n, (c) => this.collect(c, fn));
  }

  private isCallee(n: ts.Node): boolean {
    return ts.isCallExpression(n.parent) && n.parent.expression === n;
  }

  /** An expression whose value goes somewhere typed: an argument, a property, an initializer, a return. */
  private isValuePosition(n: ts.Node): boolean {
    const p = n.parent;
    if (ts.isCallExpression(p)) return p.arguments.includes(n as ts.Expression);
    if (ts.isPropertyAssignment(p)) return p.initializer === n;
    if (ts.isVariableDeclaration(p)) return p.initializer === n;
    if (ts.isReturnStatement(p)) return true;
    if (ts.isBinaryExpression(p)) return p.right === n && p.operatorToken.kind === ts.SyntaxKind.EqualsToken;
    return false;
  }

  private declsOf(expr: ts.Expression): readonly ts.Declaration[] {
    const at = ts.isPropertyAccessExpression(expr) ? expr.name : expr;
    let sym = this.checker.getSymbolAtLocation(at);
    if (sym !== undefined && (sym.flags & ts.SymbolFlags.Alias) !== 0) sym = this.checker.getAliasedSymbol(sym);
    return sym?.declarations ?? [];
  }

  /** Declarations a value or callee refers to that yield: a yielding function, or a member named as one. */
  private refersToYielding(expr: ts.Expression): boolean {
    for (const d of this.declsOf(expr)) {
      if (this.yielding.has(d)) return true;
      if (ts.isVariableDeclaration(d) && d.initializer !== undefined && this.yielding.has(d.initializer)) return true;
      if ((ts.isMethodSignature(d) || ts.isPropertySignature(d)) && this.memberNames.has(memberName(d) ?? '')) return true;
    }
    return false;
  }

  callYields(call: ts.CallExpression): boolean {
    if (this.refersToYielding(call.expression)) return true;
    const sig = this.checker.getResolvedSignature(call)?.declaration;
    return sig !== undefined && this.markedSigs.has(sig);
  }

  /**
   * A call through a function type the model declares (a `k.fn()` member, a callback parameter,
   * a stored hook): what runs is known only at run time. In a generator it delegates whatever
   * the callee returns; elsewhere the build checks at run time that it returned no generator.
   */
  callIsDynamic(call: ts.CallExpression): boolean {
    const decls = this.declsOf(call.expression);
    if (decls.some((d) => (isFnLike(d) && d.body !== undefined) || (ts.isVariableDeclaration(d) && d.initializer !== undefined && isFnLike(d.initializer)))) return false;
    const sig = this.checker.getResolvedSignature(call)?.declaration;
    const at = [...decls, ...(sig === undefined ? [] : [sig])];
    return at.some((d) => this.model.has(d.getSourceFile()));
  }

  /** `yield* f()` without the runtime check: a plain function declaration that yields. */
  callIsStatic(call: ts.CallExpression): boolean {
    const decls = this.declsOf(call.expression);
    return decls.length === 1 && decls[0] !== undefined && ts.isFunctionDeclaration(decls[0]) && this.yielding.has(decls[0]);
  }

  private contextualSigs(expr: ts.Expression): ts.Node[] {
    let type: ts.Type | undefined;
    if (ts.isMethodDeclaration(expr)) {
      const m = expr as unknown as ts.MethodDeclaration;
      const obj = m.parent;
      const ct = ts.isObjectLiteralExpression(obj) ? this.checker.getContextualType(obj) : undefined;
      const prop = ct?.getProperty(memberName(m) ?? '');
      type = prop === undefined ? undefined : this.checker.getTypeOfSymbolAtLocation(prop, obj);
    } else {
      type = this.checker.getContextualType(expr);
    }
    if (type === undefined) return [];
    const types = type.isUnion() ? type.types : [type];
    return types.flatMap((t) => t.getCallSignatures().flatMap((s) => (s.declaration === undefined ? [] : [s.declaration as ts.Node])));
  }

  private markFlow(node: ts.Node): boolean {
    let changed = false;
    const sigs = this.contextualSigs(node as ts.Expression);
    for (const s of sigs) {
      if (!this.markedSigs.has(s)) {
        this.markedSigs.add(s);
        changed = true;
      }
    }
    const name = ts.isMethodDeclaration(node) && ts.isObjectLiteralExpression(node.parent) ? memberName(node)
      : ts.isPropertyAssignment(node.parent) && node.parent.initializer === node ? memberName(node.parent) : undefined;
    if (name !== undefined && !this.memberNames.has(name)) {
      this.memberNames.add(name);
      changed = true;
    }
    return changed;
  }

  private fixpoint(): void {
    const flowed = new Set<ts.Node>();
    for (let changed = true; changed;) {
      changed = false;
      for (const fn of this.fns) {
        if (!this.yielding.has(fn) && (this.calls.get(fn) ?? []).some((c) => this.callYields(c))) {
          this.yielding.add(fn);
          changed = true;
        }
      }
      for (const fn of this.yielding) {
        if (flowed.has(fn) || ts.isFunctionDeclaration(fn)) continue;
        flowed.add(fn);
        if (this.markFlow(fn)) changed = true;
      }
      for (const ref of this.valueRefs) {
        if (flowed.has(ref) || !this.refersToYielding(ref)) continue;
        flowed.add(ref);
        if (this.markFlow(ref)) changed = true;
      }
    }
  }

  /** Places the generators cannot work: the build refuses them. */
  problems(): string[] {
    const out: string[] = [];
    for (const c of this.calls.get(undefined) ?? []) if (this.callYields(c)) out.push(`${where(c)}: a call at module scope reaches a switch point`);
    for (const fn of this.yielding) {
      if (!isFnLike(fn)) continue;
      if (ts.isGetAccessorDeclaration(fn) || ts.isSetAccessorDeclaration(fn) || ts.isConstructorDeclaration(fn)) out.push(`${where(fn)}: an accessor or constructor reaches a switch point`);
      if ((ts.getCombinedModifierFlags(fn) & ts.ModifierFlags.Async) !== 0) out.push(`${where(fn)}: an async function reaches a switch point`);
      if (ts.isArrowFunction(fn) && usesThis(fn)) out.push(`${where(fn)}: an arrow function that reaches a switch point uses \`this\`, \`arguments\`, \`super\` or \`new.target\``);
      if (ts.isFunctionExpression(fn) || ts.isArrowFunction(fn) || (ts.isMethodDeclaration(fn) && ts.isObjectLiteralExpression(fn.parent))) {
        for (const s of this.contextualSigs(fn as unknown as ts.Expression)) {
          if (!this.model.has(s.getSourceFile())) out.push(`${where(fn)}: a function that reaches a switch point is handed to code outside the model (${relative(ROOT, s.getSourceFile().fileName)})`);
        }
      }
    }
    // A default parameter value is evaluated outside the generator body: it cannot yield.
    for (const fn of this.fns) {
      for (const param of fn.parameters) {
        if (param.initializer === undefined) continue;
        const visit = (n: ts.Node): void => {
          if (ts.isCallExpression(n) && this.callYields(n)) out.push(`${where(n)}: a default parameter value reaches a switch point`);
          if (!isFnLike(n)) ts.forEachChild(n, visit);
        };
        visit(param.initializer);
      }
    }
    // A yielding function passed by name to code outside the model would be called there and its
    // generator dropped: its body would never run.
    for (const ref of this.valueRefs) {
      if (!this.refersToYielding(ref)) continue;
      for (const s of this.contextualSigs(ref)) {
        if (!this.model.has(s.getSourceFile())) out.push(`${where(ref)}: a function that reaches a switch point is handed to code outside the model (${relative(ROOT, s.getSourceFile().fileName)})`);
      }
    }
    return [...new Set(out)];
  }
}

/** Whether an arrow function reads what a function expression would rebind: this, arguments, super, new.target. */
function usesThis(fn: ts.Node): boolean {
  let found = false;
  const visit = (n: ts.Node): void => {
    if (n.kind === ts.SyntaxKind.ThisKeyword || n.kind === ts.SyntaxKind.SuperKeyword || ts.isMetaProperty(n) || (ts.isIdentifier(n) && n.text === 'arguments')) found = true;
    if (!found && !(ts.isFunctionDeclaration(n) || ts.isFunctionExpression(n) || ts.isMethodDeclaration(n))) ts.forEachChild(n, visit);
  };
  ts.forEachChild(fn, visit);
  return found;
}

function transformer(a: Analysis, switchPointDecl: ts.Node, transformed: ReadonlySet<ts.SourceFile>): ts.TransformerFactory<ts.SourceFile> {
  return (ctx) => {
    const f = ctx.factory;
    const star = f.createToken(ts.SyntaxKind.AsteriskToken);
    const visitIn = (gen: boolean) => (n: ts.Node): ts.Node => {
      if (n === switchPointDecl && ts.isFunctionDeclaration(n)) {
        const at = n.parameters[1]?.name;
        if (at === undefined || !ts.isIdentifier(at)) throw new ConcurrentBuildError('switchPoint(w, at): unexpected parameters');
        return f.updateFunctionDeclaration(n, n.modifiers, star, n.name, n.typeParameters, n.parameters, n.type,
          f.createBlock([f.createExpressionStatement(f.createYieldExpression(undefined, f.createIdentifier(at.text)))], true));
      }
      if (isFnLike(n) && n.body !== undefined) {
        const y = a.yielding.has(n);
        const body = ts.visitNode(n.body, visitIn(y)) as ts.ConciseBody;
        const params = ts.visitNodes(n.parameters, visitIn(false)) as ts.NodeArray<ts.ParameterDeclaration>;
        if (!y) {
          if (ts.isFunctionDeclaration(n)) return f.updateFunctionDeclaration(n, n.modifiers, n.asteriskToken, n.name, n.typeParameters, params, n.type, body as ts.Block);
          if (ts.isMethodDeclaration(n)) return f.updateMethodDeclaration(n, n.modifiers, n.asteriskToken, n.name, n.questionToken, n.typeParameters, params, n.type, body as ts.Block);
          if (ts.isFunctionExpression(n)) return f.updateFunctionExpression(n, n.modifiers, n.asteriskToken, n.name, n.typeParameters, params, n.type, body as ts.Block);
          if (ts.isArrowFunction(n)) return f.updateArrowFunction(n, n.modifiers, n.typeParameters, params, n.type, n.equalsGreaterThanToken, body);
          return ts.visitEachChild(n, visitIn(false), ctx);
        }
        const temp = f.createVariableStatement(undefined, f.createVariableDeclarationList([f.createVariableDeclaration(TEMP)], ts.NodeFlags.Let));
        const block = f.createBlock([temp, ...(ts.isBlock(body) ? body.statements : [f.createReturnStatement(body)])], true);
        if (ts.isFunctionDeclaration(n)) return f.updateFunctionDeclaration(n, n.modifiers, star, n.name, n.typeParameters, params, n.type, block);
        if (ts.isMethodDeclaration(n)) return f.updateMethodDeclaration(n, n.modifiers, star, n.name, n.questionToken, n.typeParameters, params, n.type, block);
        if (ts.isFunctionExpression(n)) return f.updateFunctionExpression(n, n.modifiers, star, n.name, n.typeParameters, params, n.type, block);
        if (ts.isArrowFunction(n)) return f.createFunctionExpression(n.modifiers?.filter((m) => m.kind !== ts.SyntaxKind.AsyncKeyword), star, undefined, n.typeParameters, params, n.type, block);
        throw new ConcurrentBuildError(`${where(n)}: cannot make this a generator`);
      }
      if (ts.isCallExpression(n) && (gen ? a.callYields(n) || a.callIsDynamic(n) : a.callIsDynamic(n))) {
        const call = ts.visitEachChild(n, visitIn(gen), ctx);
        if (!gen) return f.createCallExpression(f.createIdentifier('__gmc_plain'), undefined, [call, f.createStringLiteral(where(n))]);
        if (a.callIsStatic(n)) return f.createParenthesizedExpression(f.createYieldExpression(star, call));
        // (t = f(), isGen(t) ? yield* t : t): the callee's result is a value once the expression is
        // done, so one temporary per function serves nested and sibling calls alike.
        const t = f.createIdentifier(TEMP);
        return f.createParenthesizedExpression(f.createCommaListExpression([
          f.createAssignment(t, call),
          f.createConditionalExpression(f.createCallExpression(f.createIdentifier('__gmc_isGen'), undefined, [t]), undefined, f.createParenthesizedExpression(f.createYieldExpression(star, t)), undefined, t),
        ]));
      }
      return ts.visitEachChild(n, visitIn(gen), ctx);
    };
    return (sf) => (transformed.has(sf) ? ts.visitEachChild(sf, visitIn(false), ctx) : sf);
  };
}

let built: ConcurrentBuild | undefined;

/** Builds the concurrent model (or finds it built) and says where it is. */
export function buildConcurrent(): ConcurrentBuild {
  if (built !== undefined) return built;
  const files = modelFiles(MODEL);
  const dir = join(CACHE, sourceHash(files));
  const stats = join(dir, 'build.json');
  if (existsSync(stats)) {
    built = { dir, ...(JSON.parse(readFileSync(stats, 'utf8')) as { functions: number; generators: number }) };
    return built;
  }
  const options: ts.CompilerOptions = {
    target: ts.ScriptTarget.ES2023, module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext,
    strict: true, skipLibCheck: true, types: ['node'], rootDir: ROOT, outDir: dir, sourceMap: false, declaration: false,
    verbatimModuleSyntax: true, noEmitOnError: false,
  };
  const program = ts.createProgram(files, options);
  const checker = program.getTypeChecker();
  const sources = files.map((f) => program.getSourceFile(f)).filter((s): s is ts.SourceFile => s !== undefined);
  const spFile = sources.find((s) => s.fileName.endsWith(`${sep}world${sep}switchPoint.ts`.replaceAll(sep, '/')) || s.fileName.endsWith('/world/switchPoint.ts'));
  const spDecl = spFile?.statements.find((s): s is ts.FunctionDeclaration => ts.isFunctionDeclaration(s) && s.name?.text === 'switchPoint');
  if (spDecl === undefined) throw new ConcurrentBuildError('model/world/switchPoint.ts: switchPoint() not found');
  const transformed = sources.filter((s) => !s.fileName.startsWith(OPAQUE_DIR.replaceAll(sep, '/')));
  const analysis = new Analysis(checker, transformed, sources, spDecl);
  const problems = analysis.problems();
  if (problems.length > 0) throw new ConcurrentBuildError(`the concurrent build cannot be made:\n  ${problems.join('\n  ')}`);
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  const overrideOut = new Map(Object.entries(OVERRIDES).map(([target, src]) => [src, target]));
  const write = (name: string, text: string): void => {
    const rel = relative(dir, name);
    const out = join(tmp, rel);
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, HELPERS + text);
    const src = join(ROOT, rel).replace(/\.js$/, '.ts');
    const target = overrideOut.get(src);
    if (target !== undefined) {
      const t = join(tmp, relative(ROOT, target).replace(/\.ts$/, '.js'));
      mkdirSync(dirname(t), { recursive: true });
      writeFileSync(t, HELPERS + text);
    }
  };
  const replaced = new Set(Object.keys(OVERRIDES).map((t) => join(dir, relative(ROOT, t)).replace(/\.ts$/, '.js')));
  const r = program.emit(undefined, (name, text) => {
    if (!replaced.has(name)) write(name, text);
  }, undefined, false, { before: [transformer(analysis, spDecl, new Set(transformed))] });
  if (r.emitSkipped) throw new ConcurrentBuildError('the concurrent build: emit skipped');
  const result = { functions: analysis.fns.length, generators: [...analysis.yielding].filter(isFnLike).length };
  writeFileSync(join(tmp, 'build.json'), JSON.stringify(result));
  try {
    renameSync(tmp, dir);
  } catch (e) {
    // Another process built the same sources first: theirs is as good.
    rmSync(tmp, { recursive: true, force: true });
    if (!existsSync(stats)) throw e;
  }
  built = { dir, ...result };
  return built;
}

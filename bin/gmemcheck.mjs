#!/usr/bin/env node
// gmemcheck's launcher (package.json "bin"). It loads cli/main.ts in this process through the
// pinned tsx's loader API rather than through `npm run`, which prints a banner on stdout, or
// the tsx CLI, which starts a second node process: stdout carries only what gmemcheck prints,
// so `npx gmemcheck list --json | jq .` works, and startup costs one process, not two.
import { fileURLToPath } from 'node:url';
import { register as registerCjs } from 'tsx/cjs/api';
import { register as registerEsm } from 'tsx/esm/api';

const root = new URL('../', import.meta.url);
// The project's compiler settings wherever gmemcheck is run from (tsx would look in the cwd).
const tsconfig = fileURLToPath(new URL('tsconfig.json', root));
// Both loaders, as the tsx CLI sets up: a reviewer's revision module outside this package has no
// "type": "module" over it, so it loads as CommonJS, and its imports of the model need the
// CommonJS hook too.
registerCjs({ tsconfig });
registerEsm({ tsconfig });
// Paths the user types are relative to where they ran the command; npm run sets INIT_CWD to
// say so, and a stale INIT_CWD inherited from an outer npm process must not win here.
process.env.INIT_CWD = process.cwd();
const { runCli } = await import(new URL('cli/main.ts', root).href);
await runCli();

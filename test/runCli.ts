import { main } from '../cli/main.js';

/** gmemcheck run in-process, as a test sees it: the exit status and what went to each stream. */
export async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, (s) => (out += s), (s) => (err += s));
  return { code, out, err };
}

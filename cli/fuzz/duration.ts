/**
 * A campaign's wall-clock budget as typed: `90s`, `30m`, `1h`, or parts together (`1h30m`).
 * A bare number is refused rather than guessed (seconds? minutes?).
 */
const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000 } as const;

/** The longest budget taken: a week, far past a CI job's limit, short of a typo's. */
export const MAX_DURATION_MS = 7 * 24 * UNIT_MS.h;

/** Milliseconds, or the reason the text is not a duration. */
export function parseDuration(text: string): { readonly ms: number } | { readonly error: string } {
  if (!/^(\d+[smh])+$/.test(text)) return { error: `must be a duration such as 90s, 30m, 1h or 1h30m, got '${text}'` };
  let ms = 0;
  for (const m of text.matchAll(/(\d+)([smh])/g)) {
    const unit = m[2] === 's' || m[2] === 'm' || m[2] === 'h' ? m[2] : 's';
    ms += Number(m[1]) * UNIT_MS[unit];
  }
  if (ms === 0) return { error: `must be longer than nothing, got '${text}'` };
  if (ms > MAX_DURATION_MS) return { error: `must be at most a week (168h), got '${text}'` };
  return { ms };
}

/** `1h02m`, `4m05s`, `12s`: elapsed and remaining time in progress lines. */
export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  if (h > 0) return `${h}h${String(m).padStart(2, '0')}m`;
  if (m > 0) return `${m}m${String(sec).padStart(2, '0')}s`;
  return `${sec}s`;
}

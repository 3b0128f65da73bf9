/** Durations as Sigma timespans and CLI flags write them: `90s`, `15m`, `3h`, `2d`, `1w`. */
const UNIT_SECONDS = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 } as const;

/** `3h` → 10800 (seconds). */
export function parseDuration(text: string, what = "duration"): number {
  const m = /^(\d+)\s*([smhdw])$/.exec(text.trim());
  if (!m) {
    throw new Error(
      `${what}: expected a number and a unit (s, m, h, d, w), like 3h, not ${JSON.stringify(text)}`,
    );
  }
  return Number(m[1]) * UNIT_SECONDS[m[2] as keyof typeof UNIT_SECONDS];
}

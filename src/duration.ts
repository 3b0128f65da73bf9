/** `90s`, `15m`, `3h`, `2d` → seconds (Sigma timespans and CLI flags use the same notation). */
export function parseDuration(text: string, what = "duration"): number {
  const m = /^(\d+)\s*([smhd])$/.exec(text.trim());
  if (!m)
    throw new Error(
      `${what}: expected a number and a unit (s, m, h, d), like 3h, not ${JSON.stringify(text)}`,
    );
  return Number(m[1]) * { s: 1, m: 60, h: 3600, d: 86400 }[m[2] as "s" | "m" | "h" | "d"];
}

/**
 * Reading parsed JSON whose shape is not guaranteed (records, request parameters, trigger events,
 * rule documents). Values may be attacker-controlled, including an object whose own
 * `toString`/`valueOf` keys make String() and Number() throw: these helpers never convert an object
 * or array, so no record can make the code that reads it throw.
 */

export type Params = Record<string, unknown>;

export function isObject(v: unknown): v is Params {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** The value when it is a JSON object (not null, not an array), else undefined. */
export function asObject(v: unknown): Params | undefined {
  return isObject(v) ? v : undefined;
}

export function asArray(v: unknown): unknown[] {
  if (Array.isArray(v)) return v;
  return v === undefined || v === null ? [] : [v];
}

/** A string or a number/boolean as text; "" for anything else (objects, arrays, null, undefined). */
export function scalarText(v: unknown): string {
  if (typeof v === "string") return v;
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  return "";
}

/** A number, or a string/boolean as a number; NaN for anything else (objects, arrays, null, undefined). */
export function scalarNumber(v: unknown): number {
  if (typeof v === "number") return v;
  if (typeof v === "string" || typeof v === "boolean") return Number(v);
  return Number.NaN;
}

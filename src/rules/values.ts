/**
 * One Sigma field item (`field|mod1|mod2: value(s)`) compiled to a predicate over an event.
 * Literals are lower-cased, wildcards turned into the cheapest test (equality, prefix, suffix, substring,
 * regex) and every RegExp built once, at compile time.
 */
import type { AuditEvent } from "../event.ts";
import { compileCidr } from "./cidr.ts";
import { RuleCompileError, unsupported } from "./errors.ts";
import { compileField, type FieldAccessor, type LeafPredicate, SEVERAL, valueText } from "./fields.ts";

export type EventPredicate = (event: AuditEvent) => boolean;
export type StringTest = (s: string) => boolean;

export interface CompileContext {
  /** Values for `expand` placeholders (`%name%`), by placeholder name without the percent signs. */
  placeholders: Readonly<Record<string, readonly string[]>>;
  /** Collects lint warnings about constructs that load but probably do not mean what they say. */
  warnings?: string[];
}

/** `(…+…)+`-style groups: the classic catastrophic-backtracking shape (values come from attackers). */
const NESTED_QUANTIFIER = /\((?:[^()\\]|\\.)*[+*](?:[^()\\]|\\.)*\)(?:[+*]|\{\d+,\d*\})/;

/** A value that names a CloudTrail field: compared literally, it almost never matches. */
const LOOKS_LIKE_FIELD =
  /^(requestParameters|responseElements|userIdentity|additionalEventData|serviceEventDetails)\.\w/;

export interface CompiledFieldItem {
  field: string;
  match: EventPredicate;
  /**
   * Lower-cased literal values when the item is a plain equality with no wildcard (`eventName: X` or a list
   * of such): the index uses these to know which events can match.
   */
  equalsAnyOf?: readonly string[];
}

const KNOWN_UNSUPPORTED = new Set([
  "windash",
  "wide",
  "utf16",
  "utf16le",
  "utf16be",
  "minute",
  "hour",
  "day",
  "week",
  "month",
  "year",
]);

// ---------------------------------------------------------------- wildcard patterns

const STAR = 0;
const ONE = 1;
type PatternPart = string | typeof STAR | typeof ONE;

/** Splits a Sigma string into literal text and wildcards; `\*`, `\?` and `\\` escape. */
export function parseWildcards(value: string): PatternPart[] {
  const parts: PatternPart[] = [];
  let lit = "";
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (c === "\\") {
      const next = value[i + 1];
      if (next === "*" || next === "?" || next === "\\") {
        lit += next;
        i++;
      } else {
        lit += c;
      }
    } else if (c === "*" || c === "?") {
      if (lit) parts.push(lit);
      lit = "";
      if (c === "?") parts.push(ONE);
      else if (parts[parts.length - 1] !== STAR) parts.push(STAR);
    } else {
      lit += c;
    }
  }
  if (lit) parts.push(lit);
  return parts;
}

function literalParts(text: string): PatternPart[] {
  return text ? [text] : [];
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
}

const isAscii = (s: string) => {
  for (let k = 0; k < s.length; k++) if (s.charCodeAt(k) > 127) return false;
  return true;
};

/** ASCII case-insensitive comparison of s[offset…] with an already lower-cased ASCII literal. */
function regionEqualsLower(s: string, offset: number, lower: string): boolean {
  for (let k = 0; k < lower.length; k++) {
    let c = s.charCodeAt(offset + k);
    if (c >= 65 && c <= 90) c += 32;
    if (c !== lower.charCodeAt(k)) return false;
  }
  return true;
}

function joinStars(parts: PatternPart[]): PatternPart[] {
  const out: PatternPart[] = [];
  for (const p of parts) {
    const last = out[out.length - 1];
    if (p === STAR && last === STAR) continue;
    if (typeof p === "string" && typeof last === "string") out[out.length - 1] = last + p;
    else out.push(p);
  }
  return out;
}

/** Compiles a wildcard pattern into the cheapest equivalent string test. */
export function compilePattern(rawParts: PatternPart[], cased: boolean): StringTest {
  const parts = joinStars(rawParts);
  const n = parts.length;
  const only = (...shape: ("lit" | "star")[]) =>
    n === shape.length &&
    shape.every((s, k) => (s === "lit" ? typeof parts[k] === "string" : parts[k] === STAR));
  if (n === 0) return (s) => s.length === 0;
  if (only("star")) return () => true;
  const fold = !cased;
  if (only("lit")) {
    const lit = parts[0] as string;
    if (!fold) return (s) => s === lit;
    if (isAscii(lit)) {
      const lower = lit.toLowerCase();
      return (s) => s.length === lower.length && (s === lit || regionEqualsLower(s, 0, lower));
    }
  }
  if (only("lit", "star")) {
    const lit = parts[0] as string;
    if (!fold) return (s) => s.startsWith(lit);
    if (isAscii(lit)) {
      const lower = lit.toLowerCase();
      return (s) => s.length >= lower.length && regionEqualsLower(s, 0, lower);
    }
  }
  if (only("star", "lit")) {
    const lit = parts[1] as string;
    if (!fold) return (s) => s.endsWith(lit);
    if (isAscii(lit)) {
      const lower = lit.toLowerCase();
      return (s) => s.length >= lower.length && regionEqualsLower(s, s.length - lower.length, lower);
    }
  }
  if (only("star", "lit", "star")) {
    const lit = parts[1] as string;
    if (!fold) return (s) => s.includes(lit);
    const re = new RegExp(escapeRegExp(lit), "iu");
    return (s) => re.test(s);
  }
  const starOnly = parts.every((p) => p !== ONE);
  if (starOnly && (!fold || parts.every((p) => typeof p !== "string" || isAscii(p)))) {
    return compileStarPattern(parts as (string | typeof STAR)[], fold);
  }
  let src = "^";
  for (const p of parts) src += p === STAR ? "[\\s\\S]*" : p === ONE ? "[\\s\\S]" : escapeRegExp(p);
  const re = new RegExp(`${src}$`, fold ? "iu" : "u");
  return (s) => re.test(s);
}

/** Index of an already lower-cased ASCII literal in s (ASCII case folding), from `from`, or -1. */
function indexOfLower(s: string, lower: string, from: number): number {
  const last = s.length - lower.length;
  const first = lower.charCodeAt(0);
  for (let i = from; i <= last; i++) {
    let c = s.charCodeAt(i);
    if (c >= 65 && c <= 90) c += 32;
    if (c === first && regionEqualsLower(s, i, lower)) return i;
  }
  return -1;
}

/**
 * `a*b*c` style patterns (several literals, `*` only) as a left-to-right search: linear in the value,
 * where the equivalent regex can backtrack quadratically on long values (flattened requestParameters).
 */
function compileStarPattern(parts: (string | typeof STAR)[], fold: boolean): StringTest {
  const lits = parts
    .filter((p): p is string => typeof p === "string")
    .map((p) => (fold ? p.toLowerCase() : p));
  const anchoredStart = typeof parts[0] === "string";
  const anchoredEnd = typeof parts[parts.length - 1] === "string";
  const find = fold
    ? (s: string, lit: string, from: number) => indexOfLower(s, lit, from)
    : (s: string, lit: string, from: number) => s.indexOf(lit, from);
  const at = fold
    ? (s: string, lit: string, pos: number) => regionEqualsLower(s, pos, lit)
    : (s: string, lit: string, pos: number) => s.startsWith(lit, pos);
  if (anchoredStart && anchoredEnd && lits.length === 1) {
    const lit = lits[0];
    return (s) => s.length === lit.length && at(s, lit, 0);
  }
  return (s) => {
    let pos = 0;
    let from = 0;
    let to = lits.length;
    if (anchoredStart) {
      if (s.length < lits[0].length || !at(s, lits[0], 0)) return false;
      pos = lits[0].length;
      from = 1;
    }
    let endStart = s.length;
    if (anchoredEnd && to > from) {
      const tail = lits[to - 1];
      endStart = s.length - tail.length;
      if (endStart < pos || !at(s, tail, endStart)) return false;
      to--;
    }
    for (let k = from; k < to; k++) {
      const i = find(s, lits[k], pos);
      if (i < 0 || i + lits[k].length > endStart) return false;
      pos = i + lits[k].length;
    }
    return true;
  };
}

// ---------------------------------------------------------------- modifiers

interface Modifiers {
  position?: "contains" | "startswith" | "endswith";
  all: boolean;
  cased: boolean;
  re: boolean;
  reFlags: string;
  cidr: boolean;
  exists: boolean;
  fieldref: boolean;
  expand: boolean;
  base64?: "base64" | "base64offset";
  compare?: "lt" | "lte" | "gt" | "gte";
}

function parseModifiers(mods: string[]): Modifiers {
  const m: Modifiers = {
    all: false,
    cased: false,
    re: false,
    reFlags: "",
    cidr: false,
    exists: false,
    fieldref: false,
    expand: false,
  };
  for (const raw of mods) {
    const mod = raw.toLowerCase();
    switch (mod) {
      case "contains":
      case "startswith":
      case "endswith":
        if (m.position) throw new RuleCompileError(`modifiers ${m.position} and ${mod} cannot be combined`);
        m.position = mod;
        break;
      case "all":
        m.all = true;
        break;
      case "cased":
        m.cased = true;
        break;
      case "re":
        m.re = true;
        break;
      case "i":
      case "m":
      case "s":
        if (!m.re) throw new RuleCompileError(`modifier ${mod} only applies after re`);
        if (!m.reFlags.includes(mod)) m.reFlags += mod;
        break;
      case "cidr":
        m.cidr = true;
        break;
      case "exists":
        m.exists = true;
        break;
      case "fieldref":
        m.fieldref = true;
        break;
      case "expand":
        m.expand = true;
        break;
      case "base64":
      case "base64offset":
        if (m.base64) throw new RuleCompileError("base64 modifiers cannot be combined");
        m.base64 = mod;
        break;
      case "lt":
      case "lte":
      case "gt":
      case "gte":
        if (m.compare) throw new RuleCompileError(`modifiers ${m.compare} and ${mod} cannot be combined`);
        m.compare = mod;
        break;
      default:
        if (KNOWN_UNSUPPORTED.has(mod)) throw unsupported(`modifier ${mod}`);
        throw unsupported(`modifier ${raw}`, "unknown modifier");
    }
  }
  const special = [m.re, m.cidr, m.exists, m.fieldref, m.compare !== undefined].filter(Boolean).length;
  if (special > 1) throw new RuleCompileError(`modifiers ${mods.join("|")} cannot be combined`);
  if ((m.re || m.cidr || m.exists || m.compare) && m.position) {
    throw new RuleCompileError(`modifier ${m.position} cannot be combined with ${mods.join("|")}`);
  }
  if (m.base64 && (m.re || m.cidr || m.exists || m.fieldref || m.compare)) {
    throw new RuleCompileError(`${m.base64} cannot be combined with ${mods.join("|")}`);
  }
  return m;
}

type Scalar = string | number | boolean | null;

function toScalars(value: unknown, where: string): Scalar[] {
  const list = Array.isArray(value) ? value : [value];
  if (list.length === 0) throw new RuleCompileError(`${where}: empty value list`);
  for (const v of list) {
    if (v === null || typeof v === "string" || typeof v === "number" || typeof v === "boolean") continue;
    throw new RuleCompileError(`${where}: values must be strings, numbers, booleans or null`);
  }
  return list as Scalar[];
}

function expandPlaceholders(value: string, ctx: CompileContext, where: string): string[] {
  let results = [""];
  let rest = value;
  for (;;) {
    const m = /%([A-Za-z0-9_.-]+)%/.exec(rest);
    if (!m) break;
    const name = m[1];
    const values = ctx.placeholders[name];
    if (!values || values.length === 0) {
      // A configuration gap, not an engine limit: the rule loads once the placeholder has values.
      throw new RuleCompileError(
        `${where}: placeholder %${name}% has no values; set rules.placeholders.${name} in the config (--config FILE)`,
      );
    }
    const before = rest.slice(0, m.index);
    results = results.flatMap((r) => values.map((v) => r + before + v));
    rest = rest.slice(m.index + m[0].length);
  }
  return results.map((r) => r + rest);
}

/** The three base64 encodings of `text` at byte offsets 0, 1 and 2, trimmed to the stable part (Sigma spec). */
function base64Offsets(text: string): string[] {
  const bytes = Buffer.from(text, "utf8");
  const starts = [0, 2, 3];
  const ends = [null, 3, 2];
  const out: string[] = [];
  for (let k = 0; k < 3; k++) {
    const padded = Buffer.concat([Buffer.alloc(k), bytes]);
    let enc = padded.toString("base64");
    const end = ends[(bytes.length + k) % 3];
    enc = enc.slice(starts[k], end === null ? undefined : enc.length - end);
    out.push(enc);
  }
  return out;
}

/**
 * `re` is an unanchored search, so a leading or trailing `.*` adds nothing and `.+` needs just one
 * character; V8 backtracks through them quadratically (SigmaHQ's `.+:assumed-role/aws:.+` costs
 * ~6 µs per ARN as written, ~30 ns trimmed). Same matches, rewritten once at compile time.
 */
export function trimUnanchoredDots(src: string): string {
  let s = src;
  const lead = /^\.([*+])\??/.exec(s);
  if (lead) s = (lead[1] === "+" ? "." : "") + s.slice(lead[0].length);
  const trail = /\.([*+])\??$/.exec(s);
  if (trail) {
    let slashes = 0;
    for (let k = trail.index - 1; k >= 0 && s[k] === "\\"; k--) slashes++;
    if (slashes % 2 === 0) s = s.slice(0, trail.index) + (trail[1] === "+" ? "." : "");
  }
  return s;
}

/** Literal runs shorter than this are not worth a substring search before the regex. */
const MIN_REQUIRED_LITERAL = 3;

/**
 * The longest run of literal characters every match of a regex must contain, or undefined. Only for
 * the simple shapes where that is plain to see: no alternation, group, class, braces or escaped letter
 * or digit (`\d`, `\x41`, `\1`…) anywhere, and no `i` flag. A quantified character ends a run
 * without being part of it; `.`, `^` and `$` end a run.
 */
export function requiredLiteral(source: string, flags: string): string | undefined {
  if (flags.includes("i")) return undefined;
  let best = "";
  let run = "";
  const end = () => {
    if (run.length > best.length) best = run;
    run = "";
  };
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    if ("|()[]{}".includes(c)) return undefined;
    if (c === "\\") {
      const next = source[i + 1];
      if (next === undefined || /[0-9A-Za-z]/.test(next)) return undefined;
      run += next;
      i++;
    } else if (c === "*" || c === "+" || c === "?") {
      run = run.slice(0, -1);
      end();
    } else if (c === "." || c === "^" || c === "$") end();
    else run += c;
  }
  end();
  return best.length >= MIN_REQUIRED_LITERAL ? best : undefined;
}

function compileRegex(source: string, flags: string, where: string): StringTest {
  let src = source;
  let fl = flags;
  // Common PCRE spellings with a JavaScript equivalent.
  const inline = /^\(\?([ims]+)\)/.exec(src);
  if (inline) {
    for (const f of inline[1]) if (!fl.includes(f)) fl += f;
    src = src.slice(inline[0].length);
  }
  src = src.replace(/\(\?P</g, "(?<");
  src = trimUnanchoredDots(src);
  let re: RegExp;
  try {
    re = new RegExp(src, fl);
  } catch (err) {
    throw unsupported("re", `${where}: not a JavaScript regular expression: ${(err as Error).message}`);
  }
  // A substring search rejects most values far faster than the regex engine can (one rule runs on every event).
  const literal = requiredLiteral(src, fl);
  return literal ? (s) => s.includes(literal) && re.test(s) : (s) => re.test(s);
}

function stringLeafTest(test: StringTest): LeafPredicate {
  return (v) => {
    const s = valueText(v);
    return s !== undefined && test(s);
  };
}

function toNumber(v: unknown): number {
  if (typeof v === "number") return v;
  if (typeof v === "string" && v.length > 0) return Number(v);
  return Number.NaN;
}

function compareTest(op: "lt" | "lte" | "gt" | "gte", limit: number): LeafPredicate {
  switch (op) {
    case "lt":
      return (v) => toNumber(v) < limit;
    case "lte":
      return (v) => toNumber(v) <= limit;
    case "gt":
      return (v) => toNumber(v) > limit;
    case "gte":
      return (v) => toNumber(v) >= limit;
  }
}

/** Case-(in)sensitive comparison of two record values, for fieldref. */
function fieldrefCompare(position: Modifiers["position"], cased: boolean): (a: string, b: string) => boolean {
  const norm = cased ? (s: string) => s : (s: string) => s.toLowerCase();
  switch (position) {
    case "contains":
      return (a, b) => norm(a).includes(norm(b));
    case "startswith":
      return (a, b) => norm(a).startsWith(norm(b));
    case "endswith":
      return (a, b) => norm(a).endsWith(norm(b));
    default:
      return cased ? (a, b) => a === b : (a, b) => a.length === b.length && norm(a) === norm(b);
  }
}

function anyOf(field: FieldAccessor, tests: LeafPredicate[], all: boolean): EventPredicate {
  if (tests.length === 1) {
    const t = tests[0];
    return (e) => field.some(e, t);
  }
  if (all) {
    return (e) => {
      for (let k = 0; k < tests.length; k++) if (!field.some(e, tests[k])) return false;
      return true;
    };
  }
  const combined: LeafPredicate = (v) => {
    for (let k = 0; k < tests.length; k++) if (tests[k](v)) return true;
    return false;
  };
  return (e) => field.some(e, combined);
}

/**
 * The usual item, text tests of which one must match: reads the field once and tests a string value
 * directly; booleans (derived facts) compare as their text, decided at compile time; other values
 * and arrays take the general walk.
 */
function anyText(field: FieldAccessor, tests: StringTest[]): EventPredicate {
  const test: StringTest =
    tests.length === 1
      ? tests[0]
      : (s) => {
          for (let k = 0; k < tests.length; k++) if (tests[k](s)) return true;
          return false;
        };
  const ifTrue = test("true");
  const ifFalse = test("false");
  const leafTest = stringLeafTest(test);
  return (e) => {
    const v = field.value(e);
    if (typeof v === "string") return test(v);
    if (typeof v === "boolean") return v ? ifTrue : ifFalse;
    if (v === undefined) return false;
    return v === SEVERAL ? field.several(e, leafTest) : leafTest(v);
  };
}

const notNull: LeafPredicate = (v) => v !== null;

/** Compiles `key: value` from a selection map (key = field name with its modifiers). */
export function compileFieldItem(key: string, value: unknown, ctx: CompileContext): CompiledFieldItem {
  const [name, ...mods] = key.split("|");
  if (name === "") throw unsupported("keyword modifiers", `"${key}" has no field name`);
  const m = parseModifiers(mods);
  const field = compileField(name);
  const where = key;

  if (m.exists) {
    if (typeof value !== "boolean") throw new RuleCompileError(`${where}: exists takes true or false`);
    const want = value;
    return { field: name, match: (e) => field.some(e, notNull) === want };
  }

  let scalars = toScalars(value, where);
  const hasNull = scalars.includes(null);
  if (hasNull && (m.all || mods.length > 0)) {
    throw new RuleCompileError(`${where}: null cannot be used with modifiers`);
  }
  scalars = scalars.filter((v) => v !== null);

  if (m.expand) {
    scalars = scalars.flatMap((v): Scalar[] =>
      typeof v === "string" ? expandPlaceholders(v, ctx, where) : [v],
    );
  }

  if (m.fieldref) {
    const refs = scalars.map((v) => {
      if (typeof v !== "string") throw new RuleCompileError(`${where}: fieldref takes field names`);
      return compileField(v);
    });
    const cmp = fieldrefCompare(m.position, m.cased);
    const one = (ref: FieldAccessor): EventPredicate => {
      return (e) => {
        const other = valueText(ref.first(e));
        if (other === undefined) return false;
        return field.some(e, (v) => {
          const s = valueText(v);
          return s !== undefined && cmp(s, other);
        });
      };
    };
    const preds = refs.map(one);
    return {
      field: name,
      match: m.all ? (e) => preds.every((p) => p(e)) : (e) => preds.some((p) => p(e)),
    };
  }

  for (const v of scalars) {
    if (typeof v === "string" && LOOKS_LIKE_FIELD.test(v)) {
      ctx.warnings?.push(
        `${where}: value "${v}" is compared as text; to compare with that field use |fieldref`,
      );
    }
  }

  let tests: LeafPredicate[];
  /** The text tests behind `tests`, when they are plain text tests. */
  let textTests: StringTest[] | undefined;
  let equalsAnyOf: string[] | undefined;
  if (m.compare) {
    const op = m.compare;
    tests = scalars.map((v) => {
      const n = typeof v === "number" ? v : typeof v === "string" ? Number(v) : Number.NaN;
      if (Number.isNaN(n)) throw new RuleCompileError(`${where}: ${op} takes a number`);
      return compareTest(op, n);
    });
  } else if (m.cidr) {
    tests = scalars.map((v) => {
      if (typeof v !== "string") throw new RuleCompileError(`${where}: cidr takes network strings`);
      const test = compileCidr(v);
      return (leaf) => typeof leaf === "string" && test(leaf);
    });
  } else if (m.re) {
    textTests = scalars.map((v) => {
      if (typeof v !== "string") throw new RuleCompileError(`${where}: re takes a pattern string`);
      const test = compileRegex(v, m.reFlags, where);
      if (NESTED_QUANTIFIER.test(v)) {
        ctx.warnings?.push(
          `${where}: nested quantifier in re can backtrack for a long time on crafted values`,
        );
      }
      return test;
    });
    tests = textTests.map(stringLeafTest);
  } else {
    const patterns: PatternPart[][] = [];
    for (const v of scalars) {
      const text = typeof v === "string" ? v : String(v);
      const bodies = m.base64
        ? m.base64 === "base64"
          ? [literalParts(Buffer.from(text, "utf8").toString("base64"))]
          : base64Offsets(text).map(literalParts)
        : [typeof v === "string" ? parseWildcards(text) : literalParts(text)];
      for (const body of bodies) {
        if (m.position === "contains") patterns.push([STAR, ...body, STAR]);
        else if (m.position === "startswith") patterns.push([...body, STAR]);
        else if (m.position === "endswith") patterns.push([STAR, ...body]);
        else patterns.push(body);
      }
    }
    textTests = patterns.map((p) => compilePattern(p, m.cased));
    tests = textTests.map(stringLeafTest);
    const plain = patterns.every((p) => p.length <= 1 && p.every((x) => typeof x === "string"));
    if (plain && !m.all && !hasNull && patterns.length > 0) {
      equalsAnyOf = patterns.map((p) => ((p[0] as string | undefined) ?? "").toLowerCase());
    }
    if (m.base64 === "base64offset" && m.all) {
      // each original value must match in one of its three encodings
      const perValue = scalars.map((_, k) => tests.slice(k * 3, k * 3 + 3));
      const matchers = perValue.map((ts) => anyOf(field, ts, false));
      return { field: name, match: (e) => matchers.every((p) => p(e)) };
    }
  }

  if (tests.length === 0) {
    // only null was given
    return { field: name, match: (e) => !field.some(e, notNull) };
  }
  const positive =
    textTests && (!m.all || textTests.length === 1) ? anyText(field, textTests) : anyOf(field, tests, m.all);
  if (hasNull) return { field: name, match: (e) => !field.some(e, notNull) || positive(e) };
  return { field: name, match: positive, equalsAnyOf };
}

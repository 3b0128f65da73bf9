/**
 * Sigma field resolution, as agreed between the engine and the rule pack:
 *   actor.kind | actor.via | actor.confidence | actor.session → event.actor
 *   actor.principal → event.principal.arn ?? event.principal.display
 *   a key of event.facts (derived facts from enrich.ts) → that value (never looked up for names that start
 *     with one of CloudTrail's own top-level fields: facts are named so as not to collide with them)
 *   otherwise a dotted path into the raw record; a path through an array matches if any element matches.
 * Paths are split once at compile time; resolution walks the record without allocating.
 */
import type { FactName } from "../enrich.ts";
import type { AuditEvent } from "../event.ts";

/** Called with each value a field resolves to (array elements one by one); true stops the walk. */
export type LeafPredicate = (value: unknown) => boolean;

/** What FieldAccessor.value gives when the path meets an array: there are several values, walk them with some(). */
export const SEVERAL: unique symbol = Symbol("several values");

export interface FieldAccessor {
  readonly name: string;
  /**
   * The one value the field resolves to (undefined when missing), or SEVERAL when an array lies on the
   * path or at its end: one read for the usual scalar field, where some() would call a predicate.
   */
  value(event: AuditEvent): unknown;
  /** True when some resolved value satisfies `pred`; missing fields call nothing. */
  some(event: AuditEvent, pred: LeafPredicate): boolean;
  /**
   * some(), for an event whose value() was SEVERAL: walks the values without reading the field again
   * (a caller that read value() first would otherwise walk an array path three times).
   */
  several(event: AuditEvent, pred: LeafPredicate): boolean;
  /** The first resolved value (first array element), or undefined. */
  first(event: AuditEvent): unknown;
}

/**
 * How deep arrays may nest inside arrays, and objects inside objects for the text forms, before the
 * walk stops: records are attacker-shaped, and recursion must not overflow the stack.
 */
export const MAX_NESTING = 32;

/** How a path step reads a key of an object. */
type KeyRead = (obj: Record<string, unknown>, key: string) => unknown;

const anyKey: KeyRead = (obj, key) => obj[key];
/**
 * For paths with a name every object answers to through Object.prototype (`constructor`,
 * `toString`, `__proto__`…): only the record's own keys, so such a field is missing unless the
 * record has it.
 */
const ownKey: KeyRead = (obj, key) => (Object.hasOwn(obj, key) ? obj[key] : undefined);

function isInheritedName(part: string): boolean {
  return part in Object.prototype;
}

function someAt(
  start: unknown,
  parts: readonly string[],
  from: number,
  pred: LeafPredicate,
  read: KeyRead,
  depth = 0,
): boolean {
  let value = start;
  let i = from;
  for (;;) {
    if (Array.isArray(value)) {
      if (depth >= MAX_NESTING) return false;
      for (let k = 0; k < value.length; k++)
        if (someAt(value[k], parts, i, pred, read, depth + 1)) return true;
      return false;
    }
    if (i === parts.length) return value !== undefined && pred(value);
    if (value === null || typeof value !== "object") return false;
    value = read(value as Record<string, unknown>, parts[i++]);
  }
}

function firstAt(start: unknown, parts: readonly string[], from: number, read: KeyRead, depth = 0): unknown {
  let value = start;
  let i = from;
  for (;;) {
    if (Array.isArray(value)) {
      if (depth >= MAX_NESTING) return undefined;
      for (let k = 0; k < value.length; k++) {
        const v = firstAt(value[k], parts, i, read, depth + 1);
        if (v !== undefined) return v;
      }
      return undefined;
    }
    if (i === parts.length) return value;
    if (value === null || typeof value !== "object") return undefined;
    value = read(value as Record<string, unknown>, parts[i++]);
  }
}

const NO_PARTS: readonly string[] = [];

/** CloudTrail's own top-level record fields (aws-formats.md §1). */
const RECORD_FIELDS = new Set([
  "eventVersion",
  "userIdentity",
  "eventTime",
  "eventSource",
  "eventName",
  "awsRegion",
  "sourceIPAddress",
  "userAgent",
  "errorCode",
  "errorMessage",
  "requestParameters",
  "responseElements",
  "additionalEventData",
  "requestID",
  "eventID",
  "readOnly",
  "resources",
  "eventType",
  "apiVersion",
  "managementEvent",
  "recipientAccountId",
  "sharedEventID",
  "annotation",
  "vpcEndpointId",
  "vpcEndpointAccountId",
  "serviceEventDetails",
  "eventCategory",
  "addendum",
  "sessionCredentialFromConsole",
  "edgeDeviceDetails",
  "tlsDetails",
  "insightDetails",
]);

/** Calls `pred` on a resolved value (element by element for arrays); undefined calls nothing. */
function leaf(v: unknown, pred: LeafPredicate): boolean {
  if (v === undefined) return false;
  if (Array.isArray(v)) return someAt(v, NO_PARTS, 0, pred, anyKey);
  return pred(v);
}

function leafFirst(v: unknown): unknown {
  return Array.isArray(v) ? firstAt(v, NO_PARTS, 0, anyKey) : v;
}

function leafValue(v: unknown): unknown {
  return Array.isArray(v) ? SEVERAL : v;
}

type Read = (e: AuditEvent) => unknown;
type Some = (e: AuditEvent, pred: LeafPredicate) => boolean;
type First = (e: AuditEvent) => unknown;

interface Access {
  value: Read;
  some: Some;
  several: Some;
  first: First;
}

/** An object or an array: something a path can go into (json-values isObject excludes arrays). */
const isContainer = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object";

/** Raw-record path reading, unrolled for the usual one to three segments (the hot path of every rule). */
function rawValue(parts: readonly string[], read: KeyRead): Read {
  const [p0, p1, p2] = parts;
  // The unrolled readers read any key; a path with an inherited name takes the loop (own keys).
  const unrolled = read === anyKey ? parts.length : 0;
  switch (unrolled) {
    case 1:
      return (e) => leafValue(e.raw[p0]);
    case 2:
      return (e) => {
        const a = e.raw[p0];
        if (!isContainer(a)) return undefined;
        return Array.isArray(a) ? SEVERAL : leafValue(a[p1]);
      };
    case 3:
      return (e) => {
        const a = e.raw[p0];
        if (!isContainer(a)) return undefined;
        if (Array.isArray(a)) return SEVERAL;
        const b = a[p1];
        if (!isContainer(b)) return undefined;
        return Array.isArray(b) ? SEVERAL : leafValue(b[p2]);
      };
    default:
      return (e) => {
        let v: unknown = e.raw;
        for (let i = 0; i < parts.length; i++) {
          if (!isContainer(v)) return undefined;
          if (Array.isArray(v)) return SEVERAL;
          v = read(v, parts[i]);
        }
        return leafValue(v);
      };
  }
}

/** A raw-record path: read directly, walked from the record only where an array makes several values. */
function rawAccess(parts: readonly string[]): Access {
  const read = parts.some(isInheritedName) ? ownKey : anyKey;
  const value = rawValue(parts, read);
  return {
    value,
    some(e, pred) {
      const v = value(e);
      if (v === SEVERAL) return someAt(e.raw, parts, 0, pred, read);
      return v !== undefined && pred(v);
    },
    several: (e, pred) => someAt(e.raw, parts, 0, pred, read),
    first(e) {
      const v = value(e);
      return v === SEVERAL ? firstAt(e.raw, parts, 0, read) : v;
    },
  };
}

function fromValue(name: string, get: (e: AuditEvent) => unknown): FieldAccessor {
  return {
    name,
    value: (e) => leafValue(get(e)),
    some: (e, pred) => leaf(get(e), pred),
    several: (e, pred) => leaf(get(e), pred),
    first: (e) => leafFirst(get(e)),
  };
}

/**
 * Derived facts' readers: facts are getters on a prototype, and `facts[name]` with a name that varies
 * is a slow keyed lookup where a literal name is a fast one. One reader per name of FACT_NAMES:
 * `satisfies` makes the compiler ask for a new fact's reader.
 */
const FACT_READERS = {
  "time.offHours": (e) => e.facts?.["time.offHours"],
  "time.localHour": (e) => e.facts?.["time.localHour"],
  "time.weekday": (e) => e.facts?.["time.weekday"],
  "time.localDate": (e) => e.facts?.["time.localDate"],
  "action.destructive": (e) => e.facts?.["action.destructive"],
  "action.destructiveKind": (e) => e.facts?.["action.destructiveKind"],
  "action.target": (e) => e.facts?.["action.target"],
  "iam.selfModification": (e) => e.facts?.["iam.selfModification"],
  "iam.target": (e) => e.facts?.["iam.target"],
  "logging.reduced": (e) => e.facts?.["logging.reduced"],
  "security.serviceDisabled": (e) => e.facts?.["security.serviceDisabled"],
  "security.service": (e) => e.facts?.["security.service"],
  "error.accessDenied": (e) => e.facts?.["error.accessDenied"],
} satisfies Record<FactName, Read>;

/**
 * A derived fact's reader. A name that is not a fact is read only as an own key of the facts (events
 * built with plain fact objects): enrich's facts are getters on a class, whose prototype also answers
 * to `constructor`, `toJSON`, `toString`…, which must read the record, not the class.
 */
function factReader(name: string): Read {
  if (Object.hasOwn(FACT_READERS, name)) return FACT_READERS[name as FactName];
  return (e) => {
    const facts = e.facts;
    return facts && Object.hasOwn(facts, name) ? facts[name] : undefined;
  };
}

export function compileField(name: string): FieldAccessor {
  switch (name) {
    case "actor.kind":
      return fromValue(name, (e) => e.actor?.kind);
    case "actor.via":
      return fromValue(name, (e) => e.actor?.via);
    case "actor.confidence":
      return fromValue(name, (e) => e.actor?.confidence);
    case "actor.session":
      return fromValue(name, (e) => e.actor?.session);
    case "actor.principal":
      return fromValue(name, (e) => e.principal?.arn ?? e.principal?.display);
  }
  const parts = name.split(".");
  const raw = rawAccess(parts);
  if (RECORD_FIELDS.has(parts[0])) {
    // derived facts live under names CloudTrail never uses (DESIGN.md "Rules"): skip the facts lookup
    return { name, ...raw };
  }
  const fact = factReader(name);
  return {
    name,
    value(e) {
      const v = fact(e);
      return v !== undefined ? leafValue(v) : raw.value(e);
    },
    some(e, pred) {
      const v = fact(e);
      return v !== undefined ? leaf(v, pred) : raw.some(e, pred);
    },
    several(e, pred) {
      const v = fact(e);
      return v !== undefined ? leaf(v, pred) : raw.several(e, pred);
    },
    first(e) {
      const v = fact(e);
      return v !== undefined ? leafFirst(v) : raw.first(e);
    },
  };
}

const flatTextCache = new WeakMap<object, string>();

function writeFlat(v: unknown, out: string[], depth = 0): void {
  if (depth > MAX_NESTING) out.push("…");
  else if (v === null || v === undefined) out.push("null");
  else if (typeof v === "string") out.push('"', v, '"');
  else if (Array.isArray(v)) {
    out.push("[");
    for (let k = 0; k < v.length; k++) {
      if (k) out.push(",");
      writeFlat(v[k], out, depth + 1);
    }
    out.push("]");
  } else if (typeof v === "object") {
    out.push("{");
    let sep = false;
    for (const [key, val] of Object.entries(v as Record<string, unknown>)) {
      if (sep) out.push(",");
      sep = true;
      out.push('"', key, '":');
      writeFlat(val, out, depth + 1);
    }
    out.push("}");
  } else out.push(String(v));
}

/**
 * The text a string modifier sees when a field holds an object (`requestParameters|contains: Suspended`):
 * JSON-like, but strings are written unescaped so that quoted fragments inside embedded JSON documents
 * (IAM policy documents are strings in CloudTrail) match as SigmaHQ writes them (`'"s3:GetObject"'`).
 */
export function flatText(obj: object): string {
  let text = flatTextCache.get(obj);
  if (text === undefined) {
    const out: string[] = [];
    writeFlat(obj, out);
    text = out.join("");
    flatTextCache.set(obj, text);
  }
  return text;
}

/** A resolved value as the text string matchers compare against (undefined for null/missing). */
export function valueText(v: unknown): string | undefined {
  if (typeof v === "string") return v;
  if (v === null || v === undefined) return undefined;
  if (typeof v === "object") return flatText(v);
  return String(v);
}

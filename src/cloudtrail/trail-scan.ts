/**
 * A CloudTrail trail file (`{"Records":[…]}`) read into a compact form on the replay's worker
 * thread, so that the main thread builds the records without parsing the file's text.
 *
 * Why: a trail file's bytes are mostly repetition — the same userIdentity, user agent, TLS details
 * and service names in record after record. Here every record's top-level values are kept once:
 * strings once per file, objects and arrays as their JSON text — once per run for values that
 * repeat (`shared`), per record for those that do not (`nested`: request parameters). The main
 * thread parses only those texts and shares each object between the records that had the same text
 * (records are read-only past decoding).
 *
 * The scan itself (trail-scanner.mjs, plain JavaScript for the worker) checks the JSON it reads and
 * only delimits objects and arrays; their texts are checked here, by the parse that reads them. A
 * file the scan does not take on, or whose texts do not parse, is decoded the usual way (decode.ts).
 */
import { LITERALS, SLOT, WHOLE } from "./trail-scanner.mjs";

/** One file's records in compact form (structured-cloneable; `slots` is transferable). */
export interface ScannedTrail {
  /** Distinct string values of the file's records. */
  strings: string[];
  /** Distinct JSON texts of values that do not repeat across records (request parameters, …). */
  nested: string[];
  /**
   * JSON texts of values that repeat (userIdentity, TLS details), shared across the files of a run
   * (ScanDictionary): those first seen in this file, after the ones before (from none if `reset`).
   */
  shared: { reset: boolean; added: string[] };
  /** Distinct key lists of records, in record order. */
  shapes: string[][];
  /**
   * Per record: its shape's index, then one slot per key (see SLOT); or WHOLE and one slot, a
   * record kept as one nested text (an element that is not an object, or one with a key `__proto__`).
   */
  slots: Int32Array<ArrayBuffer>;
  records: number;
}

/** A shared text that is not JSON: a file whose slots name it is not taken on (NotJsonError). */
const NOT_JSON = Symbol("not JSON");

/** A scanned file whose objects or arrays are not valid JSON: decode it the usual way instead. */
export class NotJsonError extends Error {}

/**
 * The shared values of a run's scans on the main thread: each scan's new texts parsed once, in the
 * order the scans were made (ReadAheadWorker takes them as they arrive).
 */
export class SharedValues {
  private values: unknown[] = [];

  /** The values a scan's slots can name, once its new texts are in (call in scan order). */
  take(scan: ScannedTrail): readonly unknown[] {
    // A new list on reset: files taken earlier and not yet decoded keep the one they were given.
    if (scan.shared.reset) this.values = [];
    for (const v of parseTexts(scan.shared.added)) this.values.push(v);
    return this.values;
  }
}

/**
 * The records of a scanned file, as `JSON.parse(text).Records` would give them. `shared`: from
 * SharedValues.take, when the scan was one of a run's; without it the scan must stand alone.
 * Throws NotJsonError when an object or array of the file is not JSON.
 */
export function recordsOfScan(
  scan: ScannedTrail,
  shared: readonly unknown[] = new SharedValues().take(scan),
): unknown[] {
  const { strings, shapes, slots } = scan;
  const nested = parseTexts(scan.nested);
  const value = (slot: number): unknown => {
    const tag = slot & 3;
    if (tag === SLOT.string) return strings[slot >> 2];
    if (tag === SLOT.literal) return LITERALS[slot >> 2];
    const v = tag === SLOT.nested ? nested[slot >> 2] : shared[slot >> 2];
    if (v === NOT_JSON) throw new NotJsonError("an object or array of the file is not JSON");
    return v;
  };
  const records = new Array<unknown>(scan.records);
  const compiles = { left: MAX_COMPILES_PER_FILE };
  const builders = shapes.map((keys) => recordBuilder(keys, compiles));
  let at = 0;
  for (let i = 0; i < scan.records; i++) {
    const shape = slots[at++];
    if (shape === WHOLE) {
      records[i] = value(slots[at++]);
      continue;
    }
    records[i] = builders[shape](value, slots, at);
    at += shapes[shape].length;
  }
  return records;
}

/** Builds one record of a shape from its slots (its keys in order, one slot each). */
type RecordBuilder = (value: (slot: number) => unknown, slots: Int32Array, at: number) => unknown;

/**
 * A shape's record builder. Records are built as object literals of their shape's keys: V8 makes
 * every record of a shape from one template with all its fields in the object, where assigning key
 * after key to an empty object moved most of them out to a separate store, grown as it went: the
 * records were slower to build, and every later stage slower to read.
 * The literal's keys are JSON string literals, which JavaScript reads back as the same strings
 * whatever a record holds. No shape holds `__proto__`: as a literal key, as an assigned one, it would
 * set the prototype, so the scan keeps such a record WHOLE. Shapes of many keys (no CloudTrail record
 * has them; a function per odd shape would cost more than it saves) and every shape where code
 * cannot be made from strings (node --disallow-code-generation-from-strings) are built key by key.
 * So are a file's shapes past the first MAX_COMPILES_PER_FILE new ones (`compiles`): a file of
 * records that nearly all differ would compile a function per record, slower than building them key
 * by key, and push the run's real shapes out of the cache. Compiled builders are kept by key list,
 * a bounded number.
 */
function recordBuilder(keys: readonly string[], compiles: { left: number }): RecordBuilder {
  const id = JSON.stringify(keys);
  const known = recordBuilders.get(id);
  if (known) return known;
  const compiled = keys.length <= MAX_LITERAL_KEYS && compiles.left > 0 ? literalBuilder(keys) : undefined;
  if (!compiled) return keyByKeyBuilder(keys);
  compiles.left--;
  if (recordBuilders.size >= MAX_RECORD_BUILDERS) recordBuilders.clear();
  recordBuilders.set(id, compiled);
  return compiled;
}

function keyByKeyBuilder(keys: readonly string[]): RecordBuilder {
  return (value, slots, at) => {
    const record: Record<string, unknown> = {};
    for (let k = 0; k < keys.length; k++) record[keys[k]] = value(slots[at + k]);
    return record;
  };
}

function literalBuilder(keys: readonly string[]): RecordBuilder | undefined {
  if (!codeFromStrings) return undefined;
  const fields = keys.map((key, k) => `${JSON.stringify(key)}: value(slots[at + ${k}])`);
  try {
    return new Function("value", "slots", "at", `return {${fields.join(", ")}};`) as RecordBuilder;
  } catch (err) {
    // Code generation disallowed (EvalError). Anything else is a fault of the code made here.
    if (!(err instanceof EvalError)) throw err;
    codeFromStrings = false;
    return undefined;
  }
}

/**
 * Whether code can be made from strings: false once the runtime refused (the process's setting), so
 * that no later shape tries again (a refused compile counts against no MAX_COMPILES_PER_FILE).
 */
let codeFromStrings = true;

const MAX_LITERAL_KEYS = 64;
/** New builders compiled per file: a real trail file has a handful of shapes (invictus: about 5). */
const MAX_COMPILES_PER_FILE = 16;
const MAX_RECORD_BUILDERS = 512;
const recordBuilders = new Map<string, RecordBuilder>();

/**
 * The values of JSON texts, in one parse. The scan only delimits objects and arrays: when some text
 * is not JSON, each is parsed alone and a broken one is kept as NOT_JSON, so that indexes stay in
 * step and only the files that name it are decoded the usual way.
 */
function parseTexts(texts: readonly string[]): unknown[] {
  if (texts.length === 0) return [];
  try {
    return JSON.parse(`[${texts.join(",")}]`) as unknown[];
  } catch {
    return texts.map((text) => {
      try {
        return JSON.parse(text) as unknown;
      } catch {
        return NOT_JSON;
      }
    });
  }
}

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
 * The scan itself (trail-scanner.mjs, plain JavaScript for the worker) validates the JSON as it
 * goes, and leaves anything it does not take on to the usual decoding (decode.ts).
 */
import { LITERALS, SLOT, WHOLE } from "./trail-scanner.mjs";

/** One file's records in compact form (structured-cloneable; `slots` is transferable). */
export interface ScannedTrail {
  /** Distinct string values and keys' shapes of the file. */
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
    if (scan.shared.added.length) {
      // One parse for every new text; the scan has validated each one.
      const parsed = JSON.parse(`[${scan.shared.added.join(",")}]`) as unknown[];
      for (const v of parsed) this.values.push(v);
    }
    return this.values;
  }
}

/**
 * The records of a scanned file, as `JSON.parse(text).Records` would give them. `shared`: from
 * SharedValues.take, when the scan was one of a run's; without it the scan must stand alone.
 */
export function recordsOfScan(
  scan: ScannedTrail,
  shared: readonly unknown[] = new SharedValues().take(scan),
): unknown[] {
  const { strings, shapes, slots } = scan;
  // One parse for every distinct nested text of the file; the scan has validated each one.
  const nested = scan.nested.length ? (JSON.parse(`[${scan.nested.join(",")}]`) as unknown[]) : [];
  const value = (slot: number): unknown => {
    const tag = slot & 3;
    if (tag === SLOT.string) return strings[slot >> 2];
    if (tag === SLOT.nested) return nested[slot >> 2];
    if (tag === SLOT.shared) return shared[slot >> 2];
    return LITERALS[slot >> 2];
  };
  const records = new Array<unknown>(scan.records);
  let at = 0;
  for (let i = 0; i < scan.records; i++) {
    const shape = slots[at++];
    if (shape === WHOLE) {
      records[i] = value(slots[at++]);
      continue;
    }
    const keys = shapes[shape];
    const record: Record<string, unknown> = {};
    for (let k = 0; k < keys.length; k++) record[keys[k]] = value(slots[at++]);
    records[i] = record;
  }
  return records;
}

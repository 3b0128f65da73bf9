/**
 * A CloudTrail trail file (`{"Records":[…]}`) read into a compact form on the replay's worker
 * thread, so that the main thread builds the records without parsing the file's text.
 *
 * Why: a trail file's bytes are mostly repetition — the same userIdentity, user agent, TLS details
 * and service names in record after record. Here every record's top-level values are kept once
 * per file: strings in `strings`, objects and arrays as their JSON text in `nested` (each distinct
 * text once). The main thread parses only the distinct nested texts and shares the objects between
 * the records that had the same text (records are read-only past decoding).
 *
 * The scan itself (trail-scanner.mjs, plain JavaScript for the worker) validates the JSON as it
 * goes, and leaves anything it does not take on to the usual decoding (decode.ts).
 */
import { LITERALS, SLOT, WHOLE } from "./trail-scanner.mjs";

/** One file's records in compact form (structured-cloneable; `slots` is transferable). */
export interface ScannedTrail {
  /** Distinct string values and keys' shapes of the file. */
  strings: string[];
  /** Distinct JSON texts of the objects, arrays and numbers that are record values. */
  nested: string[];
  /** Distinct key lists of records, in record order. */
  shapes: string[][];
  /**
   * Per record: its shape's index, then one slot per key (see SLOT); or WHOLE and one slot, a
   * record kept as one nested text (an element that is not an object, or one with a key `__proto__`).
   */
  slots: Int32Array<ArrayBuffer>;
  records: number;
}

/** The records of a scanned file, as `JSON.parse(text).Records` would give them. */
export function recordsOfScan(scan: ScannedTrail): unknown[] {
  const { strings, shapes, slots } = scan;
  // One parse for every distinct nested text of the file; the scan has validated each one.
  const nested = scan.nested.length ? (JSON.parse(`[${scan.nested.join(",")}]`) as unknown[]) : [];
  const value = (slot: number): unknown => {
    const tag = slot & 3;
    if (tag === SLOT.string) return strings[slot >> 2];
    if (tag === SLOT.nested) return nested[slot >> 2];
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

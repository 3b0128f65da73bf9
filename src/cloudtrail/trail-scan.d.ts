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
 * The scan validates the JSON as it goes. Anything it does not take on — not valid JSON, a document
 * that is not exactly `{"Records":[…]}`, a key `__proto__` — is left to the usual decoding
 * (decode.ts), so the records and every error message are the same either way.
 */
/** One file's records in compact form (structured-cloneable; `slots` is transferable). */
export interface ScannedTrail {
  /** Distinct string values and keys' shapes of the file. */
  strings: string[];
  /** Distinct JSON texts of the objects, arrays and numbers that are record values. */
  nested: string[];
  /** Distinct key lists of records, in record order. */
  shapes: string[][];
  /**
   * Per record: its shape's index, then one slot per key (see `SLOT`); or WHOLE and one slot, a
   * record kept as one nested text (an element that is not an object, or one with a key `__proto__`).
   */
  slots: Int32Array<ArrayBuffer>;
  records: number;
}
/** The records of a scanned file, as `JSON.parse(text).Records` would give them. */
export declare function recordsOfScan(scan: ScannedTrail): unknown[];
/**
 * The records of a decompressed trail file in compact form, or undefined when the file is anything
 * but valid JSON of the shape `{"Records":[…]}` (decode.ts reads those, and reports what is wrong).
 */
export declare function scanTrailFile(bytes: Uint8Array): ScannedTrail | undefined;

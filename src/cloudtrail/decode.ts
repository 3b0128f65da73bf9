/**
 * Bytes of one input file → the records in it. Accepts what CloudTrail and its neighbours write:
 * trail files `{"Records":[…]}`, JSON Lines of records, a single record, EventBridge envelopes
 * (`detail` is the record) alone, as an array or as lines; each gzipped or not (by magic bytes).
 * A file that is not JSON (or claims .gz and is not gzip) throws FileError; one bad line of a JSON
 * Lines file is kept as an UnparseableRecord so it is counted as malformed, not lost, and a digest
 * line as a SkippedRecord, counted as skipped.
 */
import { gunzipSync } from "node:zlib";
import { isObject } from "../json-values.ts";

export class FileError extends Error {
  constructor(
    readonly source: string,
    reason: string,
  ) {
    super(`${source}: ${reason}`);
    this.name = "FileError";
  }
}

/** A line of a JSON Lines file that did not parse; normalise reports it as malformed. */
export class UnparseableRecord {
  constructor(readonly reason: string) {}
}

/** A line of a JSON Lines file that holds no API records on purpose (a digest): counted as skipped. */
export class SkippedRecord {
  constructor(readonly reason: string) {}
}

/** A file that holds no API records on purpose (digest files): skipped, not malformed. */
export interface DecodedFile {
  records: unknown[];
  skippedReason?: string;
}

/** The reason a file or S3 object named .gz without a gzip header is refused (decodeFile, s3.ts). */
export const NAMED_GZ_NOT_GZIP = "not gzip: named .gz but has no gzip header";

export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

function gunzipFile(bytes: Uint8Array, source: string): Buffer {
  try {
    return gunzipSync(bytes);
  } catch (err) {
    throw notReadableGzip(source, err);
  }
}

/** A file whose gzip stream is broken, named by the file, with zlib's message (here or on the read-ahead thread). */
export function notReadableGzip(source: string, err: unknown): FileError {
  return new FileError(source, `not readable gzip: ${err instanceof Error ? err.message : String(err)}`);
}

export function decodeFile(
  bytes: Uint8Array,
  source: string,
  options: { decompressed?: boolean } = {},
): DecodedFile {
  const data = isGzip(bytes) ? gunzipFile(bytes, source) : uncompressed(bytes, source, options);
  return decodeUncompressed(data, source);
}

/** The records of a file's decompressed bytes (UTF-8). */
export function decodeUncompressed(data: Uint8Array, source: string): DecodedFile {
  return decodeText(utf8(data), source);
}

/** Bytes that are not gzip, refused when the name says they should be (see decodeFile). */
export function uncompressed(
  bytes: Uint8Array,
  source: string,
  options: { decompressed?: boolean },
): Uint8Array {
  if (!options.decompressed && /\.gz$/i.test(source)) {
    throw new FileError(source, NAMED_GZ_NOT_GZIP);
  }
  return bytes;
}

function utf8(data: Uint8Array): string {
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString("utf8");
}

function decodeText(text: string, source: string): DecodedFile {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const trimmed = body.trim();
  if (trimmed === "") return { records: [] };
  let whole: unknown;
  let wholeError: Error | undefined;
  try {
    whole = JSON.parse(trimmed);
  } catch (err) {
    wholeError = err as Error;
  }
  if (wholeError === undefined) return fromDocument(whole, source);
  // Not one JSON document: JSON Lines, if there are two lines or more and at least one parses as JSON
  // (of any kind: a scalar line is kept as a record normalise refuses; see below).
  const lines = trimmed.split(/\r?\n/);
  if (lines.length < 2) throw new FileError(source, `not JSON: ${wholeError.message}`);
  const records: unknown[] = [];
  let parsed = 0;
  for (const [i, line] of lines.entries()) {
    if (line.trim() === "") continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (err) {
      records.push(new UnparseableRecord(`line ${i + 1}: not JSON: ${(err as Error).message}`));
      continue;
    }
    parsed++;
    // A line that is JSON but neither object nor array is a record normalise refuses, as an array's
    // element would be (fromDocument would throw for the whole file).
    if (value === null || typeof value !== "object") records.push(value);
    else {
      const doc = fromDocument(value, source);
      if (doc.skippedReason) records.push(new SkippedRecord(`line ${i + 1}: ${doc.skippedReason}`));
      // One by one: a line can hold a whole trail file's records, more than a call's arguments.
      for (const record of doc.records) records.push(record);
    }
  }
  if (parsed === 0) throw new FileError(source, `not JSON: ${wholeError.message}`);
  return { records };
}

function fromDocument(doc: unknown, source: string): DecodedFile {
  if (Array.isArray(doc)) return { records: doc.map(unwrapEnvelope) };
  if (doc !== null && typeof doc === "object") {
    const obj = doc as Record<string, unknown>;
    if (Array.isArray(obj.Records)) return { records: obj.Records };
    if ("digestStartTime" in obj && "logFiles" in obj) {
      return { records: [], skippedReason: "CloudTrail digest file" };
    }
    return { records: [unwrapEnvelope(obj)] };
  }
  throw new FileError(source, "not a CloudTrail file: JSON is neither an object nor an array");
}

/**
 * EventBridge `AWS … via CloudTrail` envelope → its `detail`, the CloudTrail record. A `detail` that
 * is not an object stays wrapped and is reported as malformed (the Lambda's trigger refuses it too).
 */
function unwrapEnvelope(value: unknown): unknown {
  if (isObject(value) && typeof value["detail-type"] === "string" && isObject(value.detail))
    return value.detail;
  return value;
}

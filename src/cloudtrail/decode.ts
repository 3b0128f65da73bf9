/**
 * Bytes of one input file → the records in it. Accepts what CloudTrail and its neighbours write:
 * trail files `{"Records":[…]}`, JSON Lines of records, a single record, EventBridge envelopes
 * (`detail` is the record) alone, as an array or as lines; each gzipped or not (by magic bytes).
 * A file that is not JSON (or claims .gz and is not gzip) throws FileError; one bad line of a JSON
 * Lines file is kept as an UnparseableRecord so it is counted as malformed, not lost.
 */
import { promisify } from "node:util";
import { gunzip, gunzipSync } from "node:zlib";

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

/** A file that holds no API records on purpose (digest files): skipped, not malformed. */
export interface DecodedFile {
  records: unknown[];
  skippedReason?: string;
}

export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

export function gunzipFile(bytes: Uint8Array, source: string): Buffer {
  try {
    return gunzipSync(bytes);
  } catch (err) {
    throw new FileError(source, `not readable gzip: ${(err as Error).message}`);
  }
}

export function decodeFile(
  bytes: Uint8Array,
  source: string,
  options: { decompressed?: boolean } = {},
): DecodedFile {
  const data = isGzip(bytes) ? gunzipFile(bytes, source) : uncompressed(bytes, source, options);
  return decodeText(utf8(data), source);
}

/**
 * Gunzip on libuv's thread pool. Node's async gunzip returns to the main thread after each output
 * chunk: with the default 16 KiB, a file would progress only between batches. One chunk the size the
 * gzip trailer states (ISIZE, the length mod 2³², capped) lets the pool do the whole file at once.
 */
export function gunzipAsync(gzip: Uint8Array): Promise<Uint8Array> {
  return gunzipWithOptions(gzip, { chunkSize: outputChunkSize(gzip) });
}

const gunzipWithOptions = promisify(gunzip);

function outputChunkSize(gzip: Uint8Array): number {
  const n = gzip.length;
  const stated =
    n >= 18 ? (gzip[n - 4] | (gzip[n - 3] << 8) | (gzip[n - 2] << 16) | (gzip[n - 1] << 24)) >>> 0 : 0;
  return Math.min(Math.max(stated + 1, 64 * 1024), 256 * 1024 * 1024);
}

/** A file's decompressed bytes, gunzipped off the main thread (by `gunzip`, else zlib's thread pool). */
export async function decompressFile(
  bytes: Uint8Array,
  source: string,
  options: { decompressed?: boolean; gunzip?: (gzip: Uint8Array) => Promise<Uint8Array> } = {},
): Promise<Uint8Array> {
  if (!isGzip(bytes)) return uncompressed(bytes, source, options);
  try {
    return await (options.gunzip ?? gunzipAsync)(bytes);
  } catch (err) {
    throw new FileError(source, `not readable gzip: ${(err as Error).message}`);
  }
}

/** Decompressed bytes (from decompressFile) → the records in them. */
export function decodeDecompressed(data: Uint8Array, source: string): DecodedFile {
  return decodeText(utf8(data), source);
}

function uncompressed(bytes: Uint8Array, source: string, options: { decompressed?: boolean }): Uint8Array {
  if (!options.decompressed && /\.gz$/i.test(source)) {
    throw new FileError(source, "not gzip (no gzip header) although named .gz");
  }
  return bytes;
}

function utf8(data: Uint8Array): string {
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString("utf8");
}

export function decodeText(text: string, source: string): DecodedFile {
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
  // Not one JSON document: JSON Lines, if at least one line is an object.
  const lines = trimmed.split(/\r?\n/);
  if (lines.length < 2) throw new FileError(source, `not JSON: ${wholeError.message}`);
  const records: unknown[] = [];
  let parsed = 0;
  for (const [i, line] of lines.entries()) {
    if (line.trim() === "") continue;
    try {
      const value = JSON.parse(line);
      parsed++;
      records.push(...fromDocument(value, source).records);
    } catch (err) {
      records.push(new UnparseableRecord(`line ${i + 1}: not JSON: ${(err as Error).message}`));
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

/** EventBridge `AWS … via CloudTrail` envelope → its `detail`, the CloudTrail record. */
export function unwrapEnvelope(value: unknown): unknown {
  if (value !== null && typeof value === "object") {
    const obj = value as Record<string, unknown>;
    if (typeof obj["detail-type"] === "string" && obj.detail !== null && typeof obj.detail === "object") {
      return obj.detail;
    }
  }
  return value;
}

/**
 * What `agenttrail replay` reads: files, directories (walked recursively, in name order), `-` for
 * standard input. Trail files are taken by name (.json, .jsonl, .ndjson, optionally .gz); Digest and
 * Insight files and other services' logs are skipped by path, never by suffix (all end in .json.gz),
 * as the Lambda and an S3 listing skip them (keys.ts isCloudTrailLogKey).
 */
import type { Stats } from "node:fs";
import { readdir, readFile, stat } from "node:fs/promises";
import { join, sep } from "node:path";
import { FileError } from "./decode.ts";
import { isCloudTrailLogKey } from "./keys.ts";

/** One input file: its name and how to read its bytes (lazily, one at a time). */
export interface InputFile {
  source: string;
  read(): Promise<Uint8Array>;
  /** read() returns bytes already gunzipped (S3 objects are decompressed while streaming). */
  decompressed?: boolean;
}

const TRAIL_FILE = /\.(json|jsonl|ndjson)(\.gz)?$|\.gz$/i;

/** Whether a file name is one replay takes from a directory (rule fixtures use the same). */
export function isTrailFileName(name: string): boolean {
  return TRAIL_FILE.test(name);
}

export interface LocalInputs {
  files: InputFile[];
  /** Paths passed over in directories (digest/insight files, other services' logs, non-trail files). */
  skipped: string[];
  /** Directories given that hold no trail file, with how many files in them were passed over. */
  empty: { dir: string; passedOver: number }[];
}

export async function localInputs(args: string[], stdin: () => Promise<Uint8Array>): Promise<LocalInputs> {
  const files: InputFile[] = [];
  const skipped: string[] = [];
  const empty: LocalInputs["empty"] = [];
  for (const arg of args) {
    if (arg === "-") {
      files.push({ source: "stdin", read: stdin });
      continue;
    }
    let info: Stats;
    try {
      info = await stat(arg);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new FileError(arg, code === "ENOENT" ? "no such file or directory" : (err as Error).message);
    }
    if (info.isDirectory()) {
      const found: string[] = [];
      const skippedBefore = skipped.length;
      for (const path of await walk(arg)) {
        if (!isCloudTrailLogKey(path) || !isTrailFileName(path)) skipped.push(path);
        else found.push(path);
      }
      if (found.length === 0) empty.push({ dir: arg, passedOver: skipped.length - skippedBefore });
      for (const path of inDeliveryOrder(found)) files.push(fileInput(path));
    } else {
      files.push(fileInput(arg));
    }
  }
  return { files, skipped, empty };
}

/** Why directories given hold nothing to replay, in one line (LocalInputs.empty). */
export function describeEmptyDirectories(empty: LocalInputs["empty"]): string {
  const dirs = empty.map(({ dir, passedOver }) =>
    passedOver
      ? `${dir} (${passedOver} file(s) passed over: digest, Insights, other services' logs or other names)`
      : dir,
  );
  return `no CloudTrail log files in ${dirs.join(", ")}; replay reads .json, .jsonl and .ndjson files, gzipped or not`;
}

/** `…_CloudTrail_us-east-1_20260508T0910Z_Hk3mZp8QwA1rT5Lb.json.gz` → `20260508T0910Z` (delivery time, UTC). */
const DELIVERY_TIME = /_CloudTrail_[^_/\\]+_(\d{8}T\d{4}Z)_[^/\\]*$/;

/**
 * Trail files of a directory in the order CloudTrail delivered them (the time in their names), as
 * the Lambda sees them; a path walk would give every account and region in turn, so the STS calls
 * (us-east-1) would come after the calls they made possible elsewhere. Files without a delivery
 * time keep their walk order, first. The sort is stable, so equal times keep path order.
 */
export function inDeliveryOrder(paths: readonly string[]): string[] {
  const keyed = paths.map((path, i) => ({ path, i, time: DELIVERY_TIME.exec(path)?.[1] ?? "" }));
  keyed.sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : a.i - b.i));
  return keyed.map((k) => k.path);
}

function fileInput(path: string): InputFile {
  return { source: path, read: () => readFile(path) };
}

/**
 * The files under `dir`, in name order, with `/` between names: added to `out` one by one, never
 * spread into a call (a copied bucket's folder holds more paths than a call's arguments can).
 */
async function walk(dir: string, out: string[] = []): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) await walk(path, out);
    else if (entry.isFile()) out.push(path.split(sep).join("/"));
  }
  return out;
}

export async function readStream(stream: AsyncIterable<Uint8Array | string>): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream)
    chunks.push(typeof chunk === "string" ? Buffer.from(chunk) : Buffer.from(chunk));
  return Buffer.concat(chunks);
}

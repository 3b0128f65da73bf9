/**
 * Reading trail files from S3: one object's bytes (gunzipped while streaming) and the log files under a
 * prefix (for `agenttrail replay s3://…`). Errors name the object and say why it cannot be read.
 */

import type { Readable } from "node:stream";
import { createGunzip } from "node:zlib";
import { GetObjectCommand, paginateListObjectsV2, S3Client } from "@aws-sdk/client-s3";
import { describeAwsError } from "../retry.ts";
import { FileError, isGzip, NAMED_GZ_NOT_GZIP } from "./decode.ts";
import { isCloudTrailLogKey } from "./keys.ts";

/** CloudTrail files are at most 50 MB uncompressed; the cap stops a gzip bomb from exhausting memory. */
const DEFAULT_MAX_OBJECT_BYTES = 256 * 1024 * 1024;

export interface ReadS3ObjectOptions {
  /** Largest body accepted after decompression. */
  maxBytes?: number;
}

/**
 * Reads an object whole. A gzip body (recognised by its magic bytes, not its suffix) is decompressed while
 * it streams in, so only the decompressed bytes are held. Throws a FileError `bucket/key: not readable: …`
 * (missing, denied, corrupt gzip, too large) or `bucket/key: not gzip: …` (named .gz without a gzip header).
 *
 * The result is already decompressed: decode it with `decodeFile(bytes, source, { decompressed: true })`.
 */
export async function readS3Object(
  client: S3Client,
  bucket: string,
  key: string,
  opts: ReadS3ObjectOptions = {},
): Promise<Buffer> {
  const where = `${bucket}/${key}`;
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_OBJECT_BYTES;
  let body: AsyncIterable<Uint8Array> & Partial<Readable>;
  try {
    const res = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    if (!res.Body) throw new Error("response has no body");
    body = res.Body as unknown as AsyncIterable<Uint8Array> & Partial<Readable>;
  } catch (err) {
    throw new FileError(where, `not readable: ${describeAwsError(err)}`);
  }

  const chunks: Buffer[] = [];
  let total = 0;
  const keep = (chunk: Buffer) => {
    total += chunk.length;
    if (total > maxBytes) throw new FileError(where, `not readable: larger than ${maxBytes} bytes`);
    chunks.push(chunk);
  };

  const iterator = body[Symbol.asyncIterator]();
  // Peek until the two magic bytes are known (chunks can be as small as one byte).
  const head: Buffer[] = [];
  let headLength = 0;
  try {
    while (headLength < 2) {
      const next = await iterator.next();
      if (next.done) break;
      const chunk = Buffer.from(next.value);
      head.push(chunk);
      headLength += chunk.length;
    }
  } catch (err) {
    throw new FileError(where, `not readable: ${describeAwsError(err)}`);
  }
  const first = Buffer.concat(head);
  const gzip = isGzip(first);

  if (!gzip) {
    if (/\.gz$/i.test(key)) {
      body.destroy?.();
      throw new FileError(where, NAMED_GZ_NOT_GZIP);
    }
    try {
      keep(first);
      for (let next = await iterator.next(); !next.done; next = await iterator.next())
        keep(Buffer.from(next.value));
    } catch (err) {
      body.destroy?.();
      if (err instanceof FileError) throw err;
      throw new FileError(where, `not readable: ${describeAwsError(err)}`);
    }
    return Buffer.concat(chunks, total);
  }

  const gunzip = createGunzip();
  const decompressed = new Promise<void>((resolve, reject) => {
    gunzip.on("data", (chunk: Buffer) => {
      try {
        keep(chunk);
      } catch (err) {
        gunzip.destroy();
        reject(err);
      }
    });
    gunzip.on("end", resolve);
    gunzip.on("error", reject);
  });
  decompressed.catch(() => {}); // observed below; avoid an unhandled rejection while we are still feeding
  const feed = async () => {
    const write = (chunk: Buffer) =>
      new Promise<void>((resolve) => {
        if (gunzip.write(chunk)) resolve();
        else gunzip.once("drain", resolve);
      });
    await write(first);
    for (let next = await iterator.next(); !next.done; next = await iterator.next()) {
      if (gunzip.destroyed) break;
      await write(Buffer.from(next.value));
    }
    gunzip.end();
  };
  try {
    await Promise.all([feed(), decompressed]);
  } catch (err) {
    body.destroy?.();
    gunzip.destroy();
    if (err instanceof FileError) throw err;
    const zlibError = String((err as { code?: unknown }).code ?? "").startsWith("Z_");
    throw new FileError(
      where,
      `not readable: ${zlibError ? `gzip: ${(err as Error).message}` : describeAwsError(err)}`,
    );
  }
  return Buffer.concat(chunks, total);
}

/** `s3://bucket/prefix` → its parts (prefix may be empty). */
export function parseS3Url(url: string): { bucket: string; prefix: string } {
  const m = /^s3:\/\/([^/]+)\/?(.*)$/.exec(url);
  if (!m || m[1] === "")
    throw new Error(`not an S3 URL (s3://bucket/prefix): ${JSON.stringify(url.slice(0, 200))}`);
  return { bucket: m[1], prefix: m[2] };
}

/**
 * Keys of the CloudTrail log files under `s3://bucket/prefix`, in S3's (lexicographic) order, page by page.
 * Digest and Insight files, other services' logs and folder markers are skipped (isCloudTrailLogKey).
 */
export async function* listS3Objects(
  client: S3Client,
  url: string,
  opts: { pageSize?: number } = {},
): AsyncIterable<string> {
  const { bucket, prefix } = parseS3Url(url);
  const pages = paginateListObjectsV2(
    { client, pageSize: opts.pageSize },
    { Bucket: bucket, Prefix: prefix || undefined },
  );
  try {
    for await (const page of pages) {
      for (const object of page.Contents ?? []) {
        if (object.Key && isCloudTrailLogKey(object.Key)) yield object.Key;
      }
    }
  } catch (err) {
    throw new FileError(url, `not listable: ${describeAwsError(err)}`);
  }
}

/**
 * An S3 client from the standard credential chain and environment. Path-style addressing only when
 * AWS_ENDPOINT_URL points at an emulator or S3-compatible store (its host is not a bucket DNS name).
 */
export function s3ClientFromEnv(env: Record<string, string | undefined> = process.env): S3Client {
  return new S3Client({ forcePathStyle: Boolean(env.AWS_ENDPOINT_URL) });
}

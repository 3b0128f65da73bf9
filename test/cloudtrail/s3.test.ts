import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { beforeEach, describe, expect, it } from "vitest";
import { FileError } from "../../src/cloudtrail/decode.ts";
import { listS3Objects, parseS3Url, readS3Object } from "../../src/cloudtrail/s3.ts";
import { awsClientConfig, createBucket, resetMoto } from "../support/aws.ts";

const corpus = (name: string) =>
  readFileSync(new URL(`../fixtures/corpus/aws-cloudtrail-processing-library/${name}`, import.meta.url));

const LOG_DIR = "AWSLogs/111122223333/CloudTrail/us-east-1/2026/01/05";
const logKey = (n: number) =>
  `${LOG_DIR}/111122223333_CloudTrail_us-east-1_20260105T02${String(n).padStart(2, "0")}Z_x.json.gz`;

let s3: S3Client;
let bucket: string;

beforeEach(async () => {
  await resetMoto();
  s3 = new S3Client(awsClientConfig());
  bucket = await createBucket(s3);
});

const put = (key: string, body: Uint8Array | string) =>
  s3.send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: key,
      Body: Buffer.from(body),
      ContentLength: Buffer.byteLength(body),
    }),
  );

async function readError(key: string, opts?: { maxBytes?: number }): Promise<FileError> {
  const err = await readS3Object(s3, bucket, key, opts).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(FileError);
  return err as FileError;
}

describe("readS3Object", () => {
  it("gunzips a trail file (corpus SerializerTestFileCompact.json.gz) to the plain file's bytes", async () => {
    await put(logKey(1), corpus("SerializerTestFileCompact.json.gz"));
    const bytes = await readS3Object(s3, bucket, logKey(1));
    expect(bytes.equals(corpus("SerializerTestFileCompact.json"))).toBe(true);
  });

  it("detects gzip by magic bytes, not by name, and returns plain objects unchanged", async () => {
    const text = corpus("SerializerTestFileCompact.json");
    await put("AWSLogs/no-suffix", gzipSync(text));
    await put("AWSLogs/plain.json", text);
    expect((await readS3Object(s3, bucket, "AWSLogs/no-suffix")).equals(text)).toBe(true);
    expect((await readS3Object(s3, bucket, "AWSLogs/plain.json")).equals(text)).toBe(true);
  });

  it("reads a multi-member gzip and a body of several megabytes", async () => {
    const records = Array.from({ length: 20_000 }, (_, i) => ({
      eventID: `e${i}`,
      pad: randomBytes(64).toString("hex"),
    }));
    const text = Buffer.from(JSON.stringify({ Records: records }));
    const half = Math.floor(text.length / 2);
    await put(logKey(2), Buffer.concat([gzipSync(text.subarray(0, half)), gzipSync(text.subarray(half))]));
    const bytes = await readS3Object(s3, bucket, logKey(2));
    expect(bytes.length).toBe(text.length);
    expect(JSON.parse(bytes.toString()).Records).toHaveLength(20_000);
  });

  it("reads an empty object as no bytes", async () => {
    await put("AWSLogs/empty.json", "");
    expect((await readS3Object(s3, bucket, "AWSLogs/empty.json")).length).toBe(0);
  });

  it("fails with the object and the reason when it cannot be read", async () => {
    await put(logKey(3), "this is not gzip");
    expect((await readError(logKey(3))).message).toBe(
      `${bucket}/${logKey(3)}: not gzip: named .gz but has no gzip header`,
    );

    const gz = gzipSync(corpus("SerializerTestFileCompact.json"));
    await put(logKey(4), gz.subarray(0, gz.length - 20));
    expect((await readError(logKey(4))).message).toMatch(
      new RegExp(`^${bucket}/${logKey(4)}: not readable: gzip: .*(unexpected end|incorrect|invalid)`, "i"),
    );

    expect((await readError(logKey(5))).message).toMatch(
      new RegExp(`^${bucket}/${logKey(5)}: not readable: NoSuchKey`),
    );
  });

  it("refuses bodies larger than maxBytes after decompression", async () => {
    await put(logKey(6), gzipSync(Buffer.alloc(2_000_000, 0x20)));
    expect((await readError(logKey(6), { maxBytes: 1_000_000 })).message).toMatch(
      /not readable: larger than 1000000 bytes/,
    );
    expect((await readS3Object(s3, bucket, logKey(6), { maxBytes: 2_000_000 })).length).toBe(2_000_000);
  });
});

describe("listS3Objects", () => {
  async function list(url: string, pageSize?: number): Promise<string[]> {
    const out: string[] = [];
    for await (const key of listS3Objects(s3, url, { pageSize })) out.push(key);
    return out;
  }

  it("lists log files under a prefix across pages, skipping Digest, Insight and folder keys", async () => {
    const logs = [1, 2, 3, 4, 5].map(logKey);
    const other = [
      "AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2026/01/05/111122223333_CloudTrail-Digest_us-east-1_t_us-east-1_20260105T020000Z.json.gz",
      "AWSLogs/111122223333/CloudTrail-Insight/us-east-1/2026/01/05/111122223333_CloudTrail-Insight_us-east-1_20260105T0200Z_x.json.gz",
      `${LOG_DIR}/`,
      "elsewhere/AWSLogs/111122223333/CloudTrail/x.json.gz",
    ];
    for (const key of [...logs, ...other]) await put(key, "{}");

    expect(await list(`s3://${bucket}/AWSLogs/`, 2)).toEqual(logs);
    expect(await list(`s3://${bucket}`)).toEqual([
      ...logs,
      "elsewhere/AWSLogs/111122223333/CloudTrail/x.json.gz",
    ]);
    expect(await list(`s3://${bucket}/${LOG_DIR}/111122223333_CloudTrail_us-east-1_20260105T0203`)).toEqual([
      logKey(3),
    ]);
    expect(await list(`s3://${bucket}/nothing-here/`)).toEqual([]);
  });

  it("skips the other services' logs a shared log bucket keeps under AWSLogs/", async () => {
    const logs = [1, 2].map(logKey);
    const otherServices = [
      "AWSLogs/111122223333/Config/us-east-1/2026/1/5/ConfigHistory/111122223333_Config_us-east-1_ConfigHistory_x.json.gz",
      "AWSLogs/111122223333/vpcflowlogs/us-east-1/2026/01/05/111122223333_vpcflowlogs_us-east-1_fl-0a1b_20260105T0210Z_ab12.log.gz",
    ];
    for (const key of [...logs, ...otherServices]) await put(key, "{}");
    expect(await list(`s3://${bucket}/AWSLogs/111122223333/`)).toEqual(logs);
  });

  it("fails with the URL when the bucket does not exist", async () => {
    await expect(list("s3://no-such-bucket-agenttrail-test/")).rejects.toThrow(
      /s3:\/\/no-such-bucket-agenttrail-test\/: not listable: NoSuchBucket/,
    );
  });

  it("parses s3 URLs and rejects others", () => {
    expect(parseS3Url("s3://b/AWSLogs/1/")).toEqual({ bucket: "b", prefix: "AWSLogs/1/" });
    expect(parseS3Url("s3://b")).toEqual({ bucket: "b", prefix: "" });
    expect(() => parseS3Url("https://b/x")).toThrow(/not an S3 URL/);
    expect(() => parseS3Url("s3:///x")).toThrow(/not an S3 URL/);
  });
});

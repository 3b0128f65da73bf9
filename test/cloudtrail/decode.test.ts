import { readFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { decodeFile, FileError, SkippedRecord, UnparseableRecord } from "../../src/cloudtrail/decode.ts";
import { decodePrepared, prepareFile, ReadAheadWorker } from "../../src/cloudtrail/read-ahead-worker.ts";
import { normaliseRecord } from "../../src/normalise.ts";

const LIB = "test/fixtures/corpus/aws-cloudtrail-processing-library";
const INVICTUS = "test/fixtures/corpus/invictus-ir-aws-dataset/CloudTrail";
const trailFile = `${INVICTUS}/218007301253_CloudTrail_us-east-1_20230710T1145Z_7xgocspSowgK0Gto.json`;
const trailRecords = (JSON.parse(readFileSync(trailFile, "utf8")) as { Records: Record<string, unknown>[] })
  .Records;

describe("decodeFile", () => {
  it("reads a trail file as delivered, plain and gzipped", () => {
    const plain = decodeFile(readFileSync(trailFile), trailFile).records;
    const gz = decodeFile(gzipSync(readFileSync(trailFile)), "x.json.gz").records;
    expect(plain).toHaveLength(trailRecords.length);
    expect(gz).toEqual(plain);
  });

  it("reads the processing library's gzipped compact file by magic bytes, whatever its name", () => {
    const bytes = readFileSync(`${LIB}/SerializerTestFileCompact.json.gz`);
    const expected = JSON.parse(readFileSync(`${LIB}/SerializerTestFileCompact.json`, "utf8")).Records;
    expect(decodeFile(bytes, "renamed.json").records).toEqual(expected);
  });

  it("reads JSON Lines of records and of EventBridge envelopes, gzipped or not", () => {
    const lines = trailRecords
      .slice(0, 3)
      .map((r) => JSON.stringify(r))
      .join("\n");
    expect(decodeFile(Buffer.from(lines), "a.jsonl").records).toEqual(trailRecords.slice(0, 3));
    const envelopes = trailRecords
      .slice(0, 2)
      .map((detail) =>
        JSON.stringify({
          version: "0",
          id: "x",
          "detail-type": "AWS API Call via CloudTrail",
          source: "aws.s3",
          detail,
        }),
      )
      .join("\n");
    expect(decodeFile(gzipSync(envelopes), "b.jsonl.gz").records).toEqual(trailRecords.slice(0, 2));
  });

  it("reads a single record, a single EventBridge envelope and an array of records", () => {
    const [first] = trailRecords;
    expect(decodeFile(Buffer.from(JSON.stringify(first)), "one.json").records).toEqual([first]);
    const envelope = {
      version: "0",
      "detail-type": "AWS Console Sign In via CloudTrail",
      source: "aws.signin",
      detail: first,
    };
    expect(decodeFile(Buffer.from(JSON.stringify(envelope)), "eb.json").records).toEqual([first]);
    expect(
      decodeFile(Buffer.from(JSON.stringify(trailRecords.slice(0, 4))), "arr.json").records,
    ).toHaveLength(4);
  });

  it("leaves an envelope whose detail is not an object wrapped, so it is counted as malformed", () => {
    const envelope = { "detail-type": "AWS API Call via CloudTrail", detail: [trailRecords[0]] };
    expect(decodeFile(Buffer.from(JSON.stringify(envelope)), "eb.json").records).toEqual([envelope]);
    const result = normaliseRecord(envelope, { source: "eb.json", index: 0 });
    expect(result.ok).toBe(false);
  });

  it("keeps a bad JSON Lines line as an unparseable record and the rest of the file", () => {
    const text = `${JSON.stringify(trailRecords[0])}\n{"eventName": "Broken"\n${JSON.stringify(trailRecords[1])}\n`;
    const records = decodeFile(Buffer.from(text), "mixed.jsonl").records;
    expect(records).toHaveLength(3);
    expect(records[1]).toBeInstanceOf(UnparseableRecord);
    expect((records[1] as UnparseableRecord).reason).toMatch(/^line 2: not JSON/);
    expect(records[2]).toEqual(trailRecords[1]);
  });

  it("keeps a JSON Lines line that is JSON but no object as a record normalise refuses, not as not JSON", () => {
    const text = `${JSON.stringify(trailRecords[0])}\n42\nnull\n"text"\n`;
    const records = decodeFile(Buffer.from(text), "scalars.jsonl").records;
    expect(records).toEqual([trailRecords[0], 42, null, "text"]);
    const reasons = records.slice(1).map((r, i) => {
      const result = normaliseRecord(r, { source: "scalars.jsonl", index: i + 1 });
      return result.ok ? "ok" : result.reason;
    });
    expect(reasons).toEqual([
      "not a CloudTrail record: number",
      "not a CloudTrail record: null",
      "not a CloudTrail record: string",
    ]);
  });

  it("reads JSON Lines whose lines are whole trail files, however many records a line holds", () => {
    // Trail files compacted one a line (`jq -c`), the first of more records than a call's arguments
    // hold: they are records to read, not a line reported as not JSON.
    const many = Array.from({ length: 200_000 }, (_, i) => ({ eventID: `e${i}` }));
    const text = `${JSON.stringify({ Records: many })}\n${JSON.stringify({ Records: trailRecords.slice(0, 2) })}\n`;
    const records = decodeFile(Buffer.from(text), "trails.jsonl").records;
    expect(records).toHaveLength(many.length + 2);
    expect(records.at(-3)).toEqual(many.at(-1));
    expect(records.slice(-2)).toEqual(trailRecords.slice(0, 2));
  });

  it("counts a digest line of a JSON Lines file as skipped, not dropped unseen", () => {
    const digest = { awsAccountId: "1", digestStartTime: "2026-05-08T11:00:00Z", logFiles: [] };
    const text = `${JSON.stringify(trailRecords[0])}\n${JSON.stringify(digest)}\n${JSON.stringify(trailRecords[1])}\n`;
    const records = decodeFile(Buffer.from(text), "mixed.jsonl").records;
    expect(records).toHaveLength(3);
    expect(records[1]).toBeInstanceOf(SkippedRecord);
    expect(normaliseRecord(records[1], { source: "mixed.jsonl", index: 1 })).toEqual({
      ok: false,
      skipped: true,
      reason: "line 2: CloudTrail digest file",
    });
    expect(records[2]).toEqual(trailRecords[1]);
  });

  it("reads non-ASCII text as UTF-8, with or without a BOM", () => {
    const record = {
      ...trailRecords[0],
      userAgent: "agent/1.0 (café; 東京) 🤖",
      requestParameters: { k: "ü" },
    };
    const text = JSON.stringify({ Records: [record] });
    expect(decodeFile(Buffer.from(text), "u.json").records).toEqual([record]);
    expect(decodeFile(Buffer.from(`\ufeff${text}`), "bom.json").records).toEqual([record]);
    expect(decodePrepared({ data: Buffer.from(text) }, "u.json").records).toEqual([record]);
  });

  it("fails a file that is not JSON with an error naming the file", () => {
    const bad = readFileSync(`${LIB}/SerializerTestFileBadJsonFormat.json`);
    expect(() => decodeFile(bad, "bad.json")).toThrow(FileError);
    expect(() => decodeFile(bad, "bad.json")).toThrow(/^bad\.json: not JSON/);
  });

  it("fails a .gz file that is not gzip, and a truncated gzip", () => {
    expect(() => decodeFile(Buffer.from('{"Records":[]}'), "x.json.gz")).toThrow(/x\.json\.gz: not gzip/);
    const truncated = gzipSync(readFileSync(trailFile)).subarray(0, 200);
    expect(() => decodeFile(truncated, "t.json.gz")).toThrow(/t\.json\.gz: not readable gzip/);
  });

  it("recognises a digest file as holding no records", () => {
    const digest = { awsAccountId: "1", digestStartTime: "2026-05-08T11:00:00Z", logFiles: [] };
    const decoded = decodeFile(Buffer.from(JSON.stringify(digest)), "d.json");
    expect(decoded.records).toEqual([]);
    expect(decoded.skippedReason).toMatch(/digest/);
  });
});

describe.each([
  // Closed, the worker prepares on the calling thread, as it does before its thread has started.
  ["on this thread", false],
  ["on the replay's read-ahead worker", true],
])("prepareFile + decodePrepared, preparing %s", (_, threaded) => {
  const trail = (ids: string[]) =>
    JSON.stringify({ Records: ids.map((eventID) => ({ eventID, eventName: "GetObject" })) });
  let worker: ReadAheadWorker;
  beforeEach(async () => {
    worker = new ReadAheadWorker();
    if (!threaded) await worker.close();
    expect(await worker.started).toBe(threaded);
  });
  afterEach(async () => {
    await worker.close();
  });
  const prepare = (bytes: Uint8Array, source: string, options: { decompressed?: boolean } = {}) =>
    prepareFile(bytes, source, worker, options);

  it("scans a trail file on the worker's thread, and only gunzips it on this one", async () => {
    const prepared = await prepare(gzipSync(readFileSync(trailFile)), "t.json.gz");
    expect("scan" in prepared).toBe(threaded);
  });

  it("reads every member of a multi-member gzip, whose trailer states only the last member's size", async () => {
    const first = gzipSync(Buffer.from(`${trail(["a"]).slice(0, -2)},`));
    const second = gzipSync(Buffer.from(`${JSON.stringify({ eventID: "b", eventName: "GetObject" })}]}`));
    const bytes = Buffer.concat([first, second]);
    const { records } = decodePrepared(await prepare(bytes, "x.json.gz"), "x.json.gz");
    expect(records.map((r) => (r as { eventID: string }).eventID)).toEqual(["a", "b"]);
    expect(decodeFile(bytes, "x.json.gz").records).toEqual(records);
  });

  it("gives the records decodeFile gives, for a trail file and for the formats it does not scan", async () => {
    const lines =
      '{"eventID":"a","eventName":"A"}\nnot json\n{"detail-type":"AWS API Call via CloudTrail","detail":{"eventID":"b"}}';
    for (const text of [readFileSync(trailFile, "utf8"), lines, `\uFEFF${trail(["c"])}`]) {
      for (const bytes of [Buffer.from(text), gzipSync(Buffer.from(text))]) {
        const got = decodePrepared(await prepare(bytes, "f.json", { decompressed: false }), "f.json");
        expect(got).toStrictEqual(decodeFile(bytes, "f.json"));
      }
    }
  });

  it.each([
    ["cut short", '{"Records":[{"eventID":"a"}'],
    ["with a broken object inside a record", '{"Records":[{"eventID":"a","requestParameters":{"k":1,}}]}'],
  ])("reports a file that is not JSON (%s) as decodeFile does", async (_, text) => {
    const bytes = gzipSync(Buffer.from(text));
    const prepared = await prepare(bytes, "bad.json.gz");
    const expected = (() => {
      try {
        decodeFile(bytes, "bad.json.gz");
      } catch (err) {
        return (err as Error).message;
      }
    })();
    expect(expected).toMatch(/^bad\.json\.gz: not JSON/);
    expect(() => decodePrepared(prepared, "bad.json.gz")).toThrow(expected);
  });

  it("rejects a corrupt gzip and a plain file named .gz with the file's name", async () => {
    const corrupt = gzipSync(Buffer.from(trail(["a"])));
    corrupt[20] ^= 0xff;
    await expect(prepare(corrupt, "bad.json.gz")).rejects.toThrow(FileError);
    await expect(prepare(corrupt, "bad.json.gz")).rejects.toThrow(/^bad\.json\.gz: not readable gzip/);
    await expect(prepare(Buffer.from(trail(["a"])), "plain.json.gz")).rejects.toThrow(
      /^plain\.json\.gz: not gzip/,
    );
    const fromS3 = await prepare(Buffer.from("{}"), "from-s3", { decompressed: true });
    expect(decodePrepared(fromS3, "from-s3").records).toEqual([{}]);
  });
});

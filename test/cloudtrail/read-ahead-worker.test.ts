import { readFileSync } from "node:fs";
import { gunzipSync, gzipSync } from "node:zlib";
import { afterEach, describe, expect, it, vi } from "vitest";
import { type PreparedFile, ReadAheadWorker } from "../../src/cloudtrail/read-ahead-worker.ts";
import { recordsOfScan } from "../../src/cloudtrail/trail-scan.ts";

const trailFile =
  "test/fixtures/corpus/invictus-ir-aws-dataset/CloudTrail/218007301253_CloudTrail_us-east-1_20230710T1145Z_7xgocspSowgK0Gto.json";

const textOf = (p: PreparedFile) => ("data" in p ? Buffer.from(p.data).toString("utf8") : undefined);

describe("ReadAheadWorker (the replay's read-ahead)", () => {
  let worker: ReadAheadWorker | undefined;
  afterEach(async () => {
    await worker?.close();
    worker = undefined;
  });

  it("scans trail files on the worker, in order of request, leaving the caller's bytes as they were", async () => {
    worker = new ReadAheadWorker();
    expect(await worker.started).toBe(true);
    const texts = Array.from({ length: 20 }, (_, i) =>
      JSON.stringify({ Records: [{ eventID: `e${i}`, userIdentity: { type: "IAMUser" } }] }),
    );
    const files = texts.map((t) => gzipSync(Buffer.from(t)));
    const before = files.map((f) => Buffer.from(f));
    const out = await Promise.all(files.map((f) => worker?.prepare(f, true) as Promise<PreparedFile>));
    expect(out.map((p) => ("scan" in p ? recordsOfScan(p.scan, p.shared) : undefined))).toEqual(
      texts.map((t) => JSON.parse(t).Records),
    );
    // The userIdentity all files share is sent with the first and parsed once: later files name it.
    const added = out.map((p) => ("scan" in p ? p.scan.shared.added.length : -1));
    expect(added[0]).toBe(1);
    expect(added.slice(1).every((n) => n === 0)).toBe(true);
    expect(files).toEqual(before);
    expect(files.every((f) => f.buffer.byteLength > 0)).toBe(true);
  });

  it("gives a real trail file's records as JSON.parse does, gzipped or not", async () => {
    worker = new ReadAheadWorker();
    await worker.started;
    const text = readFileSync(trailFile);
    const want = JSON.parse(text.toString("utf8")).Records;
    for (const [bytes, gzipped] of [
      [gzipSync(text), true],
      [text, false],
    ] as const) {
      const prepared = await worker.prepare(bytes, gzipped);
      expect("scan" in prepared && recordsOfScan(prepared.scan, prepared.shared)).toStrictEqual(want);
    }
  });

  it("hands back the decompressed bytes of a file the scan does not take on", async () => {
    worker = new ReadAheadWorker();
    await worker.started;
    const lines = '{"eventName":"A"}\n{"eventName":"B"}\n';
    expect(textOf(await worker.prepare(gzipSync(Buffer.from(lines)), true))).toBe(lines);
    expect(textOf(await worker.prepare(Buffer.from("not json"), false))).toBe("not json");
  });

  it("rejects a corrupt file with zlib's reason and goes on with the next", async () => {
    worker = new ReadAheadWorker();
    await worker.started;
    const corrupt = gzipSync(Buffer.from("x".repeat(1000)));
    corrupt[15] ^= 0xff;
    let zlibReason = "";
    try {
      gunzipSync(corrupt);
    } catch (err) {
      zlibReason = (err as Error).message;
    }
    expect(zlibReason).not.toBe("");
    await expect(worker.prepare(corrupt, true)).rejects.toThrow(zlibReason);
    expect(textOf(await worker.prepare(gzipSync(Buffer.from("fine")), true))).toBe("fine");
  });

  it("gunzips on this thread until the worker has started", async () => {
    worker = new ReadAheadWorker();
    // Asked at once: the worker is still loading, so the bytes come back unscanned.
    const prepared = await worker.prepare(gzipSync(Buffer.from('{"Records":[]}')), true);
    expect(textOf(prepared)).toBe('{"Records":[]}');
  });

  it("uses the worker once it has started even if the event loop never turned (files already in memory)", async () => {
    worker = new ReadAheadWorker();
    // The thread blocks without yielding while the worker starts: its ready message event cannot
    // arrive, only the synchronous read of the ready port can see it.
    const deadline = Date.now() + 10_000;
    const blocked = new Int32Array(new SharedArrayBuffer(4));
    let prepared: PreparedFile | undefined;
    while (Date.now() < deadline) {
      Atomics.wait(blocked, 0, 0, 100);
      prepared = await worker.prepare(gzipSync(Buffer.from('{"Records":[{"a":1}]}')), true);
      if ("scan" in prepared) break;
    }
    expect(prepared && "scan" in prepared).toBe(true);
  });

  it("prepares on this thread what the worker had not answered when it stopped", async () => {
    worker = new ReadAheadWorker();
    await worker.started;
    const text = "x".repeat(8 << 20);
    const pending = worker.prepare(gzipSync(Buffer.from(text)), true);
    await worker.close(); // before the worker could answer
    expect(textOf(await pending)).toBe(text);
  });

  it("still prepares (on the main thread) once the worker is gone", async () => {
    worker = new ReadAheadWorker();
    await worker.close();
    expect(await worker.started).toBe(false);
    expect(textOf(await worker.prepare(gzipSync(Buffer.from("after")), true))).toBe("after");
  });

  it("prepares on the main thread when no worker can start (a runtime without threads)", async () => {
    vi.resetModules();
    vi.doMock("node:worker_threads", async (original) => ({
      ...(await original<typeof import("node:worker_threads")>()),
      Worker: class {
        constructor() {
          throw new Error("ERR_WORKER_INIT_FAILED");
        }
      },
    }));
    try {
      const { ReadAheadWorker: Unthreaded } = await import("../../src/cloudtrail/read-ahead-worker.ts");
      worker = new Unthreaded();
      expect(await worker.started).toBe(false);
      expect(textOf(await worker.prepare(gzipSync(Buffer.from("no thread")), true))).toBe("no thread");
      await expect(worker.prepare(Buffer.from("not gzip"), true)).rejects.toThrow(/incorrect header/);
    } finally {
      vi.doUnmock("node:worker_threads");
      vi.resetModules();
    }
  });
});

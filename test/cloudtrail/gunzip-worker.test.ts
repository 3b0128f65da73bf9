import { gunzipSync, gzipSync } from "node:zlib";
import { afterEach, describe, expect, it, vi } from "vitest";
import { GunzipWorker } from "../../src/cloudtrail/gunzip-worker.ts";

describe("GunzipWorker (the replay's read-ahead)", () => {
  let worker: GunzipWorker | undefined;
  afterEach(async () => {
    await worker?.close();
    worker = undefined;
  });

  it("gunzips many files in order of request and leaves the caller's bytes as they were", async () => {
    worker = new GunzipWorker();
    const texts = Array.from({ length: 20 }, (_, i) => JSON.stringify({ Records: [{ eventID: `e${i}` }] }));
    const files = texts.map((t) => gzipSync(Buffer.from(t)));
    const before = files.map((f) => Buffer.from(f));
    const out = await Promise.all(files.map((f) => worker?.gunzip(f) as Promise<Uint8Array>));
    expect(out.map((o) => Buffer.from(o).toString("utf8"))).toEqual(texts);
    expect(files).toEqual(before);
    expect(files.every((f) => f.buffer.byteLength > 0)).toBe(true);
  });

  it("rejects a corrupt file with zlib's reason and goes on with the next", async () => {
    worker = new GunzipWorker();
    const corrupt = gzipSync(Buffer.from("x".repeat(1000)));
    corrupt[15] ^= 0xff;
    let zlibReason = "";
    try {
      gunzipSync(corrupt);
    } catch (err) {
      zlibReason = (err as Error).message;
    }
    expect(zlibReason).not.toBe("");
    await expect(worker.gunzip(corrupt)).rejects.toThrow(zlibReason);
    const ok = await worker.gunzip(gzipSync(Buffer.from("fine")));
    expect(Buffer.from(ok).toString()).toBe("fine");
  });

  it("gunzips on this thread what the worker had not answered when it stopped", async () => {
    worker = new GunzipWorker();
    const text = "x".repeat(8 << 20);
    const pending = worker.gunzip(gzipSync(Buffer.from(text)));
    await worker.close(); // before the worker could answer
    expect(Buffer.from(await pending).toString()).toBe(text);
  });

  it("still gunzips (on the main thread) once the worker is gone", async () => {
    worker = new GunzipWorker();
    await worker.close();
    const out = await worker.gunzip(gzipSync(Buffer.from("after")));
    expect(Buffer.from(out).toString()).toBe("after");
  });

  it("gunzips on the main thread when no worker can start (a runtime without threads)", async () => {
    vi.resetModules();
    vi.doMock("node:worker_threads", () => ({
      Worker: class {
        constructor() {
          throw new Error("ERR_WORKER_INIT_FAILED");
        }
      },
    }));
    try {
      const { GunzipWorker: Unthreaded } = await import("../../src/cloudtrail/gunzip-worker.ts");
      worker = new Unthreaded();
      const out = await worker.gunzip(gzipSync(Buffer.from("no thread")));
      expect(Buffer.from(out).toString()).toBe("no thread");
      await expect(worker.gunzip(Buffer.from("not gzip"))).rejects.toThrow(/incorrect header/);
    } finally {
      vi.doUnmock("node:worker_threads");
      vi.resetModules();
    }
  });
});

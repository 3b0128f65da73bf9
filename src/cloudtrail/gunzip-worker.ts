/**
 * Gunzip on a worker thread, for the replay's read-ahead. Node's async zlib hands each file back
 * through a stream and an event-loop turn per output chunk (≈0.5 ms a file even when the work is
 * done); a worker running gunzipSync and transferring the result costs one message. If the worker
 * cannot start or dies, files are gunzipped on the main thread instead: nothing is lost.
 */
import { Worker } from "node:worker_threads";
import { gunzipSync } from "node:zlib";

/** The main thread's gunzip, for when there is no worker. */
async function gunzipHere(gzip: Uint8Array): Promise<Uint8Array> {
  return gunzipSync(gzip);
}

/** The worker's code: plain JavaScript (no TypeScript loader there, nothing to bundle). */
const WORKER_SOURCE = `
const { parentPort } = require("node:worker_threads");
const { gunzipSync } = require("node:zlib");
parentPort.on("message", ({ id, gzip }) => {
  try {
    const out = gunzipSync(gzip);
    const whole = out.byteOffset === 0 && out.byteLength === out.buffer.byteLength;
    const buffer = whole ? out.buffer : out.buffer.slice(out.byteOffset, out.byteOffset + out.byteLength);
    parentPort.postMessage({ id, buffer }, [buffer]);
  } catch (err) {
    parentPort.postMessage({ id, error: String(err && err.message) });
  }
});
`;

interface Pending {
  gzip: Uint8Array;
  resolve: (data: Uint8Array) => void;
  reject: (err: Error) => void;
}

export class GunzipWorker {
  private worker: Worker | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;

  constructor() {
    try {
      const worker = new Worker(WORKER_SOURCE, { eval: true });
      worker.unref(); // never what keeps the process alive
      worker.on("message", (m: { id: number; buffer?: ArrayBuffer; error?: string }) => {
        const p = this.pending.get(m.id);
        this.pending.delete(m.id);
        if (!p) return;
        if (m.buffer) p.resolve(new Uint8Array(m.buffer));
        else p.reject(new Error(m.error ?? "gunzip failed"));
      });
      worker.on("error", () => this.fallBack());
      worker.on("exit", () => this.fallBack());
      this.worker = worker;
    } catch {
      this.worker = undefined;
    }
  }

  /** The decompressed bytes of a gzip file; rejects (with zlib's message) when it is not valid gzip. */
  gunzip(gzip: Uint8Array): Promise<Uint8Array> {
    const worker = this.worker;
    if (!worker) return gunzipHere(gzip);
    // A copy of just these bytes is moved to the worker: the caller's bytes stay usable (a Buffer's
    // slice() would share them, and moving a view's buffer would detach the whole of it).
    const copy = new Uint8Array(gzip);
    const id = this.nextId++;
    return new Promise<Uint8Array>((resolve, reject) => {
      this.pending.set(id, { gzip, resolve, reject });
      worker.postMessage({ id, gzip: copy }, [copy.buffer]);
    });
  }

  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    if (worker) await worker.terminate();
  }

  /** The worker is gone: what it had not answered is gunzipped on this thread instead. */
  private fallBack(): void {
    this.worker = undefined;
    for (const [id, p] of this.pending) {
      this.pending.delete(id);
      gunzipHere(p.gzip).then(p.resolve, p.reject);
    }
  }
}

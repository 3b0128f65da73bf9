/**
 * The replay's read-ahead on a worker thread: while the main thread runs one file through the
 * pipeline, the worker gunzips the next ones and scans them into compact form
 * (read-ahead-thread.mjs), so the main thread builds their records without parsing their text — on
 * a trail file, parsing was a third of the main thread's work. Until the worker has started, and if
 * it cannot start or dies, files are gunzipped on the main thread instead: nothing is lost, and the
 * records are the same either way.
 */
import { MessageChannel, type MessagePort, receiveMessageOnPort, Worker } from "node:worker_threads";
import { gunzipSync } from "node:zlib";
import {
  type DecodedFile,
  decodeFile,
  decodeUncompressed,
  isGzip,
  notReadableGzip,
  uncompressed,
} from "./decode.ts";
import type { PrepareAnswer, PrepareRequest } from "./read-ahead-thread.mjs";
import { NotJsonError, recordsOfScan, type ScannedTrail, SharedValues } from "./trail-scan.ts";

/**
 * A file made ready for decoding: its records in compact form (with the run's shared values its
 * slots name, and the bytes as read for when its objects turn out not to be JSON), or its
 * decompressed bytes.
 */
export type PreparedFile =
  | { scan: ScannedTrail; shared: readonly unknown[]; original: Uint8Array }
  | { data: Uint8Array };

/** The main thread's own preparation: gunzip only (scanning pays off only on another thread). */
async function prepareHere(bytes: Uint8Array, gzipped: boolean): Promise<PreparedFile> {
  return { data: gzipped ? gunzipSync(bytes) : bytes };
}

interface Pending {
  bytes: Uint8Array;
  gzipped: boolean;
  resolve: (prepared: PreparedFile) => void;
  reject: (err: Error) => void;
}

export class ReadAheadWorker {
  private worker: Worker | undefined;
  private ready = false;
  /** Where the worker says it has started; read synchronously (see isReady). */
  private readySignal: MessagePort | undefined;
  private readonly pending = new Map<number, Pending>();
  /** The values the worker's scans share across files, taken in the order the scans arrive. */
  private readonly shared = new SharedValues();
  private nextId = 0;
  /** Settles true once the worker has started, false if it never will (files are prepared here). */
  readonly started: Promise<boolean>;
  private settleStarted: (started: boolean) => void = () => {};

  constructor() {
    this.started = new Promise((resolve) => {
      this.settleStarted = resolve;
    });
    try {
      const { port1, port2 } = new MessageChannel();
      const worker = new Worker(new URL("./read-ahead-thread.mjs", import.meta.url), {
        execArgv: [], // plain JavaScript: no loader (the parent's tsx) to start
        workerData: { readySignal: port2 },
        transferList: [port2],
      });
      worker.unref(); // never what keeps the process alive
      this.readySignal = port1;
      port1.once("message", () => this.markReady());
      port1.unref();
      worker.on("message", (m: PrepareAnswer) => {
        // Taken before anything else: every scan's shared texts, in order, or the ids go astray.
        const shared = "scan" in m ? this.shared.take(m.scan) : undefined;
        const p = this.pending.get(m.id);
        this.pending.delete(m.id);
        if (!p) return;
        if ("scan" in m) p.resolve({ scan: m.scan, shared: shared ?? [], original: p.bytes });
        else if ("data" in m) p.resolve({ data: new Uint8Array(m.data) });
        else p.reject(new Error(m.error));
      });
      worker.on("error", () => this.fallBack());
      worker.on("exit", () => this.fallBack());
      this.worker = worker;
    } catch {
      this.worker = undefined;
      this.settleStarted(false);
    }
  }

  /**
   * A file's bytes made ready for decoding (see PreparedFile); rejects with zlib's message when
   * `gzipped` bytes are not valid gzip. The caller's bytes are left as they were.
   */
  prepare(bytes: Uint8Array, gzipped: boolean): Promise<PreparedFile> {
    const worker = this.worker;
    if (!worker || !this.isReady()) return prepareHere(bytes, gzipped);
    // A copy of just these bytes is moved to the worker: the caller's bytes stay usable (a Buffer's
    // slice() would share them, and moving a view's buffer would detach the whole of it).
    const copy = new Uint8Array(bytes);
    const id = this.nextId++;
    return new Promise<PreparedFile>((resolve, reject) => {
      this.pending.set(id, { bytes, gzipped, resolve, reject });
      worker.postMessage({ id, bytes: copy, gzipped } satisfies PrepareRequest, [copy.buffer]);
    });
  }

  /**
   * Whether the worker has started. Read from its port synchronously: a replay of files already in
   * memory may never give the event loop a turn in which a message event could arrive.
   */
  private isReady(): boolean {
    if (!this.ready && this.readySignal && receiveMessageOnPort(this.readySignal)) this.markReady();
    return this.ready;
  }

  private markReady(): void {
    this.ready = true;
    this.readySignal?.close();
    this.readySignal = undefined;
    this.settleStarted(true);
  }

  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    this.readySignal?.close();
    this.readySignal = undefined;
    this.settleStarted(false);
    if (worker) await worker.terminate();
  }

  /** The worker is gone: what it had not answered is prepared on this thread instead. */
  private fallBack(): void {
    this.worker = undefined; // prepare() checks it first: no file goes to the worker after this
    this.settleStarted(false);
    for (const [id, p] of this.pending) {
      this.pending.delete(id);
      prepareHere(p.bytes, p.gzipped).then(p.resolve, p.reject);
    }
  }
}

/**
 * A file's bytes made ready for decoding by `readAhead`: checked as decodeFile checks them, gunzip
 * failures named by the file.
 */
export async function prepareFile(
  bytes: Uint8Array,
  source: string,
  readAhead: ReadAheadWorker,
  options: { decompressed?: boolean } = {},
): Promise<PreparedFile> {
  if (!isGzip(bytes)) return readAhead.prepare(uncompressed(bytes, source, options), false);
  try {
    return await readAhead.prepare(bytes, true);
  } catch (err) {
    throw notReadableGzip(source, err);
  }
}

/** A prepared file (from prepareFile) → the records in it, as decodeFile gives them. */
export function decodePrepared(prepared: PreparedFile, source: string): DecodedFile {
  if (!("scan" in prepared)) return decodeUncompressed(prepared.data, source);
  try {
    return { records: recordsOfScan(prepared.scan, prepared.shared) };
  } catch (err) {
    // An object in it is not JSON: decoded the usual way, the file is reported as decodeFile does.
    if (err instanceof NotJsonError) return decodeFile(prepared.original, source, { decompressed: true });
    throw err;
  }
}

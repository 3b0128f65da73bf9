// @ts-check
/**
 * The replay's read-ahead thread (read-ahead-worker.ts starts it): gunzips each file it is sent and
 * scans a trail file into compact form (trail-scanner.mjs), so that the main thread need not parse
 * its text; a file the scan does not take on goes back as its decompressed bytes. Plain JavaScript,
 * so that the thread starts without a TypeScript loader.
 */
import { parentPort, workerData } from "node:worker_threads";
import { gunzipSync } from "node:zlib";
import { ScanDictionary, scanTrailFile } from "./trail-scanner.mjs";

/**
 * A file to prepare: its bytes as read, and whether they are gzip.
 * @typedef {{ id: number, bytes: Uint8Array, gzipped: boolean }} PrepareRequest
 */
/**
 * The answer: the scanned records, the decompressed bytes, or why gunzip failed.
 * @typedef {{ id: number, scan: import("./trail-scan.ts").ScannedTrail }
 *   | { id: number, data: ArrayBuffer }
 *   | { id: number, error: string }} PrepareAnswer
 */

const port = /** @type {import("node:worker_threads").MessagePort} */ (parentPort);
/** The run's repeated values, shared across its files (the main thread keeps the same list). */
const dictionary = new ScanDictionary();

/** @param {PrepareAnswer} answer @param {ArrayBuffer[]} [moved] */
const answer = (answer, moved = []) => port.postMessage(answer, moved);

port.on("message", (/** @type {PrepareRequest} */ { id, bytes, gzipped }) => {
  let data;
  try {
    data = gzipped ? gunzipSync(bytes) : bytes;
  } catch (err) {
    answer({ id, error: err instanceof Error ? err.message : String(err) });
    return;
  }
  let scan;
  try {
    scan = scanTrailFile(data, dictionary);
  } catch {
    scan = undefined; // a fault of the scan's own: the main thread decodes the bytes instead
  }
  if (scan) {
    answer({ id, scan }, [scan.slots.buffer]);
    return;
  }
  const whole = data.byteOffset === 0 && data.byteLength === data.buffer.byteLength;
  const buffer = /** @type {ArrayBuffer} */ (
    whole ? data.buffer : data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength)
  );
  answer({ id, data: buffer }, [buffer]);
});

// The scan's code is compiled before the first file arrives (the thread starts while the rules load);
// these scans stand alone, outside the run's dictionary.
const sample = Array.from({ length: 100 }, (_, i) => ({
  eventVersion: "1.08",
  userIdentity: { type: "IAMUser", arn: `arn:aws:iam::111122223333:user/u${i % 5}` },
  eventTime: "2026-01-01T00:00:00Z",
  eventSource: "s3.amazonaws.com",
  eventName: i % 2 ? "GetObject" : "PutObject",
  requestParameters: { bucketName: "b", key: `k${i}`, list: [i, 1.5, true, null] },
  userAgent: `agent/${i % 3}`,
  eventID: `id-${i}`,
  readOnly: true,
}));
const sampleBytes = Buffer.from(JSON.stringify({ Records: sample }));
for (let i = 0; i < 50; i++) scanTrailFile(sampleBytes);

// Said on a port of its own, read synchronously by the main thread (see ReadAheadWorker.isReady).
workerData.readySignal.postMessage("ready");
workerData.readySignal.close();

/**
 * A run of many input files through the pipeline, one batch per file in the order given (the way
 * the Lambda sees them), state carried by the store. A file that cannot be read or decoded is
 * reported with its name and the run goes on; the caller decides the exit status.
 */
import type { Detector, Sink } from "./batch.ts";
import { decodeDecompressed, decompressFile } from "./cloudtrail/decode.ts";
import { GunzipWorker } from "./cloudtrail/gunzip-worker.ts";
import type { InputFile } from "./cloudtrail/inputs.ts";
import type { Config } from "./config.ts";
import { type BatchInput, processBatch, type StageTimes } from "./pipeline.ts";
import type { RunCollector } from "./report.ts";
import type { EventTimeClock } from "./state/event-clock.ts";
import type { Store } from "./state/store.ts";

export interface RunDeps {
  store: Store;
  config: Config;
  collector: RunCollector;
  detector?: Detector;
  sinks?: Sink[];
  /** Replay's event-time store clock (see EventTimeClock). */
  eventClock?: EventTimeClock;
  /** Milliseconds per stage, decoding included (see PipelineDeps.stageTimes). */
  stageTimes?: StageTimes;
  /** Called after each file (for a progress line). */
  onFile?: (done: number, source: string) => void;
}

export async function runFiles(
  files: AsyncIterable<InputFile> | Iterable<InputFile>,
  deps: RunDeps,
): Promise<void> {
  const gunzip = new GunzipWorker();
  try {
    await runRecordBatches(decodedFiles(files, deps, gunzip), deps);
  } finally {
    await gunzip.close();
  }
}

/**
 * Each readable file as a batch; unreadable and digest files are reported to the collector and
 * passed over. The next file is read and gunzipped (on a worker thread) while the current batch
 * goes through the pipeline; files are still decoded and yielded one at a time, in order.
 */
async function* decodedFiles(
  files: AsyncIterable<InputFile> | Iterable<InputFile>,
  deps: RunDeps,
  gunzip: GunzipWorker,
): AsyncIterable<BatchInput> {
  let ahead: { file: InputFile; data: Promise<Uint8Array> } | undefined;
  for await (const file of files) {
    const next = { file, data: readDecompressed(file, gunzip) };
    // A rejection is handled when this file's turn comes, not reported as unhandled meanwhile.
    next.data.catch(() => {});
    if (ahead) {
      const batch = await decoded(ahead.file, ahead.data, deps);
      if (batch) yield batch;
    }
    ahead = next;
  }
  if (ahead) {
    const batch = await decoded(ahead.file, ahead.data, deps);
    if (batch) yield batch;
  }
}

async function readDecompressed(file: InputFile, worker: GunzipWorker): Promise<Uint8Array> {
  return decompressFile(await file.read(), file.source, {
    decompressed: file.decompressed,
    gunzip: (gzip) => worker.gunzip(gzip),
  });
}

/** One file's records as a batch, or undefined when it was reported as unreadable or skipped. */
async function decoded(
  file: InputFile,
  data: Promise<Uint8Array>,
  deps: RunDeps,
): Promise<BatchInput | undefined> {
  try {
    const bytes = await data;
    const started = performance.now();
    const result = decodeDecompressed(bytes, file.source);
    if (deps.stageTimes) deps.stageTimes.decode = (deps.stageTimes.decode ?? 0) + performance.now() - started;
    if (!result.skippedReason) return { source: file.source, records: result.records };
    deps.collector.skippedFiles.push(`${file.source} (${result.skippedReason})`);
  } catch (err) {
    deps.collector.fileFailed(file.source, err);
  }
  return undefined;
}

/** Batches that arrive as records (decoded files, LookupEvents pages), each through the pipeline. */
export async function runRecordBatches(batches: AsyncIterable<BatchInput>, deps: RunDeps): Promise<void> {
  const sinks: Sink[] = [...(deps.sinks ?? []), deps.collector];
  const pipelineDeps = {
    store: deps.store,
    config: deps.config,
    detector: deps.detector,
    sinks,
    eventClock: deps.eventClock,
    stageTimes: deps.stageTimes,
  };
  let done = 0;
  for await (const batch of batches) {
    await processBatch(batch, pipelineDeps);
    deps.onFile?.(++done, batch.source);
  }
  for (const sink of sinks) await sink.close?.();
}

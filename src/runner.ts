/**
 * A run of many input files through the pipeline, one batch per file in the order given (the way
 * the Lambda sees them), state carried by the store. A file that cannot be read or decoded is
 * reported with its name and the run goes on; the caller decides the exit status.
 */
import type { Detector, Sink } from "./batch.ts";
import type { InputFile } from "./cloudtrail/inputs.ts";
import {
  decodePrepared,
  type PreparedFile,
  prepareFile,
  type ReadAheadWorker,
} from "./cloudtrail/read-ahead-worker.ts";
import type { Config } from "./config.ts";
import { type BatchInput, processBatch, type StageTimes, stageClock } from "./pipeline.ts";
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

/**
 * @param readAhead the read-ahead worker, started and closed by the caller (replay starts it before
 *   loading rules, so that the thread's start overlaps theirs).
 */
export async function runFiles(
  files: AsyncIterable<InputFile> | Iterable<InputFile>,
  deps: RunDeps,
  readAhead: ReadAheadWorker,
): Promise<void> {
  await runRecordBatches(decodedFiles(files, deps, readAhead), deps);
}

/**
 * Files being read and prepared ahead of the one in the pipeline. More than one: the worker's
 * pace per file varies (its own garbage collection), S3 reads wait on the network, and a queue
 * keeps the main thread fed.
 */
const READ_AHEAD = 8;

/**
 * Each readable file as a batch; unreadable and digest files are reported to the collector and
 * passed over. The next files are read, gunzipped and scanned (on a worker thread) while the
 * current batch goes through the pipeline; files are still decoded and yielded one at a time, in
 * order.
 */
async function* decodedFiles(
  files: AsyncIterable<InputFile> | Iterable<InputFile>,
  deps: RunDeps,
  readAhead: ReadAheadWorker,
): AsyncIterable<BatchInput> {
  const ahead: { file: InputFile; data: Promise<PreparedFile> }[] = [];
  for await (const file of files) {
    const data = readPrepared(file, readAhead);
    // A rejection is handled when this file's turn comes, not reported as unhandled meanwhile.
    data.catch(() => {});
    ahead.push({ file, data });
    if (ahead.length > READ_AHEAD) {
      const first = ahead.shift() as (typeof ahead)[number];
      const batch = await decoded(first.file, first.data, deps);
      if (batch) yield batch;
    }
  }
  for (const { file, data } of ahead) {
    const batch = await decoded(file, data, deps);
    if (batch) yield batch;
  }
}

async function readPrepared(file: InputFile, worker: ReadAheadWorker): Promise<PreparedFile> {
  return prepareFile(await file.read(), file.source, worker, { decompressed: file.decompressed });
}

/** One file's records as a batch, or undefined when it was reported as unreadable or skipped. */
async function decoded(
  file: InputFile,
  data: Promise<PreparedFile>,
  deps: RunDeps,
): Promise<BatchInput | undefined> {
  try {
    const lap = stageClock(deps.stageTimes);
    const prepared = await data;
    // Time the main thread waited for the read-ahead: the file, the worker, and taking in its message
    // (delivered while this awaits it).
    lap("waiting");
    const result = decodePrepared(prepared, file.source);
    lap("decode");
    if (!result.skippedReason) return { source: file.source, records: result.records };
    deps.collector.fileSkipped([`${file.source} (${result.skippedReason})`]);
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

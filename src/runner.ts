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
  /** How far to read ahead; READ_AHEAD unless given (tests). */
  readAheadLimits?: ReadAheadLimits;
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

/** How far the read-ahead goes. */
export interface ReadAheadLimits {
  /** Files being read and prepared ahead of the one in the pipeline. */
  files: number;
  /**
   * Bytes (as read, mostly gzipped) of the files ahead. A file whose read has not ended counts as
   * the largest read so far, and as no less than an eighth of this (small files read first do not
   * let dozens of reads of unknown size start); one file always goes ahead, whatever its size.
   */
  bytes: number;
}

/**
 * Files ahead: more than a few, since the worker's pace per file varies (its own garbage collection,
 * the main thread's collector taking its core), the pipeline's pace varies with the alerts a file
 * raises, and S3 reads wait on the network; a deep queue lets the worker run ahead while the pipeline
 * is slow and feeds the pipeline while the worker is (32 files against 8: the main thread's waits
 * about a quarter shorter in `npm run bench`). Bounded by the bytes read too, since a prepared file is
 * held with its bytes as read and its texts: trail files run from kilobytes to tens of megabytes.
 */
export const READ_AHEAD: ReadAheadLimits = { files: 32, bytes: 16 * 1024 * 1024 };

interface Ahead {
  file: InputFile;
  data: Promise<PreparedFile>;
  /** Its bytes as read, once read; undefined while the read goes on. */
  size?: number;
}

/** The files read ahead, and the bytes they hold or are taken to hold (ReadAheadLimits.bytes). */
class AheadQueue {
  private readonly entries: Ahead[] = [];
  /** What a file still being read counts as: the largest read so far, an eighth of the budget at least. */
  private largest: number;

  constructor(
    private readonly limits: ReadAheadLimits,
    private readonly readAhead: ReadAheadWorker,
  ) {
    this.largest = limits.bytes / 8;
  }

  push(file: InputFile): void {
    const read = readBytes(file);
    const entry: Ahead = {
      file,
      data: read.then((bytes) =>
        prepareFile(bytes, file.source, this.readAhead, { decompressed: file.decompressed }),
      ),
    };
    // A rejection is handled when this file's turn comes, not reported as unhandled meanwhile.
    entry.data.catch(() => {});
    const settled = (size: number) => {
      entry.size = size;
      if (size > this.largest) this.largest = size;
    };
    read.then(
      (bytes) => settled(bytes.byteLength),
      () => settled(0),
    );
    this.entries.push(entry);
  }

  /** Whether the first file must go through before another is read. */
  full(): boolean {
    const n = this.entries.length;
    if (n > this.limits.files) return true;
    if (n <= 1) return false;
    let bytes = 0;
    for (const entry of this.entries) bytes += entry.size ?? this.largest;
    return bytes > this.limits.bytes;
  }

  shift(): Ahead | undefined {
    return this.entries.shift();
  }
}

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
  const ahead = new AheadQueue(deps.readAheadLimits ?? READ_AHEAD, readAhead);
  for await (const file of files) {
    ahead.push(file);
    while (ahead.full()) {
      const first = ahead.shift() as Ahead;
      const batch = await decoded(first.file, first.data, deps);
      if (batch) yield batch;
    }
  }
  for (let next = ahead.shift(); next; next = ahead.shift()) {
    const batch = await decoded(next.file, next.data, deps);
    if (batch) yield batch;
  }
}

/** A file's bytes; a read that throws rejects instead. */
async function readBytes(file: InputFile): Promise<Uint8Array> {
  return file.read();
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

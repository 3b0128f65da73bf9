/**
 * A run of many input files through the pipeline, one batch per file in the order given (the way
 * the Lambda sees them), state carried by the store. A file that cannot be read or decoded is
 * reported with its name and the run goes on; the caller decides the exit status.
 */
import type { Detector, Sink } from "./batch.ts";
import { decodeFile } from "./cloudtrail/decode.ts";
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
  await runRecordBatches(decodedFiles(files, deps), deps);
}

/** Each readable file as a batch; unreadable and digest files are reported to the collector and passed over. */
async function* decodedFiles(
  files: AsyncIterable<InputFile> | Iterable<InputFile>,
  deps: RunDeps,
): AsyncIterable<BatchInput> {
  for await (const file of files) {
    try {
      const bytes = await file.read();
      const started = performance.now();
      const decoded = decodeFile(bytes, file.source, { decompressed: file.decompressed });
      if (deps.stageTimes)
        deps.stageTimes.decode = (deps.stageTimes.decode ?? 0) + performance.now() - started;
      if (decoded.skippedReason)
        deps.collector.skippedFiles.push(`${file.source} (${decoded.skippedReason})`);
      else yield { source: file.source, records: decoded.records };
    } catch (err) {
      deps.collector.fileFailed(file.source, describeReadError(file.source, err));
    }
  }
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

export function describeReadError(source: string, err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.startsWith(`${source}:`) ? message : `${source}: ${message}`;
}

/**
 * One Lambda invocation: the trigger (S3 notification, SQS/SNS-wrapped S3, CloudTrail's SNS
 * notification, EventBridge directly, through SNS or queued in SQS) → batches through the pipeline → sinks.
 * Core module: no AWS SDK; reading objects, the store and the sinks are injected by
 * functions/handler.ts.
 *
 * Delivery semantics (DESIGN.md "Failure and bad input"):
 * - each S3 object is its own batch, processed in order, one at a time (50 MB files);
 * - an object already processed (marker on bucket/key/etag) is skipped; the marker is written only
 *   after the batch was processed and published, so a failed invocation reprocesses it on retry;
 * - an object that cannot be read or processed fails the invocation (Lambda retries, then the
 *   failure destination gets it) after every other object was processed; under SQS it is reported
 *   in `batchItemFailures` instead, so one bad message does not replay the others;
 * - an EventBridge event is one batch, direct, through SNS or queued in SQS (there, a failure is its
 *   message's batch item failure; its event-id marker makes the redelivery count once).
 */
import type { BatchResult, Detector, Sink } from "./batch.ts";
import { decodeFile } from "./cloudtrail/decode.ts";
import {
  parseTrigger,
  type QueuedRecord,
  type S3ObjectRef,
  type Trigger,
  TriggerError,
} from "./cloudtrail/triggers.ts";
import type { Config } from "./config.ts";
import { processBatch } from "./pipeline.ts";
import { describeError } from "./retry.ts";
import { cleanText } from "./sanitize.ts";
import type { Store } from "./state/store.ts";

/** How long a processed-file marker is kept: longer than any S3 redelivery or async retry (6 h). */
const PROCESSED_FILE_TTL_SECONDS = 14 * 24 * 3600;

export interface InvocationDeps {
  store: Store;
  config: Config;
  detector?: Detector;
  sinks: Sink[];
  /**
   * The object's bytes, gzipped or already decompressed (decoding sniffs the gzip header, whatever the
   * key's suffix). Rejects when the object cannot be read.
   */
  readObject(bucket: string, key: string): Promise<Uint8Array>;
  /** One JSON line per batch and per failure; defaults to console.log. */
  log?: (line: string) => void;
}

export interface BatchSummary {
  source: string;
  status: "processed" | "already-processed" | "failed";
  records?: number;
  events?: number;
  duplicates?: number;
  malformed?: number;
  parked?: number;
  alerts?: number;
  /**
   * Where the malformed records are and why they were left out of detection (the first
   * MAX_LOGGED_MALFORMED; reasons as processBatch cleaned them): the batch's log line names them for
   * a responder.
   */
  malformedRecords?: { index: number; reason: string }[];
  /** Why the batch failed (sanitized). */
  error?: string;
}

/** Malformed records named on a batch's log line; the count covers the rest. */
const MAX_LOGGED_MALFORMED = 20;

export interface InvocationSummary {
  trigger: "s3-objects" | "sqs" | "cloudtrail-records" | "ignored";
  batches: BatchSummary[];
  /** Why the event was ignored (S3 test event, digest keys only, …). */
  ignored?: string;
  /** SQS partial batch response: the messages Lambda must deliver again. */
  batchItemFailures?: { itemIdentifier: string }[];
}

/** Thrown when an object could not be read or processed outside SQS: Lambda retries the invocation. */
export class InvocationError extends Error {
  constructor(
    readonly failures: BatchSummary[],
    readonly summary: InvocationSummary,
  ) {
    super(
      `agenttrail: ${failures.length} of ${summary.batches.length} trail file(s) failed: ` +
        failures.map((f) => `${f.source}: ${f.error}`).join("; "),
    );
    this.name = "InvocationError";
  }
}

/**
 * Store key of the processed-file marker. CloudTrail never rewrites a log file (each key has a unique
 * suffix); the ETag, when known, still tells an overwritten object from the one processed.
 */
function processedFileKey(object: S3ObjectRef): string {
  return `processed-file|${object.bucket}|${object.key}|${object.etag ?? ""}`;
}

interface ProcessedFileMarker {
  processedAt: string;
  records: number;
  alerts: number;
}

export async function handleInvocation(event: unknown, deps: InvocationDeps): Promise<InvocationSummary> {
  const log = deps.log ?? ((line: string) => console.log(line));
  const trigger = readTrigger(event);

  if (trigger.kind === "ignored") {
    const reason = ignoredReason(trigger.reason);
    log(ignoredLine(reason));
    return { trigger: "ignored", batches: [], ignored: reason };
  }

  const summary: InvocationSummary = { trigger: trigger.kind, batches: [] };
  /** Keeps a batch's summary and logs it. */
  const done = (batch: BatchSummary): BatchSummary => {
    summary.batches.push(batch);
    log(batchLine(batch));
    return batch;
  };

  if (trigger.kind === "cloudtrail-records") {
    // One batch; a failure here (store, publish) fails the invocation so EventBridge's async
    // retries redeliver it; eventID dedup makes the retry safe.
    // One EventBridge event: its marker lets the trail file that repeats it minutes later skip it.
    done(batchSummary(await runBatch(trigger.source, trigger.records, deps, true)));
    return summary;
  }

  if (trigger.kind === "s3-objects") {
    for (const object of trigger.objects) done(await processObject(object, deps));
    const failures = summary.batches.filter((b) => b.status === "failed");
    if (failures.length > 0) throw new InvocationError(failures, summary);
    return summary;
  }

  // Message by message, in the batch's order (a message names trail files or holds one event). A
  // failed message is delivered again, in the end to the queue's DLQ.
  const failedMessages = new Set<string>();
  for (const message of trigger.messages) {
    const { messageId } = message;
    switch (message.kind) {
      case "error":
        // Its body named nothing readable.
        failedMessages.add(messageId);
        log(JSON.stringify({ msg: "malformed message", error: cleanText(message.error, 500) }));
        break;
      case "ignored":
        log(ignoredLine(ignoredReason(message.reason)));
        break;
      case "objects":
        for (const object of message.objects) {
          // Another object of the same message failed: the message is redelivered anyway, and the
          // objects that succeeded carry their markers, so there is nothing to gain by going on here.
          if (failedMessages.has(messageId)) break;
          if (done(await processObject(object, deps)).status === "failed") failedMessages.add(messageId);
        }
        break;
      case "record":
        if (done(await processQueuedRecord(message.record, deps)).status === "failed")
          failedMessages.add(messageId);
        break;
    }
  }
  // In the batch's message order, as Lambda checkpoints on the first failure of FIFO queues.
  summary.batchItemFailures = [...new Set(trigger.messages.map((m) => m.messageId))]
    .filter((id) => failedMessages.has(id))
    .map((itemIdentifier) => ({ itemIdentifier }));
  return summary;
}

/**
 * The event's trigger. A TriggerError fails the invocation; its message can quote the event (its keys,
 * a Message that is not JSON) and reaches the function's log and failure destination, so it is
 * cleaned like every other line the handler writes.
 */
function readTrigger(event: unknown): Trigger {
  try {
    return parseTrigger(event);
  } catch (err) {
    if (err instanceof TriggerError) throw new TriggerError(cleanText(err.message, 500));
    throw err;
  }
}

/** An EventBridge event's record from an SQS message: one batch; a failure fails only its message. */
async function processQueuedRecord(queued: QueuedRecord, deps: InvocationDeps): Promise<BatchSummary> {
  try {
    return batchSummary(await runBatch(queued.source, [queued.record], deps, true));
  } catch (err) {
    return { source: cleanText(queued.source, 512), status: "failed", error: describeFailure(err) };
  }
}

async function processObject(object: S3ObjectRef, deps: InvocationDeps): Promise<BatchSummary> {
  const source = `s3://${object.bucket}/${object.key}`;
  const markerKey = processedFileKey(object);
  try {
    const seen = await deps.store.getItems<ProcessedFileMarker>([markerKey]);
    if (seen.has(markerKey)) return { source: cleanText(source, 512), status: "already-processed" };

    const bytes = await deps.readObject(object.bucket, object.key);
    // readObject may hand back the bytes gzipped or already gunzipped while streaming.
    const { records } = decodeFile(bytes, source, { decompressed: true });
    // Trail files only read event markers (no write per ordinary call); see PipelineDeps.markSeen.
    const result = await runBatch(source, records, deps, false);
    await deps.store.putItems<ProcessedFileMarker>(
      [
        {
          key: markerKey,
          value: {
            processedAt: result.processedAt.toISOString(),
            records: result.stats.records,
            alerts: result.alerts.length,
          },
        },
      ],
      PROCESSED_FILE_TTL_SECONDS,
    );
    return batchSummary(result);
  } catch (err) {
    return { source: cleanText(source, 512), status: "failed", error: describeFailure(err) };
  }
}

/** The pipeline publishes to the sinks after processing; a publish failure rejects. */
async function runBatch(
  source: string,
  records: unknown[],
  deps: InvocationDeps,
  markSeen: boolean,
): Promise<BatchResult> {
  return processBatch(
    { source, records },
    { store: deps.store, config: deps.config, detector: deps.detector, sinks: deps.sinks, markSeen },
  );
}

function batchSummary(result: BatchResult): BatchSummary {
  return {
    source: cleanText(result.source, 512),
    status: "processed",
    records: result.stats.records,
    events: result.stats.events,
    duplicates: result.stats.duplicates,
    malformed: result.stats.malformed,
    parked: result.stats.parked,
    alerts: result.alerts.length,
    ...(result.malformed.length && {
      malformedRecords: result.malformed
        .slice(0, MAX_LOGGED_MALFORMED)
        .map((m) => ({ index: m.index, reason: m.reason })),
    }),
  };
}

/** Why an event or an SQS message had nothing to read, cleaned: the reason can quote its body (a key). */
function ignoredReason(reason: string): string {
  return cleanText(reason, 200);
}

/** The log line of an event or an SQS message with nothing to read, from its cleaned reason. */
function ignoredLine(cleanedReason: string): string {
  return JSON.stringify({ msg: "ignored", reason: cleanedReason });
}

function batchLine(batch: BatchSummary): string {
  return JSON.stringify({ msg: "batch", ...batch });
}

/** An error for the batch log line: attacker-reachable text (a key, a record), so cleaned and capped. */
function describeFailure(err: unknown): string {
  return cleanText(describeError(err), 500);
}

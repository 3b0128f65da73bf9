/**
 * One batch (one file, one EventBridge event, one LookupEvents page) through every stage:
 * normalise → dedup → attribute → enrich → detect → alerts → sinks → commit.
 * Pure core: the store and sinks are injected, no AWS SDK here. Outputs are published only after
 * the batch is processed, and event ids are marked as seen only after publishing succeeded, so a
 * failed publish is retried by the caller (Lambda retry) without losing the batch. The state a batch
 * changes for later ones is committed after publishing too: alert suppression (a retried batch raises
 * its alerts again) and the parked entries of re-attributed events (the retry revives them again).
 * Correlation window counts are written during detection, so that batches running at once see each
 * other's; each bucket keeps the id of the batches that added to it, so a retried batch does not add
 * them twice (RuleEngine.detect, Store.addToWindows).
 */
import { planAlerts } from "./alerts.ts";
import { attributeBatch } from "./attribution/attribute.ts";
import type { BatchResult, BatchStats, Detector, Sink } from "./batch.ts";
import type { Config } from "./config.ts";
import { enrichEvents } from "./enrich.ts";
import { type AuditEvent, eventKey, type MalformedRecord } from "./event.ts";
import { normaliseRecord } from "./normalise.ts";
import { cleanText } from "./sanitize.ts";
import type { EventTimeClock } from "./state/event-clock.ts";
import type { Store } from "./state/store.ts";

/** How long an event id is remembered for cross-batch dedup (S3 + EventBridge, redeliveries, retries). */
export const EVENT_DEDUP_TTL_SECONDS = 3 * 24 * 3600;

export interface BatchInput {
  /** Where the records came from: a path, s3://bucket/key, "stdin", "eventbridge:<id>". */
  source: string;
  records: readonly unknown[];
}

export interface PipelineDeps {
  store: Store;
  config: Config;
  detector?: Detector;
  sinks?: readonly Sink[];
  /** Processing time for lag metrics; defaults to the wall clock. */
  now?: () => Date;
  /** Replay's event-time store clock, advanced with each batch's events before any store call. */
  eventClock?: EventTimeClock;
  /**
   * Whether this batch writes event-id markers (default true). The Lambda's trail-file batches only
   * read them: writing one per event would cost a DynamoDB write per ordinary call. EventBridge
   * batches (one event each, minutes ahead of the file) write theirs, so the file finds it;
   * redelivered files are skipped whole by their processed-file marker.
   */
  markSeen?: boolean;
  /** When given, milliseconds spent per stage are added to it (`npm run bench -- --stages`). */
  stageTimes?: StageTimes;
}

/** Milliseconds per pipeline stage, summed over batches. */
export type StageTimes = Record<string, number>;

/** Adds the time since the previous lap to `times[stage]`; a no-op without `times`. */
export function stageClock(times: StageTimes | undefined): (stage: string) => void {
  if (!times) return () => {};
  let last = performance.now();
  return (stage) => {
    const now = performance.now();
    times[stage] = (times[stage] ?? 0) + now - last;
    last = now;
  };
}

export function emptyStats(): BatchStats {
  return {
    records: 0,
    malformed: 0,
    duplicates: 0,
    skipped: 0,
    events: 0,
    reattributed: 0,
    parked: 0,
    byKind: { ai: 0, human: 0, service: 0, unknown: 0 },
  };
}

/**
 * A batch's records as events, once each by dedup key (each key built once: checked in the batch,
 * against the store, then marked seen), and its malformed records; counts go to `stats`. Kept out of
 * the async processBatch so that V8 optimises this loop on its own (see matchEvents in rules/engine.ts).
 */
function normaliseBatch(
  input: BatchInput,
  stats: BatchStats,
): { candidates: AuditEvent[]; candidateKeys: string[]; malformed: MalformedRecord[] } {
  const malformed: MalformedRecord[] = [];
  let malformedSource: string | undefined;
  const candidates: AuditEvent[] = [];
  const candidateKeys: string[] = [];
  const inBatch = new Set<string>();

  stats.records = input.records.length;
  for (let index = 0; index < input.records.length; index++) {
    const n = normaliseRecord(input.records[index], { source: input.source, index });
    if (!n.ok) {
      if (n.skipped) stats.skipped++;
      else {
        // Cleaned and capped here, once, for every output that names a malformed record (summary.json,
        // the terminal, the Lambda's log line): the file name and the reason (which can quote the
        // record) are attacker-chosen text. The file name is the batch's: cleaned with its first one.
        malformedSource ??= cleanText(input.source, 512);
        malformed.push({ source: malformedSource, index, reason: cleanText(n.reason, 300) });
      }
      continue;
    }
    const key = eventKey(n.event);
    if (inBatch.has(key)) {
      stats.duplicates++;
      continue;
    }
    inBatch.add(key);
    candidates.push(n.event);
    candidateKeys.push(key);
  }
  stats.malformed = malformed.length;
  return { candidates, candidateKeys, malformed };
}

/** Adds each event's actor kind to `byKind`. */
function countKinds(events: readonly AuditEvent[], byKind: BatchStats["byKind"]): void {
  for (let i = 0; i < events.length; i++) byKind[events[i].actor.kind]++;
}

export async function processBatch(input: BatchInput, deps: PipelineDeps): Promise<BatchResult> {
  const { store, config } = deps;
  const lap = stageClock(deps.stageTimes);
  const stats = emptyStats();
  const { candidates, candidateKeys, malformed } = normaliseBatch(input, stats);
  lap("normalise");
  deps.eventClock?.observeEvents(candidates);

  // Cross-batch dedup is a read here; the markers are written after publishing (commit below).
  const seenBefore = candidates.length ? await store.seen(candidateKeys) : new Set<string>();
  let events = candidates;
  let eventKeys = candidateKeys;
  if (seenBefore.size) {
    events = [];
    eventKeys = [];
    for (let i = 0; i < candidates.length; i++) {
      if (seenBefore.has(candidateKeys[i])) continue;
      events.push(candidates[i]);
      eventKeys.push(candidateKeys[i]);
    }
  }
  stats.duplicates += candidates.length - events.length;

  lap("dedup");
  const attribution = await attributeBatch(events, store, config);
  const reattributed = attribution.reattributed;
  // Re-attributed events were detected in their first batch; only a changed actor kind can make
  // them match differently, and sending the rest again would count them twice in windows.
  const kindChanges = attribution.changedKind;
  const detected = kindChanges.length ? [...events, ...kindChanges.map((c) => c.event)] : events;
  // Counted while the events are fresh in the cache from attribution.
  countKinds(events, stats.byKind);
  lap("attribute");
  enrichEvents(reattributed.length ? [...events, ...reattributed] : events, config);
  lap("enrich");
  const hits = deps.detector ? await deps.detector.detect(detected, store, eventKeys) : [];
  // State is committed only after publishing: a failed publish is retried with the same alerts.
  lap("detect");
  const plan = hits.length ? await planAlerts(hits, store, config) : undefined;
  const alerts = plan?.alerts ?? [];

  lap("alerts");
  stats.events = events.length;
  stats.reattributed = reattributed.length;
  stats.parked = attribution.parked;

  const processedAt = deps.now?.() ?? new Date();
  const result: BatchResult = {
    source: input.source,
    stats,
    events,
    reattributed,
    kindChanges,
    waiting: attribution.waiting,
    hits,
    alerts,
    malformed,
    processedAt,
  };
  for (const sink of deps.sinks ?? []) await sink.publish(result);
  lap("sinks");
  await plan?.commit();
  await attribution.commit();
  if (events.length && deps.markSeen !== false) {
    await store.markSeen(eventKeys, EVENT_DEDUP_TTL_SECONDS);
  }
  lap("commit");
  return result;
}

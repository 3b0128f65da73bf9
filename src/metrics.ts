/**
 * A processed batch as CloudWatch metric datums (SDK-shaped, no SDK import: the sink sends them).
 *
 * Aggregated per batch, timestamped by event time rounded down to the minute, low-cardinality
 * dimensions only (ActorKind, Severity, RuleId), Values/Counts arrays:
 * - event counts (Calls, Errors, AccessDenied, DestructiveCalls, Reattributed, Alerts): one sample of
 *   value 1 per event (and −1/+1 corrections, below): read them with Sum;
 * - batch counters (RecordsRead, MalformedRecords, DuplicatesDropped, Reattributed without dimensions):
 *   one sample per batch with the batch's value, timestamped at processing time; RecordsRead is sent
 *   even when 0 so "no records for an hour" is a real zero, not missing data;
 * - DeliveryLag: seconds from event time to processing, one value per event (whole seconds): the events
 *   of one minute differ by less than 60 s, so a datum holds at most 61 distinct values (CloudWatch
 *   accepts 150).
 *
 * Re-attributed events were counted in Calls (under the verdict they had then) by the batch that first
 * processed them. When their kind changed (result.kindChanges), Calls, Errors, AccessDenied and
 * DestructiveCalls move: a −1 sample under the old kind and a +1 under the new one, so Sum is right
 * (SampleCount is not a count of events once corrections exist). `Reattributed` by ActorKind counts
 * re-decided calls under their new verdict.
 * DestructiveCalls counts destructive calls that succeeded; refused attempts show in Errors/AccessDenied.
 */
import type { Alert } from "./alerts.ts";
import type { BatchResult } from "./batch.ts";
import { isAccessDenied } from "./enrich.ts";
import type { ActorKind, AuditEvent } from "./event.ts";

export type MetricUnit = "Count" | "Seconds" | "None";

export interface MetricDimension {
  Name: string;
  Value: string;
}

/** Structurally the SDK's MetricDatum (the fields used here). */
export interface MetricDatum {
  MetricName: string;
  Dimensions?: MetricDimension[];
  Timestamp: Date;
  Unit: MetricUnit;
  Values: number[];
  Counts: number[];
}

/** PutMetricData rejects timestamps older than two weeks or more than two hours ahead (with a margin). */
const MAX_AGE_MS = 14 * 24 * 3600_000 - 10 * 60_000;
const MAX_AHEAD_MS = 2 * 3600_000 - 10 * 60_000;

export const METRIC_NAMES = [
  "Calls",
  "Errors",
  "AccessDenied",
  "DestructiveCalls",
  "Alerts",
  "RecordsRead",
  "MalformedRecords",
  "DuplicatesDropped",
  "Reattributed",
  "DeliveryLag",
  "EventsOutsideMetricRange",
] as const;
export type MetricName = (typeof METRIC_NAMES)[number];

function minute(ms: number): number {
  return Math.floor(ms / 60_000) * 60_000;
}

/** Dimension values must be 1–1024 printable ASCII characters. */
function dimensionValue(value: string): string {
  const ascii = value.replace(/[^\x20-\x7e]/g, "").slice(0, 255);
  return ascii || "unknown";
}

/** Sums samples per metric, dimension set and minute. */
class Tally {
  private readonly counts = new Map<
    string,
    { name: MetricName; dims?: Dims; at: number; values: Map<number, number> }
  >();

  add(name: MetricName, dims: Dims | undefined, at: number, value: number): void {
    const key = `${name}|${dims?.key ?? ""}|${at}`;
    let entry = this.counts.get(key);
    if (!entry) {
      entry = { name, dims, at, values: new Map() };
      this.counts.set(key, entry);
    }
    entry.values.set(value, (entry.values.get(value) ?? 0) + 1);
  }

  datums(unitOf: (name: MetricName) => MetricUnit): MetricDatum[] {
    const out: MetricDatum[] = [];
    const entries = [...this.counts.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    for (const [, e] of entries) {
      const pairs = [...e.values.entries()].sort((a, b) => a[0] - b[0]);
      const datum: MetricDatum = {
        MetricName: e.name,
        Timestamp: new Date(e.at),
        Unit: unitOf(e.name),
        Values: pairs.map(([v]) => v),
        Counts: pairs.map(([, c]) => c),
      };
      if (e.dims) datum.Dimensions = e.dims.list.map((d) => ({ ...d }));
      out.push(datum);
    }
    return out;
  }
}

/** A dimension set with its tally key, built once per distinct value (not per event). */
interface Dims {
  list: MetricDimension[];
  key: string;
}

const dimsCache = new Map<string, Dims>();

function dims(name: string, value: string): Dims {
  const cacheKey = `${name}=${value}`;
  let d = dimsCache.get(cacheKey);
  if (!d) {
    const v = dimensionValue(value);
    d = { list: [{ Name: name, Value: v }], key: `${name}=${v}` };
    if (dimsCache.size < 1000) dimsCache.set(cacheKey, d);
  }
  return d;
}

const byKind = (kind: string): Dims => dims("ActorKind", kind);

/**
 * The per-call metrics of one event under an actor kind. Sign −1 takes a call back from the kind it
 * was first counted under (a re-attributed call), +1 counts it.
 */
function countCall(tally: Tally, e: AuditEvent, kind: ActorKind, at: number, sign: 1 | -1): void {
  const dims = byKind(kind);
  tally.add("Calls", dims, at, sign);
  if (e.error) tally.add("Errors", dims, at, sign);
  if (isAccessDenied(e.error?.code)) tally.add("AccessDenied", dims, at, sign);
  if (!e.error && e.facts["action.destructive"] === true) tally.add("DestructiveCalls", dims, at, sign);
}

/** Aggregates one batch into metric datums. */
export function metricDatums(result: BatchResult): MetricDatum[] {
  const tally = new Tally();
  const processedAt = result.processedAt.getTime();
  const batchMinute = minute(processedAt);
  const inRange = (t: number) => t >= processedAt - MAX_AGE_MS && t <= processedAt + MAX_AHEAD_MS;
  let outOfRange = 0;

  for (const e of result.events) {
    const t = e.time.getTime();
    if (Number.isNaN(t) || !inRange(t)) {
      outOfRange++;
      continue;
    }
    const at = minute(t);
    countCall(tally, e, e.actor.kind, at, 1);
    tally.add("DeliveryLag", undefined, at, Math.max(0, Math.round((processedAt - t) / 1000)));
  }

  // A call first counted under one kind and now decided as another moves: −1 there, +1 here, at its
  // event minute (the dashboards and alarms read Sum, which nets the two).
  for (const { event: e, from } of result.kindChanges ?? []) {
    const t = e.time.getTime();
    if (Number.isNaN(t) || !inRange(t)) continue;
    countCall(tally, e, from, minute(t), -1);
    countCall(tally, e, e.actor.kind, minute(t), 1);
  }

  for (const e of result.reattributed) {
    const t = e.time.getTime();
    const at = Number.isNaN(t) || !inRange(t) ? batchMinute : minute(t);
    tally.add("Reattributed", byKind(e.actor.kind), at, 1);
  }

  for (const a of result.alerts) addAlert(tally, a, batchMinute, inRange);

  const s = result.stats;
  tally.add("RecordsRead", undefined, batchMinute, s.records);
  tally.add("MalformedRecords", undefined, batchMinute, s.malformed);
  tally.add("DuplicatesDropped", undefined, batchMinute, s.duplicates);
  tally.add("Reattributed", undefined, batchMinute, s.reattributed);
  if (outOfRange) tally.add("EventsOutsideMetricRange", undefined, batchMinute, outOfRange);

  return tally.datums((name) => (name === "DeliveryLag" ? "Seconds" : "Count"));
}

/** New alerts only: an "updated" alert is the same alert counting up. */
function addAlert(tally: Tally, alert: Alert, fallback: number, inRange: (t: number) => boolean): void {
  if (alert.status !== "new") return;
  const t = Date.parse(alert.firstSeen);
  const at = Number.isNaN(t) || !inRange(t) ? fallback : minute(t);
  tally.add("Alerts", dims("Severity", alert.severity), at, 1);
  tally.add("Alerts", dims("RuleId", alert.ruleId), at, 1);
}

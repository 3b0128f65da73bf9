/**
 * Sigma correlation rules over minute buckets kept in the Store, so windows span batches (and Lambda
 * invocations). Event time picks the bucket; buckets live for timespan + lateness, so an event that
 * arrives late, within the lateness, still meets the events it belongs with.
 *
 * Per batch: collect() each base-rule match → increments() → (engine writes and reads the store once)
 * → evaluate() the windows that contain this batch's events. A window is [start, start + span - 1] in
 * minutes, starting at a non-empty bucket; at most one hit per correlation group per batch.
 */
import type { AuditEvent } from "../event.ts";
import { sha256Base64url } from "../hash.ts";
import { inMinuteOrder, type WindowBucket, type WindowIncrement } from "../state/store.ts";
import { type CompiledCorrelationRule, conditionHolds } from "./compile.ts";
import { compileField, type FieldAccessor, valueText } from "./fields.ts";
import { describeGroup, groupLookup } from "./groups.ts";
import type { LinkedCorrelation } from "./link.ts";
import type { RuleHit } from "./types.ts";

/** Store keys and bucket values longer than this are hashed (DynamoDB key limits, bounded memory). */
const MAX_KEY_CHARS = 256;
const MAX_VALUE_CHARS = 128;

function bounded(s: string, limit: number): string {
  if (s.length <= limit) return s;
  return `#${sha256Base64url(s)}`;
}

export interface CorrelationPlan {
  rule: CompiledCorrelationRule;
  /** Group-by accessors per base rule (position in rule.ruleRefs), aliases resolved. */
  groupAccessors: FieldAccessor[][];
  valueAccessor?: FieldAccessor;
}

/** The field an alias stands for in events of one base rule (aliases name rules by reference, name or id). */
export function aliasedField(
  aliases: CompiledCorrelationRule["aliases"],
  field: string,
  ref: string,
  base: { name?: string; meta: { id: string } },
): string {
  const byRule = aliases[field];
  if (!byRule) return field;
  return (
    byRule[ref] ?? (base.name !== undefined ? byRule[base.name] : undefined) ?? byRule[base.meta.id] ?? field
  );
}

export function planCorrelation(linked: LinkedCorrelation): CorrelationPlan {
  const { rule, bases } = linked;
  const groupAccessors = rule.ruleRefs.map((ref, k) =>
    rule.groupBy.map((field) => compileField(aliasedField(rule.aliases, field, ref, bases[k]))),
  );
  const plan: CorrelationPlan = { rule, groupAccessors };
  if (rule.valueField) plan.valueAccessor = compileField(rule.valueField);
  return plan;
}

interface MinuteIncrement {
  count: number;
  /** Distinct values (value_count, temporal types; absent for event_count). */
  values?: Set<string>;
}

interface GroupState {
  storeKey: string;
  groupKey: string;
  group: Record<string, string>;
  /** This batch's events in the group (each once). */
  events: AuditEvent[];
  /** By minute (the minutes of this batch's events). */
  increments: Map<number, MinuteIncrement>;
}

interface WindowStat {
  start: number;
  end: number;
  stat: number;
  count: number;
  lastMinute: number;
}

const minuteOf = (e: AuditEvent) => Math.floor(e.time.getTime() / 60_000);

function containsMinuteIn(minutes: ReadonlyMap<number, unknown>, start: number, end: number): boolean {
  for (const m of minutes.keys()) if (m >= start && m <= end) return true;
  return false;
}

/** One batch's worth of window work for one correlation rule. */
export class CorrelationBatch {
  private readonly groups = new Map<string, GroupState>();

  constructor(readonly plan: CorrelationPlan) {}

  get isEmpty(): boolean {
    return this.groups.size === 0;
  }

  /** An event matched base rule number `baseIndex` of this correlation. */
  collect(event: AuditEvent, baseIndex: number): void {
    const ms = event.time.getTime();
    if (!Number.isFinite(ms)) return;
    const minute = Math.floor(ms / 60_000);
    const { rule } = this.plan;
    const accessors = this.plan.groupAccessors[baseIndex];
    const lookup = groupLookup(accessors, event);
    let st = this.groups.get(lookup);
    if (!st) {
      const { groupKey, group } = describeGroup(rule.groupBy, accessors, lookup, event);
      const storeKey = bounded(`corr|${rule.meta.id}|${groupKey}`, MAX_KEY_CHARS);
      st = { storeKey, groupKey, group, events: [], increments: new Map() };
      this.groups.set(lookup, st);
    }
    // an event matching two base rules arrives twice in a row: count it once
    const isNew = st.events[st.events.length - 1] !== event;
    let inc = st.increments.get(minute);
    if (!inc) {
      inc = rule.type === "event_count" ? { count: 0 } : { count: 0, values: new Set() };
      st.increments.set(minute, inc);
    }
    if (isNew) {
      st.events.push(event);
      inc.count++;
    }
    if (rule.type === "value_count") {
      const v = valueText(this.plan.valueAccessor?.first(event));
      if (v !== undefined) inc.values?.add(bounded(v, MAX_VALUE_CHARS));
    } else if (rule.type === "temporal" || rule.type === "temporal_ordered") {
      inc.values?.add(`${baseIndex}@${Math.floor((ms % 60_000) / 1000)}`);
    }
  }

  increments(): WindowIncrement[] {
    const out: WindowIncrement[] = [];
    for (const st of this.groups.values()) {
      for (const [minute, inc] of st.increments) {
        const w: WindowIncrement = { key: st.storeKey, minute, count: inc.count };
        if (inc.values) w.values = [...inc.values];
        out.push(w);
      }
    }
    return out;
  }

  keys(): string[] {
    return [...this.groups.values()].map((st) => st.storeKey);
  }

  /** Earliest and latest bucket minutes this batch's windows can reach. */
  readRange(): [number, number] | undefined {
    let lo = Number.POSITIVE_INFINITY;
    let hi = Number.NEGATIVE_INFINITY;
    for (const st of this.groups.values()) {
      for (const m of st.increments.keys()) {
        if (m < lo) lo = m;
        if (m > hi) hi = m;
      }
    }
    if (lo > hi) return undefined;
    const span = this.plan.rule.spanMinutes;
    return [lo - span + 1, hi + span - 1];
  }

  /** Windows that hold the condition, as hits (only for alerting correlations). */
  evaluate(stored: ReadonlyMap<string, WindowBucket[]>): RuleHit[] {
    const { rule } = this.plan;
    const hits: RuleHit[] = [];
    for (const st of this.groups.values()) {
      const buckets = mergeBuckets(stored.get(st.storeKey) ?? [], st.increments);
      const satisfied = this.satisfiedWindows(st, buckets);
      if (satisfied.length === 0 || !rule.meta.alert) continue;
      let best = satisfied[0];
      for (const w of satisfied)
        if (w.stat > best.stat || (w.stat === best.stat && w.count > best.count)) best = w;
      const events = st.events.filter((e) => {
        const m = minuteOf(e);
        return satisfied.some((w) => m >= w.start && m <= w.end);
      });
      let first = events[0].time.getTime();
      let last = first;
      for (const e of events) {
        const t = e.time.getTime();
        if (t < first) first = t;
        if (t > last) last = t;
      }
      const firstMinute = Math.min(...satisfied.map((w) => w.start));
      const lastMinute = Math.max(...satisfied.map((w) => w.lastMinute));
      // other batches' events are known only to the minute: their minute's start stands for them
      if (firstMinute < Math.floor(first / 60_000)) first = firstMinute * 60_000;
      if (lastMinute > Math.floor(last / 60_000)) last = lastMinute * 60_000;
      hits.push({
        rule: rule.meta,
        groupKey: st.groupKey,
        group: st.group,
        events,
        count: best.count,
        firstSeen: new Date(first),
        lastSeen: new Date(last),
      });
    }
    return hits;
  }

  private satisfiedWindows(st: GroupState, buckets: WindowBucket[]): WindowStat[] {
    const { rule } = this.plan;
    const span = rule.spanMinutes;
    const out: WindowStat[] = [];
    let hi = 0;
    // events in buckets[lo, hi), kept as both ends move right (span >= 1: a window holds its first bucket)
    let count = 0;
    for (let lo = 0; lo < buckets.length; lo++) {
      // candidate windows start at a non-empty bucket and contain one of this batch's minutes
      const start = buckets[lo].minute;
      const end = start + span - 1;
      if (lo > 0) count -= buckets[lo - 1].count;
      while (hi < buckets.length && buckets[hi].minute <= end) count += buckets[hi++].count;
      if (!containsMinuteIn(st.increments, start, end)) continue;
      const stat = this.windowStat(buckets, lo, hi, count);
      if (!conditionHolds(rule.condition, stat)) continue;
      // buckets[lo] starts the window and buckets[hi - 1] is in it (span >= 1)
      out.push({ start, end, stat, count, lastMinute: buckets[hi - 1].minute });
    }
    return out;
  }

  /** The statistic of buckets[lo, hi) (one window): event count, distinct values or rules seen in order. */
  private windowStat(buckets: WindowBucket[], lo: number, hi: number, count: number): number {
    switch (this.plan.rule.type) {
      case "event_count":
        return count;
      case "value_count": {
        const distinct = new Set<string>();
        for (let k = lo; k < hi; k++) for (const v of buckets[k].values) distinct.add(v);
        return distinct.size;
      }
      case "temporal": {
        const seen = new Set<string>();
        for (let k = lo; k < hi; k++) for (const v of buckets[k].values) seen.add(v.slice(0, v.indexOf("@")));
        return seen.size;
      }
      case "temporal_ordered": {
        const occurrences: [number, number][] = [];
        for (let k = lo; k < hi; k++) {
          for (const v of buckets[k].values) {
            const at = v.indexOf("@");
            occurrences.push([buckets[k].minute * 60 + Number(v.slice(at + 1)), Number(v.slice(0, at))]);
          }
        }
        occurrences.sort((x, y) => x[0] - y[0] || x[1] - y[1]);
        let next = 0;
        for (const [, idx] of occurrences) if (idx === next) next++;
        return next;
      }
    }
  }
}

/**
 * Stored buckets, completed with this batch's own increments in case the store read did not see its
 * own write yet (eventually consistent reads): per minute the larger count and the union of values.
 * Stored buckets are only read: one is copied only when an increment adds to it, which a store that
 * saw the write never needs.
 */
function mergeBuckets(stored: WindowBucket[], local: ReadonlyMap<number, MinuteIncrement>): WindowBucket[] {
  const merged: WindowBucket[] = [];
  let seen = 0;
  for (const b of stored) {
    const inc = local.get(b.minute);
    if (!inc) {
      merged.push(b);
      continue;
    }
    seen++;
    const missing = inc.values ? [...inc.values].filter((v) => !b.values.includes(v)) : [];
    if (inc.count <= b.count && missing.length === 0) merged.push(b);
    else
      merged.push({
        minute: b.minute,
        count: Math.max(b.count, inc.count),
        values: [...b.values, ...missing],
      });
  }
  if (seen < local.size) {
    for (const [minute, inc] of local) {
      if (!stored.some((b) => b.minute === minute)) {
        merged.push({ minute, count: inc.count, values: [...(inc.values ?? [])] });
      }
    }
  }
  return inMinuteOrder(merged);
}

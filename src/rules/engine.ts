/**
 * The rule engine: evaluates compiled Sigma rules over a batch of events. Each event meets only the
 * rules the index says can match it; single-event hits are grouped per rule and alert group; base
 * rule matches feed correlation windows in the store (one addToWindows and one readWindows per batch).
 */
import type { Detector } from "../batch.ts";
import type { Config } from "../config.ts";
import type { AuditEvent } from "../event.ts";
import type { Store, WindowBucket } from "../state/store.ts";
import type { CompiledDetectionRule, CompiledRule } from "./compile.ts";
import { CorrelationBatch, type CorrelationPlan, planCorrelation } from "./correlation.ts";
import { describeGroup, groupLookup } from "./fields.ts";
import { linkRules, type RuleProblem } from "./link.ts";
import { RuleIndex } from "./rule-index.ts";
import type { RuleHit } from "./types.ts";

/** Where a detection rule's matches go: correlations (index into plans) and the base rule's position there. */
interface Feed {
  plan: number;
  base: number;
}

export class RuleEngine implements Detector {
  readonly index: RuleIndex;
  /** Rules as linked (meta.alert settled). */
  readonly rules: readonly CompiledRule[];
  /** Rules the engine could not use (duplicate ids, broken correlation references). */
  readonly problems: readonly RuleProblem[];
  private readonly plans: CorrelationPlan[];
  private readonly feeds: Map<CompiledDetectionRule, Feed[]>;
  private readonly windowTtlSeconds: number;

  constructor(rules: readonly CompiledRule[], config: Pick<Config, "latenessMinutes">) {
    const linked = linkRules(rules);
    this.rules = linked.rules;
    this.problems = linked.problems;
    this.plans = linked.correlations.map(planCorrelation);
    this.feeds = new Map();
    linked.correlations.forEach((c, plan) => {
      c.bases.forEach((rule, base) => {
        let list = this.feeds.get(rule);
        if (!list) {
          list = [];
          this.feeds.set(rule, list);
        }
        list.push({ plan, base });
      });
    });
    // a detection rule that neither alerts nor feeds a correlation has nothing to do
    this.index = new RuleIndex(linked.detections.filter((r) => r.meta.alert || this.feeds.has(r)));
    const maxSpan = Math.max(0, ...this.plans.map((p) => p.rule.spanMinutes));
    this.windowTtlSeconds = (maxSpan + config.latenessMinutes) * 60;
  }

  async detect(events: AuditEvent[], store: Store): Promise<RuleHit[]> {
    const single: SingleHits = new Map();
    const batches = this.plans.map((p) => new CorrelationBatch(p));
    for (const event of events) {
      const candidates = this.index.candidatesFor(event);
      for (let k = 0; k < candidates.length; k++) {
        const rule = candidates[k];
        if (!rule.match(event)) continue;
        if (rule.meta.alert) addSingleHit(single, rule, event);
        const feeds = this.feeds.get(rule);
        if (feeds) for (const f of feeds) batches[f.plan].collect(event, f.base);
      }
    }
    const hits: RuleHit[] = [];
    for (const byGroup of single.values()) for (const hit of byGroup.values()) hits.push(hit);
    const active = batches.filter((b) => !b.isEmpty);
    if (active.length === 0) return hits;

    const increments = active.flatMap((b) => b.increments());
    const keys = active.flatMap((b) => b.keys());
    let from = Number.POSITIVE_INFINITY;
    let to = Number.NEGATIVE_INFINITY;
    for (const b of active) {
      const range = b.readRange();
      if (!range) continue;
      if (range[0] < from) from = range[0];
      if (range[1] > to) to = range[1];
    }
    await store.addToWindows(increments, this.windowTtlSeconds);
    const stored: Map<string, WindowBucket[]> =
      from <= to ? await store.readWindows(keys, from, to) : new Map<string, WindowBucket[]>();
    for (const b of active) hits.push(...b.evaluate(stored));
    return hits;
  }
}

type SingleHits = Map<CompiledDetectionRule, Map<string, RuleHit>>;

/** Groups a match into its rule's hit for this batch; builds strings only for a new group. */
function addSingleHit(hits: SingleHits, rule: CompiledDetectionRule, event: AuditEvent): void {
  let byGroup = hits.get(rule);
  if (!byGroup) {
    byGroup = new Map();
    hits.set(rule, byGroup);
  }
  const lookup = groupLookup(rule.groupBy, event);
  const hit = byGroup.get(lookup);
  if (hit) {
    hit.events.push(event);
    hit.count++;
    // Compared as numbers: a Date compared with < goes through ToPrimitive on each call.
    const t = event.time.getTime();
    if (t < hit.firstSeen.getTime()) hit.firstSeen = event.time;
    if (t > hit.lastSeen.getTime()) hit.lastSeen = event.time;
    return;
  }
  const { groupKey, group } = describeGroup(rule.meta.groupBy, rule.groupBy, lookup, event);
  byGroup.set(lookup, {
    rule: rule.meta,
    groupKey,
    group,
    events: [event],
    count: 1,
    firstSeen: event.time,
    lastSeen: event.time,
  });
}

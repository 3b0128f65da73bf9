/**
 * The rule engine: evaluates compiled Sigma rules over a batch of events. Each event meets only the
 * rules the index says can match it; single-event hits are grouped per rule and alert group; base
 * rule matches feed correlation windows in the store (one addToWindows, under an id of the batch so
 * that a retried batch does not add twice, and one readWindows per batch).
 */
import type { Detector } from "../batch.ts";
import type { Config } from "../config.ts";
import { type AuditEvent, eventKey } from "../event.ts";
import { sha256Base64url } from "../hash.ts";
import type { Store, WindowBucket, WindowIncrement } from "../state/store.ts";
import type { CompiledDetectionRule } from "./compile.ts";
import { CorrelationBatch, type CorrelationPlan, planCorrelation } from "./correlation.ts";
import type { IndexRequirements } from "./detection.ts";
import { GroupDescriptions, groupLookup } from "./groups.ts";
import type { LinkedRules } from "./link.ts";
import { RuleIndex } from "./rule-index.ts";
import type { RuleHit } from "./types.ts";
import type { EventPredicate } from "./values.ts";

/** Where a detection rule's matches go: correlations (index into plans) and the base rule's position there. */
interface Feed {
  plan: number;
  base: number;
}

/**
 * A detection rule with what its matches do, resolved once: what the index hands the detect loop.
 * `match` and `alert` are copied out of the rule for that loop (every candidate of every event): routes
 * all have one shape, rules several (linking spreads some, `name` is optional), so the reads stay
 * monomorphic. `requires` is what RuleIndex indexes by.
 */
interface Route {
  readonly rule: CompiledDetectionRule;
  readonly match: EventPredicate;
  readonly requires: IndexRequirements;
  /** Index of the route in the engine's list: where a batch keeps the rule's hits. */
  readonly position: number;
  readonly alert: boolean;
  readonly feeds: readonly Feed[];
  /** The rule's alert groups, described once per run. */
  readonly groups: GroupDescriptions;
}

export class RuleEngine implements Detector {
  readonly index: RuleIndex<Route>;
  private readonly plans: CorrelationPlan[];
  private readonly windowTtlSeconds: number;

  /** @param linked the rules as they run, linked with the configuration's tuning (tuneRules). */
  constructor(linked: LinkedRules, config: Pick<Config, "latenessMinutes">) {
    this.plans = linked.correlations.map(planCorrelation);
    const feeds = new Map<CompiledDetectionRule, Feed[]>();
    linked.correlations.forEach((c, plan) => {
      c.bases.forEach((rule, base) => {
        let list = feeds.get(rule);
        if (!list) {
          list = [];
          feeds.set(rule, list);
        }
        list.push({ plan, base });
      });
    });
    const routes: Route[] = [];
    for (const rule of linked.detections) {
      // a detection rule that neither alerts nor feeds a correlation has nothing to do
      if (!rule.meta.alert && !feeds.has(rule)) continue;
      const { match, requires, meta } = rule;
      routes.push({
        rule,
        match,
        requires,
        position: routes.length,
        alert: meta.alert,
        feeds: feeds.get(rule) ?? [],
        groups: new GroupDescriptions(meta.groupBy, rule.groupBy),
      });
    }
    this.index = new RuleIndex(routes);
    const maxSpan = Math.max(0, ...this.plans.map((p) => p.rule.spanMinutes));
    this.windowTtlSeconds = (maxSpan + config.latenessMinutes) * 60;
  }

  async detect(events: AuditEvent[], store: Store, batchKeys?: readonly string[]): Promise<RuleHit[]> {
    const single = new SingleHits(this.index.rules.length);
    const batches = this.plans.map((p) => new CorrelationBatch(p));
    matchEvents(events, this.index, single, batches);
    const hits = single.hits();
    const active = batches.filter((b) => !b.isEmpty);
    if (active.length === 0) return hits;

    const { increments, keys, from, to } = windowWork(active);
    await this.addOnce(increments, batchKeys ?? events.map(eventKey), store);
    const stored: Map<string, WindowBucket[]> =
      from <= to ? await store.readWindows(keys, from, to) : new Map<string, WindowBucket[]>();
    for (const b of active) hits.push(...b.evaluate(stored));
    return hits;
  }

  /**
   * Adds a batch's window counts, once. They are written before the batch is published, so that
   * batches running at the same time (Lambda invocations) see each other's; a batch retried after a
   * failed publish holds the same events, so it has the same id, and the store adds only to the
   * buckets this id has not added to (a first run may have stopped half-way). The id names every
   * event of the batch (`batchKeys`, see Detector), not the ones that fed nor the increments they
   * make: a retry under rules deployed in between (a correlation added, more of its events feeding),
   * or one that no longer revives a parked call, still counts each event once.
   */
  private async addOnce(
    increments: WindowIncrement[],
    batchKeys: readonly string[],
    store: Store,
  ): Promise<void> {
    // 96 bits of the hash: a bucket keeps up to a thousand batch ids, each costing item size.
    const batchId = sha256Base64url(batchKeys.join("\n")).slice(0, 16);
    await store.addToWindows(increments, this.windowTtlSeconds, batchId);
  }
}

/**
 * Runs each event past the rules the index names for it: a match makes a single-event hit and feeds
 * the rule's correlations. A function of its own, not part of the async detect: V8 optimises this
 * loop with what it inlines, and recompiling it after a deoptimisation does not recompile detect's
 * async state machine and its store calls with it.
 */
function matchEvents(
  events: readonly AuditEvent[],
  index: RuleIndex<Route>,
  single: SingleHits,
  batches: readonly CorrelationBatch[],
): void {
  for (let i = 0; i < events.length; i++) {
    const event = events[i];
    const candidates = index.candidatesFor(event);
    for (let k = 0; k < candidates.length; k++) {
      const route = candidates[k];
      if (!route.match(event)) continue;
      if (route.alert) single.add(route, event);
      const feeds = route.feeds;
      for (let f = 0; f < feeds.length; f++) batches[feeds[f].plan].collect(event, feeds[f].base);
    }
  }
}

/**
 * What the active correlations of a batch write and read: their window increments, the window keys
 * and the minutes to read. Indexed loops, not flatMap (several times the cost on these short arrays)
 * nor for-of: its iterator, meeting arrays of several element kinds, deoptimised 28 times in a bench
 * run; and out of the async detect (see matchEvents).
 */
function windowWork(active: readonly CorrelationBatch[]): {
  increments: WindowIncrement[];
  keys: string[];
  from: number;
  to: number;
} {
  const increments: WindowIncrement[] = [];
  const keys: string[] = [];
  let from = Number.POSITIVE_INFINITY;
  let to = Number.NEGATIVE_INFINITY;
  for (let a = 0; a < active.length; a++) {
    const b = active[a];
    const incs = b.increments();
    for (let i = 0; i < incs.length; i++) increments.push(incs[i]);
    const ks = b.keys();
    for (let i = 0; i < ks.length; i++) keys.push(ks[i]);
    const range = b.readRange();
    if (range) {
      if (range[0] < from) from = range[0];
      if (range[1] > to) to = range[1];
    }
  }
  return { increments, keys, from, to };
}

/** One batch's single-event hits, per rule and alert group; builds strings only for a new group. */
class SingleHits {
  /** Per route position: the rule's hits by group lookup (see groupLookup). */
  private readonly byRoute: (Map<string, RuleHit> | undefined)[];
  /** The same maps, in the order their rules first matched: the order hits are reported in. */
  private readonly inOrder: Map<string, RuleHit>[] = [];

  constructor(routes: number) {
    this.byRoute = new Array(routes).fill(undefined);
  }

  add(route: Route, event: AuditEvent): void {
    const { rule } = route;
    let byGroup = this.byRoute[route.position];
    if (!byGroup) {
      byGroup = new Map();
      this.byRoute[route.position] = byGroup;
      this.inOrder.push(byGroup);
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
    const { groupKey, group } = route.groups.of(lookup, event);
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

  hits(): RuleHit[] {
    const hits: RuleHit[] = [];
    for (const byGroup of this.inOrder) for (const hit of byGroup.values()) hits.push(hit);
    return hits;
  }
}

/**
 * Alerts: the feed a responder reads. Built from rule hits with dedup and suppression.
 *
 * Lifecycle: the first match of a rule for a group (rule.groupBy values) opens a suppression window
 * at that event's time and fires at once (status "new"). Later matches for the same rule and group
 * whose event time falls in the window raise the count of the same alert (status "updated") instead of
 * making new alerts. Windows are kept in the store (getItems/putItems, one call each per batch) under
 * `alert|<sha256Hex(rule, group)>`, with the event ids already counted, so a replayed batch neither counts
 * an event twice nor makes a new alert. Alert ids are sha256Hex(rule, group, window start): a replay makes
 * the same id.
 */

import { alertTitle } from "./alerts/title.ts";
import type { Config } from "./config.ts";
import { type Actor, type ActorKind, type AuditEvent, CONFIDENCE_RANK } from "./event.ts";
import { sha256Hex } from "./hash.ts";
import { isObject } from "./json-values.ts";
import type { Level, RuleHit, RuleMeta } from "./rules/types.ts";
import { cleanActor, cleanedList, cleanedTags, cleanText, knownActorKind, redactRecord } from "./sanitize.ts";
import type { Store } from "./state/store.ts";

export { alertMessageAttributes, renderAlertText, type StringAttribute } from "./alerts/render.ts";
export { actorPhrase, alertTitle } from "./alerts/title.ts";

export interface Alert {
  /** Deterministic from rule + group + suppression window start: a replay makes the same id. */
  id: string;
  ruleId: string;
  title: string;
  severity: Level;
  actor: Actor;
  /** The principal (ARN or name) the alert is about. */
  principal: string;
  account: string;
  region: string;
  firstSeen: string;
  lastSeen: string;
  count: number;
  /** Capped list of contributing event ids. */
  eventIds: string[];
  /** A few redacted, truncated records. */
  sample: Record<string, unknown>[];
  description?: string;
  runbook?: string;
  /** The rule's known false positives (Sigma `falsepositives`), for the responder's triage. */
  falsePositives?: readonly string[];
  /** The rule's Sigma tags, e.g. ATT&CK `attack.defense-evasion`, `attack.t1562.008`. */
  tags?: readonly string[];
  /** new: first match in its suppression window (publish); updated: a later match raised the count. */
  status: "new" | "updated";
  /** The rule's title (the alert title is about the events). */
  ruleTitle?: string;
  /** The rule's group-by values that identify this alert group (cleaned). */
  group?: Record<string, string>;
  /** ISO start of the suppression window (event time of the first match). */
  windowStart?: string;
  /** Set on an "updated" alert whose severity went up (e.g. a failed attempt, then a successful one). */
  escalatedFrom?: Level;
}

export const LEVELS: readonly Level[] = ["informational", "low", "medium", "high", "critical"];
export const DEFAULT_SUPPRESSION_MINUTES = 60;
/** Event ids listed on an alert. */
export const MAX_ALERT_EVENT_IDS = 50;
/**
 * Event ids remembered per suppression window to make replays idempotent (as 40-bit hash prefixes,
 * ~12 KB). Beyond this, an event counts only if it is later than every event counted so far: a replay
 * then cannot double count, at the price of missing late out-of-order events in a window that busy.
 */
export const MAX_TRACKED_EVENT_IDS = 1000;
/** Windows remembered per rule and group (the latest ones): enough for out-of-order files. */
export const MAX_WINDOWS_PER_GROUP = 4;
export const MAX_SAMPLE_RECORDS = 3;
/** Serialised size cap of one sample record; larger ones are re-redacted with shorter strings, then summarised. */
export const MAX_SAMPLE_RECORD_BYTES = 8 * 1024;

export function levelRank(level: Level): number {
  return LEVEL_RANKS.get(level) ?? 0;
}

const LEVEL_RANKS = new Map(LEVELS.map((level, rank) => [level, rank]));

/** Alerts in the order they began, then by id: the terminal feed's and alerts.jsonl's order. */
export function byFirstSeen(a: Alert, b: Alert): number {
  if (a.firstSeen !== b.firstSeen) return a.firstSeen < b.firstSeen ? -1 : 1;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

function maxLevel(a: Level, b: Level): Level {
  return levelRank(a) >= levelRank(b) ? a : b;
}

function minLevel(a: Level, b: Level): Level {
  return levelRank(a) <= levelRank(b) ? a : b;
}

/** Deterministic alert id: 32 hex characters of sha256Hex(rule id, group key, window start). */
export function alertId(ruleId: string, groupKey: string, windowStart: Date): string {
  return sha256Hex(`${ruleId}\u0000${groupKey}\u0000${windowStart.toISOString()}`).slice(0, 32);
}

/** Store item key of a rule and group's suppression state. */
export function suppressionKey(ruleId: string, groupKey: string): string {
  // Looked up by rule, then group key, so a cache hit builds no joined string.
  let byGroup = suppressionKeys.get(ruleId);
  if (!byGroup) {
    byGroup = new Map();
    suppressionKeys.set(ruleId, byGroup);
  }
  let key = byGroup.get(groupKey);
  if (key === undefined) {
    key = `alert|${sha256Hex(`${ruleId}\u0000${groupKey}`).slice(0, 40)}`;
    if (cachedSuppressionKeys >= MAX_CACHED_SUPPRESSION_KEYS) {
      for (const m of suppressionKeys.values()) m.clear();
      cachedSuppressionKeys = 0;
    }
    byGroup.set(groupKey, key);
    cachedSuppressionKeys++;
  }
  return key;
}

/** The same rule and group hit batch after batch: each key is hashed once (a cache, not state). */
const MAX_CACHED_SUPPRESSION_KEYS = 10_000;
const suppressionKeys = new Map<string, Map<string, string>>();
let cachedSuppressionKeys = 0;

/** Severity of a match: the rule's level, raised by levelIfAi for AI actors, lowered by levelIfFailed when every call failed. */
export function hitSeverity(rule: RuleMeta, events: readonly AuditEvent[]): Level {
  let level = rule.level;
  if (rule.levelIfAi && events.some((e) => e.actor.kind === "ai")) level = maxLevel(level, rule.levelIfAi);
  if (rule.levelIfFailed && events.length > 0 && events.every((e) => e.error)) {
    level = minLevel(level, rule.levelIfFailed);
  }
  return level;
}

/** One suppression window as stored. Times in epoch ms (event time). */
interface WindowState {
  id: string;
  start: number;
  firstSeen: number;
  lastSeen: number;
  count: number;
  severity: Level;
  /** First MAX_ALERT_EVENT_IDS event ids, readable. */
  eventIds: string[];
  /** Hash prefixes of the event ids counted (≤ MAX_TRACKED_EVENT_IDS). */
  seen: string[];
  /** Latest event time counted. */
  maxCounted: number;
}

interface GroupState {
  v: 1;
  windows: WindowState[];
}

function isGroupState(value: unknown): value is GroupState {
  return isObject(value) && value.v === 1 && Array.isArray(value.windows);
}

/**
 * 40 bits of a fast non-cryptographic hash (two FNV-1a 32-bit lanes): enough to tell a window's
 * counted event ids apart, at a fraction of sha256's cost on the hot path. Not for anything secret.
 */
function eventHash(eventId: string): string {
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ eventId.length;
  for (let i = 0; i < eventId.length; i++) {
    const c = eventId.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995) ^ (b >>> 15);
  }
  // Ten hex digits: all of a, the low byte of b, made as one string (no number formatting, no joins).
  const hex = HEX_CODES;
  return String.fromCharCode(
    hex[a >>> 28],
    hex[(a >>> 24) & 15],
    hex[(a >>> 20) & 15],
    hex[(a >>> 16) & 15],
    hex[(a >>> 12) & 15],
    hex[(a >>> 8) & 15],
    hex[(a >>> 4) & 15],
    hex[a & 15],
    hex[(b >>> 4) & 15],
    hex[b & 15],
  );
}

const HEX_CODES: readonly number[] = Array.from("0123456789abcdef", (c) => c.charCodeAt(0));

/** Events of a hit checked against a window's counted hashes by scanning the list; more build a set. */
const SEEN_SCAN_MAX_EVENTS = 8;

/** The window an event time belongs to: one that contains it, else one it precedes by less than a window (a late event). */
function findWindow(windows: WindowState[], time: number, spanMs: number): WindowState | undefined {
  for (let i = windows.length - 1; i >= 0; i--) {
    const w = windows[i];
    if (w.start <= time && time < w.start + spanMs) return w;
  }
  for (const w of windows) if (time < w.start && time >= w.start - spanMs) return w;
  return undefined;
}

/** A window touched by this batch, with what the alert needs. */
interface Touched {
  rule: RuleMeta;
  group: Record<string, string>;
  stateKey: string;
  window: WindowState;
  isNew: boolean;
  /** Severity before this batch (for an updated window). */
  previousSeverity?: Level;
  /**
   * The window's events in this batch, once each by id (see addAlertEvents): the first hit's own
   * list until a second hit adds to it, then a copy indexed by `eventIndex`.
   */
  events: AuditEvent[];
  /** Positions in `events` by event id, made (with the copy) when a second hit adds to them. */
  eventIndex?: Map<string, number>;
}

/** Events of the batch's touched windows kept for the alert (title, actor, sample, regions). */
const MAX_ALERT_EVENTS = 1000;

export interface AlertPlan {
  /** New alerts and alerts whose count (or severity) went up. */
  alerts: Alert[];
  /** Writes the suppression state; call after the alerts were published so a failed publish is retried as new. */
  commit(): Promise<void>;
}

function suppressionMs(rule: RuleMeta, config: Config): number {
  const minutes = rule.suppressionMinutes ?? config.suppressionMinutes ?? DEFAULT_SUPPRESSION_MINUTES;
  return Math.max(0, minutes) * 60_000;
}

function time(value: Date | undefined, fallback: number): number {
  const t = value?.getTime();
  return t === undefined || Number.isNaN(t) ? fallback : t;
}

/** The window of `state` an event time belongs to; opens one when none does (`created`). */
function windowAt(
  state: GroupState,
  at: number,
  spanMs: number,
  hit: RuleHit,
): { window: WindowState; created: boolean } {
  const found = findWindow(state.windows, at, spanMs);
  if (found) return { window: found, created: false };
  const window: WindowState = {
    id: alertId(hit.rule.id, hit.groupKey, new Date(at)),
    start: at,
    firstSeen: at,
    lastSeen: at,
    count: 0,
    severity: hit.rule.level,
    eventIds: [],
    seen: [],
    maxCounted: 0,
  };
  state.windows.push(window);
  state.windows.sort((x, y) => x.start - y.start);
  return { window, created: true };
}

/** The events of one hit that fall in one window. */
interface Slot {
  window: WindowState;
  events: AuditEvent[];
  /** The window was opened by this hit. */
  created: boolean;
}

/**
 * A hit's events (in time order) split over the windows of `state` they fall in, opening windows as
 * needed; the window of the first event (or of the hit, for a correlation without events here) comes
 * first, the others in order of appearance. Most hits fall in one window, whose slot shares `events`.
 */
function slotsOf(state: GroupState, hit: RuleHit, events: AuditEvent[], spanMs: number, now: number): Slot[] {
  const opened = windowAt(state, time(events.length ? events[0].time : hit.firstSeen, now), spanMs, hit);
  const first = opened.window;
  const slots: Slot[] = [{ window: first, events, created: opened.created }];
  // events[0] is in `first`: the split starts with the second event. The first slot shares `events`
  // until an event falls in another window.
  for (let i = 1; i < events.length; i++) {
    const { window: w, created } = windowAt(state, time(events[i].time, now), spanMs, hit);
    if (slots[0].events === events) {
      if (w === first) continue;
      slots[0].events = events.slice(0, i);
    }
    let slot = slots.find((s) => s.window === w);
    if (!slot) {
      slot = { window: w, events: [], created };
      slots.push(slot);
    }
    slot.events.push(events[i]);
  }
  return slots;
}

/**
 * A stored group state as this batch may change it: the state and its windows are copied (the store
 * hands out what it holds, and nothing may change before commit). A window's lists are shared with
 * the stored one: they are replaced when events are counted, never changed in place.
 */
function editableState(stored: unknown): GroupState {
  if (!isGroupState(stored)) return { v: 1, windows: [] };
  return { ...stored, windows: stored.windows.map(editableWindow) };
}

/** A copy of a stored window, field by field in the stored order (an object spread of it cost more). */
function editableWindow(w: WindowState): WindowState {
  return {
    id: w.id,
    start: w.start,
    firstSeen: w.firstSeen,
    lastSeen: w.lastSeen,
    count: w.count,
    severity: w.severity,
    eventIds: w.eventIds,
    // Stored state is this module's own, but an item edited by hand must not stop the batch.
    seen: Array.isArray(w.seen) ? w.seen : [],
    maxCounted: w.maxCounted,
  };
}

/**
 * Counts the events of `slot` that its window has not counted, as hash prefixes of their ids
 * (`seen`, a set of the window's list for many events, or undefined to scan the list).
 * Returns how many were counted.
 */
function countEvents(slot: Slot, seen: Set<string> | undefined, now: number): number {
  const w = slot.window;
  // Hashes and ids counted here go to scratch lists first, then replace the window's lists.
  let hashes = 0;
  let ids = 0;
  let fresh = 0;
  for (const e of slot.events) {
    const h = eventHash(e.id);
    if (seen ? seen.has(h) : w.seen.includes(h) || includesFirst(scratchHashes, hashes, h)) continue;
    const t = time(e.time, now);
    if (w.seen.length + hashes < MAX_TRACKED_EVENT_IDS) {
      seen?.add(h);
      scratchHashes[hashes++] = h;
    } else if (t <= w.maxCounted) continue; // untracked and not later than what was counted: maybe a replay
    fresh++;
    w.maxCounted = Math.max(w.maxCounted, t);
    if (w.eventIds.length + ids < MAX_ALERT_EVENT_IDS) scratchIds[ids++] = cleanText(e.id, 128);
    w.firstSeen = Math.min(w.firstSeen, t);
    w.lastSeen = Math.max(w.lastSeen, t);
  }
  if (hashes) w.seen = appended(w.seen, scratchHashes, hashes);
  if (ids) w.eventIds = appended(w.eventIds, scratchIds, ids);
  return fresh;
}

/** Scratch lists of countEvents, reused from call to call (only their first entries are current). */
const scratchHashes: string[] = [];
const scratchIds: string[] = [];

function includesFirst(list: string[], count: number, value: string): boolean {
  for (let i = 0; i < count; i++) if (list[i] === value) return true;
  return false;
}

/** A new list of `list` and the first `count` of `extra`, allocated at its final size. */
function appended(list: string[], extra: string[], count: number): string[] {
  const out = new Array<string>(list.length + count);
  for (let i = 0; i < list.length; i++) out[i] = list[i];
  for (let i = 0; i < count; i++) out[list.length + i] = extra[i];
  return out;
}

/**
 * Adds a slot's events to its window's alert as a Map by event id would keep them (a repeated id
 * keeps its place and takes the later event), up to MAX_ALERT_EVENTS. The first hit's list is taken
 * as it is when its ids are distinct (they are: a hit holds each event once); lists are merged by id
 * only when a second hit adds to the same window.
 */
function addAlertEvents(entry: Touched, events: AuditEvent[]): void {
  if (entry.events.length === 0 && !entry.eventIndex && distinctIds(events)) {
    entry.events = events.length > MAX_ALERT_EVENTS ? events.slice(0, MAX_ALERT_EVENTS) : events;
    return;
  }
  let index = entry.eventIndex;
  if (!index) {
    entry.events = entry.events.slice();
    index = new Map();
    for (let i = 0; i < entry.events.length; i++) index.set(entry.events[i].id, i);
    entry.eventIndex = index;
  }
  const list = entry.events;
  for (const e of events) {
    if (list.length >= MAX_ALERT_EVENTS) return;
    const at = index.get(e.id);
    if (at === undefined) {
      index.set(e.id, list.length);
      list.push(e);
    } else list[at] = e;
  }
}

function distinctIds(events: AuditEvent[]): boolean {
  if (events.length <= 1) return true;
  if (events.length <= 16) {
    for (let i = 1; i < events.length; i++) {
      for (let j = 0; j < i; j++) if (events[i].id === events[j].id) return false;
    }
    return true;
  }
  return new Set(events.map((e) => e.id)).size === events.length;
}

/** A hit with its state key and the values it is ordered by. */
interface OrderedHit {
  hit: RuleHit;
  stateKey: string;
  at: number;
  /** Position of the hit's rule id among the batch's rule ids, in localeCompare order. */
  ruleRank: number;
}

/**
 * Hits by first event time, then rule id (localeCompare), as a stable sort: the order windows are
 * opened in. Rule ids are ranked once per batch rather than compared with localeCompare per pair.
 */
function inPlanOrder(hits: RuleHit[], stateKeys: string[], now: number): OrderedHit[] {
  const ruleIds = [...new Set(hits.map((h) => h.rule.id))].sort((a, b) => a.localeCompare(b));
  const rankOf = new Map<string, number>();
  let rank = 0;
  for (let i = 0; i < ruleIds.length; i++) {
    if (i > 0 && ruleIds[i - 1].localeCompare(ruleIds[i]) !== 0) rank++;
    rankOf.set(ruleIds[i], rank);
  }
  const ordered = hits.map((hit, i) => ({
    hit,
    stateKey: stateKeys[i],
    at: time(hit.firstSeen, now),
    ruleRank: rankOf.get(hit.rule.id) as number,
  }));
  return ordered.sort((a, b) => a.at - b.at || a.ruleRank - b.ruleRank);
}

/** A hit's events in event-time order (a stable sort; most hits come in order and are not copied). */
function inTimeOrder(events: AuditEvent[], now: number): AuditEvent[] {
  for (let i = 1; i < events.length; i++) {
    if (time(events[i].time, now) < time(events[i - 1].time, now)) {
      return [...events].sort((a, b) => time(a.time, now) - time(b.time, now));
    }
  }
  return events;
}

/**
 * Works out the alerts of a batch's rule hits and the suppression state to store, without storing it.
 * One getItems call; `commit()` makes one putItems call.
 */
export async function planAlerts(hits: readonly RuleHit[], store: Store, config: Config): Promise<AlertPlan> {
  const alertable = hits.filter((h) => h.rule.alert !== false);
  if (alertable.length === 0) return { alerts: [], commit: async () => {} };

  const stateKeys = alertable.map((hit) => suppressionKey(hit.rule.id, hit.groupKey));
  const loaded = await store.getItems<GroupState>([...new Set(stateKeys)]);
  const now = store.now();
  const { states, touched } = countHits(inPlanOrder(alertable, stateKeys, now), loaded, config, now);
  const { alerts, changedKeys, ttlMinutes } = alertsOf(touched, config);
  const commit = async () => {
    const items: { key: string; value: GroupState }[] = [];
    for (const key of changedKeys) {
      const state = states.get(key) as GroupState;
      if (state.windows.length > MAX_WINDOWS_PER_GROUP)
        state.windows = state.windows.slice(-MAX_WINDOWS_PER_GROUP);
      items.push({ key, value: state });
    }
    if (items.length) await store.putItems(items, Math.ceil(ttlMinutes * 60));
  };
  return { alerts, commit };
}

/**
 * Counts hits (in plan order) into their groups' windows, opening windows as needed: the groups'
 * states as changed (copies of the `loaded` ones) and the windows touched. A function of its own, not
 * part of the async planAlerts: V8 optimises this loop on its own (see matchEvents in rules/engine.ts).
 */
function countHits(
  ordered: readonly OrderedHit[],
  loaded: Map<string, GroupState>,
  config: Config,
  now: number,
): { states: Map<string, GroupState>; touched: Map<WindowState, Touched> } {
  const states = new Map<string, GroupState>();
  const seenSets = new Map<WindowState, Set<string>>();
  const touched = new Map<WindowState, Touched>();
  for (let h = 0; h < ordered.length; h++) {
    const { hit, stateKey } = ordered[h];
    let state = states.get(stateKey);
    if (!state) {
      state = editableState(loaded.get(stateKey));
      states.set(stateKey, state);
    }
    const span = Math.max(suppressionMs(hit.rule, config), 1);
    // One hit may span more than a window.
    const events = hit.events.length > 1 ? inTimeOrder(hit.events, now) : hit.events;
    const slots = slotsOf(state, hit, events, span, now);
    const firstWindow = slots[0].window;
    // A correlation hit represents more events than this batch holds: its count is a floor for its first window.
    const countFloor = hit.count > events.length ? hit.count : 0;
    for (const slot of slots) {
      const { window: w, created } = slot;
      // A few events are looked up in the window's list; a set of it pays off only for many.
      let seen = seenSets.get(w);
      if (!seen && slot.events.length > SEEN_SCAN_MAX_EVENTS) {
        seen = new Set(w.seen);
        seenSets.set(w, seen);
      }
      const prior = touched.get(w);
      const countBefore = w.count;
      const severityBefore = w.severity;
      w.count += countEvents(slot, seen, now);
      if (w === firstWindow) {
        w.count = Math.max(w.count, countFloor);
        if (countFloor) {
          w.firstSeen = Math.min(w.firstSeen, time(hit.firstSeen, w.firstSeen));
          w.lastSeen = Math.max(w.lastSeen, time(hit.lastSeen, w.lastSeen));
        }
      }
      if (created) w.count = Math.max(w.count, 1);
      const severity = hitSeverity(hit.rule, slot.events);
      w.severity = created && !prior ? severity : maxLevel(w.severity, severity);

      const changed = created || w.count > countBefore || levelRank(w.severity) > levelRank(severityBefore);
      if (!changed && !prior) continue;
      const entry: Touched = prior ?? {
        rule: hit.rule,
        group: hit.group,
        stateKey,
        window: w,
        isNew: created,
        previousSeverity: created ? undefined : severityBefore,
        events: [],
      };
      addAlertEvents(entry, slot.events);
      touched.set(w, entry);
    }
  }

  return { states, touched };
}

/** The alerts of the touched windows, the state keys they change and how long to keep those. */
function alertsOf(
  touched: Map<WindowState, Touched>,
  config: Config,
): { alerts: Alert[]; changedKeys: Set<string>; ttlMinutes: number } {
  const alerts: Alert[] = [];
  const changedKeys = new Set<string>();
  let ttlMinutes = 60;
  for (const t of touched.values()) {
    alerts.push(toAlert(t));
    changedKeys.add(t.stateKey);
    ttlMinutes = Math.max(ttlMinutes, (2 * suppressionMs(t.rule, config)) / 60_000 + config.latenessMinutes);
  }
  return { alerts, changedKeys, ttlMinutes };
}

/** From rule hits to alerts with dedup and suppression; stores the suppression state at once. */
export async function buildAlerts(hits: RuleHit[], store: Store, config: Config): Promise<Alert[]> {
  const plan = await planAlerts(hits, store, config);
  await plan.commit();
  return plan.alerts;
}

const KIND_RANK: Record<ActorKind, number> = { ai: 3, human: 2, service: 1, unknown: 0 };
/** Evidence items an alert carries (events.jsonl keeps them all). */
const MAX_ALERT_EVIDENCE = 10;

/** The actor an alert is about: an AI verdict first (the alert is about it), then the most confident. */
function pickActor(events: AuditEvent[]): Actor {
  let best: Actor | undefined;
  for (const e of events) {
    const a = e.actor;
    if (!a) continue;
    if (
      !best ||
      KIND_RANK[a.kind] > KIND_RANK[best.kind] ||
      (a.kind === best.kind && CONFIDENCE_RANK[a.confidence] > CONFIDENCE_RANK[best.confidence])
    ) {
      best = a;
    }
  }
  return best ?? { kind: "unknown", confidence: "low", via: "", evidence: [] };
}

/** The first event by an actor of `kind` (a loop: a closure for find was made per alert). */
function firstOfKind(events: AuditEvent[], kind: ActorKind): AuditEvent | undefined {
  for (const e of events) if (e.actor?.kind === kind) return e;
  return undefined;
}

/**
 * What an alert's title, actor and sample are made from. These three are made when first read or
 * serialised (JSON.stringify and structuredClone read getters): most alerts a batch touches are
 * updates superseded before anyone reads them (a replay keeps each alert's last state, SNS sends
 * new alerts and escalations). Their inputs do not change once planned: events of a batch are not
 * changed by later batches, nor a hit's list of them (which `events` may be), and the counts are
 * copied here.
 */
interface AlertSources {
  rule: RuleMeta;
  events: AuditEvent[];
  /** The actor the alert is about, before cleaning. */
  picked: Actor;
  count: number;
  /** Epoch ms. */
  firstSeen: number;
  lastSeen: number;
  /** `picked`, cleaned: what the title is about, whatever is later assigned to `actor`. */
  cleaned?: Actor;
  title?: string;
  actor?: Actor;
  sample?: Record<string, unknown>[];
}

/**
 * Where an alert keeps its sources: a non-enumerable symbol property, which JSON, structuredClone,
 * spreads and equality checks do not see (a WeakMap entry per alert cost more than the rest of the alert).
 */
const SOURCES = Symbol("alert sources");

function sourcesOf(alert: object): AlertSources {
  const sources = (alert as { [SOURCES]?: AlertSources })[SOURCES];
  if (!sources) throw new Error("alert field accessor used on an object that is not a planned alert");
  return sources;
}

function cleanedActorOf(s: AlertSources): Actor {
  s.cleaned ??= cleanActor(s.picked, { maxEvidence: MAX_ALERT_EVIDENCE, evidenceConfidence: false });
  return s.cleaned;
}

function readActor(this: Alert): Actor {
  const s = sourcesOf(this);
  s.actor ??= cleanedActorOf(s);
  return s.actor;
}

function readTitle(this: Alert): string {
  const s = sourcesOf(this);
  s.title ??= alertTitle({
    rule: s.rule,
    events: s.events,
    actor: cleanedActorOf(s),
    count: s.count,
    firstSeen: new Date(s.firstSeen),
    lastSeen: new Date(s.lastSeen),
  });
  return s.title;
}

function readSample(this: Alert): Record<string, unknown>[] {
  const s = sourcesOf(this);
  s.sample ??= s.events.slice(0, MAX_SAMPLE_RECORDS).map((e) => sampleRecord(e.raw));
  return s.sample;
}

/** Accessors shared by every alert, so that alerts keep one shape (and V8's fast properties). */
function lazyProperty<K extends "title" | "actor" | "sample">(
  key: K,
  read: (this: Alert) => Alert[K],
): PropertyDescriptor {
  return {
    enumerable: true,
    configurable: true,
    get: read,
    set(this: Alert, value: Alert[K]) {
      sourcesOf(this)[key] = value as AlertSources[K];
    },
  };
}

const TITLE_PROPERTY = lazyProperty("title", readTitle);
const ACTOR_PROPERTY = lazyProperty("actor", readActor);
const SAMPLE_PROPERTY = lazyProperty("sample", readSample);

/** One sample record, redacted and under MAX_SAMPLE_RECORD_BYTES. */
export function sampleRecord(raw: unknown): Record<string, unknown> {
  const full = redactRecord(raw);
  if (JSON.stringify(full).length <= MAX_SAMPLE_RECORD_BYTES) return full;
  const short = redactRecord(raw, { maxString: 256, maxEntries: 20 });
  if (JSON.stringify(short).length <= MAX_SAMPLE_RECORD_BYTES) return short;
  const r = full as Record<string, unknown>;
  const keep = [
    "eventID",
    "eventTime",
    "eventSource",
    "eventName",
    "awsRegion",
    "recipientAccountId",
    "errorCode",
  ];
  const summary: Record<string, unknown> = { note: "record too large for the sample; fields trimmed" };
  for (const k of keep) if (r[k] !== undefined) summary[k] = cleanText(r[k], 256);
  return summary;
}

/** A rule's texts as alerts carry them, cleaned once per rule rather than once per alert. */
interface RuleTexts {
  ruleId: string;
  ruleTitle: string;
  description?: string;
  runbook?: string;
  falsePositives?: readonly string[];
  tags?: readonly string[];
}

/** Known false positives an alert lists (SigmaHQ rules name one to three). */
const MAX_FALSE_POSITIVES = 5;

const ruleTextsCache = new WeakMap<RuleMeta, RuleTexts>();

function ruleTexts(rule: RuleMeta): RuleTexts {
  let texts = ruleTextsCache.get(rule);
  if (!texts) {
    texts = { ruleId: cleanText(rule.id, 256), ruleTitle: cleanText(rule.title, 256) };
    if (rule.description) texts.description = cleanText(rule.description, 2000).trim();
    if (rule.runbook) texts.runbook = cleanText(rule.runbook, 2000).trim();
    const falsePositives = cleanedList(rule.falsepositives, 300, MAX_FALSE_POSITIVES);
    if (falsePositives) texts.falsePositives = falsePositives;
    const tags = cleanedTags(rule.tags);
    if (tags) texts.tags = tags;
    ruleTextsCache.set(rule, texts);
  }
  return texts;
}

/**
 * ISO form of an epoch-ms time. A window's start and first event repeat on every update of its
 * alert, and a batch's events share seconds: recent texts are kept in a small table indexed by the
 * second (a cache, not state: nothing is made on a hit, and no number is boxed as a map key).
 */
function isoTime(ms: number): string {
  const slot = Math.floor(ms / 1000) & (ISO_CACHE_SIZE - 1);
  if (isoCacheTimes[slot] === ms) return isoCacheTexts[slot];
  const text = isoText(ms);
  isoCacheTimes[slot] = ms;
  isoCacheTexts[slot] = text;
  return text;
}

const ISO_CACHE_SIZE = 4096;
const isoCacheTimes = new Float64Array(ISO_CACHE_SIZE).fill(Number.NaN);
const isoCacheTexts: string[] = new Array(ISO_CACHE_SIZE).fill("");

/**
 * new Date(ms).toISOString() as the text of its minute and the seconds: most times of a replay are
 * new to the table above, and toISOString cost several times as much. Minute texts are kept in a
 * table too, not just the last one: an alert's first and last times are minutes or hours apart.
 */
function isoText(ms: number): string {
  // Fractions and times out of Date's range: as Date makes them (or throws).
  if (!Number.isSafeInteger(ms) || Math.abs(ms) > MAX_DATE_MS) return new Date(ms).toISOString();
  const minute = Math.floor(ms / 60_000);
  const slot = minute & (ISO_MINUTE_CACHE_SIZE - 1);
  if (isoMinutes[slot] !== minute) {
    isoMinutes[slot] = minute;
    isoMinuteTexts[slot] = new Date(minute * 60_000).toISOString().slice(0, -7); // up to the seconds
  }
  const inMinute = ms - minute * 60_000;
  const second = Math.floor(inMinute / 1000);
  const milli = inMinute - second * 1000;
  return milli === 0
    ? isoMinuteTexts[slot] + WHOLE_SECOND_TEXTS[second]
    : `${isoMinuteTexts[slot]}${TWO_DIGITS[second]}.${String(milli).padStart(3, "0")}Z`;
}

const MAX_DATE_MS = 8.64e15;
const ISO_MINUTE_CACHE_SIZE = 2048;
const isoMinutes = new Float64Array(ISO_MINUTE_CACHE_SIZE).fill(Number.NaN);
const isoMinuteTexts: string[] = new Array(ISO_MINUTE_CACHE_SIZE).fill("");
const TWO_DIGITS = Array.from({ length: 60 }, (_, i) => String(i).padStart(2, "0"));
/** "ss.000Z" of each second. */
const WHOLE_SECOND_TEXTS = TWO_DIGITS.map((ss) => `${ss}.000Z`);

/** The regions of an alert's events, cleaned, once each in order of appearance: three, then "…". */
function regionsText(events: AuditEvent[]): string {
  let only = "";
  let several: string[] | undefined;
  let previous: unknown;
  for (let i = 0; i < events.length; i++) {
    const raw = events[i].region;
    // Events of a group mostly share a region: a repeat needs no cleaning.
    if (i > 0 && raw === previous) continue;
    previous = raw;
    const region = cleanText(raw, 32);
    if (!region || region === only || several?.includes(region)) continue;
    if (!only) {
      only = region;
      continue;
    }
    several ??= [only];
    several.push(region);
    if (several.length > 3) break;
  }
  if (!several) return only;
  return several.length > 3 ? `${several.slice(0, 3).join(",")},…` : several.join(",");
}

function cleanGroup(group: Record<string, string> | undefined): Record<string, string> {
  const cleaned: Record<string, string> = {};
  if (!group) return cleaned;
  const keys = Object.keys(group);
  for (let i = 0; i < keys.length && i < 10; i++)
    cleaned[cleanText(keys[i], 128)] = cleanText(group[keys[i]], 256);
  return cleaned;
}

function toAlert(t: Touched): Alert {
  return new (PlannedAlert as unknown as new (t: Touched) => Alert)(t);
}

/**
 * Builds an alert in the order its JSON lists the fields, the lazily made ones (accessors) in their
 * places. Called with `new` so that V8 sizes alerts for all their fields at once (a literal grown
 * field by field reallocated its property store several times); its prototype is Object.prototype,
 * so an alert is a plain object to every reader.
 */
function PlannedAlert(this: Alert, t: Touched): void {
  const events = t.events;
  const w = t.window;
  const texts = ruleTexts(t.rule);
  const picked = pickActor(events);
  // The kind as cleanActor reads it.
  const about = firstOfKind(events, knownActorKind(picked.kind)) ?? events[0];
  const sources: AlertSources = {
    rule: t.rule,
    events,
    picked,
    count: w.count,
    firstSeen: w.firstSeen,
    lastSeen: w.lastSeen,
  };
  this.id = w.id;
  this.ruleId = texts.ruleId;
  Object.defineProperty(this, SOURCES, { value: sources });
  Object.defineProperty(this, "title", TITLE_PROPERTY);
  this.severity = w.severity;
  Object.defineProperty(this, "actor", ACTOR_PROPERTY);
  this.principal = about
    ? cleanText(about.principal.arn || about.principal.display, 512)
    : cleanText(t.group?.["actor.principal"] ?? t.group?.["userIdentity.arn"] ?? "", 512);
  this.account = cleanText(about?.account || about?.principal.account || "", 32);
  this.region = regionsText(events);
  const firstSeen = isoTime(w.firstSeen);
  this.firstSeen = firstSeen;
  this.lastSeen = isoTime(w.lastSeen);
  this.count = w.count;
  this.eventIds = w.eventIds.slice();
  Object.defineProperty(this, "sample", SAMPLE_PROPERTY);
  this.status = t.isNew ? "new" : "updated";
  this.ruleTitle = texts.ruleTitle;
  this.group = cleanGroup(t.group);
  // A window mostly starts with its first event.
  this.windowStart = w.start === w.firstSeen ? firstSeen : isoTime(w.start);
  if (texts.description !== undefined) this.description = texts.description;
  if (texts.runbook !== undefined) this.runbook = texts.runbook;
  if (texts.falsePositives !== undefined) this.falsePositives = texts.falsePositives;
  if (texts.tags !== undefined) this.tags = texts.tags;
  if (!t.isNew && t.previousSeverity && levelRank(w.severity) > levelRank(t.previousSeverity)) {
    this.escalatedFrom = t.previousSeverity;
  }
}
PlannedAlert.prototype = Object.prototype;

/**
 * Alerts: the feed a responder reads. Built from rule hits with dedup and suppression.
 *
 * Lifecycle: the first match of a rule for a group (rule.groupBy values) opens a suppression window
 * at that event's time and fires at once (status "new"). Later matches for the same rule and group
 * whose event time falls in the window raise the count of the same alert (status "updated") instead of
 * making new alerts. Windows are kept in the store (getItems/putItems, one call each per batch) under
 * `alert|<sha256(rule, group)>`, with the event ids already counted, so a replayed batch neither counts
 * an event twice nor makes a new alert. Alert ids are sha256(rule, group, window start): a replay makes
 * the same id.
 */
import { createHash } from "node:crypto";
import { alertTitle } from "./alerts/title.ts";
import type { Config } from "./config.ts";
import type { Actor, ActorKind, AuditEvent, Confidence } from "./event.ts";
import type { Level, RuleHit, RuleMeta } from "./rules/types.ts";
import { cleanActor, cleanText, knownActorKind, redactRecord } from "./sanitize.ts";
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
  const rank = LEVELS.indexOf(level);
  return Math.max(rank, 0);
}

function maxLevel(a: Level, b: Level): Level {
  return levelRank(a) >= levelRank(b) ? a : b;
}

function minLevel(a: Level, b: Level): Level {
  return levelRank(a) <= levelRank(b) ? a : b;
}

function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

/** Deterministic alert id: 32 hex characters of sha256(rule id, group key, window start). */
export function alertId(ruleId: string, groupKey: string, windowStart: Date): string {
  return sha256(`${ruleId}\u0000${groupKey}\u0000${windowStart.toISOString()}`).slice(0, 32);
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
    key = `alert|${sha256(`${ruleId}\u0000${groupKey}`).slice(0, 40)}`;
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
  return (
    typeof value === "object" &&
    value !== null &&
    (value as GroupState).v === 1 &&
    Array.isArray((value as GroupState).windows)
  );
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
  // Ten hex digits: all of a, the low byte of b (from a table: no number formatting per event).
  return (
    HEX_BYTES[a >>> 24] +
    HEX_BYTES[(a >>> 16) & 0xff] +
    HEX_BYTES[(a >>> 8) & 0xff] +
    HEX_BYTES[a & 0xff] +
    HEX_BYTES[b & 0xff]
  );
}

const HEX_BYTES: readonly string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

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
  groupKey: string;
  group: Record<string, string>;
  stateKey: string;
  window: WindowState;
  isNew: boolean;
  /** Severity before this batch (for an updated window). */
  previousSeverity?: Level;
  previousCount: number;
  events: Map<string, AuditEvent>;
}

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

/** The window of `state` an event time belongs to; opens one (and notes it in `perWindow`) when none does. */
function windowAt(
  state: GroupState,
  at: number,
  spanMs: number,
  hit: RuleHit,
  perWindow: Map<WindowState, { events: AuditEvent[]; created: boolean }>,
): WindowState {
  let w = findWindow(state.windows, at, spanMs);
  if (!w) {
    w = {
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
    state.windows.push(w);
    state.windows.sort((x, y) => x.start - y.start);
    perWindow.set(w, { events: [], created: true });
  }
  return w;
}

/**
 * A stored group state as this batch may change it: windows and their lists are copied (the store
 * hands out what it holds, and nothing may change before commit), the strings in them are shared.
 */
function editableState(stored: unknown): GroupState {
  if (!isGroupState(stored)) return { v: 1, windows: [] };
  return {
    ...stored,
    windows: stored.windows.map((w) => ({ ...w, eventIds: w.eventIds.slice(), seen: w.seen.slice() })),
  };
}

/**
 * Works out the alerts of a batch's rule hits and the suppression state to store, without storing it.
 * One getItems call; `commit()` makes one putItems call.
 */
export async function planAlerts(hits: readonly RuleHit[], store: Store, config: Config): Promise<AlertPlan> {
  const alertable = hits.filter((h) => h.rule.alert !== false);
  if (alertable.length === 0) return { alerts: [], commit: async () => {} };

  const stateKeyOf = new Map<RuleHit, string>();
  for (const hit of alertable) stateKeyOf.set(hit, suppressionKey(hit.rule.id, hit.groupKey));
  const loaded = await store.getItems<GroupState>([...new Set(stateKeyOf.values())]);

  const states = new Map<string, GroupState>();
  const seenSets = new Map<WindowState, Set<string>>();
  const touched = new Map<WindowState, Touched>();
  const now = store.now();

  const ordered = [...alertable].sort(
    (a, b) => time(a.firstSeen, now) - time(b.firstSeen, now) || a.rule.id.localeCompare(b.rule.id),
  );
  for (const hit of ordered) {
    const stateKey = stateKeyOf.get(hit) as string;
    let state = states.get(stateKey);
    if (!state) {
      state = editableState(loaded.get(stateKey));
      states.set(stateKey, state);
    }
    const span = Math.max(suppressionMs(hit.rule, config), 1);

    // Split the hit's events over windows in event-time order (one hit may span more than a window).
    const events =
      hit.events.length > 1
        ? [...hit.events].sort((a, b) => time(a.time, now) - time(b.time, now))
        : hit.events;
    const perWindow = new Map<WindowState, { events: AuditEvent[]; created: boolean }>();
    // A correlation hit represents more events than this batch holds: its count is a floor for its first window.
    const firstWindow = windowAt(
      state,
      time(events.length ? events[0].time : hit.firstSeen, now),
      span,
      hit,
      perWindow,
    );
    if (!perWindow.has(firstWindow)) perWindow.set(firstWindow, { events: [], created: false });
    const countFloor = hit.count > events.length ? hit.count : 0;
    for (const e of events) {
      const w = windowAt(state, time(e.time, now), span, hit, perWindow);
      let slot = perWindow.get(w);
      if (!slot) {
        slot = { events: [], created: false };
        perWindow.set(w, slot);
      }
      slot.events.push(e);
    }
    for (const [w, slot] of perWindow) {
      // A few events are looked up in the window's list; a set of it pays off only for many.
      let seen = seenSets.get(w);
      if (!seen && slot.events.length > SEEN_SCAN_MAX_EVENTS) {
        seen = new Set(w.seen);
        seenSets.set(w, seen);
      }
      const prior = touched.get(w);
      const before = { count: w.count, severity: w.severity };
      let fresh = 0;
      for (const e of slot.events) {
        const h = eventHash(e.id);
        if (seen ? seen.has(h) : w.seen.includes(h)) continue;
        const t = time(e.time, now);
        if (w.seen.length < MAX_TRACKED_EVENT_IDS) {
          seen?.add(h);
          w.seen.push(h);
        } else if (t <= w.maxCounted) continue; // untracked and not later than what was counted: maybe a replay
        fresh++;
        w.maxCounted = Math.max(w.maxCounted, t);
        if (w.eventIds.length < MAX_ALERT_EVENT_IDS) w.eventIds.push(cleanText(e.id, 128));
        w.firstSeen = Math.min(w.firstSeen, t);
        w.lastSeen = Math.max(w.lastSeen, t);
      }
      w.count += fresh;
      if (w === firstWindow) {
        w.count = Math.max(w.count, countFloor);
        if (countFloor) {
          w.firstSeen = Math.min(w.firstSeen, time(hit.firstSeen, w.firstSeen));
          w.lastSeen = Math.max(w.lastSeen, time(hit.lastSeen, w.lastSeen));
        }
      }
      if (slot.created) w.count = Math.max(w.count, 1);
      const severity = hitSeverity(hit.rule, slot.events);
      w.severity = slot.created && !prior ? severity : maxLevel(w.severity, severity);

      const changed =
        slot.created || w.count > before.count || levelRank(w.severity) > levelRank(before.severity);
      if (!changed && !prior) continue;
      const entry: Touched = prior ?? {
        rule: hit.rule,
        groupKey: hit.groupKey,
        group: hit.group,
        stateKey,
        window: w,
        isNew: slot.created,
        previousSeverity: slot.created ? undefined : before.severity,
        previousCount: slot.created ? 0 : before.count,
        events: new Map(),
      };
      for (const e of slot.events) if (entry.events.size < 1000) entry.events.set(e.id, e);
      touched.set(w, entry);
    }
  }

  const alerts = [...touched.values()].map(toAlert);
  const changedKeys = new Set([...touched.values()].map((t) => t.stateKey));
  const ttlMinutes = Math.max(
    60,
    ...[...touched.values()].map(
      (t) => (2 * suppressionMs(t.rule, config)) / 60_000 + config.latenessMinutes,
    ),
  );
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

/** From rule hits to alerts with dedup and suppression; stores the suppression state at once. */
export async function buildAlerts(hits: RuleHit[], store: Store, config: Config): Promise<Alert[]> {
  const plan = await planAlerts(hits, store, config);
  await plan.commit();
  return plan.alerts;
}

const CONFIDENCE_RANK: Record<Confidence, number> = { high: 2, medium: 1, low: 0 };
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

/**
 * What an alert's title, actor and sample are made from. These three are made when first read or
 * serialised (JSON.stringify and structuredClone read getters): most alerts a batch touches are
 * updates superseded before anyone reads them (a replay keeps each alert's last state, SNS sends
 * new alerts and escalations). Their inputs do not change once planned: events of a batch are not
 * changed by later batches, and the counts are copied here.
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

const alertSources = new WeakMap<object, AlertSources>();

function sourcesOf(alert: object): AlertSources {
  const sources = alertSources.get(alert);
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
}

const ruleTextsCache = new WeakMap<RuleMeta, RuleTexts>();

function ruleTexts(rule: RuleMeta): RuleTexts {
  let texts = ruleTextsCache.get(rule);
  if (!texts) {
    texts = { ruleId: cleanText(rule.id, 256), ruleTitle: cleanText(rule.title, 256) };
    if (rule.description) texts.description = cleanText(rule.description, 2000).trim();
    if (rule.runbook) texts.runbook = cleanText(rule.runbook, 2000).trim();
    ruleTextsCache.set(rule, texts);
  }
  return texts;
}

/**
 * ISO form of an epoch-ms time. A window's start and first event repeat on every update of its
 * alert, and a batch's events share seconds: each text is made once (a cache, not state).
 */
function isoTime(ms: number): string {
  let text = isoTimes.get(ms);
  if (text === undefined) {
    text = new Date(ms).toISOString();
    if (isoTimes.size >= MAX_CACHED_ISO_TIMES) isoTimes.clear();
    isoTimes.set(ms, text);
  }
  return text;
}

const MAX_CACHED_ISO_TIMES = 10_000;
const isoTimes = new Map<number, string>();

function distinct(values: string[]): string[] {
  return [...new Set(values.filter(Boolean))];
}

function toAlert(t: Touched): Alert {
  const events = [...t.events.values()];
  const w = t.window;
  const texts = ruleTexts(t.rule);
  const picked = pickActor(events);
  const kind = knownActorKind(picked.kind); // as cleanActor reads it
  const about = events.find((e) => e.actor?.kind === kind) ?? events[0];
  const principal = about
    ? cleanText(about.principal.arn || about.principal.display, 512)
    : cleanText(t.group?.["actor.principal"] ?? t.group?.["userIdentity.arn"] ?? "", 512);
  const regions = distinct(events.map((e) => cleanText(e.region, 32)));
  const group: Record<string, string> = {};
  for (const [k, v] of Object.entries(t.group ?? {}).slice(0, 10))
    group[cleanText(k, 128)] = cleanText(v, 256);
  // Built in the order its JSON lists the fields, the lazily made ones (accessors) in their places.
  const alert = { id: w.id, ruleId: texts.ruleId } as Alert;
  alertSources.set(alert, {
    rule: t.rule,
    events,
    picked,
    count: w.count,
    firstSeen: w.firstSeen,
    lastSeen: w.lastSeen,
  });
  Object.defineProperty(alert, "title", TITLE_PROPERTY);
  alert.severity = w.severity;
  Object.defineProperty(alert, "actor", ACTOR_PROPERTY);
  alert.principal = principal;
  alert.account = cleanText(about?.account || about?.principal.account || "", 32);
  alert.region = regions.length > 3 ? `${regions.slice(0, 3).join(",")},…` : regions.join(",");
  alert.firstSeen = isoTime(w.firstSeen);
  alert.lastSeen = isoTime(w.lastSeen);
  alert.count = w.count;
  alert.eventIds = [...w.eventIds];
  Object.defineProperty(alert, "sample", SAMPLE_PROPERTY);
  alert.status = t.isNew ? "new" : "updated";
  alert.ruleTitle = texts.ruleTitle;
  alert.group = group;
  alert.windowStart = isoTime(w.start);
  if (texts.description !== undefined) alert.description = texts.description;
  if (texts.runbook !== undefined) alert.runbook = texts.runbook;
  if (!t.isNew && t.previousSeverity && levelRank(w.severity) > levelRank(t.previousSeverity)) {
    alert.escalatedFrom = t.previousSeverity;
  }
  return alert;
}

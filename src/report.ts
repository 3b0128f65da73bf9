/**
 * What a run (many batches) found: a Sink that counts every event's final verdict as it becomes
 * final and keeps the latest state of every alert, and the summary built from them for the
 * terminal, --format json and summary.json; with `keepEventLines`, also every event's line of
 * events.jsonl (--out). Every string that came from a record is cleaned before it leaves here.
 */
import { type Alert, byFirstSeen, LEVELS, levelRank } from "./alerts.ts";
import type { BatchResult, Sink } from "./batch.ts";
import type {
  Actor,
  ActorKind,
  AuditEvent,
  Confidence,
  Evidence,
  MalformedRecord,
  Principal,
  RecordOrigin,
} from "./event.ts";
import { CONFIDENCE_RANK, eventKey } from "./event.ts";
import { ACTOR_TEXT_MAX, cleanActor, cleanText, EVIDENCE_TEXT_MAX, knownConfidence } from "./sanitize.ts";

/** One line of events.jsonl: the event and its final verdict. */
export interface EventLine {
  id: string;
  time: string;
  service: string;
  action: string;
  account: string;
  region: string;
  principal: string;
  principalType: string;
  sessionName?: string;
  sourceIp: string;
  userAgent: string;
  readOnly?: boolean;
  error?: string;
  actor: Actor;
  source: string;
}

export interface FileFailure {
  source: string;
  reason: string;
}

export interface AiPrincipal {
  principal: string;
  account: string;
  calls: number;
  confidence: Confidence;
  via: string[];
  sessions: string[];
  evidence: { signal: string; value: string; issuedBy?: string; via?: string }[];
  topActions: { action: string; calls: number }[];
}

export interface RunSummary {
  files: { read: number; failed: FileFailure[]; skipped: string[] };
  records: {
    read: number;
    malformed: number;
    duplicates: number;
    skipped: number;
    events: number;
    reattributed: number;
    /** Events still waiting for the STS call that issued their credentials: not in the input (yet). */
    unresolvedSessions: number;
  };
  byKind: Record<ActorKind, number>;
  aiPrincipals: AiPrincipal[];
  timeRange: { first: string; last: string } | null;
  alerts: { total: number; bySeverity: Record<string, number>; byRule: Record<string, number> };
  malformed: MalformedRecord[];
}

/** What an events.jsonl line is made of: an AuditEvent, or what the collector kept of one. */
export type EventLineSource = Pick<
  AuditEvent,
  | "id"
  | "time"
  | "service"
  | "action"
  | "account"
  | "region"
  | "sourceIp"
  | "userAgent"
  | "readOnly"
  | "error"
  | "actor"
> & {
  principal: Pick<Principal, "type" | "arn" | "display" | "sessionName">;
  origin: Pick<RecordOrigin, "source">;
};

/** Caps so a huge replay keeps a readable summary. */
const MAX_LISTED_MALFORMED = 200;
const MAX_LISTED = 20;

/** Longest text (code points) an events.jsonl line keeps of each field; the summary cleans alike. */
const LINE_TEXT_MAX = {
  id: 128,
  service: 128,
  action: 128,
  account: 32,
  region: 32,
  principal: 512,
  principalType: 32,
  sessionName: 128,
  sourceIp: 128,
  userAgent: 512,
  error: 128,
  source: 1024,
} as const;

export function eventLine(e: EventLineSource): EventLine {
  const line: EventLine = {
    id: cleanText(e.id, LINE_TEXT_MAX.id),
    time: e.time.toISOString(),
    service: cleanText(e.service, LINE_TEXT_MAX.service),
    action: cleanText(e.action, LINE_TEXT_MAX.action),
    account: cleanText(e.account, LINE_TEXT_MAX.account),
    region: cleanText(e.region, LINE_TEXT_MAX.region),
    principal: cleanText(e.principal.arn ?? e.principal.display, LINE_TEXT_MAX.principal),
    principalType: cleanText(e.principal.type, LINE_TEXT_MAX.principalType),
    sourceIp: cleanText(e.sourceIp, LINE_TEXT_MAX.sourceIp),
    userAgent: cleanText(e.userAgent, LINE_TEXT_MAX.userAgent),
    actor: cleanedActor(e.actor),
    source: cleanText(e.origin.source, LINE_TEXT_MAX.source),
  };
  if (e.principal.sessionName)
    line.sessionName = cleanText(e.principal.sessionName, LINE_TEXT_MAX.sessionName);
  if (e.readOnly !== undefined) line.readOnly = e.readOnly;
  if (e.error) line.error = cleanText(e.error.code, LINE_TEXT_MAX.error);
  return line;
}

/** Verdicts are shared per session (attribution): each is cleaned once, however many lines carry it. */
const cleanedActors = new WeakMap<Actor, Actor>();

function cleanedActor(actor: Actor): Actor {
  let cleaned = cleanedActors.get(actor);
  if (!cleaned) {
    cleaned = cleanActor(actor);
    cleanedActors.set(actor, cleaned);
  }
  return cleaned;
}

/** What the summary counts of an event: an AuditEvent, or what the collector holds of one. */
type CountedEvent = Pick<AuditEvent, "time" | "service" | "action" | "account" | "actor"> & {
  principal: Pick<Principal, "arn" | "display">;
};

/**
 * An event whose verdict may still change (its session's issuing call was not seen yet), as held
 * until it comes back re-attributed or the run ends: no raw record, no facts.
 */
interface HeldEvent {
  event: EventLineSource;
  /** Where the event was first seen in the run (see RunCollector.nextSeq). */
  seq: number;
}

export interface RunCollectorOptions {
  /**
   * Keep every event's events.jsonl line (`--out`). Without it nothing is kept per event whose
   * verdict is final, and eventJsonLines() throws.
   */
  keepEventLines?: boolean;
}

export class RunCollector implements Sink {
  private readonly text = new SummaryText();
  /** Counts over the events whose verdict is final. */
  private readonly tally = new SummaryTally(this.text);
  /** Events still waiting for their session, by their dedup key (eventKey): counted with their latest verdict by summary(). */
  private readonly held = new Map<string, HeldEvent>();
  /**
   * Sequence number of the next distinct event, in first-seen order. Held events become final after
   * later events, so what depends on event order (events.jsonl ties, the first evidence and sessions
   * listed, the order of AI principals) follows these numbers, not the order events are counted in.
   */
  private nextSeq = 0;
  private readonly lines?: FinalEventLines;
  readonly alerts = new Map<string, Alert>();
  readonly failures: FileFailure[] = [];
  private readonly skippedFiles: string[] = [];
  private readonly malformed: MalformedRecord[] = [];
  private totals = { files: 0, read: 0, malformed: 0, duplicates: 0, skipped: 0, reattributed: 0 };

  constructor(options: RunCollectorOptions = {}) {
    if (options.keepEventLines) this.lines = new FinalEventLines();
  }

  async publish(result: BatchResult): Promise<void> {
    this.take(result);
  }

  /** publish's work, sync: V8 optimises its loops without an async function around them. */
  private take(result: BatchResult): void {
    const s = result.stats;
    this.totals.files++;
    this.totals.read += s.records;
    this.totals.malformed += s.malformed;
    this.totals.duplicates += s.duplicates;
    this.totals.skipped += s.skipped;
    this.totals.reattributed += s.reattributed;
    for (const m of result.malformed)
      if (this.malformed.length < MAX_LISTED_MALFORMED) this.malformed.push(m);
    const waiting = result.waiting.length ? new Set(result.waiting) : undefined;
    // Contract with the pipeline: an event (account and id) is new in `events` once (seen events are
    // dropped), and only events that were waiting come back in `reattributed` (only parked events
    // are re-attributed, and a parked event is waiting).
    for (const e of result.events) {
      const seq = this.nextSeq++;
      if (waiting?.has(e)) this.held.set(eventKey(e), { event: heldEvent(e), seq });
      else this.final(e, seq);
    }
    for (const e of result.reattributed) {
      const key = eventKey(e);
      const before = this.held.get(key);
      const seq = before ? before.seq : this.nextSeq++;
      if (waiting?.has(e)) this.held.set(key, { event: heldEvent(e), seq });
      else {
        this.held.delete(key);
        this.final(e, seq);
      }
    }
    for (const a of result.alerts) this.alerts.set(a.id, a);
  }

  /** Counts an event whose verdict will not change any more. */
  private final(e: AuditEvent, seq: number): void {
    this.tally.add(e, seq);
    this.lines?.add(e, seq);
  }

  /**
   * events.jsonl: one JSON line per distinct event with its final (for a still waiting event, its
   * latest) verdict, cleaned, by time then id (then first seen).
   */
  eventJsonLines(): string[] {
    if (!this.lines)
      throw new Error("event lines were not kept: construct the RunCollector with { keepEventLines: true }");
    return this.lines.sorted([...this.held.values()]);
  }

  /**
   * An input that could not be read (a file, an S3 listing, a LookupEvents page): its error's message,
   * named by the source unless the message already starts with it.
   */
  fileFailed(source: string, err: unknown): void {
    const message = err instanceof Error ? err.message : String(err);
    const reason = message.startsWith(`${source}:`) ? message : `${source}: ${message}`;
    this.failures.push({ source: cleanText(source, 1024), reason: cleanText(reason, 500) });
  }

  /**
   * Inputs passed over (digest files, non-trail names, …), each named by path or key: cleaned here.
   * A list, not rest parameters: a copied bucket passes over more paths than a call's arguments hold.
   */
  fileSkipped(described: Iterable<string>): void {
    for (const d of described) this.skippedFiles.push(cleanText(d, 1024));
  }

  /** The run so far; events still waiting count with their latest verdict (and stay held). */
  summary(): RunSummary {
    const tally = this.held.size ? this.tally.copy() : this.tally;
    for (const h of this.held.values()) tally.add(h.event, h.seq);
    const bySeverity: Record<string, number> = {};
    const byRule: Record<string, number> = {};
    for (const a of this.alerts.values()) {
      bySeverity[a.severity] = (bySeverity[a.severity] ?? 0) + 1;
      byRule[a.ruleId] = (byRule[a.ruleId] ?? 0) + 1;
    }
    return {
      files: { read: this.totals.files, failed: this.failures, skipped: this.skippedFiles },
      records: {
        read: this.totals.read,
        malformed: this.totals.malformed,
        duplicates: this.totals.duplicates,
        skipped: this.totals.skipped,
        events: tally.events,
        reattributed: this.totals.reattributed,
        // Whatever credentials they used: a role or federated session, an IAM user's temporary key.
        unresolvedSessions: this.held.size,
      },
      byKind: { ...tally.byKind },
      aiPrincipals: tally.aiPrincipals(),
      timeRange: tally.events
        ? { first: new Date(tally.first).toISOString(), last: new Date(tally.last).toISOString() }
        : null,
      alerts: { total: this.alerts.size, bySeverity, byRule },
      malformed: this.malformed,
    };
  }
}

function heldEvent(e: AuditEvent): EventLineSource {
  const p = e.principal;
  return {
    id: e.id,
    time: e.time,
    service: e.service,
    action: e.action,
    account: e.account,
    region: e.region,
    principal: { type: p.type, arn: p.arn, display: p.display, sessionName: p.sessionName },
    sourceIp: e.sourceIp,
    userAgent: e.userAgent,
    readOnly: e.readOnly,
    error: e.error,
    origin: { source: e.origin.source },
    actor: e.actor,
  };
}

/**
 * The events.jsonl lines of events whose verdict is final, as JSON, with what they are sorted by
 * (parallel arrays: one string per line rather than an object graph per event).
 */
class FinalEventLines {
  private readonly times: string[] = [];
  private readonly ids: string[] = [];
  private readonly seqs: number[] = [];
  private readonly json: string[] = [];

  add(e: EventLineSource, seq: number): void {
    const line = eventLine(e);
    this.times.push(line.time);
    this.ids.push(line.id);
    this.seqs.push(seq);
    this.json.push(JSON.stringify(line));
  }

  /** These lines and those of `held`, by time, then id, then first seen. */
  sorted(held: HeldEvent[]): string[] {
    const times = [...this.times];
    const ids = [...this.ids];
    const seqs = [...this.seqs];
    const json = [...this.json];
    for (const h of held) {
      const line = eventLine(h.event);
      times.push(line.time);
      ids.push(line.id);
      seqs.push(h.seq);
      json.push(JSON.stringify(line));
    }
    const order = json.map((_, i) => i);
    order.sort((a, b) =>
      times[a] < times[b]
        ? -1
        : times[a] > times[b]
          ? 1
          : ids[a] < ids[b]
            ? -1
            : ids[a] > ids[b]
              ? 1
              : seqs[a] - seqs[b],
    );
    return order.map((i) => json[i]);
  }
}

/** Distinct raw values memoised per cache; beyond this, values are cleaned every time. */
const MAX_MEMOISED = 100_000;

/** Cleans strings of one field (one length cap), once per distinct raw value. */
class CleanedText {
  private readonly cleaned = new Map<string, string>();
  constructor(private readonly max: number) {}

  of(raw: string): string {
    let text = this.cleaned.get(raw);
    if (text === undefined) {
      text = cleanText(raw, this.max);
      if (this.cleaned.size < MAX_MEMOISED) this.cleaned.set(raw, text);
    }
    return text;
  }
}

/** Strings made of two raw values, made once per distinct pair. */
class PairMemo {
  private readonly made = new Map<string, Map<string, string>>();
  constructor(private readonly make: (a: string, b: string) => string) {}

  of(a: string, b: string): string {
    let byB = this.made.get(a);
    if (!byB) {
      byB = new Map();
      if (this.made.size < MAX_MEMOISED) this.made.set(a, byB);
    }
    let text = byB.get(b);
    if (text === undefined) {
      text = this.make(a, b);
      if (byB.size < MAX_MEMOISED) byB.set(b, text);
    }
    return text;
  }
}

/**
 * The cleaned strings the AI-principal summary is made of, cleaned once per distinct value: an
 * agent's calls repeat the same principal, channel, sessions, evidence and actions. The caps are
 * those of eventLine (LINE_TEXT_MAX) and cleanActor (ACTOR_TEXT_MAX, EVIDENCE_TEXT_MAX), so the
 * summary reads as the cleaned lines would.
 */
class SummaryText {
  readonly account = new CleanedText(LINE_TEXT_MAX.account);
  readonly principal = new CleanedText(LINE_TEXT_MAX.principal);
  readonly via = new CleanedText(ACTOR_TEXT_MAX.via);
  readonly session = new CleanedText(ACTOR_TEXT_MAX.session);
  private readonly service = new CleanedText(LINE_TEXT_MAX.service);
  private readonly action = new CleanedText(LINE_TEXT_MAX.action);
  private readonly signal = new CleanedText(EVIDENCE_TEXT_MAX.signal);
  private readonly value = new CleanedText(EVIDENCE_TEXT_MAX.value);
  /** "service:Action" of topActions, the service without ".amazonaws.com". */
  readonly actionKey = new PairMemo(
    (service, action) =>
      `${this.service.of(service).replace(/\.amazonaws\.com$/, "")}:${this.action.of(action)}`,
  );
  /** What an evidence item is listed once under: cleaned "signal=value". */
  readonly evidenceKey = new PairMemo((signal, value) => `${this.signal.of(signal)}=${this.value.of(value)}`);

  /** An evidence item as the summary lists it (cleaned as cleanActor cleans it). */
  evidenceItem(ev: Evidence): AiPrincipal["evidence"][number] {
    const item: AiPrincipal["evidence"][number] = {
      signal: this.signal.of(ev.signal),
      value: this.value.of(ev.value),
    };
    if (ev.issuedBy) {
      const issuedBy = cleanText(ev.issuedBy, EVIDENCE_TEXT_MAX.issuedBy);
      if (issuedBy) item.issuedBy = issuedBy;
    }
    if (ev.via) {
      const via = cleanText(ev.via, EVIDENCE_TEXT_MAX.via);
      if (via) item.via = via;
    }
    return item;
  }
}

/** The summary's counts, added one event at a time in any order. */
class SummaryTally {
  byKind: Record<ActorKind, number> = { ai: 0, human: 0, service: 0, unknown: 0 };
  first = Number.POSITIVE_INFINITY;
  last = Number.NEGATIVE_INFINITY;
  events = 0;
  /** AI principals by cleaned account#principal (distinct raw values may clean alike, and then merge). */
  private ai = new Map<string, AiPrincipalAcc>();
  /** The same accumulators by raw account, then raw principal: cleaning once per distinct pair. */
  private aiByRaw = new Map<string, Map<string, AiPrincipalAcc>>();

  constructor(private readonly text: SummaryText) {}

  add(e: CountedEvent, seq: number): void {
    this.events++;
    const actor = e.actor;
    this.byKind[actor.kind]++;
    const t = e.time.getTime();
    if (t < this.first) this.first = t;
    if (t > this.last) this.last = t;
    if (actor.kind === "ai") this.addAi(e, seq);
  }

  private addAi(e: CountedEvent, seq: number): void {
    const p = this.principalOf(e.account, e.principal.arn ?? e.principal.display);
    const actor = e.actor;
    p.calls++;
    if (seq < p.firstSeq) p.firstSeq = seq;
    const action = this.text.actionKey.of(e.service, e.action);
    p.actions.set(action, (p.actions.get(action) ?? 0) + 1);
    // Verdicts are shared per session: the same actor again, later in the run, adds nothing to the
    // confidence, channels, sessions or evidence (a later occurrence never displaces an earlier one).
    if (actor === p.lastActor && seq >= p.lastActorSeq) return;
    p.lastActor = actor;
    p.lastActorSeq = seq;
    const confidence = knownConfidence(actor.confidence);
    if (CONFIDENCE_RANK[confidence] > CONFIDENCE_RANK[p.confidence]) p.confidence = confidence;
    p.via.add(this.text.via.of(actor.via));
    if (actor.session && p.sessions.admits(seq)) {
      const session = this.text.session.of(actor.session);
      if (session) p.sessions.offer(session, seq, 0, session);
    }
    const evidence = actor.evidence ?? [];
    if (evidence.length && p.evidence.admits(seq)) {
      for (let i = 0; i < evidence.length; i++) {
        const ev = evidence[i];
        p.evidence.offer(this.text.evidenceKey.of(ev.signal, ev.value), seq, i, ev);
      }
    }
  }

  private principalOf(rawAccount: string, rawPrincipal: string): AiPrincipalAcc {
    let byPrincipal = this.aiByRaw.get(rawAccount);
    if (!byPrincipal) {
      byPrincipal = new Map();
      this.aiByRaw.set(rawAccount, byPrincipal);
    }
    let p = byPrincipal.get(rawPrincipal);
    if (!p) {
      const account = this.text.account.of(rawAccount);
      const principal = this.text.principal.of(rawPrincipal);
      const key = `${account}#${principal}`;
      p = this.ai.get(key);
      if (!p) {
        p = {
          principal,
          account,
          firstSeq: Number.POSITIVE_INFINITY,
          lastActor: undefined,
          lastActorSeq: 0,
          calls: 0,
          confidence: "low",
          via: new Set(),
          sessions: new EarliestDistinct(MAX_LISTED),
          evidence: new EarliestDistinct(MAX_LISTED),
          actions: new Map(),
        };
        this.ai.set(key, p);
      }
      byPrincipal.set(rawPrincipal, p);
    }
    return p;
  }

  /** An independent copy: summary() adds the held events to a copy. */
  copy(): SummaryTally {
    const out = new SummaryTally(this.text);
    out.byKind = { ...this.byKind };
    out.first = this.first;
    out.last = this.last;
    out.events = this.events;
    const copies = new Map<AiPrincipalAcc, AiPrincipalAcc>();
    for (const [key, p] of this.ai) {
      const c: AiPrincipalAcc = {
        ...p,
        via: new Set(p.via),
        sessions: p.sessions.copy(),
        evidence: p.evidence.copy(),
        actions: new Map(p.actions),
      };
      copies.set(p, c);
      out.ai.set(key, c);
    }
    for (const [account, byPrincipal] of this.aiByRaw) {
      const copied = new Map<string, AiPrincipalAcc>();
      for (const [principal, p] of byPrincipal) copied.set(principal, copies.get(p) as AiPrincipalAcc);
      out.aiByRaw.set(account, copied);
    }
    return out;
  }

  aiPrincipals(): AiPrincipal[] {
    // Principals with equal calls and names (different accounts) in the order they were met in.
    return [...this.ai.values()]
      .sort(
        (a, b) =>
          b.calls - a.calls ||
          (a.principal < b.principal ? -1 : a.principal > b.principal ? 1 : a.firstSeq - b.firstSeq),
      )
      .map((p) => ({
        principal: p.principal,
        account: p.account,
        calls: p.calls,
        confidence: p.confidence,
        via: [...p.via].sort(),
        sessions: p.sessions.values().sort(),
        evidence: p.evidence.values().map((ev) => this.text.evidenceItem(ev)),
        topActions: [...p.actions.entries()]
          .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
          .slice(0, 10)
          .map(([action, calls]) => ({ action, calls })),
      }));
  }
}

interface AiPrincipalAcc {
  principal: string;
  account: string;
  /** Sequence number of the principal's first AI call. */
  firstSeq: number;
  /** The verdict last counted in full, and the sequence number it was counted at. */
  lastActor: Actor | undefined;
  lastActorSeq: number;
  calls: number;
  confidence: Confidence;
  via: Set<string>;
  sessions: EarliestDistinct<string>;
  /** By cleaned signal=value; the value kept is the raw evidence of its first occurrence. */
  evidence: EarliestDistinct<Evidence>;
  actions: Map<string, number>;
}

/** Where an occurrence is: the event's sequence number, then its position within the event. */
interface Occurrence<T> {
  seq: number;
  pos: number;
  value: T;
}

function isBefore(seq: number, pos: number, o: Occurrence<unknown>): boolean {
  return seq < o.seq || (seq === o.seq && pos < o.pos);
}

/**
 * The first `limit` distinct keys of a sequence and the value of each one's first occurrence, with
 * occurrences offered in any order: the same as taking the first `limit` keys in sequence order.
 */
class EarliestDistinct<T> {
  private entries = new Map<string, Occurrence<T>>();
  /** The latest of the entries, when there are `limit` of them: only earlier occurrences change anything. */
  private latest: Occurrence<T> | undefined;

  constructor(private readonly limit: number) {}

  /** Whether an occurrence in event `seq` could change the list (callers skip cleaning values otherwise). */
  admits(seq: number): boolean {
    return this.latest === undefined || seq <= this.latest.seq;
  }

  offer(key: string, seq: number, pos: number, value: T): void {
    const known = this.entries.get(key);
    if (known) {
      if (!isBefore(seq, pos, known)) return;
      known.seq = seq;
      known.pos = pos;
      known.value = value;
      if (known === this.latest) this.latest = this.findLatest();
      return;
    }
    if (this.latest) {
      if (!isBefore(seq, pos, this.latest)) return;
      for (const [k, o] of this.entries) {
        if (o === this.latest) {
          this.entries.delete(k);
          break;
        }
      }
    }
    this.entries.set(key, { seq, pos, value });
    if (this.entries.size >= this.limit) this.latest = this.findLatest();
  }

  private findLatest(): Occurrence<T> | undefined {
    let latest: Occurrence<T> | undefined;
    for (const o of this.entries.values()) if (!latest || isBefore(latest.seq, latest.pos, o)) latest = o;
    return latest;
  }

  /** The values, in sequence order. */
  values(): T[] {
    return [...this.entries.values()].sort((a, b) => a.seq - b.seq || a.pos - b.pos).map((o) => o.value);
  }

  copy(): EarliestDistinct<T> {
    const out = new EarliestDistinct<T>(this.limit);
    for (const [key, o] of this.entries) {
      const c = { ...o };
      out.entries.set(key, c);
      if (o === this.latest) out.latest = c;
    }
    return out;
  }
}

/** AI principals the terminal summary describes (the busiest); summary.json lists them all. */
export const MAX_LISTED_AI_PRINCIPALS = 25;

/** Alerts the terminal feed lists; the others are counted by severity (alerts.jsonl has them all). */
export const MAX_FEED_ALERTS = 100;

/**
 * The feed: alerts in the order they began, at most MAX_FEED_ALERTS of them. When there are more, the
 * most severe are listed (the earliest first among equals) and the rest counted, so a critical alert
 * is never buried under thousands of low ones.
 */
export function alertFeed(alerts: readonly Alert[]): string[] {
  let listed = [...alerts];
  let omitted: Alert[] = [];
  if (listed.length > MAX_FEED_ALERTS) {
    listed.sort((a, b) => levelRank(b.severity) - levelRank(a.severity) || byFirstSeen(a, b));
    omitted = listed.slice(MAX_FEED_ALERTS);
    listed = listed.slice(0, MAX_FEED_ALERTS);
  }
  listed.sort(byFirstSeen);
  const out = [`Alerts (${alerts.length}: ${severityCounts(alerts)}):`];
  for (const a of listed) {
    out.push(
      `  [${a.severity.toUpperCase()}] ${cleanText(a.title, 200)}  (${a.ruleId}, ×${a.count}, ${a.firstSeen})`,
    );
  }
  if (omitted.length) {
    out.push(
      `  … ${omitted.length} more not listed (${severityCounts(omitted)}): the feed keeps the ${MAX_FEED_ALERTS} most severe; --out DIR writes every alert to alerts.jsonl`,
    );
  }
  return out;
}

/** "2 critical, 5 high, 1 low": the severities present, most severe first. */
function severityCounts(alerts: readonly Alert[]): string {
  const counts = new Map<string, number>();
  for (const a of alerts) counts.set(a.severity, (counts.get(a.severity) ?? 0) + 1);
  return [...LEVELS]
    .reverse()
    .filter((level) => counts.has(level))
    .map((level) => `${counts.get(level)} ${level}`)
    .join(", ");
}

/** What the run read, as the summary names it: replay reads files, lookup reads LookupEvents pages. */
export interface SummarySource {
  command: string;
  unit: string;
}

const REPLAY_SOURCE: SummarySource = { command: "replay", unit: "file" };

/** The terminal summary: counts, the AI principals with their evidence, the alert feed. */
export function renderSummary(s: RunSummary, alerts: Alert[], source: SummarySource = REPLAY_SOURCE): string {
  const out: string[] = [];
  const r = s.records;
  out.push(`agenttrail ${source.command}: ${s.files.read} ${source.unit}(s), ${r.read} record(s)`);
  out.push(
    `  events ${r.events}  malformed ${r.malformed}  duplicates ${r.duplicates}  skipped ${r.skipped}  re-attributed ${r.reattributed}`,
  );
  if (s.timeRange) out.push(`  time range ${s.timeRange.first} → ${s.timeRange.last}`);
  out.push(
    `  calls by actor: ai ${s.byKind.ai}  human ${s.byKind.human}  service ${s.byKind.service}  unknown ${s.byKind.unknown}`,
  );
  if (r.unresolvedSessions) {
    out.push(
      `  ${r.unresolvedSessions} call(s) used temporary credentials whose issuing STS call was not in the input`,
    );
  }
  if (s.aiPrincipals.length) {
    out.push("", "AI principals:");
    // Busiest first (the summary's order).
    for (const p of s.aiPrincipals.slice(0, MAX_LISTED_AI_PRINCIPALS)) {
      out.push(
        `  ${p.principal} (account ${p.account}): ${p.calls} call(s), ${p.confidence} confidence, via ${p.via.join(", ")}`,
      );
      for (const ev of p.evidence.slice(0, 6)) {
        const extra = [ev.issuedBy ? `issued by ${ev.issuedBy}` : "", ev.via ? `via ${ev.via}` : ""]
          .filter(Boolean)
          .join(", ");
        out.push(`    - ${ev.signal}: ${ev.value}${extra ? ` (${extra})` : ""}`);
      }
      if (p.sessions.length)
        out.push(`    sessions: ${p.sessions.slice(0, 5).join(", ")}${p.sessions.length > 5 ? ", …" : ""}`);
      out.push(
        `    top actions: ${p.topActions
          .slice(0, 5)
          .map((a) => `${a.action} ×${a.calls}`)
          .join(", ")}`,
      );
    }
    const more = s.aiPrincipals.slice(MAX_LISTED_AI_PRINCIPALS);
    if (more.length) {
      const calls = more.reduce((n, p) => n + p.calls, 0);
      out.push(
        `  … ${more.length} more AI principal(s) with ${calls} call(s) in all: --format json or --out DIR (summary.json) lists them all`,
      );
    }
  } else {
    out.push("", "No AI agent activity found.");
  }
  if (alerts.length) out.push("", ...alertFeed(alerts));
  if (s.malformed.length) {
    out.push("", "Malformed records:");
    for (const m of s.malformed.slice(0, 10)) out.push(`  ${m.source} #${m.index}: ${m.reason}`);
    if (r.malformed > 10) out.push(`  … ${r.malformed - 10} more (see summary.json)`);
  }
  if (s.files.failed.length) {
    out.push("", `${source.unit[0].toUpperCase()}${source.unit.slice(1)}s that could not be read:`);
    for (const f of s.files.failed) out.push(`  ${f.reason}`);
  }
  return out.join("\n");
}

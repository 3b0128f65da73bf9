/**
 * What a run (many batches) found: a Sink that keeps the final verdict of every event and the
 * latest state of every alert, and the summary built from them for the terminal, --format json
 * and summary.json. Every string that came from a record is cleaned before it leaves here.
 */
import type { Alert } from "./alerts.ts";
import type { BatchResult, Sink } from "./batch.ts";
import type {
  Actor,
  ActorKind,
  AuditEvent,
  Confidence,
  MalformedRecord,
  Principal,
  RecordOrigin,
} from "./event.ts";
import { cleanActor, cleanText } from "./sanitize.ts";

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

export function eventLine(e: EventLineSource): EventLine {
  const line: EventLine = {
    id: cleanText(e.id, 128),
    time: e.time.toISOString(),
    service: cleanText(e.service, 128),
    action: cleanText(e.action, 128),
    account: cleanText(e.account, 32),
    region: cleanText(e.region, 32),
    principal: cleanText(e.principal.arn ?? e.principal.display, 512),
    principalType: cleanText(e.principal.type, 32),
    sourceIp: cleanText(e.sourceIp, 128),
    userAgent: cleanText(e.userAgent, 512),
    actor: cleanActor(e.actor),
    source: cleanText(e.origin.source, 1024),
  };
  if (e.principal.sessionName) line.sessionName = cleanText(e.principal.sessionName, 128);
  if (e.readOnly !== undefined) line.readOnly = e.readOnly;
  if (e.error) line.error = cleanText(e.error.code, 128);
  return line;
}

/**
 * What the collector keeps per event: what events.jsonl and the summary read, cleaned only when
 * output is produced. A long replay holds 10⁵–10⁶ of these, so long repeated values are shared
 * (RunCollector.sharedUserAgent, …): what is kept per event is copied by young-generation GCs.
 */
type KeptEvent = EventLineSource;

/** Distinct values shared per kind (user agents, principals, sources); beyond this, new ones are kept as they come. */
const MAX_SHARED_VALUES = 100_000;

export class RunCollector implements Sink {
  /** Final verdict per event, in first-seen order: a re-attribution replaces the first verdict. */
  private readonly kept: KeptEvent[] = [];
  /**
   * Where an event's verdict is in `kept`, by event id (no joined key string to build and hold per
   * event); an id met again in another account is indexed by account#id instead.
   */
  private readonly keptById = new Map<string, number>();
  private readonly keptByAccountAndId = new Map<string, number>();
  /** Equal values of different records are different copies: one of each is kept. */
  private readonly sharedUserAgents = new Map<string, string>();
  private readonly sharedPrincipals = new Map<string, KeptEvent["principal"]>();
  private readonly sharedOrigins = new Map<string, KeptEvent["origin"]>();
  readonly alerts = new Map<string, Alert>();
  readonly failures: FileFailure[] = [];
  readonly skippedFiles: string[] = [];
  private readonly malformed: MalformedRecord[] = [];
  private totals = { files: 0, read: 0, malformed: 0, duplicates: 0, skipped: 0, events: 0, reattributed: 0 };

  async publish(result: BatchResult): Promise<void> {
    const s = result.stats;
    this.totals.files++;
    this.totals.read += s.records;
    this.totals.malformed += s.malformed;
    this.totals.duplicates += s.duplicates;
    this.totals.skipped += s.skipped;
    this.totals.events += s.events;
    this.totals.reattributed += s.reattributed;
    for (const m of result.malformed) {
      if (this.malformed.length < MAX_LISTED_MALFORMED)
        this.malformed.push({ ...m, reason: cleanText(m.reason, 300) });
    }
    for (const e of result.events) this.keep(e);
    for (const e of result.reattributed) this.keep(e);
    for (const a of result.alerts) this.alerts.set(a.id, a);
  }

  private keep(e: AuditEvent): void {
    // The event's raw record and facts are not kept: a long replay holds verdicts, not records.
    // Long values that repeat (user agents, principals, sources) are shared; short ones cost less to keep than to look up.
    const kept: KeptEvent = {
      id: e.id,
      time: e.time,
      service: e.service,
      action: e.action,
      account: e.account,
      region: e.region,
      principal: this.sharedPrincipal(e.principal),
      sourceIp: e.sourceIp,
      userAgent: this.sharedUserAgent(e.userAgent),
      readOnly: e.readOnly,
      error: e.error,
      origin: this.sharedOrigin(e.origin.source),
      actor: e.actor,
    };
    const byId = this.keptById.get(e.id);
    if (byId === undefined) {
      this.keptById.set(e.id, this.kept.length);
      this.kept.push(kept);
    } else if (this.kept[byId].account === e.account) {
      this.kept[byId] = kept;
    } else {
      const key = `${e.account}#${e.id}`;
      const index = this.keptByAccountAndId.get(key);
      if (index === undefined) {
        this.keptByAccountAndId.set(key, this.kept.length);
        this.kept.push(kept);
      } else this.kept[index] = kept;
    }
  }

  private sharedUserAgent(value: string): string {
    const known = this.sharedUserAgents.get(value);
    if (known !== undefined) return known;
    if (this.sharedUserAgents.size < MAX_SHARED_VALUES) this.sharedUserAgents.set(value, value);
    return value;
  }

  private sharedPrincipal(p: Principal): KeptEvent["principal"] {
    const key = p.arn ?? p.display;
    const known = this.sharedPrincipals.get(key);
    if (known && known.type === p.type && known.display === p.display && known.sessionName === p.sessionName)
      return known;
    const kept = { type: p.type, arn: p.arn, display: p.display, sessionName: p.sessionName };
    if (!known && this.sharedPrincipals.size < MAX_SHARED_VALUES) this.sharedPrincipals.set(key, kept);
    return kept;
  }

  private sharedOrigin(source: string): KeptEvent["origin"] {
    let kept = this.sharedOrigins.get(source);
    if (!kept) {
      kept = { source };
      if (this.sharedOrigins.size < MAX_SHARED_VALUES) this.sharedOrigins.set(source, kept);
    }
    return kept;
  }

  /** events.jsonl lines: every event with its final verdict, cleaned. */
  *eventLines(): Iterable<EventLine> {
    for (const k of this.kept) yield eventLine(k);
  }

  fileFailed(source: string, reason: string): void {
    this.failures.push({ source: cleanText(source, 1024), reason: cleanText(reason, 500) });
  }

  summary(): RunSummary {
    const byKind: Record<ActorKind, number> = { ai: 0, human: 0, service: 0, unknown: 0 };
    let first = Number.POSITIVE_INFINITY;
    let last = Number.NEGATIVE_INFINITY;
    let unresolved = 0;
    const ai = new Map<string, AiPrincipalAcc>();
    for (const k of this.kept) {
      byKind[k.actor.kind]++;
      const t = k.time.getTime();
      if (t < first) first = t;
      if (t > last) last = t;
      if (k.actor.kind === "ai") addAi(ai, eventLine(k));
      else if (k.actor.evidence.some((ev) => ev.signal === "sessionIssuanceNotSeen")) unresolved++;
    }
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
        events: this.kept.length,
        reattributed: this.totals.reattributed,
        unresolvedSessions: unresolved,
      },
      byKind,
      aiPrincipals: [...ai.values()]
        .sort((a, b) => b.calls - a.calls || (a.principal < b.principal ? -1 : 1))
        .map(finishAi),
      timeRange: this.kept.length
        ? { first: new Date(first).toISOString(), last: new Date(last).toISOString() }
        : null,
      alerts: { total: this.alerts.size, bySeverity, byRule },
      malformed: this.malformed,
    };
  }
}

interface AiPrincipalAcc {
  principal: string;
  account: string;
  calls: number;
  confidence: Confidence;
  via: Set<string>;
  sessions: Set<string>;
  evidence: Map<string, AiPrincipal["evidence"][number]>;
  actions: Map<string, number>;
}

const RANK: Record<Confidence, number> = { low: 0, medium: 1, high: 2 };

function addAi(acc: Map<string, AiPrincipalAcc>, e: EventLine): void {
  const key = `${e.account}#${e.principal}`;
  let p = acc.get(key);
  if (!p) {
    p = {
      principal: e.principal,
      account: e.account,
      calls: 0,
      confidence: "low",
      via: new Set(),
      sessions: new Set(),
      evidence: new Map(),
      actions: new Map(),
    };
    acc.set(key, p);
  }
  p.calls++;
  if (RANK[e.actor.confidence] > RANK[p.confidence]) p.confidence = e.actor.confidence;
  p.via.add(e.actor.via);
  if (e.actor.session && p.sessions.size < MAX_LISTED) p.sessions.add(e.actor.session);
  for (const ev of e.actor.evidence) {
    const k = `${ev.signal}=${ev.value}`;
    if (!p.evidence.has(k) && p.evidence.size < MAX_LISTED) {
      const item: AiPrincipal["evidence"][number] = { signal: ev.signal, value: ev.value };
      if (ev.issuedBy) item.issuedBy = ev.issuedBy;
      if (ev.via) item.via = ev.via;
      p.evidence.set(k, item);
    }
  }
  const action = `${e.service.replace(/\.amazonaws\.com$/, "")}:${e.action}`;
  p.actions.set(action, (p.actions.get(action) ?? 0) + 1);
}

function finishAi(p: AiPrincipalAcc): AiPrincipal {
  return {
    principal: p.principal,
    account: p.account,
    calls: p.calls,
    confidence: p.confidence,
    via: [...p.via].sort(),
    sessions: [...p.sessions].sort(),
    evidence: [...p.evidence.values()],
    topActions: [...p.actions.entries()]
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
      .slice(0, 10)
      .map(([action, calls]) => ({ action, calls })),
  };
}

/** The terminal summary: counts, the AI principals with their evidence, the alert feed. */
export function renderSummary(s: RunSummary, alerts: Alert[]): string {
  const out: string[] = [];
  const r = s.records;
  out.push(`agenttrail replay: ${s.files.read} file(s), ${r.read} record(s)`);
  out.push(
    `  events ${r.events}  malformed ${r.malformed}  duplicates ${r.duplicates}  skipped ${r.skipped}  re-attributed ${r.reattributed}`,
  );
  if (s.timeRange) out.push(`  time range ${s.timeRange.first} → ${s.timeRange.last}`);
  out.push(
    `  calls by actor: ai ${s.byKind.ai}  human ${s.byKind.human}  service ${s.byKind.service}  unknown ${s.byKind.unknown}`,
  );
  if (r.unresolvedSessions) {
    out.push(
      `  ${r.unresolvedSessions} call(s) used role sessions whose issuing STS call was not in the input`,
    );
  }
  if (s.aiPrincipals.length) {
    out.push("", "AI principals:");
    for (const p of s.aiPrincipals) {
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
  } else {
    out.push("", "No AI agent activity found.");
  }
  if (alerts.length) {
    out.push("", `Alerts (${alerts.length}):`);
    const ordered = [...alerts].sort((a, b) =>
      a.firstSeen < b.firstSeen ? -1 : a.firstSeen > b.firstSeen ? 1 : 0,
    );
    for (const a of ordered) {
      out.push(
        `  [${a.severity.toUpperCase()}] ${cleanText(a.title, 200)}  (${a.ruleId}, ×${a.count}, ${a.firstSeen})`,
      );
    }
  }
  if (s.malformed.length) {
    out.push("", "Malformed records:");
    for (const m of s.malformed.slice(0, 10)) out.push(`  ${m.source} #${m.index}: ${m.reason}`);
    if (r.malformed > 10) out.push(`  … ${r.malformed - 10} more (see summary.json)`);
  }
  if (s.files.failed.length) {
    out.push("", "Files that could not be read:");
    for (const f of s.files.failed) out.push(`  ${f.reason}`);
  }
  return out.join("\n");
}

/**
 * Attribution of one batch, order-independent across batches (DESIGN.md "State"):
 * 1. learn the sessions this batch's STS calls issued, and store them;
 * 2. revive events parked earlier that were waiting for one of those sessions;
 * 3. resolve every event's credential chain and decide its actor;
 * 4. park events whose chain names a session nobody has seen yet, under that session's key.
 * Replaying files in any order ends with the same verdicts: a verdict depends only on the event and
 * the sessions known, and an event is re-decided whenever a session it waits for arrives.
 */
import type { KindChange } from "../batch.ts";
import type { Config } from "../config.ts";
import type { ActorKind, AuditEvent } from "../event.ts";
import { normaliseRecord } from "../normalise.ts";
import type { ParkedEvent, SessionRecord, Store } from "../state/store.ts";
import { type ChainResolution, issuanceOf, SessionResolver } from "./sessions.ts";
import { type AgentMatchers, agentMatchers, classifyUserAgent, recordAiSignals } from "./signals.ts";
import { decideActor, workloadOf } from "./verdict.ts";

export interface AttributionResult {
  /** Earlier events re-decided because a session they waited for arrived in this batch. */
  reattributed: AuditEvent[];
  /** Those of them whose actor kind changed (only these can match differently in detection). */
  changedKind: KindChange[];
  /** Events (new or revived) left waiting for an unknown session. */
  parked: number;
  /**
   * Those of this batch's events and re-attributed events that wait for a session: their verdict may
   * still change in a later batch. Every other event's verdict is final.
   */
  waiting: AuditEvent[];
  /** Sessions learned from this batch's STS calls. */
  sessions: SessionRecord[];
  /**
   * Removes the parked entries of the events re-decided here. Call after the batch was published:
   * removed before, a failed publish would leave the retry nothing to revive, and their alerts and
   * changed kinds would be lost.
   */
  commit(): Promise<void>;
}

export async function attributeBatch(
  events: AuditEvent[],
  store: Store,
  config: Config,
): Promise<AttributionResult> {
  const m = agentMatchers(config);
  const resolver = new SessionResolver(store, m);
  const marginSeconds = config.parkHours * 3600 + config.latenessMinutes * 60;

  const sessions = issuancesOf(events, m);
  resolver.remember(sessions);
  if (sessions.length) {
    const latestExpiry = Math.max(...sessions.map((s) => s.expiresAt));
    const ttl = Math.max(0, Math.ceil((latestExpiry - store.now()) / 1000)) + marginSeconds;
    await store.putSessions(sessions, ttl);
  }

  const revived = await reviveParked(store, [...new Set(sessions.map((s) => s.key))]);
  const all = revived.length ? [...events, ...revived.map((r) => r.event)] : events;
  const chains = await resolver.resolveAll(all);
  decideActors(all, chains, m);

  const { toPark, waiting } = waitingForSessions(events, chains);
  const toUnpark: { waitingFor: string; eventId: string }[] = [];
  const reattributed: AuditEvent[] = [];
  const changedKind: KindChange[] = [];
  for (let r = 0; r < revived.length; r++) {
    const { event, waitingFor, kind } = revived[r];
    const missing = chains[events.length + r]?.missing;
    if (missing === waitingFor) continue; // the new issuance was not this event's: keep waiting
    toUnpark.push({ waitingFor, eventId: event.id });
    if (missing) {
      toPark.push(parkedEntry(event, missing));
      waiting.push(event);
    }
    reattributed.push(event);
    // Parked entries without a kind (written before it was recorded) count as changed.
    if (event.actor.kind !== kind) changedKind.push({ event, from: kind ?? "unknown" });
  }
  // Parking again is idempotent (same key, same entry), so a retried batch may do it twice.
  if (toPark.length) await store.park(toPark, marginSeconds);
  const stillWaiting = revived.filter(
    ({ waitingFor }, r) => chains[events.length + r]?.missing === waitingFor,
  ).length;
  return {
    reattributed,
    changedKind,
    parked: toPark.length + stillWaiting,
    waiting,
    sessions,
    commit: async () => {
      if (toUnpark.length) await store.unpark(toUnpark);
    },
  };
}

// The loops over a batch's events below are functions of their own, not part of the async
// attributeBatch: see matchEvents in rules/engine.ts.

/** The sessions a batch's STS calls issued. */
function issuancesOf(events: readonly AuditEvent[], m: AgentMatchers): SessionRecord[] {
  const sessions: SessionRecord[] = [];
  for (let i = 0; i < events.length; i++) {
    const s = issuanceOf(events[i], m);
    if (s) sessions.push(s);
  }
  return sessions;
}

/** Sets each event's actor from its signals and resolved credential chain (`chains[i]` is `events[i]`'s). */
function decideActors(
  events: readonly AuditEvent[],
  chains: readonly (ChainResolution | undefined)[],
  m: AgentMatchers,
): void {
  for (let i = 0; i < events.length; i++) {
    const e = events[i];
    const userAgent = classifyUserAgent(e.userAgent, m);
    e.actor = decideActor(e, recordAiSignals(e, m, userAgent), chains[i], userAgent);
  }
}

/** The events whose chain names a session not seen yet, and their parked entries. */
function waitingForSessions(
  events: readonly AuditEvent[],
  chains: readonly (ChainResolution | undefined)[],
): { toPark: ParkedEvent[]; waiting: AuditEvent[] } {
  const toPark: ParkedEvent[] = [];
  const waiting: AuditEvent[] = [];
  for (let i = 0; i < events.length; i++) {
    const e = events[i];
    const missing = chains[i]?.missing;
    // Workload credentials (EC2 instance profiles, Lambda) are issued by AWS itself: the issuing call
    // cannot change their verdict, so they never wait (a parked record is a store write).
    if (missing && !workloadOf(e)) {
      toPark.push(parkedEntry(e, missing));
      waiting.push(e);
    }
  }
  return { toPark, waiting };
}

function parkedEntry(event: AuditEvent, waitingFor: string): ParkedEvent {
  // A persistent store redacts secrets where the record leaves the process (DynamoStore.park).
  return {
    waitingFor,
    eventId: event.id,
    raw: event.raw,
    source: event.origin.source,
    index: event.origin.index,
    kind: event.actor.kind,
  };
}

async function reviveParked(
  store: Store,
  keys: string[],
): Promise<{ event: AuditEvent; waitingFor: string; kind?: ActorKind }[]> {
  if (!keys.length) return [];
  const parked = await store.parked(keys);
  const out: { event: AuditEvent; waitingFor: string; kind?: ActorKind }[] = [];
  for (const [waitingFor, entries] of parked) {
    for (const p of entries) {
      const n = normaliseRecord(p.raw, { source: p.source, index: p.index });
      if (n.ok) out.push({ event: n.event, waitingFor, kind: p.kind });
    }
  }
  // Deterministic order whatever order the store returns.
  return out.sort((a, b) => (a.event.id < b.event.id ? -1 : a.event.id > b.event.id ? 1 : 0));
}

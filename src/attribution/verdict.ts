/**
 * The verdict: AI signals (the record's own and those its credential chain carries) beat
 * everything but an AWS service acting for itself; otherwise AWS services are `service`, known
 * human identities `human`, the rest `unknown`. Deterministic in its inputs, so the same event
 * and the same known sessions always give the same Actor, whatever order files arrived in.
 */
import type { Actor, AuditEvent, Confidence, Evidence } from "../event.ts";
import type { ChainResolution } from "./sessions.ts";
import {
  type AiSignal,
  eventChannel,
  NO_SIGNALS,
  serviceSignal,
  strongest,
  type UserAgentClass,
} from "./signals.ts";

/** Identities a person signs in as. Role sessions are people too unless a workload holds them. */
const HUMAN_TYPES = new Set([
  "IAMUser",
  "Root",
  "IdentityCenterUser",
  "SAMLUser",
  "WebIdentityUser",
  "Directory",
  "FederatedUser",
]);

export function decideActor(
  event: AuditEvent,
  own: readonly AiSignal[],
  chain: ChainResolution | undefined,
  userAgent: UserAgentClass,
): Actor {
  const p = event.principal;
  const session = sessionOf(event);
  const channel = eventChannel(event, userAgent);
  const service = serviceSignal(event);
  const chainAi = chain?.aiEvidence ?? [];

  // An AWS service acting on a caller's behalf is the service's call (DESIGN: service principals),
  // but the caller's AI evidence is kept so an operator sees who was behind it.
  if (service && own.length === 0) {
    return actor(
      "service",
      service.confidence,
      `service:${service.service}`,
      [service.evidence, ...chainAi],
      session,
    );
  }

  // AI verdicts are shared like the others: the calls of one session mostly carry the same signals.
  if (own.length > 0 || chainAi.length > 0) return sharedActor(AI, channel, chain, session, own);

  if (p.type === "AssumedRole") {
    // Workload credentials are never parked (their issuer is EC2 or Lambda: nothing it says can make
    // them AI), so their evidence leaves the session facts out to stay the same in any file order.
    const workload = workloadOf(event);
    if (workload)
      return actor("unknown", "medium", channel, [...principalFacts(p.type, channel), workload], session);
  }
  return sharedActor(p.type, channel, chain, session);
}

function principalFacts(type: string, channel: string): Evidence[] {
  const evidence: Evidence[] = [];
  if (type) evidence.push({ signal: "principalType", value: type });
  if (channel !== "unknown") evidence.push({ signal: "channel", value: channel });
  return evidence;
}

/** A verdict without AI or service signals, made from these inputs only. */
function plainActor(
  type: string,
  channel: string,
  chain: ChainResolution | undefined,
  session: string | undefined,
): Actor {
  const evidence = principalFacts(type, channel);
  evidence.push(...(chain?.facts ?? []));
  // The issuing STS call has not been seen (yet): the verdict is decided again when it arrives.
  if (chain?.missing) evidence.push({ signal: "sessionIssuanceNotSeen", value: chain.missing });
  if (type === "AssumedRole") {
    // Without the issuing call, a person is likelier than an agent, not certain.
    return actor("human", chain?.session && !chain.missing ? "medium" : "low", channel, evidence, session);
  }
  if (HUMAN_TYPES.has(type)) {
    const confidence: Confidence = channel === "console" || type === "Root" ? "high" : "medium";
    return actor("human", confidence, channel, evidence, session);
  }
  return actor("unknown", "low", channel, evidence, session);
}

/**
 * Verdicts are read-only, and the calls of one session mostly get the same verdict: one Actor is
 * made and shared, instead of an Actor and its evidence per call that the run collector keeps for
 * the whole run (and counts once: see RunCollector). A verdict depends on the principal type (or AI),
 * channel, session and the call's own AI signals, plus the chain: a found issuance's resolution is
 * one object per issuance (its verdicts are kept with it); a missing one adds only the missing key.
 */
function sharedActor(
  type: string,
  channel: string,
  chain: ChainResolution | undefined,
  session: string | undefined,
  own: readonly AiSignal[] = NO_SIGNALS,
): Actor {
  let shared: SharedVerdict[] | undefined;
  if (chain?.session) {
    // The calls of one issuance are one session: a short list, compared by value, no hashing.
    shared = chain.verdicts;
    if (!shared) {
      shared = [];
      chain.verdicts = shared;
    }
  } else {
    // No issuance found: the resolution carries no facts (at most the missing key, compared below).
    if (sharedWithoutChain.size >= MAX_SHARED_SESSIONS) sharedWithoutChain.clear();
    const sessionKey = session ?? "";
    shared = sharedWithoutChain.get(sessionKey);
    if (!shared) {
      shared = [];
      sharedWithoutChain.set(sessionKey, shared);
    }
  }
  const missing = chain?.missing;
  for (const s of shared)
    if (
      s.type === type &&
      s.channel === channel &&
      s.missing === missing &&
      s.session === session &&
      sameSignals(s.own, own)
    )
      return s.actor;
  const made = makeActor(type, channel, chain, session, own);
  if (shared.length < MAX_SHARED_VARIANTS) shared.push({ type, channel, missing, session, own, actor: made });
  return made;
}

/** Stands for the principal type in shared AI verdicts (no principal type is empty-prefixed). */
const AI = "\u0000ai";

function makeActor(
  type: string,
  channel: string,
  chain: ChainResolution | undefined,
  session: string | undefined,
  own: readonly AiSignal[],
): Actor {
  return type === AI ? aiActor(own, channel, chain, session) : plainActor(type, channel, chain, session);
}

/** The AI verdict of a call from its own signals and those its chain carries. */
function aiActor(
  own: readonly AiSignal[],
  channel: string,
  chain: ChainResolution | undefined,
  session: string | undefined,
): Actor {
  const chainAi = chain?.aiEvidence ?? [];
  let confidence: Confidence = "low";
  for (const s of own) confidence = strongest(confidence, s.confidence);
  for (const e of chainAi) confidence = strongest(confidence, e.confidence ?? "medium");
  const via =
    own.find((s) => s.channel === "mcp-managed")?.channel ??
    own.find((s) => s.channel)?.channel ??
    viaOfChain(chainAi) ??
    channel;
  const evidence = [...own.map((s) => ({ ...s.evidence, confidence: s.confidence })), ...chainAi];
  return actor("ai", confidence, via, evidence, session);
}

/** Signals that make the same evidence, in the same order. */
function sameSignals(a: readonly AiSignal[], b: readonly AiSignal[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    const y = b[i];
    if (x.confidence !== y.confidence || x.channel !== y.channel) return false;
    const e = x.evidence;
    const f = y.evidence;
    if (
      e.signal !== f.signal ||
      e.value !== f.value ||
      e.issuedBy !== f.issuedBy ||
      e.via !== f.via ||
      e.confidence !== f.confidence
    )
      return false;
  }
  return true;
}

/** A verdict made once and handed to every call with these inputs. */
export interface SharedVerdict {
  type: string;
  channel: string;
  missing: string | undefined;
  session: string | undefined;
  own: readonly AiSignal[];
  actor: Actor;
}

const MAX_SHARED_SESSIONS = 10_000;
const MAX_SHARED_VARIANTS = 8;
const sharedWithoutChain = new Map<string, SharedVerdict[]>();

function viaOfChain(chainAi: Evidence[]): string | undefined {
  for (const e of chainAi) {
    if (/invokedBy|sourceIPAddress|eventType|eventSource/.test(e.signal) && /mcp/i.test(e.value))
      return "mcp-managed";
  }
  return undefined;
}

/** Machine-held role credentials: EC2 instance profiles, Lambda/ECS workload credentials. */
export function workloadOf(event: AuditEvent): Evidence | undefined {
  const ui = event.raw.userIdentity as Record<string, unknown> | undefined;
  const ctx = ui?.sessionContext as Record<string, unknown> | undefined;
  if (typeof ctx?.ec2RoleDelivery === "string")
    return { signal: "ec2RoleDelivery", value: ctx.ec2RoleDelivery };
  const scope = ui?.inScopeOf as Record<string, unknown> | undefined;
  if (typeof scope?.issuerType === "string")
    return { signal: "inScopeOf.issuerType", value: scope.issuerType };
  return undefined;
}

function sessionOf(event: AuditEvent): string | undefined {
  const p = event.principal;
  return p.arn ?? (p.display !== "unknown" ? p.display : undefined);
}

function actor(
  kind: Actor["kind"],
  confidence: Confidence,
  via: string,
  evidence: Evidence[],
  session: string | undefined,
): Actor {
  const a: Actor = { kind, confidence, via, evidence };
  if (session) a.session = session;
  return a;
}

/**
 * The verdict: AI signals (the record's own and those its credential chain carries) beat
 * everything but an AWS service acting for itself; otherwise AWS services are `service`, known
 * human identities `human`, the rest `unknown`. Deterministic in its inputs, so the same event
 * and the same known sessions always give the same Actor, whatever order files arrived in.
 */
import type { Actor, AuditEvent, Confidence, Evidence } from "../event.ts";
import { channelOf } from "./markers.ts";
import type { ChainResolution } from "./sessions.ts";
import { type AiSignal, serviceSignal, strongest } from "./signals.ts";

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

export function decideActor(event: AuditEvent, own: AiSignal[], chain: ChainResolution | undefined): Actor {
  const p = event.principal;
  const session = sessionOf(event);
  const channel = channelOf(event.userAgent, event.eventType, event.raw);
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

  if (own.length > 0 || chainAi.length > 0) {
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

  const evidence: Evidence[] = [];
  if (p.type) evidence.push({ signal: "principalType", value: p.type });
  if (channel !== "unknown") evidence.push({ signal: "channel", value: channel });

  if (p.type === "AssumedRole") {
    // Workload credentials are never parked (their issuer is EC2 or Lambda: nothing it says can make
    // them AI), so their evidence leaves the session facts out to stay the same in any file order.
    const workload = workloadOf(event);
    if (workload) return actor("unknown", "medium", channel, [...evidence, workload], session);
    evidence.push(...(chain?.facts ?? []));
    if (chain?.missing) {
      // The issuing STS call has not been seen (yet): a person is likelier than an agent, not certain.
      return actor(
        "human",
        "low",
        channel,
        [...evidence, { signal: "sessionIssuanceNotSeen", value: chain.missing }],
        session,
      );
    }
    return actor("human", chain?.session ? "medium" : "low", channel, evidence, session);
  }
  evidence.push(...(chain?.facts ?? []));
  if (HUMAN_TYPES.has(p.type)) {
    const confidence: Confidence = channel === "console" || p.type === "Root" ? "high" : "medium";
    return actor("human", confidence, channel, evidence, session);
  }
  return actor("unknown", "low", channel, evidence, session);
}

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

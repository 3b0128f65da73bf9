/**
 * Per-record signals: what one CloudTrail record says about its caller without any session
 * knowledge. AI signals carry a confidence; service signals mark AWS acting on its own behalf.
 */
import type { Config } from "../config.ts";
import { type AuditEvent, CONFIDENCE_RANK, type Confidence, type Evidence } from "../event.ts";
import { FreshStringCache } from "../fresh-string-cache.ts";
import { globToRegExp } from "./glob.ts";
import {
  type AgentChannel,
  BUILTIN_USER_AGENT_MARKERS,
  type Channel,
  channelOf,
  isManagedMcpPrincipal,
  isManagedMcpSource,
  type UserAgentMarker,
  userAgentChannel,
} from "./markers.ts";

/** An AI signal with how strong it is and the channel it implies. */
export interface AiSignal {
  evidence: Evidence;
  confidence: Confidence;
  channel?: "mcp-managed" | AgentChannel;
}

/** Config compiled once: lower-cased tags, role sets and regexes. */
export interface AgentMatchers {
  tags: { key: string; value: string }[];
  roleNames: Set<string>;
  roleArns: Set<string>;
  sessionNames: RegExp[];
  sourceIdentities: RegExp[];
  userAgentMarkers: UserAgentMarker[];
}

const compiled = new WeakMap<Config, AgentMatchers>();

export function agentMatchers(config: Config): AgentMatchers {
  let m = compiled.get(config);
  if (!m) {
    const a = config.agents;
    m = {
      tags: a.sessionTags.map((t) => ({ key: t.key.toLowerCase(), value: t.value.toLowerCase() })),
      roleNames: new Set(a.roles.filter((r) => !r.startsWith("arn:")).map((r) => r.toLowerCase())),
      roleArns: new Set(a.roles.filter((r) => r.startsWith("arn:")).map((r) => r.toLowerCase())),
      sessionNames: a.sessionNamePatterns.map(globToRegExp),
      sourceIdentities: a.sourceIdentityPatterns.map(globToRegExp),
      userAgentMarkers: [
        ...BUILTIN_USER_AGENT_MARKERS,
        ...a.userAgentMarkers.map((marker) => ({
          marker: marker.toLowerCase(),
          channel: "agent-client" as const,
        })),
      ],
    };
    compiled.set(config, m);
  }
  return m;
}

export function strongest(a: Confidence, b: Confidence): Confidence {
  return CONFIDENCE_RANK[a] >= CONFIDENCE_RANK[b] ? a : b;
}

/** Most calls have no AI signal: they share this one empty list instead of allocating one each. */
export const NO_SIGNALS: readonly AiSignal[] = Object.freeze([]);

function withSignal(list: AiSignal[] | undefined, signal: AiSignal): AiSignal[] {
  if (!list) return [signal];
  list.push(signal);
  return list;
}

/**
 * AI signals visible in the record itself: AWS-managed MCP servers (invokedBy, sourceIPAddress,
 * userAgent, the AwsMcpEvent tool-call record), configured agent identities, user-agent markers.
 */
export function recordAiSignals(
  event: AuditEvent,
  m: AgentMatchers,
  userAgent: UserAgentClass = classifyUserAgent(event.userAgent, m),
): readonly AiSignal[] {
  let out: AiSignal[] | undefined;
  const p = event.principal;
  if (isManagedMcpPrincipal(p.invokedBy)) {
    out = withSignal(out, {
      evidence: { signal: "invokedBy", value: p.invokedBy as string },
      confidence: "high",
      channel: "mcp-managed",
    });
  }
  if (isManagedMcpPrincipal(event.sourceIp)) {
    out = withSignal(out, {
      evidence: { signal: "sourceIPAddress", value: event.sourceIp },
      confidence: "high",
      channel: "mcp-managed",
    });
  }
  if (isManagedMcpPrincipal(event.userAgent)) {
    out = withSignal(out, {
      evidence: { signal: "userAgent", value: event.userAgent },
      confidence: "high",
      channel: "mcp-managed",
    });
  }
  if (event.eventType === "AwsMcpEvent") {
    out = withSignal(out, {
      evidence: { signal: "eventType", value: "AwsMcpEvent" },
      confidence: "high",
      channel: "mcp-managed",
    });
    if (isManagedMcpSource(event.service)) {
      out = withSignal(out, {
        evidence: { signal: "eventSource", value: event.service },
        confidence: "high",
        channel: "mcp-managed",
      });
    }
  }
  // (size checks first: no configured roles, no lower-cased copy of every call's role)
  if (p.roleArn && m.roleArns.size > 0 && m.roleArns.has(p.roleArn.toLowerCase())) {
    out = withSignal(out, { evidence: { signal: "agentRole", value: p.roleArn }, confidence: "high" });
  } else if (p.roleName && m.roleNames.size > 0 && m.roleNames.has(p.roleName.toLowerCase())) {
    out = withSignal(out, { evidence: { signal: "agentRole", value: p.roleName }, confidence: "high" });
  }
  if (p.sessionName && m.sessionNames.some((re) => re.test(p.sessionName as string))) {
    out = withSignal(out, {
      evidence: { signal: "agentSessionName", value: p.sessionName },
      confidence: "high",
    });
  }
  if (p.sourceIdentity && m.sourceIdentities.some((re) => re.test(p.sourceIdentity as string))) {
    out = withSignal(out, {
      evidence: { signal: "agentSourceIdentity", value: p.sourceIdentity },
      confidence: "high",
    });
  }
  const marker = userAgent.marker;
  if (marker)
    out = withSignal(out, {
      evidence: { signal: "userAgentMarker", value: marker.marker },
      confidence: "medium",
      channel: marker.channel,
    });
  return out ?? NO_SIGNALS;
}

/** What a user agent says: its agent marker (AI signal) and its ordinary channel. */
export interface UserAgentClass {
  marker: UserAgentMarker | undefined;
  channel: Channel;
}

/**
 * The channel of an event's call: console when its record says so (channelOf), else its user agent's.
 * One place for the verdict and for the session lookup's wait (issuanceLogged), so they agree.
 */
export function eventChannel(
  event: Pick<AuditEvent, "eventType" | "raw">,
  userAgent: UserAgentClass,
): Channel {
  return channelOf(userAgent.channel, event.eventType, event.raw);
}

/** Distinct user agents are few (a few hundred in a real trail): each is classified once per config. */
const MAX_CACHED_USER_AGENTS = 10_000;
const userAgentCache = new WeakMap<AgentMatchers, FreshStringCache<UserAgentClass>>();

export function classifyUserAgent(userAgent: string, m: AgentMatchers): UserAgentClass {
  let cache = userAgentCache.get(m);
  if (!cache) {
    cache = new FreshStringCache(MAX_CACHED_USER_AGENTS);
    userAgentCache.set(m, cache);
  }
  let hit = cache.get(userAgent);
  if (hit === undefined) {
    const ua = userAgent.toLowerCase();
    hit = {
      marker: ua ? m.userAgentMarkers.find(({ marker }) => ua.includes(marker)) : undefined,
      channel: userAgentChannel(userAgent),
    };
    cache.add(userAgent, hit);
  }
  return hit;
}

/** `ec2.amazonaws.com` → `ec2`; `AWS Internal` → `aws-internal`. */
export function serviceName(principal: string): string {
  return principal
    .replace(/\.amazonaws\.com$/i, "")
    .replace(/\s+/g, "-")
    .toLowerCase();
}

/**
 * AWS acting for itself or on a caller's behalf: AWSService principals, records whose identity is
 * only `invokedBy`, and calls invoked by another AWS service (forward access sessions). Managed MCP
 * servers are excluded here: they act for an agent.
 */
export function serviceSignal(
  event: AuditEvent,
): { evidence: Evidence; service: string; confidence: Confidence } | undefined {
  const p = event.principal;
  if (p.type === "AWSService") {
    const by = p.invokedBy || event.sourceIp || "aws";
    return {
      evidence: { signal: "principalType", value: "AWSService" },
      service: serviceName(by),
      confidence: "high",
    };
  }
  if (p.invokedBy && !isManagedMcpPrincipal(p.invokedBy)) {
    const internal = /^aws internal/i.test(p.invokedBy);
    return {
      evidence: { signal: "invokedBy", value: p.invokedBy },
      service: serviceName(p.invokedBy),
      confidence: internal ? "medium" : "high",
    };
  }
  return undefined;
}

/** Session tags that mark an agent session (keys case-insensitive as in STS; values too, to be safe). */
export function agentTagMatches(tags: Record<string, string>, m: AgentMatchers): string[] {
  const hits: string[] = [];
  for (const [k, v] of Object.entries(tags)) {
    const key = k.toLowerCase();
    const value = String(v).toLowerCase();
    if (m.tags.some((t) => t.key === key && t.value === value)) hits.push(`${k}=${v}`);
  }
  return hits;
}

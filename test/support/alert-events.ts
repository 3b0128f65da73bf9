/**
 * Small builders of attributed AuditEvents and rule hits for the pure alert and metric tests.
 * The raw records are CloudTrail-shaped (fields as CloudTrail writes them), so samples and redaction
 * see what they would see in production.
 */
import type { Actor, ActorKind, AuditEvent } from "../../src/event.ts";
import type { RuleHit, RuleMeta } from "../../src/rules/types.ts";

export interface EventSpec {
  id: string;
  time: string;
  action?: string;
  service?: string;
  kind?: ActorKind;
  via?: string;
  display?: string;
  arn?: string;
  account?: string;
  region?: string;
  errorCode?: string;
  facts?: Record<string, unknown>;
  actor?: Partial<Actor>;
  requestParameters?: Record<string, unknown>;
  responseElements?: Record<string, unknown>;
}

export function makeEvent(spec: EventSpec): AuditEvent {
  const action = spec.action ?? "DeleteObject";
  const service = spec.service ?? "s3.amazonaws.com";
  const account = spec.account ?? "111122223333";
  const region = spec.region ?? "us-east-1";
  const arn = spec.arn ?? `arn:aws:sts::${account}:assumed-role/agent-runner/${spec.display ?? "dev-alice"}`;
  const raw: Record<string, unknown> = {
    eventVersion: "1.11",
    userIdentity: { type: "AssumedRole", arn, accountId: account },
    eventTime: spec.time,
    eventSource: service,
    eventName: action,
    awsRegion: region,
    sourceIPAddress: "198.51.100.7",
    userAgent: "aws-sdk-js/3.0",
    requestParameters: spec.requestParameters ?? {
      bucketName: "prod-reports",
      key: `reports/${spec.id}.csv`,
    },
    responseElements: spec.responseElements ?? null,
    eventID: spec.id,
    eventType: "AwsApiCall",
    recipientAccountId: account,
  };
  if (spec.errorCode) raw.errorCode = spec.errorCode;
  const kind = spec.kind ?? "ai";
  return {
    id: spec.id,
    time: new Date(spec.time),
    account,
    region,
    service,
    action,
    rawAction: action,
    eventType: "AwsApiCall",
    readOnly: false,
    category: "Management",
    error: spec.errorCode ? { code: spec.errorCode } : undefined,
    principal: { type: "AssumedRole", arn, account, display: spec.display ?? "dev-alice" },
    userAgent: "aws-sdk-js/3.0",
    sourceIp: "198.51.100.7",
    resources: [],
    raw,
    actor: {
      kind,
      confidence: "high",
      via: spec.via ?? (kind === "ai" ? "aws-mcp" : kind === "human" ? "console" : "sdk"),
      evidence:
        kind === "ai"
          ? [{ signal: "invokedBy", value: "aws-mcp.amazonaws.com" }]
          : [{ signal: "userAgent", value: "console" }],
      session: `${account}|${arn}`,
      ...spec.actor,
    },
    facts: { "action.target": "s3:prod-reports", ...spec.facts },
    origin: { source: "test", index: 0 },
  };
}

export function makeRule(overrides: Partial<RuleMeta> = {}): RuleMeta {
  return {
    id: "ai-destructive-action",
    title: "AI agent destructive action",
    description: "An AI agent deleted, terminated, purged or disabled resources.",
    level: "high",
    tags: [],
    falsepositives: [],
    runbook: "Confirm with the agent's owner; restore from versioning or backups.",
    alert: true,
    groupBy: ["actor.session", "action.target"],
    source: "rules/ai-destructive-action.yml",
    ...overrides,
  };
}

export function makeHit(rule: RuleMeta, events: AuditEvent[], extra: Partial<RuleHit> = {}): RuleHit {
  const times = events.map((e) => e.time.getTime());
  return {
    rule,
    groupKey: extra.groupKey ?? `${events[0]?.actor.session ?? "none"}|s3:prod-reports`,
    group: extra.group ?? {
      "actor.session": events[0]?.actor.session ?? "",
      "action.target": "s3:prod-reports",
    },
    events,
    count: extra.count ?? events.length,
    firstSeen: extra.firstSeen ?? new Date(Math.min(...times)),
    lastSeen: extra.lastSeen ?? new Date(Math.max(...times)),
  };
}

/** Contract between the rule engine (src/rules/) and the alert stage (src/alerts.ts). */
import type { AuditEvent } from "../event.ts";

export type Level = "informational" | "low" | "medium" | "high" | "critical";

/** What the alert stage needs to know about a rule (Sigma fields + agenttrail's custom policy fields). */
export interface RuleMeta {
  id: string;
  title: string;
  description?: string;
  level: Level;
  tags: string[];
  falsepositives: string[];
  /** Runbook text or URL for responders. */
  runbook?: string;
  /** Whether matches make alerts (false: the rule only feeds correlations). */
  alert: boolean;
  /** Suppression window in minutes for this rule (overrides config.suppressionMinutes). */
  suppressionMinutes?: number;
  /** Severity when the actor is AI, when a rule raises it (e.g. iam-self-modification → critical). */
  levelIfAi?: Level;
  /** Severity when the call failed (errorCode present), when a rule lowers it. */
  levelIfFailed?: Level;
  /** Which event fields group alerts (alert identity), e.g. ["actor.session", "resource.group"]. */
  groupBy: string[];
  /** File the rule came from. */
  source: string;
}

/** One rule firing: a single-event match, or a correlation whose condition was met. */
export interface RuleHit {
  rule: RuleMeta;
  /** Values of the rule's group-by fields, joined; identifies the alert group. */
  groupKey: string;
  /** Readable group values, e.g. {"userIdentity.arn": "…"}. */
  group: Record<string, string>;
  /** The events of this batch that contributed (for correlations: those in the window that are in this batch). */
  events: AuditEvent[];
  /** Events represented by the hit (for correlations: the window count). */
  count: number;
  firstSeen: Date;
  lastSeen: Date;
}

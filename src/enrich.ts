/**
 * Derived facts rules can match on, keyed by their rule field names (`time.offHours`,
 * `action.destructive`, …). Computed once per event after attribution; the exact semantics of each
 * fact are documented in rules/README.md ("Derived fields"). Lookup tables are built at module load,
 * the business-hours calendar once per config, so the per-event cost is a few map lookups.
 */
import type { Config } from "./config.ts";
import { calendarFor } from "./enrich/calendar.ts";
import { destructiveKind } from "./enrich/destructive.ts";
import { collectAttachments, selfModification } from "./enrich/iam.ts";
import { loggingReduced, securityServiceDisabled } from "./enrich/tampering.ts";
import { actionTarget } from "./enrich/target.ts";
import type { AuditEvent } from "./event.ts";

/** Names of the facts enrichEvents sets, as rules spell them. */
export const FACT_NAMES = [
  "time.offHours",
  "time.localHour",
  "time.weekday",
  "time.localDate",
  "action.destructive",
  "action.destructiveKind",
  "action.target",
  "iam.selfModification",
  "iam.target",
  "logging.reduced",
  "security.serviceDisabled",
  "security.service",
  "error.accessDenied",
] as const;

export type FactName = (typeof FACT_NAMES)[number];

/**
 * Error codes of calls refused for lack of permission (IAM, SCP, resource or VPC endpoint policy).
 * Matched as: starts with AccessDenied, ends with UnauthorizedOperation, or one of the exact codes.
 */
const ACCESS_DENIED_CODES = new Set(["UnauthorizedAccess", "AuthorizationError", "VpceAccessDenied"]);

export function isAccessDenied(code: string | undefined): boolean {
  if (!code) return false;
  return (
    code.startsWith("AccessDenied") || code.endsWith("UnauthorizedOperation") || ACCESS_DENIED_CODES.has(code)
  );
}

/** Sets `event.facts` on every event (replacing earlier facts: re-attributed events are enriched again). */
export function enrichEvents(events: AuditEvent[], config: Config): void {
  if (events.length === 0) return;
  const calendar = calendarFor(config);
  const attachments = collectAttachments(events);
  for (const event of events) {
    const facts: Record<string, unknown> = {};
    const params = event.raw.requestParameters;

    const time = calendar.facts(event.time);
    if (time) {
      facts["time.offHours"] = time.offHours;
      facts["time.localHour"] = time.hour;
      facts["time.weekday"] = time.weekday;
      facts["time.localDate"] = time.date;
    }

    const kind = destructiveKind(event.service, event.action, params, event.time);
    facts["action.destructive"] = kind !== undefined;
    if (kind) facts["action.destructiveKind"] = kind;

    const target = actionTarget({
      service: event.service,
      region: event.region,
      params,
      resources: event.resources,
    });
    if (target) facts["action.target"] = target;

    const iam = selfModification(event, attachments);
    facts["iam.selfModification"] = iam?.self === true;
    if (iam) facts["iam.target"] = iam.target;

    facts["logging.reduced"] = loggingReduced(event.service, event.action, params);
    const disabled = securityServiceDisabled(event.service, event.action, params);
    facts["security.serviceDisabled"] = disabled !== undefined;
    if (disabled) facts["security.service"] = disabled;

    facts["error.accessDenied"] = isAccessDenied(event.error?.code);
    event.facts = facts;
  }
}

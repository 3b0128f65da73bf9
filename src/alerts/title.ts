/**
 * Alert titles written for a responder: who (AI / human / service, how), did what, to what, as whom.
 * One template per kind of built-in rule, a generic one for the rest. Every value taken from a record
 * passes through cleanText: titles end up in e-mail subjects, chat messages and terminals.
 */
import type { Actor, AuditEvent } from "../event.ts";
import type { RuleMeta } from "../rules/types.ts";
import { cleanText } from "../sanitize.ts";

/** Longest title kept (code points); the SNS subject is cut shorter by the sink. */
export const MAX_TITLE = 200;
const MAX_NAME = 64;

/** "AI agent (via aws-mcp)", "Human (console)", "AWS service (s3.amazonaws.com)", "Unknown actor". */
export function actorPhrase(actor: Actor | undefined): string {
  const via = cleanText(actor?.via, 48);
  switch (actor?.kind) {
    case "ai":
      return via ? `AI agent (via ${via})` : "AI agent";
    case "human":
      return via ? `Human (${via})` : "Human";
    case "service":
      return via ? `AWS service (${via.replace(/^service:/, "")})` : "AWS service";
    default:
      return via ? `Unknown actor (${via})` : "Unknown actor";
  }
}

/** The principal as a responder names it: session or user name, else the ARN. */
export function principalName(event: AuditEvent | undefined): string {
  if (!event) return "unknown principal";
  const p = event.principal;
  return cleanText(p.display || p.arn || p.userName || p.principalId || "unknown principal", 96);
}

/** `s3:prod-reports` (enrich's action.target) → `prod-reports`; falls back to a resource name. */
export function targetName(event: AuditEvent): string | undefined {
  const fact = event.facts["action.target"];
  if (typeof fact === "string" && fact) return cleanText(fact.slice(fact.indexOf(":") + 1) || fact, MAX_NAME);
  const arn = event.resources.find((r) => r.arn)?.arn;
  if (arn)
    return cleanText(arn.slice(Math.max(arn.lastIndexOf("/"), arn.lastIndexOf(":")) + 1) || arn, MAX_NAME);
  return undefined;
}

function distinct<T>(values: (T | undefined)[]): T[] {
  return [...new Set(values.filter((v): v is T => v !== undefined && v !== ""))];
}

/** "a", "a and b", "a, b and 3 more" */
function listNames(names: string[], max = 2): string {
  if (names.length <= max) return names.join(" and ");
  return `${names.slice(0, max).join(", ")} and ${names.length - max} more`;
}

const PAST: Record<string, string> = {
  Delete: "deleted",
  Terminate: "terminated",
  Purge: "purged",
  Disable: "disabled",
  Stop: "stopped",
  Remove: "removed",
  Deregister: "deregistered",
  Detach: "detached",
  Attach: "attached",
  Put: "set",
  Update: "updated",
  Create: "created",
  Modify: "modified",
  Revoke: "revoked",
  Cancel: "cancelled",
  Reset: "reset",
  Disassociate: "disassociated",
  Deactivate: "deactivated",
  Suspend: "suspended",
  Upload: "uploaded",
  Tag: "tagged",
  Untag: "untagged",
  Schedule: "scheduled",
};

// Object-level calls act inside a container: "deleted 3 objects in prod-reports".
const CONTAINED = /^(Object|Objects|ObjectVersion|Item|Items|LogStream|Image|Images|Message)$/;

function splitWords(name: string): string[] {
  return name.split(/(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])/).filter(Boolean);
}

function singular(word: string): string {
  if (/(ss|us|is|as)$/.test(word)) return word;
  if (/ies$/.test(word)) return `${word.slice(0, -3)}y`;
  if (/(sses|xes|ches|shes)$/.test(word)) return word.slice(0, -2);
  if (/s$/.test(word)) return word.slice(0, -1);
  return word;
}

function plural(word: string, n: number): string {
  if (n === 1) return word;
  if (/[^aeiou]y$/.test(word)) return `${word.slice(0, -1)}ies`;
  if (/(s|x|ch|sh)$/.test(word)) return `${word}es`;
  return `${word}s`;
}

interface ActionParts {
  verb: string;
  /** Resource noun, singular, readable ("DB instance", "object"). */
  noun: string;
  contained: boolean;
}

/** "DeleteDBInstance" → {verb: "deleted", noun: "DB instance"}; "BatchDeleteItem" → {deleted, item}. */
export function actionParts(action: string): ActionParts | undefined {
  if (action === "ScheduleKeyDeletion")
    return { verb: "scheduled deletion of", noun: "KMS key", contained: false };
  const words = splitWords(action.replace(/^Batch(?=[A-Z])/, ""));
  const verb = PAST[words[0] ?? ""];
  if (!verb || words.length < 2) return undefined;
  const rest = words.slice(1);
  const last = singular(rest[rest.length - 1]);
  const nounWords = [...rest.slice(0, -1), last].map((w) => (/^[A-Z0-9]{2,}$/.test(w) ? w : w.toLowerCase()));
  return { verb, noun: nounWords.join(" "), contained: CONTAINED.test(rest.join("")) };
}

function failureNote(events: AuditEvent[]): string {
  const codes = distinct(events.map((e) => e.error?.code));
  return codes.length ? ` (failed: ${cleanText(listNames(codes), 80)})` : " (failed)";
}

function spanPhrase(firstSeen: Date, lastSeen: Date): string {
  const minutes = Math.max(1, Math.ceil((lastSeen.getTime() - firstSeen.getTime()) / 60_000));
  return minutes >= 120 ? `${Math.round(minutes / 60)} h` : `${minutes} min`;
}

/** What the calls did to what: "deleted 3 objects in prod-reports", "called StopLogging on trail-x". */
function callsPhrase(events: AuditEvent[], count: number): string {
  const actions = distinct(events.map((e) => e.action));
  const targets = distinct(events.map(targetName));
  const where = targets.length ? listNames(targets) : "";
  if (actions.length === 1) {
    const parts = actionParts(actions[0]);
    if (parts) {
      if (parts.contained || count > 1) {
        const what = `${parts.verb} ${count} ${plural(parts.noun, count)}`;
        if (!where) return what;
        return parts.contained ? `${what} in ${where}` : `${what} (${where})`;
      }
      return where ? `${parts.verb} ${parts.noun} ${where}` : `${parts.verb} a ${parts.noun}`;
    }
    const call = `called ${cleanText(actions[0], MAX_NAME)}${count > 1 ? ` ${count} times` : ""}`;
    return where ? `${call} on ${where}` : call;
  }
  const calls = `made ${count} calls (${cleanText(listNames(actions, 3), 120)})`;
  return where ? `${calls} on ${where}` : calls;
}

const TAMPERING: Record<string, string> = {
  StopLogging: "stopped CloudTrail logging for trail",
  DeleteTrail: "deleted CloudTrail trail",
  UpdateTrail: "changed CloudTrail trail",
  PutEventSelectors: "changed the event selectors of trail",
  PutInsightSelectors: "changed the Insights selectors of trail",
  DeleteEventDataStore: "deleted CloudTrail Lake event data store",
  StopEventDataStoreIngestion: "stopped ingestion into event data store",
  DeleteDetector: "deleted GuardDuty detector",
  UpdateDetector: "changed GuardDuty detector",
  StopConfigurationRecorder: "stopped AWS Config recorder",
  DeleteConfigurationRecorder: "deleted AWS Config recorder",
  DeleteDeliveryChannel: "deleted AWS Config delivery channel",
  DisableSecurityHub: "disabled Security Hub",
  BatchDisableStandards: "disabled Security Hub standards",
  DisableMacie: "disabled Macie",
  UpdateMacieSession: "paused Macie",
  DeleteAnalyzer: "deleted IAM Access Analyzer",
};

function tamperingPhrase(events: AuditEvent[], count: number): string {
  const actions = distinct(events.map((e) => e.action));
  const phrase = actions.length === 1 ? TAMPERING[actions[0]] : undefined;
  if (!phrase) return callsPhrase(events, count);
  const targets = distinct(events.map(targetName));
  const what = targets.length ? `${phrase} ${listNames(targets)}` : phrase;
  return count > 1 ? `${what} (${count} times)` : what;
}

export interface TitleInput {
  rule: RuleMeta;
  /** Events of this alert seen in the current batch (may be empty for a correlation). */
  events: AuditEvent[];
  actor: Actor;
  count: number;
  firstSeen: Date;
  lastSeen: Date;
}

/** The alert title; falls back to the rule title when the events say too little. */
export function alertTitle(input: TitleInput): string {
  const { rule, events, actor, count } = input;
  const who = actorPhrase(actor);
  const as = `as ${principalName(events[0])}`;
  const failed = events.length > 0 && events.every((e) => e.error);
  const span = spanPhrase(input.firstSeen, input.lastSeen);
  let title: string;
  if (events.length === 0) {
    title = `${cleanText(rule.title, 120)}: ${who} (${count} events)`;
  } else if (rule.id === "ai-destructive-action") {
    title = `${who} ${callsPhrase(events, count)} ${as}`;
  } else if (rule.id === "cloudtrail-tampering") {
    title = failed
      ? `${who} tried: ${tamperingPhrase(events, count)}${failureNote(events)} ${as}`
      : `${who} ${tamperingPhrase(events, count)} ${as}`;
  } else if (rule.id === "iam-self-modification") {
    const actions = cleanText(listNames(distinct(events.map((e) => e.action)), 3), 120);
    const targets = distinct(events.map(targetName));
    title = `${who} changed its own IAM identity (${actions}${targets.length ? ` on ${listNames(targets)}` : ""}) ${as}`;
    if (failed) title += failureNote(events);
  } else if (rule.id === "ai-access-denied-burst") {
    title = `${who} got ${count} access ${count === 1 ? "denial" : "denials"} in ${span} ${as}`;
  } else if (rule.id === "ai-off-hours-burst") {
    title = `${who} made ${count} ${count === 1 ? "call" : "calls"} in ${span} outside business hours ${as}`;
  } else {
    title = `${cleanText(rule.title, 100)}: ${who} ${callsPhrase(events, count)} ${as}`;
    if (failed) title += failureNote(events);
  }
  return cleanText(title, MAX_TITLE);
}

/**
 * Alert titles written for a responder: who (AI / human / service, how), did what, to what, as whom.
 * One template per kind of built-in rule, a generic one for the rest; failed calls read as attempts
 * ("tried to delete …"). Every value taken from a record passes through cleanText: titles end up in
 * e-mail subjects, chat messages and terminals.
 */
import { CallTable } from "../enrich/call-table.ts";
import { isDynamoDbItemWrite } from "../enrich/destructive.ts";
import type { Actor, AuditEvent } from "../event.ts";
import { asArray, asObject, scalarText } from "../json-values.ts";
import type { RuleMeta } from "../rules/types.ts";
import { cleanText } from "../sanitize.ts";

/** Longest title kept (code points); the SNS subject is cut shorter by the sink. */
export const MAX_TITLE = 200;
const MAX_NAME = 64;

/** "AI agent (via aws-mcp)", "Human (console)", "AWS service (s3.amazonaws.com)", "Unknown actor". */
export function actorPhrase(actor: Actor | undefined): string {
  const raw = cleanText(actor?.via, 48);
  const via = raw === "unknown" ? "" : raw;
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
  if (arn) {
    return cleanText(arn.slice(Math.max(arn.lastIndexOf("/"), arn.lastIndexOf(":")) + 1) || arn, MAX_NAME);
  }
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

/**
 * API verb → [past tense, infinitive, preposition before a target that is not the resource itself].
 * A Map: API names come from the record, and an object would answer "constructor" or "toString".
 */
const VERBS = new Map<string, [string, string, string]>(
  Object.entries({
    Delete: ["deleted", "delete", "from"],
    Terminate: ["terminated", "terminate", "in"],
    Purge: ["purged", "purge", "in"],
    Disable: ["disabled", "disable", "for"],
    Stop: ["stopped", "stop", "for"],
    Remove: ["removed", "remove", "from"],
    Deregister: ["deregistered", "deregister", "from"],
    Detach: ["detached", "detach", "from"],
    Attach: ["attached", "attach", "to"],
    Put: ["set", "set", "on"],
    Update: ["updated", "update", "of"],
    Create: ["created", "create", "for"],
    Modify: ["modified", "modify", "of"],
    Revoke: ["revoked", "revoke", "from"],
    Authorize: ["authorized", "authorize", "on"],
    Cancel: ["cancelled", "cancel", "for"],
    Reset: ["reset", "reset", "of"],
    Disassociate: ["disassociated", "disassociate", "from"],
    Associate: ["associated", "associate", "with"],
    Deactivate: ["deactivated", "deactivate", "for"],
    Suspend: ["suspended", "suspend", "for"],
    Upload: ["uploaded", "upload", "to"],
    Tag: ["tagged", "tag", "on"],
    Untag: ["untagged", "untag", "on"],
    Enable: ["enabled", "enable", "for"],
    Replace: ["replaced", "replace", "in"],
  }),
);

/** Words CloudTrail spells in CamelCase that a reader knows in capitals. */
const ACRONYMS = new Set([
  "vpc",
  "vpcs",
  "acl",
  "acls",
  "nat",
  "ip",
  "db",
  "mfa",
  "saml",
  "oidc",
  "api",
  "sso",
  "kms",
  "ami",
  "iam",
  "sns",
  "sqs",
  "ebs",
]);

// Object-level calls act inside a container: "deleted 3 objects in prod-reports".
const CONTAINED = /^(Object|Objects|ObjectVersion|Item|Items|LogStream|Image|Images|Message)$/;

function splitWords(name: string): string[] {
  return name.split(/(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])/).filter(Boolean);
}

function singular(word: string): string {
  if (/^[A-Z0-9]+s$/.test(word)) return word.slice(0, -1); // "VPCs", "ACLs"
  if (/(ss|us|is|as)$/.test(word)) return word;
  if (/ies$/.test(word)) return `${word.slice(0, -3)}y`;
  if (/(sses|xes|ches|shes)$/.test(word)) return word.slice(0, -2);
  if (/s$/.test(word)) return word.slice(0, -1);
  return word;
}

function plural(word: string, n: number): string {
  if (n === 1) return word;
  if (/[A-Z0-9]$/.test(word)) return `${word}s`; // acronyms: "VPCs"
  if (/[^aeiou]y$/.test(word)) return `${word.slice(0, -1)}ies`;
  if (/(s|x|ch|sh)$/.test(word)) return `${word}es`;
  return `${word}s`;
}

/** Nouns that take no plural: "updated instance information 15 times", not "15 instance informations". */
const UNCOUNTABLE = /(^|\s)(information|data|metadata)$/;

/** Acronyms read as a word, not letter by letter: "a NAT gateway". */
const SPOKEN_AS_WORDS = new Set(["NAT"]);

/** The indefinite article as the noun is spoken: "an instance", "an IAM role", "a user", "an S3 bucket". */
function article(noun: string): string {
  const first = noun.split(" ")[0];
  // Other acronyms are spelled out: letters whose names begin with a vowel sound.
  if (/^[A-Z0-9]{2,}$/.test(first) && !SPOKEN_AS_WORDS.has(first))
    return /^[AEFHILMNORSX8]/.test(first) ? "an" : "a";
  return /^[aeiou]/.test(first) && !/^(us|uni|eu|one)/.test(first) ? "an" : "a";
}

/** `count` of `noun`: "a flow log", "an instance", "3 instances", "instance information 15 times". */
function counted(noun: string, count: number): string {
  if (UNCOUNTABLE.test(noun)) return count === 1 ? noun : `${noun} ${count} times`;
  return count === 1 ? `${article(noun)} ${noun}` : `${count} ${plural(noun, count)}`;
}

/** `count` of `noun` written as a number even for one ("1 object in prod-reports", "2 keys (a and b)"). */
function numbered(noun: string, count: number): string {
  return UNCOUNTABLE.test(noun) ? counted(noun, count) : `${count} ${plural(noun, count)}`;
}

function readableWord(word: string): string {
  if (ACRONYMS.has(word.toLowerCase())) return word.toUpperCase();
  return /^[A-Z0-9]{2,}$/.test(word) ? word : word.toLowerCase();
}

export interface ActionParts {
  verb: string;
  /** The verb as an attempt reads it: "delete" in "tried to delete". */
  infinitive: string;
  /** Resource noun, singular, readable ("DB instance", "object"). */
  noun: string;
  contained: boolean;
  /** Preposition before a target that is not the resource itself ("attached user policy to bob"). */
  preposition: string;
}

/** "DeleteDBInstance" → {verb: "deleted", noun: "DB instance"}; "BatchDeleteItem" → {deleted, item}. */
export function actionParts(action: string): ActionParts | undefined {
  if (action === "ScheduleKeyDeletion") {
    return {
      verb: "scheduled deletion of",
      infinitive: "schedule deletion of",
      noun: "KMS key",
      contained: false,
      preposition: "for",
    };
  }
  const words = splitWords(action.replace(/^Batch(?=[A-Z])/, ""));
  const verb = VERBS.get(words[0] ?? "");
  if (!verb || words.length < 2) return undefined;
  const rest = words.slice(1);
  const nounWords = [...rest.slice(0, -1), singular(rest[rest.length - 1])].map(readableWord);
  if (/^(ingress|egress)$/i.test(nounWords[nounWords.length - 1])) nounWords.push("rule");
  return {
    verb: verb[0],
    infinitive: verb[1],
    noun: nounWords.join(" "),
    contained: CONTAINED.test(rest.join("")),
    preposition: verb[2],
  };
}

/** Actions repeat alert after alert: each is split into parts once (a bounded cache, not state). */
const MAX_CACHED_ACTIONS = 10_000;
const actionPartsCache = new Map<string, ActionParts | null>();

function cachedActionParts(action: string): ActionParts | undefined {
  let parts = actionPartsCache.get(action);
  if (parts === undefined) {
    parts = actionParts(action) ?? null;
    if (actionPartsCache.size >= MAX_CACHED_ACTIONS) actionPartsCache.clear();
    actionPartsCache.set(action, parts);
  }
  return parts ?? undefined;
}

/**
 * A call's phrase: [past, infinitive, and `false` when the call's target names a different thing than
 * the phrase, so no name follows it].
 */
type Phrase = [past: string, infinitive: string, namesTarget?: false];

/**
 * Calls whose meaning a responder knows by a phrase, not by the API name, by eventSource and
 * eventName (Fraud Detector has a DeleteDetector too, and it is not GuardDuty's).
 */
const PHRASES = new CallTable<Phrase>();
PHRASES.add("cloudtrail", {
  StopLogging: ["stopped CloudTrail logging for trail", "stop CloudTrail logging for trail"],
  StartLogging: ["started CloudTrail logging for trail", "start CloudTrail logging for trail"],
  DeleteTrail: ["deleted CloudTrail trail", "delete CloudTrail trail"],
  UpdateTrail: ["changed CloudTrail trail", "change CloudTrail trail"],
  CreateTrail: ["created CloudTrail trail", "create CloudTrail trail"],
  PutEventSelectors: ["changed the event selectors of trail", "change the event selectors of trail"],
  PutInsightSelectors: ["changed the Insights selectors of trail", "change the Insights selectors of trail"],
  DeleteEventDataStore: [
    "deleted CloudTrail Lake event data store",
    "delete CloudTrail Lake event data store",
  ],
  StopEventDataStoreIngestion: [
    "stopped ingestion into event data store",
    "stop ingestion into event data store",
  ],
});
PHRASES.add("guardduty", {
  DeleteDetector: ["deleted GuardDuty detector", "delete GuardDuty detector"],
  UpdateDetector: ["changed GuardDuty detector", "change GuardDuty detector"],
});
PHRASES.add("config", {
  StopConfigurationRecorder: ["stopped AWS Config recorder", "stop AWS Config recorder"],
  DeleteConfigurationRecorder: ["deleted AWS Config recorder", "delete AWS Config recorder"],
  DeleteDeliveryChannel: ["deleted AWS Config delivery channel", "delete AWS Config delivery channel"],
});
PHRASES.add("securityhub", {
  DisableSecurityHub: ["disabled Security Hub", "disable Security Hub", false],
  BatchDisableStandards: ["disabled Security Hub standards", "disable Security Hub standards", false],
});
PHRASES.add("macie2", {
  DisableMacie: ["disabled Macie", "disable Macie", false],
  UpdateMacieSession: ["changed the Macie session", "change the Macie session", false],
});
PHRASES.add("access-analyzer", {
  DeleteAnalyzer: ["deleted IAM Access Analyzer", "delete IAM Access Analyzer"],
});
PHRASES.add("route53resolver", {
  DeleteResolverQueryLogConfig: [
    "deleted Route 53 Resolver query logging config",
    "delete Route 53 Resolver query logging config",
  ],
  DisassociateResolverQueryLogConfig: [
    "detached Route 53 Resolver query logging from a VPC",
    "detach Route 53 Resolver query logging from a VPC",
    false,
  ],
});
PHRASES.add("signin", { ConsoleLogin: ["signed in to the console", "sign in to the console", false] });

/**
 * Calls that can turn a log on or off, phrased as turning it off when every call of the group did
 * (`logging.reduced`); otherwise they are read from their API name like any other call.
 */
const LOG_OFF_PHRASES = new CallTable<Phrase>();
LOG_OFF_PHRASES.add("s3", {
  PutBucketLogging: [
    "turned off S3 server access logging for bucket",
    "turn off S3 server access logging for bucket",
  ],
});

/** The phrase of a group's one call, when its events are all of one service. */
function phraseOf(events: AuditEvent[], action: string): Phrase | undefined {
  const service = events[0]?.service ?? "";
  if (!events.every((e) => e.service === service)) return undefined;
  const logOff = LOG_OFF_PHRASES.get(service, action);
  if (logOff && events.every((e) => e.facts["logging.reduced"] === true)) return logOff;
  return PHRASES.get(service, action);
}

/** Whether the request names the resource by the noun (bucketName → a bucket, dBInstanceIdentifier → a DB instance). */
function namesItself(event: AuditEvent | undefined, noun: string, target: string): boolean {
  const params = asObject(event?.raw.requestParameters);
  if (!params) return false;
  const last = noun.slice(noun.lastIndexOf(" ") + 1).toLowerCase();
  for (const [key, value] of Object.entries(params)) {
    if (!key.toLowerCase().includes(last)) continue;
    // Parameters are the record's: never String() them (an object with its own toString throws).
    const text = asArray(value).map(scalarText).join(" ");
    if (text === target || text.endsWith(`/${target}`) || text.endsWith(`:${target}`)) {
      return true;
    }
  }
  return false;
}

/** " (failed: AccessDenied)"; with `of`, how many of the group's calls failed: " (1 of 3 failed: …)". */
function failureNote(refused: AuditEvent[], of?: number): string {
  const codes = distinct(refused.map((e) => e.error?.code));
  const failed = of === undefined ? "failed" : `${refused.length} of ${of} failed`;
  return codes.length ? ` (${failed}: ${cleanText(listNames(codes), 80)})` : ` (${failed})`;
}

/**
 * callsPhrase for a group's outcome: all done (the alert's count), all tried, or, when only some were
 * refused, what this batch did "and" what it only tried, by this batch's numbers: the alert does not
 * keep how many of its earlier calls were refused.
 */
function outcomePhrase(events: AuditEvent[], refused: AuditEvent[], count: number): string {
  if (refused.length === 0) return callsPhrase(events, count, false);
  if (refused.length === events.length) return callsPhrase(events, count, true);
  const done = events.filter((e) => !e.error);
  return `${callsPhrase(done, done.length, false)} and ${callsPhrase(refused, refused.length, true)}`;
}

function spanPhrase(firstSeen: Date, lastSeen: Date): string {
  const minutes = Math.max(1, Math.ceil((lastSeen.getTime() - firstSeen.getTime()) / 60_000));
  return minutes >= 120 ? `${Math.round(minutes / 60)} h` : `${minutes} min`;
}

interface Targets {
  /** Resource names, or regions for services grouped per region (EC2). */
  names: string[];
  regional: boolean;
}

function targetsOf(events: AuditEvent[]): Targets {
  const names = distinct(events.map(targetName));
  const regions = new Set(events.map((e) => cleanText(e.region, 32)));
  const regional = names.length > 0 && names.every((n) => regions.has(n));
  return { names, regional };
}

/**
 * What the calls did to what, in the past tense or as an attempt:
 * "deleted 3 objects in prod-reports", "tried to stop CloudTrail logging for trail x",
 * "terminated 2 instances in us-east-1", "created access key for bob".
 */
export function callsPhrase(events: AuditEvent[], count: number, attempt: boolean): string {
  const actions = distinct(events.map((e) => e.action));
  const { names, regional } = targetsOf(events);
  const where = names.length ? listNames(names) : "";
  const tried = (past: string, infinitive: string) => (attempt ? `tried to ${infinitive}` : past);
  if (actions.length === 1) {
    const action = actions[0];
    const phrase = phraseOf(events, action);
    if (phrase) {
      const what = tried(phrase[0], phrase[1]);
      const named = where && phrase[2] !== false ? `${what} ${where}` : what;
      return count > 1 ? `${named} (${count} times)` : named;
    }
    // DynamoDB batch, transaction and PartiQL calls are named for how they write, not what they did.
    if (
      events.every((e) => isDynamoDbItemWrite(e.service, action) && e.facts["action.destructive"] === true)
    ) {
      const what = `${tried("deleted", "delete")} items with ${count} ${cleanText(action, MAX_NAME)} ${count === 1 ? "call" : "calls"}`;
      return where ? `${what} in ${where}` : what;
    }
    const parts = cachedActionParts(action);
    if (parts) {
      const verb = tried(parts.verb, parts.infinitive);
      if (regional) return `${verb} ${counted(parts.noun, count)} in ${where}`;
      if (parts.contained) {
        const what = `${verb} ${numbered(parts.noun, count)}`;
        return where ? `${what} in ${where}` : what;
      }
      if (!where) return `${verb} ${counted(parts.noun, count)}`;
      const itself = namesItself(events[0], parts.noun, names[0]);
      if (count === 1 && names.length === 1) {
        return itself
          ? `${verb} ${parts.noun} ${where}`
          : `${verb} ${parts.noun} ${parts.preposition} ${where}`;
      }
      return itself
        ? `${verb} ${numbered(parts.noun, count)} (${where})`
        : `${verb} ${numbered(parts.noun, count)} ${parts.preposition} ${where}`;
    }
    const call = `${tried("called", "call")} ${cleanText(action, MAX_NAME)}${count > 1 ? ` ${count} times` : ""}`;
    return where ? `${call} ${regional ? "in" : "on"} ${where}` : call;
  }
  const calls = `${tried("made", "make")} ${count} calls (${cleanText(listNames(actions, 3), 120)})`;
  return where ? `${calls} ${regional ? "in" : "on"} ${where}` : calls;
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
  const refused = events.filter((e) => e.error);
  const failed = events.length > 0 && refused.length === events.length;
  // A group where some calls were refused names what was done apart from what was only tried,
  // so "stopped CloudTrail logging for trail A and B" is never said when the call on A failed.
  const failure = refused.length ? failureNote(refused, failed ? undefined : events.length) : "";
  const span = spanPhrase(input.firstSeen, input.lastSeen);
  let title: string;
  if (events.length === 0) {
    title = `${cleanText(rule.title, 120)}: ${who} (${count} events)`;
  } else if (rule.id === "ai-destructive-action" || rule.id === "cloudtrail-tampering") {
    title = `${who} ${outcomePhrase(events, refused, count)} ${as}${failure}`;
  } else if (rule.id === "iam-self-modification") {
    const actions = cleanText(listNames(distinct(events.map((e) => e.action)), 3), 120);
    const targets = distinct(events.map(targetName));
    const verb = failed ? "tried to change" : "changed";
    title = `${who} ${verb} its own IAM identity (${actions}${targets.length ? ` on ${listNames(targets)}` : ""}) ${as}${failure}`;
  } else if (rule.id === "ai-access-denied-burst") {
    title = `${who} got ${count} access ${count === 1 ? "denial" : "denials"} in ${span} ${as}`;
  } else if (rule.id === "ai-off-hours-burst") {
    title = `${who} made ${count} ${count === 1 ? "call" : "calls"} in ${span} outside business hours ${as}`;
  } else {
    title = `${cleanText(rule.title, 100)}: ${who} ${outcomePhrase(events, refused, count)} ${as}${failure}`;
  }
  return cleanText(title, MAX_TITLE);
}

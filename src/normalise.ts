/** Raw CloudTrail record → AuditEvent, computed once; every later stage reads these fields. */

import { SkippedRecord, UnparseableRecord } from "./cloudtrail/decode.ts";
import {
  type CloudTrailRecord,
  cloudTrailRecordSchema,
  isCloudTrailRecord,
  parseEventTime,
} from "./cloudtrail/records.ts";
import type {
  Actor,
  AuditEvent,
  EventError,
  Principal,
  RawRecord,
  RecordOrigin,
  ResourceRef,
} from "./event.ts";
import { sha256Hex } from "./hash.ts";

export type NormaliseResult =
  | { ok: true; event: AuditEvent }
  | { ok: false; reason: string; skipped?: boolean };

/**
 * The verdict before attribution has looked at an event: one frozen object shared by every event
 * (attribution replaces it, never changes it).
 */
const UNATTRIBUTED: Actor = Object.freeze({
  kind: "unknown",
  confidence: "low",
  via: "unknown",
  evidence: Object.freeze([]) as unknown as Actor["evidence"],
}) as Actor;

/** Facts before enrichment (enrich.ts replaces the object): shared and frozen, like UNATTRIBUTED. */
const NO_FACTS: Record<string, unknown> = Object.freeze({});
/** Records without resources (most of them) share one frozen empty list. */
const NO_RESOURCES: ResourceRef[] = Object.freeze([]) as unknown as ResourceRef[];

/** Version suffixes some services append to eventName: `UpdateFunctionConfiguration20150331v2`, `…2020_05_31`. */
const VERSION_SUFFIX = /^(.+?[A-Za-z])(\d{4}_?\d{2}_?\d{2}(?:v\d+)?)$/;

export function stripVersionSuffix(eventName: string): string {
  // Nearly every name ends in a letter: no suffix, no regex.
  const last = eventName.charCodeAt(eventName.length - 1);
  if (last < 48 || last > 57) return eventName;
  const m = VERSION_SUFFIX.exec(eventName);
  return m ? m[1] : eventName;
}

export function normaliseRecord(raw: unknown, origin: RecordOrigin): NormaliseResult {
  if (raw instanceof UnparseableRecord) return { ok: false, reason: raw.reason };
  if (raw instanceof SkippedRecord) return { ok: false, skipped: true, reason: raw.reason };
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    return { ok: false, reason: `not a CloudTrail record: ${raw === null ? "null" : typeof raw}` };
  }
  const obj = raw as Record<string, unknown>;
  if (obj.eventType === "AwsCloudTrailInsight") {
    return { ok: false, skipped: true, reason: "CloudTrail Insights record" };
  }
  if (!isCloudTrailRecord(obj)) {
    const parsed = cloudTrailRecordSchema.safeParse(obj);
    return {
      ok: false,
      reason: parsed.success ? "not a CloudTrail record" : describeInvalid(obj, parsed.error.issues),
    };
  }
  const r = obj as CloudTrailRecord;
  const time = parseEventTime(r.eventTime);
  if (!time)
    return { ok: false, reason: `eventTime is not a time: ${JSON.stringify(r.eventTime).slice(0, 40)}` };

  const event: AuditEvent = {
    id: r.eventID || syntheticId(obj),
    time,
    account: r.recipientAccountId || r.userIdentity?.accountId || "",
    region: r.awsRegion ?? "",
    service: r.eventSource,
    action: stripVersionSuffix(r.eventName),
    rawAction: r.eventName,
    eventType: r.eventType ?? "",
    readOnly: readOnlyOf(r.readOnly),
    category: r.eventCategory || (obj.managementEvent === false ? "Data" : "Management"),
    principal: principalOf(r),
    userAgent: r.userAgent ?? "",
    sourceIp: r.sourceIPAddress ?? "",
    resources: resourcesOf(r),
    raw: obj as RawRecord,
    actor: UNATTRIBUTED,
    facts: NO_FACTS,
    origin,
    // Always present (undefined when the call succeeded): every event has one layout.
    error: errorOf(r),
  };
  return { ok: true, event };
}

function describeInvalid(
  obj: Record<string, unknown>,
  issues: { path: PropertyKey[]; message: string }[],
): string {
  if (!("eventName" in obj) && ("eventname" in obj || "eventtime" in obj)) {
    return "not a CloudTrail record: keys are lower-cased (a data-lake rendering, not CloudTrail's casing)";
  }
  const first = issues[0];
  const where = first.path.length ? `${first.path.map(String).join(".")}: ` : "";
  const msg =
    first.message.startsWith("missing") || first.message.startsWith("empty")
      ? first.message
      : `${where}${first.message}`;
  return `not a CloudTrail record: ${msg}`;
}

/** Records with no eventID (partial exports) still need a stable identity for dedup. */
function syntheticId(obj: Record<string, unknown>): string {
  return `synthetic-${sha256Hex(JSON.stringify(obj)).slice(0, 32)}`;
}

function errorOf(r: CloudTrailRecord): EventError | undefined {
  if (r.errorCode)
    return r.errorMessage ? { code: r.errorCode, message: r.errorMessage } : { code: r.errorCode };
  // ConsoleLogin reports failure in responseElements, not errorCode (IAM-CT).
  const resp = r.responseElements as Record<string, unknown> | null | undefined;
  if (resp && typeof resp === "object" && resp.ConsoleLogin === "Failure") {
    return { code: "Failure", message: r.errorMessage ?? "ConsoleLogin failed" };
  }
  return undefined;
}

function resourcesOf(r: CloudTrailRecord): ResourceRef[] {
  if (!r.resources || r.resources.length === 0) return NO_RESOURCES;
  const out: ResourceRef[] = [];
  for (const x of r.resources) {
    if (x === null || typeof x !== "object") continue;
    const { ARN, type, accountId } = x as Record<string, unknown>;
    out.push({
      arn: typeof ARN === "string" ? ARN : undefined,
      type: typeof type === "string" ? type : undefined,
      account: typeof accountId === "string" ? accountId : undefined,
    });
  }
  return out;
}

function readOnlyOf(value: unknown): boolean | undefined {
  if (typeof value === "boolean") return value;
  if (typeof value === "string") {
    const v = value.toLowerCase();
    if (v === "true") return true;
    if (v === "false") return false;
  }
  return undefined;
}

/** assumed-role/<role>/<session> or federated-user/<name>, from an STS ARN (no role path, IAM-ID). */
export function parseStsArn(arn: string): {
  roleName?: string;
  sessionName?: string;
  federatedName?: string;
} {
  const i = arn.indexOf(":assumed-role/");
  if (i >= 0) {
    const rest = arn.slice(i + ":assumed-role/".length);
    const slash = rest.indexOf("/");
    return slash < 0
      ? { roleName: rest }
      : { roleName: rest.slice(0, slash), sessionName: rest.slice(slash + 1) };
  }
  const f = arn.indexOf(":federated-user/");
  if (f >= 0) return { federatedName: arn.slice(f + ":federated-user/".length) };
  return {};
}

/** The principal of a record without userIdentity: shared and frozen (nothing changes a principal). */
const NO_PRINCIPAL: Principal = Object.freeze(principal("", "unknown"));

/**
 * A principal with every field, absent ones undefined: all principals share one layout, so the
 * stages that read them (attribution, detection, alerts) see one kind of object, not one per
 * combination of fields present. JSON and toEqual read an undefined field as absent.
 */
function principal(type: string, display: string): Principal {
  return {
    type,
    arn: undefined,
    roleArn: undefined,
    roleName: undefined,
    sessionName: undefined,
    userName: undefined,
    accessKeyId: undefined,
    sourceIdentity: undefined,
    account: undefined,
    invokedBy: undefined,
    principalId: undefined,
    display,
  };
}

/**
 * Principals by the userIdentity object they were read from. A replay's decoder hands out one object
 * for all the records of a run with the same userIdentity (trail-scan.ts shares repeated values), so
 * nearly every record finds its principal here rather than building one: a principal depends on
 * nothing else, and nothing changes it, so events share it. An object parsed per record (JSON.parse)
 * is looked up once and its entry goes with it.
 */
const principalsByIdentity = new WeakMap<object, Principal>();

function principalOf(r: CloudTrailRecord): Principal {
  const ui = r.userIdentity;
  if (!ui) return NO_PRINCIPAL;
  const known = principalsByIdentity.get(ui);
  if (known) return known;
  // Frozen, as it may be shared: a stage that changed it would change other events' principal.
  const p = Object.freeze(principalOfIdentity(ui));
  principalsByIdentity.set(ui, p);
  return p;
}

function principalOfIdentity(ui: NonNullable<CloudTrailRecord["userIdentity"]>): Principal {
  const issuer = ui.sessionContext?.sessionIssuer ?? undefined;
  const p = principal(ui.type ?? "", "");
  if (ui.arn) p.arn = ui.arn;
  if (ui.accountId) p.account = ui.accountId;
  if (ui.accessKeyId) p.accessKeyId = ui.accessKeyId;
  if (ui.userName) p.userName = ui.userName;
  if (ui.invokedBy) p.invokedBy = ui.invokedBy;
  if (ui.principalId) p.principalId = ui.principalId;
  const sourceIdentity = ui.sessionContext?.sourceIdentity;
  if (sourceIdentity) p.sourceIdentity = sourceIdentity;
  if (issuer?.type === "Role") {
    if (issuer.arn) p.roleArn = issuer.arn;
    if (issuer.userName) p.roleName = issuer.userName;
  }
  if (ui.arn) {
    const sts = parseStsArn(ui.arn);
    if (sts.roleName && !p.roleName) p.roleName = sts.roleName;
    if (sts.sessionName) p.sessionName = sts.sessionName;
    if (sts.federatedName) p.sessionName = sts.federatedName;
  }
  p.display = displayName(p, ui.arn ?? undefined);
  return p;
}

function displayName(p: Principal, arn: string | undefined): string {
  if (arn) {
    // arn:partition:service::account:resource → resource (user/alice, assumed-role/R/s, root)
    let colon = -1;
    for (let n = 0; n < 5; n++) {
      colon = arn.indexOf(":", colon + 1);
      if (colon < 0) return arn;
    }
    return arn.slice(colon + 1);
  }
  if (p.userName) return p.userName;
  if (p.invokedBy) return p.invokedBy;
  if (p.principalId) return p.principalId;
  return p.type || "unknown";
}

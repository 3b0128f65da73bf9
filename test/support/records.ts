/**
 * CloudTrail records in the documented shapes (aws-formats.md §1.4, §1.5, §2.2, §3.2), with the
 * fields a test varies as parameters. Everything else is as AWS writes it.
 */
import { createHash } from "node:crypto";
import type { AuditEvent } from "../../src/event.ts";
import { normaliseRecord } from "../../src/normalise.ts";

export const ACCOUNT = "111122223333";

function id(seed: string): string {
  const h = createHash("md5").update(seed).digest("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

export type Identity = Record<string, unknown>;

export function iamUser(
  name: string,
  accessKeyId = `AKIA${name
    .toUpperCase()
    .replace(/[^A-Z0-9]/g, "")
    .padEnd(16, "0")
    .slice(0, 16)}`,
  extra: Identity = {},
): Identity {
  return {
    type: "IAMUser",
    principalId: `AIDA${createHash("md5").update(name).digest("hex").slice(0, 16).toUpperCase()}`,
    arn: `arn:aws:iam::${ACCOUNT}:user/${name}`,
    accountId: ACCOUNT,
    accessKeyId,
    userName: name,
    ...extra,
  };
}

export function roleSession(
  role: string,
  session: string,
  accessKeyId: string,
  creationDate: string,
  extra: { sourceIdentity?: string; account?: string } = {},
): Identity {
  const account = extra.account ?? ACCOUNT;
  const roleId = `AROA${createHash("md5").update(role).digest("hex").slice(0, 16).toUpperCase()}`;
  const sessionContext: Record<string, unknown> = {
    sessionIssuer: {
      type: "Role",
      principalId: roleId,
      arn: `arn:aws:iam::${account}:role/${role}`,
      accountId: account,
      userName: role,
    },
    webIdFederationData: {},
    attributes: { creationDate, mfaAuthenticated: "false" },
  };
  if (extra.sourceIdentity) sessionContext.sourceIdentity = extra.sourceIdentity;
  return {
    type: "AssumedRole",
    principalId: `${roleId}:${session}`,
    arn: `arn:aws:sts::${account}:assumed-role/${role}/${session}`,
    accountId: account,
    accessKeyId,
    sessionContext,
  };
}

export interface CallOptions {
  source?: string;
  region?: string;
  userAgent?: string;
  sourceIp?: string;
  requestParameters?: unknown;
  responseElements?: unknown;
  errorCode?: string;
  eventType?: string;
  readOnly?: boolean;
  extra?: Record<string, unknown>;
}

export function call(
  name: string,
  time: string,
  userIdentity: Identity,
  o: CallOptions = {},
): Record<string, unknown> {
  const source = o.source ?? "ec2.amazonaws.com";
  const region = o.region ?? "us-east-1";
  const seed = `${name}|${time}|${JSON.stringify(userIdentity)}|${JSON.stringify(o.requestParameters ?? null)}`;
  const r: Record<string, unknown> = {
    eventVersion: "1.11",
    userIdentity,
    eventTime: time,
    eventSource: source,
    eventName: name,
    awsRegion: region,
    sourceIPAddress: o.sourceIp ?? "198.51.100.23",
    userAgent:
      o.userAgent ?? "aws-cli/2.17.60 md/awscrt#0.21.2 ua/2.0 os/linux#6.8 md/arch#x86_64 lang/python#3.12.6",
    requestParameters: o.requestParameters ?? null,
    responseElements: o.responseElements ?? null,
    requestID: id(`req|${seed}`),
    eventID: id(seed),
    readOnly: o.readOnly ?? true,
    eventType: o.eventType ?? "AwsApiCall",
    managementEvent: true,
    recipientAccountId: ACCOUNT,
    eventCategory: "Management",
    ...o.extra,
  };
  if (o.errorCode) {
    r.errorCode = o.errorCode;
    r.errorMessage = `${o.errorCode}: not authorized`;
  }
  return r;
}

/** What some exports leave out of an STS issuance's responseElements.credentials. */
export interface CredentialOptions {
  /** Omit credentials.accessKeyId. */
  hideKey?: boolean;
  /** Omit credentials.expiration: the lifetime is then durationSeconds or STS's default. */
  hideExpiration?: boolean;
}

/**
 * An STS issuance's responseElements.credentials: the key, a session token, and the expiration
 * `seconds` after `time` (or `expiration` as given), less what `o` hides.
 */
function issuedCredentials(
  time: string,
  accessKeyId: string,
  seconds: number,
  o: CredentialOptions & { expiration?: string },
): Record<string, unknown> {
  const credentials: Record<string, unknown> = { sessionToken: `IQoJb3JpZ2luX2VjEXAMPLE${accessKeyId}` };
  if (!o.hideExpiration) credentials.expiration = o.expiration ?? expirationAfter(time, seconds);
  if (!o.hideKey) credentials.accessKeyId = accessKeyId;
  return credentials;
}

export interface AssumeRoleOptions extends CredentialOptions {
  tags?: Record<string, string>;
  incomingTransitiveTags?: Record<string, string>;
  sourceIdentity?: string;
  expiration?: string;
  userAgent?: string;
  sourceIp?: string;
  account?: string;
}

/** A successful sts:AssumeRole as CloudTrail logs it (IAM-CT role-chaining example shape). */
export function assumeRole(
  time: string,
  caller: Identity,
  role: string,
  session: string,
  accessKeyId: string,
  o: AssumeRoleOptions = {},
) {
  const account = o.account ?? ACCOUNT;
  const req: Record<string, unknown> = {
    roleArn: `arn:aws:iam::${account}:role/${role}`,
    roleSessionName: session,
    durationSeconds: 3600,
  };
  if (o.tags) req.tags = Object.entries(o.tags).map(([key, value]) => ({ key, value }));
  if (o.incomingTransitiveTags) req.incomingTransitiveTags = o.incomingTransitiveTags;
  if (o.sourceIdentity) req.sourceIdentity = o.sourceIdentity;
  const resp: Record<string, unknown> = {
    credentials: issuedCredentials(time, accessKeyId, 3600, o),
    assumedRoleUser: {
      assumedRoleId: `AROAEXAMPLE:${session}`,
      arn: `arn:aws:sts::${account}:assumed-role/${role}/${session}`,
    },
  };
  if (o.sourceIdentity) resp.sourceIdentity = o.sourceIdentity;
  return call("AssumeRole", time, caller, {
    source: "sts.amazonaws.com",
    requestParameters: req,
    responseElements: resp,
    userAgent: o.userAgent,
    sourceIp: o.sourceIp,
    extra: {
      resources: [
        { ARN: `arn:aws:iam::${account}:role/${role}`, accountId: account, type: "AWS::IAM::Role" },
      ],
    },
  });
}

/** The root user, as its calls name it (aws-formats.md §1.3 `Root` shape). */
export function rootUser(accessKeyId: string): Identity {
  return {
    type: "Root",
    principalId: ACCOUNT,
    arn: `arn:aws:iam::${ACCOUNT}:root`,
    accountId: ACCOUNT,
    accessKeyId,
  };
}

/**
 * An IAM user's (or root's) identity on calls made with temporary credentials: the user's own ARN,
 * an ASIA key, session attributes and an empty sessionIssuer (as in the invictus-ir trail).
 */
export function withTemporaryKey(caller: Identity, accessKeyId: string, creationDate: string): Identity {
  return {
    ...caller,
    accessKeyId,
    sessionContext: {
      sessionIssuer: {},
      webIdFederationData: {},
      attributes: { creationDate, mfaAuthenticated: "true" },
    },
  };
}

export interface GetSessionTokenOptions extends CredentialOptions {
  /**
   * requestParameters.durationSeconds; absent: STS's default 43200 s applies (and requestParameters is
   * null unless serialNumber is given).
   */
  durationSeconds?: number;
  serialNumber?: string;
  userAgent?: string;
}

/** A successful sts:GetSessionToken: credentials only, no assumed-role user. */
export function getSessionToken(
  time: string,
  caller: Identity,
  accessKeyId: string,
  o: GetSessionTokenOptions = {},
) {
  let req: Record<string, unknown> | null = null;
  if (o.durationSeconds !== undefined || o.serialNumber) {
    req = {};
    if (o.durationSeconds !== undefined) req.durationSeconds = o.durationSeconds;
    if (o.serialNumber) req.serialNumber = o.serialNumber;
  }
  return call("GetSessionToken", time, caller, {
    source: "sts.amazonaws.com",
    requestParameters: req,
    responseElements: { credentials: issuedCredentials(time, accessKeyId, o.durationSeconds ?? 43_200, o) },
    userAgent: o.userAgent,
  });
}

/**
 * A federated user's identity on the calls made with GetFederationToken credentials (aws-formats.md
 * §2.3): the federated-user ARN, the issuing IAM user as sessionIssuer.
 */
export function federatedUser(
  issuer: Identity,
  name: string,
  accessKeyId: string,
  creationDate: string,
): Identity {
  return {
    type: "FederatedUser",
    principalId: `${ACCOUNT}:${name}`,
    arn: `arn:aws:sts::${ACCOUNT}:federated-user/${name}`,
    accountId: ACCOUNT,
    accessKeyId,
    sessionContext: {
      sessionIssuer: {
        type: issuer.type,
        principalId: issuer.principalId,
        arn: issuer.arn,
        accountId: issuer.accountId,
        userName: issuer.userName,
      },
      webIdFederationData: {},
      attributes: { creationDate, mfaAuthenticated: "false" },
    },
  };
}

export interface GetFederationTokenOptions extends CredentialOptions {
  tags?: Record<string, string>;
}

/** A successful sts:GetFederationToken (aws-formats.md §2.3 shape). */
export function getFederationToken(
  time: string,
  caller: Identity,
  name: string,
  accessKeyId: string,
  o: GetFederationTokenOptions = {},
) {
  const req: Record<string, unknown> = { name, policy: '{"Version":"2012-10-17","Statement":[]}' };
  if (o.tags) req.tags = Object.entries(o.tags).map(([key, value]) => ({ key, value }));
  return call("GetFederationToken", time, caller, {
    source: "sts.amazonaws.com",
    requestParameters: req,
    responseElements: {
      // No durationSeconds in the request: STS's default 43200 s.
      credentials: issuedCredentials(time, accessKeyId, 43_200, o),
      federatedUser: {
        arn: `arn:aws:sts::${ACCOUNT}:federated-user/${name}`,
        federatedUserId: `${ACCOUNT}:${name}`,
      },
      packedPolicySize: 4,
    },
  });
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** `May 8, 2026, 10:05:00 AM`: the human format STS writes into credentials.expiration. */
export function expirationAfter(time: string, seconds: number): string {
  const d = new Date(new Date(time).getTime() + seconds * 1000);
  const h = d.getUTCHours();
  const hh = h % 12 === 0 ? 12 : h % 12;
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${MONTHS[d.getUTCMonth()]} ${d.getUTCDate()}, ${d.getUTCFullYear()}, ${hh}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} ${h < 12 ? "AM" : "PM"}`;
}

/** `records` as the pipeline's events (origin `test`, by position); fails loudly on one it refuses. */
export function auditEvents(records: Record<string, unknown>[]): AuditEvent[] {
  return records.map((record, index) => {
    const n = normaliseRecord(record, { source: "test", index });
    if (!n.ok) throw new Error(`test record does not normalise: ${n.reason}`);
    return n.event;
  });
}

/** The message JSON.parse gives for `text` (which must not be JSON): what an error naming it quotes. */
export function jsonError(text: string): string {
  try {
    JSON.parse(text);
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error("expected invalid JSON");
}

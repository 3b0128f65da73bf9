/**
 * AuditEvent: the one normalised shape every stage after reading works on.
 * Computed once per record by normalise.ts; `actor` is filled by attribution, `facts` by enrich.ts.
 */

export type ActorKind = "ai" | "human" | "service" | "unknown";
export type Confidence = "high" | "medium" | "low";

/** Confidences in order, for comparing them. */
export const CONFIDENCE_RANK: Readonly<Record<Confidence, number>> = { low: 0, medium: 1, high: 2 };

/** One named reason behind a verdict, with the value that triggered it. */
export interface Evidence {
  signal: string;
  value: string;
  /** eventID of the STS call that carried this signal to the session, when inherited. */
  issuedBy?: string;
  /** ARN of the parent session when the signal was inherited through role chaining. */
  via?: string;
  /** How strongly this signal alone says "AI" (AI signals only). */
  confidence?: Confidence;
}

export interface Actor {
  kind: ActorKind;
  confidence: Confidence;
  /** How the call was made: mcp-managed, mcp-self-hosted, agent-client, console, cli, sdk, service:<name>, … */
  via: string;
  evidence: Evidence[];
  /**
   * The credential session: the assumed-role / federated-user ARN for role and federation sessions
   * (the ARN embeds the account), else the principal's ARN or name (an IAM user's, also with
   * GetSessionToken credentials). Groups correlations per agent session.
   */
  session?: string;
}

export interface Principal {
  /** userIdentity.type: IAMUser, AssumedRole, Root, AWSService, FederatedUser, … ("" when absent). */
  type: string;
  arn?: string;
  /** IAM role ARN behind an assumed-role session (sessionIssuer.arn, includes the role path). */
  roleArn?: string;
  roleName?: string;
  sessionName?: string;
  userName?: string;
  accessKeyId?: string;
  sourceIdentity?: string;
  /** Account that owns the principal (userIdentity.accountId). */
  account?: string;
  invokedBy?: string;
  principalId?: string;
  /** A readable name: session/user name or ARN, for summaries and alert titles. */
  display: string;
}

export interface EventError {
  code: string;
  message?: string;
}

export interface ResourceRef {
  arn?: string;
  type?: string;
  account?: string;
}

/** A raw CloudTrail record: read-only, unknown fields kept, for Sigma field access. */
export type RawRecord = Readonly<Record<string, unknown>>;

/** The eventSource of an AWS service's calls by its prefix: `s3` → `s3.amazonaws.com`. */
export function awsEventSource(prefix: string): string {
  return `${prefix}.amazonaws.com`;
}

/** DynamoDB's eventSource: enrichment reads its batch and transaction writes (destructive, target). */
export const DYNAMODB_EVENT_SOURCE = awsEventSource("dynamodb");

/**
 * An event's identity: eventID scoped by the receiving account (aws-formats.md §4.6). The dedup key of
 * replay and Lambda, and what a batch's correlation-window id is hashed from: its own events' keys (Detector).
 */
export function eventKey(event: Pick<AuditEvent, "account" | "id">): string {
  return `evt#${event.account}#${event.id}`;
}

export interface AuditEvent {
  id: string;
  time: Date;
  account: string;
  region: string;
  /** eventSource, e.g. s3.amazonaws.com */
  service: string;
  /** eventName with version suffixes (20150331v2) stripped. */
  action: string;
  /** eventName as recorded. */
  rawAction: string;
  eventType: string;
  readOnly: boolean | undefined;
  /** eventCategory: Management | Data | NetworkActivity | Insight (Management when absent). */
  category: string;
  error?: EventError;
  principal: Principal;
  userAgent: string;
  sourceIp: string;
  resources: ResourceRef[];
  raw: RawRecord;
  actor: Actor;
  /**
   * Derived facts for rules (enrich.ts), read by their rule field names: "time.offHours", … Each is
   * computed on first read (getters, not own keys: read facts by name or through JSON.stringify,
   * which gives the facts that apply; Object.keys and spreading see none).
   */
  facts: Record<string, unknown>;
  /** Where the record came from: file (or s3://…, stdin) and index within it. */
  origin: RecordOrigin;
}

export interface RecordOrigin {
  source: string;
  index: number;
}

/**
 * A record that could not be normalised: counted and reported, never silently dropped. `source` and
 * `reason` are cleaned (processBatch), ready to print.
 */
export interface MalformedRecord {
  source: string;
  index: number;
  reason: string;
}

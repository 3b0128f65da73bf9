/**
 * The state store: everything that must survive between batches (DESIGN.md "State").
 * MemoryStore serves replay and tests; DynamoStore serves Lambda. Both pass test/state/contract.ts.
 * All methods are batched: a batch calls each at most a few times, never once per event.
 * `ttlSeconds` is relative to the store clock (`now`), expired items are never returned.
 */

import type { ActorKind, Evidence } from "../event.ts";

/** An STS credential issuance learned from AssumeRole*, GetFederationToken, GetSessionToken. */
export interface SessionRecord {
  /**
   * The session ARN (assumed-role or federated-user; for GetSessionToken the IAM user's or root's
   * ARN): the key events look it up by.
   */
  key: string;
  account: string;
  arn: string;
  accessKeyId?: string;
  /** eventID of the issuing STS call. */
  issuedBy: string;
  /** epoch ms */
  issuedAt: number;
  /** epoch ms; credential expiry (responseElements.credentials.expiration), or issuedAt + duration. */
  expiresAt: number;
  api: string;
  roleArn?: string;
  sessionName?: string;
  sourceIdentity?: string;
  /** Session tags as issued: request tags, principalTags and incoming transitive tags, merged. */
  tags: Record<string, string>;
  /** The caller of the issuing call, for role chaining: its session key when it used a session. */
  parentKey?: string;
  parentAccessKeyId?: string;
  /**
   * The caller used console sign-in credentials (see issuanceLogged): no logged call issued them, so
   * a chain through this session does not wait for the parent's issuance when it is not found.
   */
  parentIssuanceUnlogged?: boolean;
  /** Who made the issuing call (ARN or name), for evidence. */
  issuerPrincipal?: string;
  /** The issuing call's own AI signals (MCP, user agent, configured identity), inherited by the session. */
  issuerEvidence: Evidence[];
}

/** An event parked because a session in its chain was unknown when its batch ran. */
export interface ParkedEvent {
  /** The missing session key it waits for. */
  waitingFor: string;
  eventId: string;
  /** Raw record and where it came from. A store that persists it must redact secrets first (redactRecord). */
  raw: Record<string, unknown>;
  source: string;
  index: number;
  /** The actor kind the event was given while it waited: re-detection only matters if it changes. */
  kind?: ActorKind;
}

/** Distinct values kept per window bucket: enough for value_count thresholds, bounded memory. */
export const MAX_BUCKET_VALUES = 1000;
/**
 * Ids of the batches that added to a window bucket, kept so that a batch adds to it once: past this
 * many (a key hot enough for a thousand batches in one minute) a retried batch may count twice, rather
 * than the bucket outgrowing memory or DynamoDB's item size limit.
 */
export const MAX_BUCKET_BATCH_IDS = 1000;

export interface WindowIncrement {
  /** e.g. ruleId|groupValues */
  key: string;
  /** epoch minute (Math.floor(ms / 60000)) of the event time */
  minute: number;
  count: number;
  /** distinct values to remember in this bucket (value_count, temporal rule names) */
  values?: string[];
}

export interface WindowBucket {
  minute: number;
  count: number;
  values: string[];
}

/** Sorts buckets by minute in place, unless they already are (they mostly are; sort allocates). */
export function inMinuteOrder(buckets: WindowBucket[]): WindowBucket[] {
  for (let k = 1; k < buckets.length; k++) {
    if (buckets[k - 1].minute > buckets[k].minute) return buckets.sort((a, b) => a.minute - b.minute);
  }
  return buckets;
}

export interface Store {
  /** Store clock in epoch ms; TTLs count from here. */
  now(): number;

  putSessions(records: SessionRecord[], ttlSeconds: number): Promise<void>;
  /** Every known issuance for each session key (a session ARN can be issued many times). */
  getSessions(keys: string[]): Promise<Map<string, SessionRecord[]>>;

  park(events: ParkedEvent[], ttlSeconds: number): Promise<void>;
  /** Parked events waiting for each key. */
  parked(keys: string[]): Promise<Map<string, ParkedEvent[]>>;
  /** Remove parked entries once resolved (or re-parked under another key). */
  unpark(entries: { waitingFor: string; eventId: string }[]): Promise<void>;

  /** Which of these keys are marked seen (read only). */
  seen(keys: string[]): Promise<Set<string>>;
  /** Marks keys as seen, unconditionally and in bulk (after a batch is published). */
  markSeen(keys: string[], ttlSeconds: number): Promise<void>;

  /**
   * Adds each increment to its bucket (key and minute), once per `batchId` (up to
   * MAX_BUCKET_BATCH_IDS ids a bucket; see there): a batch that calls again with the same id, retried
   * after a crash or a failed write or running twice at once, adds only to the buckets it has not
   * added to yet.
   */
  addToWindows(increments: WindowIncrement[], ttlSeconds: number, batchId: string): Promise<void>;
  /** Buckets of each key with fromMinute <= minute <= toMinute. */
  readWindows(keys: string[], fromMinute: number, toMinute: number): Promise<Map<string, WindowBucket[]>>;

  /**
   * Small JSON documents (alert suppression state, …). What is read is read-only: MemoryStore hands
   * out the values it holds, so a caller changes a copy and writes that back with putItems.
   */
  getItems<T>(keys: string[]): Promise<Map<string, T>>;
  putItems<T>(items: { key: string; value: T }[], ttlSeconds: number): Promise<void>;
}

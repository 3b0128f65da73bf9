/**
 * STS sessions: learning issuances from AssumeRole* / GetFederationToken / GetSessionToken records,
 * and resolving an event's credential chain (its session, the session that issued it, …) through
 * the store.
 * Join rules (aws-formats.md §2.4): the issued access key id first; the session ARN only within
 * the credential's lifetime and only when a key is missing on either side; the ARN embeds the
 * account, so every join is scoped by account. GetSessionToken credentials are recorded under the
 * IAM user's (or root's) own ARN, which is not a session: they join by their access key id only,
 * within their lifetime.
 */

import { parseCreationDate, parseExpiration } from "../cloudtrail/records.ts";
import { type AuditEvent, awsEventSource, type Evidence } from "../event.ts";
import { asObject, scalarText } from "../json-values.ts";
import type { SessionRecord, Store } from "../state/store.ts";
import {
  type AgentMatchers,
  agentTagMatches,
  classifyUserAgent,
  eventChannel,
  recordAiSignals,
} from "./signals.ts";
import type { SharedVerdict } from "./verdict.ts";

const STS = awsEventSource("sts");

/** How an issuing API's credentials are named and joined. */
interface IssuingApi {
  /** Credential lifetime when neither the expiration nor durationSeconds is recorded. */
  defaultSeconds: number;
  /**
   * The credentials are the caller's own (GetSessionToken): recorded under the IAM user's or root's
   * ARN, which names every credential the principal ever had, so only the issued key joins.
   */
  callersOwn: boolean;
}

const ISSUING_APIS = new Map<string, IssuingApi>([
  ["AssumeRole", { defaultSeconds: 3600, callersOwn: false }],
  ["AssumeRoleWithSAML", { defaultSeconds: 3600, callersOwn: false }],
  ["AssumeRoleWithWebIdentity", { defaultSeconds: 3600, callersOwn: false }],
  ["GetFederationToken", { defaultSeconds: 43_200, callersOwn: false }],
  ["GetSessionToken", { defaultSeconds: 43_200, callersOwn: true }],
]);

/** The longest lifetime STS gives temporary credentials the root user asks for. */
const ROOT_SESSION_MAX_SECONDS = 3600;

function joinsByKeyOnly(r: SessionRecord): boolean {
  return ISSUING_APIS.get(r.api)?.callersOwn === true;
}

/** Principals whose temporary credentials are their own (GetSessionToken), under their own ARN. */
function hasOwnCredentials(type: string): boolean {
  return type === "IAMUser" || type === "Root";
}

/** Clock skew tolerated between an issuance's times and the calls made with it. */
const SKEW_MS = 5 * 60_000;
/** Role chains longer than this are not followed (and cycles stop here). */
const MAX_CHAIN_DEPTH = 8;

const ACCESS_KEY = /^[A-Z0-9]{16,128}$/;

function usableKey(value: unknown): string | undefined {
  return typeof value === "string" && ACCESS_KEY.test(value) ? value : undefined;
}

/**
 * The session an event's caller used, when it used temporary credentials an STS call may have
 * issued: a role or federation session, or an IAM user's or root's ASIA key (GetSessionToken, or a
 * console sign-in: see issuanceLogged). Long-term AKIA keys have no issuance to look up.
 * Most calls are an IAM user's with an AKIA key: they leave at the key's prefix, unparsed.
 */
function sessionKeyOf(event: AuditEvent): string | undefined {
  const p = event.principal;
  if (!p.arn) return undefined;
  if (p.type === "AssumedRole" || p.type === "FederatedUser") return p.arn;
  if (hasOwnCredentials(p.type) && p.accessKeyId?.startsWith("ASIA")) {
    // Calls an AWS service makes on the user's behalf (invokedBy: mostly the console's backend, "AWS
    // Internal") are the service's whatever the chain says.
    return p.invokedBy ? undefined : p.arn;
  }
  return undefined;
}

/**
 * Whether a logged STS call issued the credentials of a call with a session key (sessionKeyOf). Not
 * for an IAM user's or root's console session: its ASIA key is issued at sign-in, and a call waiting
 * for that issuance would wait in vain. The user agent, the caller's to write, only decides this
 * wait: the issuance is still looked up, and when found its AI evidence is the call's, whatever
 * browser the call claims to come from.
 */
function issuanceLogged(event: AuditEvent, m: AgentMatchers): boolean {
  if (!hasOwnCredentials(event.principal.type)) return true;
  return eventChannel(event, classifyUserAgent(event.userAgent, m)) !== "console";
}

/**
 * Session tags as issued: `tags` (list of {key,value}, either case), `principalTags`,
 * `incomingTransitiveTags`. A value that is not a string, number or boolean reads as "".
 */
export function issuedTags(requestParameters: Record<string, unknown> | undefined): Record<string, string> {
  const tags: Record<string, string> = {};
  if (!requestParameters) return tags;
  const incoming = asObject(requestParameters.incomingTransitiveTags);
  if (incoming) for (const [k, v] of Object.entries(incoming)) tags[k] = scalarText(v);
  const principalTags = asObject(requestParameters.principalTags);
  if (principalTags) for (const [k, v] of Object.entries(principalTags)) tags[k] = scalarText(v);
  if (Array.isArray(requestParameters.tags)) {
    for (const t of requestParameters.tags) {
      const tag = asObject(t);
      const key = tag?.key ?? tag?.Key;
      const value = tag?.value ?? tag?.Value;
      if (typeof key === "string" && value !== undefined) tags[key] = scalarText(value);
    }
  }
  return tags;
}

/** The session a successful STS issuing call created, or undefined for anything else. */
export function issuanceOf(event: AuditEvent, m: AgentMatchers): SessionRecord | undefined {
  const api = ISSUING_APIS.get(event.action);
  if (event.service !== STS || !api || event.error) return undefined;
  const req = asObject(event.raw.requestParameters);
  const resp = asObject(event.raw.responseElements);
  if (!resp) return undefined;
  const creds = asObject(resp.credentials);
  const arn = issuedArn(event, api, req, resp);
  if (!arn) return undefined;
  const accessKeyId = usableKey(creds?.accessKeyId);
  // Without its key, an issuance that joins by key only could never be joined.
  if (!accessKeyId && api.callersOwn) return undefined;
  const issuedAt = event.time.getTime();
  const asked = typeof req?.durationSeconds === "number" ? req.durationSeconds : api.defaultSeconds;
  // STS gives the root user's GetSessionToken / GetFederationToken credentials an hour at most.
  const duration = event.principal.type === "Root" ? Math.min(asked, ROOT_SESSION_MAX_SECONDS) : asked;
  const expiresAt = parseExpiration(creds?.expiration)?.getTime() ?? issuedAt + duration * 1000;
  const caller = event.principal;
  const record: SessionRecord = {
    key: arn,
    account: arnAccount(arn) ?? event.account,
    arn,
    issuedBy: event.id,
    issuedAt,
    expiresAt,
    api: event.action,
    tags: issuedTags(req),
    issuerPrincipal: caller.arn ?? caller.display,
    issuerEvidence: recordAiSignals(event, m).map((s) => ({ ...s.evidence, confidence: s.confidence })),
  };
  if (accessKeyId) record.accessKeyId = accessKeyId;
  const roleArn = typeof req?.roleArn === "string" ? req.roleArn : undefined;
  if (roleArn) record.roleArn = roleArn;
  const sessionName = req?.roleSessionName ?? req?.name;
  if (typeof sessionName === "string") record.sessionName = sessionName;
  const sourceIdentity = req?.sourceIdentity ?? resp.sourceIdentity;
  if (typeof sourceIdentity === "string") record.sourceIdentity = sourceIdentity;
  const parentKey = sessionKeyOf(event);
  if (parentKey) {
    record.parentKey = parentKey;
    if (caller.accessKeyId) record.parentAccessKeyId = caller.accessKeyId;
    if (!issuanceLogged(event, m)) record.parentIssuanceUnlogged = true;
  }
  return record;
}

function issuedArn(
  event: AuditEvent,
  api: IssuingApi,
  req: Record<string, unknown> | undefined,
  resp: Record<string, unknown>,
): string | undefined {
  if (api.callersOwn) {
    // Its calls with the credentials name the user's (or root's) own ARN.
    const p = event.principal;
    return hasOwnCredentials(p.type) && p.arn?.startsWith("arn:") ? p.arn : undefined;
  }
  const arn = asObject(resp.assumedRoleUser)?.arn ?? asObject(resp.federatedUser)?.arn;
  if (typeof arn === "string" && arn.startsWith("arn:")) return arn;
  // Older or trimmed records: rebuild the session ARN from the role ARN and the session name.
  const roleArn = req?.roleArn;
  const session = req?.roleSessionName;
  if (typeof roleArn === "string" && typeof session === "string") {
    const m = /^arn:([^:]+):iam::(\d+):role\/(?:.*\/)?([^/]+)$/.exec(roleArn);
    if (m) return `arn:${m[1]}:sts::${m[2]}:assumed-role/${m[3]}/${session}`;
  }
  if (event.action === "GetFederationToken" && typeof req?.name === "string" && event.principal.account) {
    return `arn:aws:sts::${event.principal.account}:federated-user/${req.name}`;
  }
  return undefined;
}

function arnAccount(arn: string): string | undefined {
  return /^arn:[^:]+:[^:]+:[^:]*:(\d{12}):/.exec(arn)?.[1];
}

/**
 * Which issuance of a session ARN a call used: the one that issued its access key; else (a key
 * missing on either side) the one whose lifetime covers the call and whose issue time matches the
 * call's sessionContext creationDate when the record has one. A GetSessionToken issuance joins only
 * by its key, and only within its lifetime.
 */
export function matchIssuance(
  records: SessionRecord[],
  accessKeyId: string | undefined,
  at: number,
  creationDate?: number,
): SessionRecord | undefined {
  const key = usableKey(accessKeyId);
  if (key) {
    const exact = records.find((r) => r.accessKeyId === key);
    if (exact && (!joinsByKeyOnly(exact) || withinLifetime(exact, at))) return exact;
  }
  let best: SessionRecord | undefined;
  for (const r of records) {
    if (joinsByKeyOnly(r) || (key && r.accessKeyId)) continue;
    if (!withinLifetime(r, at)) continue;
    if (creationDate !== undefined && Math.abs(creationDate - r.issuedAt) > SKEW_MS) continue;
    if (!best || r.issuedAt > best.issuedAt || (r.issuedAt === best.issuedAt && r.issuedBy > best.issuedBy))
      best = r;
  }
  return best;
}

function withinLifetime(r: SessionRecord, at: number): boolean {
  return at >= r.issuedAt - SKEW_MS && at <= r.expiresAt + SKEW_MS;
}

/** What the credential chain behind an event says. */
export interface ChainResolution {
  /** The event's own session issuance, when found. */
  session?: SessionRecord;
  /** AI evidence carried by the chain (tags, the issuing calls' own signals, parents'); none without `session`. */
  aiEvidence: Evidence[];
  /** Non-AI facts about the chain, for the evidence of human verdicts; none without `session`. */
  facts: Evidence[];
  /** The first session key in the chain that the store does not know: the event waits for it. */
  missing?: string;
  /** Verdicts made from this resolution, shared by the calls that get the same one (verdict.ts). */
  verdicts?: SharedVerdict[];
}

/** A chain resolution shares these when it found nothing: resolutions are read-only. */
const NO_EVIDENCE: readonly Evidence[] = Object.freeze([]);

/** The resolution of a call whose issuance is not found and is not waited for (issuanceLogged). */
const NOTHING_FOUND: ChainResolution = Object.freeze({
  aiEvidence: NO_EVIDENCE as Evidence[],
  facts: NO_EVIDENCE as Evidence[],
});

/** Evidence a session's chain carries to a call, marked with the child session it came through. */
function carried(e: Evidence, viaArn: string | undefined): Evidence {
  return viaArn === undefined ? e : { ...e, via: viaArn };
}

/** Fills `keys` with each event's session key (see sessionKeyOf); returns the positions that have one. */
function withSessionKeys(events: readonly AuditEvent[], keys: (string | undefined)[]): number[] {
  const pending: number[] = [];
  for (let i = 0; i < events.length; i++) {
    keys[i] = sessionKeyOf(events[i]);
    if (keys[i] !== undefined) pending.push(i);
  }
  return pending;
}

/**
 * Resolves chains for many events with batched store reads: every round fetches all keys the
 * previous round found missing from the cache, so a batch costs one read per chain depth.
 * Resolutions are read-only and shared: every call made with one issuance gets the same one.
 */
export class SessionResolver {
  /** key → issuances; an empty list records a known miss. */
  private readonly cache = new Map<string, SessionRecord[]>();
  /**
   * The chain from an issuance on depends only on that issuance and the cache, which does not
   * change for keys already in it: walked once per issuance, not once per call.
   */
  private readonly fromIssuance = new Map<SessionRecord, ChainResolution>();
  /** Calls of one session repeat its creationDate: each distinct text is parsed once. */
  private readonly creationDates = new Map<string, number | undefined>();

  constructor(
    private readonly store: Store,
    private readonly m: AgentMatchers,
  ) {}

  /** Issuances learned in this batch are visible before the store round-trip. */
  remember(records: SessionRecord[]): void {
    for (const r of records) {
      const list = this.cache.get(r.key) ?? [];
      if (!list.some((x) => x.issuedBy === r.issuedBy)) list.push(r);
      this.cache.set(r.key, list);
    }
  }

  /** Each event's chain, by position in `events` (undefined: no temporary credentials to look up, see sessionKeyOf). */
  async resolveAll(events: AuditEvent[]): Promise<(ChainResolution | undefined)[]> {
    // Positions, not a Map keyed by event: a Map gives every event object an identity hash.
    const out: (ChainResolution | undefined)[] = new Array(events.length).fill(undefined);
    // Each event's session key, worked out once: resolve() is asked again in every round.
    const keys: (string | undefined)[] = new Array(events.length);
    let pending = withSessionKeys(events, keys);
    for (let round = 0; round <= MAX_CHAIN_DEPTH && pending.length; round++) {
      const toFetch = new Set<string>();
      pending = this.resolveRound(events, keys, pending, out, toFetch);
      if (toFetch.size) await this.fetch([...toFetch]);
    }
    return out;
  }

  /**
   * One round of resolveAll: resolves the `pending` events (positions) it can into `out`, adds the
   * keys still to fetch to `toFetch`, and returns the positions to try again. Sync, apart from the
   * async resolveAll, so that V8 optimises the loop on its own (see matchEvents in rules/engine.ts).
   */
  private resolveRound(
    events: readonly AuditEvent[],
    keys: readonly (string | undefined)[],
    pending: readonly number[],
    out: (ChainResolution | undefined)[],
    toFetch: Set<string>,
  ): number[] {
    const retry: number[] = [];
    for (let p = 0; p < pending.length; p++) {
      const i = pending[p];
      const r = this.resolve(events[i], keys[i] as string);
      if ("fetch" in r) {
        toFetch.add(r.fetch);
        retry.push(i);
      } else out[i] = r;
    }
    return retry;
  }

  private async fetch(keys: string[]): Promise<void> {
    const found = await this.store.getSessions(keys);
    for (const k of keys) {
      const fromStore = found.get(k) ?? [];
      const known = this.cache.get(k) ?? [];
      for (const r of fromStore) if (!known.some((x) => x.issuedBy === r.issuedBy)) known.push(r);
      this.cache.set(k, known);
    }
  }

  private creationDateOf(event: AuditEvent): number | undefined {
    const created = asObject(
      asObject(asObject(event.raw.userIdentity)?.sessionContext)?.attributes,
    )?.creationDate;
    if (typeof created !== "string") return undefined;
    if (!this.creationDates.has(created)) {
      this.creationDates.set(created, parseCreationDate(created)?.getTime());
    }
    return this.creationDates.get(created);
  }

  /** Finds the event's own issuance in the cache; asks for a fetch when its key has not been looked up yet. */
  private resolve(event: AuditEvent, key: string): ChainResolution | { fetch: string } {
    const known = this.cache.get(key);
    if (known === undefined) return { fetch: key };
    const session = matchIssuance(
      known,
      event.principal.accessKeyId,
      event.time.getTime(),
      this.creationDateOf(event),
    );
    if (!session) {
      if (!issuanceLogged(event, this.m)) return NOTHING_FOUND;
      return { ...NOTHING_FOUND, missing: key };
    }
    let chain = this.fromIssuance.get(session);
    if (!chain) {
      const walked = this.walk(session);
      if ("fetch" in walked) return walked;
      chain = walked;
      this.fromIssuance.set(session, chain);
    }
    return chain;
  }

  /** Walks the chain from an issuance up through its parents; asks for a fetch when a parent key has not been looked up yet. */
  private walk(first: SessionRecord): ChainResolution | { fetch: string } {
    const res: ChainResolution = { session: first, aiEvidence: [], facts: [], verdicts: undefined };
    let session = first;
    let childArn: string | undefined;
    const visited = new Set<string>();
    for (let depth = 0; depth < MAX_CHAIN_DEPTH; depth++) {
      if (visited.has(session.issuedBy)) return res;
      visited.add(session.issuedBy);
      // Signals inherited through role chaining name the session they came through.
      const viaArn = childArn === undefined ? undefined : session.arn;
      for (const tag of agentTagMatches(session.tags, this.m)) {
        res.aiEvidence.push(
          carried(
            { signal: "sessionTag", value: tag, issuedBy: session.issuedBy, confidence: "high" },
            viaArn,
          ),
        );
      }
      const sourceIdentity = session.sourceIdentity;
      if (sourceIdentity && this.m.sourceIdentities.some((re) => re.test(sourceIdentity))) {
        res.aiEvidence.push(
          carried(
            {
              signal: "agentSourceIdentity",
              value: sourceIdentity,
              issuedBy: session.issuedBy,
              confidence: "high",
            },
            viaArn,
          ),
        );
      }
      for (const e of session.issuerEvidence) {
        res.aiEvidence.push(
          carried({ ...e, signal: `issuer.${e.signal}`, issuedBy: session.issuedBy }, viaArn),
        );
      }
      res.facts.push(
        carried(
          {
            signal: "sessionIssuedBy",
            value: `${session.api} by ${session.issuerPrincipal ?? "unknown"}`,
            issuedBy: session.issuedBy,
          },
          viaArn,
        ),
      );
      // A chain deeper than MAX_CHAIN_DEPTH is cut here, its parent not looked up.
      if (!session.parentKey || depth === MAX_CHAIN_DEPTH - 1) return res;
      const known = this.cache.get(session.parentKey);
      if (known === undefined) return { fetch: session.parentKey };
      const parent = matchIssuance(known, session.parentAccessKeyId, session.issuedAt, undefined);
      if (!parent) {
        if (!session.parentIssuanceUnlogged) res.missing = session.parentKey;
        return res;
      }
      childArn = session.arn;
      session = parent;
    }
    return res;
  }
}

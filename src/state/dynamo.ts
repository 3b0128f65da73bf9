/**
 * DynamoStore: the Store (src/state/store.ts) over one on-demand DynamoDB table, for the Lambda.
 *
 * Item layout (pk, sk):
 *   session#<key>  <issuedBy>   doc = SessionRecord JSON
 *   park#<key>     <eventId>    gz  = gzip(ParkedEvent JSON)  (binary: a 256 KB record fits in 400 KB)
 *   once#<key>     #            seen marker (event ids): presence and `exp` only
 *   win#<key>      <minute, zero-padded>  n = count (ADD), vals = string set of "v:"-prefixed values,
 *                                         batches = string set of the ids of the batches that added
 *   item#<key>     #            doc = JSON value
 * Every item carries `exp` (epoch ms, what reads filter on: TTL deletion is lazy, days late) and `ttl`
 * (epoch seconds, the table's TTL attribute so DynamoDB eventually deletes it).
 * Keys over 1000 bytes and window values over 200 bytes are stored as a head plus a hash of the whole
 * (boundedKeyPart): DynamoDB bounds key sizes and items, and these strings can come from records. Such a
 * value reads back in that shortened form; distinct values stay distinct.
 */

import { gunzipSync, gzipSync } from "node:zlib";
import { ConditionalCheckFailedException, type DynamoDBClient } from "@aws-sdk/client-dynamodb";
import {
  BatchGetCommand,
  BatchWriteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  type QueryCommandInput,
  UpdateCommand,
} from "@aws-sdk/lib-dynamodb";
import { chunkByCount } from "../chunk.ts";
import { sha256Hex } from "../hash.ts";
import { type LeftoverRetry, retryLeftovers, type Sleep, sleep } from "../retry.ts";
import { redactRecord } from "../sanitize.ts";
import {
  inMinuteOrder,
  MAX_BUCKET_BATCH_IDS,
  MAX_BUCKET_VALUES,
  type ParkedEvent,
  type SessionRecord,
  type Store,
  type WindowBucket,
  type WindowIncrement,
} from "./store.ts";

/** The table every DynamoStore needs; serverless.yml and the tests create exactly this. */
export const storeTableDefinition = {
  keySchema: [
    { AttributeName: "pk", KeyType: "HASH" },
    { AttributeName: "sk", KeyType: "RANGE" },
  ],
  attributeDefinitions: [
    { AttributeName: "pk", AttributeType: "S" },
    { AttributeName: "sk", AttributeType: "S" },
  ],
  billingMode: "PAY_PER_REQUEST",
  /** Number, epoch seconds. */
  ttlAttribute: "ttl",
} as const;

export interface DynamoStoreOptions {
  /** A DynamoDBClient (or a DynamoDBDocumentClient) configured for the table's region. */
  client: DynamoDBClient | DynamoDBDocumentClient;
  tableName: string;
  /** Store clock in epoch ms (tests move it); TTLs and expiry filtering use it. */
  clock?: () => number;
  /** Parallel requests per call (conditional puts, queries, batch chunks). */
  concurrency?: number;
  /** Attempts for BatchWrite/BatchGet leftovers (UnprocessedItems/Keys) before giving up. */
  maxAttempts?: number;
  /** Backoff sleep; injectable so tests need not wait. */
  sleep?: Sleep;
}

/** Largest stored item we aim for: DynamoDB's limit is 400 KB including attribute names. */
const MAX_ITEM_BYTES = 380 * 1024;
/** Bulky record fields dropped, in this order, from a parked record that would not fit even compressed. */
const TRIMMABLE_FIELDS = [
  "responseElements",
  "requestParameters",
  "additionalEventData",
  "serviceEventDetails",
];
const SINGLE_SK = "#";
const MINUTE_DIGITS = 12;

type Item = Record<string, unknown>;
type WriteRequest = { PutRequest: { Item: Item } } | { DeleteRequest: { Key: { pk: string; sk: string } } };

function padMinute(minute: number): string {
  return String(minute).padStart(MINUTE_DIGITS, "0");
}

/** Key attributes are bounded (partition key 2048 bytes, sort key 1024): longer keys keep a head + hash. */
const MAX_KEY_BYTES = 1000;
/** Window values are attacker-influenced (user agents, names): bounded so 1000 of them fit in one item. */
const MAX_VALUE_BYTES = 200;

function digest(text: string): string {
  return sha256Hex(text).slice(0, 32);
}

/** `text` if short enough, else a UTF-8-safe head and a hash of the whole, so distinct stays distinct. */
export function boundedKeyPart(text: string, maxBytes: number): string {
  if (Buffer.byteLength(text) <= maxBytes) return text;
  let head = text.slice(0, maxBytes - 40);
  while (Buffer.byteLength(head) > maxBytes - 40) head = head.slice(0, -1);
  // never end on half a surrogate pair: DynamoDB takes only valid UTF-8
  if (/[\uD800-\uDBFF]$/.test(head)) head = head.slice(0, -1);
  return `${head}…#${digest(text)}`;
}

const pkOf = (prefix: string, key: string) => boundedKeyPart(`${prefix}#${key}`, MAX_KEY_BYTES);
const skOf = (sk: string) => boundedKeyPart(sk, MAX_KEY_BYTES);

/** String sets cannot hold "" and must not be empty: store every value with a prefix. */
const encodeValue = (v: string) => `v:${boundedKeyPart(v, MAX_VALUE_BYTES)}`;
const decodeValue = (v: string) => v.slice(2);

/** Of `values`, those a live bucket lacks, as many as still fit under MAX_BUCKET_VALUES. */
function valuesThatFit(values: string[], bucket: Item): string[] {
  const have = (bucket.vals as Set<string> | undefined) ?? new Set<string>();
  return values.filter((v) => !have.has(encodeValue(v))).slice(0, Math.max(0, MAX_BUCKET_VALUES - have.size));
}

async function forEachLimit<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++];
      await fn(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

function isConditionFailure(err: unknown): boolean {
  return (
    err instanceof ConditionalCheckFailedException ||
    (err instanceof Error && err.name === "ConditionalCheckFailedException")
  );
}

/**
 * Secrets are removed where a parked record leaves the process, with limits loose enough that
 * nothing a rule reads is cut (a record is ≤ 256 KB; oversize items are trimmed below instead).
 */
const PARKED_RECORD_LIMITS = { maxString: 256 * 1024, maxDepth: 32, maxEntries: 10_000 };

/**
 * Serialises a parked event so its item stays under the DynamoDB item limit. CloudTrail records are at most
 * 256 KB of JSON and compress well, so trimming only happens for pathological input; what was dropped is
 * listed in `raw.agenttrailTrimmed` so the pipeline can tell.
 */
export function encodeParkedEvent(parked: ParkedEvent, maxBytes = MAX_ITEM_BYTES): Uint8Array {
  const event: ParkedEvent = { ...parked, raw: redactRecord(parked.raw, PARKED_RECORD_LIMITS) };
  let gz = gzipSync(JSON.stringify(event));
  if (gz.byteLength <= maxBytes) return gz;
  const raw: Record<string, unknown> = { ...event.raw };
  const trimmed: string[] = [];
  for (const field of TRIMMABLE_FIELDS) {
    if (!(field in raw)) continue;
    delete raw[field];
    trimmed.push(field);
    gz = gzipSync(JSON.stringify({ ...event, raw: { ...raw, agenttrailTrimmed: trimmed } }));
    if (gz.byteLength <= maxBytes) return gz;
  }
  throw new Error(
    `parked event ${event.eventId} from ${event.source}#${event.index} is ${gz.byteLength} bytes compressed ` +
      `after trimming ${trimmed.join(", ") || "nothing"}: too large for a DynamoDB item`,
  );
}

export class DynamoStore implements Store {
  private readonly doc: DynamoDBDocumentClient;
  private readonly table: string;
  private readonly clock: () => number;
  private readonly concurrency: number;
  private readonly maxAttempts: number;
  private readonly sleep: Sleep;

  constructor(opts: DynamoStoreOptions) {
    this.doc =
      opts.client instanceof DynamoDBDocumentClient
        ? opts.client
        : DynamoDBDocumentClient.from(opts.client, { marshallOptions: { removeUndefinedValues: true } });
    this.table = opts.tableName;
    this.clock = opts.clock ?? Date.now;
    this.concurrency = Math.max(1, opts.concurrency ?? 16);
    this.maxAttempts = Math.max(1, opts.maxAttempts ?? 8);
    this.sleep = opts.sleep ?? sleep;
  }

  now(): number {
    return this.clock();
  }

  private expiry(ttlSeconds: number): { exp: number; ttl: number } {
    const exp = this.now() + ttlSeconds * 1000;
    return { exp, ttl: Math.ceil(exp / 1000) };
  }

  private live(item: Item | undefined): boolean {
    return item !== undefined && typeof item.exp === "number" && item.exp > this.now();
  }

  /** Leftovers of a batch call are sent again after min(2 s, 25 ms·2^attempt), half of it jittered. */
  private leftoverRetry<T>(exhausted: (left: T[], attempts: number) => Error): LeftoverRetry<T> {
    return {
      attempts: this.maxAttempts,
      delayMs: (attempt) => Math.min(2000, 25 * 2 ** attempt) * (0.5 + Math.random() / 2),
      exhausted,
      sleep: this.sleep,
    };
  }

  // ---- sessions -------------------------------------------------------------------------------------

  async putSessions(records: SessionRecord[], ttlSeconds: number): Promise<void> {
    const { exp, ttl } = this.expiry(ttlSeconds);
    await this.batchWrite(
      records.map((r) => ({
        PutRequest: {
          Item: { pk: pkOf("session", r.key), sk: skOf(r.issuedBy), doc: JSON.stringify(r), exp, ttl },
        },
      })),
    );
  }

  async getSessions(keys: string[]): Promise<Map<string, SessionRecord[]>> {
    return this.queryLive("session", keys, (i) => JSON.parse(String(i.doc)) as SessionRecord);
  }

  // ---- parked events --------------------------------------------------------------------------------

  async park(events: ParkedEvent[], ttlSeconds: number): Promise<void> {
    const { exp, ttl } = this.expiry(ttlSeconds);
    await this.batchWrite(
      events.map((e) => ({
        PutRequest: {
          Item: { pk: pkOf("park", e.waitingFor), sk: skOf(e.eventId), gz: encodeParkedEvent(e), exp, ttl },
        },
      })),
    );
  }

  async parked(keys: string[]): Promise<Map<string, ParkedEvent[]>> {
    return this.queryLive(
      "park",
      keys,
      (i) => JSON.parse(gunzipSync(i.gz as Uint8Array).toString("utf8")) as ParkedEvent,
    );
  }

  async unpark(entries: { waitingFor: string; eventId: string }[]): Promise<void> {
    await this.batchWrite(
      entries.map((e) => ({
        DeleteRequest: { Key: { pk: pkOf("park", e.waitingFor), sk: skOf(e.eventId) } },
      })),
    );
  }

  // ---- seen markers --------------------------------------------------------------------------------

  /**
   * One BatchGet for the keys (then one BatchWrite in markSeen). A marker that has expired but not yet
   * been deleted by TTL counts as unseen, and marking it again overwrites it.
   */

  async seen(keys: string[]): Promise<Set<string>> {
    return new Set((await this.getLiveSingles("once", keys, () => true)).keys());
  }

  async markSeen(keys: string[], ttlSeconds: number): Promise<void> {
    const { exp, ttl } = this.expiry(ttlSeconds);
    await this.batchWrite(
      [...new Set(keys)].map((key) => ({
        PutRequest: { Item: { pk: pkOf("once", key), sk: SINGLE_SK, exp, ttl } },
      })),
    );
  }

  // ---- correlation windows --------------------------------------------------------------------------

  async addToWindows(increments: WindowIncrement[], ttlSeconds: number, batchId: string): Promise<void> {
    // Merge increments of one bucket first: one write per bucket per call.
    const merged = new Map<string, { key: string; minute: number; count: number; values: Set<string> }>();
    for (const inc of increments) {
      const id = `${inc.key}\u0000${inc.minute}`;
      let m = merged.get(id);
      if (!m) {
        m = { key: inc.key, minute: inc.minute, count: 0, values: new Set() };
        merged.set(id, m);
      }
      m.count += inc.count;
      for (const v of inc.values ?? []) m.values.add(v);
    }
    const { exp, ttl } = this.expiry(ttlSeconds);
    await forEachLimit([...merged.values()], this.concurrency, (m) => this.addToBucket(m, batchId, exp, ttl));
  }

  /**
   * ADD to a live bucket; a bucket whose `exp` passed (TTL not yet applied) starts again from zero, as in
   * MemoryStore. Values stop being added at MAX_BUCKET_VALUES (concurrent writers may overshoot slightly).
   * The write is conditional on the bucket not holding `batchId` and adds it, in one item, so a batch adds
   * to a bucket once however often it is retried or run at once; ids stop being kept at
   * MAX_BUCKET_BATCH_IDS, where the bucket, not the item size limit, gives way.
   */
  private async addToBucket(
    bucket: { key: string; minute: number; count: number; values: Set<string> },
    batchId: string,
    exp: number,
    ttl: number,
  ): Promise<void> {
    const { key, minute, count } = bucket;
    const values = [...bucket.values].slice(0, MAX_BUCKET_VALUES);
    const Key = { pk: pkOf("win", key), sk: padMinute(minute) };
    const now = this.now();
    const liveAndNew = "(attribute_not_exists(pk) OR #exp > :now) AND NOT contains(#b, :id)";
    // The bucket as read after a write's condition failed: live, without this batch's id. Until then
    // the write adds every value under the cap condition; after, only the values that still fit.
    let read: Item | undefined;
    for (let attempt = 0; attempt < this.maxAttempts; attempt++) {
      const names: Record<string, string> = {
        "#exp": "exp",
        "#ttl": "ttl",
        "#n": "n",
        "#m": "minute",
        "#b": "batches",
      };
      const vals: Record<string, unknown> = {
        ":now": now,
        ":exp": exp,
        ":ttl": ttl,
        ":c": count,
        ":m": minute,
        ":id": batchId,
      };
      let update = "SET #exp = :exp, #ttl = :ttl, #m = :m ADD #n :c";
      let condition = liveAndNew;
      // A bucket read with MAX_BUCKET_BATCH_IDS ids keeps no more: the batch adds without its id.
      const ids = (read?.batches as Set<string> | undefined)?.size ?? 0;
      if (ids < MAX_BUCKET_BATCH_IDS) {
        vals[":ids"] = new Set([batchId]);
        vals[":maxIds"] = MAX_BUCKET_BATCH_IDS;
        update += ", #b :ids";
        condition += " AND (attribute_not_exists(#b) OR size(#b) < :maxIds)";
      }
      const toAdd = read ? valuesThatFit(values, read) : values;
      if (toAdd.length) {
        names["#vals"] = "vals";
        vals[":vals"] = new Set(toAdd.map(encodeValue));
        update += ", #vals :vals";
        if (!read) {
          vals[":room"] = MAX_BUCKET_VALUES - toAdd.length;
          condition += " AND (attribute_not_exists(#vals) OR size(#vals) <= :room)";
        }
      }
      try {
        await this.doc.send(
          new UpdateCommand({
            TableName: this.table,
            Key,
            UpdateExpression: update,
            ConditionExpression: condition,
            ExpressionAttributeNames: names,
            ExpressionAttributeValues: vals,
          }),
        );
        return;
      } catch (err) {
        if (!isConditionFailure(err)) throw err;
      }
      const { Item: old } = await this.doc.send(
        new GetCommand({ TableName: this.table, Key, ConsistentRead: true }),
      );
      if (!this.live(old)) {
        // Expired bucket still stored: replace it, unless someone else just did.
        try {
          const item: Item = { ...Key, minute, n: count, exp, ttl, batches: new Set([batchId]) };
          if (values.length) item.vals = new Set(values.map(encodeValue));
          await this.doc.send(
            new PutCommand({
              TableName: this.table,
              Item: item,
              ConditionExpression: "attribute_not_exists(pk) OR #exp <= :now",
              ExpressionAttributeNames: { "#exp": "exp" },
              ExpressionAttributeValues: { ":now": now },
            }),
          );
          return;
        } catch (err) {
          if (!isConditionFailure(err)) throw err;
          continue;
        }
      }
      if ((old?.batches as Set<string> | undefined)?.has(batchId)) return;
      read = old;
    }
    throw new Error(`window ${key} minute ${minute}: gave up after ${this.maxAttempts} conflicting writes`);
  }

  async readWindows(
    keys: string[],
    fromMinute: number,
    toMinute: number,
  ): Promise<Map<string, WindowBucket[]>> {
    if (toMinute < fromMinute) return new Map();
    const out = await this.queryLive(
      "win",
      keys,
      (i): WindowBucket => ({
        minute: Number(i.minute),
        count: Number(i.n ?? 0),
        values: [...((i.vals as Set<string> | undefined) ?? [])].map(decodeValue),
      }),
      { from: padMinute(fromMinute), to: padMinute(toMinute) },
    );
    for (const buckets of out.values()) inMinuteOrder(buckets);
    return out;
  }

  // ---- small documents ------------------------------------------------------------------------------

  async getItems<T>(keys: string[]): Promise<Map<string, T>> {
    return this.getLiveSingles("item", keys, (i) => JSON.parse(String(i.doc)) as T);
  }

  async putItems<T>(items: { key: string; value: T }[], ttlSeconds: number): Promise<void> {
    const { exp, ttl } = this.expiry(ttlSeconds);
    await this.batchWrite(
      items.map(({ key, value }) => ({
        PutRequest: { Item: { pk: pkOf("item", key), sk: SINGLE_SK, doc: JSON.stringify(value), exp, ttl } },
      })),
    );
  }

  // ---- plumbing -------------------------------------------------------------------------------------

  /** The live items of each distinct key's partition (within a sort-key range), decoded; keys with none are left out. */
  private async queryLive<T>(
    kind: string,
    keys: string[],
    decode: (item: Item) => T,
    range?: { from: string; to: string },
  ): Promise<Map<string, T[]>> {
    const out = new Map<string, T[]>();
    await forEachLimit([...new Set(keys)], this.concurrency, async (key) => {
      const items = await this.queryAll({ pk: pkOf(kind, key), ...range });
      const found = items.filter((i) => this.live(i)).map(decode);
      if (found.length) out.set(key, found);
    });
    return out;
  }

  /** The live single-item documents of the distinct keys (BatchGet), decoded; keys without one are left out. */
  private async getLiveSingles<T>(
    kind: string,
    keys: string[],
    decode: (item: Item) => T,
  ): Promise<Map<string, T>> {
    const keyByPk = new Map([...new Set(keys)].map((key) => [pkOf(kind, key), key]));
    const items = await this.batchGet([...keyByPk.keys()].map((pk) => ({ pk, sk: SINGLE_SK })));
    const out = new Map<string, T>();
    for (const i of items) {
      const key = keyByPk.get(String(i.pk));
      if (key !== undefined && this.live(i)) out.set(key, decode(i));
    }
    return out;
  }

  private async queryAll(q: { pk: string; from?: string; to?: string }): Promise<Item[]> {
    const input: QueryCommandInput = {
      TableName: this.table,
      ConsistentRead: true,
      KeyConditionExpression: q.from !== undefined ? "pk = :pk AND sk BETWEEN :from AND :to" : "pk = :pk",
      ExpressionAttributeValues:
        q.from !== undefined ? { ":pk": q.pk, ":from": q.from, ":to": q.to } : { ":pk": q.pk },
    };
    const out: Item[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.doc.send(new QueryCommand({ ...input, ExclusiveStartKey: start }));
      out.push(...(page.Items ?? []));
      start = page.LastEvaluatedKey;
    } while (start);
    return out;
  }

  /** BatchWriteItem in chunks of 25, later writes to the same key winning, UnprocessedItems retried. */
  private async batchWrite(requests: WriteRequest[]): Promise<void> {
    const byKey = new Map<string, WriteRequest>();
    for (const r of requests) {
      const k = "PutRequest" in r ? r.PutRequest.Item : r.DeleteRequest.Key;
      const id = `${k.pk}\u0000${k.sk}`;
      byKey.delete(id); // keep the latest position as well as the latest value
      byKey.set(id, r);
    }
    await forEachLimit(chunkByCount([...byKey.values()], 25), this.concurrency, (batch) =>
      retryLeftovers(
        batch,
        async (pending) => {
          const res = await this.doc.send(new BatchWriteCommand({ RequestItems: { [this.table]: pending } }));
          return (res.UnprocessedItems?.[this.table] ?? []) as WriteRequest[];
        },
        this.leftoverRetry(
          (left, attempts) =>
            new Error(
              `DynamoDB BatchWriteItem: ${left.length} writes still unprocessed after ${attempts} attempts`,
            ),
        ),
      ),
    );
  }

  /** BatchGetItem in chunks of 100 (strongly consistent), UnprocessedKeys retried. */
  private async batchGet(keys: { pk: string; sk: string }[]): Promise<Item[]> {
    const out: Item[] = [];
    await forEachLimit(chunkByCount(keys, 100), this.concurrency, (batch) =>
      retryLeftovers<Record<string, unknown>>(
        batch,
        async (pending) => {
          const res = await this.doc.send(
            new BatchGetCommand({ RequestItems: { [this.table]: { Keys: pending, ConsistentRead: true } } }),
          );
          out.push(...(res.Responses?.[this.table] ?? []));
          return res.UnprocessedKeys?.[this.table]?.Keys ?? [];
        },
        this.leftoverRetry(
          (left, attempts) =>
            new Error(
              `DynamoDB BatchGetItem: ${left.length} keys still unprocessed after ${attempts} attempts`,
            ),
        ),
      ),
    );
    return out;
  }
}

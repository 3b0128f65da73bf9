import { randomBytes } from "node:crypto";
import { gunzipSync } from "node:zlib";
import { DescribeTableCommand, DescribeTimeToLiveCommand, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, GetCommand, PutCommand } from "@aws-sdk/lib-dynamodb";
import { beforeEach, describe, expect, it } from "vitest";
import {
  boundedKeyPart,
  DynamoStore,
  encodeParkedEvent,
  storeTableDefinition,
} from "../../src/state/dynamo.ts";
import { MAX_BUCKET_BATCH_IDS, type ParkedEvent } from "../../src/state/store.ts";
import { awsClientConfig, createStoreTable, resetMoto } from "../support/aws.ts";
import { storeContract } from "./contract.ts";

let clock = 0;

async function freshStore(): Promise<{ store: DynamoStore; client: DynamoDBClient; table: string }> {
  await resetMoto();
  clock = Date.UTC(2026, 0, 1);
  const table = await createStoreTable();
  const client = new DynamoDBClient(awsClientConfig());
  return { store: new DynamoStore({ client, tableName: table, clock: () => clock }), client, table };
}

storeContract(
  "DynamoStore on moto",
  async () => (await freshStore()).store,
  (ms) => {
    clock += ms;
  },
);

describe("DynamoStore specifics", () => {
  let env: Awaited<ReturnType<typeof freshStore>>;
  beforeEach(async () => {
    env = await freshStore();
  });

  it("creates the table storeTableDefinition describes, with TTL on the ttl attribute", async () => {
    const { Table } = await env.client.send(new DescribeTableCommand({ TableName: env.table }));
    expect(Table?.KeySchema).toEqual(storeTableDefinition.keySchema);
    expect(Table?.BillingModeSummary?.BillingMode).toBe("PAY_PER_REQUEST");
    const ttl = await env.client.send(new DescribeTimeToLiveCommand({ TableName: env.table }));
    expect(ttl.TimeToLiveDescription?.AttributeName).toBe("ttl");
  });

  it("writes the TTL attribute as a Number of epoch seconds for DynamoDB to delete expired items", async () => {
    await env.store.putItems([{ key: "supp", value: { a: 1 } }], 90);
    const doc = DynamoDBDocumentClient.from(env.client);
    const { Item } = await doc.send(
      new GetCommand({ TableName: env.table, Key: { pk: "item#supp", sk: "#" } }),
    );
    expect(Item?.ttl).toBe(Math.ceil((clock + 90_000) / 1000));
    expect(typeof Item?.ttl).toBe("number");
  });

  it("compresses parked records and trims the bulkiest fields of one that still would not fit", () => {
    const event: ParkedEvent = {
      waitingFor: "k",
      eventId: "e",
      source: "file",
      index: 0,
      raw: {
        eventID: "e",
        eventName: "PutObject",
        requestParameters: { a: "b" },
        responseElements: { blob: randomBytes(60_000).toString("base64") },
      },
    };
    const small = encodeParkedEvent(event);
    expect(JSON.parse(gunzipSync(small).toString())).toEqual(event);

    const trimmed = JSON.parse(gunzipSync(encodeParkedEvent(event, 20_000)).toString()) as ParkedEvent;
    expect(trimmed.raw).toEqual({
      eventID: "e",
      eventName: "PutObject",
      requestParameters: { a: "b" },
      agenttrailTrimmed: ["responseElements"],
    });
    expect(() => encodeParkedEvent(event, 10)).toThrow(/parked event e from file#0 .* too large/);
  });
});

describe("DynamoStore batch leftovers", () => {
  /**
   * moto processes every batch whole, so this middleware makes the first BatchWriteItem/BatchGetItem of the
   * real client hand back half of its work as UnprocessedItems/UnprocessedKeys, as DynamoDB does under load.
   */
  function withLeftovers(client: DynamoDBClient): { calls: string[] } {
    const calls: string[] = [];
    let leftWrites = false;
    let leftReads = false;
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const input = args.input as Record<string, Record<string, unknown[] | { Keys: unknown[] }>>;
        const command = context.commandName ?? "";
        calls.push(command);
        if (command === "BatchWriteItemCommand" && !leftWrites) {
          leftWrites = true;
          const [table, requests] = Object.entries(input.RequestItems)[0] as [string, unknown[]];
          const half = Math.ceil(requests.length / 2);
          input.RequestItems = { [table]: requests.slice(0, half) };
          const out = await next(args);
          (out.output as unknown as Record<string, unknown>).UnprocessedItems = {
            [table]: requests.slice(half),
          };
          return out;
        }
        if (command === "BatchGetItemCommand" && !leftReads) {
          leftReads = true;
          const [table, req] = Object.entries(input.RequestItems)[0] as [string, { Keys: unknown[] }];
          const half = Math.ceil(req.Keys.length / 2);
          input.RequestItems = { [table]: { ...req, Keys: req.Keys.slice(0, half) } };
          const out = await next(args);
          (out.output as unknown as Record<string, unknown>).UnprocessedKeys = {
            [table]: { ...req, Keys: req.Keys.slice(half) },
          };
          return out;
        }
        return next(args);
      },
      { step: "serialize", priority: "high", name: "testLeftovers" },
    );
    return { calls };
  }

  it("retries UnprocessedItems and UnprocessedKeys with backoff until everything is done", async () => {
    const { client, table } = await freshStore();
    const sleeps: number[] = [];
    const store = new DynamoStore({
      client,
      tableName: table,
      clock: () => clock,
      sleep: async (ms) => {
        sleeps.push(ms);
      },
    });
    const { calls } = withLeftovers(client);
    const items = Array.from({ length: 20 }, (_, i) => ({ key: `k${i}`, value: i }));
    await store.putItems(items, 3600);
    const got = await store.getItems<number>(items.map((x) => x.key));
    expect(Object.fromEntries(got)).toEqual(Object.fromEntries(items.map((x) => [x.key, x.value])));
    expect(calls.filter((c) => c === "BatchWriteItemCommand")).toHaveLength(2);
    expect(calls.filter((c) => c === "BatchGetItemCommand")).toHaveLength(2);
    expect(sleeps).toHaveLength(2);
  });
});

describe("DynamoStore batch leftovers that never go", () => {
  /** A store whose every BatchWriteItem comes back with all of its items unprocessed and nothing written. */
  async function neverProcessed(maxAttempts: number) {
    const { client, table } = await freshStore();
    const sleeps: number[] = [];
    const sent = { writes: 0 };
    client.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName !== "BatchWriteItemCommand") return next(args);
        sent.writes++;
        const input = args.input as { RequestItems: Record<string, unknown[]> };
        return { output: { $metadata: {}, UnprocessedItems: input.RequestItems }, response: {} } as Awaited<
          ReturnType<typeof next>
        >;
      },
      { step: "serialize", priority: "high", name: "neverProcessed" },
    );
    const store = new DynamoStore({
      client,
      tableName: table,
      clock: () => clock,
      maxAttempts,
      sleep: async (ms) => void sleeps.push(ms),
    });
    return { store, sleeps, sent };
  }

  it("gives up after maxAttempts sends with the count left, backing off 25 ms·2^attempt, half jittered", async () => {
    const { store, sleeps, sent } = await neverProcessed(3);
    const items = Array.from({ length: 4 }, (_, i) => ({ key: `k${i}`, value: i }));
    await expect(store.putItems(items, 3600)).rejects.toThrow(
      "DynamoDB BatchWriteItem: 4 writes still unprocessed after 3 attempts",
    );
    expect(sent.writes).toBe(3);
    expect(sleeps).toHaveLength(2);
    expect(sleeps[0]).toBeGreaterThanOrEqual(25);
    expect(sleeps[0]).toBeLessThanOrEqual(50);
    expect(sleeps[1]).toBeGreaterThanOrEqual(50);
    expect(sleeps[1]).toBeLessThanOrEqual(100);
  });

  it("never backs off longer than 2 s, however many attempts", async () => {
    const { store, sleeps } = await neverProcessed(12);
    await expect(store.putItems([{ key: "k", value: 1 }], 3600)).rejects.toThrow(/after 12 attempts/);
    expect(sleeps).toHaveLength(11);
    // 25 ms·2^7 is 3.2 s: from the 7th wait on, the ceiling is 2 s (half of it jittered).
    for (const ms of sleeps.slice(6)) {
      expect(ms).toBeGreaterThanOrEqual(1000);
      expect(ms).toBeLessThanOrEqual(2000);
    }
    expect(sleeps[5]).toBeLessThanOrEqual(1600);
  });
});

describe("DynamoStore size bounds", () => {
  it("accepts keys beyond DynamoDB's key size limits and keeps them apart", async () => {
    const { store } = await freshStore();
    const long = (c: string) => `${"k".repeat(3000)}${c}`;
    await store.putItems(
      [
        { key: long("a"), value: "a" },
        { key: long("b"), value: "b" },
      ],
      3600,
    );
    expect(Object.fromEntries(await store.getItems([long("a"), long("b")]))).toEqual({
      [long("a")]: "a",
      [long("b")]: "b",
    });
    await store.markSeen([long("a")], 3600);
    expect(await store.seen([long("a"), long("b")])).toEqual(new Set([long("a")]));
    await store.park([{ waitingFor: long("s"), eventId: long("e"), raw: {}, source: "f", index: 0 }], 3600);
    expect((await store.parked([long("s")])).get(long("s"))?.[0].eventId).toBe(long("e"));
    await store.addToWindows([{ key: long("w"), minute: 5, count: 2 }], 3600, "batch-1");
    expect((await store.readWindows([long("w")], 0, 10)).get(long("w"))).toEqual([
      { minute: 5, count: 2, values: [] },
    ]);
  });

  it("keeps a full bucket of long distinct values within the item size limit", async () => {
    const { store } = await freshStore();
    const values = Array.from({ length: 1000 }, (_, i) => `${"ua/".repeat(1500)}${i}`);
    await store.addToWindows([{ key: "w", minute: 1, count: 1000, values }], 3600, "batch-2");
    const [bucket] = (await store.readWindows(["w"], 1, 1)).get("w") ?? [];
    expect(bucket.count).toBe(1000);
    expect(new Set(bucket.values).size).toBe(1000);
    expect(bucket.values.every((v) => Buffer.byteLength(v) <= 200 && v.startsWith("ua/ua/"))).toBe(true);
  });
});

describe("DynamoStore window batch ids", () => {
  it(`adds to a bucket holding ${MAX_BUCKET_BATCH_IDS} batch ids without keeping more, within the item limit`, async () => {
    const { store, client, table } = await freshStore();
    const doc = DynamoDBDocumentClient.from(client);
    const Key = { pk: "win#hot", sk: "000000000001" };
    const batches = new Set(
      Array.from({ length: MAX_BUCKET_BATCH_IDS }, (_, k) => `b${String(k).padStart(15, "0")}`),
    );
    await doc.send(
      new PutCommand({
        TableName: table,
        Item: { ...Key, minute: 1, n: 5, batches, exp: clock + 3_600_000, ttl: 0 },
      }),
    );
    await store.addToWindows([{ key: "hot", minute: 1, count: 1 }], 3600, "b000000000000000");
    await store.addToWindows([{ key: "hot", minute: 1, count: 2 }], 3600, "one-too-many");
    await store.addToWindows([{ key: "hot", minute: 1, count: 2 }], 3600, "one-too-many");
    const { Item } = await doc.send(new GetCommand({ TableName: table, Key }));
    expect(Item?.n).toBe(9); // 5, the kept id turned away, the new one counted twice
    expect((Item?.batches as Set<string> | undefined)?.size).toBe(MAX_BUCKET_BATCH_IDS);
  });
});

describe("boundedKeyPart", () => {
  it("keeps short text, and shortens long text to valid UTF-8 within the limit, distinct per input", () => {
    expect(boundedKeyPart("short", 100)).toBe("short");
    const outs = new Set<string>();
    for (let pad = 0; pad < 4; pad++) {
      const text = `${"a".repeat(pad)}${"😀".repeat(60)}`;
      const out = boundedKeyPart(text, 100);
      expect(Buffer.byteLength(out)).toBeLessThanOrEqual(100);
      expect(out).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/); // no lone surrogate
      outs.add(out);
    }
    expect(outs.size).toBe(4);
  });
});

/**
 * The Store contract (src/state/store.ts): every implementation runs this same suite.
 * `makeStore` is called before each test and must return an empty store whose clock `advanceClock` moves;
 * without `advanceClock` the expiry tests are skipped.
 */

import { randomBytes } from "node:crypto";
import { beforeEach, describe, expect, it } from "vitest";
import {
  MAX_BUCKET_VALUES,
  type ParkedEvent,
  type SessionRecord,
  type Store,
} from "../../src/state/store.ts";

const HOUR = 3600;

function session(key: string, issuedBy: string, extra: Partial<SessionRecord> = {}): SessionRecord {
  return {
    key,
    account: "111122223333",
    arn: key.split("|")[1] ?? key,
    issuedBy,
    issuedAt: 1_767_225_600_000,
    expiresAt: 1_767_229_200_000,
    api: "AssumeRole",
    tags: {},
    issuerEvidence: [],
    ...extra,
  };
}

function parkedEvent(waitingFor: string, eventId: string, raw: Record<string, unknown> = {}): ParkedEvent {
  return {
    waitingFor,
    eventId,
    raw: { eventID: eventId, eventName: "ListBuckets", ...raw },
    source: "s3://trail/AWSLogs/file.json.gz",
    index: 3,
  };
}

const byIssuer = (a: SessionRecord, b: SessionRecord) => a.issuedBy.localeCompare(b.issuedBy);
const byEventId = (a: ParkedEvent, b: ParkedEvent) => a.eventId.localeCompare(b.eventId);

export function storeContract(
  name: string,
  makeStore: () => Promise<Store>,
  advanceClock?: (ms: number) => void,
): void {
  describe(`Store contract: ${name}`, () => {
    let store: Store;
    beforeEach(async () => {
      store = await makeStore();
    });

    describe("sessions", () => {
      const roleKey = "111122223333|arn:aws:sts::111122223333:assumed-role/agent/mcp-1";
      const otherKey = "111122223333|arn:aws:sts::111122223333:assumed-role/dev/alice";

      it("keeps every issuance of a session key and round-trips the whole record", async () => {
        const full = session(roleKey, "evt-b", {
          accessKeyId: "ASIAEXAMPLE",
          roleArn: "arn:aws:iam::111122223333:role/agent",
          sessionName: "mcp-1",
          sourceIdentity: "bot",
          tags: { AccessType: "AI", "": "empty-key", team: "" },
          parentKey: "111122223333|arn:aws:sts::111122223333:assumed-role/base/x",
          parentAccessKeyId: "ASIAPARENT",
          issuerEvidence: [{ signal: "sessionTag", value: "AccessType=AI", issuedBy: "evt-0", via: "arn:x" }],
        });
        await store.putSessions([session(roleKey, "evt-a"), full], HOUR);
        await store.putSessions([session(otherKey, "evt-c", { api: "GetSessionToken" })], HOUR);

        const found = await store.getSessions([roleKey, otherKey, "111122223333|arn:unknown", roleKey]);
        expect([...found.keys()].sort()).toEqual([otherKey, roleKey].sort());
        expect(found.get(roleKey)?.sort(byIssuer)).toEqual([session(roleKey, "evt-a"), full]);
        expect(found.get(otherKey)).toEqual([session(otherKey, "evt-c", { api: "GetSessionToken" })]);
      });

      it("replaces an issuance written again under the same issuing event", async () => {
        await store.putSessions([session(roleKey, "evt-a", { expiresAt: 1 })], HOUR);
        await store.putSessions([session(roleKey, "evt-a", { expiresAt: 2 })], HOUR);
        expect((await store.getSessions([roleKey])).get(roleKey)).toEqual([
          session(roleKey, "evt-a", { expiresAt: 2 }),
        ]);
      });

      it("stores and reads more sessions than one batch request holds", async () => {
        const many = Array.from({ length: 60 }, (_, i) =>
          session(`k|${i % 7}`, `evt-${String(i).padStart(3, "0")}`),
        );
        await store.putSessions(many, HOUR);
        const found = await store.getSessions(Array.from({ length: 7 }, (_, i) => `k|${i}`));
        expect([...found.values()].flat().sort(byIssuer)).toEqual([...many].sort(byIssuer));
      });

      it("returns an empty map for no keys and accepts an empty write", async () => {
        await store.putSessions([], HOUR);
        expect((await store.getSessions([])).size).toBe(0);
      });
    });

    describe("parked events", () => {
      it("parks under the awaited key, lists per key, and unparks exactly the given entries", async () => {
        const a1 = parkedEvent("sess-a", "e1", {
          requestParameters: { bucketName: "b", nested: [1, { x: null }] },
        });
        const a2 = parkedEvent("sess-a", "e2");
        const b1 = parkedEvent("sess-b", "e3");
        await store.park([a1, a2, b1], HOUR);

        const all = await store.parked(["sess-a", "sess-b", "sess-c"]);
        expect([...all.keys()].sort()).toEqual(["sess-a", "sess-b"]);
        expect(all.get("sess-a")?.sort(byEventId)).toEqual([a1, a2]);
        expect(all.get("sess-b")).toEqual([b1]);

        await store.unpark([
          { waitingFor: "sess-a", eventId: "e1" },
          { waitingFor: "sess-b", eventId: "e1" }, // not parked there: no effect
        ]);
        const after = await store.parked(["sess-a", "sess-b"]);
        expect(after.get("sess-a")).toEqual([a2]);
        expect(after.get("sess-b")).toEqual([b1]);

        await store.unpark([
          { waitingFor: "sess-a", eventId: "e2" },
          { waitingFor: "sess-b", eventId: "e3" },
        ]);
        expect((await store.parked(["sess-a", "sess-b"])).size).toBe(0);
      });

      it("keeps one entry when the same event is parked twice under the same key", async () => {
        await store.park([parkedEvent("sess-a", "e1", { v: 1 })], HOUR);
        await store.park(
          [parkedEvent("sess-a", "e1", { v: 2 }), parkedEvent("sess-a", "e1", { v: 3 })],
          HOUR,
        );
        expect((await store.parked(["sess-a"])).get("sess-a")).toEqual([
          parkedEvent("sess-a", "e1", { v: 3 }),
        ]);
      });

      it("round-trips a record near CloudTrail's 256 KB record limit", async () => {
        // base64 of random bytes: compresses poorly, like a large opaque responseElements blob
        const blob = randomBytes(180 * 1024).toString("base64");
        const big = parkedEvent("sess-big", "e-big", { responseElements: { blob } });
        await store.park([big], HOUR);
        expect((await store.parked(["sess-big"])).get("sess-big")).toEqual([big]);
      });
    });

    describe("seen / markSeen", () => {
      it("reads markers without setting them, and marks them in bulk", async () => {
        const store = await makeStore();
        expect(await store.seen(["a", "b"])).toEqual(new Set());
        expect(await store.seen(["a"])).toEqual(new Set());
        await store.markSeen(["a", "c", "a"], 3600);
        expect(await store.seen(["a", "b", "c"])).toEqual(new Set(["a", "c"]));
        await store.markSeen(["b"], 3600);
        expect(await store.seen(["a", "b", "c", "d"])).toEqual(new Set(["a", "b", "c"]));
      });

      it("marks and reads more keys than one batch request holds", async () => {
        const store = await makeStore();
        const keys = Array.from({ length: 130 }, (_, i) => `evt#${i}`);
        await store.markSeen(keys, 3600);
        expect((await store.seen([...keys, "other"])).size).toBe(130);
      });
    });

    describe("windows", () => {
      it("sums counts and collects distinct values per minute bucket, and reads inclusive ranges", async () => {
        await store.addToWindows(
          [
            { key: "r1|alice", minute: 100, count: 2, values: ["ListBuckets", "GetObject"] },
            { key: "r1|alice", minute: 100, count: 1, values: ["ListBuckets", ""] },
            { key: "r1|alice", minute: 101, count: 5 },
            { key: "r1|alice", minute: 105, count: 1, values: ["x"] },
            { key: "r1|bob", minute: 100, count: 7, values: [] },
          ],
          HOUR,
          "batch-1",
        );
        await store.addToWindows(
          [{ key: "r1|alice", minute: 101, count: 3, values: ["DeleteBucket"] }],
          HOUR,
          "batch-2",
        );

        const read = await store.readWindows(["r1|alice", "r1|bob", "r1|nobody"], 100, 104);
        expect([...read.keys()].sort()).toEqual(["r1|alice", "r1|bob"]);
        const alice = read.get("r1|alice") ?? [];
        expect(alice.map((b) => [b.minute, b.count])).toEqual([
          [100, 3],
          [101, 8],
        ]);
        expect(alice[0].values.sort()).toEqual(["", "GetObject", "ListBuckets"]);
        expect(alice[1].values).toEqual(["DeleteBucket"]);
        expect(read.get("r1|bob")).toEqual([{ minute: 100, count: 7, values: [] }]);

        expect(
          (await store.readWindows(["r1|alice"], 101, 101)).get("r1|alice")?.map((b) => b.minute),
        ).toEqual([101]);
        expect(
          (await store.readWindows(["r1|alice"], 105, 200)).get("r1|alice")?.map((b) => b.count),
        ).toEqual([1]);
        expect((await store.readWindows(["r1|alice"], 102, 104)).has("r1|alice")).toBe(false);
      });

      it("hands out buckets that a later add to their minute leaves as they were read", async () => {
        await store.addToWindows([{ key: "k", minute: 7, count: 1, values: ["a"] }], HOUR, "batch-3");
        const [read] = (await store.readWindows(["k"], 7, 7)).get("k") ?? [];
        await store.addToWindows([{ key: "k", minute: 7, count: 2, values: ["b"] }], HOUR, "batch-4");
        expect(read).toEqual({ minute: 7, count: 1, values: ["a"] });
        const [now] = (await store.readWindows(["k"], 7, 7)).get("k") ?? [];
        expect(now.count).toBe(3);
        expect([...now.values].sort()).toEqual(["a", "b"]);
      });

      it("orders buckets by minute across digit-length boundaries", async () => {
        const minutes = [9, 10, 99, 100, 29_000_000];
        await store.addToWindows(
          minutes.map((minute) => ({ key: "k", minute, count: 1 })),
          HOUR,
          "batch-5",
        );
        expect((await store.readWindows(["k"], 0, 30_000_000)).get("k")?.map((b) => b.minute)).toEqual(
          minutes,
        );
        expect((await store.readWindows(["k"], 10, 99)).get("k")?.map((b) => b.minute)).toEqual([10, 99]);
      });

      it("adds a batch to each bucket once, however often it calls, and only what it has not added", async () => {
        const first = [
          { key: "r|alice", minute: 1, count: 2, values: ["a"] },
          { key: "r|alice", minute: 1, count: 1, values: ["b"] },
          { key: "r|alice", minute: 2, count: 5 },
        ];
        await store.addToWindows(first, HOUR, "batch-A");
        // Retried whole, and retried with a bucket its first run had not reached.
        await store.addToWindows(first, HOUR, "batch-A");
        await store.addToWindows([...first, { key: "r|bob", minute: 1, count: 4 }], HOUR, "batch-A");
        // Another batch adds to the same buckets.
        await store.addToWindows([{ key: "r|alice", minute: 1, count: 10, values: ["c"] }], HOUR, "batch-B");
        await store.addToWindows([{ key: "r|alice", minute: 1, count: 10, values: ["c"] }], HOUR, "batch-B");

        const read = await store.readWindows(["r|alice", "r|bob"], 0, 10);
        expect(read.get("r|alice")?.map((b) => [b.minute, b.count, [...b.values].sort()])).toEqual([
          [1, 13, ["a", "b", "c"]],
          [2, 5, []],
        ]);
        expect(read.get("r|bob")?.map((b) => b.count)).toEqual([4]);
      });

      it(`keeps at most ${MAX_BUCKET_VALUES} distinct values per bucket while still counting`, async () => {
        const values = (from: number, n: number) => Array.from({ length: n }, (_, i) => `v${from + i}`);
        await store.addToWindows(
          [{ key: "k", minute: 1, count: 1, values: values(0, 600) }],
          HOUR,
          "batch-6",
        );
        await store.addToWindows(
          [{ key: "k", minute: 1, count: 1, values: values(500, 700) }],
          HOUR,
          "batch-7",
        );
        const [bucket] = (await store.readWindows(["k"], 1, 1)).get("k") ?? [];
        expect(bucket.count).toBe(2);
        expect(bucket.values).toHaveLength(MAX_BUCKET_VALUES);
        expect(new Set(bucket.values).size).toBe(MAX_BUCKET_VALUES);
        expect(bucket.values).toEqual(expect.arrayContaining(values(0, 600)));
      });
    });

    describe("items", () => {
      it("stores JSON documents by key, replacing on rewrite", async () => {
        const doc = { lastAlert: 123, ids: ["a", "b"], nested: { ok: true, none: null }, text: "" };
        await store.putItems<unknown>(
          [
            { key: "supp|r1|alice", value: doc },
            { key: "supp|r1|bob", value: 1 },
            { key: "supp|r1|bob", value: 2 },
          ],
          HOUR,
        );
        const got = await store.getItems<unknown>([
          "supp|r1|alice",
          "supp|r1|bob",
          "supp|missing",
          "supp|r1|bob",
        ]);
        expect(Object.fromEntries(got)).toEqual({ "supp|r1|alice": doc, "supp|r1|bob": 2 });
        await store.putItems([{ key: "supp|r1|alice", value: "replaced" }], HOUR);
        expect((await store.getItems(["supp|r1|alice"])).get("supp|r1|alice")).toBe("replaced");
      });

      it("reads more keys than one batch request holds", async () => {
        const items = Array.from({ length: 130 }, (_, i) => ({ key: `k${i}`, value: { i } }));
        await store.putItems(items, HOUR);
        const got = await store.getItems<{ i: number }>(items.map((x) => x.key));
        expect(got.size).toBe(130);
        expect(items.every(({ key, value }) => got.get(key)?.i === value.i)).toBe(true);
      });
    });

    describe.skipIf(!advanceClock)("expiry", () => {
      const move = (seconds: number) => advanceClock?.(seconds * 1000);

      it("hides sessions, parked events and items once their TTL has passed", async () => {
        await store.putSessions([session("s", "evt-short")], 60);
        await store.putSessions([session("s", "evt-long")], 600);
        await store.park([parkedEvent("p", "e1")], 60);
        await store.putItems([{ key: "i", value: 1 }], 60);

        move(59);
        expect((await store.getSessions(["s"])).get("s")?.length).toBe(2);
        expect((await store.parked(["p"])).get("p")?.length).toBe(1);
        expect((await store.getItems(["i"])).get("i")).toBe(1);

        move(1);
        expect((await store.getSessions(["s"])).get("s")?.map((r) => r.issuedBy)).toEqual(["evt-long"]);
        expect((await store.parked(["p"])).has("p")).toBe(false);
        expect((await store.getItems(["i"])).has("i")).toBe(false);

        // rewriting renews the TTL from the store clock
        await store.putItems([{ key: "i", value: 2 }], 60);
        expect((await store.getItems(["i"])).get("i")).toBe(2);
      });

      it("stops reporting a markSeen marker once it expires", async () => {
        await store.markSeen(["evt"], 60);
        move(30);
        expect(await store.seen(["evt"])).toEqual(new Set(["evt"]));
        move(31);
        expect(await store.seen(["evt"])).toEqual(new Set());
      });

      it("restarts an expired window bucket from zero", async () => {
        await store.addToWindows([{ key: "w", minute: 7, count: 4, values: ["old"] }], 60, "batch-8");
        move(60);
        expect((await store.readWindows(["w"], 0, 10)).has("w")).toBe(false);
        await store.addToWindows([{ key: "w", minute: 7, count: 1, values: ["new"] }], 60, "batch-9");
        expect((await store.readWindows(["w"], 0, 10)).get("w")).toEqual([
          { minute: 7, count: 1, values: ["new"] },
        ]);
      });

      it("keeps the id of the batch that restarted an expired bucket: its retry adds nothing", async () => {
        await store.addToWindows([{ key: "w", minute: 7, count: 4 }], 60, "batch-10");
        move(60);
        const restart = [{ key: "w", minute: 7, count: 1, values: ["new"] }];
        await store.addToWindows(restart, 60, "batch-11");
        await store.addToWindows(restart, 60, "batch-11");
        expect((await store.readWindows(["w"], 0, 10)).get("w")).toEqual([
          { minute: 7, count: 1, values: ["new"] },
        ]);
      });

      it("adds a batch delivered twice at once once, to a new, a live and an expired bucket", async () => {
        await store.addToWindows([{ key: "expired", minute: 7, count: 4 }], 60, "batch-12");
        move(60);
        await store.addToWindows([{ key: "live", minute: 7, count: 2 }], 60, "batch-13");
        const twice = [
          { key: "new", minute: 7, count: 1, values: ["a"] },
          { key: "live", minute: 7, count: 1, values: ["a"] },
          { key: "expired", minute: 7, count: 1, values: ["a"] },
        ];
        await Promise.all([
          store.addToWindows(twice, 60, "batch-14"),
          store.addToWindows(twice, 60, "batch-14"),
        ]);
        const read = await store.readWindows(["new", "live", "expired"], 0, 10);
        expect(Object.fromEntries(read)).toEqual({
          new: [{ minute: 7, count: 1, values: ["a"] }],
          live: [{ minute: 7, count: 3, values: ["a"] }],
          expired: [{ minute: 7, count: 1, values: ["a"] }],
        });
      });
    });
  });
}

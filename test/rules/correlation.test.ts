import { describe, expect, it } from "vitest";
import { defaultConfig } from "../../src/config.ts";
import type { AuditEvent } from "../../src/event.ts";
import { RuleEngine } from "../../src/rules/engine.ts";
import { linkRules } from "../../src/rules/link.ts";
import { loadRuleSources } from "../../src/rules/load.ts";
import type { RuleHit } from "../../src/rules/types.ts";
import { MemoryStore } from "../../src/state/memory.ts";
import type { WindowBucket } from "../../src/state/store.ts";
import { CountingStore, event, loadLinked, ruleHead, S3_BURST } from "./engine.helpers.ts";

/** A manual clock for the store: TTLs count from here. */
function clockedStore(start = Date.parse("2026-11-20T10:10:00Z")) {
  let now = start;
  const store = new CountingStore(() => now);
  return { store, advance: (minutes: number) => (now += minutes * 60_000) };
}

const call = (time: string, user = "alice", fields: Record<string, unknown> = {}): AuditEvent =>
  event({
    eventTime: time,
    userIdentity: { type: "IAMUser", arn: `arn:aws:iam::111122223333:user/${user}`, userName: user },
    ...fields,
  });

const ofRule = (hits: RuleHit[], id: string) => hits.filter((h) => h.rule.id === id);

/**
 * An eventually consistent store: reads return the buckets as they were before this batch's write,
 * frozen (what a store hands out must not be changed by its reader).
 */
class StaleReads extends MemoryStore {
  private before = new Map<string, WindowBucket[]>();
  override async addToWindows(...args: Parameters<MemoryStore["addToWindows"]>) {
    const [increments] = args;
    const keys = [...new Set(increments.map((i) => i.key))];
    this.before = await super.readWindows(keys, 0, Number.MAX_SAFE_INTEGER);
    return super.addToWindows(...args);
  }
  override async readWindows(keys: string[], from: number, to: number) {
    const out = new Map<string, WindowBucket[]>();
    for (const k of keys) {
      const buckets = (this.before.get(k) ?? [])
        .filter((b) => b.minute >= from && b.minute <= to)
        .map((b) => Object.freeze({ ...b, values: Object.freeze([...b.values]) as string[] }));
      if (buckets.length) out.set(k, buckets);
    }
    return out;
  }
}

describe("event_count", () => {
  it("counts across batches through the store", async () => {
    const engine = new RuleEngine(loadLinked(S3_BURST), defaultConfig);
    const { store } = clockedStore();
    const first = await engine.detect([call("2026-11-20T10:00:10Z"), call("2026-11-20T10:01:20Z")], store);
    expect(first).toEqual([]);
    const late = call("2026-11-20T10:02:30Z");
    const second = await engine.detect([late], store);
    expect(second).toHaveLength(1);
    expect(second[0]).toMatchObject({
      rule: { id: "s3-burst", level: "high", groupBy: ["actor.principal"] },
      count: 3,
      group: { "actor.principal": "arn:aws:iam::111122223333:user/alice" },
      groupKey: JSON.stringify(["arn:aws:iam::111122223333:user/alice"]),
    });
    expect(second[0].events).toEqual([late]);
    // earlier batches' events are known to the minute
    expect(second[0].firstSeen.toISOString()).toBe("2026-11-20T10:00:00.000Z");
    expect(second[0].lastSeen.toISOString()).toBe("2026-11-20T10:02:30.000Z");
  });

  it("does not count events further apart than the timespan", async () => {
    const engine = new RuleEngine(loadLinked(S3_BURST), defaultConfig);
    const { store } = clockedStore();
    await engine.detect([call("2026-11-20T10:00:00Z"), call("2026-11-20T10:01:00Z")], store);
    expect(await engine.detect([call("2026-11-20T10:05:00Z")], store)).toEqual([]);
  });

  it("keeps groups apart", async () => {
    const engine = new RuleEngine(loadLinked(S3_BURST), defaultConfig);
    const events = ["alice", "bob", "alice", "bob"].map((u, k) => call(`2026-11-20T10:00:0${k}Z`, u));
    expect(await engine.detect(events, new MemoryStore())).toEqual([]);
  });

  it("emits one hit per group per batch, and one store write and read per batch", async () => {
    const engine = new RuleEngine(loadLinked(S3_BURST), defaultConfig);
    const { store } = clockedStore();
    const events = [0, 1, 2, 3, 4, 5].map((k) => call(`2026-11-20T10:0${k % 3}:0${k}Z`));
    events.push(call("2026-11-20T10:00:00Z", "bob"));
    const hits = await engine.detect(events, store);
    expect(hits).toHaveLength(1);
    expect(hits[0].count).toBe(6);
    expect(hits[0].events).toHaveLength(6);
    expect(store.calls).toEqual({ addToWindows: 1, readWindows: 1 });
  });

  it("uses event time: out-of-order events in one batch fill the same window", async () => {
    const engine = new RuleEngine(loadLinked(S3_BURST), defaultConfig);
    const hits = await engine.detect(
      [
        call("2026-11-20T10:04:00Z"),
        call("2026-11-20T09:50:00Z"),
        call("2026-11-20T10:00:30Z"),
        call("2026-11-20T10:02:00Z"),
      ],
      new MemoryStore(),
    );
    expect(hits).toHaveLength(1);
    expect(hits[0].count).toBe(3);
    expect(hits[0].events.map((e) => e.time.toISOString()).sort()).toEqual([
      "2026-11-20T10:00:30.000Z",
      "2026-11-20T10:02:00.000Z",
      "2026-11-20T10:04:00.000Z",
    ]);
  });
});

describe("counting each event once", () => {
  const TWO_BASES = `${ruleHead("s3-read")}name: s3_read
detection:
  s:
    eventSource: s3.amazonaws.com
  condition: s
---
${ruleHead("s3-any")}name: s3_any
detection:
  s:
    eventName|startswith: ''
    eventSource: s3.amazonaws.com
  condition: s
---
title: S3 pair
id: s3-pair
level: high
correlation:
  type: event_count
  rules: [s3_read, s3_any]
  group-by: [actor.principal]
  timespan: 5m
  condition: {gte: 2}
`;

  it("counts an event that matches two base rules of one correlation once", async () => {
    const engine = new RuleEngine(loadLinked(TWO_BASES), defaultConfig);
    expect(ofRule(await engine.detect([call("2026-11-20T10:00:00Z")], new MemoryStore()), "s3-pair")).toEqual(
      [],
    );
    const two = ofRule(
      await engine.detect([call("2026-11-20T10:00:00Z"), call("2026-11-20T10:00:01Z")], new MemoryStore()),
      "s3-pair",
    );
    expect(two).toHaveLength(1);
    expect(two[0].count).toBe(2);
    expect(two[0].events).toHaveLength(2);
  });

  it("completes a stale store read with the batch's own increments (the larger count per minute)", async () => {
    const engine = new RuleEngine(loadLinked(S3_BURST), defaultConfig);
    const store = new StaleReads(() => Date.parse("2026-11-20T10:10:00Z"));
    // minute 10:00 holds one stored event; the next batch adds two more to that minute and one to 10:01
    expect(await engine.detect([call("2026-11-20T10:00:05Z")], store)).toEqual([]);
    const hits = await engine.detect(
      [call("2026-11-20T10:00:10Z"), call("2026-11-20T10:00:20Z"), call("2026-11-20T10:01:00Z")],
      store,
    );
    // the stale read knows 1 event at 10:00, this batch 2: the larger (2) stands, plus 1 at 10:01
    expect(hits).toHaveLength(1);
    expect(hits[0].count).toBe(3);
  });

  it("adds a batch's counts once: detected again (a retry after a failed publish), its id is turned away", async () => {
    const engine = new RuleEngine(loadLinked(S3_BURST), defaultConfig);
    const { store } = clockedStore();
    const batch = [call("2026-11-20T10:00:10Z"), call("2026-11-20T10:00:20Z")];
    expect(await engine.detect(batch, store)).toEqual([]);
    expect(await engine.detect(batch, store)).toEqual([]); // 2 calls, not 4: under the threshold of 3
    // Other events in the same minutes are another batch: they count.
    const hits = await engine.detect([call("2026-11-20T10:00:30Z")], store);
    expect(hits.map((h) => h.count)).toEqual([3]);
  });

  it("adds only what a batch that stopped half-way through its window writes had not added", async () => {
    /** Adds the first increment of the first call, then fails: a write that stopped half-way. */
    class StopsHalfWay extends MemoryStore {
      private failed = false;
      override async addToWindows(...args: Parameters<MemoryStore["addToWindows"]>) {
        if (this.failed) return super.addToWindows(...args);
        this.failed = true;
        const [increments, ttl, batchId] = args;
        await super.addToWindows(increments.slice(0, 1), ttl, batchId);
        throw new Error("throttled");
      }
    }
    const engine = new RuleEngine(loadLinked(S3_BURST), defaultConfig);
    const store = new StopsHalfWay(() => Date.parse("2026-11-20T10:10:00Z"));
    const batch = [call("2026-11-20T10:00:10Z"), call("2026-11-20T10:01:20Z")];
    await expect(engine.detect(batch, store)).rejects.toThrow("throttled");
    expect(await engine.detect(batch, store)).toEqual([]); // 2 calls, not 3
    const hits = await engine.detect([call("2026-11-20T10:02:30Z")], store);
    expect(hits.map((h) => h.count)).toEqual([3]);
  });

  it("adds a batch's counts once when it is retried under changed rules (a deploy between attempts)", async () => {
    const { store } = clockedStore();
    const batch = [call("2026-11-20T10:00:10Z"), call("2026-11-20T10:00:20Z")];
    await new RuleEngine(loadLinked(S3_BURST), defaultConfig).detect(batch, store);
    // The redeployed rules add a correlation on the same events: its buckets are new, s3-burst's are not.
    const redeployed = `${S3_BURST}
---
title: S3 users
id: s3-users
correlation:
  type: value_count
  rules: [s3_call]
  group-by: [eventSource]
  timespan: 5m
  condition: {gte: 5, field: actor.principal}
`;
    const engine = new RuleEngine(loadLinked(redeployed), defaultConfig);
    expect(await engine.detect(batch, store)).toEqual([]); // 2 calls, not 4: under the threshold of 3
    const hits = await engine.detect([call("2026-11-20T10:00:30Z")], store);
    expect(hits.map((h) => [h.rule.id, h.count])).toEqual([["s3-burst", 3]]);
  });

  it("adds a batch's counts once when changed rules make more of its events feed on the retry", async () => {
    const { store } = clockedStore();
    const ec2 = { eventSource: "ec2.amazonaws.com", eventName: "DescribeInstances" };
    const batch = [
      call("2026-11-20T10:00:10Z"),
      call("2026-11-20T10:00:20Z"),
      call("2026-11-20T10:00:25Z", "alice", ec2),
    ];
    await new RuleEngine(loadLinked(S3_BURST), defaultConfig).detect(batch, store);
    // The redeployed rules count every call: the EC2 call now feeds too, and the S3 calls still count once.
    const redeployed = `${S3_BURST}
---
${ruleHead("any-call")}name: any_call
detection:
  s:
    eventSource|exists: true
  condition: s
---
title: Calls
id: calls
correlation:
  type: event_count
  rules: [any_call]
  group-by: [actor.principal]
  timespan: 5m
  condition: {gte: 100}
`;
    const engine = new RuleEngine(loadLinked(redeployed), defaultConfig);
    expect(await engine.detect(batch, store)).toEqual([]); // 2 S3 calls, not 4: under the threshold of 3
    const hits = await engine.detect([call("2026-11-20T10:00:30Z")], store);
    expect(hits.map((h) => [h.rule.id, h.count])).toEqual([["s3-burst", 3]]);
  });

  it("sees the counts of a batch detected at the same time (concurrent invocations)", async () => {
    const engine = new RuleEngine(loadLinked(S3_BURST), defaultConfig);
    const { store } = clockedStore();
    const both = await Promise.all([
      engine.detect([call("2026-11-20T10:00:10Z"), call("2026-11-20T10:00:20Z")], store),
      engine.detect([call("2026-11-20T10:00:30Z"), call("2026-11-20T10:00:40Z")], store),
    ]);
    expect(both.flat().map((h) => h.count)).toContain(4);
  });

  it("puts a minute only this batch knows before the stored ones it precedes", async () => {
    const engine = new RuleEngine(loadLinked(S3_BURST), defaultConfig);
    const store = new StaleReads(() => Date.parse("2026-11-20T10:10:00Z"));
    expect(await engine.detect([call("2026-11-20T10:04:00Z"), call("2026-11-20T10:05:00Z")], store)).toEqual(
      [],
    );
    // a late file: 10:01, which the stale read does not return; 10:01–10:05 holds three events
    const hits = await engine.detect([call("2026-11-20T10:01:00Z")], store);
    expect(hits).toHaveLength(1);
    expect(hits[0].count).toBe(3);
  });
});

describe("correlations without group-by", () => {
  it("count every matching event in one group", async () => {
    const engine = new RuleEngine(
      loadLinked(S3_BURST.replace("  group-by: [actor.principal]\n", "")),
      defaultConfig,
    );
    const events = ["alice", "bob", "carol"].map((u, k) => call(`2026-11-20T10:00:0${k}Z`, u));
    const hits = await engine.detect(events, new MemoryStore());
    expect(hits).toHaveLength(1);
    expect(hits[0]).toMatchObject({ count: 3, group: {}, groupKey: "[]" });
  });
});

describe("late events", () => {
  it("an event arriving late, within the lateness, still counts", async () => {
    const engine = new RuleEngine(loadLinked(S3_BURST), defaultConfig);
    const { store, advance } = clockedStore();
    await engine.detect([call("2026-11-20T10:03:00Z"), call("2026-11-20T10:04:00Z")], store);
    advance(15); // arrives 15 minutes after the others were processed, older than both
    const late = call("2026-11-20T10:01:00Z");
    const hits = await engine.detect([late], store);
    expect(hits).toHaveLength(1);
    expect(hits[0].count).toBe(3);
    expect(hits[0].events).toEqual([late]);
    expect(hits[0].firstSeen.toISOString()).toBe("2026-11-20T10:01:00.000Z");
    expect(hits[0].lastSeen.toISOString()).toBe("2026-11-20T10:04:00.000Z");
  });

  it("an event later than timespan + lateness no longer meets the window", async () => {
    const engine = new RuleEngine(loadLinked(S3_BURST), defaultConfig);
    const { store, advance } = clockedStore();
    await engine.detect([call("2026-11-20T10:03:00Z"), call("2026-11-20T10:04:00Z")], store);
    advance(26); // default lateness 20 + timespan 5
    expect(await engine.detect([call("2026-11-20T10:01:00Z")], store)).toEqual([]);
  });

  it("the lateness comes from the config", async () => {
    const engine = new RuleEngine(loadLinked(S3_BURST), { ...defaultConfig, latenessMinutes: 0 });
    const { store, advance } = clockedStore();
    await engine.detect([call("2026-11-20T10:03:00Z"), call("2026-11-20T10:04:00Z")], store);
    advance(6);
    expect(await engine.detect([call("2026-11-20T10:01:00Z")], store)).toEqual([]);
  });
});

describe("value_count", () => {
  const rules = `${ruleHead("bucket-read")}detection:
  s:
    eventName: GetObject
  condition: s
---
title: many buckets
id: many-buckets
correlation:
  type: value_count
  rules: [bucket-read]
  group-by: [actor.principal]
  timespan: 10m
  condition:
    field: requestParameters.bucketName
    gte: 3
`;
  const read = (time: string, bucket: string) =>
    call(time, "alice", { requestParameters: { bucketName: bucket } });

  it("completes a stale store read with the batch's own values, without changing what the store handed out", async () => {
    const engine = new RuleEngine(loadLinked(rules), defaultConfig);
    const store = new StaleReads(() => Date.parse("2026-11-20T10:10:00Z"));
    await engine.detect([read("2026-11-20T10:00:00Z", "a"), read("2026-11-20T10:00:10Z", "b")], store);
    // the read misses this batch's "c" at 10:00: the union of stored and own values makes three
    const hits = await engine.detect([read("2026-11-20T10:00:20Z", "c")], store);
    expect(ofRule(hits, "many-buckets")).toHaveLength(1);
  });

  it("counts distinct values across batches", async () => {
    const engine = new RuleEngine(loadLinked(rules), defaultConfig);
    const { store } = clockedStore();
    expect(
      await engine.detect([read("2026-11-20T10:00:00Z", "a"), read("2026-11-20T10:01:00Z", "b")], store),
    ).toEqual([]);
    // same value again: still two distinct
    expect(
      await engine.detect([read("2026-11-20T10:02:00Z", "a"), read("2026-11-20T10:02:30Z", "b")], store),
    ).toEqual([]);
    const hits = await engine.detect([read("2026-11-20T10:03:00Z", "c")], store);
    expect(ofRule(hits, "many-buckets")).toHaveLength(1);
    expect(hits[0].count).toBe(5);
  });
});

describe("temporal", () => {
  const rules = (type: string) => `${ruleHead("create-user")}detection:
  s:
    eventName: CreateUser
  condition: s
---
${ruleHead("attach-policy")}detection:
  s:
    eventName: AttachUserPolicy
  condition: s
---
title: user then admin policy
id: user-escalation
correlation:
  type: ${type}
  rules: [create-user, attach-policy]
  group-by: [actor.principal]
  timespan: 10m
`;

  it("fires when every rule has matched within the timespan, across batches", async () => {
    const engine = new RuleEngine(loadLinked(rules("temporal")), defaultConfig);
    const { store } = clockedStore();
    expect(
      await engine.detect([call("2026-11-20T10:00:00Z", "alice", { eventName: "CreateUser" })], store),
    ).toEqual([]);
    const hits = await engine.detect(
      [call("2026-11-20T10:05:00Z", "alice", { eventName: "AttachUserPolicy" })],
      store,
    );
    expect(ofRule(hits, "user-escalation")).toHaveLength(1);
    expect(hits[0].count).toBe(2);
  });

  it("does not fire for one rule alone, or outside the timespan", async () => {
    const engine = new RuleEngine(loadLinked(rules("temporal")), defaultConfig);
    const { store } = clockedStore();
    const creates = [0, 1, 2].map((k) =>
      call(`2026-11-20T10:0${k}:00Z`, "alice", { eventName: "CreateUser" }),
    );
    expect(await engine.detect(creates, store)).toEqual([]);
    const tooLate = call("2026-11-20T10:12:00Z", "alice", { eventName: "AttachUserPolicy" });
    expect(await engine.detect([tooLate], store)).toEqual([]);
  });

  it("temporal_ordered needs the rules in order", async () => {
    const engine = new RuleEngine(loadLinked(rules("temporal_ordered")), defaultConfig);
    const attachFirst = [
      call("2026-11-20T10:00:10Z", "alice", { eventName: "AttachUserPolicy" }),
      call("2026-11-20T10:00:40Z", "alice", { eventName: "CreateUser" }),
    ];
    expect(await engine.detect(attachFirst, new MemoryStore())).toEqual([]);
    const inOrder = [
      call("2026-11-20T10:00:10Z", "bob", { eventName: "CreateUser" }),
      call("2026-11-20T10:00:40Z", "bob", { eventName: "AttachUserPolicy" }),
    ];
    const hits = await engine.detect(inOrder, new MemoryStore());
    expect(hits.map((h) => h.group["actor.principal"])).toEqual(["arn:aws:iam::111122223333:user/bob"]);
  });

  it("aliases may name base rules by their Sigma name while the correlation refers to ids", async () => {
    const text = `${ruleHead("key-for-user")}name: new_key
detection:
  s:
    eventName: CreateAccessKey
  condition: s
---
${ruleHead("user-login")}name: login
detection:
  s:
    eventName: ConsoleLogin
  condition: s
---
title: key then login
id: key-then-login
correlation:
  type: temporal_ordered
  rules: [key-for-user, user-login]
  group-by: [target]
  aliases:
    target:
      new_key: requestParameters.userName
      login: userIdentity.userName
  timespan: 30m
`;
    const engine = new RuleEngine(loadLinked(text), defaultConfig);
    const hits = await engine.detect(
      [
        call("2026-11-20T10:00:00Z", "admin", {
          eventName: "CreateAccessKey",
          requestParameters: { userName: "carol" },
        }),
        call("2026-11-20T10:20:00Z", "carol", { eventName: "ConsoleLogin" }),
      ],
      new MemoryStore(),
    );
    expect(hits.map((h) => h.group)).toEqual([{ target: "carol" }]);
  });

  it("an alias naming a rule outside the correlation is an error when the rules are linked", () => {
    const loaded = loadRuleSources([
      {
        file: "a.yml",
        text: `${ruleHead("one")}detection:\n  s:\n    eventName: A\n  condition: s\n---\ntitle: c\nid: c\ncorrelation:\n  type: temporal\n  rules: [one]\n  group-by: [x]\n  aliases:\n    x:\n      other: userIdentity.userName\n  timespan: 5m\n`,
      },
    ]);
    expect(loaded.errors).toEqual([]);
    const r = linkRules(loaded.rules);
    expect(r.rules.map((x) => x.meta.id)).toEqual(["one"]);
    expect(r.problems[0].reason).toMatch(/alias x names rule "other"/);
  });

  it("aliases group different fields of different rules together", async () => {
    const text = `${ruleHead("key-for-user")}detection:
  s:
    eventName: CreateAccessKey
  condition: s
---
${ruleHead("user-login")}detection:
  s:
    eventName: ConsoleLogin
  condition: s
---
title: key then login
id: key-then-login
correlation:
  type: temporal
  rules: [key-for-user, user-login]
  group-by: [target]
  aliases:
    target:
      key-for-user: requestParameters.userName
      user-login: userIdentity.userName
  timespan: 30m
`;
    const engine = new RuleEngine(loadLinked(text), defaultConfig);
    const hits = await engine.detect(
      [
        call("2026-11-20T10:00:00Z", "admin", {
          eventName: "CreateAccessKey",
          requestParameters: { userName: "carol" },
        }),
        call("2026-11-20T10:10:00Z", "dave", { eventName: "ConsoleLogin" }),
        call("2026-11-20T10:20:00Z", "carol", { eventName: "ConsoleLogin" }),
      ],
      new MemoryStore(),
    );
    expect(hits).toHaveLength(1);
    expect(hits[0].group).toEqual({ target: "carol" });
    expect(hits[0].events).toHaveLength(2);
  });
});

describe("correlation rule validation", () => {
  it("value_count without a field, and a bad timespan, are load errors", () => {
    const r = loadRuleSources([
      {
        file: "c.yml",
        text: "title: a\nid: a\ncorrelation:\n  type: value_count\n  rules: [x]\n  timespan: 5m\n  condition: {gte: 2}\n---\ntitle: b\nid: b\ncorrelation:\n  type: event_count\n  rules: [x]\n  timespan: soon\n  condition: {gte: 2}\n---\ntitle: c\nid: c\ncorrelation:\n  type: sequence\n  rules: [x]\n  timespan: 5m\n",
      },
    ]);
    expect(r.errors.map((e) => [e.ruleId, e.feature])).toEqual([
      ["a", undefined],
      ["b", undefined],
      ["c", "correlation type sequence"],
    ]);
    expect(r.errors[0].reason).toMatch(/condition.field/);
    expect(r.errors[1].reason).toMatch(/timespan/);
  });
});

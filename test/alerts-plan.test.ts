/**
 * How planAlerts orders, merges and describes what a batch's hits touch: the order alerts come out
 * in, the events an alert is made from when several hits (or repeated ids) add to one window, and
 * the texts made from them (regions, ISO times).
 */
import { describe, expect, it } from "vitest";
import { buildAlerts, MAX_WINDOWS_PER_GROUP, planAlerts, suppressionKey } from "../src/alerts.ts";
import { parseConfig } from "../src/config.ts";
import { MemoryStore } from "../src/state/memory.ts";
import { type EventSpec, makeEvent, makeHit, makeRule } from "./support/alert-events.ts";

const config = parseConfig({});

function events(ids: string[], start: string, opts: Partial<EventSpec> = {}) {
  const t0 = Date.parse(start);
  return ids.map((id, i) => makeEvent({ id, time: new Date(t0 + i * 1000).toISOString(), ...opts }));
}

const sampledIds = (sample: Record<string, unknown>[]) => sample.map((r) => r.eventID);

describe("planAlerts order", () => {
  it("lists alerts by first event time, then by rule id as localeCompare orders it", async () => {
    const at = "2026-11-20T10:00:00Z";
    // localeCompare puts "a-rule" before "A-rule" (code units would put "A-rule" first), both before "b-rule".
    const hits = ["b-rule", "A-rule", "a-rule"].map((id, i) =>
      makeHit(makeRule({ id }), events([`o${i}`], at)),
    );
    const later = makeHit(makeRule({ id: "0-rule" }), events(["o3"], "2026-11-20T10:00:01Z"));
    const plan = await planAlerts([later, ...hits], new MemoryStore(), config);
    expect(plan.alerts.map((a) => a.ruleId)).toEqual(["a-rule", "A-rule", "b-rule", "0-rule"]);
  });
});

describe("the events an alert is made from", () => {
  it("takes each event once, in order of first appearance, when several hits add to one window", async () => {
    const rule = makeRule();
    const [e1, e2, e3] = events(["m1", "m2", "m3"], "2026-11-20T10:00:00Z");
    const [alert] = await buildAlerts(
      [makeHit(rule, [e1, e2]), makeHit(rule, [e2, e3])],
      new MemoryStore(),
      config,
    );
    expect(alert.count).toBe(3);
    expect(alert.eventIds).toEqual(["m1", "m2", "m3"]);
    expect(sampledIds(alert.sample)).toEqual(["m1", "m2", "m3"]);
  });

  it("keeps a repeated id in its first place with the later event, as a map by id would", async () => {
    const rule = makeRule();
    const first = makeEvent({ id: "r1", time: "2026-11-20T10:00:00Z", region: "us-east-1" });
    const again = makeEvent({ id: "r1", time: "2026-11-20T10:00:00Z", region: "eu-west-1" });
    const other = makeEvent({ id: "r2", time: "2026-11-20T10:00:01Z", region: "eu-west-1" });
    const [alert] = await buildAlerts(
      [makeHit(rule, [first, other]), makeHit(rule, [again])],
      new MemoryStore(),
      config,
    );
    expect(alert.count).toBe(2);
    expect(alert.region).toBe("eu-west-1");
    expect(sampledIds(alert.sample)).toEqual(["r1", "r2"]);
    expect(alert.sample[0].awsRegion).toBe("eu-west-1");
  });

  it("counts a repeated id within one large hit once", async () => {
    const list = events(
      Array.from({ length: 20 }, (_, i) => `big${i}`),
      "2026-11-20T10:00:00Z",
    );
    const repeated = makeEvent({ id: "big3", time: "2026-11-20T10:00:30Z" });
    const [alert] = await buildAlerts([makeHit(makeRule(), [...list, repeated])], new MemoryStore(), config);
    expect(alert.count).toBe(20);
    expect(alert.eventIds).toHaveLength(20);
    expect(new Set(alert.eventIds).size).toBe(20);
  });
});

describe("a hit's events", () => {
  it("count a repeated id within a small hit once, the later event standing for it", async () => {
    const a = makeEvent({ id: "s1", time: "2026-11-20T10:00:00Z", region: "us-east-1" });
    const b = makeEvent({ id: "s2", time: "2026-11-20T10:00:01Z", region: "us-east-1" });
    const again = makeEvent({ id: "s1", time: "2026-11-20T10:00:02Z", region: "eu-west-1" });
    const [alert] = await buildAlerts([makeHit(makeRule(), [a, b, again])], new MemoryStore(), config);
    expect(alert.count).toBe(2);
    expect(alert.eventIds).toEqual(["s1", "s2"]);
    expect(sampledIds(alert.sample)).toEqual(["s1", "s2"]);
    expect(alert.sample[0].awsRegion).toBe("eu-west-1");
  });

  it("open windows in event-time order even when the hit lists them otherwise", async () => {
    const late = makeEvent({ id: "t2", time: "2026-11-20T10:30:00Z" });
    const early = makeEvent({ id: "t1", time: "2026-11-20T10:00:00Z" });
    const [alert, ...rest] = await buildAlerts(
      [makeHit(makeRule(), [late, early])],
      new MemoryStore(),
      config,
    );
    expect(rest).toEqual([]);
    expect(alert.windowStart).toBe("2026-11-20T10:00:00.000Z");
    expect(alert.firstSeen).toBe("2026-11-20T10:00:00.000Z");
    expect(alert.count).toBe(2);
  });

  it("an alert is made from at most 1000 of them", async () => {
    const many = events(
      Array.from({ length: 1000 }, (_, i) => `n${i}`),
      "2026-11-20T10:00:00Z",
      { region: "us-east-1" },
    );
    const beyond = makeEvent({ id: "n1000", time: "2026-11-20T10:20:00Z", region: "eu-west-1" });
    const [one] = await buildAlerts([makeHit(makeRule(), [...many, beyond])], new MemoryStore(), config);
    expect(one.count).toBe(1001);
    expect(one.region).toBe("us-east-1");
    const [merged] = await buildAlerts(
      [makeHit(makeRule(), many), makeHit(makeRule(), [beyond])],
      new MemoryStore(),
      config,
    );
    expect(merged.count).toBe(1001);
    expect(merged.region).toBe("us-east-1");
  });
});

describe("an alert's texts", () => {
  it("lists the distinct regions of its events in order, three at most, then …", async () => {
    const regions = ["us-east-1", "us-east-1", "", "eu-west-1", "us-east-1", "ap-south-1"];
    const list = regions.map((region, i) =>
      makeEvent({
        id: `g${i}`,
        time: new Date(Date.parse("2026-11-20T10:00:00Z") + i * 1000).toISOString(),
        region,
      }),
    );
    const [three] = await buildAlerts([makeHit(makeRule(), list)], new MemoryStore(), config);
    expect(three.region).toBe("us-east-1,eu-west-1,ap-south-1");

    const more = [...list, makeEvent({ id: "g9", time: "2026-11-20T10:00:09Z", region: "us-west-2" })];
    const [four] = await buildAlerts([makeHit(makeRule(), more)], new MemoryStore(), config);
    expect(four.region).toBe("us-east-1,eu-west-1,ap-south-1,…");
  });

  it("writes event times as toISOString does, milliseconds included, whatever times came before", async () => {
    const store = new MemoryStore();
    const rule = makeRule({ suppressionMinutes: 1 });
    // 4096 s apart: the same second modulo the size of the ISO text cache.
    const times = ["2026-11-20T10:00:00.250Z", "2026-11-20T11:08:16.250Z", "2026-11-20T11:08:16.999Z"];
    const seen: string[] = [];
    for (const [i, time] of times.entries()) {
      const [alert] = await buildAlerts([makeHit(rule, [makeEvent({ id: `t${i}`, time })])], store, config);
      seen.push(alert.firstSeen, alert.lastSeen, alert.windowStart ?? "");
    }
    const [t0, t1, t2] = times;
    // The third event falls in the second one's window: an update of its alert.
    expect(seen).toEqual([t0, t0, t0, t1, t1, t1, t1, t2, t1]);
  });

  it("writes whole seconds, times before 1970 and minutes that share a slot of the minute texts as toISOString does", async () => {
    const store = new MemoryStore();
    const rule = makeRule({ suppressionMinutes: 1 });
    // The first two are 2048 minutes apart: the same minute modulo the size of the minute text cache.
    const times = [
      "2026-11-20T10:00:05.000Z",
      "2026-11-21T20:08:05.000Z",
      "2026-11-20T10:05:59.000Z",
      "1969-12-31T23:59:59.999Z",
      "1969-12-31T23:57:00.000Z",
    ];
    for (const [i, time] of times.entries()) {
      const [alert] = await buildAlerts([makeHit(rule, [makeEvent({ id: `m${i}`, time })])], store, config);
      expect([alert.status, alert.firstSeen, alert.lastSeen, alert.windowStart]).toEqual([
        "new",
        time,
        time,
        time,
      ]);
    }
  });
});

describe("the suppression state a group keeps", () => {
  it("keeps the latest MAX_WINDOWS_PER_GROUP windows, for 2×suppression + lateness", async () => {
    const rule = makeRule({ suppressionMinutes: 30 });
    const store = new MemoryStore(() => Date.parse("2026-11-20T00:00:00Z"));
    const puts: { keys: string[]; ttl: number }[] = [];
    const putItems = store.putItems.bind(store);
    store.putItems = async (items, ttl) => {
      puts.push({ keys: items.map((i) => i.key), ttl });
      return putItems(items, ttl);
    };
    const ids: string[] = [];
    for (let w = 0; w < MAX_WINDOWS_PER_GROUP + 2; w++) {
      // one event per window, each an hour after the last: a new window every time
      const time = new Date(Date.parse("2026-11-20T00:00:00Z") + w * 3_600_000).toISOString();
      const [alert] = await buildAlerts([makeHit(rule, events([`w${w}`], time))], store, config);
      expect(alert.status).toBe("new");
      ids.push(alert.id);
    }
    const key = suppressionKey(rule.id, makeHit(rule, events(["x"], "2026-11-20T00:00:00Z")).groupKey);
    const stored = (await store.getItems<{ windows: { id: string }[] }>([key])).get(key);
    expect(stored?.windows.map((w) => w.id)).toEqual(ids.slice(-MAX_WINDOWS_PER_GROUP));
    expect(puts).toHaveLength(MAX_WINDOWS_PER_GROUP + 2);
    expect(puts.every((p) => p.keys.length === 1 && p.ttl === (2 * 30 + config.latenessMinutes) * 60)).toBe(
      true,
    );
  });

  it("is kept at least an hour, however short the rule's suppression", async () => {
    const store = new MemoryStore(() => Date.parse("2026-11-20T00:00:00Z"));
    const ttls: number[] = [];
    const putItems = store.putItems.bind(store);
    store.putItems = async (items, ttl) => {
      ttls.push(ttl);
      return putItems(items, ttl);
    };
    // 2 × 1 minute + 20 minutes of lateness is under the hour.
    const rule = makeRule({ suppressionMinutes: 1 });
    await buildAlerts([makeHit(rule, events(["short"], "2026-11-20T00:00:00Z"))], store, config);
    expect(config.latenessMinutes).toBe(20);
    expect(ttls).toEqual([3600]);
  });
});

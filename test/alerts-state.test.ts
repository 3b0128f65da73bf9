/**
 * The alert stage reads suppression state from a store that hands out what it holds (MemoryStore
 * does not copy), so planning must change copies only: nothing reaches the store before commit.
 * And an alert's lazily redacted `sample` must behave like the plain field it stands for.
 */
import { describe, expect, it } from "vitest";
import { buildAlerts, planAlerts, suppressionKey } from "../src/alerts.ts";
import { parseConfig } from "../src/config.ts";
import { MemoryStore } from "../src/state/memory.ts";
import { makeEvent, makeHit, makeRule } from "./support/alert-events.ts";

const config = parseConfig({});

function deletes(ids: string[], start: string) {
  const t0 = Date.parse(start);
  return ids.map((id, i) => makeEvent({ id, time: new Date(t0 + i * 1000).toISOString() }));
}

describe("planAlerts and the stored suppression state", () => {
  it("changes nothing in the store until commit, so a retried batch plans the same alerts", async () => {
    const store = new MemoryStore();
    const rule = makeRule();
    await buildAlerts([makeHit(rule, deletes(["a1"], "2026-11-20T10:00:00Z"))], store, config);
    const hit = makeHit(rule, deletes(["a2", "a3"], "2026-11-20T10:20:00Z"));
    const key = suppressionKey(rule.id, hit.groupKey);
    const before = structuredClone((await store.getItems([key])).get(key));

    const first = await planAlerts([hit], store, config);
    expect((await store.getItems([key])).get(key)).toEqual(before);
    const retried = await planAlerts([hit], store, config);
    expect(retried.alerts.map((a) => [a.id, a.status, a.count, a.title])).toEqual(
      first.alerts.map((a) => [a.id, a.status, a.count, a.title]),
    );
    expect(first.alerts[0]).toMatchObject({ status: "updated", count: 3 });

    await retried.commit();
    const [replayed] = (await planAlerts([hit], store, config)).alerts;
    expect(replayed).toBeUndefined(); // the same events are not counted twice
  });

  it("plans windows opened by earlier batches from the stored state, many events at once", async () => {
    const store = new MemoryStore();
    const rule = makeRule();
    const ids = Array.from({ length: 30 }, (_, i) => `m${i}`);
    await buildAlerts([makeHit(rule, deletes(ids.slice(0, 20), "2026-11-20T10:00:00Z"))], store, config);
    // More events than are looked up one by one: a set of the counted hashes is built.
    const [alert] = await buildAlerts([makeHit(rule, deletes(ids, "2026-11-20T10:00:00Z"))], store, config);
    expect(alert).toMatchObject({ status: "updated", count: 30 });
  });
});

describe("an alert's lazily made fields (title, actor, sample)", () => {
  async function run(readAtOnce: boolean) {
    const store = new MemoryStore();
    const rule = makeRule();
    const alerts = [];
    for (const [ids, at] of [
      [["l1"], "2026-11-20T10:00:00Z"],
      [["l2", "l3"], "2026-11-20T10:10:00Z"],
      [["l4"], "2026-11-20T10:20:00Z"],
    ] as const) {
      const planned = await buildAlerts([makeHit(rule, deletes([...ids], at))], store, config);
      if (readAtOnce) for (const a of planned) void [a.title, a.actor, a.sample];
      alerts.push(...planned);
    }
    return alerts.map((a) => JSON.parse(JSON.stringify(a)));
  }

  it("read late, are what they were when the alert was planned", async () => {
    const late = await run(false);
    expect(late.map((a) => a.count)).toEqual([1, 3, 4]);
    expect(late).toEqual(await run(true));
  });

  it("keep their places among the fields", async () => {
    const [alert] = await buildAlerts(
      [makeHit(makeRule(), deletes(["k1"], "2026-11-20T10:00:00Z"))],
      new MemoryStore(),
      config,
    );
    expect(Object.keys(alert).slice(0, 13)).toEqual([
      "id",
      "ruleId",
      "title",
      "severity",
      "actor",
      "principal",
      "account",
      "region",
      "firstSeen",
      "lastSeen",
      "count",
      "eventIds",
      "sample",
    ]);
    const title = alert.title;
    alert.actor = { kind: "human", confidence: "low", via: "", evidence: [] };
    expect(alert.actor.kind).toBe("human");
    expect(alert.title).toBe(title);
    alert.title = "replaced";
    expect(JSON.parse(JSON.stringify(alert)).title).toBe("replaced");
  });
});

describe("an alert's sample", () => {
  it("is an enumerable field in its place, read by JSON and structuredClone, and assignable", async () => {
    const store = new MemoryStore();
    const [alert] = await buildAlerts(
      [makeHit(makeRule(), deletes(["s1", "s2"], "2026-11-20T10:00:00Z"))],
      store,
      config,
    );
    const keys = Object.keys(alert);
    expect(keys.indexOf("sample")).toBe(keys.indexOf("eventIds") + 1);
    expect(keys.indexOf("status")).toBe(keys.indexOf("sample") + 1);
    expect(alert.sample).toHaveLength(2);
    expect(JSON.parse(JSON.stringify(alert)).sample).toEqual(alert.sample);
    expect(structuredClone(alert).sample).toEqual(alert.sample);
    expect({ ...alert }.sample).toEqual(alert.sample);
    alert.sample = [{ note: "replaced" }];
    expect(alert.sample).toEqual([{ note: "replaced" }]);
    expect(JSON.parse(JSON.stringify(alert)).sample).toEqual([{ note: "replaced" }]);
  });
});

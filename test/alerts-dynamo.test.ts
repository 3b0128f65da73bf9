/**
 * The alert lifecycle on the DynamoDB store (moto_server): what Lambda runs. Suppression state goes
 * through JSON and DynamoDB's item limits here, not through structuredClone as in MemoryStore.
 */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { buildAlerts, MAX_TRACKED_EVENT_IDS } from "../src/alerts.ts";
import { parseConfig } from "../src/config.ts";
import { DynamoStore } from "../src/state/dynamo.ts";
import { makeEvent, makeHit, makeRule } from "./support/alert-events.ts";
import { awsClientConfig, createStoreTable, resetMoto } from "./support/aws.ts";

const config = parseConfig({});
let client: DynamoDBClient;
let store: DynamoStore;
let clock: number;

beforeEach(async () => {
  await resetMoto();
  client = new DynamoDBClient(awsClientConfig());
  clock = Date.parse("2026-11-20T10:15:00Z");
  store = new DynamoStore({ client, tableName: await createStoreTable(), clock: () => clock });
});
afterEach(() => client.destroy());

const deletes = (ids: string[], start: string) =>
  ids.map((id, i) => makeEvent({ id, time: new Date(Date.parse(start) + i * 1000).toISOString() }));

describe("alerts on DynamoStore", () => {
  it("fires, updates and ignores a replay across batches", async () => {
    const rule = makeRule();
    const [first] = await buildAlerts(
      [makeHit(rule, deletes(["d1", "d2"], "2026-11-20T10:00:00Z"))],
      store,
      config,
    );
    expect(first.status).toBe("new");
    clock += 10 * 60_000;
    const [second] = await buildAlerts(
      [makeHit(rule, deletes(["d3"], "2026-11-20T10:20:00Z"))],
      store,
      config,
    );
    expect([second.status, second.id, second.count]).toEqual(["updated", first.id, 3]);
    expect(
      await buildAlerts([makeHit(rule, deletes(["d1", "d2"], "2026-11-20T10:00:00Z"))], store, config),
    ).toEqual([]);
  });

  it("keeps the state of a busy window within DynamoDB's item limit and still refuses replays", async () => {
    const rule = makeRule();
    const ids = Array.from(
      { length: MAX_TRACKED_EVENT_IDS + 200 },
      (_, i) => `busy-event-id-${i}-0000-1111-2222`,
    );
    const events = () => deletes(ids, "2026-11-20T10:00:00Z");
    const [alert] = await buildAlerts([makeHit(rule, events())], store, config);
    expect(alert.count).toBe(ids.length);
    expect(await buildAlerts([makeHit(rule, events())], store, config)).toEqual([]);
  });

  it("raises the count of a correlation alert when a later batch reports a larger window count", async () => {
    const rule = makeRule({ id: "ai-access-denied-burst", title: "AI access denied burst", level: "medium" });
    const denied = (id: string, time: string) =>
      makeEvent({ id, time, action: "GetObject", errorCode: "AccessDenied" });
    const [first] = await buildAlerts(
      [makeHit(rule, [denied("c1", "2026-11-20T10:00:00Z")], { count: 10 })],
      store,
      config,
    );
    expect(first.count).toBe(10);
    const [later] = await buildAlerts(
      [
        makeHit(rule, [], {
          groupKey: makeHit(rule, [denied("c1", "2026-11-20T10:00:00Z")]).groupKey,
          count: 14,
          firstSeen: new Date("2026-11-20T10:00:00Z"),
          lastSeen: new Date("2026-11-20T10:04:00Z"),
        }),
      ],
      store,
      config,
    );
    expect([later.status, later.id, later.count]).toEqual(["updated", first.id, 14]);
  });
});

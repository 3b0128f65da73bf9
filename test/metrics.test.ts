import { describe, expect, it } from "vitest";
import type { Alert } from "../src/alerts.ts";
import type { BatchResult } from "../src/batch.ts";
import { defaultConfig } from "../src/config.ts";
import type { AuditEvent } from "../src/event.ts";
import { type MetricDatum, metricDatums } from "../src/metrics.ts";
import { processBatch } from "../src/pipeline.ts";
import { EventTimeClock } from "../src/state/event-clock.ts";
import { MemoryStore } from "../src/state/memory.ts";
import { type EventSpec, makeEvent } from "./support/alert-events.ts";
import { assumeRole, call, iamUser, roleSession } from "./support/records.ts";

const processedAt = new Date("2026-11-20T10:10:30Z");

function result(parts: Partial<BatchResult> = {}): BatchResult {
  const events = parts.events ?? [];
  return {
    source: "s3://trail/AWSLogs/x.json.gz",
    stats: {
      records: events.length,
      malformed: 0,
      duplicates: 0,
      skipped: 0,
      events: events.length,
      reattributed: parts.reattributed?.length ?? 0,
      parked: 0,
      byKind: { ai: 0, human: 0, service: 0, unknown: 0 },
      ...parts.stats,
    },
    events,
    reattributed: parts.reattributed ?? [],
    kindChanges: parts.kindChanges ?? [],
    waiting: parts.waiting ?? [],
    hits: [],
    alerts: parts.alerts ?? [],
    malformed: [],
    processedAt,
  };
}

function dimsKey(d: MetricDatum): string {
  return (d.Dimensions ?? []).map((x) => `${x.Name}=${x.Value}`).join(",");
}

/** Sum of a metric (Values × Counts) over datums matching name, dimensions and optionally minute. */
function sum(datums: MetricDatum[], name: string, dims = "", at?: string): number {
  let total = 0;
  for (const d of datums) {
    if (d.MetricName !== name || dimsKey(d) !== dims) continue;
    if (at && d.Timestamp.toISOString() !== at) continue;
    d.Values.forEach((v, i) => {
      total += v * d.Counts[i];
    });
  }
  return total;
}

function alert(overrides: Partial<Alert>): Alert {
  return {
    id: "a".repeat(32),
    ruleId: "ai-destructive-action",
    title: "t",
    severity: "high",
    actor: { kind: "ai", confidence: "high", via: "aws-mcp", evidence: [] },
    principal: "p",
    account: "111122223333",
    region: "us-east-1",
    firstSeen: "2026-11-20T10:03:10.000Z",
    lastSeen: "2026-11-20T10:03:10.000Z",
    count: 1,
    eventIds: [],
    sample: [],
    status: "new",
    ...overrides,
  };
}

const ev = (id: string, time: string, extra: Partial<EventSpec> = {}) => makeEvent({ id, time, ...extra });

describe("metricDatums", () => {
  it("counts calls, errors, access denials and destructive calls by actor kind, per event minute", () => {
    const events: AuditEvent[] = [
      ev("1", "2026-11-20T10:01:05Z", { kind: "ai", facts: { "action.destructive": true } }),
      ev("2", "2026-11-20T10:01:59Z", {
        kind: "ai",
        errorCode: "AccessDenied",
        facts: { "action.destructive": true },
      }),
      ev("3", "2026-11-20T10:02:00Z", { kind: "ai", errorCode: "Client.UnauthorizedOperation" }),
      ev("4", "2026-11-20T10:02:30Z", { kind: "human", errorCode: "NoSuchKey" }),
      ev("5", "2026-11-20T10:02:31Z", {
        kind: "service",
        action: "GetObject",
        facts: { "action.destructive": false },
      }),
    ];
    const d = metricDatums(result({ events }));
    expect(sum(d, "Calls", "ActorKind=ai")).toBe(3);
    expect(sum(d, "Calls", "ActorKind=ai", "2026-11-20T10:01:00.000Z")).toBe(2);
    expect(sum(d, "Calls", "ActorKind=ai", "2026-11-20T10:02:00.000Z")).toBe(1);
    expect(sum(d, "Calls", "ActorKind=human")).toBe(1);
    expect(sum(d, "Calls", "ActorKind=service")).toBe(1);
    expect(sum(d, "Errors", "ActorKind=ai")).toBe(2);
    expect(sum(d, "Errors", "ActorKind=human")).toBe(1);
    expect(sum(d, "AccessDenied", "ActorKind=ai")).toBe(2);
    expect(sum(d, "AccessDenied", "ActorKind=human")).toBe(0);
    // the refused delete destroyed nothing
    expect(sum(d, "DestructiveCalls", "ActorKind=ai")).toBe(1);
    expect(sum(d, "DestructiveCalls", "ActorKind=service")).toBe(0);
    for (const datum of d) {
      expect(datum.Timestamp.getUTCSeconds()).toBe(0);
      expect(datum.Values).toHaveLength(datum.Counts.length);
      expect(datum.Values.length).toBeLessThanOrEqual(150);
    }
  });

  it("aggregates: one datum per metric, dimension and minute", () => {
    const events = Array.from({ length: 500 }, (_, i) => ev(`e${i}`, "2026-11-20T10:05:10Z"));
    const d = metricDatums(result({ events })).filter((x) => x.MetricName === "Calls");
    expect(d).toHaveLength(1);
    expect(d[0]).toMatchObject({ Values: [1], Counts: [500], Unit: "Count" });
  });

  it("publishes pipeline health for every batch, zeros included", () => {
    const d = metricDatums(
      result({ stats: { records: 0, malformed: 0, duplicates: 0 } as BatchResult["stats"] }),
    );
    const health = d.filter((x) => !x.Dimensions);
    expect(health.map((x) => x.MetricName).sort()).toEqual([
      "DuplicatesDropped",
      "MalformedRecords",
      "Reattributed",
      "RecordsRead",
    ]);
    for (const x of health) expect(x.Timestamp.toISOString()).toBe("2026-11-20T10:10:00.000Z");
    const busy = metricDatums(
      result({ stats: { records: 120, malformed: 3, duplicates: 7 } as BatchResult["stats"] }),
    );
    expect(sum(busy, "RecordsRead")).toBe(120);
    expect(sum(busy, "MalformedRecords")).toBe(3);
    expect(sum(busy, "DuplicatesDropped")).toBe(7);
  });

  it("measures delivery lag in seconds as a distribution, one datum per minute under CloudWatch's 150 values", () => {
    const events = [
      ev("l1", "2026-11-20T10:00:30Z"),
      ev("l2", "2026-11-20T10:00:30Z"),
      ev("l3", "2026-11-20T10:05:00Z"),
    ];
    const d = metricDatums(result({ events })).filter((x) => x.MetricName === "DeliveryLag");
    const first = d.find((x) => x.Timestamp.toISOString() === "2026-11-20T10:00:00.000Z");
    expect(first).toMatchObject({ Unit: "Seconds", Values: [600], Counts: [2] });
    expect(sum(d, "DeliveryLag", "", "2026-11-20T10:05:00.000Z")).toBe(330);

    // 6,000 events 10 ms apart in one minute: whole-second lags within a minute take at most 61 values.
    const crowded = Array.from({ length: 6000 }, (_, i) =>
      ev(`s${i}`, new Date(Date.parse("2026-11-20T10:00:00Z") + i * 10).toISOString()),
    );
    const lag = metricDatums(result({ events: crowded })).filter((x) => x.MetricName === "DeliveryLag");
    expect(lag).toHaveLength(1);
    expect(lag[0].Values.length).toBeLessThanOrEqual(61);
    expect(new Set(lag[0].Values).size).toBe(lag[0].Values.length);
    expect(lag[0].Counts.reduce((a, b) => a + b, 0)).toBe(6000);
  });

  it("counts new alerts by severity and by rule, not updates", () => {
    const alerts = [
      alert({ id: "1", severity: "critical", ruleId: "cloudtrail-tampering" }),
      alert({ id: "2", severity: "high" }),
      alert({ id: "3", severity: "high", status: "updated" }),
    ];
    const d = metricDatums(result({ alerts }));
    expect(sum(d, "Alerts", "Severity=critical")).toBe(1);
    expect(sum(d, "Alerts", "Severity=high")).toBe(1);
    expect(sum(d, "Alerts", "RuleId=cloudtrail-tampering")).toBe(1);
    expect(sum(d, "Alerts", "RuleId=ai-destructive-action")).toBe(1);
    expect(d.find((x) => x.MetricName === "Alerts")?.Timestamp.toISOString()).toBe(
      "2026-11-20T10:03:00.000Z",
    );
  });

  it("counts re-attributed events under their new verdict without counting their calls again", () => {
    const fresh = [ev("n1", "2026-11-20T10:06:00Z", { kind: "human" })];
    const reattributed = [
      ev("old1", "2026-11-20T09:58:00Z", { kind: "ai" }),
      ev("old2", "2026-11-20T09:58:10Z", { kind: "ai" }),
    ];
    const d = metricDatums(result({ events: fresh, reattributed }));
    expect(sum(d, "Calls", "ActorKind=ai")).toBe(0);
    expect(sum(d, "Calls", "ActorKind=human")).toBe(1);
    expect(sum(d, "Reattributed", "ActorKind=ai", "2026-11-20T09:58:00.000Z")).toBe(2);
    expect(sum(d, "Reattributed")).toBe(2);
  });

  it("moves a re-attributed call from its old kind to its new one when the kind changed", () => {
    const moved = ev("old1", "2026-11-20T09:58:00Z", { kind: "ai" });
    const d = metricDatums(result({ reattributed: [moved], kindChanges: [{ event: moved, from: "human" }] }));
    expect(sum(d, "Calls", "ActorKind=ai", "2026-11-20T09:58:00.000Z")).toBe(1);
    expect(sum(d, "Calls", "ActorKind=human", "2026-11-20T09:58:00.000Z")).toBe(-1);
  });

  it("moves a re-attributed call's errors, access denials and destructive calls with it", () => {
    const denied = ev("old2", "2026-11-20T09:58:00Z", { kind: "ai", errorCode: "AccessDenied" });
    const deleted = ev("old3", "2026-11-20T09:58:10Z", { kind: "ai", facts: { "action.destructive": true } });
    const d = metricDatums(
      result({
        reattributed: [denied, deleted],
        kindChanges: [
          { event: denied, from: "human" },
          { event: deleted, from: "unknown" },
        ],
      }),
    );
    for (const [metric, from] of [
      ["Errors", "human"],
      ["AccessDenied", "human"],
      ["DestructiveCalls", "unknown"],
    ] as const) {
      expect(sum(d, metric, "ActorKind=ai"), metric).toBe(1);
      expect(sum(d, metric, `ActorKind=${from}`), metric).toBe(-1);
    }
  });

  it("ends with every call under its final kind after park and resolve through the pipeline", async () => {
    const now = Date.now();
    const at = (min: number) => new Date(now - min * 60_000).toISOString().replace(/\.\d{3}Z$/, "Z");
    const issued = assumeRole(
      at(30),
      iamUser("dev-alice"),
      "agent-runner",
      "task-1",
      "ASIAAGENT00000000001",
      { tags: { AccessType: "AI" } },
    );
    const agentCall = call(
      "ListBuckets",
      at(29),
      roleSession("agent-runner", "task-1", "ASIAAGENT00000000001", at(30)),
    );
    const clock = new EventTimeClock();
    const store = new MemoryStore(clock.now);
    const deps = { store, config: defaultConfig, eventClock: clock, now: () => new Date(now) };
    const first = await processBatch({ source: "calls", records: [agentCall] }, deps);
    const second = await processBatch({ source: "sts", records: [issued] }, deps);
    const all = [...metricDatums(first), ...metricDatums(second)];
    expect(second.kindChanges.map((c) => [c.event.id, c.from, c.event.actor.kind])).toEqual([
      [agentCall.eventID, "human", "ai"],
    ]);
    expect(sum(all, "Calls", "ActorKind=ai")).toBe(1);
    expect(sum(all, "Calls", "ActorKind=human")).toBe(1); // the AssumeRole call itself, by dev-alice
  });

  it("leaves out events CloudWatch would reject (older than two weeks) and says how many", () => {
    const events = [ev("old", "2026-10-01T00:00:00Z"), ev("ok", "2026-11-20T10:00:00Z")];
    const d = metricDatums(result({ events }));
    expect(sum(d, "Calls", "ActorKind=ai")).toBe(1);
    expect(sum(d, "EventsOutsideMetricRange")).toBe(1);
    for (const x of d) expect(processedAt.getTime() - x.Timestamp.getTime()).toBeLessThan(14 * 24 * 3600_000);
  });

  it("keeps dimension values printable ASCII and non-empty", () => {
    const d = metricDatums(result({ alerts: [alert({ ruleId: "règle\u202Eévil" })] }));
    const rule = d.find((x) => x.Dimensions?.[0].Name === "RuleId");
    expect(rule?.Dimensions?.[0].Value).toBe("rglevil");
  });
});

/**
 * CloudWatchSink against moto_server (real wire protocol). Metrics are read back with
 * GetMetricStatistics / GetMetricData / ListMetrics.
 *
 * The clients here set disableRequestCompression: the SDK gzips PutMetricData bodies over 10 KB and
 * moto 5.2 gunzips such a body twice (500 "Not a gzipped file"). Real CloudWatch accepts gzip.
 */
import {
  CloudWatchClient,
  GetMetricDataCommand,
  GetMetricStatisticsCommand,
  ListMetricsCommand,
} from "@aws-sdk/client-cloudwatch";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { BatchResult } from "../../src/batch.ts";
import { parseConfig } from "../../src/config.ts";
import type { AuditEvent } from "../../src/event.ts";
import { metricDatums } from "../../src/metrics.ts";
import { SinkPublishError } from "../../src/retry.ts";
import { CloudWatchSink, MAX_DATUMS_PER_REQUEST, metricRequests } from "../../src/sinks/cloudwatch.ts";
import { type EventSpec, makeEvent } from "../support/alert-events.ts";
import { awsClientConfig, commandInputs, failCommand, resetMoto } from "../support/aws.ts";

const NAMESPACE = "AgentTrailTest";
const config = parseConfig({ metrics: { namespace: NAMESPACE } });
const noSleep = { sleep: async () => {} };
const THROTTLED = { name: "ThrottlingException", message: "Rate exceeded", status: 400 };

let client: CloudWatchClient;

beforeEach(async () => {
  await resetMoto();
  client = new CloudWatchClient({ ...awsClientConfig(), disableRequestCompression: true, maxAttempts: 1 });
});
afterEach(() => client.destroy());

const minuteAgo = (m: number) => new Date(Math.floor(Date.now() / 60_000) * 60_000 - m * 60_000);

function batch(events: AuditEvent[], extra: Partial<BatchResult> = {}): BatchResult {
  return {
    source: "s3://trail/x.json.gz",
    stats: {
      records: events.length + 2,
      malformed: 2,
      duplicates: 1,
      skipped: 0,
      events: events.length,
      reattributed: 0,
      parked: 0,
      byKind: { ai: 0, human: 0, service: 0, unknown: 0 },
    },
    events,
    reattributed: [],
    kindChanges: [],
    waiting: [],
    hits: [],
    alerts: [],
    malformed: [],
    processedAt: new Date(),
    ...extra,
  };
}

function ev(id: string, at: Date, extra: Partial<EventSpec> = {}): AuditEvent {
  return makeEvent({ id, time: at.toISOString(), ...extra });
}

async function statistic(
  metric: string,
  dims: Record<string, string>,
  stat: "Sum" | "SampleCount" | "Maximum",
) {
  const res = await client.send(
    new GetMetricStatisticsCommand({
      Namespace: NAMESPACE,
      MetricName: metric,
      Dimensions: Object.entries(dims).map(([Name, Value]) => ({ Name, Value })),
      StartTime: minuteAgo(60 * 24),
      EndTime: minuteAgo(-5),
      Period: 60,
      Statistics: [stat],
    }),
  );
  return (res.Datapoints ?? []).reduce((n, d) => n + (d[stat] ?? 0), 0);
}

describe("CloudWatchSink", () => {
  it("publishes calls, errors, destructive calls and health in the configured namespace", async () => {
    const t = minuteAgo(3);
    const events = [
      ev("c1", t, { kind: "ai", facts: { "action.destructive": true } }),
      ev("c2", t, { kind: "ai", errorCode: "AccessDenied" }),
      ev("c3", minuteAgo(2), { kind: "human" }),
    ];
    const puts = commandInputs(client, "PutMetricDataCommand");
    await new CloudWatchSink(client, config, { retry: noSleep }).publish(batch(events));
    const expectKind = (kind: string, pred: (e: AuditEvent) => boolean) =>
      events.filter((e) => e.actor.kind === kind && pred(e)).length;
    expect(await statistic("Calls", { ActorKind: "ai" }, "Sum")).toBe(expectKind("ai", () => true));
    expect(await statistic("Calls", { ActorKind: "human" }, "Sum")).toBe(expectKind("human", () => true));
    expect(await statistic("AccessDenied", { ActorKind: "ai" }, "Sum")).toBe(
      expectKind("ai", (e) => !!e.error),
    );
    expect(await statistic("DestructiveCalls", { ActorKind: "ai" }, "Sum")).toBe(1);
    expect(await statistic("RecordsRead", {}, "Sum")).toBe(events.length + 2);
    expect(await statistic("MalformedRecords", {}, "Sum")).toBe(2);
    expect(await statistic("DeliveryLag", {}, "SampleCount")).toBe(events.length);
    expect(await statistic("DeliveryLag", {}, "Maximum")).toBeGreaterThanOrEqual(180);
    const listed = await client.send(new ListMetricsCommand({ Namespace: NAMESPACE, MetricName: "Calls" }));
    const kinds = new Set((listed.Metrics ?? []).map((m) => m.Dimensions?.[0]?.Value));
    expect(kinds).toEqual(new Set(["ai", "human"]));
    expect(puts).toHaveLength(1);
  });

  it("splits more than 1000 datums into several requests and loses none", async () => {
    // one call per minute for 1100 minutes: 1100 Calls datums + 1100 DeliveryLag datums + health
    const events = Array.from({ length: 1100 }, (_, i) => ev(`m${i}`, minuteAgo(i + 1)));
    const requests = metricRequests(metricDatums(batch(events)));
    expect(requests.length).toBeGreaterThan(2);
    for (const r of requests) expect(r.length).toBeLessThanOrEqual(MAX_DATUMS_PER_REQUEST);
    const puts = commandInputs(client, "PutMetricDataCommand");
    await new CloudWatchSink(client, config, { retry: noSleep }).publish(batch(events));
    expect(puts).toHaveLength(requests.length);
    const data = await client.send(
      new GetMetricDataCommand({
        StartTime: minuteAgo(1200),
        EndTime: minuteAgo(-5),
        MetricDataQueries: [
          {
            Id: "calls",
            MetricStat: {
              Metric: {
                Namespace: NAMESPACE,
                MetricName: "Calls",
                Dimensions: [{ Name: "ActorKind", Value: "ai" }],
              },
              Period: 60,
              Stat: "Sum",
            },
          },
        ],
      }),
    );
    const values = data.MetricDataResults?.[0]?.Values ?? [];
    expect(values.reduce((a, b) => a + b, 0)).toBe(events.length);
  });

  it("retries a throttled request with backoff and then delivers it", async () => {
    const throttled = failCommand(client, "PutMetricDataCommand", 1, THROTTLED);
    // Added after the throttle: the requests that reach moto.
    const puts = commandInputs(client, "PutMetricDataCommand");
    const retries: number[] = [];
    const sink = new CloudWatchSink(client, config, {
      retry: { ...noSleep, onRetry: (_e, attempt) => retries.push(attempt) },
    });
    await sink.publish(batch([ev("r1", minuteAgo(2))]));
    expect(retries).toEqual([1]);
    expect(throttled.failed).toBe(1);
    expect(puts).toHaveLength(1);
    expect(await statistic("Calls", { ActorKind: "ai" }, "Sum")).toBe(1);
  });

  it("fails the publish with a clear error when throttling outlasts the retries", async () => {
    const throttled = failCommand(client, "PutMetricDataCommand", 100, THROTTLED);
    const puts = commandInputs(client, "PutMetricDataCommand");
    const sink = new CloudWatchSink(client, config, { retry: { ...noSleep, attempts: 3 } });
    const failure = sink.publish(batch([ev("f1", minuteAgo(2))]));
    await expect(failure).rejects.toBeInstanceOf(SinkPublishError);
    await expect(failure).rejects.toThrow(
      /PutMetricData \(namespace AgentTrailTest.*failed after 3 attempts: ThrottlingException/,
    );
    // Every attempt was throttled before it was sent.
    expect(throttled.failed).toBe(3);
    expect(puts).toHaveLength(0);
  });
});

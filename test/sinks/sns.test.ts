/**
 * SnsAlertSink against moto_server: a topic with an SQS queue subscribed, messages read back off the
 * queue. Throttling and partial batch failures are injected by client middleware in front of the real
 * request (the request, or what is left of it, still goes to moto).
 */

import { CreateTopicCommand, SNSClient } from "@aws-sdk/client-sns";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type Alert, buildAlerts, renderAlertText } from "../../src/alerts.ts";
import type { BatchResult } from "../../src/batch.ts";
import { parseConfig } from "../../src/config.ts";
import { emptyStats } from "../../src/pipeline.ts";
import { SinkPublishError } from "../../src/retry.ts";
import {
  alertMessage,
  alertSubject,
  MAX_MESSAGE_BYTES,
  MESSAGE_MARGIN_BYTES,
  SnsAlertSink,
} from "../../src/sinks/sns.ts";
import { MemoryStore } from "../../src/state/memory.ts";
import { makeEvent, makeHit, makeRule } from "../support/alert-events.ts";
import {
  awsClientConfig,
  commandInputs,
  createTopicWithQueue,
  drainQueue,
  failCommand,
  resetMoto,
  uniqueName,
} from "../support/aws.ts";

const config = parseConfig({});
const noSleep = { sleep: async () => {} };
// biome-ignore lint/suspicious/noControlCharactersInRegex: the assertions are about control characters
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069\u200b-\u200f\ufeff]/;

let sns: SNSClient;

beforeEach(async () => {
  await resetMoto();
  sns = new SNSClient({ ...awsClientConfig(), maxAttempts: 1 });
});
afterEach(() => sns.destroy());

interface Envelope {
  Type: string;
  Subject?: string;
  Message: string;
  MessageAttributes?: Record<string, { Type: string; Value: string }>;
}

function result(alerts: Alert[]): BatchResult {
  return {
    source: "test",
    stats: emptyStats(),
    events: [],
    reattributed: [],
    kindChanges: [],
    waiting: [],
    hits: [],
    alerts,
    malformed: [],
    processedAt: new Date("2026-11-20T10:10:00Z"),
  };
}

/** Alerts made by the alert stage from events (n groups, one alert each). */
async function makeAlerts(
  n: number,
  opts: { level?: "high" | "critical"; sessionToken?: boolean; tags?: string[] } = {},
): Promise<Alert[]> {
  const rule = makeRule({ level: opts.level ?? "high", tags: opts.tags ?? [] });
  const hits = Array.from({ length: n }, (_, i) =>
    makeHit(
      rule,
      [
        makeEvent({
          id: `evt-${i}`,
          time: "2026-11-20T10:00:00Z",
          display: `agent-${i}`,
          arn: `arn:aws:sts::111122223333:assumed-role/agent-runner/agent-${i}`,
          responseElements: opts.sessionToken
            ? {
                credentials: {
                  accessKeyId: "ASIAEXAMPLE",
                  sessionToken: "IQoJb3JpZ2luTOPSECRETTOPSECRETTOPSECRET",
                },
              }
            : undefined,
        }),
      ],
      { groupKey: `group-${i}` },
    ),
  );
  return buildAlerts(hits, new MemoryStore(), config);
}

async function received(queueUrl: string): Promise<Envelope[]> {
  return (await drainQueue(queueUrl)).map((m) => JSON.parse(m.body) as Envelope);
}

/** Ids of the alerts the feed's queue received, sorted. */
async function deliveredIds(queueUrl: string): Promise<string[]> {
  return (await received(queueUrl)).map((m) => (JSON.parse(m.Message) as Alert).id).sort();
}

interface PublishedMessage {
  MessageStructure?: string;
  Message: string;
}

type BatchEntry = { Id: string };
type BatchResponse = { output: { Failed?: unknown[] } & Record<string, unknown>; response: unknown };

/**
 * Passes every PublishBatch call of `sns` through `edit`, which sends the entries it chooses to moto
 * (`send`) and may change the response. Returns the entry ids of each call, in call order.
 */
function onPublishBatch(
  name: string,
  edit: (
    entries: BatchEntry[],
    send: (entries: BatchEntry[]) => Promise<BatchResponse>,
  ) => Promise<BatchResponse>,
): string[][] {
  const sentIds: string[][] = [];
  sns.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName !== "PublishBatchCommand") return next(args);
      const input = args.input as { PublishBatchRequestEntries: BatchEntry[] };
      sentIds.push(input.PublishBatchRequestEntries.map((e) => e.Id));
      // The SDK types the output as any SNS command's: here it is PublishBatch's.
      const send = async (entries: BatchEntry[]) =>
        (await next({
          ...args,
          input: { ...input, PublishBatchRequestEntries: entries },
        })) as unknown as BatchResponse;
      return (await edit(input.PublishBatchRequestEntries, send)) as unknown as Awaited<
        ReturnType<typeof next>
      >;
    },
    { step: "initialize", name },
  );
  return sentIds;
}

describe("SnsAlertSink", () => {
  it("publishes one message per new alert with subject, attributes and the JSON alert for SQS", async () => {
    const feed = await createTopicWithQueue(sns);
    const [alert] = await makeAlerts(1, { sessionToken: true });
    const publishes = commandInputs(sns, "PublishCommand");
    await new SnsAlertSink(sns, { topicArn: feed.topicArn, retry: noSleep }).publish(result([alert]));
    const messages = await received(feed.queueUrl);
    expect(messages).toHaveLength(1);
    const m = messages[0];
    expect(m.Subject).toBe(alertSubject(alert));
    expect(m.Subject?.length).toBeLessThan(100);
    expect(m.Subject).not.toMatch(CONTROL);
    expect(m.MessageAttributes).toEqual({
      severity: { Type: "String", Value: alert.severity },
      ruleId: { Type: "String", Value: alert.ruleId },
      actorKind: { Type: "String", Value: alert.actor.kind },
      account: { Type: "String", Value: alert.account },
    });
    const body = JSON.parse(m.Message) as Alert;
    expect(body.id).toBe(alert.id);
    expect(body.ruleId).toBe(alert.ruleId);
    expect(body.count).toBe(alert.count);
    expect(body.eventIds).toEqual(alert.eventIds);
    expect(m.Message).not.toContain("TOPSECRET");
    expect(publishes).toHaveLength(1);
  });

  it("delivers the attributes to a raw-delivery queue and honours subscription filter policies", async () => {
    const critical = await createTopicWithQueue(sns, { raw: true, filterPolicy: { severity: ["critical"] } });
    const [high] = await makeAlerts(1, { level: "high" });
    const [crit] = await makeAlerts(1, { level: "critical" });
    await new SnsAlertSink(sns, { topicArn: critical.topicArn, retry: noSleep }).publish(
      result([high, crit]),
    );
    const raw = await drainQueue(critical.queueUrl);
    expect(raw).toHaveLength(1);
    expect(raw[0].attributes.severity).toBe("critical");
    expect(raw[0].attributes.ruleId).toBe(crit.ruleId);
    expect((JSON.parse(raw[0].body) as Alert).id).toBe(crit.id);
  });

  it("lets a subscription filter on the rule's ATT&CK tags (String.Array attribute)", async () => {
    const evasion = await createTopicWithQueue(sns, {
      raw: true,
      filterPolicy: { tags: ["attack.defense-evasion"] },
    });
    const [plain] = await makeAlerts(1);
    const [tagged] = await makeAlerts(1, { tags: ["attack.defense-evasion", "attack.t1562.008"] });
    await new SnsAlertSink(sns, { topicArn: evasion.topicArn, retry: noSleep }).publish(
      result([plain, tagged]),
    );
    const raw = await drainQueue(evasion.queueUrl);
    expect(raw.map((m) => (JSON.parse(m.body) as Alert).tags)).toEqual([
      ["attack.defense-evasion", "attack.t1562.008"],
    ]);
  });

  it("with messageStructure string, sends the alert JSON as the one message, attributes with it", async () => {
    const feed = await createTopicWithQueue(sns);
    const [alert] = await makeAlerts(1, { tags: ["attack.impact"] });
    const published = commandInputs<PublishedMessage>(sns, "PublishCommand");
    await new SnsAlertSink(sns, {
      topicArn: feed.topicArn,
      messageStructure: "string",
      retry: noSleep,
    }).publish(result([alert]));
    expect(published).toHaveLength(1);
    expect(published[0].MessageStructure).toBeUndefined();
    expect((JSON.parse(published[0].Message) as Alert).id).toBe(alert.id);
    const [m] = await received(feed.queueUrl);
    expect(m.Message).toBe(published[0].Message);
    expect(m.MessageAttributes?.severity).toEqual({ Type: "String", Value: alert.severity });
    expect(m.MessageAttributes?.tags).toEqual({ Type: "String.Array", Value: '["attack.impact"]' });
  });

  it("with messageStructure string, sends PublishBatch entries as plain messages too", async () => {
    const feed = await createTopicWithQueue(sns);
    const alerts = await makeAlerts(3);
    const batches = commandInputs<{ PublishBatchRequestEntries: PublishedMessage[] }>(
      sns,
      "PublishBatchCommand",
    );
    await new SnsAlertSink(sns, {
      topicArn: feed.topicArn,
      messageStructure: "string",
      retry: noSleep,
    }).publish(result(alerts));
    const entries = batches.flatMap((b) => b.PublishBatchRequestEntries);
    expect(entries.map((e) => e.MessageStructure)).toEqual([undefined, undefined, undefined]);
    expect(entries.map((e) => (JSON.parse(e.Message) as Alert).id).sort()).toEqual(
      alerts.map((a) => a.id).sort(),
    );
    expect(await deliveredIds(feed.queueUrl)).toEqual(alerts.map((a) => a.id).sort());
  });

  it("batches many alerts with PublishBatch, ≤10 entries per request", async () => {
    const feed = await createTopicWithQueue(sns);
    const alerts = await makeAlerts(23);
    const batches = commandInputs(sns, "PublishBatchCommand");
    await new SnsAlertSink(sns, { topicArn: feed.topicArn, retry: noSleep }).publish(result(alerts));
    expect(batches).toHaveLength(Math.ceil(alerts.length / 10));
    expect(await deliveredIds(feed.queueUrl)).toEqual(alerts.map((a) => a.id).sort());
  });

  it("sends escalated updates by default, every update with updates: all, none with updates: none", async () => {
    const [base] = await makeAlerts(1);
    const plain: Alert = { ...base, status: "updated", count: 7 };
    const escalated: Alert = {
      ...base,
      id: "e".repeat(32),
      status: "updated",
      severity: "critical",
      escalatedFrom: "high",
    };
    const feed = await createTopicWithQueue(sns);
    await new SnsAlertSink(sns, { topicArn: feed.topicArn, retry: noSleep }).publish(
      result([plain, escalated]),
    );
    const byDefault = await received(feed.queueUrl);
    expect(byDefault.map((m) => (JSON.parse(m.Message) as Alert).id)).toEqual([escalated.id]);
    expect(byDefault[0].Subject).toMatch(/^\[CRITICAL, raised from HIGH\] /);

    await new SnsAlertSink(sns, { topicArn: feed.topicArn, updates: "all", retry: noSleep }).publish(
      result([plain]),
    );
    const all = await received(feed.queueUrl);
    expect(all).toHaveLength(1);
    expect(all[0].Subject).toMatch(/^\[HIGH, update: 7 events\] /);

    await new SnsAlertSink(sns, { topicArn: feed.topicArn, updates: "none", retry: noSleep }).publish(
      result([plain, escalated]),
    );
    expect(await received(feed.queueUrl)).toHaveLength(0);
  });

  it("retries a throttled PublishBatch and delivers each alert once", async () => {
    const feed = await createTopicWithQueue(sns);
    const throttled = failCommand(sns, "PublishBatchCommand", 1, {
      name: "Throttling",
      message: "Rate exceeded",
      status: 400,
    });
    const alerts = await makeAlerts(3);
    await new SnsAlertSink(sns, { topicArn: feed.topicArn, retry: noSleep }).publish(result(alerts));
    expect(throttled.failed).toBe(1);
    expect(await received(feed.queueUrl)).toHaveLength(3);
  });

  it("retries only the entries PublishBatch reported as failed", async () => {
    const feed = await createTopicWithQueue(sns);
    let failOnce = true;
    // Drops the second entry before it reaches moto and reports it in Failed[], as SNS does on a server fault.
    const sentIds = onPublishBatch("partialFailure", async (entries, send) => {
      if (!failOnce) return send(entries);
      failOnce = false;
      const out = await send(entries.filter((_, i) => i !== 1));
      out.output.Failed = [
        ...(out.output.Failed ?? []),
        { Id: entries[1].Id, Code: "InternalError", SenderFault: false, Message: "try again" },
      ];
      return out;
    });
    const alerts = await makeAlerts(3);
    await new SnsAlertSink(sns, { topicArn: feed.topicArn, retry: noSleep }).publish(result(alerts));
    expect(sentIds).toEqual([["a0", "a1", "a2"], ["a1"]]);
    expect(await deliveredIds(feed.queueUrl)).toEqual(alerts.map((a) => a.id).sort());
  });

  it("sends again an entry the response lists in neither Successful nor Failed", async () => {
    const feed = await createTopicWithQueue(sns);
    let dropOnce = true;
    const retried: string[] = [];
    // The first attempt loses the last entry on the way and the response says nothing of it.
    const sentIds = onPublishBatch("unanswered", async (entries, send) => {
      if (!dropOnce) return send(entries);
      dropOnce = false;
      return send(entries.slice(0, -1));
    });
    const alerts = await makeAlerts(3);
    await new SnsAlertSink(sns, {
      topicArn: feed.topicArn,
      retry: { sleep: async () => {}, onRetry: (err) => void retried.push((err as Error).message) },
    }).publish(result(alerts));
    expect(sentIds).toEqual([["a0", "a1", "a2"], ["a2"]]);
    expect(retried).toEqual([
      `${alerts[2].id}: NotAnswered in neither Successful nor Failed of the response`,
    ]);
    expect(await deliveredIds(feed.queueUrl)).toEqual(alerts.map((a) => a.id).sort());
  });

  it("gives up on an entry that keeps failing after the attempts, naming it, and delivers the rest", async () => {
    const feed = await createTopicWithQueue(sns);
    const retried: number[] = [];
    // The entry with Id a1 is never delivered: it always comes back in Failed[] as a server fault.
    const sentIds = onPublishBatch("alwaysFailing", async (entries, send) => {
      const kept = entries.filter((e) => e.Id !== "a1");
      const out: BatchResponse = kept.length
        ? await send(kept)
        : { output: { $metadata: {}, Successful: [] }, response: {} };
      out.output.Failed = [{ Id: "a1", Code: "InternalError", SenderFault: false, Message: "try again" }];
      return out;
    });
    const alerts = await makeAlerts(3);
    const sink = new SnsAlertSink(sns, {
      topicArn: feed.topicArn,
      retry: { attempts: 3, sleep: async () => {}, onRetry: (_e, attempt) => void retried.push(attempt) },
    });
    const publish = sink.publish(result(alerts));
    await expect(publish).rejects.toThrow(SinkPublishError);
    await expect(publish).rejects.toThrow(
      `1 alerts still failing after 3 attempts: ${alerts[1].id}: InternalError try again`,
    );
    expect(sentIds).toEqual([["a0", "a1", "a2"], ["a1"], ["a1"]]);
    expect(retried).toEqual([1, 2]);
    expect(await deliveredIds(feed.queueUrl)).toEqual([alerts[0].id, alerts[2].id].sort());
  });

  it("fails with a clear error when entries are rejected as the sender's fault", async () => {
    const feed = await createTopicWithQueue(sns);
    sns.middlewareStack.add(
      (next, context) => async (args) => {
        const out = await next(args);
        if (context.commandName === "PublishBatchCommand") {
          const output = out.output as { Successful?: { Id: string }[]; Failed?: unknown[] };
          const first = output.Successful?.shift();
          output.Failed = [
            { Id: first?.Id, Code: "InvalidParameter", SenderFault: true, Message: "bad entry" },
          ];
        }
        return out;
      },
      { step: "initialize", name: "rejectOne" },
    );
    const alerts = await makeAlerts(2);
    const publish = new SnsAlertSink(sns, { topicArn: feed.topicArn, retry: noSleep }).publish(
      result(alerts),
    );
    await expect(publish).rejects.toThrow(SinkPublishError);
    await expect(publish).rejects.toThrow(
      new RegExp(`rejected 1 alerts: ${alerts[0].id}: InvalidParameter bad entry`),
    );
  });

  it("fails with a clear error when the topic does not exist", async () => {
    const feed = await createTopicWithQueue(sns);
    const missing = `${feed.topicArn}-missing`;
    const [alert] = await makeAlerts(1);
    const publish = new SnsAlertSink(sns, { topicArn: missing, retry: noSleep }).publish(result([alert]));
    await expect(publish).rejects.toThrow(SinkPublishError);
    await expect(publish).rejects.toThrow(
      new RegExp(`SNS Publish of alert ${alert.id} to ${missing} failed \\(not retryable\\): NotFound`),
    );
  });

  it("gives FIFO topics a message group and a per-alert deduplication id", async () => {
    const { TopicArn } = await sns.send(
      new CreateTopicCommand({
        Name: `${uniqueName("alerts").slice(0, 60)}.fifo`,
        Attributes: { FifoTopic: "true" },
      }),
    );
    const topicArn = TopicArn as string;
    const batches = commandInputs<{
      PublishBatchRequestEntries: { MessageGroupId?: string; MessageDeduplicationId?: string }[];
    }>(sns, "PublishBatchCommand");
    const alerts = await makeAlerts(2);
    // moto rejects FIFO entries without MessageGroupId, so success means the fields were sent
    await new SnsAlertSink(sns, { topicArn, retry: noSleep }).publish(result(alerts));
    const sent = batches.flatMap((b) => b.PublishBatchRequestEntries);
    expect(sent.map((e) => e.MessageDeduplicationId)).toEqual(alerts.map((a) => `${a.id}-${a.count}`));
    for (const e of sent) expect(e.MessageGroupId).toBe(alerts[0].ruleId);
  });

  it("publishes nothing when a batch has no new alerts", async () => {
    const feed = await createTopicWithQueue(sns);
    const [alert] = await makeAlerts(1);
    const publishes = commandInputs(sns, "PublishCommand");
    await new SnsAlertSink(sns, { topicArn: feed.topicArn }).publish(
      result([{ ...alert, status: "updated" }]),
    );
    expect(publishes).toHaveLength(0);
    expect(await received(feed.queueUrl)).toHaveLength(0);
  });
});

describe("alertMessage", () => {
  it("carries readable text for default/email and the JSON alert for machine protocols", async () => {
    const [alert] = await makeAlerts(1);
    const doc = JSON.parse(alertMessage(alert).message) as Record<string, string>;
    expect(Object.keys(doc).sort()).toEqual(["default", "email", "http", "https", "lambda", "sqs"]);
    expect(doc.default).toBe(renderAlertText(alert));
    expect(doc.email).toBe(doc.default);
    for (const key of ["sqs", "lambda", "https", "http"])
      expect((JSON.parse(doc[key]) as Alert).id).toBe(alert.id);
  });

  it("trims samples to stay under 256 KB, and cleans a hostile title for the subject", async () => {
    const [alert] = await makeAlerts(1);
    const huge: Alert = {
      ...alert,
      title: `\u001b[31m${"x".repeat(300)}\r\nSubject: fake`,
      sample: Array.from({ length: 3 }, (_, i) => ({
        eventID: `s${i}`,
        blob: "y".repeat(2000),
        list: Array(40).fill("z".repeat(2000)),
      })),
    };
    const m = alertMessage(huge);
    expect(m.bytes).toBeLessThanOrEqual(MAX_MESSAGE_BYTES);
    expect(Buffer.byteLength(m.message)).toBeLessThan(MAX_MESSAGE_BYTES);
    const sqs = JSON.parse((JSON.parse(m.message) as { sqs: string }).sqs) as Alert & {
      sampleOmitted?: number;
    };
    expect(sqs.sampleOmitted).toBeGreaterThan(0);
    expect(sqs.sample.length).toBeLessThan(3);
    expect(m.subject.length).toBeLessThan(100);
    expect(m.subject).not.toMatch(CONTROL);
    expect(m.subject.startsWith("[HIGH] xxx")).toBe(true);
  });

  it("with the string structure, is the alert JSON itself, trimmed the same way", async () => {
    const [alert] = await makeAlerts(1);
    expect(JSON.parse(alertMessage(alert, { messageStructure: "string" }).message)).toEqual(
      JSON.parse((JSON.parse(alertMessage(alert).message) as { sqs: string }).sqs),
    );
    const huge: Alert = { ...alert, sample: [{ eventID: "big", list: Array(200).fill("q".repeat(2000)) }] };
    const m = alertMessage(huge, { messageStructure: "string" });
    expect(m.bytes).toBeLessThanOrEqual(MAX_MESSAGE_BYTES);
    expect((JSON.parse(m.message) as { sampleOmitted?: number }).sampleOmitted).toBe(1);
  });

  it("as a last resort shortens ids, texts and evidence, and refuses an alert that fits in no form", async () => {
    const [alert] = await makeAlerts(1);
    const long: Alert = {
      ...alert,
      eventIds: Array.from({ length: 50 }, (_, i) => `event-${i}-${"i".repeat(60)}`),
      description: "d".repeat(2000),
      runbook: "r".repeat(2000),
      sample: [{ eventID: "s0" }],
    };
    // Room for the alert without its sample's record, but not for its 50 ids and long texts.
    const maxBytes = alertMessage({ ...long, sample: [] }).bytes + MESSAGE_MARGIN_BYTES - 3000;
    const m = alertMessage(long, { maxBytes });
    expect(m.bytes).toBeLessThanOrEqual(maxBytes - MESSAGE_MARGIN_BYTES);
    const sqs = JSON.parse((JSON.parse(m.message) as { sqs: string }).sqs) as Alert & {
      sampleOmitted?: number;
      trimmed?: boolean;
    };
    expect(sqs.trimmed).toBe(true);
    expect(sqs.sampleOmitted).toBe(1);
    expect(sqs.sample).toEqual([]);
    expect(sqs.eventIds).toEqual(long.eventIds.slice(0, 10));
    expect(sqs.description?.length).toBeLessThanOrEqual(500);
    expect(sqs.runbook?.length).toBeLessThanOrEqual(500);
    expect(sqs.id).toBe(alert.id);
    expect(() => alertMessage(long, { maxBytes: MESSAGE_MARGIN_BYTES + 500 })).toThrow(SinkPublishError);
  });

  it("publishes the trimmed message through moto", async () => {
    const feed = await createTopicWithQueue(sns);
    const [alert] = await makeAlerts(1);
    const huge: Alert = { ...alert, sample: [{ eventID: "big", list: Array(60).fill("q".repeat(2000)) }] };
    await new SnsAlertSink(sns, { topicArn: feed.topicArn, retry: noSleep }).publish(result([huge]));
    const [m] = await received(feed.queueUrl);
    expect((JSON.parse(m.Message) as Alert).id).toBe(alert.id);
  });
});

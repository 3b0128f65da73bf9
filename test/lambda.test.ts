/**
 * handleInvocation's delivery semantics against emulated S3 + DynamoDB (moto) with the real DynamoStore:
 * one batch per object, processed-file markers written only after publishing, failures that fail the
 * invocation (or only their SQS message), EventBridge + S3 dedup. No detector (rules are tested elsewhere),
 * except where alerts are the point.
 */
import { CloudWatchClient } from "@aws-sdk/client-cloudwatch";
import { DynamoDBClient, ScanCommand } from "@aws-sdk/client-dynamodb";
import { GetObjectCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { SNSClient } from "@aws-sdk/client-sns";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Alert } from "../src/alerts.ts";
import type { BatchResult, Sink } from "../src/batch.ts";
import { TriggerError } from "../src/cloudtrail/triggers.ts";
import { parseConfig } from "../src/config.ts";
import { buildDetector } from "../src/detection.ts";
import { handleInvocation, type InvocationDeps, InvocationError } from "../src/lambda.ts";
import { lambdaSinks } from "../src/sinks/lambda-sinks.ts";
import { DynamoStore } from "../src/state/dynamo.ts";
import {
  eventBridgeEvent,
  humanAndServiceFile,
  mcpAgentFile,
  ScenarioClock,
  type StoredObject,
  s3Notification,
  snsLambdaEvent,
  taggedSessionScenario,
  trailFile,
  trailKey,
} from "./e2e/scenarios.ts";
import {
  awsClientConfig,
  commandInputs,
  createBucket,
  createStoreTable,
  createTopicWithQueue,
  drainQueue,
  failCommand,
  resetMoto,
} from "./support/aws.ts";
import { jsonError } from "./support/records.ts";

/** A sink that keeps what it was given; `failNext` makes the next publish reject like a throttled SNS. */
class RecordingSink implements Sink {
  results: BatchResult[] = [];
  failNext = 0;
  async publish(result: BatchResult): Promise<void> {
    if (this.failNext > 0) {
      this.failNext--;
      throw new Error("ThrottlingException: Rate exceeded");
    }
    this.results.push(result);
  }
}

let s3: S3Client;
let ddb: DynamoDBClient;
let bucket: string;
let sink: RecordingSink;
let deps: InvocationDeps;
let logLines: string[];
let clock: ScenarioClock;
let tableName: string;

beforeEach(async () => {
  await resetMoto();
  s3 = new S3Client(awsClientConfig());
  ddb = new DynamoDBClient(awsClientConfig());
  bucket = await createBucket(s3);
  tableName = await createStoreTable();
  sink = new RecordingSink();
  logLines = [];
  clock = new ScenarioClock();
  deps = {
    store: new DynamoStore({ client: ddb, tableName }),
    config: parseConfig({}),
    sinks: [sink],
    readObject: async (b, k) => {
      const out = await s3.send(new GetObjectCommand({ Bucket: b, Key: k }));
      return out.Body?.transformToByteArray() ?? new Uint8Array();
    },
    log: (line) => logLines.push(line),
  };
});

afterEach(() => {
  s3.destroy();
  ddb.destroy();
});

async function put(body: Uint8Array, key = trailKey(clock)): Promise<StoredObject> {
  const out = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
  return { bucket, key, size: body.byteLength, eTag: (out.ETag ?? "").replace(/"/g, "") };
}

function sqsEvent(bodies: { id: string; body: string }[]) {
  return {
    Records: bodies.map(({ id, body }) => ({
      messageId: id,
      receiptHandle: `handle-${id}`,
      body,
      attributes: { ApproximateReceiveCount: "1" },
      messageAttributes: {},
      md5OfBody: "0",
      eventSource: "aws:sqs",
      eventSourceARN: "arn:aws:sqs:us-east-1:123456789012:trail-notifications",
      awsRegion: "us-east-1",
    })),
  };
}

describe("handleInvocation", () => {
  it("processes each object of an S3 notification as its own batch and skips it when notified again", async () => {
    const mcp = mcpAgentFile(clock);
    const humans = humanAndServiceFile(clock).records;
    const a = await put(trailFile(mcp));
    const b = await put(trailFile(humans));
    const notification = s3Notification([a, b]);

    const first = await handleInvocation(notification, deps);
    expect(first.batches.map((x) => [x.source, x.status, x.records, x.events])).toEqual([
      [`s3://${bucket}/${a.key}`, "processed", mcp.length, mcp.length],
      [`s3://${bucket}/${b.key}`, "processed", humans.length, humans.length],
    ]);
    expect(sink.results.map((r) => r.source)).toEqual([`s3://${bucket}/${a.key}`, `s3://${bucket}/${b.key}`]);

    const again = await handleInvocation(notification, deps);
    expect(again.batches.map((x) => x.status)).toEqual(["already-processed", "already-processed"]);
    expect(sink.results).toHaveLength(2);
    expect(logLines.filter((l) => JSON.parse(l).msg === "batch")).toHaveLength(4);
  });

  it("writes no state item per ordinary call for a trail file (DESIGN cost rule), only the file's marker", async () => {
    const { records } = humanAndServiceFile(clock);
    const object = await put(trailFile(records));
    const run = await handleInvocation(s3Notification([object]), deps);
    expect(run.batches[0]).toMatchObject({ records: records.length, events: records.length });
    const items = (await ddb.send(new ScanCommand({ TableName: tableName }))).Items ?? [];
    const prefixes = items.map((i) => String(i.pk?.S).split("#")[0]);
    expect(prefixes.filter((p) => p === "once")).toEqual([]);
    expect(items.length).toBeLessThan(records.length);
    expect(prefixes).toContain("item"); // the processed-file marker
  });

  it("processes an overwritten object again (new ETag), but not a redelivery of either version", async () => {
    const key = trailKey(clock);
    const first = await put(trailFile(mcpAgentFile(clock)), key);
    await handleInvocation(s3Notification([first]), deps);
    const second = await put(trailFile(humanAndServiceFile(clock).records), key);
    expect(second.eTag).not.toBe(first.eTag);

    const overwritten = await handleInvocation(s3Notification([second]), deps);
    expect(overwritten.batches[0]).toMatchObject({ status: "processed", events: 4 });
    for (const version of [first, second]) {
      const redelivered = await handleInvocation(s3Notification([version]), deps);
      expect(redelivered.batches.map((x) => x.status)).toEqual(["already-processed"]);
    }
    expect(sink.results).toHaveLength(2);
  });

  it("fails the invocation for an unreadable object after processing the others, and the retry reprocesses only it", async () => {
    const good = await put(trailFile(mcpAgentFile(clock)));
    const corrupt = await put(Buffer.from("this is not a trail file"));
    const notification = s3Notification([corrupt, good]);

    const error = await handleInvocation(notification, deps).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvocationError);
    const message = (error as Error).message;
    expect(message).toContain(`s3://${bucket}/${corrupt.key}`);
    expect(message).toMatch(/not gzip|not JSON/);
    expect(message).not.toContain(good.key);
    // The good file was processed and published despite the failure.
    expect(sink.results.map((r) => r.source)).toEqual([`s3://${bucket}/${good.key}`]);

    const retry = await handleInvocation(notification, deps).catch((e: unknown) => e);
    expect(retry).toBeInstanceOf(InvocationError);
    expect((retry as InvocationError).summary.batches.map((x) => x.status)).toEqual([
      "failed",
      "already-processed",
    ]);
    expect(sink.results).toHaveLength(1);
  });

  it("a missing object fails the invocation with the S3 error", async () => {
    const missing: StoredObject = { bucket, key: trailKey(clock), size: 10, eTag: "0" };
    await expect(handleInvocation(s3Notification([missing]), deps)).rejects.toThrow(
      /NoSuchKey|does not exist/,
    );
  });

  it("under SQS reports only the failed messages in batchItemFailures", async () => {
    const good = await put(trailFile(mcpAgentFile(clock)));
    const corrupt = await put(Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0x01, 0x02]));
    const event = sqsEvent([
      { id: "m-good", body: JSON.stringify(s3Notification([good])) },
      { id: "m-corrupt", body: JSON.stringify(s3Notification([corrupt])) },
      { id: "m-garbage", body: "{not json" },
    ]);

    const summary = await handleInvocation(event, deps);
    expect(summary.batchItemFailures).toEqual([
      { itemIdentifier: "m-corrupt" },
      { itemIdentifier: "m-garbage" },
    ]);
    expect(summary.batches.map((x) => x.status)).toEqual(["processed", "failed"]);
    expect(sink.results.map((r) => r.source)).toEqual([`s3://${bucket}/${good.key}`]);
  });

  it("under SQS stops at the first failed object of a message: the message is redelivered whole", async () => {
    const corrupt = await put(Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0x01, 0x02]));
    const after = await put(trailFile(mcpAgentFile(clock)));
    const other = await put(trailFile(mcpAgentFile(clock)), trailKey(clock, "eu-west-1"));
    const event = sqsEvent([
      { id: "m-two", body: JSON.stringify(s3Notification([corrupt, after])) },
      { id: "m-other", body: JSON.stringify(s3Notification([other])) },
    ]);

    const summary = await handleInvocation(event, deps);
    expect(summary.batchItemFailures).toEqual([{ itemIdentifier: "m-two" }]);
    expect(summary.batches.map((x) => x.status)).toEqual(["failed", "processed"]);
    expect(sink.results.map((r) => r.source)).toEqual([`s3://${bucket}/${other.key}`]);
  });

  it("under SQS reads queued EventBridge events beside trail files, in message order, each its own batch", async () => {
    const { records, consoleLogin } = humanAndServiceFile(clock);
    const agentRecords = mcpAgentFile(clock);
    const agent = await put(trailFile(agentRecords));
    const queued = eventBridgeEvent(consoleLogin, "AWS Console Sign In via CloudTrail");
    const event = sqsEvent([
      { id: "m-event", body: JSON.stringify(queued) },
      { id: "m-file", body: JSON.stringify(s3Notification([agent])) },
    ]);

    const summary = await handleInvocation(event, deps);
    expect(summary).toMatchObject({ trigger: "sqs", batchItemFailures: [] });
    expect(summary.batches.map((b) => [b.source, b.status, b.events])).toEqual([
      [`eventbridge:${queued.id}`, "processed", 1],
      [`s3://${bucket}/${agent.key}`, "processed", agentRecords.length],
    ]);

    // The queued event's marker: the trail file that repeats it counts it once.
    const file = await put(trailFile(records));
    const viaS3 = await handleInvocation(s3Notification([file]), deps);
    expect(viaS3.batches[0]).toMatchObject({ events: records.length - 1, duplicates: 1 });
    const published = sink.results.flatMap((r) => r.events.map((e) => e.id));
    expect(published.filter((id) => id === consoleLogin.eventID)).toHaveLength(1);
  });

  it("under SQS a queued EventBridge event that fails is only its own message's failure", async () => {
    const { consoleLogin } = humanAndServiceFile(clock);
    const agent = await put(trailFile(mcpAgentFile(clock)));
    const queued = eventBridgeEvent(consoleLogin, "AWS Console Sign In via CloudTrail");
    sink.failNext = 1; // the first publish, the queued event's
    const event = sqsEvent([
      { id: "m-event", body: JSON.stringify(queued) },
      { id: "m-file", body: JSON.stringify(s3Notification([agent])) },
    ]);

    const summary = await handleInvocation(event, deps);
    expect(summary.batchItemFailures).toEqual([{ itemIdentifier: "m-event" }]);
    expect(summary.batches[0]).toMatchObject({
      status: "failed",
      error: expect.stringMatching(/Throttling/),
    });
    expect(sink.results.map((r) => r.source)).toEqual([`s3://${bucket}/${agent.key}`]);

    // Redelivered, the event is processed (no marker was left by the failed attempt).
    const retry = await handleInvocation(sqsEvent([{ id: "m-event", body: JSON.stringify(queued) }]), deps);
    expect(retry.batches[0]).toMatchObject({ status: "processed", events: 1, duplicates: 0 });
    expect(retry.batchItemFailures).toEqual([]);
  });

  it("a failed publish fails the invocation without a marker, so the retry publishes the batch", async () => {
    const records = mcpAgentFile(clock);
    const file = await put(trailFile(records));
    sink.failNext = 1;

    await expect(handleInvocation(s3Notification([file]), deps)).rejects.toThrow(/ThrottlingException/);
    expect(sink.results).toHaveLength(0);

    const retry = await handleInvocation(s3Notification([file]), deps);
    expect(retry.batches[0]).toMatchObject({ status: "processed", events: records.length, duplicates: 0 });
    expect(sink.results).toHaveLength(1);
    expect(sink.results[0].events.map((e) => e.id).sort()).toEqual(records.map((r) => r.eventID).sort());
  });

  it("an EventBridge event is one batch, and the same event in a trail file later counts once", async () => {
    const { records, consoleLogin } = humanAndServiceFile(clock);
    const viaEventBridge = await handleInvocation(
      eventBridgeEvent(consoleLogin, "AWS Console Sign In via CloudTrail"),
      deps,
    );
    expect(viaEventBridge.trigger).toBe("cloudtrail-records");
    expect(viaEventBridge.batches[0]).toMatchObject({ status: "processed", records: 1, events: 1 });

    const file = await put(trailFile(records));
    const viaS3 = await handleInvocation(s3Notification([file]), deps);
    expect(viaS3.batches[0]).toMatchObject({
      records: records.length,
      events: records.length - 1,
      duplicates: 1,
    });
    const published = sink.results.flatMap((r) => r.events.map((e) => e.id));
    expect(published.filter((id) => id === consoleLogin.eventID)).toHaveLength(1);
  });

  it("ignores what names no trail file, directly and through SNS: one log line each, nothing read or stored", async () => {
    const reads: string[] = [];
    const readObject = deps.readObject;
    deps.readObject = (b, k) => {
      reads.push(k);
      return readObject(b, k);
    };
    const testEvent = {
      Service: "Amazon S3",
      Event: "s3:TestEvent",
      Time: "2026-01-01T00:00:00.000Z",
      Bucket: bucket,
      RequestId: "5582815E1AEA5ADF",
      HostId: "8cLeGAmw098X5cv4Zkwcmo8vvZa3eH3eKxsPzbB9wrR+YstdA6Knx4Ip8EXAMPLE",
    };
    const digestKey = trailKey(clock).replace("/CloudTrail/", "/CloudTrail-Digest/");
    const elbKey = trailKey(clock).replace("/CloudTrail/", "/elasticloadbalancing/");
    const notified = (key: string) => s3Notification([{ bucket, key, size: 1, eTag: "0" }]);
    const cases: [string, unknown, string][] = [
      ["S3 test event", testEvent, "s3:TestEvent"],
      ["S3 test event through SNS", snsLambdaEvent(testEvent), "s3:TestEvent"],
      ["digest file", notified(digestKey), "S3 notification names no CloudTrail log file"],
      ["load balancer log", notified(elbKey), "S3 notification names no CloudTrail log file"],
      [
        "CloudTrail's notification of a digest file",
        snsLambdaEvent({ s3Bucket: bucket, s3ObjectKey: [digestKey] }),
        "CloudTrail delivery notification names no CloudTrail log file",
      ],
      // The reason quotes the event: returned (to an on-success destination) as cleaned as it is logged.
      [
        "EventBridge event of another kind, its detail-type hostile",
        eventBridgeEvent({ eventSource: "s3.amazonaws.com" }, "Evil\u202eType"),
        'EventBridge detail-type "EvilType"',
      ],
    ];
    for (const [what, event, reason] of cases) {
      logLines = [];
      expect(await handleInvocation(event, deps), what).toEqual({
        trigger: "ignored",
        batches: [],
        ignored: reason,
      });
      expect(
        logLines.map((l) => JSON.parse(l)),
        what,
      ).toEqual([{ msg: "ignored", reason }]);
    }
    expect(reads).toEqual([]);
    expect(sink.results).toHaveLength(0);
    expect((await ddb.send(new ScanCommand({ TableName: tableName }))).Items ?? []).toEqual([]);
  });

  it("under SQS logs each malformed message's reason, cleaned, reports it for redelivery and reads the others", async () => {
    const good = await put(trailFile(mcpAgentFile(clock)));
    const { consoleLogin } = humanAndServiceFile(clock);
    const queued = eventBridgeEvent(consoleLogin, "AWS Console Sign In via CloudTrail");
    const snsId = "95df01b4-ee98-5cb9-9903-4c221d41eb5e";
    const snsEnvelope = { Type: "Notification", MessageId: snsId, Message: "{not json" };
    const summary = await handleInvocation(
      sqsEvent([
        { id: "m-body", body: "{not json" },
        { id: "m-file", body: JSON.stringify(s3Notification([good])) },
        { id: "m-sns", body: JSON.stringify(snsEnvelope) },
        // Neither an S3, SNS, CloudTrail nor EventBridge notification, its one key a terminal escape.
        { id: "m-neither", body: JSON.stringify({ "\u001b[31mevil\nline": 1 }) },
        { id: "m-event", body: JSON.stringify(queued) },
      ]),
      deps,
    );
    expect(summary.batchItemFailures).toEqual([
      { itemIdentifier: "m-body" },
      { itemIdentifier: "m-sns" },
      { itemIdentifier: "m-neither" },
    ]);
    expect(summary.batches.map((b) => [b.source, b.status])).toEqual([
      [`s3://${bucket}/${good.key}`, "processed"],
      [`eventbridge:${queued.id}`, "processed"],
    ]);
    expect(sink.results.map((r) => r.source)).toEqual([
      `s3://${bucket}/${good.key}`,
      `eventbridge:${queued.id}`,
    ]);
    const notJson = `is not JSON (${jsonError("{not json")})`;
    expect(logLines.map((l) => JSON.parse(l)).map((l) => (l.msg === "batch" ? l.source : l))).toEqual([
      { msg: "malformed message", error: `SQS message m-body: body ${notJson}` },
      `s3://${bucket}/${good.key}`,
      { msg: "malformed message", error: `SQS message m-sns: SNS message ${snsId}: Message ${notJson}` },
      {
        msg: "malformed message",
        error:
          "SQS message m-neither: not an S3, SNS, CloudTrail or EventBridge notification (keys: evil line)",
      },
      `eventbridge:${queued.id}`,
    ]);
  });

  it("fails the invocation for a malformed SNS or S3 event, naming the message, its text cleaned, reading nothing", async () => {
    const reads: string[] = [];
    deps.readObject = async (_b, k) => {
      reads.push(k);
      return new Uint8Array();
    };
    const file = await put(trailFile(mcpAgentFile(clock)));
    /** Lambda's SNS event around `message` as it is (a string that need not be JSON). */
    const snsWith = (message: string) => {
      const event = snsLambdaEvent({});
      const sns = (event.Records as { Sns: { Message: string; MessageId: string } }[])[0].Sns;
      sns.Message = message;
      return { event, id: sns.MessageId };
    };
    const notJson = snsWith("{not json");
    await expect(handleInvocation(notJson.event, deps)).rejects.toThrow(
      new TriggerError(`SNS message ${notJson.id}: Message is not JSON (${jsonError("{not json")})`),
    );
    // What the message quotes of the event reaches the function's log: no terminal escape, no line break.
    const hostile = snsWith(JSON.stringify({ "\u001b[31mevil\nline": 1 }));
    await expect(handleInvocation(hostile.event, deps)).rejects.toThrow(
      new TriggerError(
        `SNS message ${hostile.id}: not an S3, SNS, CloudTrail or EventBridge notification (keys: evil line)`,
      ),
    );
    // Records that are neither SQS nor SNS messages: taken for an S3 notification, which they are not;
    // the file the good record names is not read either (Lambda retries the whole event).
    const [goodRecord] = s3Notification([file]).Records as unknown[];
    await expect(handleInvocation({ Records: [goodRecord, { hello: "world" }] }, deps)).rejects.toThrow(
      /^not an S3 event notification: Records\.1\.eventName: /,
    );
    const noMessage = snsWith("");
    delete (noMessage.event.Records as { Sns: { Message?: string } }[])[0].Sns.Message;
    await expect(handleInvocation(noMessage.event, deps)).rejects.toThrow(
      /^malformed SNS event: Records\.0\.Sns\.Message: /,
    );
    expect(reads).toEqual([]);
    expect(sink.results).toHaveLength(0);
  });

  it("under SQS logs why a message is passed over (another service's log, an Insight event)", async () => {
    const flowLog = trailKey(clock).replace("/CloudTrail/", "/vpcflowlogs/");
    const [record] = mcpAgentFile(clock);
    const summary = await handleInvocation(
      sqsEvent([
        {
          id: "m-flow",
          body: JSON.stringify(s3Notification([{ bucket, key: flowLog, size: 1, eTag: "0" }])),
        },
        { id: "m-insight", body: JSON.stringify(eventBridgeEvent(record, "AWS Insight via CloudTrail")) },
      ]),
      deps,
    );
    expect(summary).toMatchObject({ trigger: "sqs", batches: [], batchItemFailures: [] });
    expect(logLines.map((l) => JSON.parse(l))).toEqual([
      { msg: "ignored", reason: "SQS message m-flow: S3 notification names no CloudTrail log file" },
      {
        msg: "ignored",
        reason: 'SQS message m-insight: EventBridge detail-type "AWS Insight via CloudTrail"',
      },
    ]);
  });

  it("reads every file CloudTrail's own SNS notification lists, delivered through SQS", async () => {
    const a = await put(trailFile(mcpAgentFile(clock)));
    const b = await put(trailFile(humanAndServiceFile(clock).records));
    const snsEnvelope = {
      Type: "Notification",
      MessageId: "5f3e2a5c-0000-4000-8000-000000000001",
      TopicArn: "arn:aws:sns:us-east-1:123456789012:cloudtrail-delivery",
      Message: JSON.stringify({ s3Bucket: bucket, s3ObjectKey: [a.key, b.key] }),
      Timestamp: new Date().toISOString(),
      SignatureVersion: "1",
      Signature: "EXAMPLE",
      SigningCertURL: "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-EXAMPLE.pem",
      UnsubscribeURL: "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe",
    };
    const summary = await handleInvocation(
      sqsEvent([{ id: "m-1", body: JSON.stringify(snsEnvelope) }]),
      deps,
    );
    expect(summary.batchItemFailures).toEqual([]);
    expect(summary.batches.map((x) => [x.source, x.status])).toEqual([
      [`s3://${bucket}/${a.key}`, "processed"],
      [`s3://${bucket}/${b.key}`, "processed"],
    ]);
  });

  it("fails the invocation for an event it does not understand", async () => {
    await expect(handleInvocation({ hello: "world" }, deps)).rejects.toThrow(
      "not an S3, SNS, CloudTrail or EventBridge notification (keys: hello)",
    );
    expect(sink.results).toHaveLength(0);
  });

  it("names each malformed record of a file on the batch's log line, and goes on with the rest", async () => {
    const [good] = mcpAgentFile(clock);
    const broken = { ...good, eventID: "broken-1", eventTime: undefined };
    const file = await put(trailFile([good, broken]));
    const summary = await handleInvocation(s3Notification([file]), deps);
    expect(summary.batches[0]).toMatchObject({ status: "processed", events: 1, malformed: 1 });
    expect(summary.batches[0].malformedRecords).toEqual([
      { index: 1, reason: expect.stringMatching(/eventTime/) },
    ]);
    const line = JSON.parse(logLines.find((l) => l.includes('"msg":"batch"')) as string);
    expect(line.malformedRecords).toEqual(summary.batches[0].malformedRecords);

    // A file of many broken records: the log line lists the first 20 and counts them all.
    const many = Array.from({ length: 25 }, (_, i) => ({ ...broken, eventID: `broken-many-${i}` }));
    const big = await handleInvocation(
      s3Notification([
        await put(
          trailFile([good, ...many]),
          "AWSLogs/123456789012/CloudTrail/us-east-1/2026/11/22/123456789012_CloudTrail_us-east-1_20261122T0400Z_many.json.gz",
        ),
      ]),
      deps,
    );
    expect(big.batches[0]).toMatchObject({ malformed: 25 });
    expect(big.batches[0].malformedRecords?.map((m) => m.index)).toEqual(
      Array.from({ length: 20 }, (_, i) => i + 1),
    );
  });

  it("a failed publish loses no re-attribution: the retry revives the parked calls again", async () => {
    const { detector } = await buildDetector(deps.config, { builtin: true, extraDirs: [] });
    deps.detector = detector;
    const scenario = taggedSessionScenario(clock);
    // The agent's calls first: their session is not known yet, so they wait (parked) as human.
    await handleInvocation(s3Notification([await put(trailFile(scenario.agentFile))]), deps);
    const sts = await put(trailFile(scenario.stsFile));
    sink.failNext = 1;
    await expect(handleInvocation(s3Notification([sts]), deps)).rejects.toThrow(/ThrottlingException/);

    await handleInvocation(s3Notification([sts]), deps);
    const retried = sink.results.at(-1) as BatchResult;
    expect(retried.kindChanges.map((c) => [c.event.id, c.from, c.event.actor.kind])).toContainEqual([
      scenario.destructiveEventId,
      "human",
      "ai",
    ]);
    expect(retried.alerts.map((a) => a.ruleId)).toContain("ai-destructive-action");
  });

  it("a failed publish counts a batch once in the correlation windows", async () => {
    const { detector } = await buildDetector(deps.config, { builtin: true, extraDirs: [] });
    deps.detector = detector;
    // Six denied calls by the agent: under ai-access-denied-burst's 10, even when retried.
    const denied = mcpAgentFile(clock)
      .concat(mcpAgentFile(clock))
      .map((r) => ({ ...r, errorCode: "AccessDenied", errorMessage: "not authorized" }));
    const file = await put(trailFile(denied));
    sink.failNext = 1;
    await expect(handleInvocation(s3Notification([file]), deps)).rejects.toThrow(/ThrottlingException/);
    await handleInvocation(s3Notification([file]), deps);
    const raised = sink.results.flatMap((r) => r.hits.map((h) => h.rule.id));
    expect(raised).toContain("cis-unauthorized-api-calls"); // the batch was detected
    expect(raised).not.toContain("ai-access-denied-burst"); // counted twice, it would be 12
  });

  // Alert state is committed after publishing (processBatch), so a retried batch raises its alerts again.
  it("a failed publish loses no alert: the retry publishes the same new alerts", async () => {
    const { detector } = await buildDetector(deps.config, { builtin: true, extraDirs: [] });
    deps.detector = detector;
    const file = await put(trailFile(mcpAgentFile(clock)));
    sink.failNext = 1;
    await expect(handleInvocation(s3Notification([file]), deps)).rejects.toThrow(/ThrottlingException/);

    await handleInvocation(s3Notification([file]), deps);
    const alerts = sink.results.flatMap((r) => r.alerts);
    expect(
      alerts.filter((a) => a.ruleId === "ai-destructive-action" && a.status === "new").length,
    ).toBeGreaterThan(0);
  });
});

describe("the Lambda's sinks (lambdaSinks, as functions/handler.ts builds them)", () => {
  it("publish alerts before metrics: a metrics failure re-sends the same alert ids and fails the batch", async () => {
    const sns = new SNSClient({ ...awsClientConfig(), maxAttempts: 1 });
    // Compression off: moto 5.2 gunzips a compressed PutMetricData body twice (see cloudwatch.test.ts).
    const cloudWatch = new CloudWatchClient({
      ...awsClientConfig(),
      disableRequestCompression: true,
      maxAttempts: 1,
    });
    // Not retryable: the sink gives up at once.
    failCommand(cloudWatch, "PutMetricDataCommand", 1, {
      name: "AccessDeniedException",
      message: "not authorized to put metrics",
      status: 403,
    });
    try {
      const feed = await createTopicWithQueue(sns);
      deps.sinks = lambdaSinks({ sns, cloudWatch }, deps.config, feed.topicArn);
      deps.detector = (await buildDetector(deps.config, { builtin: true, extraDirs: [] })).detector;
      const alertIds = async () =>
        (await drainQueue(feed.queueUrl))
          .map((m) => (JSON.parse(JSON.parse(m.body).Message) as Alert).id)
          .sort();
      const file = await put(trailFile(mcpAgentFile(clock)));

      await expect(handleInvocation(s3Notification([file]), deps)).rejects.toThrow(
        /not authorized to put metrics/,
      );
      // Published before the metrics failed: with metrics first, nothing would have been sent.
      const sent = await alertIds();
      expect(sent.length).toBeGreaterThan(0);

      await handleInvocation(s3Notification([file]), deps);
      expect(await alertIds()).toEqual(sent);
    } finally {
      sns.destroy();
      cloudWatch.destroy();
    }
  });

  it("publish alerts with the configured message structure (alerts.messageStructure)", async () => {
    for (const structure of ["json", "string"] as const) {
      // A state table of its own: the second run's alerts are new, not updates of the first's.
      const table = await createStoreTable();
      const sns = new SNSClient(awsClientConfig());
      const cloudWatch = new CloudWatchClient({ ...awsClientConfig(), disableRequestCompression: true });
      // Several alerts go out in a PublishBatch, one in a Publish.
      const publishes = commandInputs<{ MessageStructure?: string }>(sns, "PublishCommand");
      const batches = commandInputs<{ PublishBatchRequestEntries: { MessageStructure?: string }[] }>(
        sns,
        "PublishBatchCommand",
      );
      try {
        const feed = await createTopicWithQueue(sns);
        const config = { ...deps.config, alerts: { ...deps.config.alerts, messageStructure: structure } };
        const run = {
          ...deps,
          config,
          store: new DynamoStore({ client: ddb, tableName: table }),
          sinks: lambdaSinks({ sns, cloudWatch }, config, feed.topicArn),
          detector: (await buildDetector(config, { builtin: true, extraDirs: [] })).detector,
        };
        await handleInvocation(s3Notification([await put(trailFile(mcpAgentFile(clock)))]), run);
        const published = [...publishes, ...batches.flatMap((b) => b.PublishBatchRequestEntries)].map(
          (m) => m.MessageStructure,
        );
        expect(published.length, structure).toBeGreaterThan(0);
        expect(new Set(published), structure).toEqual(new Set([structure === "json" ? "json" : undefined]));
      } finally {
        sns.destroy();
        cloudWatch.destroy();
      }
    }
  });
});

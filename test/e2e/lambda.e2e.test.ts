/**
 * End to end on emulated AWS (moto): the Lambda bundle built with the options `osls package` uses
 * (scripts/esbuild-options.cjs, laid out like the artifact: functions/handler.mjs + rules/), invoked in its
 * own Node process the way the Lambda runtime does (a fresh container per invocation: only DynamoDB
 * carries state), against S3, DynamoDB, SNS → SQS and CloudWatch over the real wire protocol.
 */
import { spawn } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { CloudWatchClient, GetMetricStatisticsCommand } from "@aws-sdk/client-cloudwatch";
import { PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { SNSClient } from "@aws-sdk/client-sns";
import { build } from "esbuild";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  type AlertFeed,
  awsClientConfig,
  awsEnv,
  createBucket,
  createStoreTable,
  createTopicWithQueue,
  drainQueue,
  resetMoto,
} from "../support/aws.ts";
import {
  ACCOUNT,
  eventBridgeEvent,
  eventBridgeOnlyRecord,
  humanAndServiceFile,
  MCP_USER_ARN,
  mcpAgentFile,
  ScenarioClock,
  type StoredObject,
  s3Notification,
  snsLambdaEvent,
  taggedSessionScenario,
  tamperingFile,
  trailFile,
  trailKey,
} from "./scenarios.ts";
import { readServerlessYml, repoRoot } from "./serverless-yml.ts";

const NAMESPACE = "AgentTrail";
const root = fileURLToPath(repoRoot);

// ---- the bundle, built once --------------------------------------------------------------------------

let taskRoot: string;

beforeAll(async () => {
  taskRoot = mkdtempSync(join(tmpdir(), "agenttrail-lambda-"));
  const require = createRequire(import.meta.url);
  const { esbuildOptions } = require(join(root, "scripts/esbuild-options.cjs")) as {
    esbuildOptions: () => Record<string, unknown>;
  };
  // serverless-esbuild: entry relative to the service dir, outdir = <build dir>/<entry's dir>.
  await build({
    ...esbuildOptions(),
    absWorkingDir: root,
    entryPoints: ["functions/handler.ts"],
    outdir: join(taskRoot, "functions"),
    logLevel: "silent",
  });
  // package.patterns: rules/**/*.yml, without rules/fixtures/.
  cpSync(join(root, "rules"), join(taskRoot, "rules"), {
    recursive: true,
    filter: (src) =>
      !src.includes(`${join(root, "rules", "fixtures")}`) && (!/\.\w+$/.test(src) || /\.ya?ml$/.test(src)),
  });
}, 120_000);

afterAll(() => {
  if (taskRoot) rmSync(taskRoot, { recursive: true, force: true });
});

// ---- one emulated account per test -------------------------------------------------------------------

let s3: S3Client;
let sns: SNSClient;
let cloudwatch: CloudWatchClient;
let bucket: string;
let table: string;
let feed: AlertFeed;
let clock: ScenarioClock;

beforeEach(async () => {
  await resetMoto();
  s3 = new S3Client(awsClientConfig());
  sns = new SNSClient(awsClientConfig());
  cloudwatch = new CloudWatchClient(awsClientConfig());
  bucket = await createBucket(s3);
  table = await createStoreTable();
  feed = await createTopicWithQueue(sns);
  clock = new ScenarioClock();
});

afterEach(() => {
  s3.destroy();
  sns.destroy();
  cloudwatch.destroy();
});

/** The function's environment as serverless.yml sets it (values for this account's resources). */
function functionEnv(): Record<string, string> {
  return {
    NODE_OPTIONS: "--enable-source-maps",
    STATE_TABLE: table,
    ALERT_TOPIC_ARN: feed.topicArn,
    METRICS_NAMESPACE: NAMESPACE,
    AGENT_TAG: "AccessType=AI",
    // Always business hours, so that off-hours rules do not depend on when the test runs.
    BUSINESS_HOURS: "00:00-23:59",
    BUSINESS_DAYS: "mon,tue,wed,thu,fri,sat,sun",
    TIME_ZONE: "UTC",
    AGENTTRAIL_CONFIG: "{}",
  };
}

interface Invocation {
  ok: boolean;
  result?: {
    trigger: string;
    batches: { source: string; status: string; records?: number; events?: number; duplicates?: number }[];
    batchItemFailures?: { itemIdentifier: string }[];
  };
  errorType?: string;
  errorMessage?: string;
  /** What the function wrote to stdout/stderr (CloudWatch Logs in AWS). */
  logs: string;
}

/**
 * Like the Lambda runtime: a Node process imports functions/handler.mjs from the task root and calls it.
 * `env` overrides the function's environment (a stack deployed with other parameters).
 */
function invoke(event: unknown, env: Record<string, string> = {}): Promise<Invocation> {
  const runtime = `
    const { handler } = await import(${JSON.stringify(pathToFileURL(join(taskRoot, "functions/handler.mjs")).href)});
    const event = JSON.parse(process.env.E2E_EVENT);
    try {
      const result = await handler(event, { awsRequestId: "e2e", functionName: process.env.AWS_LAMBDA_FUNCTION_NAME });
      process.stderr.write("\\n@@RESULT@@" + JSON.stringify({ ok: true, result }));
    } catch (err) {
      process.stderr.write("\\n@@RESULT@@" + JSON.stringify({ ok: false, errorType: err?.name, errorMessage: err?.message }));
    }
  `;
  const processEnv = {
    PATH: process.env.PATH ?? "",
    ...awsEnv(),
    ...functionEnv(),
    ...env,
    LAMBDA_TASK_ROOT: taskRoot,
    AWS_LAMBDA_FUNCTION_NAME: "agenttrail-e2e-trail",
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: "2048",
    AWS_EXECUTION_ENV: "AWS_Lambda_nodejs22.x",
    E2E_EVENT: JSON.stringify(event),
  };
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--input-type=module", "-e", runtime], {
      cwd: taskRoot,
      env: processEnv,
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => {
      stdout += c.toString();
    });
    child.stderr.on("data", (c: Buffer) => {
      stderr += c.toString();
    });
    child.on("error", reject);
    child.on("close", () => {
      const at = stderr.lastIndexOf("@@RESULT@@");
      if (at < 0) {
        reject(new Error(`handler process ended without a result:\n${stdout}\n${stderr}`));
        return;
      }
      const outcome = JSON.parse(stderr.slice(at + "@@RESULT@@".length)) as Omit<Invocation, "logs">;
      resolve({ ...outcome, logs: stdout + stderr.slice(0, at) });
    });
  });
}

async function expectOk(event: unknown): Promise<NonNullable<Invocation["result"]>> {
  const run = await invoke(event);
  if (!run.ok) throw new Error(`invocation failed: ${run.errorType}: ${run.errorMessage}\n${run.logs}`);
  return run.result as NonNullable<Invocation["result"]>;
}

async function upload(body: Uint8Array, key = trailKey(clock)): Promise<StoredObject> {
  const out = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
  return { bucket, key, size: body.byteLength, eTag: (out.ETag ?? "").replace(/"/g, "") };
}

interface ReceivedAlert {
  subject: string;
  attributes: Record<string, string>;
  /** The message body SQS subscribers get (the `sqs`/`default` entry of the JSON structure). */
  body: string;
  json?: Record<string, unknown>;
}

/** Alerts that reached the SQS subscriber of the topic, from the SNS envelopes. */
async function receivedAlerts(): Promise<ReceivedAlert[]> {
  const messages = await drainQueue(feed.queueUrl);
  return messages.map((m) => {
    const envelope = JSON.parse(m.body) as {
      Subject?: string;
      Message: string;
      MessageAttributes?: Record<string, { Type: string; Value: string }>;
    };
    const attributes: Record<string, string> = {};
    for (const [k, v] of Object.entries(envelope.MessageAttributes ?? {})) attributes[k] = v.Value;
    let json: Record<string, unknown> | undefined;
    try {
      json = JSON.parse(envelope.Message) as Record<string, unknown>;
    } catch {
      json = undefined;
    }
    return { subject: envelope.Subject ?? "", attributes, body: envelope.Message, json };
  });
}

/** The attribution evidence an alert carries (JSON form). */
function evidenceOf(alert: ReceivedAlert): unknown[] {
  const actor = alert.json?.actor as { evidence?: unknown[] } | undefined;
  return actor?.evidence ?? [];
}

/** Sum of a metric over the scenario's time range, as CloudWatch returns it. */
async function metricSum(metricName: string, dimensions: Record<string, string> = {}): Promise<number> {
  const out = await cloudwatch.send(
    new GetMetricStatisticsCommand({
      Namespace: NAMESPACE,
      MetricName: metricName,
      Dimensions: Object.entries(dimensions).map(([Name, Value]) => ({ Name, Value })),
      StartTime: new Date(clock.base.getTime() - 3600_000),
      EndTime: new Date(Date.now() + 3600_000),
      Period: 60,
      Statistics: ["Sum"],
    }),
  );
  return (out.Datapoints ?? []).reduce((sum, d) => sum + (d.Sum ?? 0), 0);
}

const calls = (kind: string) => metricSum("Calls", { ActorKind: kind });

// ---- the scenarios -----------------------------------------------------------------------------------

describe("the deployed function on emulated AWS", () => {
  it("reads the environment serverless.yml sets, nothing else", () => {
    const declared = Object.keys(readServerlessYml().provider.environment).sort();
    expect(Object.keys(functionEnv()).sort()).toEqual(declared);
    const handlerSource = readFileSync(join(root, "functions/handler.ts"), "utf8");
    for (const name of ["STATE_TABLE", "ALERT_TOPIC_ARN"]) expect(handlerSource).toContain(name);
  });

  it("turns trail files into alerts and metrics, and a replayed notification adds nothing", async () => {
    const mcp = mcpAgentFile(clock);
    const humans = humanAndServiceFile(clock).records;
    const tampering = tamperingFile(clock);
    const files = [
      await upload(trailFile(mcp)),
      await upload(trailFile(humans)),
      await upload(trailFile(tampering)),
    ];
    const notification = s3Notification(files);

    const result = await expectOk(notification);
    expect(result.batches.map((b) => [b.status, b.records])).toEqual([
      ["processed", mcp.length],
      ["processed", humans.length],
      ["processed", tampering.length],
    ]);

    const alerts = await receivedAlerts();
    const destructive = alerts.filter((a) => a.attributes.ruleId === "ai-destructive-action");
    expect(destructive.length).toBeGreaterThanOrEqual(1);
    // Every destructive MCP call is in an alert, and nothing else is.
    const destructiveIds = mcp.filter((r) => r.readOnly === false).map((r) => r.eventID);
    expect(destructive.flatMap((a) => (a.json?.eventIds as string[] | undefined) ?? []).sort()).toEqual(
      destructiveIds.sort(),
    );
    for (const a of destructive) {
      expect(a.attributes).toEqual({
        ruleId: "ai-destructive-action",
        actorKind: "ai",
        account: ACCOUNT,
        severity: "high",
        // The rule's ATT&CK tags, for filter policies by tactic (String.Array).
        tags: JSON.stringify(["attack.impact", "attack.t1485", "attack.t1490"]),
      });
      expect(a.subject).toMatch(/^\[HIGH\] AI agent/);
      expect(a.subject.length).toBeLessThan(100);
      expect([...a.subject].filter((ch) => ch.charCodeAt(0) < 0x20)).toEqual([]);
      expect(a.json).toMatchObject({ principal: MCP_USER_ARN, actor: { kind: "ai", via: "mcp-managed" } });
      expect(evidenceOf(a)).toContainEqual({
        signal: "invokedBy",
        value: "aws-mcp.amazonaws.com",
      });
      expect(String(a.json?.runbook ?? "")).not.toBe("");
    }
    const tamper = alerts.filter((a) => a.attributes.ruleId === "cloudtrail-tampering");
    expect(tamper).toHaveLength(1);
    expect(tamper[0].attributes).toMatchObject({ actorKind: "human", account: ACCOUNT, severity: "high" });
    expect(tamper[0].subject).toContain("stopped CloudTrail logging");
    expect(tamper[0].json).toMatchObject({
      principal: `arn:aws:iam::${ACCOUNT}:user/bert-jan`,
      eventIds: [tampering[0].eventID],
    });
    // Alerts are about the scenario's principals; the AWS service's call raised none.
    expect(alerts.filter((a) => a.body.includes("web-instance-role"))).toEqual([]);

    const expected = { ai: 3, human: 4, service: 1 };
    expect({ ai: await calls("ai"), human: await calls("human"), service: await calls("service") }).toEqual(
      expected,
    );
    expect(await metricSum("DestructiveCalls", { ActorKind: "ai" })).toBe(2);
    expect(await metricSum("AccessDenied", { ActorKind: "human" })).toBe(1);
    expect(await metricSum("RecordsRead")).toBe(mcp.length + humans.length + tampering.length);
    const highAlerts = alerts.filter((a) => a.attributes.severity === "high").length;
    expect(await metricSum("Alerts", { Severity: "high" })).toBe(highAlerts);

    // S3 delivers at least once: the same notification again (and a retried invocation) changes nothing.
    const replay = await expectOk(notification);
    expect(replay.batches.map((b) => b.status)).toEqual([
      "already-processed",
      "already-processed",
      "already-processed",
    ]);
    expect(await receivedAlerts()).toEqual([]);
    expect({ ai: await calls("ai"), human: await calls("human"), service: await calls("service") }).toEqual(
      expected,
    );
    expect(await metricSum("Alerts", { Severity: "high" })).toBe(highAlerts);
  });

  it("counts an event once when it arrives through both EventBridge (directly or through SNS) and S3", async () => {
    const { records, consoleLogin } = humanAndServiceFile(clock);
    const signIn = eventBridgeEvent(consoleLogin, "AWS Console Sign In via CloudTrail");
    const first = await expectOk(signIn);
    expect(first.trigger).toBe("cloudtrail-records");
    expect(await calls("human")).toBe(1);

    // EventBridge invokes asynchronously, at least once: a second delivery is a duplicate.
    const again = await expectOk(signIn);
    expect(again.batches[0]).toMatchObject({ events: 0, duplicates: 1 });

    // An EventBridge rule may target an SNS topic the function subscribes to: the same batch.
    const viaTopic = await expectOk(snsLambdaEvent(eventBridgeEvent(eventBridgeOnlyRecord(clock))));
    expect(viaTopic.trigger).toBe("cloudtrail-records");
    expect(viaTopic.batches[0]).toMatchObject({ source: expect.stringMatching(/^eventbridge:/), events: 1 });
    const viaS3 = await expectOk(s3Notification([await upload(trailFile(records))]));
    expect(viaS3.batches[0]).toMatchObject({ records: records.length, duplicates: 1 });

    // ConsoleLogin once + CreateTags (EventBridge only) + GetSecretValue + ListUsers (file).
    expect(await calls("human")).toBe(4);
    expect(await calls("service")).toBe(1);
  });

  it("switches a rule off through configJson, and refuses to start on an id no rule has", async () => {
    const file = await upload(trailFile(mcpAgentFile(clock)));
    const quiet = { AGENTTRAIL_CONFIG: JSON.stringify({ rules: { disabled: ["ai-destructive-action"] } }) };
    const run = await invoke(s3Notification([file]), quiet);
    expect(run.ok, run.errorMessage).toBe(true);
    expect(run.logs).toMatch(/"msg":"cold start".*"disabledRules":1/);
    const ruleIds = (await receivedAlerts()).map((a) => a.attributes.ruleId);
    expect(ruleIds).not.toContain("ai-destructive-action");
    expect(await calls("ai")).toBe(3);

    const typo = { AGENTTRAIL_CONFIG: JSON.stringify({ rules: { disabled: ["ai-destructive-actoin"] } }) };
    const refused = await invoke(s3Notification([await upload(trailFile(mcpAgentFile(clock)))]), typo);
    expect(refused.ok).toBe(false);
    expect(refused.errorMessage).toMatch(
      /rule problems: .*ai-destructive-actoin.*no loaded rule has this id/,
    );
  });

  it("takes the alert feed's settings from configJson: with alerts.updates all, count updates are sent too", async () => {
    // messageStructure is passed the same way; an SQS subscriber gets the alert JSON under both
    // structures, so which one was used is pinned by the sink's own tests.
    const feedConfig = {
      AGENTTRAIL_CONFIG: JSON.stringify({ alerts: { updates: "all", messageStructure: "string" } }),
    };
    const destructive = async () =>
      (await receivedAlerts()).filter((a) => a.attributes.ruleId === "ai-destructive-action");
    const first = await invoke(s3Notification([await upload(trailFile(mcpAgentFile(clock)))]), feedConfig);
    expect(first.ok, first.errorMessage).toBe(true);
    const created = await destructive();
    expect(created.length).toBeGreaterThanOrEqual(1);
    expect(created.map((a) => a.json?.status)).toEqual(created.map(() => "new"));
    // The same agent deletes the same things again (new event ids) within the suppression window.
    const second = await invoke(s3Notification([await upload(trailFile(mcpAgentFile(clock)))]), feedConfig);
    expect(second.ok, second.errorMessage).toBe(true);
    const updated = await destructive();
    expect(updated.map((a) => [a.json?.id, a.json?.status, a.json?.count]).sort()).toEqual(
      created.map((a) => [a.json?.id, "updated", 2]).sort(),
    );
    for (const a of updated) expect(JSON.parse(a.attributes.tags)).toContain("attack.impact");
  });

  it("fails the invocation on a corrupt object with a clear error, and loses nothing else", async () => {
    const good = await upload(trailFile(mcpAgentFile(clock)));
    const corrupt = await upload(Buffer.from("<html>503 Service Unavailable</html>"));
    const notification = s3Notification([corrupt, good]);

    const run = await invoke(notification);
    expect(run.ok).toBe(false);
    expect(run.errorMessage).toContain(corrupt.key);
    expect(run.errorMessage).toMatch(/not gzip/);
    expect(run.errorMessage).not.toContain(good.key);
    // The good file of the same notification was processed and published.
    const alerts = await receivedAlerts();
    expect(alerts.some((a) => a.attributes.ruleId === "ai-destructive-action")).toBe(true);
    expect(await calls("ai")).toBe(3);

    // Lambda's retry: the corrupt file fails again, the good one is not counted twice.
    const retry = await invoke(notification);
    expect(retry.ok).toBe(false);
    expect(retry.errorMessage).toContain(corrupt.key);
    expect(await receivedAlerts()).toEqual([]);
    expect(await calls("ai")).toBe(3);
  });

  it("under the SQS trigger (S3 → SNS → SQS, EventBridge → SQS) reports only the bad message for redelivery", async () => {
    const good = await upload(trailFile(mcpAgentFile(clock)));
    const corrupt = await upload(Buffer.from("PK\u0003\u0004 not a trail file"));
    const queuedOnly = eventBridgeOnlyRecord(clock);
    const viaSns = (objects: StoredObject[]) =>
      JSON.stringify({
        Type: "Notification",
        MessageId: `msg-${objects[0].key.slice(-20)}`,
        TopicArn: `arn:aws:sns:us-east-1:${ACCOUNT}:trail-notifications`,
        Subject: "Amazon S3 Notification",
        Message: JSON.stringify(s3Notification(objects)),
        Timestamp: new Date().toISOString(),
        SignatureVersion: "1",
        Signature: "EXAMPLE",
        SigningCertURL: "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-EXAMPLE.pem",
        UnsubscribeURL: "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe",
      });
    const sqsEvent = {
      Records: [
        { id: "11111111-1111-4111-8111-111111111111", body: viaSns([good]) },
        { id: "22222222-2222-4222-8222-222222222222", body: viaSns([corrupt]) },
        // An EventBridge rule can target the same queue: its body is the event itself.
        { id: "33333333-3333-4333-8333-333333333333", body: JSON.stringify(eventBridgeEvent(queuedOnly)) },
      ].map(({ id, body }) => ({
        messageId: id,
        receiptHandle: `AQEB${id}`,
        body,
        attributes: { ApproximateReceiveCount: "1", SentTimestamp: String(Date.now()) },
        messageAttributes: {},
        md5OfBody: "0",
        eventSource: "aws:sqs",
        eventSourceARN: `arn:aws:sqs:us-east-1:${ACCOUNT}:trail-notifications`,
        awsRegion: "us-east-1",
      })),
    };
    const result = await expectOk(sqsEvent);
    expect(result.batchItemFailures).toEqual([{ itemIdentifier: "22222222-2222-4222-8222-222222222222" }]);
    expect((await receivedAlerts()).some((a) => a.attributes.ruleId === "ai-destructive-action")).toBe(true);
    expect(await calls("ai")).toBe(3);
    expect(result.batches.find((x) => x.source.startsWith("eventbridge:"))).toMatchObject({
      status: "processed",
      events: 1,
    });
    expect(await calls("human")).toBe(1);
  });

  it("attributes an agent's calls correctly when its STS file arrives after them", async () => {
    const scenario = taggedSessionScenario(clock);
    const agentFirst = await expectOk(s3Notification([await upload(trailFile(scenario.agentFile))]));
    expect(agentFirst.batches[0]).toMatchObject({ status: "processed", records: scenario.agentFile.length });
    // Without the issuing call nobody can say it was an agent: no AI alert yet.
    expect((await receivedAlerts()).filter((a) => a.attributes.actorKind === "ai")).toEqual([]);

    await expectOk(s3Notification([await upload(trailFile(scenario.stsFile))]));
    const alerts = (await receivedAlerts()).filter((a) => a.attributes.ruleId === "ai-destructive-action");
    expect(alerts).toHaveLength(1);
    expect(alerts[0].attributes).toMatchObject({ actorKind: "ai", account: ACCOUNT, severity: "high" });
    expect(alerts[0].json).toMatchObject({ eventIds: [scenario.destructiveEventId], actor: { kind: "ai" } });
    // The evidence names the tag and the STS call that carried it.
    expect(evidenceOf(alerts[0])).toContainEqual({
      signal: "sessionTag",
      value: "AccessType=AI",
      issuedBy: scenario.assumeRoleEventId,
    });
    expect(alerts[0].subject).toContain("orders-staging");
    expect(alerts[0].body).not.toContain("EXAMPLESESSIONTOKEN");
    // Both agent calls were re-attributed to the agent once the session was known.
    expect(await metricSum("Reattributed", { ActorKind: "ai" })).toBe(scenario.agentFile.length);
  });
});

/**
 * Emulated AWS for tests: the moto_server started by test/setup/moto.ts.
 *
 * Isolation: `resetMoto()` does not wipe the shared server (that would delete the resources of test files
 * running at the same time in other workers). It gives the calling test a fresh, empty moto account instead:
 * moto maps an access key to the account it was created in, so clients built from `awsClientConfig()` (and a
 * handler run with `awsEnv()`) see only that account's tables, topics, queues and metrics. S3 bucket names
 * are global in moto as in AWS, so use `uniqueName()` for buckets (the helpers below do).
 *
 *   beforeEach(resetMoto);
 *   it("…", async () => { const s3 = new S3Client(awsClientConfig()); const bucket = await createBucket(s3); … });
 */

import { randomInt } from "node:crypto";
import { CreateTableCommand, DynamoDBClient, UpdateTimeToLiveCommand } from "@aws-sdk/client-dynamodb";
import { CreateBucketCommand, type S3Client } from "@aws-sdk/client-s3";
import { CreateTopicCommand, type SNSClient, SubscribeCommand } from "@aws-sdk/client-sns";
import { inject } from "vitest";
import { storeTableDefinition } from "../../src/state/dynamo.ts";

export const TEST_REGION = "us-east-1";

export interface MotoAccount {
  accountId: string;
  accessKeyId: string;
  secretAccessKey: string;
}

export interface AwsClientConfig {
  endpoint: string;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  forcePathStyle: boolean;
}

let current: MotoAccount | undefined;
let nameCounter = 0;

/** Base URL of the moto_server for this run. */
export function awsEndpoint(): string {
  const url = inject("awsEndpoint");
  if (url) return url;
  const reason = inject("awsUnavailable");
  throw new Error(
    reason
      ? `emulated AWS (moto_server) is unavailable: ${reason}`
      : "awsEndpoint not provided: is test/setup/moto.ts the vitest globalSetup?",
  );
}

/** The account of the current test (set by resetMoto). */
export function currentAccount(): MotoAccount {
  if (!current) throw new Error("call resetMoto() (e.g. in beforeEach) before using emulated AWS");
  return current;
}

/** SDK v3 client config for the current test's moto account (any client: S3, DynamoDB, SNS, CloudWatch…). */
export function awsClientConfig(account: MotoAccount = currentAccount()): AwsClientConfig {
  return {
    endpoint: awsEndpoint(),
    region: TEST_REGION,
    credentials: { accessKeyId: account.accessKeyId, secretAccessKey: account.secretAccessKey },
    forcePathStyle: true,
  };
}

/** Environment for code that builds its own clients from the environment (the bundled Lambda handler). */
export function awsEnv(account: MotoAccount = currentAccount()): Record<string, string> {
  return {
    AWS_ENDPOINT_URL: awsEndpoint(),
    AWS_REGION: TEST_REGION,
    AWS_DEFAULT_REGION: TEST_REGION,
    AWS_ACCESS_KEY_ID: account.accessKeyId,
    AWS_SECRET_ACCESS_KEY: account.secretAccessKey,
  };
}

/**
 * A raw call to moto for services without an SDK client in this project (IAM, SQS). moto does not check
 * signatures: the Authorization header only names the service (for routing) and the access key (for the
 * account).
 */
async function motoCall(
  service: string,
  accessKeyId: string,
  init: { body: string; contentType: string; target?: string; accountId?: string },
): Promise<string> {
  const headers: Record<string, string> = {
    "content-type": init.contentType,
    authorization: `AWS4-HMAC-SHA256 Credential=${accessKeyId}/20260101/${TEST_REGION}/${service}/aws4_request, SignedHeaders=host, Signature=0`,
  };
  if (init.target) headers["x-amz-target"] = init.target;
  if (init.accountId) headers["x-moto-account-id"] = init.accountId;
  const res = await fetch(`${awsEndpoint()}/`, { method: "POST", headers, body: init.body });
  const text = await res.text();
  if (!res.ok)
    throw new Error(`moto ${service} ${init.target ?? init.body.slice(0, 60)}: ${res.status} ${text}`);
  return text;
}

function xmlValue(xml: string, tag: string): string {
  const m = new RegExp(`<${tag}>([^<]+)</${tag}>`).exec(xml);
  if (!m) throw new Error(`moto answer has no <${tag}>: ${xml.slice(0, 300)}`);
  return m[1];
}

/** A new, empty moto account with its own access key. */
export async function createMotoAccount(): Promise<MotoAccount> {
  const accountId = String(randomInt(100_000_000_000, 999_999_999_999));
  const iam = async (params: Record<string, string>) =>
    motoCall("iam", "AKIAMOTOSETUP", {
      contentType: "application/x-www-form-urlencoded",
      body: new URLSearchParams({ ...params, Version: "2010-05-08" }).toString(),
      accountId,
    });
  await iam({ Action: "CreateUser", UserName: "agenttrail-test" });
  const key = await iam({ Action: "CreateAccessKey", UserName: "agenttrail-test" });
  return {
    accountId,
    accessKeyId: xmlValue(key, "AccessKeyId"),
    secretAccessKey: xmlValue(key, "SecretAccessKey"),
  };
}

/** Gives the calling test an empty emulated AWS (a fresh moto account); call it in beforeEach. */
export async function resetMoto(): Promise<MotoAccount> {
  current = await createMotoAccount();
  return current;
}

/** Wipes the whole moto server. Only for a run that owns the server alone; resetMoto is the parallel-safe one. */
export async function resetMotoServer(): Promise<void> {
  const res = await fetch(`${awsEndpoint()}/moto-api/reset`, { method: "POST" });
  if (!res.ok) throw new Error(`moto reset failed: ${res.status}`);
  current = undefined;
}

/** A resource name unique across the run (S3 bucket names are global, also in moto). */
export function uniqueName(prefix: string): string {
  nameCounter += 1;
  const suffix = `${currentAccount().accountId}-${process.pid}-${nameCounter}`;
  return `${prefix.toLowerCase().slice(0, 63 - suffix.length - 1)}-${suffix}`;
}

export async function createBucket(s3: S3Client, name = uniqueName("trail")): Promise<string> {
  await s3.send(new CreateBucketCommand({ Bucket: name }));
  return name;
}

/** The DynamoStore table (storeTableDefinition), with TTL enabled as serverless.yml does. */
export async function createStoreTable(name = uniqueName("agenttrail-state")): Promise<string> {
  const ddb = new DynamoDBClient(awsClientConfig());
  try {
    await ddb.send(
      new CreateTableCommand({
        TableName: name,
        KeySchema: [...storeTableDefinition.keySchema],
        AttributeDefinitions: [...storeTableDefinition.attributeDefinitions],
        BillingMode: storeTableDefinition.billingMode,
      }),
    );
    await ddb.send(
      new UpdateTimeToLiveCommand({
        TableName: name,
        TimeToLiveSpecification: { AttributeName: storeTableDefinition.ttlAttribute, Enabled: true },
      }),
    );
  } finally {
    ddb.destroy();
  }
  return name;
}

async function sqs<T>(action: string, params: Record<string, unknown>): Promise<T> {
  const text = await motoCall("sqs", currentAccount().accessKeyId, {
    contentType: "application/x-amz-json-1.0",
    target: `AmazonSQS.${action}`,
    body: JSON.stringify(params),
  });
  return (text ? JSON.parse(text) : {}) as T;
}

export async function createQueue(
  name = uniqueName("queue"),
): Promise<{ queueUrl: string; queueArn: string }> {
  const { QueueUrl } = await sqs<{ QueueUrl: string }>("CreateQueue", { QueueName: name });
  const { Attributes } = await sqs<{ Attributes: { QueueArn: string } }>("GetQueueAttributes", {
    QueueUrl,
    AttributeNames: ["QueueArn"],
  });
  return { queueUrl: QueueUrl, queueArn: Attributes.QueueArn };
}

export interface AlertFeed {
  topicArn: string;
  queueUrl: string;
  queueArn: string;
}

/**
 * An SNS topic with an SQS queue subscribed to it. Without `raw`, each queue message body is the SNS
 * envelope (`Message`, `Subject`, `MessageAttributes`), as a real SQS subscriber sees it.
 */
export async function createTopicWithQueue(
  sns: SNSClient,
  opts: { topicName?: string; raw?: boolean; filterPolicy?: Record<string, unknown> } = {},
): Promise<AlertFeed> {
  const { TopicArn } = await sns.send(
    new CreateTopicCommand({ Name: opts.topicName ?? uniqueName("alerts") }),
  );
  if (!TopicArn) throw new Error("CreateTopic returned no TopicArn");
  const { queueUrl, queueArn } = await createQueue();
  const attributes: Record<string, string> = {};
  if (opts.raw) attributes.RawMessageDelivery = "true";
  if (opts.filterPolicy) attributes.FilterPolicy = JSON.stringify(opts.filterPolicy);
  await sns.send(
    new SubscribeCommand({ TopicArn, Protocol: "sqs", Endpoint: queueArn, Attributes: attributes }),
  );
  return { topicArn: TopicArn, queueUrl, queueArn };
}

export interface QueueMessage {
  messageId: string;
  body: string;
  /** SQS message attributes (raw delivery) as name → string value. */
  attributes: Record<string, string>;
}

/** Every message currently in the queue (received and deleted), in receive order. */
export async function drainQueue(queueUrl: string): Promise<QueueMessage[]> {
  const out: QueueMessage[] = [];
  for (;;) {
    const { Messages = [] } = await sqs<{
      Messages?: {
        MessageId: string;
        ReceiptHandle: string;
        Body: string;
        MessageAttributes?: Record<string, { StringValue?: string }>;
      }[];
    }>("ReceiveMessage", {
      QueueUrl: queueUrl,
      MaxNumberOfMessages: 10,
      MessageAttributeNames: ["All"],
      WaitTimeSeconds: 0,
    });
    if (Messages.length === 0) return out;
    for (const m of Messages) {
      const attributes: Record<string, string> = {};
      for (const [k, v] of Object.entries(m.MessageAttributes ?? {})) attributes[k] = v.StringValue ?? "";
      out.push({ messageId: m.MessageId, body: m.Body, attributes });
      await sqs("DeleteMessage", { QueueUrl: queueUrl, ReceiptHandle: m.ReceiptHandle });
    }
  }
}

/** A middleware of an SDK v3 client's stack, as the helpers below add one (initialize step). */
type InitializeMiddleware = (
  next: (args: { input: object }) => Promise<unknown>,
  context: { commandName?: string },
) => (args: { input: object }) => Promise<unknown>;

/** Any SDK v3 client (S3, SNS, CloudWatch, DynamoDB…), for what the helpers below add to its stack. */
interface MiddlewareClient {
  middlewareStack: { add(middleware: InitializeMiddleware, options: { step: "initialize" }): void };
}

/** An error answer as the SDK raises it: `name` is the error code, `status` the HTTP status. */
export interface ServiceFault {
  name: string;
  message: string;
  status: number;
}

/**
 * Makes the next `times` calls of `commandName` (e.g. "PutMetricDataCommand") on `client` fail with
 * `fault` before they are sent, as a throttled or refused request does; the calls after those go to
 * moto. `failed` counts the calls it made fail so far.
 */
export function failCommand(
  client: MiddlewareClient,
  commandName: string,
  times: number,
  fault: ServiceFault,
): { failed: number } {
  const counts = { failed: 0 };
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === commandName && counts.failed < times) {
        counts.failed++;
        throw Object.assign(new Error(fault.message), {
          name: fault.name,
          $metadata: { httpStatusCode: fault.status },
        });
      }
      return next(args);
    },
    { step: "initialize" },
  );
  return counts;
}

/**
 * The inputs of every `commandName` call `client` sends from here on, in order (the calls still go to
 * moto). Middleware of one step runs in the order added: added after failCommand, this sees only the
 * calls that got past it.
 */
export function commandInputs<T>(client: MiddlewareClient, commandName: string): T[] {
  const inputs: T[] = [];
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === commandName) inputs.push(args.input as T);
      return next(args);
    },
    { step: "initialize" },
  );
  return inputs;
}

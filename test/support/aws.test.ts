import { DynamoDBClient, ListTablesCommand } from "@aws-sdk/client-dynamodb";
import { HeadBucketCommand, ListBucketsCommand, S3Client } from "@aws-sdk/client-s3";
import { ListTopicsCommand, PublishCommand, SNSClient } from "@aws-sdk/client-sns";
import { beforeEach, describe, expect, it } from "vitest";
import {
  awsClientConfig,
  awsEnv,
  commandInputs,
  createBucket,
  createMotoAccount,
  createStoreTable,
  createTopicWithQueue,
  currentAccount,
  drainQueue,
  failCommand,
  resetMoto,
} from "./aws.ts";

describe("emulated AWS support", () => {
  beforeEach(async () => {
    await resetMoto();
  });

  it("gives each reset an account that cannot see another account's resources", async () => {
    const first = currentAccount();
    const ddbFirst = new DynamoDBClient(awsClientConfig(first));
    const table = await createStoreTable();
    expect((await ddbFirst.send(new ListTablesCommand({}))).TableNames).toContain(table);

    const other = await createMotoAccount();
    expect(other.accountId).not.toBe(first.accountId);
    const ddbOther = new DynamoDBClient(awsClientConfig(other));
    expect((await ddbOther.send(new ListTablesCommand({}))).TableNames ?? []).not.toContain(table);
    // the first account still has its table: nothing was wiped
    expect((await ddbFirst.send(new ListTablesCommand({}))).TableNames).toContain(table);
  });

  it("creates buckets with names unique across accounts", async () => {
    const s3 = new S3Client(awsClientConfig());
    const a = await createBucket(s3);
    const b = await createBucket(s3);
    expect(a).not.toBe(b);
    await s3.send(new HeadBucketCommand({ Bucket: a }));
    const { Buckets = [] } = await s3.send(new ListBucketsCommand({}));
    expect(Buckets.map((x) => x.Name)).toEqual(expect.arrayContaining([a, b]));
  });

  it("delivers topic messages to the subscribed queue with their attributes", async () => {
    const sns = new SNSClient(awsClientConfig());
    const feed = await createTopicWithQueue(sns);
    await sns.send(
      new PublishCommand({
        TopicArn: feed.topicArn,
        Message: "hello",
        Subject: "subject",
        MessageAttributes: { severity: { DataType: "String", StringValue: "high" } },
      }),
    );
    const messages = await drainQueue(feed.queueUrl);
    expect(messages).toHaveLength(1);
    const envelope = JSON.parse(messages[0].body);
    expect(envelope.Message).toBe("hello");
    expect(envelope.MessageAttributes.severity.Value).toBe("high");
    expect(await drainQueue(feed.queueUrl)).toEqual([]);

    const raw = await createTopicWithQueue(sns, { raw: true });
    await sns.send(
      new PublishCommand({
        TopicArn: raw.topicArn,
        Message: "raw body",
        MessageAttributes: { ruleId: { DataType: "String", StringValue: "r1" } },
      }),
    );
    const rawMessages = await drainQueue(raw.queueUrl);
    expect(rawMessages.map((m) => [m.body, m.attributes.ruleId])).toEqual([["raw body", "r1"]]);
  });

  it("exports the current account's credentials for handlers that read the environment", () => {
    const env = awsEnv();
    expect(env.AWS_ACCESS_KEY_ID).toBe(currentAccount().accessKeyId);
    expect(env.AWS_ENDPOINT_URL).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it("fails only the named command, the number of times asked, and records the inputs of the calls sent", async () => {
    const sns = new SNSClient({ ...awsClientConfig(), maxAttempts: 1 });
    try {
      const { topicArn } = await createTopicWithQueue(sns);
      const throttled = failCommand(sns, "PublishCommand", 2, {
        name: "Throttling",
        message: "Rate exceeded",
        status: 400,
      });
      const sent = commandInputs<{ Message: string }>(sns, "PublishCommand");
      const publish = (message: string) =>
        sns.send(new PublishCommand({ TopicArn: topicArn, Message: message }));
      const throttle = { name: "Throttling", message: "Rate exceeded", $metadata: { httpStatusCode: 400 } };
      await expect(publish("first")).rejects.toMatchObject(throttle);
      // Another command in between goes through and leaves the failures to come as they were.
      const { Topics = [] } = await sns.send(new ListTopicsCommand({}));
      expect(Topics.map((t) => t.TopicArn)).toContain(topicArn);
      await expect(publish("second")).rejects.toMatchObject(throttle);
      await publish("third");
      expect(throttled.failed).toBe(2);
      expect(sent.map((input) => input.Message)).toEqual(["third"]);
    } finally {
      sns.destroy();
    }
  });
});

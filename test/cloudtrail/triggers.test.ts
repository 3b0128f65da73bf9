import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseTrigger, type Trigger, TriggerError } from "../../src/cloudtrail/triggers.ts";
import { jsonError } from "../support/records.ts";

const corpus = (name: string) =>
  readFileSync(
    new URL(`../fixtures/corpus/aws-cloudtrail-processing-library/${name}`, import.meta.url),
    "utf8",
  );

const LOG_KEY =
  "AWSLogs/111122223333/CloudTrail/us-east-2/2026/01/05/111122223333_CloudTrail_us-east-2_20260105T0210Z_Mu0KsOhtH1ar15ZZ.json.gz";
const DIGEST_KEY =
  "AWSLogs/111122223333/CloudTrail-Digest/us-east-2/2026/01/05/111122223333_CloudTrail-Digest_us-east-2_main_us-east-2_20260105T021000Z.json.gz";
const INSIGHT_KEY =
  "AWSLogs/o-fxozgwu6rc/123456789015/CloudTrail-Insight/ca-central-1/2020/09/23/123456789015_CloudTrail-Insight_ca-central-1_20200923T0516Z_KL5e9VCV2SS7IqzB.json.gz";
/** Another service's log in the trail bucket, under AWSLogs/ too (a shared log bucket). */
const FLOW_LOG_KEY =
  "AWSLogs/111122223333/vpcflowlogs/us-east-2/2026/01/05/111122223333_vpcflowlogs_us-east-2_fl-0a1b_20260105T0210Z_ab12.log.gz";

const ETAG = "d41d8cd98f00b204e9800998ecf8427e";

/** The S3 event notification of reference/aws-formats.md §4.4, for one object. */
function s3Record(bucket: string, encodedKey: string, eventName = "ObjectCreated:Put") {
  return {
    eventVersion: "2.1",
    eventSource: "aws:s3",
    awsRegion: "us-west-2",
    eventTime: "1970-01-01T00:00:00.000Z",
    eventName,
    userIdentity: { principalId: "AIDAJDPLRKLG7UEXAMPLE" },
    requestParameters: { sourceIPAddress: "127.0.0.1" },
    responseElements: {
      "x-amz-request-id": "C3D13FE58DE4C810",
      "x-amz-id-2": "FMyUVURIY8/IgAtTv8xRjskZQpcIZ9KG4V5Wp6S7S/JRWeUWerMUE5JgHvANOjpD",
    },
    s3: {
      s3SchemaVersion: "1.0",
      configurationId: "testConfigRule",
      bucket: {
        name: bucket,
        ownerIdentity: { principalId: "A3NL1KOZZKExample" },
        arn: `arn:aws:s3:::${bucket}`,
      },
      object: {
        key: encodedKey,
        size: 1024,
        eTag: ETAG,
        versionId: "096fKKXTRTtl3on89fVO.nfljtsv6qko",
        sequencer: "0055AED6DCD90281E5",
      },
    },
  };
}

const s3Notification = (...records: ReturnType<typeof s3Record>[]) => ({ Records: records });

const S3_TEST_EVENT = {
  Service: "Amazon S3",
  Event: "s3:TestEvent",
  Time: "2026-01-05T02:10:00.000Z",
  Bucket: "trail-bucket",
  RequestId: "5582815E1AEA5ADF",
  HostId: "8cLeGAmw098X5cv4Zkwcmo8vvZa3eH3eKxsPzbB9wrR+YstdA6Knx4Ip8EXAMPLE",
};

/** SNS envelope as an SQS subscriber (…URL) or a Lambda SNS record (…Url) sees it. */
function snsEnvelope(message: string, spelling: "URL" | "Url" = "URL") {
  return {
    Type: "Notification",
    MessageId: "95df01b4-ee98-5cb9-9903-4c221d41eb5e",
    TopicArn: "arn:aws:sns:us-east-2:111122223333:trail-topic",
    Subject: "Amazon S3 Notification",
    Message: message,
    Timestamp: "2026-01-05T02:10:05.000Z",
    SignatureVersion: "1",
    Signature: "EXAMPLE==",
    [`SigningCert${spelling}`]: "https://sns.us-east-2.amazonaws.com/SimpleNotificationService-0000.pem",
    [`Unsubscribe${spelling}`]: "https://sns.us-east-2.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=x",
  };
}

function sqsEvent(...bodies: [messageId: string, body: string][]) {
  return {
    Records: bodies.map(([messageId, body]) => ({
      messageId,
      receiptHandle: `AQEB${messageId}`,
      body,
      attributes: {
        ApproximateReceiveCount: "1",
        SentTimestamp: "1767579005000",
        SenderId: "AIDAIENQZJOLO23YVJ4VO",
        ApproximateFirstReceiveTimestamp: "1767579005010",
      },
      messageAttributes: {},
      md5OfBody: "e4e68fb7bd0e697a0ae8f1bb342846b3",
      eventSource: "aws:sqs",
      eventSourceARN: "arn:aws:sqs:us-east-2:111122223333:trail-queue",
      awsRegion: "us-east-2",
    })),
  };
}

function snsLambdaEvent(message: string, spelling: "URL" | "Url" = "Url") {
  return {
    Records: [
      {
        EventVersion: "1.0",
        EventSubscriptionArn:
          "arn:aws:sns:us-east-2:111122223333:trail-topic:2bcfbf39-05c3-41de-beaa-fcfcc21c8f55",
        EventSource: "aws:sns",
        Sns: { ...snsEnvelope(message, spelling), MessageAttributes: {} },
      },
    ],
  };
}

/** EventBridge envelope of reference/aws-formats.md §5.4 (detail = the real record there). */
function eventBridge(detailType: string, detail: unknown = stsRecord()) {
  return {
    version: "0",
    id: "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
    "detail-type": detailType,
    source: "aws.sts",
    account: "017622104382",
    time: "2024-08-02T08:23:55Z",
    region: "us-east-1",
    resources: [],
    detail,
  };
}

function stsRecord() {
  return {
    eventVersion: "1.08",
    eventSource: "sts.amazonaws.com",
    eventName: "GetCallerIdentity",
    eventTime: "2024-08-02T08:23:55Z",
    eventID: "b379479b-05c9-4c3c-af4b-cbd43acf29e1",
    eventType: "AwsApiCall",
    eventCategory: "Management",
    managementEvent: true,
    readOnly: true,
    recipientAccountId: "017622104382",
    sourceIPAddress: "18.236.253.47",
    userAgent: "stratus-red-team_c763d13b-d099-488a-bb3e-f57cb2fed240",
    userIdentity: {
      type: "AssumedRole",
      principalId: "AROALHCCSKSM395EGX3XN:i-786a3A8B5C0d92eF4",
      arn: "arn:aws:sts::017622104382:assumed-role/stratus-red-team-ec2-steal-credentials-role/i-786a3A8B5C0d92eF4",
      accessKeyId: "ASIAP5CT9NN8EYVU1FXV",
      accountId: "017622104382",
    },
  };
}

const CT_KEY =
  "myprefix/AWSLogs/123456789012/CloudTrail/us-east-1/2014/03/09/123456789012_CloudTrail_us-east-1_20140309T2015Z_996mpJdKNLd1Yvzl.json.gz";

function objectsOf(t: Trigger) {
  if (t.kind === "sqs") return t.messages.flatMap((m) => (m.kind === "objects" ? m.objects : []));
  if (t.kind !== "s3-objects") throw new Error(`expected objects, got ${JSON.stringify(t)}`);
  return t.objects;
}

function messagesOf(t: Trigger) {
  if (t.kind !== "sqs") throw new Error(`expected SQS messages, got ${JSON.stringify(t)}`);
  return t.messages;
}

/** The messages that could not be read, in batch order. */
const unreadable = (t: Trigger) => messagesOf(t).flatMap((m) => (m.kind === "error" ? [m] : []));

describe("parseTrigger: S3 notifications", () => {
  it("URL-decodes keys with + as space and keeps the bucket", () => {
    const t = parseTrigger(
      s3Notification(
        s3Record("trail-bucket", "team+logs/AWSLogs/111122223333/CloudTrail/a%2Bb%3Dc%20d.json.gz"),
      ),
    );
    expect(objectsOf(t)).toEqual([
      {
        bucket: "trail-bucket",
        key: "team logs/AWSLogs/111122223333/CloudTrail/a+b=c d.json.gz",
        etag: ETAG,
      },
    ]);
  });

  it("skips Digest and Insight files, other event names, and duplicates", () => {
    const t = parseTrigger(
      s3Notification(
        s3Record("b", DIGEST_KEY),
        s3Record("b", LOG_KEY),
        s3Record("b", INSIGHT_KEY),
        s3Record("b", LOG_KEY, "ObjectRemoved:Delete"),
        s3Record("b", LOG_KEY, "ObjectCreated:CompleteMultipartUpload"),
      ),
    );
    expect(objectsOf(t)).toEqual([{ bucket: "b", key: LOG_KEY, etag: ETAG }]);
  });

  it("passes over the other services' logs a shared bucket keeps under AWSLogs/", () => {
    const config =
      "AWSLogs/111122223333/Config/us-east-2/2026/1/5/ConfigHistory/111122223333_Config_us-east-2_ConfigHistory_AWS::S3::Bucket_20260105T021000Z.json.gz";
    const t = parseTrigger(
      s3Notification(s3Record("b", FLOW_LOG_KEY), s3Record("b", config), s3Record("b", LOG_KEY)),
    );
    expect(objectsOf(t)).toEqual([{ bucket: "b", key: LOG_KEY, etag: ETAG }]);
    expect(parseTrigger(s3Notification(s3Record("b", FLOW_LOG_KEY)))).toMatchObject({ kind: "ignored" });
  });

  it("ignores a notification that names only Digest files, and the s3:TestEvent", () => {
    expect(parseTrigger(s3Notification(s3Record("b", DIGEST_KEY)))).toMatchObject({ kind: "ignored" });
    expect(parseTrigger(S3_TEST_EVENT)).toEqual({ kind: "ignored", reason: "s3:TestEvent" });
  });

  it("rejects a record without an object key, naming the field", () => {
    const bad = s3Record("b", LOG_KEY) as Record<string, unknown>;
    bad.s3 = { bucket: { name: "b" }, object: {} };
    expect(() => parseTrigger({ Records: [bad] })).toThrow(TriggerError);
    expect(() => parseTrigger({ Records: [bad] })).toThrow(/s3\.object\.key/);
  });

  it("rejects events it does not recognise", () => {
    expect(() => parseTrigger({ hello: "world" })).toThrow(
      "not an S3, SNS, CloudTrail or EventBridge notification (keys: hello)",
    );
    expect(() => parseTrigger("text")).toThrow(TriggerError);
    expect(() => parseTrigger({ Records: [{ eventVersion: "1.08", eventName: "ListBuckets" }] })).toThrow(
      TriggerError,
    );
  });
});

describe("parseTrigger: SNS (Lambda subscription)", () => {
  it.each(["Url", "URL"] as const)("reads the S3 notification in Sns.Message (SigningCert%s)", (spelling) => {
    const t = parseTrigger(snsLambdaEvent(JSON.stringify(s3Notification(s3Record("b", LOG_KEY))), spelling));
    expect(objectsOf(t)).toEqual([{ bucket: "b", key: LOG_KEY, etag: ETAG }]);
  });

  it("reads CloudTrail's own delivery notification without URL-decoding its keys", () => {
    const key = "AWSLogs/111122223333/CloudTrail/us-east-2/2026/01/05/a+b%20c.json.gz";
    const message = JSON.stringify({ s3Bucket: "trail-bucket", s3ObjectKey: [key, DIGEST_KEY] });
    expect(objectsOf(parseTrigger(snsLambdaEvent(message)))).toEqual([{ bucket: "trail-bucket", key }]);
  });

  it("takes an EventBridge event's record from Sns.Message (a rule targeting the topic), as a direct event", () => {
    const event = eventBridge("AWS API Call via CloudTrail");
    expect(parseTrigger(snsLambdaEvent(JSON.stringify(event)))).toEqual(parseTrigger(event));
    expect(parseTrigger(snsLambdaEvent(JSON.stringify(event)))).toEqual({
      kind: "cloudtrail-records",
      records: [stsRecord()],
      source: `eventbridge:${event.id}`,
    });
    // Passed over for the same reason as when it comes directly.
    const insight = eventBridge("AWS Insight via CloudTrail");
    expect(parseTrigger(snsLambdaEvent(JSON.stringify(insight)))).toEqual(parseTrigger(insight));
    expect(parseTrigger(insight)).toEqual({
      kind: "ignored",
      reason: 'EventBridge detail-type "AWS Insight via CloudTrail"',
    });
    expect(() =>
      parseTrigger(snsLambdaEvent(JSON.stringify(eventBridge("AWS API Call via CloudTrail", "text")))),
    ).toThrow(
      /^SNS message 95df01b4-ee98-5cb9-9903-4c221d41eb5e: EventBridge event 6a7e8feb.*: detail is not/,
    );
  });

  it("reads an EventBridge event in an SNS envelope handed over as it is, as Lambda's SNS trigger does", () => {
    const event = eventBridge("AWS API Call via CloudTrail");
    expect(parseTrigger(snsEnvelope(JSON.stringify(event)))).toEqual({
      kind: "cloudtrail-records",
      records: [stsRecord()],
      source: `eventbridge:${event.id}`,
    });
    const insight = eventBridge("AWS Insight via CloudTrail");
    expect(parseTrigger(snsEnvelope(JSON.stringify(insight)))).toEqual(parseTrigger(insight));
  });

  it("refuses an SNS event of several messages when one is an EventBridge event (one batch per invocation)", () => {
    const withEvent = snsLambdaEvent(JSON.stringify(eventBridge("AWS API Call via CloudTrail")));
    const withFile = snsLambdaEvent(JSON.stringify(s3Notification(s3Record("b", LOG_KEY))));
    const both = { Records: [...withFile.Records, ...withEvent.Records] };
    expect(() => parseTrigger(both)).toThrow(TriggerError);
    expect(() => parseTrigger(both)).toThrow(/2 messages with EventBridge events among them/);
  });

  it("reads an SNS event of several messages as one notification: their files once each, or the first's reason", () => {
    const messages = (...bodies: unknown[]) => ({
      Records: bodies.flatMap((body) => snsLambdaEvent(JSON.stringify(body)).Records),
    });
    const other = "AWSLogs/111122223333/CloudTrail/us-east-2/2026/01/05/other.json.gz";
    const files = messages(
      s3Notification(s3Record("b", LOG_KEY)),
      S3_TEST_EVENT,
      s3Notification(s3Record("b", LOG_KEY), s3Record("b", other)),
    );
    expect(parseTrigger(files)).toEqual({
      kind: "s3-objects",
      objects: [
        { bucket: "b", key: LOG_KEY, etag: ETAG },
        { bucket: "b", key: other, etag: ETAG },
      ],
    });
    expect(parseTrigger(messages(S3_TEST_EVENT, s3Notification(s3Record("b", DIGEST_KEY))))).toEqual({
      kind: "ignored",
      reason: "s3:TestEvent",
    });
  });
});

describe("parseTrigger: SQS", () => {
  it("reads S3 notifications in bodies, directly and inside SNS envelopes, keeping each message id", () => {
    const direct = JSON.stringify(s3Notification(s3Record("b", LOG_KEY)));
    const viaSns = JSON.stringify(
      snsEnvelope(JSON.stringify(s3Notification(s3Record("b", "x/AWSLogs/1/CloudTrail/f+1.gz")))),
    );
    const t = parseTrigger(sqsEvent(["m1", direct], ["m2", viaSns]));
    expect(t).toEqual({
      kind: "sqs",
      messages: [
        { messageId: "m1", kind: "objects", objects: [{ bucket: "b", key: LOG_KEY, etag: ETAG }] },
        {
          messageId: "m2",
          kind: "objects",
          objects: [{ bucket: "b", key: "x/AWSLogs/1/CloudTrail/f 1.gz", etag: ETAG }],
        },
      ],
    });
  });

  it("reads the CloudTrail SNS notification in an SQS body (corpus SQSMessageBody), once per key", () => {
    const t = parseTrigger(sqsEvent(["m1", corpus("SQSMessageBody")]));
    expect(messagesOf(t)).toEqual([
      { messageId: "m1", kind: "objects", objects: [{ bucket: "my-test-bucket", key: CT_KEY }] },
    ]);
  });

  it("reads the CloudTrail notification with raw delivery (no SNS envelope)", () => {
    const body = JSON.stringify({ s3Bucket: "trail", s3ObjectKey: LOG_KEY });
    expect(objectsOf(parseTrigger(sqsEvent(["m1", body])))).toEqual([{ bucket: "trail", key: LOG_KEY }]);
  });

  it("reports malformed messages by id without losing the others (corpus SQSMessageBodyWrongFormat)", () => {
    const t = parseTrigger(
      sqsEvent(
        ["bad-1", corpus("SQSMessageBodyWrongFormat")],
        ["good", corpus("SQSMessageBody")],
        ["bad-2", "not json at all"],
        ["bad-3", JSON.stringify({ Records: [{ eventName: "ObjectCreated:Put" }] })],
        ["test", JSON.stringify(S3_TEST_EVENT)],
      ),
    );
    expect(messagesOf(t).map((m) => m.messageId)).toEqual(["bad-1", "good", "bad-2", "bad-3", "test"]);
    expect(messagesOf(t)[1]).toEqual({
      messageId: "good",
      kind: "objects",
      objects: [{ bucket: "my-test-bucket", key: CT_KEY }],
    });
    expect(messagesOf(t)[4]).toEqual({
      messageId: "test",
      kind: "ignored",
      reason: "SQS message test: s3:TestEvent",
    });
    const bad = unreadable(t);
    expect(bad.map((m) => m.messageId)).toEqual(["bad-1", "bad-2", "bad-3"]);
    expect(bad[0].error).toMatch(/^SQS message bad-1: not an SNS notification: Message/);
    expect(bad[1].error).toMatch(/^SQS message bad-2: body is not JSON/);
    expect(bad[2].error).toMatch(/^SQS message bad-3: not an S3 event notification: Records\.0\.s3/);
  });

  it("says why a message names no trail file: other services' logs, Insight and Digest files", () => {
    const t = parseTrigger(
      sqsEvent(
        ["m-other", JSON.stringify(s3Notification(s3Record("b", FLOW_LOG_KEY), s3Record("b", INSIGHT_KEY)))],
        ["m-digest", JSON.stringify({ s3Bucket: "trail", s3ObjectKey: [DIGEST_KEY] })],
        ["m-log", JSON.stringify(s3Notification(s3Record("b", LOG_KEY)))],
      ),
    );
    expect(messagesOf(t).map((m) => [m.messageId, m.kind === "ignored" ? m.reason : m.kind])).toEqual([
      ["m-other", "SQS message m-other: S3 notification names no CloudTrail log file"],
      ["m-digest", "SQS message m-digest: CloudTrail delivery notification names no CloudTrail log file"],
      ["m-log", "objects"],
    ]);
  });

  it("reports a key with broken URL encoding as a malformed message", () => {
    const body = JSON.stringify(s3Notification(s3Record("b", "AWSLogs/1/CloudTrail/%E0%A4%A.json.gz")));
    const t = parseTrigger(sqsEvent(["m1", body]));
    expect(t).toMatchObject({ kind: "sqs", messages: [{ messageId: "m1", kind: "error" }] });
    expect(unreadable(t)[0].error).toMatch(/^SQS message m1: /);
  });

  it("takes an EventBridge event's record from a body, directly and inside an SNS envelope", () => {
    const event = eventBridge("AWS API Call via CloudTrail");
    const t = parseTrigger(
      sqsEvent(
        ["m-direct", JSON.stringify(event)],
        ["m-file", JSON.stringify(s3Notification(s3Record("b", LOG_KEY)))],
        ["m-sns", JSON.stringify(snsEnvelope(JSON.stringify({ ...event, id: "second-event" })))],
      ),
    );
    expect(t).toEqual({
      kind: "sqs",
      messages: [
        {
          messageId: "m-direct",
          kind: "record",
          record: { source: `eventbridge:${event.id}`, record: stsRecord() },
        },
        { messageId: "m-file", kind: "objects", objects: [{ bucket: "b", key: LOG_KEY, etag: ETAG }] },
        {
          messageId: "m-sns",
          kind: "record",
          record: { source: "eventbridge:second-event", record: stsRecord() },
        },
      ],
    });
  });

  it("passes over queued EventBridge events that are not CloudTrail records, and reports broken ones", () => {
    const t = parseTrigger(
      sqsEvent(
        ["m-insight", JSON.stringify(eventBridge("AWS Insight via CloudTrail"))],
        ["m-text", JSON.stringify(eventBridge("AWS API Call via CloudTrail", "text"))],
        ["m-no-id", JSON.stringify({ "detail-type": "AWS API Call via CloudTrail", detail: stsRecord() })],
      ),
    );
    expect(messagesOf(t).map((m) => m.kind)).toEqual(["ignored", "error", "error"]);
    expect(messagesOf(t)[0]).toEqual({
      messageId: "m-insight",
      kind: "ignored",
      reason: 'SQS message m-insight: EventBridge detail-type "AWS Insight via CloudTrail"',
    });
    const bad = unreadable(t);
    expect(bad.map((m) => m.messageId)).toEqual(["m-text", "m-no-id"]);
    expect(bad[0].error).toMatch(/^SQS message m-text: EventBridge event 6a7e8feb.*: detail is not/);
    expect(bad[1].error).toMatch(/^SQS message m-no-id: malformed EventBridge event: id/);
  });
});

describe("parseTrigger: why a notification holds nothing to read", () => {
  /** What SNS sends a new (or a removed) subscription, here a queue of another account. */
  const confirmation = (type: "SubscriptionConfirmation" | "UnsubscribeConfirmation") => ({
    Type: type,
    MessageId: "165545c9-2a5c-472c-8df2-7ff2be2b3b1b",
    Token: "2336412f37fb687f5d51e6e2425f004aed5f8d3c",
    TopicArn: "arn:aws:sns:us-east-2:111122223333:trail-topic",
    Message: "You have chosen to subscribe to the topic arn:aws:sns:us-east-2:111122223333:trail-topic.",
    SubscribeURL: "https://sns.us-east-2.amazonaws.com/?Action=ConfirmSubscription&Token=2336412f",
    Timestamp: "2026-01-05T02:10:05.000Z",
    SignatureVersion: "1",
    Signature: "EXAMPLE==",
    SigningCertURL: "https://sns.us-east-2.amazonaws.com/SimpleNotificationService-0000.pem",
  });

  it("names an SNS subscription confirmation by its Type, directly and queued", () => {
    expect(parseTrigger(confirmation("SubscriptionConfirmation"))).toEqual({
      kind: "ignored",
      reason: 'SNS Type "SubscriptionConfirmation"',
    });
    const t = parseTrigger(
      sqsEvent(
        ["m-sub", JSON.stringify(confirmation("SubscriptionConfirmation"))],
        ["m-unsub", JSON.stringify(confirmation("UnsubscribeConfirmation"))],
      ),
    );
    expect(messagesOf(t)).toEqual([
      {
        messageId: "m-sub",
        kind: "ignored",
        reason: 'SQS message m-sub: SNS Type "SubscriptionConfirmation"',
      },
      {
        messageId: "m-unsub",
        kind: "ignored",
        reason: 'SQS message m-unsub: SNS Type "UnsubscribeConfirmation"',
      },
    ]);
  });

  it("gives the S3 test event the same reason however it arrives", () => {
    const ignored = { kind: "ignored", reason: "s3:TestEvent" };
    expect(parseTrigger(S3_TEST_EVENT)).toEqual(ignored);
    expect(parseTrigger(snsLambdaEvent(JSON.stringify(S3_TEST_EVENT)))).toEqual(ignored);
    expect(parseTrigger(snsEnvelope(JSON.stringify(S3_TEST_EVENT)))).toEqual(ignored);
    const queued = parseTrigger(sqsEvent(["m1", JSON.stringify(snsEnvelope(JSON.stringify(S3_TEST_EVENT)))]));
    expect(messagesOf(queued)).toEqual([
      { messageId: "m1", kind: "ignored", reason: "SQS message m1: s3:TestEvent" },
    ]);
  });

  it("names the notification that names no trail file, and an event without Records", () => {
    expect(parseTrigger(s3Notification(s3Record("b", DIGEST_KEY)))).toEqual({
      kind: "ignored",
      reason: "S3 notification names no CloudTrail log file",
    });
    const digestOnly = JSON.stringify({ s3Bucket: "trail", s3ObjectKey: [DIGEST_KEY] });
    expect(parseTrigger(snsLambdaEvent(digestOnly))).toEqual({
      kind: "ignored",
      reason: "CloudTrail delivery notification names no CloudTrail log file",
    });
    expect(parseTrigger({ Records: [] })).toEqual({ kind: "ignored", reason: "event has no Records" });
  });
});

describe("parseTrigger: EventBridge", () => {
  it.each([
    "AWS API Call via CloudTrail",
    "AWS Console Signin via CloudTrail",
    "AWS Console Sign In via CloudTrail",
    "AWS Console Action via CloudTrail",
    "AWS Service Event via CloudTrail",
  ])("takes detail as the record for %s", (detailType) => {
    expect(parseTrigger(eventBridge(detailType))).toEqual({
      kind: "cloudtrail-records",
      records: [stsRecord()],
      source: "eventbridge:6a7e8feb-b491-4cf7-a9f1-bf3703467718",
    });
  });

  it("ignores detail-types that are not CloudTrail records", () => {
    expect(parseTrigger(eventBridge("AWS Insight via CloudTrail"))).toMatchObject({ kind: "ignored" });
    expect(parseTrigger(eventBridge("EC2 Instance State-change Notification"))).toMatchObject({
      kind: "ignored",
    });
  });

  it("fails with the event id when detail is not an object", () => {
    expect(() => parseTrigger(eventBridge("AWS API Call via CloudTrail", "text"))).toThrow(
      /EventBridge event 6a7e8feb-b491-4cf7-a9f1-bf3703467718: detail/,
    );
  });
});

describe("parseTrigger: what an error names", () => {
  const SNS_ID = "95df01b4-ee98-5cb9-9903-4c221d41eb5e";
  const EVENT_ID = "6a7e8feb-b491-4cf7-a9f1-bf3703467718";
  const brokenEvent = JSON.stringify(eventBridge("AWS API Call via CloudTrail", "text"));
  /** The message of the TriggerError parseTrigger throws for `event`. */
  const thrownBy = (event: unknown) => {
    try {
      parseTrigger(event);
    } catch (err) {
      expect(err).toBeInstanceOf(TriggerError);
      return (err as Error).message;
    }
    throw new Error("expected parseTrigger to throw");
  };

  it("names each message an EventBridge event's error came in once, however it arrived", () => {
    const detailError = `EventBridge event ${EVENT_ID}: detail is not a CloudTrail record object`;
    expect(thrownBy(JSON.parse(brokenEvent))).toBe(detailError);
    expect(thrownBy(snsLambdaEvent(brokenEvent))).toBe(`SNS message ${SNS_ID}: ${detailError}`);
    // An SNS envelope handed over as it is: recognised, so labelled as the SNS message it is.
    expect(thrownBy(snsEnvelope(brokenEvent))).toBe(`SNS message ${SNS_ID}: ${detailError}`);
    const queued = parseTrigger(sqsEvent(["m1", JSON.stringify(snsEnvelope(brokenEvent))]));
    expect(unreadable(queued).map((m) => m.error)).toEqual([
      `SQS message m1: SNS message ${SNS_ID}: ${detailError}`,
    ]);
  });

  it("names the SNS message whose Message is not JSON once, in Lambda's SNS event as in an SQS body", () => {
    const notJson = `Message is not JSON (${jsonError("{not json")})`;
    expect(thrownBy(snsLambdaEvent("{not json"))).toBe(`SNS message ${SNS_ID}: ${notJson}`);
    const queued = parseTrigger(sqsEvent(["m1", JSON.stringify(snsEnvelope("{not json"))]));
    expect(unreadable(queued).map((m) => m.error)).toEqual([
      `SQS message m1: SNS message ${SNS_ID}: ${notJson}`,
    ]);
  });

  it("reads SNS envelopes two deep and refuses a third, in Lambda's SNS event as in an SQS body", () => {
    const wrap = (message: string) => JSON.stringify(snsEnvelope(message));
    const file = JSON.stringify(s3Notification(s3Record("b", LOG_KEY)));
    const objects = [{ bucket: "b", key: LOG_KEY, etag: ETAG }];
    expect(objectsOf(parseTrigger(sqsEvent(["m1", wrap(wrap(file))])))).toEqual(objects);
    expect(objectsOf(parseTrigger(snsLambdaEvent(wrap(file))))).toEqual(objects);
    const tooDeep = `SNS message ${SNS_ID}: SNS message ${SNS_ID}: SNS notification nested too deep`;
    expect(unreadable(parseTrigger(sqsEvent(["m1", wrap(wrap(wrap(file)))]))).map((m) => m.error)).toEqual([
      `SQS message m1: ${tooDeep}`,
    ]);
    // Lambda's SNS record is the first envelope.
    expect(thrownBy(snsLambdaEvent(wrap(wrap(file))))).toBe(tooDeep);
  });
});

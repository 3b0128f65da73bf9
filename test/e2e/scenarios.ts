/**
 * CloudTrail scenarios for the end-to-end test, built from real record shapes:
 * - IAMUser call: SRT `aws.credential-access.secretsmanager-retrieve-secrets` (reference aws-formats.md §1.4);
 * - AssumedRole downstream call: SRT `ec2-steal-instance-credentials` (§1.5);
 * - AssumeRole with session tags: IAM User Guide role-chaining example (§2.2);
 * - AWS-managed MCP server downstream calls: invokedBy/sourceIPAddress/userAgent = aws-mcp.amazonaws.com (§3.2);
 * - AWS service AssumeRole: userIdentity AWSService invokedBy ec2.amazonaws.com (§2.4, ELASTIC);
 * - StopLogging and ConsoleLogin: verbatim records of invictus-ir/aws_dataset (fixtures/corpus/).
 * Identifiers are the examples' own or EXAMPLE-style; times are moved next to the test run (`at`), because
 * CloudWatch only keeps metric data up to two weeks old.
 */
import { readFileSync } from "node:fs";
import { gzipSync } from "node:zlib";

export const ACCOUNT = "123456789012";
export const REGION = "us-east-1";

type Rec = Record<string, unknown>;

const invictus = JSON.parse(
  readFileSync(new URL("./fixtures/corpus/invictus-ir-aws-dataset/records.json", import.meta.url), "utf8"),
) as { Records: Rec[] };

function corpusRecord(eventName: string): Rec {
  const found = invictus.Records.find((r) => r.eventName === eventName);
  if (!found) throw new Error(`fixture has no ${eventName} record`);
  return structuredClone(found);
}

/**
 * A clock for one scenario run: minute-aligned, 30 minutes before now. Scenario events span ten minutes
 * from there; they never touch 23:59 UTC, so "always business hours" (00:00-23:59) holds for all of them.
 */
export class ScenarioClock {
  readonly base: Date;
  constructor(now = Date.now()) {
    let base = Math.floor(now / 60_000) * 60_000 - 30 * 60_000;
    const minuteOfDay = new Date(base).getUTCHours() * 60 + new Date(base).getUTCMinutes();
    if (minuteOfDay >= 23 * 60 + 45) base -= 30 * 60_000;
    this.base = new Date(base);
  }
  /** ISO time `seconds` after the base, as CloudTrail writes it (no milliseconds). */
  at(seconds: number): string {
    return new Date(this.base.getTime() + seconds * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");
  }
  /** STS `credentials.expiration` is not ISO: "Nov 30, 2024, 8:43:17 PM". */
  expiration(seconds: number): string {
    const d = new Date(this.base.getTime() + seconds * 1000);
    const month = d.toLocaleString("en-US", { month: "short", timeZone: "UTC" });
    const h = d.getUTCHours();
    const pad = (n: number) => String(n).padStart(2, "0");
    return `${month} ${d.getUTCDate()}, ${d.getUTCFullYear()}, ${h % 12 || 12}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} ${h < 12 ? "AM" : "PM"}`;
  }
}

let idCounter = 0;
/** A fresh GUID-shaped event id per record, so scenarios never collide across tests. */
function eventId(tag: string): string {
  idCounter += 1;
  const n = `${process.pid.toString(16)}${idCounter.toString(16)}`.padStart(12, "0").slice(-12);
  return `e2e0${tag.padEnd(4, "0").slice(0, 4)}-0000-4000-8000-${n}`;
}

const tls = (host: string) => ({
  tlsVersion: "TLSv1.3",
  cipherSuite: "TLS_AES_128_GCM_SHA256",
  clientProvidedHostHeader: host,
});

// --- AI agent through the AWS-managed MCP server (§3.2): the server signs as the user ---

const MCP = "aws-mcp.amazonaws.com";
export const MCP_USER_ARN = `arn:aws:iam::${ACCOUNT}:user/agent-user`;

function mcpCall(
  clock: ScenarioClock,
  second: number,
  source: string,
  name: string,
  params: Rec | null,
  readOnly: boolean,
): Rec {
  return {
    eventVersion: "1.11",
    userIdentity: {
      type: "IAMUser",
      principalId: "AIDAEXAMPLEAGENTUSER1",
      arn: MCP_USER_ARN,
      accountId: ACCOUNT,
      accessKeyId: "AKIAEXAMPLEAGENTUSR1",
      userName: "agent-user",
      invokedBy: MCP,
    },
    eventTime: clock.at(second),
    eventSource: source,
    eventName: name,
    awsRegion: REGION,
    sourceIPAddress: MCP,
    userAgent: MCP,
    requestParameters: params,
    responseElements: null,
    requestID: eventId("req"),
    eventID: eventId("mcp"),
    readOnly,
    eventType: "AwsApiCall",
    managementEvent: true,
    recipientAccountId: ACCOUNT,
    eventCategory: "Management",
  };
}

/** Three calls through the MCP server: one read, two destructive. */
export function mcpAgentFile(clock: ScenarioClock): Rec[] {
  return [
    mcpCall(clock, 10, "sts.amazonaws.com", "GetCallerIdentity", null, true),
    mcpCall(
      clock,
      20,
      "ec2.amazonaws.com",
      "TerminateInstances",
      { instancesSet: { items: [{ instanceId: "i-0abcdef1234567890" }] } },
      false,
    ),
    mcpCall(clock, 30, "s3.amazonaws.com", "DeleteBucket", { bucketName: "example-build-artifacts" }, false),
  ];
}

// --- AI agent through session tags: a human assumes a role with AccessType=AI (§2.2), the agent uses it (§1.5) ---

export const AGENT_ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/agent-runner`;
export const AGENT_SESSION_ARN = `arn:aws:sts::${ACCOUNT}:assumed-role/agent-runner/claude-session-1`;
export const AGENT_ACCESS_KEY = "ASIAEXAMPLEAGENTKEY2";

export interface TaggedSessionScenario {
  /** The AssumeRole with the agent tag (the STS file). */
  stsFile: Rec[];
  /** The agent's calls with the issued credentials (another file, another region's delivery). */
  agentFile: Rec[];
  assumeRoleEventId: string;
  destructiveEventId: string;
}

export function taggedSessionScenario(
  clock: ScenarioClock,
  tag = { key: "AccessType", value: "AI" },
): TaggedSessionScenario {
  const assumeRoleEventId = eventId("sts");
  const assumeRole: Rec = {
    eventVersion: "1.08",
    userIdentity: {
      type: "IAMUser",
      principalId: "AIDAEXAMPLEALICE0001",
      arn: `arn:aws:iam::${ACCOUNT}:user/alice`,
      accountId: ACCOUNT,
      accessKeyId: "AKIAEXAMPLEALICE0001",
      userName: "alice",
    },
    eventTime: clock.at(60),
    eventSource: "sts.amazonaws.com",
    eventName: "AssumeRole",
    awsRegion: REGION,
    sourceIPAddress: "198.51.100.23",
    userAgent: "aws-cli/2.17.60 md/awscrt#0.21.2 ua/2.0 os/macos#23.6.0 md/arch#x86_64 lang/python#3.12.6",
    requestParameters: {
      roleArn: AGENT_ROLE_ARN,
      roleSessionName: "claude-session-1",
      tags: [{ key: tag.key, value: tag.value }],
      durationSeconds: 3600,
    },
    responseElements: {
      credentials: {
        accessKeyId: AGENT_ACCESS_KEY,
        expiration: clock.expiration(60 + 3600),
        sessionToken: "IQoJb3JpZ2luX2VjEXAMPLESESSIONTOKENEXAMPLESESSIONTOKEN",
      },
      assumedRoleUser: { assumedRoleId: "AROAEXAMPLEAGENTROLE:claude-session-1", arn: AGENT_SESSION_ARN },
    },
    requestID: eventId("req"),
    eventID: assumeRoleEventId,
    readOnly: false,
    resources: [{ ARN: AGENT_ROLE_ARN, accountId: ACCOUNT, type: "AWS::IAM::Role" }],
    eventType: "AwsApiCall",
    managementEvent: true,
    recipientAccountId: ACCOUNT,
    eventCategory: "Management",
    tlsDetails: tls("sts.amazonaws.com"),
  };
  const identity = {
    type: "AssumedRole",
    principalId: "AROAEXAMPLEAGENTROLE:claude-session-1",
    arn: AGENT_SESSION_ARN,
    accountId: ACCOUNT,
    accessKeyId: AGENT_ACCESS_KEY,
    sessionContext: {
      sessionIssuer: {
        type: "Role",
        principalId: "AROAEXAMPLEAGENTROLE",
        arn: AGENT_ROLE_ARN,
        accountId: ACCOUNT,
        userName: "agent-runner",
      },
      webIdFederationData: {},
      attributes: { creationDate: clock.at(60), mfaAuthenticated: "false" },
    },
  };
  const call = (
    second: number,
    source: string,
    name: string,
    params: Rec | null,
    readOnly: boolean,
    id = eventId("agt"),
  ): Rec => ({
    eventVersion: "1.08",
    userIdentity: structuredClone(identity),
    eventTime: clock.at(second),
    eventSource: source,
    eventName: name,
    awsRegion: "eu-west-1",
    sourceIPAddress: "203.0.113.77",
    userAgent:
      "Boto3/1.35.0 md/Botocore#1.35.0 ua/2.0 os/linux#6.8.0 md/arch#x86_64 lang/python#3.12.3 cfg/retry-mode#legacy Botocore/1.35.0",
    requestParameters: params,
    responseElements: null,
    requestID: eventId("req"),
    eventID: id,
    readOnly,
    eventType: "AwsApiCall",
    managementEvent: true,
    recipientAccountId: ACCOUNT,
    eventCategory: "Management",
    tlsDetails: tls(`${source.split(".")[0]}.eu-west-1.amazonaws.com`),
  });
  const destructiveEventId = eventId("agd");
  return {
    stsFile: [assumeRole],
    agentFile: [
      call(120, "dynamodb.amazonaws.com", "ListTables", null, true),
      call(
        130,
        "dynamodb.amazonaws.com",
        "DeleteTable",
        { tableName: "orders-staging" },
        false,
        destructiveEventId,
      ),
    ],
    assumeRoleEventId,
    destructiveEventId,
  };
}

// --- humans and AWS services ---

export const HUMAN_USER_ARN = `arn:aws:iam::${ACCOUNT}:user/christophe`;

export function humanAndServiceFile(clock: ScenarioClock): { records: Rec[]; consoleLogin: Rec } {
  // §1.4 (SRT): an IAM user reading a secret with the CLI.
  const getSecret: Rec = {
    awsRegion: REGION,
    eventCategory: "Management",
    eventID: eventId("hum"),
    eventName: "GetSecretValue",
    eventSource: "secretsmanager.amazonaws.com",
    eventTime: clock.at(200),
    eventType: "AwsApiCall",
    eventVersion: "1.09",
    managementEvent: true,
    readOnly: true,
    recipientAccountId: ACCOUNT,
    requestID: eventId("req"),
    requestParameters: { secretId: `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:prod-db-4Rzn83` },
    responseElements: null,
    sourceIPAddress: "198.51.100.10",
    tlsDetails: tls(`secretsmanager.${REGION}.amazonaws.com`),
    userAgent: "aws-cli/2.17.60 md/awscrt#0.21.2 ua/2.0 os/linux#6.8.0 md/arch#x86_64 lang/python#3.12.6",
    userIdentity: {
      accessKeyId: "AKIAEXAMPLECHRIS0001",
      accountId: ACCOUNT,
      arn: HUMAN_USER_ARN,
      principalId: "AIDAEXAMPLECHRIS0001",
      type: "IAMUser",
      userName: "christophe",
    },
  };
  // A human's failed call: an access denial by a human.
  const denied: Rec = {
    ...structuredClone(getSecret),
    eventID: eventId("den"),
    eventTime: clock.at(205),
    requestID: eventId("req"),
    eventSource: "iam.amazonaws.com",
    eventName: "ListUsers",
    errorCode: "AccessDenied",
    errorMessage: `User: ${HUMAN_USER_ARN} is not authorized to perform: iam:ListUsers on resource: arn:aws:iam::${ACCOUNT}:user/`,
    requestParameters: null,
  };
  // Real console sign-in (invictus), moved in time and into this account.
  const consoleLogin = corpusRecord("ConsoleLogin");
  consoleLogin.eventTime = clock.at(210);
  consoleLogin.recipientAccountId = ACCOUNT;
  (consoleLogin.userIdentity as Rec).accountId = ACCOUNT;
  (consoleLogin.userIdentity as Rec).arn = `arn:aws:iam::${ACCOUNT}:user/bert-jan`;
  // An AWS service assuming an instance role (§2.4).
  const serviceAssumeRole: Rec = {
    eventVersion: "1.08",
    userIdentity: { type: "AWSService", invokedBy: "ec2.amazonaws.com" },
    eventTime: clock.at(220),
    eventSource: "sts.amazonaws.com",
    eventName: "AssumeRole",
    awsRegion: REGION,
    sourceIPAddress: "ec2.amazonaws.com",
    userAgent: "ec2.amazonaws.com",
    requestParameters: {
      roleArn: `arn:aws:iam::${ACCOUNT}:role/web-instance-role`,
      roleSessionName: "i-0123456789abcdef0",
    },
    responseElements: {
      credentials: {
        accessKeyId: "ASIAEXAMPLESERVICE03",
        expiration: clock.expiration(220 + 21600),
        sessionToken: "IQoJb3JpZ2luX2VjEXAMPLESERVICETOKENEXAMPLESERVICETOKEN",
      },
      assumedRoleUser: {
        assumedRoleId: "AROAEXAMPLEWEBROLE01:i-0123456789abcdef0",
        arn: `arn:aws:sts::${ACCOUNT}:assumed-role/web-instance-role/i-0123456789abcdef0`,
      },
    },
    requestID: eventId("req"),
    eventID: eventId("svc"),
    readOnly: true,
    resources: [
      { ARN: `arn:aws:iam::${ACCOUNT}:role/web-instance-role`, accountId: ACCOUNT, type: "AWS::IAM::Role" },
    ],
    eventType: "AwsApiCall",
    managementEvent: true,
    recipientAccountId: ACCOUNT,
    sharedEventID: eventId("shr"),
    eventCategory: "Management",
  };
  return { records: [getSecret, denied, consoleLogin, serviceAssumeRole], consoleLogin };
}

/** Tampering: a human stops the trail (real invictus record, made successful: errorCode dropped). */
export function tamperingFile(clock: ScenarioClock): Rec[] {
  const stop = corpusRecord("StopLogging");
  delete stop.errorCode;
  delete stop.errorMessage;
  stop.eventID = eventId("tmp");
  stop.eventTime = clock.at(300);
  stop.recipientAccountId = ACCOUNT;
  stop.requestParameters = { name: `arn:aws:cloudtrail:${REGION}:${ACCOUNT}:trail/org-trail` };
  stop.userIdentity = {
    ...(stop.userIdentity as Rec),
    accountId: ACCOUNT,
    arn: `arn:aws:iam::${ACCOUNT}:user/bert-jan`,
  };
  return [stop];
}

// --- delivery envelopes ---

export function trailFile(records: Rec[]): Buffer {
  return gzipSync(Buffer.from(JSON.stringify({ Records: records })));
}

let fileCounter = 0;
/** A trail object key as CloudTrail writes it (aws-formats.md §4.1). */
export function trailKey(clock: ScenarioClock, region = REGION): string {
  fileCounter += 1;
  const d = clock.base;
  const yyyy = d.getUTCFullYear();
  const mm = String(d.getUTCMonth() + 1).padStart(2, "0");
  const dd = String(d.getUTCDate()).padStart(2, "0");
  const stamp = clock.at(600).replace(/[-:]/g, "").slice(0, 13);
  const unique = `E2e${process.pid}x${fileCounter}`.padEnd(16, "Q").slice(0, 16);
  return `AWSLogs/${ACCOUNT}/CloudTrail/${region}/${yyyy}/${mm}/${dd}/${ACCOUNT}_CloudTrail_${region}_${stamp}Z_${unique}.json.gz`;
}

export interface StoredObject {
  bucket: string;
  key: string;
  size: number;
  eTag: string;
}

/** The S3 event notification Lambda receives (aws-formats.md §4.4): keys URL-encoded, space as '+'. */
export function s3Notification(objects: StoredObject[]): Rec {
  return {
    Records: objects.map((o, i) => ({
      eventVersion: "2.1",
      eventSource: "aws:s3",
      awsRegion: REGION,
      eventTime: new Date().toISOString(),
      eventName: "ObjectCreated:Put",
      userIdentity: { principalId: "AWS:AROAEXAMPLECLOUDTRAIL:regionalDeliverySession" },
      requestParameters: { sourceIPAddress: "203.0.113.5" },
      responseElements: {
        "x-amz-request-id": `C3D13FE58DE4C81${i}`,
        "x-amz-id-2": "FMyUVURIY8/IgAtTv8xRjskZQpcIZ9KG4V5Wp6S7S",
      },
      s3: {
        s3SchemaVersion: "1.0",
        configurationId: "agenttrail-trail-notification",
        bucket: {
          name: o.bucket,
          ownerIdentity: { principalId: "A3NL1KOZZKExample" },
          arn: `arn:aws:s3:::${o.bucket}`,
        },
        object: {
          key: encodeURIComponent(o.key).replace(/%2F/g, "/").replace(/%20/g, "+"),
          size: o.size,
          eTag: o.eTag,
          sequencer: `0055AED6DCD90281E${i}`,
        },
      },
    })),
  };
}

/** An EventBridge event carrying one CloudTrail record (aws-formats.md §5.1). */
export function eventBridgeEvent(record: Rec, detailType = "AWS API Call via CloudTrail"): Rec {
  const source = `aws.${String(record.eventSource).split(".")[0]}`;
  return {
    version: "0",
    id: eventId("evb").replace(/^e2e0/, "6a7e"),
    "detail-type": detailType,
    source,
    account: ACCOUNT,
    time: record.eventTime,
    region: REGION,
    resources: [],
    detail: record,
  };
}

/** A Lambda SNS subscription's event: one message, as SNS invokes a subscribed function. */
export function snsLambdaEvent(message: Rec, topic = "cloudtrail-events"): Rec {
  const topicArn = `arn:aws:sns:${REGION}:${ACCOUNT}:${topic}`;
  return {
    Records: [
      {
        EventVersion: "1.0",
        EventSubscriptionArn: `${topicArn}:2bcfbf39-05c3-41de-beaa-fcfcc21c8f55`,
        EventSource: "aws:sns",
        Sns: {
          Type: "Notification",
          MessageId: eventId("sns"),
          TopicArn: topicArn,
          Subject: null,
          Message: JSON.stringify(message),
          Timestamp: new Date().toISOString(),
          SignatureVersion: "1",
          Signature: "EXAMPLE",
          SigningCertUrl: `https://sns.${REGION}.amazonaws.com/SimpleNotificationService-EXAMPLE.pem`,
          UnsubscribeUrl: `https://sns.${REGION}.amazonaws.com/?Action=Unsubscribe`,
          MessageAttributes: {},
        },
      },
    ],
  };
}

/** A human call that only EventBridge delivers (not in any file). */
export function eventBridgeOnlyRecord(clock: ScenarioClock): Rec {
  return {
    eventVersion: "1.09",
    userIdentity: {
      type: "IAMUser",
      principalId: "AIDAEXAMPLECHRIS0001",
      arn: HUMAN_USER_ARN,
      accountId: ACCOUNT,
      accessKeyId: "AKIAEXAMPLECHRIS0001",
      userName: "christophe",
    },
    eventTime: clock.at(400),
    eventSource: "ec2.amazonaws.com",
    eventName: "CreateTags",
    awsRegion: REGION,
    sourceIPAddress: "198.51.100.10",
    userAgent: "aws-cli/2.17.60 md/awscrt#0.21.2 ua/2.0 os/linux#6.8.0",
    requestParameters: {
      resourcesSet: { items: [{ resourceId: "i-0123456789abcdef0" }] },
      tagSet: { items: [{ key: "team", value: "web" }] },
    },
    responseElements: { _return: true },
    requestID: eventId("req"),
    eventID: eventId("ebo"),
    readOnly: false,
    eventType: "AwsApiCall",
    managementEvent: true,
    recipientAccountId: ACCOUNT,
    eventCategory: "Management",
  };
}

/**
 * A deterministic synthetic trail (seeded PRNG): gzipped `{"Records":[…]}` files with a realistic
 * mix — IAM users on CLI/SDK/Terraform/console, role sessions with their STS issuances (some tagged
 * AccessType=AI, some chained), calls through the AWS-managed MCP server, self-hosted MCP user
 * agents, AWS service principals, S3/DynamoDB data events, errors and access denials.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { seededRandom } from "../support/seeded-random.ts";

export interface CorpusSpec {
  records: number;
  perFile: number;
  seed: number;
}

const ACCOUNTS = ["111122223333", "444455556666", "777788889999"];
const REGIONS = ["us-east-1", "eu-west-1", "ap-southeast-2"];
const READS: [string, string][] = [
  ["ec2.amazonaws.com", "DescribeInstances"],
  ["ec2.amazonaws.com", "DescribeSecurityGroups"],
  ["s3.amazonaws.com", "ListBuckets"],
  ["iam.amazonaws.com", "GetRole"],
  ["lambda.amazonaws.com", "ListFunctions20150331"],
  ["sts.amazonaws.com", "GetCallerIdentity"],
  ["kms.amazonaws.com", "DescribeKey"],
  ["logs.amazonaws.com", "DescribeLogGroups"],
  ["cloudtrail.amazonaws.com", "LookupEvents"],
];
const WRITES: [string, string][] = [
  ["ec2.amazonaws.com", "RunInstances"],
  ["ec2.amazonaws.com", "CreateTags"],
  ["lambda.amazonaws.com", "UpdateFunctionCode20150331v2"],
  ["dynamodb.amazonaws.com", "UpdateTable"],
  ["ssm.amazonaws.com", "PutParameter"],
  ["s3.amazonaws.com", "PutBucketTagging"],
];
/** Rare in real trails, and what the rules look for: about 1 call in 500. */
const DANGEROUS: [string, string][] = [
  ["ec2.amazonaws.com", "TerminateInstances"],
  ["iam.amazonaws.com", "PutRolePolicy"],
  ["iam.amazonaws.com", "AttachRolePolicy"],
  ["dynamodb.amazonaws.com", "DeleteTable"],
  ["secretsmanager.amazonaws.com", "DeleteSecret"],
  ["kms.amazonaws.com", "ScheduleKeyDeletion"],
  ["ec2.amazonaws.com", "AuthorizeSecurityGroupIngress"],
  ["cloudtrail.amazonaws.com", "StopLogging"],
];
const DATA: [string, string][] = [
  ["s3.amazonaws.com", "GetObject"],
  ["s3.amazonaws.com", "PutObject"],
  ["s3.amazonaws.com", "DeleteObject"],
  ["dynamodb.amazonaws.com", "GetItem"],
  ["dynamodb.amazonaws.com", "PutItem"],
];
const AGENTS = [
  "Boto3/1.34.120 md/Botocore#1.34.120 ua/2.0 os/linux#6.8.0 md/arch#x86_64 lang/python#3.12.3 md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.34.120",
  "aws-cli/2.17.60 md/awscrt#0.21.2 ua/2.0 os/macos#23.6.0 md/arch#x86_64 lang/python#3.12.6 md/pyimpl#CPython cfg/retry-mode#standard md/installer#exe",
  "APN/1.0 HashiCorp/1.0 Terraform/1.7.5 (+https://www.terraform.io) terraform-provider-aws/5.40.0 aws-sdk-go-v2/1.25.3 os/linux lang/go#1.22.1",
  "aws-sdk-java/2.25.6 Linux/5.10.205 OpenJDK_64-Bit_Server_VM/17.0.10+7-LTS Java/17.0.10 vendor/Amazon.com_Inc. exec-env/AWS_ECS_FARGATE io/sync http/Apache",
];
const SELF_HOSTED_MCP =
  "Boto3/1.34.120 md/Botocore#1.34.120 md/awslabs#mcp#aws-api-mcp-server#1.0.2 md/via/aws-api-mcp-server MCPClient/claude-code#2.1.284 ua/2.0 os/linux#6.8.0";

/** `May 8, 2026, 10:05:00 AM`: how STS writes credentials.expiration. */
const STS_EXPIRATION = new Intl.DateTimeFormat("en-US", {
  month: "short",
  day: "numeric",
  year: "numeric",
  hour: "numeric",
  minute: "2-digit",
  second: "2-digit",
  timeZone: "UTC",
});

interface Session {
  account: string;
  role: string;
  name: string;
  key: string;
  issuedAt: number;
  ai: boolean;
}

export function generateCorpus(dir: string, spec: CorpusSpec): { files: string[]; records: number } {
  const rand = seededRandom(spec.seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
  const hex = (n: number) => Array.from({ length: n }, () => Math.floor(rand() * 16).toString(16)).join("");
  const upper = (n: number) =>
    Array.from({ length: n }, () => "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"[Math.floor(rand() * 32)]).join("");
  const uuid = () => `${hex(8)}-${hex(4)}-4${hex(3)}-a${hex(3)}-${hex(12)}`;
  const start = Date.UTC(2026, 4, 4, 0, 0, 0);
  const users = Array.from({ length: 40 }, (_, i) => ({
    name: `user-${i}`,
    account: ACCOUNTS[i % 3],
    key: `AKIA${upper(16)}`,
  }));
  const sessions: Session[] = [];
  mkdirSync(dir, { recursive: true });
  const files: string[] = [];
  let t = start;
  let written = 0;

  const userIdentityOfUser = (u: (typeof users)[number], extra: Record<string, unknown> = {}) => ({
    type: "IAMUser",
    principalId: `AIDA${u.key.slice(4)}`,
    arn: `arn:aws:iam::${u.account}:user/${u.name}`,
    accountId: u.account,
    accessKeyId: u.key,
    userName: u.name,
    ...extra,
  });
  const userIdentityOfSession = (s: Session) => ({
    type: "AssumedRole",
    principalId: `AROA${s.role.toUpperCase().padEnd(16, "X").slice(0, 16)}:${s.name}`,
    arn: `arn:aws:sts::${s.account}:assumed-role/${s.role}/${s.name}`,
    accountId: s.account,
    accessKeyId: s.key,
    sessionContext: {
      sessionIssuer: {
        type: "Role",
        principalId: "AROAEXAMPLE",
        arn: `arn:aws:iam::${s.account}:role/${s.role}`,
        accountId: s.account,
        userName: s.role,
      },
      webIdFederationData: {},
      attributes: {
        creationDate: new Date(s.issuedAt).toISOString().replace(".000", ""),
        mfaAuthenticated: "false",
      },
    },
  });

  const record = (
    userIdentity: unknown,
    service: string,
    name: string,
    region: string,
    account: string,
    ua: string,
    ip: string,
    o: Record<string, unknown> = {},
  ) => ({
    eventVersion: "1.11",
    userIdentity,
    eventTime: new Date(t).toISOString().replace(/\.\d{3}Z$/, "Z"),
    eventSource: service,
    eventName: name,
    awsRegion: region,
    sourceIPAddress: ip,
    userAgent: ua,
    requestParameters: o.requestParameters ?? { resourceId: `r-${hex(12)}`, maxResults: 100 },
    responseElements: o.responseElements ?? null,
    requestID: uuid(),
    eventID: uuid(),
    readOnly: o.readOnly ?? true,
    eventType: "AwsApiCall",
    managementEvent: o.category !== "Data",
    recipientAccountId: account,
    eventCategory: o.category ?? "Management",
    tlsDetails: {
      tlsVersion: "TLSv1.3",
      cipherSuite: "TLS_AES_128_GCM_SHA256",
      clientProvidedHostHeader: `${service.split(".")[0]}.${region}.amazonaws.com`,
    },
    ...(o.errorCode
      ? { errorCode: o.errorCode, errorMessage: "User is not authorized to perform this operation" }
      : {}),
  });

  const next = (): Record<string, unknown> => {
    t += Math.floor(rand() * 400);
    const region = pick(REGIONS);
    const roll = rand();
    if (roll < 0.03 || sessions.length < 5) {
      // An STS issuance: a human (or an agent launcher) assumes a role; 30% tagged as AI, some chained.
      const u = pick(users);
      const parent = rand() < 0.2 && sessions.length ? pick(sessions) : undefined;
      const ai = rand() < 0.3;
      const s: Session = {
        account: parent?.account ?? u.account,
        role: pick(["deploy", "agent-runner", "readonly", "ops"]),
        name: `${ai ? "task" : "sess"}-${hex(6)}`,
        key: `ASIA${upper(16)}`,
        issuedAt: t,
        ai: ai || (parent?.ai ?? false),
      };
      sessions.push(s);
      if (sessions.length > 400) sessions.shift();
      const requestParameters: Record<string, unknown> = {
        roleArn: `arn:aws:iam::${s.account}:role/${s.role}`,
        roleSessionName: s.name,
        durationSeconds: 3600,
      };
      if (ai)
        requestParameters.tags = [
          { key: "AccessType", value: "AI" },
          { key: "Team", value: "platform" },
        ];
      const exp = new Date(t + 3600_000);
      return record(
        parent ? userIdentityOfSession(parent) : userIdentityOfUser(u),
        "sts.amazonaws.com",
        "AssumeRole",
        "us-east-1",
        s.account,
        pick(AGENTS),
        "198.51.100.23",
        {
          requestParameters,
          responseElements: {
            credentials: {
              accessKeyId: s.key,
              sessionToken: `IQoJb3JpZ2luX2Vj${hex(120)}`,
              expiration: STS_EXPIRATION.format(exp),
            },
            assumedRoleUser: {
              assumedRoleId: `AROAEXAMPLE:${s.name}`,
              arn: `arn:aws:sts::${s.account}:assumed-role/${s.role}/${s.name}`,
            },
          },
        },
      );
    }
    if (roll < 0.45) {
      // A role-session call: reads mostly, some writes and data events, a few denials.
      const s = pick(sessions);
      const [service, name] =
        rand() < 0.7
          ? pick(READS)
          : rand() < 0.6
            ? pick(DATA)
            : rand() < 0.98
              ? pick(WRITES)
              : pick(DANGEROUS);
      const data =
        name === "GetObject" || name === "PutObject" || name === "DeleteObject" || name.endsWith("Item");
      return record(
        userIdentityOfSession(s),
        service,
        name,
        region,
        s.account,
        pick(AGENTS),
        "203.0.113.50",
        {
          readOnly: !/^(Put|Delete|Run|Terminate|Attach|Update|Schedule|Authorize|Stop|Create)/.test(name),
          category: data ? "Data" : "Management",
          errorCode: rand() < 0.02 ? "AccessDenied" : undefined,
        },
      );
    }
    if (roll < 0.55) {
      // The AWS-managed MCP server calling on a user's behalf.
      const u = pick(users);
      const [service, name] = pick(READS);
      return record(
        userIdentityOfUser(u, { invokedBy: "aws-mcp.amazonaws.com" }),
        service,
        name,
        region,
        u.account,
        "aws-mcp.amazonaws.com",
        "aws-mcp.amazonaws.com",
      );
    }
    if (roll < 0.6) {
      const u = pick(users);
      const [service, name] = pick(READS);
      return record(
        userIdentityOfUser(u),
        service,
        name,
        region,
        u.account,
        SELF_HOSTED_MCP,
        "198.51.100.91",
      );
    }
    if (roll < 0.72) {
      const svc = pick([
        "ec2.amazonaws.com",
        "lambda.amazonaws.com",
        "cloudtrail.amazonaws.com",
        "config.amazonaws.com",
      ]);
      const account = pick(ACCOUNTS);
      return record(
        { type: "AWSService", invokedBy: svc },
        "kms.amazonaws.com",
        pick(["Decrypt", "GenerateDataKey"]),
        region,
        account,
        svc,
        svc,
      );
    }
    const u = pick(users);
    const [service, name] = rand() < 0.8 ? pick(READS) : rand() < 0.99 ? pick(WRITES) : pick(DANGEROUS);
    return record(userIdentityOfUser(u), service, name, region, u.account, pick(AGENTS), "198.51.100.23", {
      readOnly: READS.some(([, n]) => n === name),
      errorCode: rand() < 0.03 ? "AccessDenied" : undefined,
    });
  };

  // One file per account and region, as CloudTrail delivers them; file names sort account- and
  // region-major like a bucket walk, so STS calls (us-east-1) often arrive after the calls they enable.
  const buffers = new Map<string, Record<string, unknown>[]>();
  const flush = (bufferKey: string) => {
    const records = buffers.get(bufferKey) ?? [];
    if (!records.length) return;
    const [account, region] = bufferKey.split("|");
    // Named as CloudTrail names them: delivered a few minutes after the file's last record.
    const delivered = new Date(t + (2 + Math.floor(rand() * 8)) * 60_000).toISOString();
    const stamp = `${delivered.slice(0, 4)}${delivered.slice(5, 7)}${delivered.slice(8, 10)}T${delivered.slice(11, 13)}${delivered.slice(14, 16)}Z`;
    const name = join(dir, `${account}_CloudTrail_${region}_${stamp}_${upper(16)}.json.gz`);
    writeFileSync(name, gzipSync(JSON.stringify({ Records: records })));
    files.push(name);
    buffers.set(bufferKey, []);
  };
  while (written < spec.records) {
    const r = next();
    const bufferKey = `${r.recipientAccountId}|${r.awsRegion}`;
    const list = buffers.get(bufferKey) ?? [];
    list.push(r);
    buffers.set(bufferKey, list);
    written++;
    if (list.length >= spec.perFile) flush(bufferKey);
  }
  for (const bufferKey of [...buffers.keys()]) flush(bufferKey);
  return { files, records: written };
}

import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { type ConfigInput, defaultConfig, parseConfig } from "../src/config.ts";
import { destructiveActions } from "../src/enrich/destructive.ts";
import { loggingReductionActions, securityDisableActions } from "../src/enrich/tampering.ts";
import { enrichEvents, FACT_NAMES, isAccessDenied } from "../src/enrich.ts";
import type { AuditEvent } from "../src/event.ts";
import { normaliseRecord } from "../src/normalise.ts";
import { ACCOUNT, auditEvents, call, iamUser } from "./support/records.ts";

/** Panther rule test cases (real-shaped CloudTrail records with an expected verdict). */
interface PantherCase {
  rule_id: string;
  test_name: string;
  expected: boolean;
  event: Record<string, unknown>;
}
const panther: PantherCase[] = readFileSync(
  new URL("./fixtures/corpus/panther-analysis/cases.jsonl", import.meta.url),
  "utf8",
)
  .split("\n")
  .filter((l) => l.trim())
  .map((l) => JSON.parse(l) as PantherCase);

/** Real records of the invictus-ir attack simulation, by eventID. */
const invictus = new Map<string, Record<string, unknown>>();
const invictusDir = new URL("./fixtures/corpus/invictus-ir-aws-dataset/CloudTrail/", import.meta.url);
for (const file of readdirSync(invictusDir)) {
  if (!file.endsWith(".json")) continue;
  const doc = JSON.parse(readFileSync(new URL(file, invictusDir), "utf8")) as {
    Records: Record<string, unknown>[];
  };
  for (const r of doc.Records) invictus.set(String(r.eventID), r);
}
function invictusRecord(eventId: string): Record<string, unknown> {
  const r = invictus.get(eventId);
  if (!r) throw new Error(`no invictus-ir record ${eventId}`);
  return r;
}

function pantherRecord(ruleId: string, testName: string): Record<string, unknown> {
  const c = panther.find((x) => x.rule_id === ruleId && x.test_name === testName);
  if (!c) throw new Error(`no Panther case ${ruleId} / ${testName}`);
  return c.event;
}

function enrich(records: Record<string, unknown>[], config = defaultConfig): AuditEvent[] {
  const events = auditEvents(records);
  enrichEvents(events, config);
  return events;
}

function factsOf(record: Record<string, unknown>, config = defaultConfig): Record<string, unknown> {
  return enrich([record], config)[0].facts;
}

const agentRole = {
  type: "AssumedRole",
  principalId: "AROAEXAMPLEAGENT0001:agent-session",
  arn: `arn:aws:sts::${ACCOUNT}:assumed-role/agent-role/agent-session`,
  accountId: ACCOUNT,
  accessKeyId: "ASIAEXAMPLEAGENT0001",
  sessionContext: {
    sessionIssuer: {
      type: "Role",
      principalId: "AROAEXAMPLEAGENT0001",
      arn: `arn:aws:iam::${ACCOUNT}:role/service/agent-role`,
      accountId: ACCOUNT,
      userName: "agent-role",
    },
    attributes: { creationDate: "2026-11-18T10:00:00Z", mfaAuthenticated: "false" },
  },
};
const aliceUser = iamUser("alice", "AKIAEXAMPLEALICE0001");

/** A CloudTrail management-event record by alice (test/support/records.ts's `call`), a write unless said. */
function record(
  eventSource: string,
  eventName: string,
  requestParameters: unknown,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  const { eventTime = "2026-11-18T10:15:00Z", ...rest } = extra;
  return call(eventName, String(eventTime), aliceUser, {
    source: eventSource,
    requestParameters,
    readOnly: false,
    extra: rest,
  });
}

const at = (eventTime: string) => record("sts.amazonaws.com", "GetCallerIdentity", null, { eventTime });
const config = (input: ConfigInput) => parseConfig(input);

describe("time facts", () => {
  it("weekday business hours are on-hours with the default calendar (Mon–Fri 08:00–18:00 UTC)", () => {
    const f = factsOf(at("2026-11-18T10:15:00Z")); // Wednesday
    expect(f["time.offHours"]).toBe(false);
    expect(f["time.localHour"]).toBe(10);
    expect(f["time.weekday"]).toBe("wed");
    expect(f["time.localDate"]).toBe("2026-11-18");
  });

  it("start is inclusive, end is exclusive", () => {
    expect(factsOf(at("2026-11-18T07:59:59Z"))["time.offHours"]).toBe(true);
    expect(factsOf(at("2026-11-18T08:00:00Z"))["time.offHours"]).toBe(false);
    expect(factsOf(at("2026-11-18T17:59:59Z"))["time.offHours"]).toBe(false);
    expect(factsOf(at("2026-11-18T18:00:00Z"))["time.offHours"]).toBe(true);
  });

  it("weekends are off-hours all day", () => {
    const f = factsOf(at("2026-11-21T11:00:00Z")); // Saturday
    expect(f["time.offHours"]).toBe(true);
    expect(f["time.weekday"]).toBe("sat");
  });

  it("uses the configured time zone, across a DST change", () => {
    const ny = config({ businessHours: { timeZone: "America/New_York" } });
    // 2026-03-09 (Mon, after the switch to EDT, UTC-4): 12:30Z = 08:30 local
    const after = factsOf(at("2026-03-09T12:30:00Z"), ny);
    expect(after["time.localHour"]).toBe(8);
    expect(after["time.offHours"]).toBe(false);
    // 2026-03-06 (Fri, EST, UTC-5): 12:30Z = 07:30 local
    const before = factsOf(at("2026-03-06T12:30:00Z"), ny);
    expect(before["time.localHour"]).toBe(7);
    expect(before["time.offHours"]).toBe(true);
  });

  it("handles half-hour offsets and the local date (Asia/Kolkata, UTC+5:30)", () => {
    const india = config({ businessHours: { timeZone: "Asia/Kolkata" } });
    expect(factsOf(at("2026-11-18T02:29:00Z"), india)["time.offHours"]).toBe(true); // 07:59
    expect(factsOf(at("2026-11-18T02:30:00Z"), india)["time.offHours"]).toBe(false); // 08:00
    const late = factsOf(at("2026-11-20T19:00:00Z"), india); // Fri 19:00Z = Sat 00:30 local
    expect(late["time.weekday"]).toBe("sat");
    expect(late["time.localDate"]).toBe("2026-11-21");
  });

  it("holidays are off-hours in the configured zone's calendar", () => {
    const c = config({ businessHours: { timeZone: "Europe/Berlin", holidays: ["2026-12-24"] } });
    expect(factsOf(at("2026-12-24T10:00:00Z"), c)["time.offHours"]).toBe(true);
    expect(factsOf(at("2026-12-23T10:00:00Z"), c)["time.offHours"]).toBe(false);
    // 23:30Z on the 23rd is already the 24th in Berlin
    expect(factsOf(at("2026-12-23T23:30:00Z"), c)["time.localDate"]).toBe("2026-12-24");
  });

  it("custom days and an overnight window", () => {
    const night = config({ businessHours: { days: ["sat", "sun"], start: "22:00", end: "06:00" } });
    expect(factsOf(at("2026-11-21T23:00:00Z"), night)["time.offHours"]).toBe(false); // Sat 23:00
    expect(factsOf(at("2026-11-22T05:59:00Z"), night)["time.offHours"]).toBe(false); // Sun 05:59
    expect(factsOf(at("2026-11-21T12:00:00Z"), night)["time.offHours"]).toBe(true); // Sat noon
    expect(factsOf(at("2026-11-18T23:00:00Z"), night)["time.offHours"]).toBe(true); // Wed
  });

  it("gives the same answer for every minute of a cached 15-minute slot", () => {
    const c = config({ businessHours: { timeZone: "Asia/Kathmandu" } }); // UTC+5:45
    // 02:15Z = 08:00 local; walk the slot minute by minute from 02:00Z (07:45 local)
    const hours = Array.from({ length: 30 }, (_, m) => {
      const t = new Date(Date.UTC(2026, 10, 18, 2, m)).toISOString();
      return factsOf(at(t), c);
    });
    expect(hours.slice(0, 15).every((f) => f["time.offHours"] === true && f["time.localHour"] === 7)).toBe(
      true,
    );
    expect(hours.slice(15).every((f) => f["time.offHours"] === false && f["time.localHour"] === 8)).toBe(
      true,
    );
  });
});

describe("action.destructive / action.destructiveKind", () => {
  const cases: Array<[string, string, boolean, string?]> = [
    ["AWS.S3.DeleteObject", "DeleteObject", true, "delete"],
    ["AWS.S3.DeleteObject", "Other Event", false],
    ["AWS.S3.DeleteObjects", "DeleteObjects", true, "delete"],
    ["AWS.S3.BucketDeleted", "An S3 Bucket was deleted", true, "delete"],
    ["AWS.RDS.InstanceDeletion", "RDS Cluster Deleted", true, "delete"],
    ["AWS.RDS.InstanceDeletion", "Different RDS Event", false],
    ["AWS.RDS.SnapshotDeleted", "DB Cluster Snapshot Deleted", true, "delete"],
    ["AWS.RDS.SnapshotDeleted", "Different RDS Event", false],
    ["AWS.RDS.AutomatedBackupDeleted", "Automated Backup Deleted", true, "delete"],
    ["AWS.KMS.CustomerManagedKeyLoss", "KMS Key Disabled", true, "disable"],
    ["AWS.KMS.CustomerManagedKeyLoss", "KMS Key Scheduled For Deletion", true, "delete"],
    ["AWS.KMS.CustomerManagedKeyLoss", "KMS Key Non Deletion Event", false],
    ["AWS.S3.SuspendVersioning", "Versioning Suspended Successfully", true, "disable"],
    ["AWS.S3.SuspendVersioning", "Versioning Enabled", false],
    ["AWS.S3.SuspendVersioning", "Non-S3 Event", false],
    ["AWS.CloudTrail.ShortLifecycle", "1-Day Lifecycle Rule on Known CT Bucket", true, "expire"],
    ["AWS.CloudTrail.ShortLifecycle", "Disabled 1-Day Lifecycle Rule on Known CT Bucket", false],
    ["AWS.CloudTrail.ShortLifecycle", "730-Day Lifecycle Rule on Known CT Bucket", false],
    ["AWS.CloudTrail.Stopped", "CloudTrail Was Stopped", true, "disable"],
  ];
  it.each(cases)("Panther %s / %s → %s", (ruleId, testName, destructive, kind) => {
    const f = factsOf(pantherRecord(ruleId, testName));
    expect(f["action.destructive"]).toBe(destructive);
    expect(f["action.destructiveKind"]).toBe(kind);
  });

  it("matches on the version-stripped eventName (Lambda's DeleteFunction20150331)", () => {
    const f = factsOf(
      record("lambda.amazonaws.com", "DeleteFunction20150331", { functionName: "report-builder" }),
    );
    expect(f["action.destructive"]).toBe(true);
  });

  it("PurgeQueue purges; DeleteMessage (routine consumption) is not destructive", () => {
    const url = `https://sqs.us-east-1.amazonaws.com/${ACCOUNT}/orders`;
    expect(
      factsOf(record("sqs.amazonaws.com", "PurgeQueue", { queueUrl: url }))["action.destructiveKind"],
    ).toBe("purge");
    expect(
      factsOf(record("sqs.amazonaws.com", "DeleteMessage", { queueUrl: url }))["action.destructive"],
    ).toBe(false);
  });

  it("EC2 TerminateInstances terminates; CreateTags destroys nothing", () => {
    const terminate = record("ec2.amazonaws.com", "TerminateInstances", {
      instancesSet: { items: [{ instanceId: "i-0abc1234def567890" }] },
    });
    expect(factsOf(terminate)["action.destructiveKind"]).toBe("terminate");
    expect(
      factsOf(record("ec2.amazonaws.com", "CreateTags", { resourcesSet: {} }))["action.destructive"],
    ).toBe(false);
  });

  it("the same name under another service is not taken for a destructive call", () => {
    // DeleteTable is destructive for DynamoDB and Glue, not for an unrelated source
    expect(
      factsOf(record("dynamodb.amazonaws.com", "DeleteTable", { tableName: "t" }))["action.destructive"],
    ).toBe(true);
    expect(
      factsOf(record("example.amazonaws.com", "DeleteTable", { tableName: "t" }))["action.destructive"],
    ).toBe(false);
  });

  it("Route 53 record changes are destructive only when they delete", () => {
    const change = (action: string) =>
      record("route53.amazonaws.com", "ChangeResourceRecordSets", {
        hostedZoneId: "Z0123456789EXAMPLE",
        changeBatch: { changes: [{ action, resourceRecordSet: { name: "api.example.com.", type: "A" } }] },
      });
    expect(factsOf(change("DELETE"))["action.destructive"]).toBe(true);
    expect(factsOf(change("UPSERT"))["action.destructive"]).toBe(false);
  });

  it("RDS ModifyDBInstance is destructive only when it turns deletion protection off", () => {
    const modify = (p: Record<string, unknown>) => record("rds.amazonaws.com", "ModifyDBInstance", p);
    expect(
      factsOf(modify({ dBInstanceIdentifier: "db", deletionProtection: false }))["action.destructiveKind"],
    ).toBe("disable");
    expect(factsOf(modify({ dBInstanceIdentifier: "db", allocatedStorage: 100 }))["action.destructive"]).toBe(
      false,
    );
  });

  const dynamodb = (eventName: string, requestParameters: unknown) =>
    factsOf(record("dynamodb.amazonaws.com", eventName, requestParameters, { eventCategory: "Data" }));

  it("DynamoDB BatchWriteItem deletes when any request of any table deletes; puts alone do not", () => {
    const key = { pk: { S: "order#1" } };
    const put = { putRequest: { item: { pk: { S: "order#2" } } } };
    const batch = (requestItems: unknown) =>
      dynamodb("BatchWriteItem", { requestItems })["action.destructiveKind"];
    expect(batch({ orders: [put, { deleteRequest: { key } }] })).toBe("delete");
    expect(batch({ audit: [put], orders: [{ DeleteRequest: { Key: key } }] })).toBe("delete");
    expect(batch({ orders: [put, { PutRequest: { Item: key } }] })).toBeUndefined();
    expect(batch(undefined)).toBeUndefined();
  });

  it("DynamoDB TransactWriteItems deletes with a Delete operation (Developer Guide record shape)", () => {
    const item = (operation: string) => ({
      operation,
      tableName: "Music",
      key: { Artist: "No One You Know" },
    });
    const transact = (...ops: string[]) =>
      dynamodb("TransactWriteItems", { requestItems: ops.map(item) })["action.destructiveKind"];
    expect(transact("Put", "Update", "Delete", "ConditionCheck")).toBe("delete");
    expect(transact("Put", "Update", "ConditionCheck")).toBeUndefined();
  });

  it("DynamoDB PartiQL statements are destructive when they DELETE", () => {
    const statement = (text: unknown) =>
      dynamodb("ExecuteStatement", { statement: text })["action.destructive"];
    expect(statement(`DELETE FROM "orders" WHERE pk = 'order#1'`)).toBe(true);
    expect(statement(`  \n-- clean up\n/* old rows */ delete from orders WHERE pk = ***(Redacted)`)).toBe(
      true,
    );
    // the Developer Guide's logged SELECT; UPDATE … REMOVE drops an attribute, not the item
    const select = "SELECT * FROM Music WHERE Artist = 'No One You Know' AND nonKeyAttr = ***(Redacted)";
    expect(statement(select)).toBe(false);
    expect(statement("UPDATE orders REMOVE note WHERE pk = 'order#1'")).toBe(false);
    expect(statement("-- DELETE FROM orders\nSELECT * FROM orders")).toBe(false);
    expect(statement("/* DELETE FROM orders")).toBe(false);
    expect(statement("DELETED_ROWS")).toBe(false);
    // redacted or absent: nothing says it deletes
    expect(statement("***(Redacted)")).toBe(false);
    expect(statement(undefined)).toBe(false);
    expect(statement(`${"/**/".repeat(20_000)}SELECT 1`)).toBe(false);

    const batch = (...texts: string[]) =>
      dynamodb("BatchExecuteStatement", { requestItems: texts.map((t) => ({ statement: t })) })[
        "action.destructive"
      ];
    const update = "UPDATE Music SET Album = ***(Redacted) WHERE Artist = 'No One You Know'";
    expect(batch(update, "INSERT INTO Music VALUE {'Artist' : ***(Redacted)}")).toBe(false);
    expect(batch(update, "DELETE FROM Music WHERE Artist = 'No One You Know'")).toBe(true);
    const transaction = (statement: string) =>
      dynamodb("ExecuteTransaction", { transactStatements: [{ statement }] })["action.destructive"];
    expect(transaction("DELETE FROM Music WHERE Artist = 'No One You Know'")).toBe(true);
    expect(transaction(update)).toBe(false);
  });

  it("the table is keyed by eventSource|eventName for many services", () => {
    const services = new Set(destructiveActions().map((a) => a.service));
    for (const s of [
      "s3",
      "dynamodb",
      "ec2",
      "rds",
      "lambda",
      "kms",
      "secretsmanager",
      "logs",
      "ecr",
      "eks",
    ]) {
      expect(services.has(`${s}.amazonaws.com`)).toBe(true);
    }
    for (const s of [
      "ecs",
      "sqs",
      "sns",
      "cloudformation",
      "iam",
      "route53",
      "elasticfilesystem",
      "backup",
    ]) {
      expect(services.has(`${s}.amazonaws.com`)).toBe(true);
    }
  });
});

describe("action.target", () => {
  it("groups S3 object deletes by bucket", () => {
    expect(factsOf(pantherRecord("AWS.S3.DeleteObjects", "DeleteObjects"))["action.target"]).toBe(
      "s3:example-bucket",
    );
  });

  it("names DynamoDB tables, also from a backup ARN", () => {
    expect(
      factsOf(record("dynamodb.amazonaws.com", "DeleteItem", { tableName: "orders" }))["action.target"],
    ).toBe("dynamodb:orders");
    const backupArn = `arn:aws:dynamodb:us-east-1:${ACCOUNT}:table/orders/backup/01700000000000-abcdef12`;
    expect(factsOf(record("dynamodb.amazonaws.com", "DeleteBackup", { backupArn }))["action.target"]).toBe(
      "dynamodb:orders",
    );
  });

  it("names the tables of DynamoDB batch and transaction writes, sorted", () => {
    const target = (eventName: string, requestItems: unknown) =>
      factsOf(record("dynamodb.amazonaws.com", eventName, { requestItems }))["action.target"];
    const remove = [{ deleteRequest: { key: { pk: { S: "1" } } } }];
    expect(target("BatchWriteItem", { orders: remove })).toBe("dynamodb:orders");
    expect(
      target("BatchWriteItem", {
        orders: remove,
        audit: remove,
        [`arn:aws:dynamodb:us-east-1:${ACCOUNT}:table/carts`]: remove,
      }),
    ).toBe("dynamodb:audit,carts,orders");
    const transact = [
      { operation: "Put", tableName: "Music", key: {} },
      { operation: "Delete", TableName: "Music", key: {} },
    ];
    expect(target("TransactWriteItems", transact)).toBe("dynamodb:Music");
  });

  it("names a PartiQL statement's table by the record's resources", () => {
    const f = factsOf(
      record(
        "dynamodb.amazonaws.com",
        "ExecuteStatement",
        { statement: "DELETE FROM Music WHERE Artist = 'No One You Know'" },
        {
          resources: [
            {
              accountId: ACCOUNT,
              type: "AWS::DynamoDB::Table",
              ARN: `arn:aws:dynamodb:us-east-1:${ACCOUNT}:table/Music`,
            },
          ],
        },
      ),
    );
    expect(f["action.target"]).toBe("dynamodb:Music");
  });

  it("reduces ARNs and queue URLs to the resource name", () => {
    const fn = `arn:aws:lambda:us-east-1:${ACCOUNT}:function:report-builder`;
    expect(
      factsOf(record("lambda.amazonaws.com", "DeleteFunction20150331", { functionName: fn }))[
        "action.target"
      ],
    ).toBe("lambda:report-builder");
    const url = `https://sqs.us-east-1.amazonaws.com/${ACCOUNT}/orders`;
    expect(factsOf(record("sqs.amazonaws.com", "PurgeQueue", { queueUrl: url }))["action.target"]).toBe(
      "sqs:orders",
    );
  });

  it("names a Route 53 Resolver query logging config by its id, also when a VPC is named too", () => {
    const target = (eventName: string, params: Record<string, string>) =>
      factsOf(record("route53resolver.amazonaws.com", eventName, params))["action.target"];
    expect(
      target("DeleteResolverQueryLogConfig", { resolverQueryLogConfigId: "rqlc-8ca61fe7c055415a" }),
    ).toBe("route53resolver:rqlc-8ca61fe7c055415a");
    expect(
      target("DisassociateResolverQueryLogConfig", {
        resourceId: "vpc-0a1b2c3d",
        resolverQueryLogConfigId: "rqlc-8ca61fe7c055415a",
      }),
    ).toBe("route53resolver:rqlc-8ca61fe7c055415a");
  });

  it("groups EC2 resources by region", () => {
    const terminate = record("ec2.amazonaws.com", "TerminateInstances", {
      instancesSet: { items: [{ instanceId: "i-0abc1234def567890" }] },
    });
    expect(factsOf(terminate)["action.target"]).toBe("ec2:us-east-1");
  });

  it("falls back to the resources list when no parameter names the target", () => {
    const f = factsOf(pantherRecord("AWS.KMS.CustomerManagedKeyLoss", "KMS Key Non Deletion Event"));
    expect(f["action.target"]).toBe("kms:1");
  });

  it("cuts names longer than 200 characters (record values are untrusted)", () => {
    const long = "x".repeat(5000);
    const target = factsOf(record("ssm.amazonaws.com", "DeleteParameter", { name: long }))["action.target"];
    expect(target).toBe(`ssm:${"x".repeat(200)}`);
    // A batch's tables, each short, are cut the same way once joined: a request may name 100 of them.
    const tables = Array.from({ length: 100 }, (_, i) => `orders-${String(i).padStart(2, "0")}`);
    const batch = factsOf(
      record("dynamodb.amazonaws.com", "BatchWriteItem", {
        requestItems: Object.fromEntries(tables.map((t) => [t, [{ deleteRequest: { key: {} } }]])),
      }),
    )["action.target"];
    expect(batch).toBe(`dynamodb:${tables.join(",").slice(0, 200)}`);
  });

  it("is absent when nothing names a target", () => {
    expect(factsOf(at("2026-11-18T10:00:00Z"))["action.target"]).toBeUndefined();
  });
});

describe("iam.selfModification / iam.target", () => {
  it("a role session changing the policy of the role it acts as (name compared case-insensitively)", () => {
    const f = factsOf(
      record(
        "iam.amazonaws.com",
        "PutRolePolicy",
        { roleName: "Agent-Role", policyName: "p", policyDocument: "{}" },
        {
          userIdentity: agentRole,
        },
      ),
    );
    expect(f["iam.selfModification"]).toBe(true);
    expect(f["iam.target"]).toBe("role/Agent-Role");
  });

  it("UpdateAssumeRolePolicy, permissions boundaries and ABAC tags on the own role", () => {
    for (const [name, extra] of [
      ["UpdateAssumeRolePolicy", { policyDocument: "{}" }],
      ["DeleteRolePermissionsBoundary", {}],
      ["TagRole", { tags: [{ key: "AccessLevel", value: "admin" }] }],
    ] as const) {
      const f = factsOf(
        record("iam.amazonaws.com", name, { roleName: "agent-role", ...extra }, { userIdentity: agentRole }),
      );
      expect(f["iam.selfModification"], name).toBe(true);
    }
  });

  it("changing another role is not self-modification (real invictus-ir PutRolePolicy shape)", () => {
    const f = factsOf(
      record("iam.amazonaws.com", "PutRolePolicy", {
        roleName: "stratus-red-team-ec2-get-password-data-role",
        policyDocument: '{"Statement":[{"Action":["ec2:Describe*"],"Effect":"Allow","Resource":"*"}]}',
        policyName: "inline-policy",
      }),
    );
    expect(f["iam.selfModification"]).toBe(false);
    expect(f["iam.target"]).toBe("role/stratus-red-team-ec2-get-password-data-role");
  });

  it("CreateAccessKey without userName acts on the calling IAM user", () => {
    const f = factsOf(record("iam.amazonaws.com", "CreateAccessKey", null));
    expect(f["iam.selfModification"]).toBe(true);
    expect(f["iam.target"]).toBe("user/alice");
  });

  it("CreateAccessKey for another user is not self-modification", () => {
    const f = factsOf(record("iam.amazonaws.com", "CreateAccessKey", { userName: "malicious-iam-user" }));
    expect(f["iam.selfModification"]).toBe(false);
    expect(f["iam.target"]).toBe("user/malicious-iam-user");
  });

  it("a user attaching a policy to itself, and adding itself to a group", () => {
    const attach = record("iam.amazonaws.com", "AttachUserPolicy", {
      userName: "alice",
      policyArn: "arn:aws:iam::aws:policy/AdministratorAccess",
    });
    expect(factsOf(attach)["iam.selfModification"]).toBe(true);
    expect(
      factsOf(record("iam.amazonaws.com", "AddUserToGroup", { userName: "alice", groupName: "admins" }))[
        "iam.selfModification"
      ],
    ).toBe(true);
  });

  it("a federated session changing the IAM user that issued its token", () => {
    const federated = {
      type: "FederatedUser",
      principalId: `${ACCOUNT}:agent-fed`,
      arn: `arn:aws:sts::${ACCOUNT}:federated-user/agent-fed`,
      accountId: ACCOUNT,
      accessKeyId: "ASIAEXAMPLEFED000001",
      sessionContext: {
        sessionIssuer: {
          type: "IAMUser",
          principalId: "AIDAEXAMPLEALICE0001",
          arn: aliceUser.arn,
          accountId: ACCOUNT,
          userName: "alice",
        },
        attributes: { creationDate: "2026-11-18T10:00:00Z", mfaAuthenticated: "false" },
      },
    };
    const f = factsOf(
      record(
        "iam.amazonaws.com",
        "PutUserPolicy",
        { userName: "alice", policyName: "p", policyDocument: "{}" },
        { userIdentity: federated },
      ),
    );
    expect(f["iam.selfModification"]).toBe(true);
  });

  it("a role of the same name in another account is not the caller's role", () => {
    const f = factsOf(
      record(
        "iam.amazonaws.com",
        "AttachRolePolicy",
        { roleName: "agent-role", policyArn: "arn:aws:iam::aws:policy/ReadOnlyAccess" },
        {
          userIdentity: agentRole,
          recipientAccountId: "999988887777",
        },
      ),
    );
    expect(f["iam.selfModification"]).toBe(false);
  });

  it("CreatePolicyVersion is self-modification only where the batch shows the policy attached to the caller", () => {
    const policyArn = `arn:aws:iam::${ACCOUNT}:policy/agent-policy`;
    const attach = record(
      "iam.amazonaws.com",
      "AttachRolePolicy",
      { roleName: "agent-role", policyArn },
      { userIdentity: agentRole },
    );
    const version = () =>
      record(
        "iam.amazonaws.com",
        "CreatePolicyVersion",
        { policyArn, policyDocument: "{}", setAsDefault: true },
        { userIdentity: agentRole },
      );
    const [, withAttach] = enrich([attach, version()]);
    expect(withAttach.facts["iam.selfModification"]).toBe(true);
    expect(withAttach.facts["iam.target"]).toBe(`policy/${policyArn}`);
    const [alone] = enrich([version()]);
    expect(alone.facts["iam.selfModification"]).toBe(false);
  });

  it("non-IAM calls have neither fact set to a target", () => {
    const f = factsOf(
      record(
        "s3.amazonaws.com",
        "PutBucketPolicy",
        { bucketName: "b", policy: "{}" },
        { userIdentity: agentRole },
      ),
    );
    expect(f["iam.selfModification"]).toBe(false);
    expect(f["iam.target"]).toBeUndefined();
  });
});

describe("logging.reduced", () => {
  it("Panther: event selectors that drop management events reduce logging; full ones do not", () => {
    expect(
      factsOf(pantherRecord("AWS.CloudTrail.EventSelectorsDisabled", "Event Selector Disabled"))[
        "logging.reduced"
      ],
    ).toBe(true);
    expect(
      factsOf(pantherRecord("AWS.CloudTrail.EventSelectorsDisabled", "Event Selector Enabled"))[
        "logging.reduced"
      ],
    ).toBe(false);
    expect(
      factsOf(pantherRecord("AWS.CloudTrail.EventSelectorsDisabled", "Uninteresting Event Type"))[
        "logging.reduced"
      ],
    ).toBe(false);
  });

  it("StopLogging and DeleteTrail always reduce logging; StartLogging does not", () => {
    expect(
      factsOf(pantherRecord("AWS.CloudTrail.Stopped", "CloudTrail Was Stopped"))["logging.reduced"],
    ).toBe(true);
    expect(
      factsOf(pantherRecord("AWS.CloudTrail.Stopped", "CloudTrail Was Started"))["logging.reduced"],
    ).toBe(false);
    expect(
      factsOf(record("cloudtrail.amazonaws.com", "DeleteTrail", { name: "org-trail" }))["logging.reduced"],
    ).toBe(true);
  });

  const put = (p: Record<string, unknown>) =>
    record("cloudtrail.amazonaws.com", "PutEventSelectors", { trailName: "org-trail", ...p });

  it("basic selectors: write-only or excluded event sources reduce logging", () => {
    const selector = (s: Record<string, unknown>) => ({
      eventSelectors: [
        {
          readWriteType: "All",
          includeManagementEvents: true,
          dataResources: [],
          excludeManagementEventSources: [],
          ...s,
        },
      ],
    });
    expect(factsOf(put(selector({})))["logging.reduced"]).toBe(false);
    expect(factsOf(put(selector({ readWriteType: "WriteOnly" })))["logging.reduced"]).toBe(true);
    expect(
      factsOf(put(selector({ excludeManagementEventSources: ["kms.amazonaws.com"] })))["logging.reduced"],
    ).toBe(true);
  });

  it("advanced selectors: empty, or management events filtered, reduce logging", () => {
    const mgmt = {
      name: "Management events",
      fieldSelectors: [{ field: "eventCategory", equals: ["Management"] }],
    };
    expect(factsOf(put({ advancedEventSelectors: [] }))["logging.reduced"]).toBe(true);
    expect(factsOf(put({ advancedEventSelectors: [mgmt] }))["logging.reduced"]).toBe(false);
    const readOnlyOnly = {
      fieldSelectors: [...mgmt.fieldSelectors, { field: "readOnly", equals: ["true"] }],
    };
    expect(factsOf(put({ advancedEventSelectors: [readOnlyOnly] }))["logging.reduced"]).toBe(true);
    const dataOnly = {
      fieldSelectors: [
        { field: "eventCategory", equals: ["Data"] },
        { field: "resources.type", equals: ["AWS::S3::Object"] },
      ],
    };
    expect(factsOf(put({ advancedEventSelectors: [dataOnly] }))["logging.reduced"]).toBe(true);
  });

  it("UpdateTrail turning off multi-region, global events or validation, or moving the bucket", () => {
    const update = (p: Record<string, unknown>) =>
      record("cloudtrail.amazonaws.com", "UpdateTrail", { name: "org-trail", ...p });
    expect(factsOf(update({ isMultiRegionTrail: false }))["logging.reduced"]).toBe(true);
    expect(factsOf(update({ includeGlobalServiceEvents: false }))["logging.reduced"]).toBe(true);
    expect(factsOf(update({ enableLogFileValidation: false }))["logging.reduced"]).toBe(true);
    expect(factsOf(update({ s3BucketName: "attacker-bucket" }))["logging.reduced"]).toBe(true);
    expect(
      factsOf(update({ enableLogFileValidation: true, snsTopicName: "trail-topic" }))["logging.reduced"],
    ).toBe(false);
  });

  it("UpdateTrail making an organization trail single-account; making it one is no reduction", () => {
    const update = (p: Record<string, unknown>) =>
      record("cloudtrail.amazonaws.com", "UpdateTrail", { name: "org-trail", ...p });
    expect(factsOf(update({ isOrganizationTrail: false }))["logging.reduced"]).toBe(true);
    expect(factsOf(update({ isOrganizationTrail: true }))["logging.reduced"]).toBe(false);
  });

  it("PutInsightSelectors with no selectors turns Insights off", () => {
    const insights = (s: unknown[]) =>
      record("cloudtrail.amazonaws.com", "PutInsightSelectors", { trailName: "t", insightSelectors: s });
    expect(factsOf(insights([]))["logging.reduced"]).toBe(true);
    expect(factsOf(insights([{ insightType: "ApiCallRateInsight" }]))["logging.reduced"]).toBe(false);
  });

  it("VPC flow logs and Route 53 Resolver query logs deleted or detached; created or attached is no reduction", () => {
    expect(factsOf(invictusRecord("de58d903-38d7-4f30-a84b-b79d858e8376"))["logging.reduced"]).toBe(true); // DeleteFlowLogs
    expect(factsOf(invictusRecord("a3fbe842-f8df-4bb3-accf-1407cc925cbd"))["logging.reduced"]).toBe(false); // CreateFlowLogs
    expect(factsOf(pantherRecord("AWS.CloudTrail.DNSLogsDeleted", "Logs Deleted"))["logging.reduced"]).toBe(
      true,
    );
    const association = {
      resolverQueryLogConfigId: "rqlc-8ca61fe7c055415a",
      resourceId: "vpc-0a1b2c3d4e5f67890",
    };
    const resolver = (name: string) =>
      factsOf(record("route53resolver.amazonaws.com", name, association))["logging.reduced"];
    expect(resolver("DisassociateResolverQueryLogConfig")).toBe(true);
    expect(resolver("AssociateResolverQueryLogConfig")).toBe(false);
  });

  it("PutBucketLogging without a logging target turns S3 server access logging off", () => {
    const bucketLogging = (test: string) =>
      factsOf(pantherRecord("AWS.S3.DisableBucketLogging", test))["logging.reduced"];
    // BucketLoggingStatus with xmlns alone: S3's empty element, logging off
    expect(bucketLogging("Bucket Logging Disabled Successfully")).toBe(true);
    // LoggingEnabled names the target bucket: logging on (or moved)
    expect(bucketLogging("Bucket Logging Enabled")).toBe(false);
    // no BucketLoggingStatus at all: the record does not say what was set
    expect(bucketLogging("Logging Field Missing")).toBe(false);
    // the same call name on another service
    expect(
      factsOf(pantherRecord("AWS.S3.SecurityControlDisabling", "No Match - Non-S3 Event"))["logging.reduced"],
    ).toBe(false);
    // Panther's non-S3 case has no requestParameters, so it is false whatever the service: the same
    // body that turns logging off on S3 is none on another eventSource (the table keys by eventSource)
    const off = {
      bucketName: "critical-data-bucket",
      BucketLoggingStatus: { xmlns: "http://s3.amazonaws.com/doc/2006-03-01/" },
    };
    expect(factsOf(record("s3.amazonaws.com", "PutBucketLogging", off))["logging.reduced"]).toBe(true);
    expect(factsOf(record("ec2.amazonaws.com", "PutBucketLogging", off))["logging.reduced"]).toBe(false);
  });
});

describe("security.serviceDisabled / security.service", () => {
  it("Panther: Config delivery channel deleted is disabling; created is not", () => {
    const deleted = factsOf(pantherRecord("AWS.ConfigService.DisabledDeleted", "Config Recorder Deleted"));
    expect(deleted["security.serviceDisabled"]).toBe(true);
    expect(deleted["security.service"]).toBe("config");
    const created = factsOf(
      pantherRecord("AWS.ConfigService.DisabledDeleted", "Config Recorder Delivery Channel Created"),
    );
    expect(created["security.serviceDisabled"]).toBe(false);
    expect(created["security.service"]).toBeUndefined();
  });

  it("GuardDuty: DeleteDetector, and UpdateDetector only with enable=false", () => {
    const gd = (name: string, p: Record<string, unknown>) =>
      factsOf(record("guardduty.amazonaws.com", name, p));
    expect(
      gd("DeleteDetector", { detectorId: "12abc34d567e8fa901bc2d34e56789f0" })["security.serviceDisabled"],
    ).toBe(true);
    expect(gd("UpdateDetector", { detectorId: "d", enable: false })["security.serviceDisabled"]).toBe(true);
    expect(gd("UpdateDetector", { detectorId: "d", enable: true })["security.serviceDisabled"]).toBe(false);
  });

  it("Macie: pausing the session disables it; changing the publishing frequency does not", () => {
    expect(
      factsOf(record("macie2.amazonaws.com", "UpdateMacieSession", { status: "PAUSED" }))["security.service"],
    ).toBe("macie");
    expect(factsOf(pantherRecord("AWS.Macie.Evasion", "UpdateSession"))["security.serviceDisabled"]).toBe(
      false,
    );
  });

  it("Security Hub, Config recorder and Access Analyzer", () => {
    expect(
      factsOf(record("securityhub.amazonaws.com", "DisableSecurityHub", {}))["security.serviceDisabled"],
    ).toBe(true);
    expect(
      factsOf(
        record("config.amazonaws.com", "StopConfigurationRecorder", { configurationRecorderName: "default" }),
      )["security.serviceDisabled"],
    ).toBe(true);
    expect(
      factsOf(record("access-analyzer.amazonaws.com", "DeleteAnalyzer", { analyzerName: "org" }))[
        "security.service"
      ],
    ).toBe("access-analyzer");
    expect(factsOf(record("securityhub.amazonaws.com", "GetFindings", {}))["security.serviceDisabled"]).toBe(
      false,
    );
  });
});

describe("action.destructive agrees with logging.reduced and security.serviceDisabled", () => {
  // Calls that blind the defenders are destructive exactly when tampering.ts says they blind: the two
  // lists once drifted apart (GuardDuty features, flow logs, member accounts were tampering only).
  const calls: Array<[string, string, string | undefined, Record<string, unknown>]> = [
    [
      "guardduty",
      "UpdateDetector",
      "disable",
      { detectorId: "d", features: [{ name: "S3_DATA_EVENTS", status: "DISABLED" }] },
    ],
    [
      "guardduty",
      "UpdateDetector",
      undefined,
      { detectorId: "d", features: [{ name: "S3_DATA_EVENTS", status: "ENABLED" }] },
    ],
    ["guardduty", "DeleteMembers", "delete", { detectorId: "d", accountIds: ["111122223333"] }],
    ["guardduty", "DisassociateMembers", "disable", { detectorId: "d", accountIds: ["111122223333"] }],
    [
      "ec2",
      "DeleteFlowLogs",
      "delete",
      { DeleteFlowLogsRequest: { FlowLogId: { content: "fl-1", tag: 1 } } },
    ],
    [
      "route53resolver",
      "DisassociateResolverQueryLogConfig",
      "disable",
      { resolverQueryLogConfigId: "q", resourceId: "vpc-1" },
    ],
    [
      "s3",
      "PutBucketLogging",
      "disable",
      { bucketName: "b", BucketLoggingStatus: { xmlns: "http://s3.amazonaws.com/doc/2006-03-01/" } },
    ],
    [
      "s3",
      "PutBucketLogging",
      undefined,
      { bucketName: "b", BucketLoggingStatus: { LoggingEnabled: { TargetBucket: "logs" } } },
    ],
    [
      "securityhub",
      "UpdateStandardsControl",
      "disable",
      { standardsControlArn: "arn", controlStatus: "DISABLED" },
    ],
    ["cloudtrail", "UpdateTrail", "disable", { name: "t", isMultiRegionTrail: false }],
    ["cloudtrail", "DeleteTrail", "delete", { name: "t" }],
  ];
  it.each(calls)("%s %s → %s", (prefix, name, kind, params) => {
    const f = factsOf(record(`${prefix}.amazonaws.com`, name, params));
    expect(f["action.destructiveKind"]).toBe(kind);
    expect(f["action.destructive"]).toBe(
      f["logging.reduced"] === true || f["security.serviceDisabled"] === true,
    );
  });

  it("no call that can blind the defenders is also in the destructive table (judged in one place)", () => {
    const listed = destructiveActions().map((a) => `${a.service}|${a.action}`);
    expect(listed.length).toBe(new Set(listed).size);
    for (const { service, action } of [...loggingReductionActions(), ...securityDisableActions()])
      expect(listed, `${service} ${action}`).toContain(`${service}|${action}`);
  });
});

describe("error.accessDenied", () => {
  it("Panther: AccessDenied and VPC-endpoint denials; no error code is not denied", () => {
    expect(
      factsOf(
        pantherRecord("AWS.CloudTrail.UnauthorizedAPICall", "Unauthorized API Call from Within AWS (IP)"),
      )["error.accessDenied"],
    ).toBe(true);
    expect(
      factsOf(pantherRecord("AWS.CloudTrail.VPCE.AccessDenied", "VPC Endpoint Access Denied"))[
        "error.accessDenied"
      ],
    ).toBe(true);
    expect(
      factsOf(pantherRecord("AWS.CloudTrail.UnauthorizedAPICall", "Authorized API Call"))[
        "error.accessDenied"
      ],
    ).toBe(false);
  });

  it("EC2's Client.UnauthorizedOperation and AccessDeniedException count; other errors do not", () => {
    expect(isAccessDenied("Client.UnauthorizedOperation")).toBe(true);
    expect(isAccessDenied("UnauthorizedOperation")).toBe(true);
    expect(isAccessDenied("AccessDeniedException")).toBe(true);
    expect(isAccessDenied("ThrottlingException")).toBe(false);
    expect(isAccessDenied("NoSuchEntity")).toBe(false);
    const denied = record(
      "ec2.amazonaws.com",
      "DescribeInstances",
      {},
      {
        errorCode: "Client.UnauthorizedOperation",
        errorMessage: "You are not authorized to perform this operation.",
      },
    );
    expect(factsOf(denied)["error.accessDenied"]).toBe(true);
    const failed = record(
      "rds.amazonaws.com",
      "DeleteDBSnapshot",
      { dBSnapshotIdentifier: "s" },
      { errorCode: "InvalidDBSnapshotState" },
    );
    expect(factsOf(failed)["error.accessDenied"]).toBe(false);
  });
});

describe("enrichEvents", () => {
  it("sets every boolean fact on every event and only documented fact names", () => {
    const [e] = enrich([at("2026-11-18T10:00:00Z")]);
    for (const name of [
      "time.offHours",
      "action.destructive",
      "iam.selfModification",
      "logging.reduced",
      "security.serviceDisabled",
      "error.accessDenied",
    ]) {
      expect(typeof e.facts[name], name).toBe("boolean");
    }
    // (what JSON writes agrees with what is read by name: the next test)
    const written = Object.keys(JSON.parse(JSON.stringify(e.facts)) as Record<string, unknown>);
    expect(written).toContain("action.destructive");
  });

  it("facts read in any order agree with their JSON form: the facts that apply, in FACT_NAMES order", () => {
    const records = [
      ...panther.map((c) => c.event).filter((r) => normaliseRecord(r, { source: "t", index: 0 }).ok),
      record("s3.amazonaws.com", "DeleteBucket", { bucketName: "b" }),
      record("iam.amazonaws.com", "CreateAccessKey", null),
      record("ec2.amazonaws.com", "TerminateInstances", {}, { errorCode: "Client.UnauthorizedOperation" }),
    ];
    expect(records.length).toBeGreaterThan(50);
    const forward = enrich(records);
    const reversed = enrich(records);
    const backwards = [...FACT_NAMES].reverse();
    for (let i = 0; i < records.length; i++) {
      const read = backwards.map((name) => reversed[i].facts[name]);
      const json = JSON.parse(JSON.stringify(forward[i].facts)) as Record<string, unknown>;
      expect(JSON.stringify(reversed[i].facts)).toBe(JSON.stringify(forward[i].facts));
      expect(Object.keys(json)).toEqual(FACT_NAMES.filter((name) => json[name] !== undefined));
      backwards.forEach((name, k) => {
        expect(read[k], name).toEqual(json[name]);
      });
    }
  });

  it("every fact is documented in rules/README.md's derived-fields table", () => {
    const readme = readFileSync(new URL("../rules/README.md", import.meta.url), "utf8");
    for (const name of FACT_NAMES) expect(readme, name).toContain(`| \`${name}\` |`);
  });

  it("replaces earlier facts when an event is enriched again", () => {
    const [e] = enrich([record("s3.amazonaws.com", "DeleteBucket", { bucketName: "b" })]);
    e.facts.stale = true;
    enrichEvents([e], defaultConfig);
    expect(e.facts.stale).toBeUndefined();
    expect(e.facts["action.destructive"]).toBe(true);
  });
});

describe("facts on real invictus-ir records", () => {
  it("destructive calls: TerminateInstances, DeleteFunction20150331, DeleteSecret, DeleteLogGroup, DeleteDBInstance", () => {
    const expectations: Array<[string, string, string]> = [
      ["2d893b1d-e8f2-499b-a558-cb927d9b48ea", "terminate", "ec2:us-east-1"],
      ["134ef1d9-d57e-4e3a-955a-b773468afca9", "delete", "lambda:stratus-red-team-backdoor-f-func"],
      [
        "dbf59de5-4d63-4aca-9fce-a657f5df89c9",
        "delete",
        "secretsmanager:stratus-red-team-retrieve-secret-7-nFvpuv",
      ],
      ["349b65f9-1932-4258-a52e-476cf4fcf6d7", "delete", "logs:/stratus-red-team/vpc-flow-logs"],
      ["b5232796-c668-4d71-a006-d9cabb3d607d", "delete", "rds:terraform-20230710121504061500000001"],
    ];
    for (const [id, kind, target] of expectations) {
      const f = factsOf(invictusRecord(id));
      expect(f["action.destructiveKind"], id).toBe(kind);
      expect(f["action.target"], id).toBe(target);
    }
  });

  it("the whole dataset: creates and reads are never destructive; every successful Delete* of a tabled service is", () => {
    const events = enrich([...invictus.values()]);
    for (const e of events) {
      if (/^(Create|Describe|Get|List|Attach)/.test(e.action))
        expect(e.facts["action.destructive"], e.action).toBe(false);
    }
    const tabled = new Set(destructiveActions().map((a) => `${a.service}|${a.action}`));
    const deletes = events.filter(
      (e) => e.action.startsWith("Delete") && tabled.has(`${e.service}|${e.action}`),
    );
    expect(deletes.length).toBeGreaterThan(100);
    for (const e of deletes) expect(e.facts["action.destructive"]).toBe(true);
  });

  it("logging.reduced: the PutEventSelectors that drops management events, not the one restoring them", () => {
    expect(factsOf(invictusRecord("076e96d5-2983-473f-920a-2fc2d7e02777"))["logging.reduced"]).toBe(true);
    expect(factsOf(invictusRecord("3d6df238-f83c-4a34-bea8-45cf80a2050b"))["logging.reduced"]).toBe(false);
    expect(factsOf(invictusRecord("c0057a42-1625-4b1d-9db5-352f931f790a"))["logging.reduced"]).toBe(true); // DeleteTrail
  });

  it("the 1-day lifecycle rule on the trail bucket (Stratus cloudtrail-lifecycle-rule) expires data", () => {
    const lifecycle = [...invictus.values()].find((r) => r.eventName === "PutBucketLifecycle");
    expect(lifecycle).toBeDefined();
    const f = factsOf(lifecycle as Record<string, unknown>);
    expect(f["action.destructiveKind"]).toBe("expire");
    expect(f["action.target"]).toBe("s3:stratus-red-team-ctlr-bucket-zqfsvooxqj");
  });

  it("iam: bert-jan changes other identities, never his own", () => {
    const events = enrich([...invictus.values()].filter((r) => r.eventSource === "iam.amazonaws.com"));
    const targeted = events.filter((e) => e.facts["iam.target"] !== undefined);
    expect(targeted.length).toBeGreaterThan(10);
    expect(events.every((e) => e.facts["iam.selfModification"] === false)).toBe(true);
    expect(factsOf(invictusRecord("64b7de64-bf53-47ae-b7e3-d30cb1b5136e"))["iam.target"]).toBe(
      "user/stratus-red-team-backdoor-u-user",
    );
  });

  it("error.accessDenied matches AccessDenied and Client.UnauthorizedOperation, not throttling or not-found", () => {
    const events = enrich([...invictus.values()].filter((r) => typeof r.errorCode === "string"));
    const byCode = new Map<string, boolean>();
    for (const e of events) byCode.set(e.error?.code ?? "", e.facts["error.accessDenied"] as boolean);
    expect(byCode.get("AccessDenied")).toBe(true);
    expect(byCode.get("Client.UnauthorizedOperation")).toBe(true);
    expect(byCode.get("ThrottlingException")).toBe(false);
    expect(byCode.get("NoSuchBucketPolicy")).toBe(false);
    expect(byCode.get("TrailNotFoundException")).toBe(false);
  });
});

describe("hostile request parameters", () => {
  // An object with its own toString/valueOf makes String() and Number() throw: once, that failed
  // the whole batch. Every fact must be computable for it, with the same value as for absent data.
  const hostile = { toString: 1, valueOf: 1 };
  const cases: [string, string, unknown][] = [
    [
      "s3.amazonaws.com",
      "PutBucketLifecycle",
      {
        bucketName: "b",
        LifecycleConfiguration: {
          Rule: [
            {
              Status: hostile,
              Expiration: { Days: hostile, Date: hostile },
              NoncurrentVersionExpiration: { NoncurrentDays: hostile },
            },
          ],
        },
      },
    ],
    [
      "route53.amazonaws.com",
      "ChangeResourceRecordSets",
      { changeBatch: { changes: [{ action: hostile }] } },
    ],
    [
      "cloudtrail.amazonaws.com",
      "PutEventSelectors",
      {
        trailName: "t",
        advancedEventSelectors: [{ fieldSelectors: [{ field: hostile, equals: [hostile] }] }],
      },
    ],
    ["securityhub.amazonaws.com", "UpdateStandardsControl", { controlStatus: hostile }],
    ["guardduty.amazonaws.com", "UpdateDetector", { detectorId: "d", features: [{ status: hostile }] }],
    [
      "dynamodb.amazonaws.com",
      "TransactWriteItems",
      { requestItems: [{ operation: hostile, tableName: "t" }] },
    ],
    ["dynamodb.amazonaws.com", "ExecuteStatement", { statement: hostile }],
    ["dynamodb.amazonaws.com", "BatchExecuteStatement", { requestItems: [{ statement: hostile }] }],
  ];

  /** The parameters with every hostile value left out (null in a list): data that says nothing. */
  const withoutHostile = (params: unknown) =>
    JSON.parse(JSON.stringify(params, (_key, v) => (v === hostile ? undefined : v))) as unknown;

  it.each(cases)("%s %s: every fact computes, none taken from the hostile values", (source, name, params) => {
    const facts = factsOf(record(source, name, params));
    const absent = factsOf(record(source, name, withoutHostile(params)));
    for (const fact of FACT_NAMES) expect([fact, facts[fact]]).toEqual([fact, absent[fact]]);
    // Only the selector list with no management selector left reduces logging (and so destroys).
    expect(facts["action.destructive"]).toBe(facts["logging.reduced"]);
    expect(facts["logging.reduced"]).toBe(name === "PutEventSelectors");
    expect(facts["security.serviceDisabled"]).toBe(false);
  });
});

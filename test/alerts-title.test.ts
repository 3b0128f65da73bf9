import { describe, expect, it } from "vitest";
import { actionParts, actorPhrase, alertTitle, type TitleInput } from "../src/alerts/title.ts";
import { type EventSpec, makeEvent, makeRule } from "./support/alert-events.ts";

function title(
  rule: Parameters<typeof makeRule>[0],
  specs: Partial<EventSpec>[],
  count = specs.length,
): string {
  const events = specs.map((s, i) => makeEvent({ id: `t${i}`, time: `2026-11-20T10:0${i}:00Z`, ...s }));
  const input: TitleInput = {
    rule: makeRule(rule),
    events,
    actor: events[0].actor,
    count,
    firstSeen: events[0].time,
    lastSeen: events[events.length - 1].time,
  };
  return alertTitle(input);
}

describe("actionParts", () => {
  it("reads verb and resource from API names", () => {
    expect(actionParts("DeleteDBInstance")).toMatchObject({
      verb: "deleted",
      noun: "DB instance",
      contained: false,
    });
    expect(actionParts("TerminateInstances")).toMatchObject({
      verb: "terminated",
      noun: "instance",
      contained: false,
    });
    expect(actionParts("BatchDeleteItem")).toMatchObject({ verb: "deleted", noun: "item", contained: true });
    expect(actionParts("DeleteObjects")).toMatchObject({ verb: "deleted", noun: "object", contained: true });
    expect(actionParts("DeletePolicies")?.noun).toBe("policy");
    expect(actionParts("DeleteVpcs")?.noun).toBe("VPC");
    expect(actionParts("RevokeSecurityGroupEgress")?.noun).toBe("security group egress rule");
    expect(actionParts("AttachUserPolicy")).toMatchObject({ infinitive: "attach", preposition: "to" });
    expect(actionParts("ScheduleKeyDeletion")).toMatchObject({
      verb: "scheduled deletion of",
      noun: "KMS key",
      contained: false,
    });
    expect(actionParts("ConsoleLogin")).toBeUndefined();
    expect(actionParts("Delete")).toBeUndefined();
  });
});

describe("actorPhrase", () => {
  it("names the kind of actor and how it called", () => {
    expect(actorPhrase({ kind: "ai", confidence: "high", via: "mcp-managed", evidence: [] })).toBe(
      "AI agent (via mcp-managed)",
    );
    expect(actorPhrase({ kind: "human", confidence: "high", via: "console", evidence: [] })).toBe(
      "Human (console)",
    );
    expect(
      actorPhrase({ kind: "service", confidence: "high", via: "service:s3.amazonaws.com", evidence: [] }),
    ).toBe("AWS service (s3.amazonaws.com)");
    expect(actorPhrase({ kind: "unknown", confidence: "low", via: "", evidence: [] })).toBe("Unknown actor");
  });
});

describe("alertTitle", () => {
  it("names a single deleted resource by its own name", () => {
    expect(title({}, [{ action: "DeleteBucket", requestParameters: { bucketName: "prod-reports" } }])).toBe(
      "AI agent (via aws-mcp) deleted bucket prod-reports as dev-alice",
    );
  });

  it("writes a title for a request whose parameters are hostile objects (own toString/valueOf)", () => {
    const hostile = { toString: 1, valueOf: 1 };
    const text = title({}, [
      { action: "DeleteBucket", requestParameters: { bucketName: hostile, bucket: [hostile] } },
    ]);
    expect(text).toMatch(/^AI agent \(via aws-mcp\) deleted/);
  });

  it("says whom a created resource is for when the target is not the resource itself", () => {
    expect(
      title({ id: "cis-access-key-created", title: "IAM access key created" }, [
        {
          action: "CreateAccessKey",
          service: "iam.amazonaws.com",
          kind: "human",
          display: "alice",
          requestParameters: { userName: "bob" },
          facts: { "action.target": "iam:bob" },
        },
      ]),
    ).toBe("IAM access key created: Human (console) created access key for bob as alice");
  });

  it("counts several calls on a regional EC2 group and lists mixed actions", () => {
    expect(
      title(
        {},
        Array.from({ length: 3 }, () => ({
          action: "TerminateInstances",
          service: "ec2.amazonaws.com",
          facts: { "action.target": "ec2:us-east-1" },
        })),
      ),
    ).toBe("AI agent (via aws-mcp) terminated 3 instances in us-east-1 as dev-alice");
    expect(title({}, [{ action: "DeleteBucket" }, { action: "DeleteObject" }])).toBe(
      "AI agent (via aws-mcp) made 2 calls (DeleteBucket and DeleteObject) on prod-reports as dev-alice",
    );
  });

  it("puts the article a noun is spoken with, and gives uncountable nouns no plural", () => {
    const inRegion = (action: string, n: number) =>
      title(
        {},
        Array.from({ length: n }, () => ({
          action,
          service: "ec2.amazonaws.com",
          facts: { "action.target": "ec2:us-east-1" },
        })),
      );
    const inRegionCases: Array<[action: string, count: number, phrase: string]> = [
      ["TerminateInstances", 1, "terminated an instance"],
      ["DeleteFlowLogs", 1, "deleted a flow log"],
      // NAT is said as a word: "a NAT gateway".
      ["DeleteNatGateway", 1, "deleted a NAT gateway"],
      ["CreateEgressOnlyInternetGateway", 1, "created an egress only internet gateway"],
      // The SSM agent's heartbeat: "15 instance informations" was the old reading.
      ["UpdateInstanceInformation", 15, "updated instance information 15 times"],
      ["UpdateInstanceInformation", 1, "updated instance information"],
    ];
    for (const [action, count, phrase] of inRegionCases) {
      expect(inRegion(action, count), `${action} ×${count}`).toBe(
        `AI agent (via aws-mcp) ${phrase} in us-east-1 as dev-alice`,
      );
    }
    // Acronyms are spelled out: "an SAML provider", "a DB instance"; "user" starts with a "yoo".
    const untargeted = (action: string) =>
      title({}, [{ action, service: "iam.amazonaws.com", facts: { "action.target": undefined } }]);
    expect(untargeted("CreateSAMLProvider")).toBe(
      "AI agent (via aws-mcp) created an SAML provider as dev-alice",
    );
    expect(untargeted("DeleteDBInstance")).toBe("AI agent (via aws-mcp) deleted a DB instance as dev-alice");
    expect(untargeted("CreateUser")).toBe("AI agent (via aws-mcp) created a user as dev-alice");
  });

  it("reads failed calls as attempts, with the error", () => {
    expect(
      title({}, [
        { action: "DeleteObject", errorCode: "AccessDenied" },
        { action: "DeleteObject", errorCode: "AccessDenied" },
      ]),
    ).toBe(
      "AI agent (via aws-mcp) tried to delete 2 objects in prod-reports as dev-alice (failed: AccessDenied)",
    );
    expect(
      title({ id: "cloudtrail-tampering", title: "Tampering" }, [
        {
          action: "StopLogging",
          service: "cloudtrail.amazonaws.com",
          kind: "human",
          via: "unknown",
          display: "user/bert-jan",
          errorCode: "TrailNotFoundException",
          requestParameters: { name: "ct-trail" },
          facts: { "action.target": "cloudtrail:ct-trail" },
        },
      ]),
    ).toBe(
      "Human tried to stop CloudTrail logging for trail ct-trail as user/bert-jan (failed: TrailNotFoundException)",
    );
  });

  it("says a call turned a log off only when it did, and names Resolver query logging calls", () => {
    const tampering = { id: "cloudtrail-tampering", title: "Tampering" };
    const bucketLogging = (off: boolean): Partial<EventSpec> => ({
      action: "PutBucketLogging",
      facts: { "action.target": "s3:prod-reports", "logging.reduced": off },
    });
    expect(title(tampering, [bucketLogging(true)])).toBe(
      "AI agent (via aws-mcp) turned off S3 server access logging for bucket prod-reports as dev-alice",
    );
    expect(title({}, [bucketLogging(false)])).toBe(
      "AI agent (via aws-mcp) set bucket logging on prod-reports as dev-alice",
    );
    // Only when every call of the group did: one that turned logging on reads by its API name.
    expect(title(tampering, [bucketLogging(true), bucketLogging(false)])).not.toContain("turned off");
    const resolver = (action: string): Partial<EventSpec> => ({
      action,
      service: "route53resolver.amazonaws.com",
      facts: { "action.target": "route53resolver:rqlc-1" },
    });
    expect(title(tampering, [resolver("DisassociateResolverQueryLogConfig")])).toBe(
      "AI agent (via aws-mcp) detached Route 53 Resolver query logging from a VPC as dev-alice",
    );
    expect(title(tampering, [resolver("DeleteResolverQueryLogConfig")])).toBe(
      "AI agent (via aws-mcp) deleted Route 53 Resolver query logging config rqlc-1 as dev-alice",
    );
  });

  it("phrases a call by its service and name: Fraud Detector's DeleteDetector is not GuardDuty's", () => {
    const tampering = { id: "cloudtrail-tampering", title: "Tampering" };
    const deleteDetector = (service: string): Partial<EventSpec> => ({
      action: "DeleteDetector",
      service,
      requestParameters: { detectorId: "d-1" },
      facts: { "action.target": "d-1" },
    });
    expect(title(tampering, [deleteDetector("guardduty.amazonaws.com")])).toBe(
      "AI agent (via aws-mcp) deleted GuardDuty detector d-1 as dev-alice",
    );
    expect(title({}, [deleteDetector("frauddetector.amazonaws.com")])).toBe(
      "AI agent (via aws-mcp) deleted detector d-1 as dev-alice",
    );
    // A group of both services' calls has no one phrase.
    const mixed = title({}, [
      deleteDetector("guardduty.amazonaws.com"),
      deleteDetector("frauddetector.amazonaws.com"),
    ]);
    expect(mixed).not.toContain("GuardDuty");
  });

  it("says a DynamoDB batch or PartiQL call deleted items only when it did", () => {
    const batch = (deletes: boolean): Partial<EventSpec> => ({
      action: "BatchWriteItem",
      service: "dynamodb.amazonaws.com",
      requestParameters: { requestItems: { orders: [{ [deletes ? "deleteRequest" : "putRequest"]: {} }] } },
      facts: { "action.target": "dynamodb:orders", "action.destructive": deletes },
    });
    expect(title({}, [batch(true), batch(true)])).toBe(
      "AI agent (via aws-mcp) deleted items with 2 BatchWriteItem calls in orders as dev-alice",
    );
    expect(title({}, [batch(false)])).toBe(
      "AI agent (via aws-mcp) called BatchWriteItem on orders as dev-alice",
    );
    // Only when every call of the group deleted: a put beside a delete is not said to delete.
    expect(title({}, [batch(true), batch(false)])).not.toContain("deleted items");
    const partiql: Partial<EventSpec> = {
      action: "ExecuteStatement",
      service: "dynamodb.amazonaws.com",
      requestParameters: { statement: "DELETE FROM orders WHERE id = ?" },
      facts: { "action.target": "dynamodb:orders", "action.destructive": true },
    };
    expect(title({}, [partiql])).toBe(
      "AI agent (via aws-mcp) deleted items with 1 ExecuteStatement call in orders as dev-alice",
    );
    // The same API name in another service (RDS Data API) is not read as a DynamoDB item write.
    expect(
      title({}, [{ ...partiql, service: "rds-data.amazonaws.com", facts: { "action.destructive": true } }]),
    ).not.toContain("deleted items");
  });

  it("names what a mixed group did apart from what it only tried", () => {
    const trail = (name: string, errorCode?: string): Partial<EventSpec> => ({
      action: "StopLogging",
      service: "cloudtrail.amazonaws.com",
      kind: "human",
      via: "unknown",
      display: "user/bert-jan",
      errorCode,
      requestParameters: { name },
      facts: { "action.target": `cloudtrail:${name}` },
    });
    expect(
      title({ id: "cloudtrail-tampering", title: "Tampering" }, [
        trail("audit", "AccessDenied"),
        trail("ops"),
      ]),
    ).toBe(
      "Human stopped CloudTrail logging for trail ops and tried to stop CloudTrail logging for trail audit as user/bert-jan (1 of 2 failed: AccessDenied)",
    );
    // This batch's numbers: the alert's count of 5 may include calls refused in earlier batches.
    expect(
      title(
        {},
        [
          { action: "DeleteObject" },
          { action: "DeleteObject", errorCode: "AccessDenied" },
          { action: "DeleteObject" },
        ],
        5,
      ),
    ).toBe(
      "AI agent (via aws-mcp) deleted 2 objects in prod-reports and tried to delete 1 object in prod-reports as dev-alice (1 of 3 failed: AccessDenied)",
    );
  });

  it("puts the right preposition before a target that is not the resource itself", () => {
    expect(
      title({ id: "cis-iam-policy-changes", title: "CIS 4.4: IAM policy changed" }, [
        {
          action: "AttachUserPolicy",
          service: "iam.amazonaws.com",
          kind: "human",
          display: "user/bert-jan",
          requestParameters: {
            userName: "malicious-iam-user",
            policyArn: "arn:aws:iam::aws:policy/AdministratorAccess",
          },
          facts: { "action.target": "iam:malicious-iam-user" },
        },
      ]),
    ).toBe(
      "CIS 4.4: IAM policy changed: Human (console) attached user policy to malicious-iam-user as user/bert-jan",
    );
    expect(
      title({ id: "cis-vpc-changes", title: "CIS 4.14: VPC changed" }, [
        {
          action: "DeleteVpc",
          service: "ec2.amazonaws.com",
          requestParameters: { vpcId: "vpc-1" },
          facts: { "action.target": "ec2:us-east-1" },
        },
        {
          action: "DeleteVpc",
          service: "ec2.amazonaws.com",
          requestParameters: { vpcId: "vpc-2" },
          facts: { "action.target": "ec2:us-east-1" },
        },
      ]),
    ).toBe("CIS 4.14: VPC changed: AI agent (via aws-mcp) deleted 2 VPCs in us-east-1 as dev-alice");
  });

  it("says an AI agent changed its own IAM identity", () => {
    expect(
      title({ id: "iam-self-modification", title: "IAM self-modification" }, [
        {
          action: "PutRolePolicy",
          service: "iam.amazonaws.com",
          display: "agent-session",
          requestParameters: { roleName: "agent-runner", policyName: "more" },
          facts: { "action.target": "iam:agent-runner" },
        },
      ]),
    ).toBe(
      "AI agent (via aws-mcp) changed its own IAM identity (PutRolePolicy on agent-runner) as agent-session",
    );
  });

  it("cleans hostile API names and target names", () => {
    const t = title({ id: "x", title: "Rule" }, [
      { action: "Evil\u001b[2J\r\nName", facts: { "action.target": "s3:bad\u202Ename\nx" } },
    ]);
    expect(t).toBe("Rule: AI agent (via aws-mcp) called Evil Name on badname x as dev-alice");
  });

  it("reads an API name that every object answers to (constructor, toString) as an unknown call", () => {
    const named = (action: string, facts: Record<string, unknown> = {}) =>
      title({ id: "x", title: "Rule" }, [{ action, facts: { "action.target": "s3:b", ...facts } }]);
    for (const action of ["constructor", "toString", "hasOwnProperty", "__proto__"]) {
      expect(named(action)).toBe(`Rule: AI agent (via aws-mcp) called ${action} on b as dev-alice`);
      expect(named(action, { "logging.reduced": true })).toBe(
        `Rule: AI agent (via aws-mcp) called ${action} on b as dev-alice`,
      );
    }
    // A verb looked up by the name's first word.
    expect(named("constructorBucket")).toBe(
      "Rule: AI agent (via aws-mcp) called constructorBucket on b as dev-alice",
    );
  });

  it("falls back to the rule title for a correlation without events in this batch", () => {
    const input: TitleInput = {
      rule: makeRule({ id: "corr", title: "Burst of calls" }),
      events: [],
      actor: { kind: "unknown", confidence: "low", via: "", evidence: [] },
      count: 25,
      firstSeen: new Date("2026-11-20T10:00:00Z"),
      lastSeen: new Date("2026-11-20T10:04:00Z"),
    };
    expect(alertTitle(input)).toBe("Burst of calls: Unknown actor (25 events)");
  });
});

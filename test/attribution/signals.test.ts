import { describe, expect, it } from "vitest";
import { ACCOUNT, call, iamUser } from "../support/records.ts";
import { replayBatches, verdictOf } from "../support/replay.ts";

const T = "2026-05-08T11:31:01Z";

async function verdict(record: Record<string, unknown>, config = {}) {
  const { byId } = await replayBatches([{ source: "t", records: [record] }], config);
  return verdictOf(byId, record.eventID as string);
}

describe("AWS-managed MCP servers", () => {
  it("marks a downstream call of the AWS MCP Server as AI with each field as evidence", async () => {
    const r = call(
      "DescribeInstances",
      T,
      iamUser("agent-user", "AKIAAGENTUSER0000001", { invokedBy: "aws-mcp.amazonaws.com" }),
      {
        sourceIp: "aws-mcp.amazonaws.com",
        userAgent: "aws-mcp.amazonaws.com",
      },
    );
    const a = await verdict(r);
    expect(a).toMatchObject({ kind: "ai", confidence: "high", via: "mcp-managed" });
    expect(a.evidence.map((e) => `${e.signal}=${e.value}`)).toEqual(
      expect.arrayContaining([
        "invokedBy=aws-mcp.amazonaws.com",
        "sourceIPAddress=aws-mcp.amazonaws.com",
        "userAgent=aws-mcp.amazonaws.com",
      ]),
    );
  });

  it("accepts any *-mcp.amazonaws.com service principal (EKS, ECS, SageMaker Unified Studio)", async () => {
    for (const server of [
      "eks-mcp.amazonaws.com",
      "ecs-mcp.amazonaws.com",
      "sagemaker-unified-studio-mcp.amazonaws.com",
    ]) {
      const r = call("ListClusters", T, iamUser("dev", undefined, { invokedBy: server }), {
        sourceIp: server,
        userAgent: server,
      });
      expect((await verdict(r)).kind).toBe("ai");
    }
  });

  it("does not take look-alikes or other services for MCP", async () => {
    const spoof = call("ListBuckets", T, iamUser("dev"), {
      userAgent: "aws-mcp.amazonaws.com.evil.example",
      sourceIp: "203.0.113.9",
    });
    expect((await verdict(spoof)).kind).toBe("human");
    const service = call(
      "Decrypt",
      T,
      iamUser("dev", undefined, { invokedBy: "secretsmanager.amazonaws.com" }),
      { sourceIp: "secretsmanager.amazonaws.com" },
    );
    expect(await verdict(service)).toMatchObject({ kind: "service", via: "service:secretsmanager" });
  });

  it("marks AwsMcpEvent tool-call records in both documented spellings", async () => {
    const docs = call("CallTool", T, iamUser("dev"), {
      source: "aws-mcp.us-east-1.api.aws",
      eventType: "AwsMcpEvent",
      extra: { eventCategory: "Data" },
    });
    const field = call("CallReadWriteTool", T, iamUser("dev"), {
      source: "aws-mcp.amazonaws.com",
      eventType: "AwsMcpEvent",
    });
    for (const r of [docs, field]) {
      const a = await verdict(r);
      expect(a).toMatchObject({ kind: "ai", confidence: "high", via: "mcp-managed" });
      expect(a.evidence).toContainEqual(
        expect.objectContaining({ signal: "eventType", value: "AwsMcpEvent" }),
      );
      expect(a.evidence).toContainEqual(
        expect.objectContaining({ signal: "eventSource", value: r.eventSource }),
      );
    }
  });
});

describe("user-agent markers (medium confidence)", () => {
  it("recognises self-hosted awslabs MCP servers in old and new user-agent forms", async () => {
    for (const ua of [
      "awslabs/mcp/AWS-API-MCP-server/0.2.1 Boto3/1.34.120",
      "Boto3/1.34.120 md/awslabs#mcp#aws-api-mcp-server#1.0.2 md/via/aws-api-mcp-server MCPClient/claude-code#2.1.284",
      "Botocore/1.34 awslabs/mcp/cloudwatch-mcp-server/0.0.4",
    ]) {
      expect(
        await verdict(call("GetCallerIdentity", T, iamUser("dev-carol"), { userAgent: ua })),
      ).toMatchObject({
        kind: "ai",
        confidence: "medium",
        via: "mcp-self-hosted",
      });
    }
  });

  it("recognises agent clients and configured markers, not ordinary tools", async () => {
    expect(
      (
        await verdict(
          call("ListBuckets", T, iamUser("d"), { userAgent: "claude-code/2.1.284 aws-sdk-js/3.6" }),
        )
      ).via,
    ).toBe("agent-client");
    const custom = call("ListBuckets", T, iamUser("d"), { userAgent: "aws-sdk-js/3.6 acme-copilot/1.0" });
    expect((await verdict(custom)).kind).toBe("human");
    expect((await verdict(custom, { agents: { userAgentMarkers: ["ACME-Copilot/"] } })).kind).toBe("ai");
    const terraform = call("ListBuckets", T, iamUser("d"), {
      userAgent: "APN/1.0 HashiCorp/1.0 Terraform/1.1.2",
    });
    expect(await verdict(terraform)).toMatchObject({ kind: "human", via: "iac" });
  });
});

describe("configured agent identities", () => {
  const session = (role: string, name: string, sourceIdentity?: string) => ({
    type: "AssumedRole",
    arn: `arn:aws:sts::${ACCOUNT}:assumed-role/${role}/${name}`,
    accountId: ACCOUNT,
    accessKeyId: "ASIAUNSEENSESSION001",
    sessionContext: {
      sessionIssuer: {
        type: "Role",
        arn: `arn:aws:iam::${ACCOUNT}:role/service/${role}`,
        userName: role,
        accountId: ACCOUNT,
      },
      ...(sourceIdentity ? { sourceIdentity } : {}),
    },
  });

  it("matches role names, role ARNs (with path), session-name and source-identity patterns", async () => {
    const r = call("ListBuckets", T, session("bedrock-agent", "task-7"));
    expect((await verdict(r)).kind).toBe("human");
    expect(await verdict(r, { agents: { roles: ["Bedrock-Agent"] } })).toMatchObject({
      kind: "ai",
      confidence: "high",
    });
    expect(
      (await verdict(r, { agents: { roles: [`arn:aws:iam::${ACCOUNT}:role/service/bedrock-agent`] } })).kind,
    ).toBe("ai");
    expect((await verdict(r, { agents: { roles: [`arn:aws:iam::${ACCOUNT}:role/other`] } })).kind).toBe(
      "human",
    );
    const mcp = call("ListBuckets", T, session("dev-role", "mcp-session-12"));
    expect((await verdict(mcp, { agents: { sessionNamePatterns: ["mcp-*"] } })).evidence).toContainEqual(
      expect.objectContaining({ signal: "agentSessionName", value: "mcp-session-12" }),
    );
    expect((await verdict(mcp, { agents: { sessionNamePatterns: ["agent-*"] } })).kind).toBe("human");
    const si = call("ListBuckets", T, session("dev-role", "x", "agent:copilot-7"));
    expect((await verdict(si, { agents: { sourceIdentityPatterns: ["agent:*"] } })).kind).toBe("ai");
  });
});

describe("services and people", () => {
  it("calls AWS service principals service and IAM users human", async () => {
    const svc = call(
      "AssumeRole",
      T,
      { type: "AWSService", invokedBy: "ec2.amazonaws.com" },
      { source: "sts.amazonaws.com", sourceIp: "ec2.amazonaws.com" },
    );
    expect(await verdict(svc)).toMatchObject({ kind: "service", confidence: "high", via: "service:ec2" });
    const noType = call(
      "RotationSucceeded",
      T,
      { accountId: ACCOUNT, invokedBy: "secretsmanager.amazonaws.com" },
      { eventType: "AwsServiceEvent" },
    );
    expect((await verdict(noType)).kind).toBe("service");
    const console = call("ListRoles", T, iamUser("dev"), {
      userAgent: "AWS Internal",
      extra: { sessionCredentialFromConsole: "true" },
    });
    expect(await verdict(console)).toMatchObject({ kind: "human", confidence: "high", via: "console" });
    expect(
      await verdict(call("GetCallerIdentity", T, { type: "Unknown", principalId: "Anonymous" })),
    ).toMatchObject({ kind: "unknown" });
  });

  it("does not call EC2 instance-profile sessions human", async () => {
    const instance = call("DescribeInstances", T, {
      type: "AssumedRole",
      arn: `arn:aws:sts::${ACCOUNT}:assumed-role/web/i-0a1b2c3d4e5f67890`,
      accountId: ACCOUNT,
      accessKeyId: "ASIAINSTANCE00000001",
      sessionContext: { ec2RoleDelivery: "2.0", sessionIssuer: { type: "Role", userName: "web" } },
    });
    expect(await verdict(instance)).toMatchObject({ kind: "unknown" });
  });

  it("does not park workload calls, and decides them the same whether or not the instance-profile AssumeRole was seen", async () => {
    const issuance = call(
      "AssumeRole",
      "2026-05-08T11:00:00Z",
      { type: "AWSService", invokedBy: "ec2.amazonaws.com" },
      {
        source: "sts.amazonaws.com",
        sourceIp: "ec2.amazonaws.com",
        requestParameters: {
          roleArn: `arn:aws:iam::${ACCOUNT}:role/web`,
          roleSessionName: "i-0a1b2c3d4e5f67890",
        },
        responseElements: {
          credentials: {
            accessKeyId: "ASIAINSTANCE00000001",
            expiration: "May 8, 2026, 5:00:00 PM",
            sessionToken: "x",
          },
        },
      },
    );
    const workloadCall = call("DescribeInstances", T, {
      type: "AssumedRole",
      arn: `arn:aws:sts::${ACCOUNT}:assumed-role/web/i-0a1b2c3d4e5f67890`,
      accountId: ACCOUNT,
      accessKeyId: "ASIAINSTANCE00000001",
      sessionContext: { ec2RoleDelivery: "2.0", sessionIssuer: { type: "Role", userName: "web" } },
    });
    const alone = await replayBatches([{ source: "a", records: [workloadCall] }]);
    expect(alone.results[0].stats.parked).toBe(0);
    const after = await replayBatches([
      { source: "a", records: [issuance] },
      { source: "b", records: [workloadCall] },
    ]);
    expect(verdictOf(after.byId, workloadCall.eventID as string)).toEqual(
      verdictOf(alone.byId, workloadCall.eventID as string),
    );
  });
});

describe("shared AI verdicts", () => {
  it("gives the calls of one identity with the same signals one verdict, and a call with other signals its own", async () => {
    const user = iamUser("agent-user", "AKIAAGENTUSER0000001");
    const claude = "claude-code/1.0.61 aws-sdk-js/3.614.0";
    const records = [
      call("DescribeInstances", "2026-05-08T11:31:01Z", user, { userAgent: claude }),
      call("DescribeVolumes", "2026-05-08T11:31:02Z", user, { userAgent: claude }),
      call(
        "ListBuckets",
        "2026-05-08T11:31:03Z",
        { ...user, invokedBy: "aws-mcp.amazonaws.com" },
        {
          userAgent: claude,
        },
      ),
      call("ListKeys", "2026-05-08T11:31:04Z", user, { userAgent: "kiro/0.2.13 aws-sdk-js/3.614.0" }),
    ];
    const { results } = await replayBatches([{ source: "t", records }]);
    const [a, b, mcp, kiro] = results[0].events.map((e) => e.actor);
    expect(b).toBe(a);
    expect(a.evidence.map((e) => `${e.signal}=${e.value}`)).toEqual(["userAgentMarker=claude-code/"]);
    expect(mcp).not.toBe(a);
    expect(mcp).toMatchObject({ kind: "ai", confidence: "high", via: "mcp-managed" });
    expect(mcp.evidence.map((e) => `${e.signal}=${e.value}`)).toEqual([
      "invokedBy=aws-mcp.amazonaws.com",
      "userAgentMarker=claude-code/",
    ]);
    expect(kiro.evidence.map((e) => `${e.signal}=${e.value}`)).toEqual(["userAgentMarker=kiro/"]);
  });
});

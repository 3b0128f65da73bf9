import { readFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { issuedTags, matchIssuance, SessionResolver } from "../../src/attribution/sessions.ts";
import { agentMatchers } from "../../src/attribution/signals.ts";
import { parseConfig } from "../../src/config.ts";
import { encodeParkedEvent } from "../../src/state/dynamo.ts";
import { MemoryStore } from "../../src/state/memory.ts";
import type { SessionRecord, Store } from "../../src/state/store.ts";
import {
  ACCOUNT,
  assumeRole,
  auditEvents,
  call,
  federatedUser,
  getFederationToken,
  getSessionToken,
  iamUser,
  roleSession,
  rootUser,
  withTemporaryKey,
} from "../support/records.ts";
import { type Batch, replayBatches, verdictOf } from "../support/replay.ts";

const alice = iamUser("dev-alice");
const bob = iamUser("dev-bob");
const AGENT_KEY = "ASIAAGENT00000000001";
const issued = assumeRole("2026-05-08T09:05:00Z", alice, "agent-runner", "claude-task-42", AGENT_KEY, {
  tags: { AccessType: "AI", Project: "reports" },
});
const agentCall = (time: string, key = AGENT_KEY, name = "ListBuckets") =>
  call(name, time, roleSession("agent-runner", "claude-task-42", key, "2026-05-08T09:05:00Z"), {
    source: "s3.amazonaws.com",
  });

const FEDERATED_KEY = "ASIAFEDAGENT00000001";
/** A call with the credentials dev-alice's GetFederationToken issued to "agent" ("" key: a trimmed export). */
const federatedCall = (time: string, key = FEDERATED_KEY) =>
  call("ListBuckets", time, federatedUser(alice, "agent", key, "2026-05-08T09:05:00Z"), {
    source: "s3.amazonaws.com",
  });

/** dev-alice assumes the same role under her own session name, and uses it. */
const humanIssued = assumeRole(
  "2026-05-08T09:06:10Z",
  alice,
  "agent-runner",
  "alice-debug",
  "ASIAHUMAN00000000001",
);
const humanCall = call(
  "ListBuckets",
  "2026-05-08T09:08:00Z",
  roleSession("agent-runner", "alice-debug", "ASIAHUMAN00000000001", "2026-05-08T09:06:10Z"),
);

const one = (...records: Record<string, unknown>[]): Batch[] => [{ source: "one", records }];

describe("session tags on STS issuances", () => {
  it("carries AccessType=AI from AssumeRole to the calls made with the issued key", async () => {
    const c = agentCall("2026-05-08T09:06:00Z");
    const { byId } = await replayBatches(one(issued, c));
    const a = verdictOf(byId, c.eventID as string);
    expect(a).toMatchObject({ kind: "ai", confidence: "high", via: "cli" });
    expect(a.evidence).toContainEqual(
      expect.objectContaining({ signal: "sessionTag", value: "AccessType=AI", issuedBy: issued.eventID }),
    );
    // The AssumeRole call itself was the human's.
    expect(verdictOf(byId, issued.eventID as string).kind).toBe("human");
  });

  it("uses the configured tag, keys case-insensitive", async () => {
    const custom = assumeRole("2026-05-08T09:05:00Z", alice, "agent-runner", "claude-task-42", AGENT_KEY, {
      tags: { "agent-kind": "copilot" },
    });
    const c = agentCall("2026-05-08T09:06:00Z");
    expect(verdictOf((await replayBatches(one(custom, c))).byId, c.eventID as string).kind).toBe("human");
    const cfg = { agents: { sessionTags: [{ key: "Agent-Kind", value: "copilot" }] } };
    expect(verdictOf((await replayBatches(one(custom, c), cfg)).byId, c.eventID as string).kind).toBe("ai");
  });

  it("reads principalTags of AssumeRoleWithSAML and incomingTransitiveTags", async () => {
    const saml = call(
      "AssumeRoleWithSAML",
      "2026-05-08T09:00:00Z",
      { type: "SAMLUser", principalId: "idp:bot", userName: "bot@example.com", identityProvider: "idp" },
      {
        source: "sts.amazonaws.com",
        requestParameters: {
          roleArn: `arn:aws:iam::${ACCOUNT}:role/sso-agent`,
          roleSessionName: "bot@example.com",
          principalTags: { AccessType: "AI" },
        },
        responseElements: {
          credentials: {
            accessKeyId: "ASIASAMLAGENT0000001",
            expiration: "May 8, 2026, 10:00:00 AM",
            sessionToken: "x",
          },
          assumedRoleUser: {
            arn: `arn:aws:sts::${ACCOUNT}:assumed-role/sso-agent/bot@example.com`,
            assumedRoleId: "AROA:bot",
          },
        },
      },
    );
    const samlCall = call(
      "ListBuckets",
      "2026-05-08T09:10:00Z",
      roleSession("sso-agent", "bot@example.com", "ASIASAMLAGENT0000001", "2026-05-08T09:00:00Z"),
    );
    const transitive = assumeRole(
      "2026-05-08T09:05:00Z",
      alice,
      "agent-runner",
      "claude-task-42",
      AGENT_KEY,
      { incomingTransitiveTags: { AccessType: "AI" } },
    );
    const c = agentCall("2026-05-08T09:06:00Z");
    const { byId } = await replayBatches(one(saml, samlCall, transitive, c));
    expect(verdictOf(byId, samlCall.eventID as string).kind).toBe("ai");
    expect(verdictOf(byId, c.eventID as string).kind).toBe("ai");
  });

  it("applies to the AWS docs role-chaining example with the configured tag", async () => {
    const docs = JSON.parse(
      readFileSync("test/fixtures/corpus/aws-docs/assumerole_examples_awsdocs.json", "utf8"),
    ) as { record: Record<string, unknown> }[];
    const chained = docs
      .map((d) => d.record)
      .find((r) => (r.requestParameters as Record<string, unknown>).incomingTransitiveTags);
    if (!chained) throw new Error("docs example missing");
    const resp = chained.responseElements as {
      credentials: { accessKeyId: string };
      assumedRoleUser: { arn: string };
    };
    const [, , , , , resource] = resp.assumedRoleUser.arn.split(":");
    const [, role, session] = resource.split("/");
    const downstream = call(
      "ListBuckets",
      "2019-10-02T22:30:00Z",
      roleSession(role, session, resp.credentials.accessKeyId, "2019-10-02T22:12:29Z", {
        account: "111111111111",
      }),
    );
    const plain = await replayBatches(one(chained, downstream));
    expect(verdictOf(plain.byId, downstream.eventID as string).kind).toBe("human");
    const tagged = await replayBatches(one(chained, downstream), {
      agents: { sessionTags: [{ key: "Department", value: "Engineering" }] },
    });
    expect(verdictOf(tagged.byId, downstream.eventID as string).evidence).toContainEqual(
      expect.objectContaining({
        signal: "sessionTag",
        value: "Department=Engineering",
        issuedBy: chained.eventID,
      }),
    );
  });

  it("finds no agent in the AWS docs AssumeRole examples under the default config", async () => {
    const docs = JSON.parse(
      readFileSync("test/fixtures/corpus/aws-docs/assumerole_examples_awsdocs.json", "utf8"),
    ) as { record: Record<string, unknown> }[];
    const { summary } = await replayBatches(one(...docs.map((d) => d.record)));
    expect(summary.byKind.ai).toBe(0);
    expect(summary.records.events).toBe(docs.length);
  });
});

describe("joining calls to issuances", () => {
  it("keeps a human who assumes the same role under another session human", async () => {
    const human = humanIssued;
    const c = humanCall;
    const { byId } = await replayBatches(one(issued, human, c));
    expect(verdictOf(byId, c.eventID as string)).toMatchObject({ kind: "human", confidence: "medium" });
  });

  it("falls back to the session ARN only within the credential's lifetime", async () => {
    const within = agentCall("2026-05-08T09:50:00Z", "");
    const after = agentCall("2026-05-08T11:30:00Z", "");
    const { byId } = await replayBatches(one(issued, within, after));
    expect(verdictOf(byId, within.eventID as string).kind).toBe("ai");
    expect(verdictOf(byId, after.eventID as string).kind).toBe("human");
  });

  it("gives GetFederationToken credentials STS's default lifetime, 12 hours, when the record has none", async () => {
    // Neither durationSeconds nor the expiration recorded (a trimmed export): only the default is left.
    const issuance = getFederationToken("2026-05-08T09:05:00Z", alice, "agent", FEDERATED_KEY, {
      tags: { AccessType: "AI" },
      hideExpiration: true,
    });
    // Without a key, a call joins by the federated-user ARN, and only within the credentials' lifetime.
    const twoHoursOn = federatedCall("2026-05-08T11:05:00Z", "");
    const pastLifetime = federatedCall("2026-05-08T21:11:00Z", ""); // 12 h and the 5 min of skew tolerated, and 1 min
    const { byId } = await replayBatches(one(issuance, twoHoursOn, pastLifetime));
    expect(verdictOf(byId, twoHoursOn.eventID as string)).toMatchObject({ kind: "ai", confidence: "high" });
    expect(verdictOf(byId, pastLifetime.eventID as string).kind).toBe("human");
  });

  it("does not join a different access key on the same session ARN", async () => {
    const other = agentCall("2026-05-08T09:30:00Z", "ASIAOTHERKEY00000001");
    const { byId } = await replayBatches(one(issued, other));
    expect(verdictOf(byId, other.eventID as string)).toMatchObject({ kind: "human", confidence: "low" });
  });

  it("calls a session name reused by a human after the agent's credentials expired human", async () => {
    const reuse = assumeRole(
      "2026-05-08T11:00:00Z",
      bob,
      "agent-runner",
      "claude-task-42",
      "ASIABOBREUSE00000001",
    );
    const c = call(
      "DescribeVpcs",
      "2026-05-08T11:30:00Z",
      roleSession("agent-runner", "claude-task-42", "", "2026-05-08T11:00:00Z"),
    );
    const { byId } = await replayBatches(one(issued, reuse, c));
    const a = verdictOf(byId, c.eventID as string);
    expect(a.kind).toBe("human");
    expect(a.evidence).toContainEqual(
      expect.objectContaining({ signal: "sessionIssuedBy", issuedBy: reuse.eventID }),
    );
  });

  it("scopes the join by account", async () => {
    const elsewhere = call(
      "ListBuckets",
      "2026-05-08T09:06:00Z",
      roleSession("agent-runner", "claude-task-42", AGENT_KEY, "2026-05-08T09:05:00Z", {
        account: "999988887777",
      }),
    );
    const noKey = call(
      "ListBuckets",
      "2026-05-08T09:06:01Z",
      roleSession("agent-runner", "claude-task-42", "", "2026-05-08T09:05:00Z", { account: "999988887777" }),
    );
    const { byId } = await replayBatches(one(issued, elsewhere, noKey));
    expect(verdictOf(byId, elsewhere.eventID as string).kind).toBe("human");
    expect(verdictOf(byId, noKey.eventID as string).kind).toBe("human");
  });
});

describe("role chaining and source identity", () => {
  const agentSession = roleSession("agent-runner", "claude-task-42", AGENT_KEY, "2026-05-08T09:05:00Z");
  const chain = assumeRole(
    "2026-05-08T09:07:30Z",
    agentSession,
    "reports-writer",
    "writer",
    "ASIAAGENTCHAIN000001",
  );
  /** A PutObject made in the chained session, logged by `source` (absent: call()'s default, EC2). */
  const chainedCallFrom = (source?: string) =>
    call(
      "PutObject",
      "2026-05-08T09:09:00Z",
      roleSession("reports-writer", "writer", "ASIAAGENTCHAIN000001", "2026-05-08T09:07:30Z"),
      { source },
    );
  const chainedCall = chainedCallFrom("s3.amazonaws.com");

  it("makes a session issued to an AI session AI, naming the parent", async () => {
    const { byId } = await replayBatches(one(issued, chain, chainedCall));
    const a = verdictOf(byId, chainedCall.eventID as string);
    expect(a).toMatchObject({ kind: "ai", confidence: "high" });
    expect(a.evidence).toContainEqual(
      expect.objectContaining({
        signal: "sessionTag",
        value: "AccessType=AI",
        issuedBy: issued.eventID,
        via: `arn:aws:sts::${ACCOUNT}:assumed-role/agent-runner/claude-task-42`,
      }),
    );
    expect(verdictOf(byId, chain.eventID as string).kind).toBe("ai");
  });

  it("resolves a chain whose files arrive last-first, across three batches", async () => {
    const { byId, results, store } = await replayBatches([
      { source: "calls", records: [chainedCall] },
      { source: "chain", records: [chain] },
      { source: "root", records: [issued] },
    ]);
    expect(results[0].events[0].actor.kind).toBe("human");
    expect(results[1].reattributed.map((e) => e.id)).toEqual([chainedCall.eventID]);
    expect(results[2].reattributed.map((e) => e.id).sort()).toEqual(
      [chain.eventID, chainedCall.eventID].sort(),
    );
    expect(verdictOf(byId, chainedCall.eventID as string).kind).toBe("ai");
    expect(
      (await store.parked([`arn:aws:sts::${ACCOUNT}:assumed-role/agent-runner/claude-task-42`])).size,
    ).toBe(0);
  });

  it("matches configured source identities carried through a chain", async () => {
    const root = assumeRole("2026-05-08T09:05:00Z", alice, "agent-runner", "claude-task-42", AGENT_KEY, {
      sourceIdentity: "agent:copilot",
    });
    const c = chainedCallFrom();
    const { byId } = await replayBatches(one(root, chain, c), {
      agents: { sourceIdentityPatterns: ["agent:*"] },
    });
    expect(verdictOf(byId, c.eventID as string).evidence).toContainEqual(
      expect.objectContaining({
        signal: "agentSourceIdentity",
        value: "agent:copilot",
        issuedBy: root.eventID,
      }),
    );
  });

  it("inherits an issuing call's own AI signal (an agent assuming a role through the managed MCP server)", async () => {
    const viaMcp = assumeRole(
      "2026-05-08T09:05:00Z",
      iamUser("agent-user", undefined, { invokedBy: "aws-mcp.amazonaws.com" }),
      "ops",
      "mcp-ops",
      "ASIAMCPOPS0000000001",
      {
        sourceIp: "aws-mcp.amazonaws.com",
        userAgent: "aws-mcp.amazonaws.com",
      },
    );
    const c = call(
      "DescribeVpcs",
      "2026-05-08T09:06:00Z",
      roleSession("ops", "mcp-ops", "ASIAMCPOPS0000000001", "2026-05-08T09:05:00Z"),
    );
    const { byId } = await replayBatches(one(viaMcp, c));
    const a = verdictOf(byId, c.eventID as string);
    expect(a).toMatchObject({ kind: "ai", via: "mcp-managed" });
    expect(a.evidence).toContainEqual(
      expect.objectContaining({
        signal: "issuer.invokedBy",
        value: "aws-mcp.amazonaws.com",
        issuedBy: viaMcp.eventID,
      }),
    );
  });
});

describe("park and resolve", () => {
  it("parks a call whose session is unknown and re-attributes it when the STS call arrives", async () => {
    const c = agentCall("2026-05-08T09:06:00Z");
    const { results, byId, summary } = await replayBatches([
      { source: "eu-west-1", records: [c] },
      { source: "us-east-1", records: [issued] },
    ]);
    expect(results[0].stats.parked).toBe(1);
    expect(results[0].events[0].actor).toMatchObject({ kind: "human", confidence: "low" });
    expect(results[1].stats.reattributed).toBe(1);
    expect(results[1].stats.parked).toBe(0);
    expect(verdictOf(byId, c.eventID as string).kind).toBe("ai");
    expect(summary.records.reattributed).toBe(1);
    expect(summary.records.unresolvedSessions).toBe(0);
  });

  it("sends a re-attributed event to detection again only when its actor kind changed", async () => {
    const seen: string[][] = [];
    const detector = {
      detect: async (events: { id: string }[]) => {
        seen.push(events.map((e) => e.id));
        return [];
      },
    };
    const tagged = agentCall("2026-05-08T09:06:00Z");
    const human = humanIssued;
    const { results } = await replayBatches(
      [
        { source: "calls", records: [tagged, humanCall] },
        { source: "sts", records: [issued, human] },
      ],
      {},
      detector,
    );
    expect(results[1].reattributed.map((e) => e.id).sort()).toEqual(
      [tagged.eventID, humanCall.eventID].sort(),
    );
    // humanCall stayed human: detection saw it once; the agent's call became AI: detected again.
    expect(seen[1].filter((id) => id === humanCall.eventID)).toEqual([]);
    expect(seen[1]).toContain(tagged.eventID);
  });

  it("keeps waiting when an issuance for the same ARN is not the call's", async () => {
    const c = agentCall("2026-05-08T12:30:00Z", "ASIALATERKEY00000001");
    const { results } = await replayBatches([
      { source: "a", records: [c] },
      { source: "b", records: [issued] },
    ]);
    expect(results[1].reattributed).toEqual([]);
    expect(results[1].stats.parked).toBe(1);
  });

  it("keeps no session token in a parked record that leaves the process", async () => {
    const chainedCaller = roleSession("agent-runner", "claude-task-42", AGENT_KEY, "2026-05-08T09:05:00Z");
    const child = assumeRole(
      "2026-05-08T09:07:30Z",
      chainedCaller,
      "reports-writer",
      "writer",
      "ASIAAGENTCHAIN000001",
    );
    const { store } = await replayBatches(one(child));
    const parked = await store.parked([`arn:aws:sts::${ACCOUNT}:assumed-role/agent-runner/claude-task-42`]);
    const [entry] = [...parked.values()].flat();
    expect(entry.eventId).toBe(child.eventID);
    const persisted = gunzipSync(encodeParkedEvent(entry)).toString("utf8");
    expect(persisted).toContain("ASIAAGENTCHAIN000001");
    expect(persisted).not.toContain("IQoJb3JpZ2luX2VjEXAMPLE");
  });
});

describe("GetSessionToken credentials", () => {
  const agentUser = iamUser("ci-agent");
  const agentUserArn = `arn:aws:iam::${ACCOUNT}:user/ci-agent`;
  const GST_KEY = "ASIAGSTAGENT00000001";
  const AGENT_USER_AGENT = "claude-code/2.1.284 aws-sdk-js/3.614.0";
  /** An agent (claude-code user agent) gets temporary credentials for its IAM user... */
  const agentGst = getSessionToken("2026-05-08T09:05:00Z", agentUser, GST_KEY, {
    userAgent: AGENT_USER_AGENT,
  });
  /** ...and another process (a plain aws-cli unless `userAgent` says otherwise, no AI marker) uses them. */
  const gstCall = (time: string, key = GST_KEY, userAgent?: string) =>
    call("ListBuckets", time, withTemporaryKey(agentUser, key, "2026-05-08T09:05:00Z"), {
      source: "s3.amazonaws.com",
      userAgent,
    });
  /** The root user with its long-term key, and with the temporary key its GetSessionToken issued. */
  const rootCaller = rootUser("AKIAROOT000000000001");
  const ROOT_GST_KEY = "ASIAGSTROOT000000001";
  const rootWithGstKey = withTemporaryKey(rootCaller, ROOT_GST_KEY, "2026-05-08T09:05:00Z");
  /** The issuances `store` holds under `arn` (none: empty). */
  const sessionsOf = async (store: Store, arn: string) => (await store.getSessions([arn])).get(arn) ?? [];
  const carriesAgentMarker = (a: { evidence: unknown[] }) =>
    expect(a.evidence).toContainEqual(
      expect.objectContaining({
        signal: "issuer.userAgentMarker",
        value: "claude-code/",
        issuedBy: agentGst.eventID,
      }),
    );

  it("learns the issuance under the caller's ARN with the issued key, and no session token", async () => {
    const { store } = await replayBatches(one(agentGst));
    const [record] = await sessionsOf(store, agentUserArn);
    expect(record).toMatchObject({
      api: "GetSessionToken",
      arn: agentUserArn,
      accessKeyId: GST_KEY,
      issuedBy: agentGst.eventID,
      issuedAt: Date.parse("2026-05-08T09:05:00Z"),
      expiresAt: Date.parse("2026-05-08T21:05:00Z"),
      issuerPrincipal: agentUserArn,
    });
    expect(JSON.stringify(record)).not.toContain("IQoJb3JpZ2lu");
    // requestParameters null and no expiration: STS's default lifetime, 43200 s.
    const bare = getSessionToken("2026-05-08T09:05:00Z", agentUser, GST_KEY, {
      userAgent: AGENT_USER_AGENT,
      hideExpiration: true,
    });
    const learned = await replayBatches(one(bare));
    const [fromDefault] = await sessionsOf(learned.store, agentUserArn);
    expect(fromDefault.expiresAt).toBe(Date.parse("2026-05-08T21:05:00Z"));
  });

  it("gives the root user's credentials an hour at most when the record has no expiration", async () => {
    const rootArn = `arn:aws:iam::${ACCOUNT}:root`;
    const expiryOf = async (durationSeconds: number | undefined) => {
      const gst = getSessionToken("2026-05-08T09:05:00Z", rootCaller, GST_KEY, {
        durationSeconds,
        hideExpiration: true,
      });
      const { store } = await replayBatches(one(gst));
      return (await sessionsOf(store, rootArn))[0]?.expiresAt;
    };
    // STS's 12-hour default and a longer request both give root one hour; a shorter one stands.
    expect(await expiryOf(undefined)).toBe(Date.parse("2026-05-08T10:05:00Z"));
    expect(await expiryOf(43_200)).toBe(Date.parse("2026-05-08T10:05:00Z"));
    expect(await expiryOf(900)).toBe(Date.parse("2026-05-08T09:20:00Z"));
    // The same hour for GetFederationToken credentials root asks for (STS's default there is 12 h too).
    const federatedArn = `arn:aws:sts::${ACCOUNT}:federated-user/agent`;
    const rootsToken = getFederationToken("2026-05-08T09:05:00Z", rootCaller, "agent", FEDERATED_KEY, {
      hideExpiration: true,
    });
    const { store } = await replayBatches(one(rootsToken));
    const [federated] = await sessionsOf(store, federatedArn);
    expect(federated?.expiresAt).toBe(Date.parse("2026-05-08T10:05:00Z"));
  });

  it("carries it to a call whose user agent claims AWS's own SDK: the caller writes its user agent", async () => {
    const claimsAws = gstCall(
      "2026-05-08T09:20:00Z",
      GST_KEY,
      "[AWSCloudTrail, aws-internal/3 aws-sdk-java/1.12.772]",
    );
    const { byId } = await replayBatches(one(agentGst, claimsAws));
    const a = verdictOf(byId, claimsAws.eventID as string);
    expect(a).toMatchObject({ kind: "ai", session: agentUserArn });
    carriesAgentMarker(a);
  });

  it("carries it to a call whose user agent claims the console, and such a call never waits", async () => {
    const claimsConsole = (time: string) =>
      gstCall(
        time,
        GST_KEY,
        "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:102.0) Gecko/20100101 Firefox/102.0",
      );
    const spoofed = claimsConsole("2026-05-08T09:20:00Z");
    const { byId } = await replayBatches(one(agentGst, spoofed));
    const a = verdictOf(byId, spoofed.eventID as string);
    expect(a).toMatchObject({ kind: "ai", session: agentUserArn });
    carriesAgentMarker(a);
    // Without the issuance (a real console session's is never logged): decided as before, not parked.
    const alone = claimsConsole("2026-05-08T09:21:00Z");
    const unseen = await replayBatches(one(alone));
    expect(unseen.results[0].stats.parked).toBe(0);
    const human = verdictOf(unseen.byId, alone.eventID as string);
    expect(human).toMatchObject({ kind: "human", via: "console" });
    expect(human.evidence.map((e) => e.signal)).not.toContain("sessionIssuanceNotSeen");
  });

  it("a role assumed from a console session (switch role) does not wait for the console's issuance", async () => {
    const switchRole = assumeRole(
      "2026-05-08T09:10:00Z",
      withTemporaryKey(agentUser, "ASIACONSOLE000000001", "2026-05-08T09:00:00Z"),
      "admin",
      "ci-agent",
      "ASIASWITCHED00000001",
      { userAgent: "signin.amazonaws.com" },
    );
    const inRole = call(
      "ListBuckets",
      "2026-05-08T09:11:00Z",
      roleSession("admin", "ci-agent", "ASIASWITCHED00000001", "2026-05-08T09:10:00Z"),
      { source: "s3.amazonaws.com", userAgent: "[S3Console/0.4, aws-internal/3 aws-sdk-java/1.12.488]" },
    );
    const { store, results, byId } = await replayBatches(one(switchRole, inRole));
    const roleArn = `arn:aws:sts::${ACCOUNT}:assumed-role/admin/ci-agent`;
    const [issued] = await sessionsOf(store, roleArn);
    expect(issued).toMatchObject({ parentKey: agentUserArn, parentIssuanceUnlogged: true });
    expect(results[0].stats.parked).toBe(0);
    const a = verdictOf(byId, inRole.eventID as string);
    expect(a.evidence.map((e) => e.signal)).toContain("sessionIssuedBy");
    expect(a.evidence.map((e) => e.signal)).not.toContain("sessionIssuanceNotSeen");
  });

  it("carries the issuing call's AI evidence to the calls made with its key, in one batch or across batches", async () => {
    const c = gstCall("2026-05-08T09:20:00Z");
    const same = await replayBatches(one(agentGst, c));
    const a = verdictOf(same.byId, c.eventID as string);
    expect(a).toMatchObject({ kind: "ai", confidence: "medium", session: agentUserArn });
    carriesAgentMarker(a);

    // The issuance read back from the store by the next batch.
    const later = await replayBatches([
      { source: "sts", records: [agentGst] },
      { source: "calls", records: [c] },
    ]);
    expect(later.results[1].events[0].actor.kind).toBe("ai");
    carriesAgentMarker(verdictOf(later.byId, c.eventID as string));

    // The call first: parked under the user's ARN, re-decided when the GetSessionToken arrives.
    const reversed = await replayBatches([
      { source: "calls", records: [c] },
      { source: "sts", records: [agentGst] },
    ]);
    expect(reversed.results[0].stats.parked).toBe(1);
    expect(reversed.results[0].events[0].actor.kind).toBe("human");
    // The waiting verdict says what it waits for, as a role session's does.
    expect(reversed.results[0].events[0].actor.evidence).toContainEqual({
      signal: "sessionIssuanceNotSeen",
      value: agentUserArn,
    });
    expect(reversed.results[1].reattributed.map((e) => e.id)).toEqual([c.eventID]);
    carriesAgentMarker(verdictOf(reversed.byId, c.eventID as string));
    expect((await reversed.store.parked([agentUserArn])).size).toBe(0);
  });

  it("joins only the issued key, only within the credential's lifetime", async () => {
    const shortLived = getSessionToken("2026-05-08T09:05:00Z", agentUser, GST_KEY, {
      durationSeconds: 900,
      serialNumber: `arn:aws:iam::${ACCOUNT}:mfa/ci-agent`,
      userAgent: AGENT_USER_AGENT,
    });
    const within = gstCall("2026-05-08T09:10:00Z");
    const longTermKey = call("ListBuckets", "2026-05-08T09:10:01Z", agentUser, {
      source: "s3.amazonaws.com",
    });
    const otherKey = gstCall("2026-05-08T09:10:02Z", "ASIAGSTOTHER00000001");
    const expired = gstCall("2026-05-08T10:00:00Z");
    const { byId } = await replayBatches(one(shortLived, within, longTermKey, otherKey, expired));
    expect(verdictOf(byId, within.eventID as string).kind).toBe("ai");
    for (const c of [longTermKey, otherKey, expired]) {
      const a = verdictOf(byId, c.eventID as string);
      expect(a.kind).toBe("human");
      expect(a.evidence.filter((e) => e.issuedBy !== undefined)).toEqual([]);
    }
  });

  it("names the GetSessionToken call in a human verdict's facts, for an IAM user and for root", async () => {
    const alicesGst = getSessionToken("2026-05-08T09:05:00Z", alice, "ASIAGSTALICE00000001");
    const alicesCall = call(
      "DescribeVpcs",
      "2026-05-08T09:30:00Z",
      withTemporaryKey(alice, "ASIAGSTALICE00000001", "2026-05-08T09:05:00Z"),
    );
    const rootGst = getSessionToken("2026-05-08T09:05:00Z", rootCaller, ROOT_GST_KEY);
    const rootCall = call("DescribeVpcs", "2026-05-08T09:31:00Z", rootWithGstKey);
    const { byId } = await replayBatches(one(alicesGst, alicesCall, rootGst, rootCall));
    expect(verdictOf(byId, alicesCall.eventID as string)).toMatchObject({
      kind: "human",
      confidence: "medium",
    });
    expect(verdictOf(byId, alicesCall.eventID as string).evidence).toContainEqual({
      signal: "sessionIssuedBy",
      value: `GetSessionToken by arn:aws:iam::${ACCOUNT}:user/dev-alice`,
      issuedBy: alicesGst.eventID,
    });
    expect(verdictOf(byId, rootCall.eventID as string)).toMatchObject({ kind: "human", confidence: "high" });
    expect(verdictOf(byId, rootCall.eventID as string).evidence).toContainEqual({
      signal: "sessionIssuedBy",
      value: `GetSessionToken by arn:aws:iam::${ACCOUNT}:root`,
      issuedBy: rootGst.eventID,
    });
  });

  it("never joins a GetSessionToken issuance by the user's ARN alone", async () => {
    const at = Date.parse("2026-05-08T09:10:00Z");
    const keyless: SessionRecord = {
      key: agentUserArn,
      account: ACCOUNT,
      arn: agentUserArn,
      issuedBy: "gst-without-key",
      issuedAt: Date.parse("2026-05-08T09:05:00Z"),
      expiresAt: Date.parse("2026-05-08T21:05:00Z"),
      api: "GetSessionToken",
      tags: {},
      issuerEvidence: [],
    };
    expect(matchIssuance([keyless], undefined, at)).toBeUndefined();
    expect(matchIssuance([keyless], GST_KEY, at)).toBeUndefined();
    // An export that drops the issued key: nothing to join by, so nothing is learned.
    const hidden = getSessionToken("2026-05-08T09:05:00Z", agentUser, GST_KEY, {
      hideKey: true,
      userAgent: AGENT_USER_AGENT,
    });
    const c = gstCall("2026-05-08T09:10:00Z");
    const { byId, store } = await replayBatches(one(hidden, c));
    expect(verdictOf(byId, c.eventID as string).kind).toBe("human");
    expect(await sessionsOf(store, agentUserArn)).toEqual([]);
  });

  it("counts a call waiting for its GetSessionToken among the unresolved, as a role session's is", async () => {
    const waitsForGst = gstCall("2026-05-08T09:20:00Z");
    const waitsForAssumeRole = agentCall("2026-05-08T09:21:00Z");
    const waitsForFederationToken = federatedCall("2026-05-08T09:22:00Z");
    const calls = { source: "calls", records: [waitsForGst, waitsForAssumeRole, waitsForFederationToken] };
    const unresolved = await replayBatches([calls]);
    expect(unresolved.results[0].stats.parked).toBe(3);
    expect(unresolved.summary.records.unresolvedSessions).toBe(3);
    const resolved = await replayBatches([calls, { source: "sts", records: [agentGst] }]);
    expect(resolved.summary.records.unresolvedSessions).toBe(2);
  });

  it("says what a waiting call waits for: a role session's at low confidence, a person's at the person's", async () => {
    const waitsForRootGst = call("DescribeVpcs", "2026-05-08T09:23:00Z", rootWithGstKey);
    const waits = {
      role: agentCall("2026-05-08T09:21:00Z"),
      federated: federatedCall("2026-05-08T09:22:00Z"),
      root: waitsForRootGst,
    };
    const { byId } = await replayBatches(one(waits.role, waits.federated, waits.root));
    const waitingFor = (r: Record<string, unknown>) => ({
      signal: "sessionIssuanceNotSeen",
      value: (r.userIdentity as { arn: string }).arn,
    });
    const expected = { role: "low", federated: "medium", root: "high" } as const;
    for (const [name, record] of Object.entries(waits)) {
      const a = verdictOf(byId, record.eventID as string);
      expect(a, name).toMatchObject({ kind: "human", confidence: expected[name as keyof typeof waits] });
      expect(a.evidence, name).toContainEqual(waitingFor(record));
    }
  });

  it("carries it through a role assumed with the GetSessionToken credentials", async () => {
    const assumed = assumeRole(
      "2026-05-08T09:07:00Z",
      withTemporaryKey(agentUser, GST_KEY, "2026-05-08T09:05:00Z"),
      "deployer",
      "ci-deploy",
      "ASIAGSTCHAIN00000001",
    );
    const c = call(
      "PutObject",
      "2026-05-08T09:08:00Z",
      roleSession("deployer", "ci-deploy", "ASIAGSTCHAIN00000001", "2026-05-08T09:07:00Z"),
      { source: "s3.amazonaws.com" },
    );
    const { byId } = await replayBatches([
      { source: "calls", records: [c, assumed] },
      { source: "sts", records: [agentGst] },
    ]);
    const a = verdictOf(byId, c.eventID as string);
    expect(a.kind).toBe("ai");
    expect(a.evidence).toContainEqual(
      expect.objectContaining({
        signal: "issuer.userAgentMarker",
        issuedBy: agentGst.eventID,
        via: agentUserArn,
      }),
    );
  });

  it("reads the store only for temporary keys outside AWS services' calls; a console call does not wait", async () => {
    /** A MemoryStore that records which session keys were read. */
    class ReadsRecorded extends MemoryStore {
      readonly reads: string[][] = [];
      override async getSessions(keys: string[]) {
        this.reads.push(keys);
        return super.getSessions(keys);
      }
    }
    const store = new ReadsRecorded();
    const resolver = new SessionResolver(store, agentMatchers(parseConfig({})));
    const consoleCredentials = call(
      "ListBuckets",
      "2026-05-08T09:10:00Z",
      withTemporaryKey(agentUser, "ASIACONSOLE000000001", "2026-05-08T09:00:00Z"),
      { userAgent: "AWS Internal", extra: { sessionCredentialFromConsole: "true" } },
    );
    const consoleUserAgent = call(
      "GetBucketAcl",
      "2026-05-08T09:10:00Z",
      withTemporaryKey(agentUser, "ASIACONSOLE000000001", "2026-05-08T09:00:00Z"),
      { source: "s3.amazonaws.com", userAgent: "[S3Console/0.4, aws-internal/3 aws-sdk-java/1.12.488]" },
    );
    // An AWS service on the console user's behalf (invictus-ir trail: health.amazonaws.com, "AWS Internal").
    const forService = call(
      "DescribeEventAggregates",
      "2026-05-08T09:10:00Z",
      withTemporaryKey(
        { ...agentUser, invokedBy: "AWS Internal" },
        "ASIACONSOLE000000001",
        "2026-05-08T09:00:00Z",
      ),
      { source: "health.amazonaws.com", userAgent: "AWS Internal", sourceIp: "AWS Internal" },
    );
    const noKey = call("ListBuckets", "2026-05-08T09:10:01Z", { ...agentUser, accessKeyId: "" });
    const untouched = await resolver.resolveAll(
      auditEvents([call("ListBuckets", "2026-05-08T09:10:02Z", agentUser), forService, noKey]),
    );
    expect(untouched).toEqual([undefined, undefined, undefined]);
    expect(store.reads).toEqual([]);
    // Console sign-in credentials: looked up (a user agent does not say what the key is), not waited for.
    const consoleCalls = await resolver.resolveAll(auditEvents([consoleCredentials, consoleUserAgent]));
    expect(store.reads).toEqual([[agentUserArn]]);
    for (const chain of consoleCalls) {
      // A resolution that found nothing, not a call left unresolved.
      expect(chain).toBeDefined();
      expect(chain?.missing).toBeUndefined();
      expect(chain?.session).toBeUndefined();
    }
    // The same key outside the console: the miss already read is the answer, and this call waits.
    const [temporary] = await resolver.resolveAll(auditEvents([gstCall("2026-05-08T09:10:03Z")]));
    expect(store.reads).toEqual([[agentUserArn]]);
    expect(temporary?.missing).toBe(agentUserArn);
  });
});

describe("issuedTags on hostile parameters", () => {
  it("reads tag values that are objects with their own toString/valueOf as empty, without throwing", () => {
    const hostile = { toString: 1, valueOf: 1 };
    const tags = issuedTags({
      principalTags: { AccessType: "AI", Evil: hostile },
      incomingTransitiveTags: { Team: hostile },
      tags: [{ key: "Owner", value: hostile }],
    });
    expect(tags).toEqual({ AccessType: "AI", Evil: "", Team: "", Owner: "" });
  });
});

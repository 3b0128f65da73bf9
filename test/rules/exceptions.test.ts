import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { defaultConfig, parseConfig } from "../../src/config.ts";
import { buildDetector } from "../../src/detection.ts";
import type { AuditEvent } from "../../src/event.ts";
import { RuleEngine } from "../../src/rules/engine.ts";
import { withExceptions } from "../../src/rules/exceptions.ts";
import { linkRules } from "../../src/rules/link.ts";
import { MemoryStore } from "../../src/state/memory.ts";
import { event, load, ruleHead, S3_BURST } from "./engine.helpers.ts";

const RULES = `${S3_BURST}---
${ruleHead("bucket-deleted")}detection:
  s:
    eventName: DeleteBucket
  condition: s
`;

type Exceptions = ReturnType<typeof parseConfig>["rules"]["exceptions"];

/** The exception of rules/README.md's tuning example, read from its YAML block. */
function documentedException(): Exceptions[number] {
  const readme = readFileSync(new URL("../../rules/README.md", import.meta.url), "utf8");
  const section = readme.slice(readme.indexOf("### Tuning: disabled rules and exceptions"));
  const block = /```yaml\n([\s\S]*?)```/.exec(section)?.[1];
  if (!block) throw new Error("rules/README.md has no YAML block under its tuning section");
  const [exception] = parseConfig(parse(block)).rules.exceptions;
  return exception;
}

const deleteBy = (user: string, bucket: string, second = 0): AuditEvent =>
  event({
    eventName: "DeleteBucket",
    eventTime: `2026-11-20T10:00:0${second}Z`,
    userIdentity: { type: "IAMUser", arn: `arn:aws:iam::111122223333:user/${user}`, userName: user },
    requestParameters: { bucketName: bucket },
  });

/** Each event a rule hit, as "rule id: bucket" (or the rule id alone), in hit order. */
async function hitEvents(exceptions: Exceptions, events: AuditEvent[]): Promise<string[]> {
  const { rules, problems } = withExceptions(load(RULES).rules, exceptions, { placeholders: {} });
  expect(problems).toEqual([]);
  const hits = await new RuleEngine(linkRules(rules), defaultConfig).detect(events, new MemoryStore());
  return hits.flatMap((h) =>
    h.events.map((e) => {
      const bucket = (e.raw.requestParameters as { bucketName?: string } | undefined)?.bucketName;
      return bucket ? `${h.rule.id}: ${bucket}` : h.rule.id;
    }),
  );
}

const cleanupJob: Exceptions[number] = {
  rules: ["bucket-deleted"],
  match: { "userIdentity.userName": "cleanup-bot", "requestParameters.bucketName|startswith": "scratch-" },
  reason: "the nightly job deletes its own scratch buckets",
};

describe("rules.exceptions", () => {
  it("takes out the events a selection matches (all of a map's fields), for the rules named", async () => {
    const events = [
      deleteBy("cleanup-bot", "scratch-1"),
      deleteBy("cleanup-bot", "prod-reports"),
      deleteBy("alice", "scratch-2"),
    ];
    expect(await hitEvents([], events)).toEqual([
      "bucket-deleted: scratch-1",
      "bucket-deleted: prod-reports",
      "bucket-deleted: scratch-2",
    ]);
    expect(await hitEvents([cleanupJob], events)).toEqual([
      "bucket-deleted: prod-reports",
      "bucket-deleted: scratch-2",
    ]);
  });

  it("takes out a role's sessions by the role behind them (the documented example)", async () => {
    const bySession = (session: string, bucket: string) =>
      event({
        eventName: "DeleteBucket",
        userIdentity: {
          type: "AssumedRole",
          arn: `arn:aws:sts::111122223333:assumed-role/cleanup-bot/${session}`,
          sessionContext: {
            sessionIssuer: {
              type: "Role",
              arn: "arn:aws:iam::111122223333:role/cleanup-bot",
              userName: "cleanup-bot",
            },
          },
        },
        requestParameters: { bucketName: bucket },
      });
    // The example as rules/README.md writes it, put on this test's rule.
    const roleJob: Exceptions[number] = { ...documentedException(), rules: ["bucket-deleted"] };
    const events = [
      bySession("run-1", "scratch-1"),
      bySession("run-2", "scratch-2"),
      bySession("run-2", "prod"),
    ];
    expect(await hitEvents([roleJob], events)).toEqual(["bucket-deleted: prod"]);
  });

  it("reads a list of maps as any of them, and applies several exceptions to one rule", async () => {
    const events = [
      deleteBy("bob", "a"),
      deleteBy("carol", "b"),
      deleteBy("dave", "c"),
      deleteBy("erin", "d"),
    ];
    const either: Exceptions[number] = {
      rules: ["bucket-deleted"],
      match: [{ "userIdentity.userName": "bob" }, { "userIdentity.userName|endswith": "rol" }],
      reason: "test accounts",
    };
    const dave: Exceptions[number] = {
      rules: ["bucket-deleted"],
      match: { "actor.principal|endswith": "user/DAVE" }, // a derived field; Sigma matching is case-insensitive
      reason: "break-glass drill",
    };
    expect(await hitEvents([], events)).toHaveLength(4);
    expect(await hitEvents([either, dave], events)).toEqual(["bucket-deleted: d"]);
  });

  it("narrows what a base rule feeds its correlation", async () => {
    const s3 = (user: string, second: number) =>
      event({
        eventSource: "s3.amazonaws.com",
        eventName: "GetObject",
        eventTime: `2026-11-20T10:00:0${second}Z`,
        userIdentity: { type: "IAMUser", arn: `arn:aws:iam::111122223333:user/${user}`, userName: user },
      });
    const three = [s3("alice", 1), s3("alice", 2), s3("alice", 3)];
    expect(await hitEvents([], three)).toEqual(["s3-burst", "s3-burst", "s3-burst"]);
    const reader: Exceptions[number] = {
      rules: ["s3-call"],
      match: { "eventName|startswith": "Get" },
      reason: "reads are expected",
    };
    expect(await hitEvents([reader], three)).toEqual([]);
  });

  it("reports exceptions that name no rule, a correlation, or do not compile, and applies the rest", async () => {
    const rules = load(RULES).rules;
    const {
      problems,
      rules: out,
      narrowed,
    } = withExceptions(
      rules,
      [
        {
          rules: ["bucket-delted", "bucket-deleted"],
          match: { "userIdentity.userName": "bob" },
          reason: "typo",
        },
        { rules: ["s3-burst"], match: { eventName: "x" }, reason: "on the correlation" },
        { rules: ["bucket-deleted"], match: { "eventName|nosuchmodifier": "x" }, reason: "broken" },
      ],
      { placeholders: {} },
    );
    expect(problems).toEqual([
      { file: "config rules.exceptions[0]", ruleId: "bucket-delted", reason: "no loaded rule has this id" },
      {
        file: "config rules.exceptions[1]",
        ruleId: "s3-burst",
        reason: "a correlation rule: set the exception on its base rules (s3_call)",
      },
      { file: "config rules.exceptions[2]", reason: expect.stringMatching(/^match: .*nosuchmodifier/) },
    ]);
    // Exception 0 still applies to the id it got right: the one in force.
    expect(narrowed).toEqual([["bucket-deleted"]]);
    const hits = await new RuleEngine(linkRules(out), defaultConfig).detect(
      [deleteBy("bob", "b1"), deleteBy("alice", "a1")],
      new MemoryStore(),
    );
    expect(hits.map((h) => h.group)).toEqual([{ "actor.principal": "arn:aws:iam::111122223333:user/alice" }]);
  });

  it("is part of the configuration: a reason is required, and buildDetector reports and counts", async () => {
    expect(() =>
      parseConfig({
        rules: { exceptions: [{ rules: ["cloudtrail-tampering"], match: { eventName: "x" } }] },
      }),
    ).toThrow(/rules.exceptions.0.reason/);
    const tampering = event({
      eventSource: "cloudtrail.amazonaws.com",
      eventName: "StopLogging",
      requestParameters: { name: "arn:aws:cloudtrail:us-east-1:111122223333:trail/sandbox-trail" },
    });
    const config = parseConfig({
      rules: {
        exceptions: [
          {
            rules: ["cloudtrail-tampering", "cis-cloudtrail-config-changes"],
            match: { "requestParameters.name|endswith": "/sandbox-trail" },
            reason: "the sandbox trail is switched off every evening",
          },
          { rules: ["no-such-rule"], match: { eventName: "x" }, reason: "typo" },
        ],
      },
    });
    const all = await buildDetector(defaultConfig, { builtin: true, extraDirs: [] });
    const tuned = await buildDetector(config, { builtin: true, extraDirs: [] });
    // The typo'd exception narrows nothing: it is reported, not counted as set.
    expect(tuned.exceptionCount).toBe(1);
    expect(tuned.errors).toEqual(["config rules.exceptions[1] (no-such-rule): no loaded rule has this id"]);
    const before = (await all.detector.detect([tampering], new MemoryStore())).map((h) => h.rule.id);
    expect(before).toEqual(expect.arrayContaining(["cloudtrail-tampering", "cis-cloudtrail-config-changes"]));
    const after = (await tuned.detector.detect([tampering], new MemoryStore())).map((h) => h.rule.id);
    expect(after).not.toContain("cloudtrail-tampering");
    expect(after).not.toContain("cis-cloudtrail-config-changes");
  });
});

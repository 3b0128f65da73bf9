import { mkdir, mkdtemp, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it, vi } from "vitest";
import { defaultConfig, parseConfig } from "../../src/config.ts";
import type { CompiledDetectionRule, CompiledRule } from "../../src/rules/compile.ts";
import { RuleEngine } from "../../src/rules/engine.ts";
import { compileField } from "../../src/rules/fields.ts";
import { GroupDescriptions, groupKeyOf } from "../../src/rules/groups.ts";
import { linkRules } from "../../src/rules/link.ts";
import { lintRules } from "../../src/rules/lint.ts";
import { loadRuleSources, loadRules } from "../../src/rules/load.ts";
import { RuleIndex } from "../../src/rules/rule-index.ts";
import { MemoryStore } from "../../src/state/memory.ts";
import { CountingStore, detectionRule, event, load, loadLinked, ruleHead } from "./engine.helpers.ts";

const head = (id: string) => ruleHead(id, "high");

const INDEX_RULES = [
  `${head("by-name")}detection:\n  s:\n    eventName: [DeleteTrail, StopLogging]\n  condition: s`,
  `${head("by-source")}detection:\n  s:\n    eventSource: iam.amazonaws.com\n  condition: s`,
  `${head("by-both")}detection:\n  s:\n    eventSource: s3.amazonaws.com\n    eventName: DeleteBucket\n  condition: s`,
  `${head("root-only")}detection:\n  s:\n    userIdentity.type: Root\n  condition: s`,
  `${head("ai-only")}detection:\n  s:\n    actor.kind: ai\n    action.destructive: true\n  condition: s`,
  `${head("catch-all")}detection:\n  s:\n    userAgent|contains: boto\n  condition: s`,
  `${head("and-of-or")}detection:\n  a:\n    eventName: [CreateUser, DeleteUser]\n  b:\n    eventName: DeleteUser\n  condition: a and b`,
  `${head("or-widens")}detection:\n  a:\n    eventName: CreateRole\n  b:\n    errorCode: AccessDenied\n  condition: a or b`,
  `${head("not-unconstrained")}detection:\n  a:\n    eventName: GetObject\n  condition: not a`,
  `${head("wildcard-unindexed")}detection:\n  a:\n    eventName: 'Delete*'\n  condition: a`,
  `${head("one-of")}detection:\n  sel_a:\n    eventName: PutBucketPolicy\n  sel_b:\n    eventName: DeleteBucketPolicy\n  condition: 1 of sel_*`,
].join("\n---\n");

function ids(rules: readonly CompiledDetectionRule[]): string[] {
  return rules.map((r) => r.meta.id).sort();
}

describe("rule index", () => {
  const { rules } = load(INDEX_RULES);
  const index = new RuleIndex(rules as CompiledDetectionRule[]);

  it("derives requirements from the condition tree", () => {
    expect([...(detectionRule(rules, "by-name").requires.eventName ?? [])].sort()).toEqual([
      "deletetrail",
      "stoplogging",
    ]);
    expect(detectionRule(rules, "by-name").requires.eventSource).toBeUndefined();
    expect([...(detectionRule(rules, "by-source").requires.eventSource ?? [])]).toEqual([
      "iam.amazonaws.com",
    ]);
    expect([...(detectionRule(rules, "and-of-or").requires.eventName ?? [])]).toEqual(["deleteuser"]);
    expect(detectionRule(rules, "or-widens").requires.eventName).toBeUndefined();
    expect(detectionRule(rules, "not-unconstrained").requires.eventName).toBeUndefined();
    expect(detectionRule(rules, "wildcard-unindexed").requires.eventName).toBeUndefined();
    expect([...(detectionRule(rules, "one-of").requires.eventName ?? [])].sort()).toEqual([
      "deletebucketpolicy",
      "putbucketpolicy",
    ]);
  });

  it("derives requirements on actor.kind and userIdentity.type too", () => {
    expect([...(detectionRule(rules, "root-only").requires["userIdentity.type"] ?? [])]).toEqual(["root"]);
    expect([...(detectionRule(rules, "ai-only").requires["actor.kind"] ?? [])]).toEqual(["ai"]);
    expect(detectionRule(rules, "catch-all").requires).toEqual({});
  });

  it("gives an event only the rules that can match it", () => {
    const always = ["catch-all", "not-unconstrained", "or-widens", "wildcard-unindexed"];
    const human = (name: string, source: string) => ids(index.candidates(name, source, "human", "IAMUser"));
    expect(human("DeleteTrail", "cloudtrail.amazonaws.com")).toEqual(["by-name", ...always].sort());
    expect(human("DeleteUser", "iam.amazonaws.com")).toEqual(["and-of-or", "by-source", ...always].sort());
    expect(human("CreateUser", "iam.amazonaws.com")).toEqual(["by-source", ...always].sort());
    expect(human("DeleteBucket", "s3.amazonaws.com")).toEqual(["by-both", ...always].sort());
    expect(human("DeleteBucket", "ec2.amazonaws.com")).toEqual(always.sort());
    expect(ids(index.candidates("DeleteBucket", "ec2.amazonaws.com", "ai", "Root"))).toEqual(
      ["ai-only", "root-only", ...always].sort(),
    );
  });

  it("gives the same candidates after an event name has met more combinations than it remembers", () => {
    const filled = new RuleIndex(rules as CompiledDetectionRule[]);
    const first = ids(filled.candidates("DeleteBucket", "s3.amazonaws.com", "ai", "IAMUser"));
    for (let k = 0; k < 70; k++)
      filled.candidates("DeleteBucket", `source${k}.amazonaws.com`, "ai", "IAMUser");
    expect(ids(filled.candidates("DeleteBucket", "s3.amazonaws.com", "ai", "IAMUser"))).toEqual(first);
    expect(ids(filled.candidates("DeleteBucket", "iam.amazonaws.com", "human", "Root"))).toEqual(
      ids(
        new RuleIndex(rules as CompiledDetectionRule[]).candidates(
          "DeleteBucket",
          "iam.amazonaws.com",
          "human",
          "Root",
        ),
      ),
    );
    expect(first).toContain("by-both");
  });

  it("computes a combination once, and again only after its event name's list started over", () => {
    const memo = new RuleIndex(rules as CompiledDetectionRule[]);
    const compute = vi.spyOn(memo as unknown as { compute: (v: unknown[]) => unknown }, "compute");
    const ask = (source: string) => memo.candidates("DeleteBucket", source, "ai", "IAMUser");
    const first = ask("s3.amazonaws.com");
    expect(ask("s3.amazonaws.com")).toBe(first);
    expect(compute).toHaveBeenCalledTimes(1);
    // 63 more combinations fill the event name's list (64); the 65th starts it over.
    for (let k = 0; k < 63; k++) ask(`source${k}.amazonaws.com`);
    ask("s3.amazonaws.com");
    expect(compute).toHaveBeenCalledTimes(64);
    ask("source63.amazonaws.com");
    expect(compute).toHaveBeenCalledTimes(65);
    expect(ids(ask("s3.amazonaws.com"))).toEqual(ids(first));
    expect(compute).toHaveBeenCalledTimes(66);
  });

  it("an omitted value filters nothing on that field", () => {
    expect(ids(index.candidates("DeleteBucket", "ec2.amazonaws.com"))).toContain("ai-only");
  });

  it("reads the indexed values from the event", () => {
    const root = event({ userIdentity: { type: "Root", arn: "arn:aws:iam::111122223333:root" } });
    expect(ids(index.candidatesFor(root))).toContain("root-only");
    expect(ids(index.candidatesFor(event()))).not.toContain("root-only");
    expect(ids(index.candidatesFor(event({}, { actor: { kind: "ai" } })))).toContain("ai-only");
    expect(ids(index.candidatesFor(event({}, { actor: { kind: "human" } })))).not.toContain("ai-only");
  });

  it("does not filter events whose indexed fields are not plain strings", () => {
    // normaliseRecord refuses such records; the index must still be safe if one gets through
    const odd = { ...event(), raw: { ...event().raw, userIdentity: [{ type: "Root" }] } };
    expect(index.candidatesFor(odd)).toHaveLength(rules.length);
    expect(detectionRule(rules, "root-only").match(odd)).toBe(true);
  });

  it("matches names and sources case-insensitively, as the matcher does", () => {
    expect(ids(index.candidates("deletetrail", "CloudTrail.amazonaws.com"))).toContain("by-name");
    const rule = detectionRule(rules, "by-name");
    expect(rule.match(event({ eventName: "deletetrail" }))).toBe(true);
  });

  it("never evaluates a rule the index excluded", async () => {
    const counted = rules.map((r) => {
      if (r.kind !== "detection") return r;
      const wrapped = { ...r, calls: 0 };
      wrapped.match = (e) => {
        wrapped.calls++;
        return r.match(e);
      };
      return wrapped;
    });
    const engine = new RuleEngine(linkRules(counted), defaultConfig);
    await engine.detect(
      [event({ eventName: "DeleteTrail", eventSource: "cloudtrail.amazonaws.com" })],
      new MemoryStore(),
    );
    const calls = Object.fromEntries(counted.map((r) => [r.meta.id, (r as { calls?: number }).calls]));
    expect(calls["by-name"]).toBe(1);
    expect(calls["catch-all"]).toBe(1);
    expect(calls["root-only"]).toBe(0);
    expect(calls["ai-only"]).toBe(0);
    expect(calls["by-source"]).toBe(0);
    expect(calls["by-both"]).toBe(0);
    expect(calls["and-of-or"]).toBe(0);
    expect(calls["one-of"]).toBe(0);
  });
});

describe("RuleEngine single-event hits", () => {
  const rules = load(
    [
      `${head("delete-any")}agenttrail:\n  groupBy: [actor.principal, requestParameters.bucketName]\n  runbook: look\ndetection:\n  s:\n    eventName|startswith: Delete\n  condition: s`,
      `${head("quiet")}agenttrail: {alert: false}\ndetection:\n  s:\n    eventName: DeleteBucket\n  condition: s`,
    ].join("\n---\n"),
  ).rules;

  it("groups a batch's matches per rule and alert group", async () => {
    const engine = new RuleEngine(linkRules(rules), defaultConfig);
    const bucket = (name: string, time: string) => ({
      eventName: "DeleteObject",
      eventTime: time,
      requestParameters: { bucketName: name },
    });
    const events = [
      event(bucket("reports", "2026-11-20T10:00:05Z")),
      event(bucket("reports", "2026-11-20T10:00:01Z")),
      event(bucket("logs", "2026-11-20T10:00:03Z")),
      event({ eventName: "PutObject", requestParameters: { bucketName: "reports" } }),
    ];
    const hits = await engine.detect(events, new MemoryStore());
    expect(hits).toHaveLength(2);
    const reports = hits.find((h) => h.group["requestParameters.bucketName"] === "reports");
    expect(reports).toMatchObject({
      count: 2,
      group: {
        "actor.principal": "arn:aws:iam::111122223333:user/alice",
        "requestParameters.bucketName": "reports",
      },
      groupKey: JSON.stringify(["arn:aws:iam::111122223333:user/alice", "reports"]),
    });
    expect(reports?.rule).toMatchObject({ id: "delete-any", level: "high", runbook: "look", alert: true });
    expect(reports?.events.map((e) => e.id)).toEqual([events[0].id, events[1].id]);
    expect(reports?.firstSeen.toISOString()).toBe("2026-11-20T10:00:01.000Z");
    expect(reports?.lastSeen.toISOString()).toBe("2026-11-20T10:00:05.000Z");
  });

  it("describes a group once across batches (frozen), of one field or several", async () => {
    const byPrincipal = load(
      `${head("deletes")}detection:\n  s:\n    eventName|startswith: Delete\n  condition: s`,
    ).rules;
    const engine = new RuleEngine(linkRules([...byPrincipal, ...rules]), defaultConfig);
    const call = (time: string) =>
      event({ eventName: "DeleteObject", eventTime: time, requestParameters: { bucketName: "reports" } });
    const [first] = (await engine.detect([call("2026-11-20T10:00:01Z")], new MemoryStore())).filter(
      (h) => h.rule.id === "deletes",
    );
    const [later] = (await engine.detect([call("2026-11-20T10:05:01Z")], new MemoryStore())).filter(
      (h) => h.rule.id === "deletes",
    );
    expect(later.group).toBe(first.group);
    expect(later.groupKey).toBe(JSON.stringify(["arn:aws:iam::111122223333:user/alice"]));
    expect(Object.isFrozen(later.group)).toBe(true);
    const pairs = await Promise.all(
      ["10:00:01", "10:05:01"].map(async (t) =>
        (await engine.detect([call(`2026-11-20T${t}Z`)], new MemoryStore())).find(
          (h) => h.rule.id === "delete-any",
        ),
      ),
    );
    expect(pairs[1]?.group).toBe(pairs[0]?.group);
    expect(pairs[1]?.groupKey).toBe(JSON.stringify(["arn:aws:iam::111122223333:user/alice", "reports"]));
  });

  it("keeps descriptions of lookups up to 1 KiB, and starts again empty after 10,000 groups", () => {
    const groups = new GroupDescriptions(
      ["requestParameters.bucketName"],
      [compileField("requestParameters.bucketName")],
    );
    const e = event();
    const kept = "k".repeat(1024);
    expect(groups.of(kept, e)).toBe(groups.of(kept, e));
    const tooLong = "k".repeat(1025);
    expect(groups.of(tooLong, e)).not.toBe(groups.of(tooLong, e));
    expect(groups.of(tooLong, e).groupKey).toBe(JSON.stringify([tooLong]));
    const first = groups.of("bucket-0", e);
    for (let k = 1; k < 9_999; k++) groups.of(`bucket-${k}`, e);
    expect(groups.of("bucket-0", e)).toBe(first); // 10,000 groups held (with `kept`)
    groups.of("bucket-10000", e);
    expect(groups.of("bucket-0", e)).not.toBe(first);
    expect(groups.of("bucket-0", e)).toEqual(first);
    // ... or after a million characters of lookups
    const long = new GroupDescriptions(
      ["requestParameters.bucketName"],
      [compileField("requestParameters.bucketName")],
    );
    const name = (k: number) => `${k}`.padEnd(1000, "x");
    const firstLong = long.of(name(0), e);
    for (let k = 1; k < 1000; k++) long.of(name(k), e);
    expect(long.of(name(0), e)).toBe(firstLong);
    long.of(name(1000), e);
    expect(long.of(name(0), e)).not.toBe(firstLong);
  });

  it("describes a group whose value is very long per batch: hostile values are not kept across batches", async () => {
    const byBucket = loadLinked(
      `${head("by-bucket")}agenttrail:\n  groupBy: [requestParameters.bucketName]\ndetection:\n  s:\n    eventName: DeleteBucket\n  condition: s`,
    );
    const engine = new RuleEngine(byBucket, defaultConfig);
    const call = (name: string) =>
      event({ eventName: "DeleteBucket", requestParameters: { bucketName: name } });
    const [short1, long1] = await engine.detect([call("b"), call("x".repeat(2000))], new MemoryStore());
    const [short2, long2] = await engine.detect([call("b"), call("x".repeat(2000))], new MemoryStore());
    expect(short2.group).toBe(short1.group);
    expect(long2.group).not.toBe(long1.group);
    expect(long2.group).toEqual(long1.group);
  });

  it("keeps groups of several fields apart whatever their values hold (no separator can make two collide)", async () => {
    const byPair = loadLinked(
      `${head("by-pair")}agenttrail:\n  groupBy: [requestParameters.a, requestParameters.b]\ndetection:\n  s:\n    eventName: DeleteBucket\n  condition: s`,
    );
    const call = (a: string, b: string) => event({ eventName: "DeleteBucket", requestParameters: { a, b } });
    const hits = await new RuleEngine(byPair, defaultConfig).detect(
      [call("x\u0000", ""), call("x", "\u0000")],
      new MemoryStore(),
    );
    expect(hits.map((h) => h.group)).toEqual([
      { "requestParameters.a": "x\u0000", "requestParameters.b": "" },
      { "requestParameters.a": "x", "requestParameters.b": "\u0000" },
    ]);
    expect(hits[0].groupKey).not.toBe(hits[1].groupKey);
  });

  it("default alert group is the principal", () => {
    const r = load(`${head("x")}detection:\n  s:\n    eventName: A\n  condition: s`).rules[0];
    expect(r.meta.groupBy).toEqual(["actor.principal"]);
  });

  it("rules with alert: false make no hits", async () => {
    const engine = new RuleEngine(linkRules(rules), defaultConfig);
    const hits = await engine.detect([event({ eventName: "DeleteBucket" })], new MemoryStore());
    expect(hits.map((h) => h.rule.id)).toEqual(["delete-any"]);
  });

  it("touches the store only when correlations have work", async () => {
    const store = new CountingStore();
    await new RuleEngine(linkRules(rules), defaultConfig).detect(
      [event({ eventName: "DeleteBucket" })],
      store,
    );
    expect(store.calls).toEqual({ addToWindows: 0, readWindows: 0 });
  });
});

describe("loading", () => {
  it("reads directories recursively, several documents per file, and skips other log sources", async () => {
    const dir = await mkdtemp(join(tmpdir(), "rules-"));
    await mkdir(join(dir, "nested"));
    await writeFile(
      join(dir, "a.yml"),
      `${head("a1")}detection:\n  s:\n    eventName: A\n  condition: s\n---\n${head("a2")}detection:\n  s:\n    eventName: B\n  condition: s\n`,
    );
    await writeFile(
      join(dir, "nested", "b.yaml"),
      "title: w\nid: win\nlogsource: {product: windows, category: process_creation}\ndetection:\n  s:\n    Image: x\n  condition: s\n",
    );
    await writeFile(join(dir, "nested", "broken.yml"), "title: [unclosed\n");
    await writeFile(join(dir, "notes.txt"), "not a rule");
    const r = await loadRules([dir]);
    expect(r.rules.map((x) => x.meta.id)).toEqual(["a1", "a2"]);
    expect(r.rules[0].file).toBe(`${join(dir, "a.yml")}#1`);
    expect(r.skipped).toEqual([
      {
        file: join(dir, "nested", "b.yaml"),
        ruleId: "win",
        reason: "logsource windows/process_creation is not aws/cloudtrail",
      },
    ]);
    expect(r.errors).toHaveLength(1);
    expect(r.errors[0].file).toBe(join(dir, "nested", "broken.yml"));
    expect(r.errors[0].reason).toMatch(/^YAML/);
  });

  it("reports a missing path and goes on", async () => {
    const r = await loadRules(["/nonexistent/rules-dir"]);
    expect(r.rules).toEqual([]);
    expect(r.errors[0]).toMatchObject({ file: "/nonexistent/rules-dir" });
  });

  it("reports a directory that holds no rule files (a mistyped path), beside one that does", async () => {
    const empty = await mkdtemp(join(tmpdir(), "no-rules-"));
    await writeFile(join(empty, "README.md"), "rules live elsewhere");
    const full = await mkdtemp(join(tmpdir(), "rules-"));
    await writeFile(join(full, "a.yml"), `${head("a1")}detection:\n  s:\n    eventName: A\n  condition: s\n`);
    const r = await loadRules([empty, full]);
    expect(r.rules.map((x) => x.meta.id)).toEqual(["a1"]);
    expect(r.errors).toEqual([{ file: empty, reason: "no rule files (.yml, .yaml) in it" }]);
  });

  it("reads a rule file once when paths reach it twice (a directory again, or inside another)", async () => {
    const dir = await mkdtemp(join(tmpdir(), "rules-"));
    await mkdir(join(dir, "more"));
    await writeFile(join(dir, "a.yml"), `${head("a1")}detection:\n  s:\n    eventName: A\n  condition: s\n`);
    await writeFile(
      join(dir, "more", "b.yml"),
      `${head("b1")}detection:\n  s:\n    eventName: B\n  condition: s\n`,
    );
    // A link to the same directory: another path, the same files.
    const link = join(await mkdtemp(join(tmpdir(), "rules-link-")), "pack");
    await symlink(dir, link);
    // Given twice, with the second spelled differently: the same files, not duplicate ids.
    const r = await loadRules([dir, join(dir, "more"), `${dir}/`, join(dir, "a.yml"), link]);
    expect(r.rules.map((x) => x.meta.id)).toEqual(["a1", "b1"]);
    expect(r.files).toEqual([join(dir, "a.yml"), join(dir, "more", "b.yml")]);
    // A directory whose files were all read already is not an empty one.
    expect(r.errors).toEqual([]);
  });

  it("a rule without an id is known by its name; one with neither is an error", () => {
    const r = loadRuleSources([
      {
        file: "n.yml",
        text: "title: named\nname: named_rule\nlogsource: {product: aws, service: cloudtrail}\ndetection:\n  s:\n    eventName: A\n  condition: s\n---\ntitle: anonymous\nlogsource: {product: aws, service: cloudtrail}\ndetection:\n  s:\n    eventName: A\n  condition: s\n",
      },
    ]);
    expect(r.rules.map((x) => x.meta.id)).toEqual(["named_rule"]);
    expect(r.errors).toHaveLength(1);
    expect(r.errors[0]).toMatchObject({ file: "n.yml#2" });
    expect(r.errors[0].reason).toMatch(/needs an id/);
  });

  it("reports duplicate ids and keeps the first", () => {
    const loaded = loadRuleSources([
      { file: "one.yml", text: `${head("dup")}detection:\n  s:\n    eventName: A\n  condition: s` },
      { file: "two.yml", text: `${head("dup")}detection:\n  s:\n    eventName: B\n  condition: s` },
    ]);
    const r = linkRules(loaded.rules);
    expect(r.rules.map((x) => x.file)).toEqual(["one.yml"]);
    expect(r.problems).toEqual([
      { file: "two.yml", ruleId: "dup", reason: "duplicate rule id (already in one.yml)" },
    ]);
  });

  it("lint names each rule's status and the unsupported feature", async () => {
    const dir = await mkdtemp(join(tmpdir(), "lint-"));
    await writeFile(
      join(dir, "r.yml"),
      [
        `${head("good")}detection:\n  s:\n    eventName: A\n  condition: s`,
        `${head("wide")}detection:\n  s:\n    a|wide|contains: x\n  condition: s`,
        `${head("bad")}detection:\n  s:\n    eventName: A\n  condition: t`,
        "title: gcp\nid: gcp\nlogsource: {product: gcp, service: gcp.audit}\ndetection:\n  s:\n    a: x\n  condition: s",
      ].join("\n---\n"),
    );
    const report = await lintRules([dir]);
    const byId = Object.fromEntries(report.entries.map((e) => [e.ruleId, e]));
    expect(byId.good.status).toBe("loaded");
    expect(byId.wide).toMatchObject({ status: "unsupported", feature: "modifier wide" });
    expect(byId.bad.status).toBe("error");
    expect(byId.gcp.status).toBe("skipped");
    expect(report.counts).toEqual({ loaded: 1, skipped: 1, error: 1, unsupported: 1 });
    expect(report.ok).toBe(false);
  });

  it("lint lists a document linking refused by its error alone, and a disabled rule as loaded", async () => {
    const dir = await mkdtemp(join(tmpdir(), "lint-"));
    const rule = (id: string, title: string) =>
      `title: ${title}\nid: ${id}\nlogsource: {product: aws, service: cloudtrail}\ndetection:\n  s:\n    eventName: A\n  condition: s`;
    await writeFile(join(dir, "a.yml"), rule("dup", "first"));
    await writeFile(join(dir, "b.yml"), [rule("dup", "second"), rule("quiet", "quiet")].join("\n---\n"));
    const report = await lintRules([dir], { tuning: parseConfig({ rules: { disabled: ["quiet"] } }).rules });
    expect(report.entries.map((e) => [e.ruleId, e.title, e.status])).toEqual([
      ["dup", "first", "loaded"],
      ["dup", undefined, "error"],
      ["quiet", "quiet", "loaded"],
    ]);
    expect(report.counts).toMatchObject({ loaded: 2, error: 1 });
    // A rule an exception narrows runs as a copy of the one loaded: it is listed as loaded all the same.
    const exception = { rules: ["dup", "quiet"], match: { eventName: "B" }, reason: "test" };
    const narrowed = await lintRules([dir], {
      tuning: parseConfig({ rules: { disabled: ["quiet"], exceptions: [exception] } }).rules,
    });
    expect(narrowed.entries.map((e) => [e.ruleId, e.title, e.status])).toEqual([
      ["dup", "first", "loaded"],
      ["dup", undefined, "error"],
      ["quiet", "quiet", "loaded"],
    ]);
  });
});

describe("Sigma generate semantics for correlation base rules", () => {
  const corr = (generate: string) =>
    [
      `${head("base")}detection:\n  s:\n    eventName: A\n  condition: s`,
      `title: c\nid: c\nlevel: high\ncorrelation:\n  type: event_count\n  rules: [base]\n  timespan: 5m\n  condition: {gte: 2}${generate}`,
    ].join("\n---\n");
  const alertOf = (rules: CompiledRule[]) => rules.find((r) => r.meta.id === "base")?.meta.alert;

  it("a referenced base rule does not alert on its own by default", () => {
    expect(alertOf(loadLinked(corr("")).rules)).toBe(false);
  });
  it("generate: true makes it alert", () => {
    expect(alertOf(loadLinked(corr("\n  generate: true")).rules)).toBe(true);
  });
  it("an explicit agenttrail.alert wins", () => {
    const text = corr("").replace(
      "level: high\ndetection",
      "level: high\nagenttrail: {alert: true}\ndetection",
    );
    expect(alertOf(loadLinked(text).rules)).toBe(true);
  });
  it("generate may sit at the top level, as the Sigma specification has it", () => {
    const text = corr("").replace("level: high\ncorrelation:", "level: high\ngenerate: true\ncorrelation:");
    expect(alertOf(loadLinked(text).rules)).toBe(true);
  });
  it("a correlation naming an unknown rule is an error", () => {
    const loaded = loadRuleSources([
      { file: "c.yml", text: corr("").replace("rules: [base]", "rules: [nope]") },
    ]);
    const r = linkRules(loaded.rules);
    expect(r.rules.map((x) => x.meta.id)).toEqual(["base"]);
    expect(r.problems[0]).toMatchObject({
      file: "c.yml#2",
      ruleId: "c",
      reason: 'correlation refers to unknown rule "nope"',
    });
  });
});

describe("lint warnings", () => {
  it("warns about nested quantifiers in re and about field names compared as text", () => {
    const { rules } = load(
      `${head("w")}detection:\n  s:\n    userAgent|re: '(a+)+$'\n    userIdentity.arn|contains: requestParameters.userName\n  condition: s`,
    );
    expect(rules[0].warnings).toHaveLength(2);
    expect(rules[0].warnings[0]).toMatch(/nested quantifier/);
    expect(rules[0].warnings[1]).toMatch(/use \|fieldref/);
    const plain = load(`${head("p")}detection:\n  s:\n    userAgent|re: '(ab)+c+'\n  condition: s`).rules[0];
    expect(plain.warnings).toEqual([]);
  });
});

describe("group keys", () => {
  it("are JSON.stringify of the group values, whatever the characters", () => {
    const values = [
      "",
      "arn:aws:sts::111122223333:assumed-role/agent/session",
      'say "hi"',
      "back\\slash",
      "tab\there\nnewline\u0000nul\u001f",
      "line\u2028separator\u007f",
      "emoji \u{1F600} pair",
      "lone \ud800 high",
      "lone \udc00 low",
    ];
    for (const v of values) expect(groupKeyOf([v])).toBe(JSON.stringify([v]));
    expect(groupKeyOf(values)).toBe(JSON.stringify(values));
    expect(groupKeyOf([])).toBe("[]");
  });
});

import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { defaultConfig, parseConfig } from "../../src/config.ts";
import { scenarioRunner } from "../../src/detection.ts";
import { RuleEngine } from "../../src/rules/engine.ts";
import { formatFixtureReport, runRuleFixtures, type ScenarioRunner } from "../../src/rules/fixtures.ts";
import { MemoryStore } from "../../src/state/memory.ts";
import { auditEvents } from "../support/records.ts";
import { record } from "./engine.helpers.ts";

/** Normalise + detect, without attribution: enough for rules on raw fields. */
const scenarios: ScenarioRunner = (rules) => {
  const engine = new RuleEngine(rules, defaultConfig);
  return async (records) => {
    const events = auditEvents(records as Record<string, unknown>[]);
    return { hits: await engine.detect(events, new MemoryStore()), malformed: [] };
  };
};

const RULE = `title: Trail deleted
id: trail-deleted
logsource: {product: aws, service: cloudtrail}
level: high
detection:
  s:
    eventName: DeleteTrail
  condition: s
`;

/** A Sigma-default base rule (call, no agenttrail.alert) and the event_count correlation it feeds (burst). */
const CALL_AND_BURST = `title: call\nid: call\nlogsource: {product: aws, service: cloudtrail}\ndetection:\n  s:\n    eventSource: s3.amazonaws.com\n  condition: s\n---\ntitle: burst\nid: burst\ncorrelation:\n  type: event_count\n  rules: [call]\n  timespan: 5m\n  condition: {gte: 2}\n`;

const lines = (records: unknown[]) => records.map((r) => JSON.stringify(r)).join("\n");

async function fixtureDir(files: Record<string, unknown>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "fixtures-"));
  for (const [path, content] of Object.entries(files)) {
    await mkdir(join(dir, path, ".."), { recursive: true });
    const data =
      typeof content === "string" || content instanceof Uint8Array ? content : JSON.stringify(content);
    await writeFile(join(dir, path), data);
  }
  return dir;
}

describe("runRuleFixtures", () => {
  it("passes when match fixtures hit and nomatch fixtures do not", async () => {
    const dir = await fixtureDir({
      "trail.yml": RULE,
      "fixtures/trail-deleted/match/delete.json": [record({ eventName: "DeleteTrail" })],
      "fixtures/trail-deleted/nomatch/stop.json": [record({ eventName: "StopLogging" })],
    });
    const report = await runRuleFixtures(dir, scenarios);
    expect(report.ok).toBe(true);
    expect(report.results).toHaveLength(1);
    expect(report.results[0]).toMatchObject({ ruleId: "trail-deleted", status: "pass" });
    expect(report.results[0].cases.map((c) => [c.expect, c.passed, c.hits])).toEqual([
      ["match", true, 1],
      ["nomatch", true, 0],
    ]);
  });

  it("fails with the reason when a fixture gives the wrong verdict", async () => {
    const dir = await fixtureDir({
      "trail.yml": RULE,
      "fixtures/trail-deleted/match/wrong.json": [record({ eventName: "StopLogging" })],
      "fixtures/trail-deleted/nomatch/wrong.json": { Records: [record({ eventName: "DeleteTrail" })] },
    });
    const report = await runRuleFixtures(dir, scenarios);
    expect(report.ok).toBe(false);
    const [result] = report.results;
    expect(result.status).toBe("fail");
    expect(result.cases.map((c) => c.reason)).toEqual([
      "expected trail-deleted to hit, it did not",
      "expected no hit of trail-deleted, got 1",
    ]);
    expect(formatFixtureReport(report)).toMatch(/FAIL\s+trail-deleted/);
  });

  it("requires both kinds of fixtures for alerting rules, unless told otherwise", async () => {
    const dir = await fixtureDir({
      "trail.yml": RULE,
      "fixtures/trail-deleted/match/delete.json": [record({ eventName: "DeleteTrail" })],
    });
    const strict = await runRuleFixtures(dir, scenarios);
    expect(strict.results[0]).toMatchObject({ status: "fail", reason: "no nomatch fixtures" });
    const lenient = await runRuleFixtures(dir, scenarios, { requireFixtures: false });
    expect(lenient.results[0].status).toBe("pass");
    expect(lenient.ok).toBe(true);
  });

  it("reports unreadable fixtures, fixtures without a rule, and rule load errors", async () => {
    const dir = await fixtureDir({
      "trail.yml": RULE,
      "broken.yml": "title: x\nid: broken\nlogsource: {product: aws, service: cloudtrail}\ndetection: {}\n",
      "fixtures/trail-deleted/match/bad.json": "{not json",
      "fixtures/trail-deleted/nomatch/ok.json": [],
      "fixtures/no-such-rule/match/a.json": [],
    });
    const report = await runRuleFixtures(dir, scenarios);
    expect(report.ok).toBe(false);
    expect(report.loadErrors.map((e) => e.ruleId)).toEqual(["broken"]);
    const byId = Object.fromEntries(report.results.map((r) => [r.ruleId, r]));
    expect(byId["trail-deleted"].cases[0].reason).toMatch(/^cannot read fixture/);
    expect(byId["no-such-rule"]).toMatchObject({ status: "fail" });
  });

  it("reports a rule refused at linking as a load error, not its fixtures as without a rule", async () => {
    const dir = await fixtureDir({
      "burst.yml": `title: burst\nid: burst\ncorrelation:\n  type: event_count\n  rules: [no-such-base]\n  timespan: 5m\n  condition: {gte: 2}\n`,
      "fixtures/burst/match/two.json": [record(), record()],
    });
    const report = await runRuleFixtures(dir, scenarios);
    expect(report.ok).toBe(false);
    expect(report.loadErrors.map((e) => e.ruleId)).toEqual(["burst"]);
    expect(report.results).toEqual([]);
  });

  it("a correlation's base rule with alert: false needs no fixtures of its own", async () => {
    const dir = await fixtureDir({
      "burst.yml": CALL_AND_BURST.replace("detection:", "agenttrail: {alert: false}\ndetection:"),
      "fixtures/burst/match/two.json": [record(), record()],
      "fixtures/burst/nomatch/one.json": [record()],
    });
    const report = await runRuleFixtures(dir, scenarios);
    expect(report.ok).toBe(true);
    const byId = Object.fromEntries(report.results.map((r) => [r.ruleId, r.status]));
    expect(byId).toEqual({ call: "no-fixtures", burst: "pass" });
  });

  it("tests the rules as linked, in load order, a duplicated id once", async () => {
    // A Sigma-default base rule (no agenttrail.alert) only feeds its correlation once linked.
    const dir = await fixtureDir({
      "a-trail.yml": RULE,
      "b-burst.yml": CALL_AND_BURST,
      "c-again.yml": RULE.replace("Trail deleted", "Trail deleted again"),
      "fixtures/trail-deleted/match/delete.json": [record({ eventName: "DeleteTrail" })],
      "fixtures/trail-deleted/nomatch/stop.json": [record({ eventName: "StopLogging" })],
      "fixtures/burst/match/two.json": [record(), record()],
      "fixtures/burst/nomatch/one.json": [record()],
    });
    const report = await runRuleFixtures(dir, scenarios);
    expect(report.results.map((r) => [r.ruleId, r.status])).toEqual([
      ["trail-deleted", "pass"],
      ["call", "no-fixtures"],
      ["burst", "pass"],
    ]);
    expect(report.results[0].title).toBe("Trail deleted");
    expect(report.loadErrors.map((e) => e.reason)).toEqual([expect.stringMatching(/^duplicate rule id/)]);
  });

  it("says why a base rule is not tested when the correlation it fed is disabled", async () => {
    const dir = await fixtureDir({
      "burst.yml": CALL_AND_BURST,
      "fixtures/call/match/one.json": [record()],
      "fixtures/call/nomatch/other.json": [record({ eventSource: "ec2.amazonaws.com" })],
    });
    const report = await runRuleFixtures(dir, scenarios, {
      tuning: parseConfig({ rules: { disabled: ["burst"] } }).rules,
    });
    expect(report.ok).toBe(true);
    expect(report.results.map((r) => [r.ruleId, r.status, r.reason])).toEqual([
      ["call", "disabled", "feeds only correlations the configuration turns off: fixtures not run"],
      ["burst", "disabled", "turned off by the configuration (rules.disabled): fixtures not run"],
    ]);
  });

  it("reports a disabled base rule that still feeds its correlation as DISABLED, and the correlation as tested", async () => {
    const dir = await fixtureDir({
      "burst.yml": CALL_AND_BURST,
      // Would fail if run: the disabled rule feeds the correlation but makes no hit of its own.
      "fixtures/call/match/one.json": [record()],
      "fixtures/call/nomatch/other.json": [record({ eventSource: "ec2.amazonaws.com" })],
      "fixtures/burst/match/two.json": [record(), record()],
      "fixtures/burst/nomatch/one.json": [record()],
    });
    const report = await runRuleFixtures(dir, scenarios, {
      tuning: parseConfig({ rules: { disabled: ["call"] } }).rules,
    });
    expect(report.results.map((r) => [r.ruleId, r.status, r.reason])).toEqual([
      ["call", "disabled", "turned off by the configuration (rules.disabled): fixtures not run"],
      ["burst", "pass", undefined],
    ]);
    expect(report.ok).toBe(true);
  });

  it("reads fixtures in every format replay reads: JSON Lines, EventBridge events, gzipped", async () => {
    const deleted = record({ eventName: "DeleteTrail", eventSource: "cloudtrail.amazonaws.com" });
    const event = {
      version: "0",
      id: "evb-1",
      "detail-type": "AWS API Call via CloudTrail",
      detail: deleted,
    };
    const dir = await fixtureDir({
      "trail.yml": RULE,
      "fixtures/trail-deleted/match/eventbridge.json.gz": gzipSync(JSON.stringify(event)),
      // A match fixture: it passes only if its lines are replayed (the second one matches).
      "fixtures/trail-deleted/match/lines.jsonl": lines([record(), deleted]),
      "fixtures/trail-deleted/nomatch/lines.jsonl": lines([record(), record({ eventName: "StopLogging" })]),
      "fixtures/trail-deleted/nomatch/notes.txt": "not a fixture: passed over",
    });
    const report = await runRuleFixtures(dir, scenarioRunner(defaultConfig));
    expect(report.results[0].cases.map((c) => [c.expect, c.fixture.slice(dir.length), c.passed])).toEqual([
      ["match", "/fixtures/trail-deleted/match/eventbridge.json.gz", true],
      ["match", "/fixtures/trail-deleted/match/lines.jsonl", true],
      ["nomatch", "/fixtures/trail-deleted/nomatch/lines.jsonl", true],
    ]);
    expect(report.ok).toBe(true);
  });

  it("fails a fixture with a record the pipeline cannot read, which would otherwise be dropped", async () => {
    const { eventTime: _, ...noTime } = record({ eventName: "DeleteTrail" });
    const dir = await fixtureDir({
      "trail.yml": RULE,
      "fixtures/trail-deleted/match/delete.json": [record({ eventName: "DeleteTrail" })],
      // Without the check this passes: the DeleteTrail record is dropped as malformed.
      "fixtures/trail-deleted/nomatch/typo.json": [record(), noTime],
    });
    const report = await runRuleFixtures(dir, scenarioRunner(defaultConfig));
    expect(report.ok).toBe(false);
    const [, typo] = report.results[0].cases;
    expect(typo).toMatchObject({ expect: "nomatch", passed: false });
    expect(typo.reason).toMatch(/^1 malformed record\(s\), #1: .*eventTime/);
  });

  it("lists the first three malformed records of a fixture and counts the rest", async () => {
    const { eventTime: _, ...noTime } = record({ eventName: "DeleteTrail" });
    const dir = await fixtureDir({
      "trail.yml": RULE,
      "fixtures/trail-deleted/match/delete.json": [record({ eventName: "DeleteTrail" })],
      "fixtures/trail-deleted/nomatch/typos.json": [noTime, noTime, noTime, noTime, noTime],
    });
    const report = await runRuleFixtures(dir, scenarioRunner(defaultConfig));
    const [, typos] = report.results[0].cases;
    expect(typos.reason).toMatch(/^5 malformed record\(s\), #0: .*; #1: .*; #2: [^;]*; and 2 more$/);
  });

  it("fails a digest file given as a fixture: it holds no records, so it would pass as a non-match", async () => {
    const dir = await fixtureDir({
      "trail.yml": RULE,
      "fixtures/trail-deleted/match/delete.json": [record({ eventName: "DeleteTrail" })],
      "fixtures/trail-deleted/nomatch/digest.json": {
        awsAccountId: "111122223333",
        digestStartTime: "2026-05-08T10:00:00Z",
        logFiles: [],
      },
    });
    const report = await runRuleFixtures(dir, scenarioRunner(defaultConfig));
    expect(report.ok).toBe(false);
    const [, digest] = report.results[0].cases;
    expect(digest).toMatchObject({ expect: "nomatch", passed: false });
    expect(digest.reason).toBe("cannot read fixture: holds no records to replay (CloudTrail digest file)");
  });

  it("runs every fixture with fresh state and every rule set with its own rules, however many runs one runner serves", async () => {
    const bursts = await fixtureDir({
      "burst.yml": CALL_AND_BURST,
      "fixtures/burst/match/two.json": [record(), record()],
      // Runs after the match fixture: with its two calls still counted, this one would make a burst.
      "fixtures/burst/nomatch/one.json": [record()],
    });
    const trails = await fixtureDir({
      "trail.yml": RULE,
      "fixtures/trail-deleted/match/delete.json": [record({ eventName: "DeleteTrail" })],
      "fixtures/trail-deleted/nomatch/stop.json": [record({ eventName: "StopLogging" })],
    });
    // The runner makes one engine per rule set: runRuleFixtures asks for it once per directory.
    const engines = scenarioRunner(defaultConfig);
    let ruleSets = 0;
    const runner: ScenarioRunner = (rules) => {
      ruleSets++;
      return engines(rules);
    };
    for (const dir of [bursts, trails, bursts]) {
      const report = await runRuleFixtures(dir, runner);
      const tested = report.results.filter((r) => r.cases.length > 0);
      expect(tested.map((r) => [r.ruleId, r.cases.map((c) => [c.expect, c.passed])])).toEqual([
        [
          dir === trails ? "trail-deleted" : "burst",
          [
            ["match", true],
            ["nomatch", true],
          ],
        ],
      ]);
      expect(report.ok, formatFixtureReport(report)).toBe(true);
    }
    expect(ruleSets).toBe(3);
  });

  it("tunes the rules as a run does, given a configuration's rules section", async () => {
    const admin = `title: admin\nid: admin-call\nlogsource: {product: aws, service: cloudtrail}\ndetection:\n  s:\n    userIdentity.userName|expand: '%admins%'\n  condition: s\n`;
    const dir = await fixtureDir({
      "trail.yml": RULE,
      "admin.yml": admin,
      "fixtures/admin-call/match/alice.json": [record()],
      "fixtures/admin-call/nomatch/bob.json": [
        record({ userIdentity: { type: "IAMUser", userName: "bob" } }),
      ],
      // Would fail: a disabled rule's fixtures are not run.
      "fixtures/trail-deleted/match/wrong.json": [record({ eventName: "StopLogging" })],
      "fixtures/trail-deleted/nomatch/stop.json": [record({ eventName: "StopLogging" })],
    });
    const tuning = (rules: unknown) => parseConfig({ rules }).rules;
    const placeholders = { admins: ["alice"] };
    const report = await runRuleFixtures(dir, scenarios, {
      // Ids of rules outside the directory are for rules lint, not errors here.
      tuning: tuning({ placeholders, disabled: ["trail-deleted", "elsewhere"] }),
    });
    expect(report.loadErrors).toEqual([]);
    expect(report.ok).toBe(true);
    const byId = Object.fromEntries(report.results.map((r) => [r.ruleId, r]));
    expect(byId["admin-call"].status).toBe("pass");
    expect(byId["trail-deleted"]).toMatchObject({ status: "disabled", cases: [] });
    expect(formatFixtureReport(report)).toMatch(
      /^DISABLED +trail-deleted: .*\n2 rules: 1 passed, 0 failed, 1 disabled, 0 load errors$/m,
    );

    // An exception that takes out a match fixture's event fails it: in a run, it would hide that case.
    const swallowed = await runRuleFixtures(dir, scenarios, {
      tuning: tuning({
        placeholders,
        disabled: ["trail-deleted"],
        exceptions: [
          { rules: ["admin-call", "elsewhere"], match: { eventName: "GetObject" }, reason: "too broad" },
        ],
      }),
    });
    expect(swallowed.ok).toBe(false);
    expect(swallowed.loadErrors).toEqual([]);
    const [match] = swallowed.results.find((r) => r.ruleId === "admin-call")?.cases ?? [];
    expect(match).toMatchObject({
      expect: "match",
      passed: false,
      reason: "expected admin-call to hit, it did not",
    });
  });

  it("names a tuning problem by its index in the configuration, not among the entries about this directory", async () => {
    const dir = await fixtureDir({
      "trail.yml": RULE,
      "fixtures/trail-deleted/match/delete.json": [record({ eventName: "DeleteTrail" })],
      "fixtures/trail-deleted/nomatch/stop.json": [record({ eventName: "StopLogging" })],
    });
    const report = await runRuleFixtures(dir, scenarios, {
      tuning: parseConfig({
        rules: {
          exceptions: [
            // About a rule elsewhere: left to rules lint (its broken match too), but still exception 0
            // of the file.
            {
              rules: ["elsewhere"],
              match: { "eventName|nosuchmodifier": "x" },
              reason: "another directory's rule",
            },
            { rules: ["trail-deleted"], match: { "eventName|nosuchmodifier": "x" }, reason: "broken" },
          ],
        },
      }).rules,
    });
    expect(report.loadErrors).toEqual([
      { file: "config rules.exceptions[1]", reason: expect.stringMatching(/^match: .*nosuchmodifier/) },
    ]);
  });
});

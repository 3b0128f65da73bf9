/** The CLI as a user runs it: a subprocess of bin/agenttrail.js, its exit status, output and files. */
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { call, iamUser, roleSession } from "../support/records.ts";

const INVICTUS = "test/fixtures/corpus/invictus-ir-aws-dataset/CloudTrail";
const STOP_LOGGING_FILE = `${INVICTUS}/218007301253_CloudTrail_us-east-1_20230710T1145Z_7xgocspSowgK0Gto.json`;

function agenttrail(args: string[], input?: string, env?: Record<string, string>) {
  const r = spawnSync(process.execPath, ["bin/agenttrail.js", ...args], {
    encoding: "utf8",
    input,
    timeout: 60_000,
    env: env && { ...process.env, ...env },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const lines = (path: string) =>
  readFileSync(path, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);

describe("agenttrail replay", () => {
  it("replays the bundled examples: summary, AI principals with evidence, alerts, and the --out files", () => {
    const out = mkdtempSync(join(tmpdir(), "agenttrail-out-"));
    const r = agenttrail(["replay", "examples/", "--out", out, "--format", "json"]);
    expect(r.status, r.stderr).toBe(0);
    const summary = JSON.parse(r.stdout);
    expect(summary).toEqual(JSON.parse(readFileSync(join(out, "summary.json"), "utf8")));
    expect(summary.records).toMatchObject({ read: 43, events: 43, malformed: 0, duplicates: 0 });
    expect(summary.timeRange).toEqual({
      first: "2026-05-08T09:05:00.000Z",
      last: "2026-05-08T22:03:45.000Z",
    });
    expect(summary.byKind).toEqual({ ai: 35, human: 7, service: 1, unknown: 0 });
    expect(summary.files.skipped.some((f: string) => f.includes("CloudTrail-Digest/"))).toBe(true);
    expect(summary.aiPrincipals.map((p: { principal: string }) => p.principal)).toContain(
      "arn:aws:sts::111122223333:assumed-role/agent-runner/claude-task-42",
    );
    const events = lines(join(out, "events.jsonl"));
    expect(events).toHaveLength(43);
    for (const e of events) {
      for (const k of ["id", "time", "service", "action", "account", "region", "principal", "actor"])
        expect(e).toHaveProperty(k);
    }
    const mcp = events.find(
      (e) => e.action === "DescribeInstances" && e.sourceIp === "aws-mcp.amazonaws.com",
    );
    expect(mcp?.actor).toMatchObject({ kind: "ai", confidence: "high", via: "mcp-managed" });
    const alerts = lines(join(out, "alerts.jsonl"));
    expect(alerts.map((a) => a.ruleId)).toEqual(
      expect.arrayContaining([
        "ai-destructive-action",
        "cloudtrail-tampering",
        "ai-off-hours-burst",
        "ai-access-denied-burst",
      ]),
    );
    for (const a of alerts)
      for (const k of ["id", "ruleId", "severity", "title", "actor", "eventIds", "count"])
        expect(a).toHaveProperty(k);
    expect(readFileSync(join(out, "alerts.jsonl"), "utf8")).not.toContain("IQoJb3JpZ2luX2VjEXAMPLE");
  });

  it("prints the feed the README shows for the bundled examples", () => {
    const readme = readFileSync("README.md", "utf8");
    const start = readme.indexOf("Alerts (6:");
    const shown = readme.slice(start, readme.indexOf("```", start)).trimEnd().split("\n");
    const r = agenttrail(["replay", "examples/"]);
    expect(r.status, r.stderr).toBe(0);
    // The README elides each alert's start time.
    const feed = r.stdout.slice(r.stdout.indexOf("Alerts (")).trimEnd().split("\n");
    expect(feed.map((line) => line.replace(/, 2026-[0-9T:.Z-]+\)$/, ", …)"))).toEqual(shown);
  });

  it("prints a readable feed on the terminal, with no control characters from the records", () => {
    const dir = mkdtempSync(join(tmpdir(), "agenttrail-hostile-"));
    const hostile = call(
      "DeleteBucket",
      "2026-05-09T23:00:00Z",
      iamUser("agent-user", undefined, { invokedBy: "aws-mcp.amazonaws.com" }),
      {
        source: "s3.amazonaws.com",
        sourceIp: "aws-mcp.amazonaws.com",
        userAgent: "aws-mcp.amazonaws.com",
        requestParameters: { bucketName: "prod\u001b[2J\u001b[31mRED\r\nFAKE ALERT\u202e" },
      },
    );
    writeFileSync(join(dir, "a.json"), JSON.stringify({ Records: [hostile] }));
    const r = agenttrail(["replay", dir]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain("AI principals:");
    expect(r.stdout).toContain("invokedBy: aws-mcp.amazonaws.com");
    expect(r.stdout).toMatch(/\[HIGH\] AI agent .*deleted/);
    // biome-ignore lint/suspicious/noControlCharactersInRegex: asserting their absence
    expect(r.stdout).not.toMatch(/[\u001b\r\u202e]/);
    expect(r.stdout).not.toMatch(/\nFAKE ALERT/);
  });

  it("cleans a hostile file name before printing it with its malformed record", () => {
    const dir = mkdtempSync(join(tmpdir(), "agenttrail-name-"));
    const good = JSON.parse(readFileSync(STOP_LOGGING_FILE, "utf8")).Records[0];
    writeFileSync(
      join(dir, "evil\u001b]0;pwned\u0007\u001b[2J.jsonl"),
      `${JSON.stringify(good)}\n{"eventName": oops}\n`,
    );
    const r = agenttrail(["replay", dir]);
    expect(r.status).toBe(1);
    expect(r.stdout).toContain("Malformed records:");
    expect(r.stdout).toMatch(/evil.*\.jsonl #1: line 2: not JSON/);
    // biome-ignore lint/suspicious/noControlCharactersInRegex: asserting their absence
    expect(r.stdout).not.toMatch(/[\u001b\u0007]/);
  });

  it("goes on past bad files and records, counts duplicates once, and exits 1", () => {
    const dir = mkdtempSync(join(tmpdir(), "agenttrail-bad-"));
    mkdirSync(join(dir, "b"));
    copyFileSync(STOP_LOGGING_FILE, join(dir, "a.json"));
    writeFileSync(join(dir, "b", "copy.json.gz"), gzipSync(readFileSync(STOP_LOGGING_FILE)));
    writeFileSync(join(dir, "broken.json"), '{"Records": [');
    writeFileSync(join(dir, "fake.json.gz"), '{"Records": []}');
    const good = JSON.parse(readFileSync(STOP_LOGGING_FILE, "utf8")).Records[0];
    writeFileSync(
      join(dir, "c.jsonl"),
      `${JSON.stringify({ ...good, eventID: "line-1" })}\n{"eventName": oops}\n`,
    );
    const r = agenttrail(["replay", dir, "--format", "json"]);
    expect(r.status).toBe(1);
    const summary = JSON.parse(r.stdout);
    const n = JSON.parse(readFileSync(STOP_LOGGING_FILE, "utf8")).Records.length;
    expect(summary.records.duplicates).toBe(n);
    expect(summary.records.events).toBe(n + 1);
    expect(summary.records.malformed).toBe(1);
    expect(summary.malformed[0]).toMatchObject({ source: `${dir}/c.jsonl`, index: 1 });
    expect(summary.files.failed.map((f: { source: string }) => f.source).sort()).toEqual([
      `${dir}/broken.json`,
      `${dir}/fake.json.gz`,
    ]);
    expect(r.stderr).toContain(`${dir}/broken.json: not JSON`);
    expect(r.stderr).toContain(`${dir}/fake.json.gz: not gzip`);
  });

  it("refuses a path with nothing to replay (rather than a summary that reads as no AI activity) and an --out it cannot make, with exit 2", () => {
    const dir = mkdtempSync(join(tmpdir(), "agenttrail-nothing-"));
    mkdirSync(join(dir, "CloudTrail-Digest"));
    writeFileSync(join(dir, "CloudTrail-Digest", "x_CloudTrail-Digest_us-east-1_20260508T0910Z.json.gz"), "");
    writeFileSync(join(dir, "notes.txt"), "not a trail file");
    const empty = agenttrail(["replay", dir]);
    expect(empty.status).toBe(2);
    expect(empty.stdout).toBe("");
    expect(empty.stderr).toBe(
      `agenttrail: no CloudTrail log files in ${dir} (2 file(s) passed over: digest, Insights, other services' logs or other names); replay reads .json, .jsonl and .ndjson files, gzipped or not\n`,
    );
    // Beside a directory that has trail files, the empty one is still named.
    const bare = mkdtempSync(join(tmpdir(), "agenttrail-bare-"));
    const mixed = agenttrail(["replay", "examples/", bare]);
    expect(mixed.status).toBe(2);
    expect(mixed.stderr).toBe(
      `agenttrail: no CloudTrail log files in ${bare}; replay reads .json, .jsonl and .ndjson files, gzipped or not\n`,
    );
    // An --out that cannot be made stops the run before any input is read.
    writeFileSync(join(dir, "a-file"), "");
    const badOut = agenttrail(["replay", "examples/", "--out", join(dir, "a-file", "out")]);
    expect(badOut.status).toBe(2);
    expect(badOut.stdout).toBe("");
    expect(badOut.stderr).toMatch(/^agenttrail: --out .*a-file\/out: cannot make the directory: ENOTDIR/);
    const missing = agenttrail(["replay", join(dir, "no-such-dir")]);
    expect(missing.status).toBe(2);
    // The path and the reason, not a stack trace.
    expect(missing.stderr).toBe(`agenttrail: ${join(dir, "no-such-dir")}: no such file or directory\n`);
    // A wrong path is said before the configuration is read, which would stop the run first.
    const noConfig = join(dir, "no-such-config.yaml");
    for (const [path, said] of [
      [join(dir, "no-such-dir"), `agenttrail: ${join(dir, "no-such-dir")}: no such file or directory`],
      [bare, `agenttrail: no CloudTrail log files in ${bare};`],
    ]) {
      const r = agenttrail(["replay", path, "--config", noConfig]);
      expect(r.status).toBe(2);
      expect(r.stderr.startsWith(said), r.stderr).toBe(true);
      expect(r.stderr).not.toContain(noConfig);
    }
  });

  it("reads standard input", () => {
    const r = agenttrail(["replay", "-", "--format", "json"], readFileSync(STOP_LOGGING_FILE, "utf8"));
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).records.read).toBe(
      JSON.parse(readFileSync(STOP_LOGGING_FILE, "utf8")).Records.length,
    );
  });

  it("adds SigmaHQ rules with --rules, and stops on a bad config with exit 2", () => {
    const out = mkdtempSync(join(tmpdir(), "agenttrail-sigma-"));
    const r = agenttrail([
      "replay",
      INVICTUS,
      "--rules",
      "test/fixtures/corpus/sigma",
      "--out",
      out,
      "--format",
      "json",
    ]);
    expect(r.status, r.stderr).toBe(0);
    const ruleIds = lines(join(out, "alerts.jsonl")).map((a) => a.ruleId);
    expect(ruleIds).toContain("cloudtrail-tampering");
    // SigmaHQ aws_cloudtrail_disable_logging
    expect(ruleIds).toContain("4db60cc0-36fb-42b7-9b58-a5b53019fb74");
    // Tuning in the config: no alerts of a disabled rule, and the run says what it set and what it missed.
    const quiet = join(out, "quiet.yaml");
    writeFileSync(
      quiet,
      [
        "rules:",
        "  disabled: [4db60cc0-36fb-42b7-9b58-a5b53019fb74]",
        "  exceptions:",
        "    - rules: [ai-destructive-actoin]",
        "      match: { eventName: DeleteBucket }",
        "      reason: a typo the run must report",
        "",
      ].join("\n"),
    );
    const quietOut = join(out, "quiet");
    const withoutIt = agenttrail([
      "replay",
      INVICTUS,
      "--rules",
      "test/fixtures/corpus/sigma",
      "--config",
      quiet,
      "--out",
      quietOut,
    ]);
    expect(withoutIt.status, withoutIt.stderr).toBe(0);
    expect(withoutIt.stderr).toContain("1 rule(s) disabled by the config (rules.disabled)");
    // The typo'd exception narrows no rule: reported, and not counted as in force.
    expect(withoutIt.stderr).not.toContain("rule exception(s) set");
    expect(withoutIt.stderr).toContain(
      "rule problem: config rules.exceptions[0] (ai-destructive-actoin): no loaded rule has this id",
    );
    const quietIds = lines(join(quietOut, "alerts.jsonl")).map((a) => a.ruleId);
    expect(quietIds).toContain("cloudtrail-tampering");
    expect(quietIds).not.toContain("4db60cc0-36fb-42b7-9b58-a5b53019fb74");
    const badConfig = join(out, "bad.yaml");
    writeFileSync(badConfig, "agents:\n  rolez: []\n");
    const bad = agenttrail(["replay", "examples/", "--config", badConfig]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('Unrecognized key: "rolez"');
  });
});

describe("agenttrail rules", () => {
  /** Writes `text` to `path`, making its directory first; returns the path. */
  const file = (path: string, text: string) => {
    mkdirSync(join(path, ".."), { recursive: true });
    writeFileSync(path, text);
    return path;
  };
  /** A rule that loads only with the values of its placeholder, from a configuration. */
  const ADMIN_ROLE_RULE =
    "title: admin role used\nid: admin-role-used\nlogsource: {product: aws, service: cloudtrail}\ndetection:\n  sel:\n    userIdentity.sessionContext.sessionIssuer.userName|expand: '%admin_roles%'\n  condition: sel\nlevel: low\n";

  it("test and lint stop with one line when the built-in rules are missing (a setting, not a bug)", () => {
    const missing = join(tmpdir(), "agenttrail-no-such-rules-dir");
    for (const sub of ["test", "lint"]) {
      const r = agenttrail(["rules", sub], undefined, { AGENTTRAIL_RULES_DIR: missing });
      expect(r.status, sub + r.stderr).toBe(2);
      expect(r.stderr).toBe(`agenttrail: built-in rules not found at ${missing}\n`);
    }
  });

  /** What rules test says to --no-builtin-rules, with or without a directory. */
  const TEST_NO_BUILTIN =
    "agenttrail: rules test takes no --no-builtin-rules: it tests the directories given (the built-in pack when none is)\n";

  it("rules test refuses --no-builtin-rules with one line naming it, given a directory", () => {
    // It tests the directories given, so the option would either do nothing or leave no rule to test.
    // Without a directory (and rules lint without one) it is checked in the test below, with --config.
    const r = agenttrail(["rules", "test", "--no-builtin-rules", "rules/"]);
    expect(r.status, r.stderr).toBe(2);
    expect(r.stderr).toBe(TEST_NO_BUILTIN);
    expect(r.stdout).toBe("");
  });

  it("says a usage mistake before reading the configuration, which would stop it first", () => {
    const missing = join(tmpdir(), "agenttrail-no-such-config.yaml");
    // The whole of stderr, and an empty stdout, where a case gives its full message.
    for (const [args, usage, full] of [
      [["rules", "bogus"], "rules needs test or lint, not bogus", undefined],
      [["rules", "lint", "--bogus"], "Unknown option '--bogus'", undefined],
      [["rules", "test", "--no-builtin-rules"], "rules test takes no --no-builtin-rules", TEST_NO_BUILTIN],
      [
        ["rules", "lint", "--no-builtin-rules"],
        "rules lint --no-builtin-rules needs a rule directory",
        "agenttrail: rules lint --no-builtin-rules needs a rule directory to lint\n",
      ],
    ] as const) {
      const r = agenttrail([...args, "--config", missing]);
      expect(r.status, r.stderr).toBe(2);
      expect(r.stderr).toMatch(new RegExp(`^agenttrail: ${usage}`));
      expect(r.stderr).not.toContain(missing);
      if (full !== undefined) {
        expect(r.stderr).toBe(full);
        expect(r.stdout).toBe("");
      }
    }
    // The configuration is read all the same, once the command is right.
    const r = agenttrail(["rules", "lint", "--config", missing]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(missing);
  });

  it("tests the built-in rules' fixtures and lints rule directories", () => {
    const t = agenttrail(["rules", "test"]);
    expect(t.status, t.stdout + t.stderr).toBe(0);
    expect(t.stdout).toContain("ai-destructive-action");
    const dir = mkdtempSync(join(tmpdir(), "agenttrail-rules-"));
    writeFileSync(
      join(dir, "broken.yml"),
      "title: broken\nlogsource: {product: aws, service: cloudtrail}\ndetection:\n  sel: {eventName: X}\n  condition: sel and nothing\n",
    );
    const lint = agenttrail(["rules", "lint", dir]);
    expect(lint.status).toBe(1);
    expect(lint.stdout).toContain("broken.yml");
    expect(agenttrail(["rules", "lint", "test/fixtures/corpus/sigma"]).status).toBe(0);
    // A directory with no rule in it (a mistyped path in CI) fails both, where it used to pass.
    const empty = mkdtempSync(join(tmpdir(), "agenttrail-no-rules-"));
    for (const sub of ["lint", "test"]) {
      const r = agenttrail(["rules", sub, empty]);
      expect(r.status, sub).toBe(1);
      expect(r.stdout).toContain(`${empty}: no rule files (.yml, .yaml) in it`);
    }
  });

  it("lints a configuration's tuning and placeholders against the rules with --config", () => {
    const dir = mkdtempSync(join(tmpdir(), "agenttrail-tuning-"));
    const rules = join(dir, "rules");
    file(join(rules, "admin.yml"), ADMIN_ROLE_RULE);
    const config = (name: string, yaml: string) => file(join(dir, `${name}.yaml`), yaml);
    // Without the placeholder's values the rule cannot load; with them it does.
    expect(agenttrail(["rules", "lint", rules]).status).toBe(1);
    const good = config(
      "good",
      "rules:\n  placeholders: {admin_roles: [OrgAdmin]}\n  exceptions:\n    - {rules: [admin-role-used], match: {eventName: GetCallerIdentity}, reason: read-only check}\n",
    );
    const ok = agenttrail(["rules", "lint", "--config", good, rules]);
    expect(ok.status, ok.stdout).toBe(0);
    const typo = config(
      "typo",
      "rules:\n  placeholders: {admin_roles: [OrgAdmin]}\n  disabled: [admin-role-usd]\n  exceptions:\n    - {rules: [admin-role-used], match: {eventName|nosuch: x}, reason: broken}\n",
    );
    const bad = agenttrail(["rules", "lint", "--config", typo, rules]);
    expect(bad.status).toBe(1);
    expect(bad.stdout).toMatch(/^error +config rules\.disabled admin-role-usd: no loaded rule has this id$/m);
    expect(bad.stdout).toMatch(/^error +config rules\.exceptions\[0\]: match: .*nosuch/m);
  });

  it("tests fixtures under a configuration with rules test --config: placeholders, agents, tuning", () => {
    const dir = mkdtempSync(join(tmpdir(), "agenttrail-test-config-"));
    const rules = join(dir, "rules");
    file(join(rules, "admin.yml"), ADMIN_ROLE_RULE);
    // AI only through the configured agent role: the fixture tests attribution as the config sets it.
    file(
      join(rules, "agent.yml"),
      "title: agent call\nid: agent-call\nlogsource: {product: aws, service: cloudtrail}\ndetection:\n  sel: {actor.kind: ai}\n  condition: sel\nlevel: low\n",
    );
    const session = (role: string) =>
      JSON.stringify([
        call(
          "DescribeInstances",
          "2026-11-18T10:10:00Z",
          roleSession(role, "s", "ASIAEXAMPLE00000001", "2026-11-18T10:00:00Z"),
        ),
      ]);
    file(join(rules, "fixtures/admin-role-used/match/org-admin.json"), session("OrgAdmin"));
    file(join(rules, "fixtures/admin-role-used/nomatch/developer.json"), session("Developer"));
    file(join(rules, "fixtures/agent-call/match/bedrock-agent.json"), session("bedrock-agent"));
    file(join(rules, "fixtures/agent-call/nomatch/developer.json"), session("Developer"));
    const placeholders = "rules:\n  placeholders: {admin_roles: [OrgAdmin]}\n";
    const config = file(join(dir, "agenttrail.yaml"), `agents: {roles: [bedrock-agent]}\n${placeholders}`);

    // Without the configuration the |expand rule cannot load (and the agent is not one).
    const bare = agenttrail(["rules", "test", rules]);
    expect(bare.status).toBe(1);
    expect(bare.stdout).toMatch(
      /^LOAD ERROR .*admin\.yml admin-role-used: .*placeholder %admin_roles% has no values; set rules\.placeholders\.admin_roles in the config \(--config FILE\)$/m,
    );
    expect(bare.stdout).toMatch(/^FAIL +agent-call: 1 of 2 fixtures failed$/m);
    const ok = agenttrail(["rules", "test", "--config", config, rules]);
    expect(ok.status, ok.stdout + ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/^PASS +admin-role-used$/m);
    expect(ok.stdout).toMatch(/^PASS +agent-call$/m);
    // Tuning applies as in a run: an exception that swallows a match fixture fails it; a disabled
    // rule is not tested; entries for rules outside the directory are left to rules lint.
    const tuned = file(
      join(dir, "tuned.yaml"),
      `${placeholders}  disabled: [agent-call, cis-vpc-changes]\n  exceptions:\n    - {rules: [admin-role-used, ai-destructive-action], match: {userIdentity.sessionContext.sessionIssuer.userName: OrgAdmin}, reason: too broad}\n`,
    );
    const t = agenttrail(["rules", "test", "--config", tuned, rules]);
    expect(t.status).toBe(1);
    expect(t.stdout).toMatch(/^FAIL +admin-role-used: 1 of 2 fixtures failed$/m);
    expect(t.stdout).toMatch(/^DISABLED +agent-call: /m);
    expect(t.stdout).not.toContain("LOAD ERROR");
    expect(t.stdout).toMatch(/^2 rules: 0 passed, 1 failed, 1 disabled, 0 load errors$/m);
  });

  it("lints the rules a run loads: the built-in pack beside the directories given, each file once", () => {
    const dir = mkdtempSync(join(tmpdir(), "agenttrail-own-rules-"));
    const rules = join(dir, "rules");
    file(
      join(rules, "own.yml"),
      "title: own rule\nid: own-rule\nlogsource: {product: aws, service: cloudtrail}\ndetection:\n  sel: {eventName: GetCallerIdentity}\n  condition: sel\nlevel: low\n",
    );
    const config = file(
      join(dir, "agenttrail.yaml"),
      "rules:\n  disabled: [ai-destructive-action, own-rule]\n",
    );
    // A run with `--rules DIR` has the built-ins too: disabling one of them is not an unknown id.
    const lint = agenttrail(["rules", "lint", "--config", config, rules]);
    expect(lint.status, lint.stdout).toBe(0);
    expect(lint.stdout).toMatch(/^ok +\S*ai-destructive-action\.yml ai-destructive-action /m);
    expect(lint.stdout).toMatch(/^ok +\S*own\.yml own-rule /m);
    // Without the built-ins, as `--no-builtin-rules` runs, it is unknown.
    const alone = agenttrail(["rules", "lint", "--no-builtin-rules", "--config", config, rules]);
    expect(alone.status).toBe(1);
    expect(alone.stdout).toMatch(
      /^error +config rules\.disabled ai-destructive-action: no loaded rule has this id$/m,
    );
    expect(alone.stdout).not.toContain("ai-off-hours-burst");
    // The built-in pack given again (`rules/` in a clone) is the same files, not duplicate ids.
    const again = agenttrail(["rules", "lint", "rules/", rules]);
    expect(again.status, again.stdout).toBe(0);
    const replay = agenttrail(["replay", "examples/", "--rules", "rules/"]);
    expect(replay.status).toBe(0);
    expect(replay.stderr).not.toContain("rule problem");
  });
});

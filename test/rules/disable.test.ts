import { describe, expect, it } from "vitest";
import { defaultConfig, parseConfig } from "../../src/config.ts";
import { buildDetector } from "../../src/detection.ts";
import type { AuditEvent } from "../../src/event.ts";
import { RuleEngine } from "../../src/rules/engine.ts";
import { linkRules } from "../../src/rules/link.ts";
import type { RuleHit } from "../../src/rules/types.ts";
import { MemoryStore } from "../../src/state/memory.ts";
import { event, load, ruleHead, S3_BURST } from "./engine.helpers.ts";

/** S3_BURST with its base rule also alerting on its own (generate: true), and a lone rule. */
const RULES = `${S3_BURST.replace("  rules: [s3_call]\n", "  rules: [s3_call]\n  generate: true\n")}---
${ruleHead("bucket-deleted")}detection:
  s:
    eventName: DeleteBucket
  condition: s
`;

const s3Calls = (n: number): AuditEvent[] =>
  Array.from({ length: n }, (_, i) =>
    event({
      eventSource: "s3.amazonaws.com",
      eventName: "DeleteBucket",
      eventID: `ev-${i}`,
      eventTime: `2026-11-20T10:00:0${i}Z`,
    }),
  );

const linkedWithout = (text: string, disabled: string[]) => linkRules(load(text).rules, { disabled });

async function hitsWith(disabled: string[], text = RULES): Promise<RuleHit[]> {
  return new RuleEngine(linkedWithout(text, disabled), defaultConfig).detect(s3Calls(3), new MemoryStore());
}

/** Rule ids that would alert, each once. */
const alerting = (hits: RuleHit[]) =>
  [...new Set(hits.filter((h) => h.rule.alert).map((h) => h.rule.id))].sort();

describe("rules.disabled", () => {
  it("runs every rule when nothing is disabled (the baseline the other cases change)", async () => {
    expect(alerting(await hitsWith([]))).toEqual(["bucket-deleted", "s3-burst", "s3-call"]);
  });

  it("takes a disabled rule out: no hits, the others unchanged", async () => {
    const { rules, disabled, problems } = linkedWithout(RULES, ["bucket-deleted"]);
    expect(disabled).toBe(1);
    expect(problems).toEqual([]);
    expect(rules.map((r) => r.meta.id)).not.toContain("bucket-deleted");
    const hits = await hitsWith(["bucket-deleted"]);
    expect(hits.some((h) => h.rule.id === "bucket-deleted")).toBe(false);
    expect(alerting(hits)).toEqual(["s3-burst", "s3-call"]);
  });

  it("keeps a disabled base rule feeding its correlation, without alerting on its own", async () => {
    expect(alerting(await hitsWith(["s3-call"]))).toEqual(["bucket-deleted", "s3-burst"]);
  });

  it("takes a disabled correlation out, and its base rule with it when nothing else reads it", async () => {
    const { rules } = linkedWithout(RULES, ["s3-burst", "s3-call"]);
    expect(rules.map((r) => r.meta.id)).toEqual(["bucket-deleted"]);
    expect(alerting(await hitsWith(["s3-burst"]))).toEqual(["bucket-deleted", "s3-call"]);
  });

  it("takes out with a disabled correlation the base rule that only fed it (Sigma's default: no generate)", async () => {
    const plain = `${S3_BURST}---\n${ruleHead("bucket-deleted")}detection:\n  s:\n    eventName: DeleteBucket\n  condition: s\n`;
    const { rules } = linkedWithout(plain, ["s3-burst"]);
    expect(rules.map((r) => r.meta.id)).toEqual(["bucket-deleted"]);
    // Nor, its correlation gone, does the base rule start alerting on its own.
    expect(alerting(await hitsWith(["s3-burst"], plain))).toEqual(["bucket-deleted"]);
  });

  it("follows a correlation's reference by name to the rule linking resolves it to, not to every rule of that name", async () => {
    // Two rules named s3_call: the correlation reads the first (as linking resolves names), so the
    // second, disabled, feeds nothing and is not evaluated; the first, disabled, still feeds it.
    const twin = `${ruleHead("s3-call-twin")}name: s3_call\ndetection:\n  s:\n    eventSource: s3.amazonaws.com\n  condition: s\n`;
    const text = `${RULES}---\n${twin}`;
    const twinOff = linkedWithout(text, ["s3-call-twin"]);
    expect(twinOff.rules.map((r) => r.meta.id)).not.toContain("s3-call-twin");
    expect(twinOff.correlations.map((c) => c.bases.map((b) => b.meta.id))).toEqual([["s3-call"]]);
    const baseOff = linkedWithout(text, ["s3-call"]);
    expect(baseOff.rules.map((r) => r.meta.id)).toContain("s3-call");
    expect(alerting(await hitsWith(["s3-call"], text))).toEqual([
      "bucket-deleted",
      "s3-burst",
      "s3-call-twin",
    ]);
  });

  it("runs on only the disabled rules an enabled correlation still reads, as linked, and lists every rule turned off", () => {
    const callOf = (id: string, source: string) =>
      `${ruleHead(id)}detection:\n  s:\n    eventSource: ${source}\n  condition: s\n`;
    const burstOver = (id: string, base: string) =>
      `title: ${id}\nid: ${id}\ncorrelation:\n  type: event_count\n  rules: [${base}]\n  timespan: 5m\n  condition: {gte: 3}\n`;
    // s3-call feeds s3-burst (enabled); bucket-deleted feeds nothing; ec2-call, enabled, feeds
    // ec2-burst; iam-call feeds only iam-burst, disabled with it.
    const text = [
      RULES,
      callOf("ec2-call", "ec2.amazonaws.com"),
      burstOver("ec2-burst", "ec2-call"),
      callOf("iam-call", "iam.amazonaws.com"),
      burstOver("iam-burst", "iam-call"),
    ].join("---\n");
    const linked = linkedWithout(text, ["s3-call", "bucket-deleted", "iam-call", "iam-burst"]);
    expect(linked.problems).toEqual([]);
    // Of the disabled rules, only s3-call runs, as it is linked: in `rules`, alerting settled off.
    const off = new Set(linked.off.map((o) => o.rule.meta.id));
    const feedingOnly = linked.rules.filter((r) => off.has(r.meta.id));
    expect(feedingOnly.map((r) => r.meta.id)).toEqual(["s3-call"]);
    expect(feedingOnly[0].meta.alert).toBe(false);
    expect(linked.enabled).toBe(linked.rules.length - 1);
    // Turned off all the same: listed with the rules left out (correlations first), with why.
    expect(linked.off.map((o) => [o.rule.meta.id, o.reason])).toEqual([
      ["iam-burst", "turned off by the configuration (rules.disabled)"],
      ["s3-call", "turned off by the configuration (rules.disabled)"],
      ["bucket-deleted", "turned off by the configuration (rules.disabled)"],
      ["iam-call", "turned off by the configuration (rules.disabled)"],
    ]);
  });

  it("reports an id that no loaded rule has (a typo must not leave a rule on unnoticed)", () => {
    const { problems, disabled } = linkedWithout(RULES, ["s3-cal"]);
    expect(disabled).toBe(0);
    expect(problems).toEqual([
      { file: "config rules.disabled", ruleId: "s3-cal", reason: "no loaded rule has this id" },
    ]);
  });

  it("counts as disabled only rules linking kept: a refused correlation is a problem, not turned off", () => {
    const broken = S3_BURST.split("---\n")[1]
      .replace("id: s3-burst", "id: broken-burst")
      .replace("rules: [s3_call]", "rules: [no_such_rule]");
    const linked = linkedWithout(`${RULES}---\n${broken}`, ["broken-burst", "bucket-deleted"]);
    expect(linked.problems).toEqual([
      {
        file: "inline.yml#4",
        ruleId: "broken-burst",
        reason: 'correlation refers to unknown rule "no_such_rule"',
      },
    ]);
    expect(linked.off.map((o) => o.rule.meta.id)).toEqual(["bucket-deleted"]);
    expect(linked.disabled).toBe(1);
  });

  it("switches off a SigmaHQ rule loaded with --rules, and says so in the counts", async () => {
    const assumeRoleMisuse = "905d389b-b853-46d0-9d3d-dea0d3a3cd49";
    const roleCall = event({
      eventSource: "ec2.amazonaws.com",
      eventName: "DescribeInstances",
      userIdentity: {
        type: "AssumedRole",
        arn: "arn:aws:sts::111122223333:assumed-role/ops/alice",
        sessionContext: { sessionIssuer: { type: "Role", userName: "ops" } },
      },
    });
    const options = { builtin: true, extraDirs: ["test/fixtures/corpus/sigma"] };
    const all = await buildDetector(defaultConfig, options);
    const hits = await all.detector.detect([roleCall], new MemoryStore());
    expect(hits.map((h) => h.rule.id)).toContain(assumeRoleMisuse);

    const config = parseConfig({ rules: { disabled: [assumeRoleMisuse, "no-such-rule"] } });
    const less = await buildDetector(config, options);
    expect(less.disabledCount).toBe(1);
    expect(less.ruleCount).toBe(all.ruleCount - 1);
    expect(less.errors).toEqual(["config rules.disabled (no-such-rule): no loaded rule has this id"]);
    const after = await less.detector.detect([roleCall], new MemoryStore());
    expect(after.map((h) => h.rule.id)).not.toContain(assumeRoleMisuse);
  });
});

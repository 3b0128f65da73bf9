import { describe, expect, it } from "vitest";
import { defaultConfig, parseConfig } from "../../src/config.ts";
import { buildDetector } from "../../src/detection.ts";
import type { AuditEvent } from "../../src/event.ts";
import { withoutDisabled } from "../../src/rules/disable.ts";
import { RuleEngine } from "../../src/rules/engine.ts";
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

async function hitsWith(disabled: string[]): Promise<RuleHit[]> {
  const { rules } = withoutDisabled(load(RULES).rules, disabled);
  return new RuleEngine(rules, defaultConfig).detect(s3Calls(3), new MemoryStore());
}

/** Rule ids that would alert, each once. */
const alerting = (hits: RuleHit[]) =>
  [...new Set(hits.filter((h) => h.rule.alert).map((h) => h.rule.id))].sort();

describe("rules.disabled", () => {
  it("runs every rule when nothing is disabled (the baseline the other cases change)", async () => {
    expect(alerting(await hitsWith([]))).toEqual(["bucket-deleted", "s3-burst", "s3-call"]);
  });

  it("takes a disabled rule out: no hits, the others unchanged", async () => {
    const { rules, disabled, problems } = withoutDisabled(load(RULES).rules, ["bucket-deleted"]);
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
    const { rules } = withoutDisabled(load(RULES).rules, ["s3-burst", "s3-call"]);
    expect(rules.map((r) => r.meta.id)).toEqual(["bucket-deleted"]);
    expect(alerting(await hitsWith(["s3-burst"]))).toEqual(["bucket-deleted", "s3-call"]);
  });

  it("takes out with a disabled correlation the base rule that only fed it (Sigma's default: no generate)", async () => {
    const plain = `${S3_BURST}---\n${ruleHead("bucket-deleted")}detection:\n  s:\n    eventName: DeleteBucket\n  condition: s\n`;
    const { rules } = withoutDisabled(load(plain).rules, ["s3-burst"]);
    expect(rules.map((r) => r.meta.id)).toEqual(["bucket-deleted"]);
    // Nor, relinked without its correlation, does the base rule start alerting on its own.
    const hits = await new RuleEngine(rules, defaultConfig).detect(s3Calls(3), new MemoryStore());
    expect(alerting(hits)).toEqual(["bucket-deleted"]);
  });

  it("reports an id that no loaded rule has (a typo must not leave a rule on unnoticed)", () => {
    const { problems, disabled } = withoutDisabled(load(RULES).rules, ["s3-cal"]);
    expect(disabled).toBe(0);
    expect(problems).toEqual([
      { file: "config rules.disabled", ruleId: "s3-cal", reason: "no loaded rule has this id" },
    ]);
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

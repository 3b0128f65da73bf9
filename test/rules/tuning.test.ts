import { describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config.ts";
import { tuneRules } from "../../src/rules/tuning.ts";
import { load, ruleHead, S3_BURST } from "./engine.helpers.ts";

/** A correlation (s3-burst) over a base rule nothing else reads (s3-call), and a lone rule. */
const RULES = `${S3_BURST}---
${ruleHead("bucket-deleted")}detection:
  s:
    eventName: DeleteBucket
  condition: s
`;

const tune = (rules: Record<string, unknown>) => tuneRules(load(RULES).rules, parseConfig({ rules }).rules);

const exception = (ids: string[]) => ({ rules: ids, match: { eventName: "x" }, reason: "test" });

describe("tuneRules: what a run is told is running and in force", () => {
  it("counts the rules that run: not those a disabled correlation took with it", () => {
    const tuned = tune({ disabled: ["s3-burst"] });
    expect(tuned.linked.rules.map((r) => r.meta.id)).toEqual(["bucket-deleted"]);
    expect(tuned.linked.disabled).toBe(1);
    expect(tuned.linked.enabled).toBe(1);
  });

  it("does not count a disabled base rule that runs on only to feed its correlation", () => {
    const tuned = tune({ disabled: ["s3-call"] });
    expect(tuned.linked.rules.map((r) => r.meta.id).sort()).toEqual([
      "bucket-deleted",
      "s3-burst",
      "s3-call",
    ]);
    expect(tuned.linked.enabled).toBe(2);
  });

  it("counts an exception in force only while a rule it narrows still runs", () => {
    expect(tune({ exceptions: [exception(["s3-call"])] }).exceptions).toBe(1);
    expect(tune({ disabled: ["s3-burst"], exceptions: [exception(["s3-call"])] }).exceptions).toBe(0);
    expect(
      tune({ disabled: ["bucket-deleted"], exceptions: [exception(["bucket-deleted"])] }).exceptions,
    ).toBe(0);
    const both = tune({
      disabled: ["bucket-deleted"],
      exceptions: [exception(["bucket-deleted", "s3-call"])],
    });
    expect(both.exceptions).toBe(1);
  });
});

describe("tuneRules on rules as loaded (linked here)", () => {
  it("narrows the rule that runs when an id is duplicated (the first), not its refused copy", () => {
    // The copy is a correlation: had the exception looked it up, it would be refused as one.
    const copy = S3_BURST.split("---\n")[1].replace("id: s3-burst", "id: bucket-deleted");
    const { rules } = load(`${RULES}---\n${copy}`);
    const tuned = tuneRules(
      rules,
      parseConfig({ rules: { exceptions: [exception(["bucket-deleted"])] } }).rules,
    );
    expect(tuned.exceptions).toBe(1);
    expect(tuned.problems).toEqual([
      {
        file: "inline.yml#4",
        ruleId: "bucket-deleted",
        reason: "duplicate rule id (already in inline.yml#3)",
      },
    ]);
  });
});

import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { decodeFile } from "../../src/cloudtrail/decode.ts";
import { cloudTrailRecordSchema, isCloudTrailRecord } from "../../src/cloudtrail/records.ts";

const CORPUS = "test/fixtures/corpus";

function corpusRecords(): unknown[] {
  const out: unknown[] = [];
  for (const line of readFileSync(`${CORPUS}/panther-analysis/cases.jsonl`, "utf8")
    .split("\n")
    .filter(Boolean)) {
    out.push((JSON.parse(line) as { event: unknown }).event);
  }
  const invictus = `${CORPUS}/invictus-ir-aws-dataset/CloudTrail`;
  for (const f of readdirSync(invictus)) out.push(...decodeFile(readFileSync(`${invictus}/${f}`), f).records);
  const lib = `${CORPUS}/aws-cloudtrail-processing-library`;
  for (const f of readdirSync(lib).filter((n) => n.startsWith("Serializer") && !n.includes("BadJson"))) {
    out.push(...decodeFile(readFileSync(`${lib}/${f}`), f).records);
  }
  return out;
}

/** Variants of a valid record with one field of the wrong type each. */
function mutants(base: Record<string, unknown>): Record<string, unknown>[] {
  const ui = base.userIdentity as Record<string, unknown>;
  return [
    { ...base, eventTime: 5 },
    { ...base, eventName: "" },
    { ...base, eventSource: null },
    { ...base, awsRegion: 1 },
    { ...base, readOnly: 0 },
    { ...base, userIdentity: "x" },
    { ...base, userIdentity: { ...ui, arn: {} } },
    { ...base, userIdentity: { ...ui, sessionContext: { sessionIssuer: [] } } },
    { ...base, userIdentity: { ...ui, sessionContext: { attributes: { creationDate: 1 } } } },
    { ...base, resources: {} },
    { ...base, resources: ["{'stringified': 'entry'}"] },
    { ...base, requestParameters: undefined, responseElements: null, extra: { any: "thing" } },
  ];
}

describe("isCloudTrailRecord", () => {
  it("accepts exactly what the zod schema accepts, on every corpus record and on broken variants", () => {
    const records = corpusRecords();
    expect(records.length).toBeGreaterThan(3000);
    const valid = records.find((r) => cloudTrailRecordSchema.safeParse(r).success) as Record<string, unknown>;
    let checked = 0;
    for (const r of [...records, ...mutants(valid)]) {
      if (r === null || typeof r !== "object" || Array.isArray(r)) continue;
      const obj = r as Record<string, unknown>;
      expect(isCloudTrailRecord(obj), JSON.stringify(obj).slice(0, 200)).toBe(
        cloudTrailRecordSchema.safeParse(obj).success,
      );
      checked++;
    }
    expect(checked).toBeGreaterThan(3000);
  });
});

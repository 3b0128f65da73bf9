import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { decodeFile } from "../../src/cloudtrail/decode.ts";
import { replayBatches } from "../support/replay.ts";

const DIR = "test/fixtures/corpus/invictus-ir-aws-dataset/CloudTrail";
const files = readdirSync(DIR)
  .sort()
  .map((name) => `${DIR}/${name}`);
const batches = files.map((source) => ({
  source,
  records: decodeFile(readFileSync(source), source).records,
}));
const raw = batches.flatMap((b) => b.records as Record<string, unknown>[]);

describe("replaying the invictus-ir dataset (2,900 real records, no agent involved)", async () => {
  const run = await replayBatches(batches);
  const s = run.summary;

  it("accounts for every record", () => {
    expect(files).toHaveLength(55);
    expect(s.records.read).toBe(raw.length);
    expect(s.records.read).toBe(2900);
    expect(s.records.events + s.records.malformed + s.records.duplicates + s.records.skipped).toBe(
      s.records.read,
    );
    expect(s.records.events).toBe(new Set(raw.map((r) => r.eventID)).size);
  });

  it("finds no AI agent", () => {
    expect(s.byKind.ai).toBe(0);
    expect(s.aiPrincipals).toEqual([]);
  });

  it("calls AWS service records service and IAM users human", () => {
    for (const r of raw) {
      const line = run.byId.get(r.eventID as string);
      const ui = r.userIdentity as Record<string, unknown> | undefined;
      if (ui?.type === "AWSService" || (ui && !ui.type && ui.invokedBy))
        expect(line?.actor.kind, String(r.eventID)).toBe("service");
      if (ui?.type === "IAMUser" && !ui.invokedBy) expect(line?.actor.kind, String(r.eventID)).toBe("human");
    }
    expect(s.byKind.service).toBeGreaterThanOrEqual(76);
  });

  it("gives every verdict evidence", () => {
    for (const line of run.byId.values()) expect(line.actor.evidence.length, line.id).toBeGreaterThan(0);
  });
});

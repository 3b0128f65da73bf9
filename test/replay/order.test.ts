import { describe, expect, it } from "vitest";
import { decodeFile } from "../../src/cloudtrail/decode.ts";
import { localInputs } from "../../src/cloudtrail/inputs.ts";
import { type Batch, replayBatches } from "../support/replay.ts";

async function exampleBatches(): Promise<Batch[]> {
  const { files } = await localInputs(["examples"], async () => new Uint8Array());
  return Promise.all(
    files.map(async (f) => ({ source: f.source, records: decodeFile(await f.read(), f.source).records })),
  );
}

function verdicts(byId: Map<string, { actor: unknown }>): Record<string, unknown> {
  return Object.fromEntries(
    [...byId.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([id, l]) => [id, l.actor]),
  );
}

describe("order independence", () => {
  it("gives every event the same verdict, with the same evidence, forward and reversed", async () => {
    const batches = await exampleBatches();
    expect(batches.length).toBeGreaterThanOrEqual(4);
    const forward = await replayBatches(batches);
    const reversed = await replayBatches([...batches].reverse());
    expect(forward.byId.size).toBe(reversed.byId.size);
    expect(verdicts(reversed.byId)).toEqual(verdicts(forward.byId));
    // The scenario is built so that one order has to park and re-attribute.
    expect(forward.summary.records.reattributed + reversed.summary.records.reattributed).toBeGreaterThan(0);
    expect(forward.summary.byKind.ai).toBeGreaterThan(0);
  });

  it("gives the same verdicts for every rotation of the file order", async () => {
    const batches = await exampleBatches();
    const reference = verdicts((await replayBatches(batches)).byId);
    for (let k = 1; k < batches.length; k++) {
      const rotated = [...batches.slice(k), ...batches.slice(0, k)];
      expect(verdicts((await replayBatches(rotated)).byId)).toEqual(reference);
    }
  });

  it("gives the same verdicts when each record is its own batch, in reverse", async () => {
    const batches = await exampleBatches();
    const reference = verdicts((await replayBatches(batches)).byId);
    const singles = batches
      .flatMap((b) => b.records.map((r, i) => ({ source: `${b.source}#${i}`, records: [r] })))
      .reverse();
    expect(verdicts((await replayBatches(singles)).byId)).toEqual(reference);
  });

  it("ends with the expected verdicts for the example scenario", async () => {
    const { byId } = await replayBatches(await exampleBatches());
    const byPrincipal = (fragment: string) =>
      [...byId.values()].filter((l) => l.principal.includes(fragment));
    for (const l of byPrincipal("assumed-role/agent-runner/claude-task-42")) {
      // The agent's session is AI; the same session name reused by dev-bob after expiry is human.
      expect(l.actor.kind, `${l.action} ${l.time}`).toBe(l.time < "2026-05-08T10:05:00Z" ? "ai" : "human");
    }
    for (const l of byPrincipal("assumed-role/agent-runner/alice-debug")) expect(l.actor.kind).toBe("human");
    for (const l of byPrincipal("assumed-role/reports-writer/")) expect(l.actor.kind).toBe("ai");
    for (const l of byPrincipal("user/dev-carol"))
      expect(l.actor.kind).toBe(l.action === "GetCallerIdentity" ? "ai" : "human");
    expect(byPrincipal("user/agent-user").every((l) => l.actor.kind === "ai")).toBe(true);
  });
});

import { describe, expect, it } from "vitest";
import { defaultConfig } from "../../src/config.ts";
import { buildDetector } from "../../src/detection.ts";
import { processBatch } from "../../src/pipeline.ts";
import { EventTimeClock } from "../../src/state/event-clock.ts";
import { MemoryStore } from "../../src/state/memory.ts";
import { call, iamUser } from "../support/records.ts";

/** 24 calls by an agent through the managed MCP server, Saturday 02:00–02:04 UTC, split into two files. */
function burstFiles() {
  const agent = iamUser("agent-user", undefined, { invokedBy: "aws-mcp.amazonaws.com" });
  const records = Array.from({ length: 24 }, (_, i) =>
    call(
      "DescribeInstances",
      `2026-05-09T02:0${Math.floor(i / 6)}:${String((i % 6) * 9).padStart(2, "0")}Z`,
      agent,
      {
        sourceIp: "aws-mcp.amazonaws.com",
        userAgent: "aws-mcp.amazonaws.com",
      },
    ),
  );
  return [records.slice(0, 12), records.slice(12)];
}

describe("replay store clock", () => {
  it("moves on to the latest event time of a batch, whatever its order, and never back", () => {
    const clock = new EventTimeClock();
    const at = (iso: string) => ({ time: new Date(iso) });
    clock.observeEvents([at("2026-05-09T02:03:00Z"), at("2026-05-09T02:01:00Z")]);
    expect(clock.now()).toBe(Date.parse("2026-05-09T02:03:00Z"));
    // A later file's events may all be older (files arrive out of order): expiries must not move back.
    clock.observeEvents([at("2026-05-09T01:00:00Z")]);
    expect(clock.now()).toBe(Date.parse("2026-05-09T02:03:00Z"));
  });

  it("keeps correlation windows across files however long the replay takes, with the event-time clock", async () => {
    const { detector } = await buildDetector(defaultConfig, { builtin: true, extraDirs: [] });
    const [first, second] = burstFiles();

    // Wall clock: two hours pass between the files (a long replay); the 5-minute window has expired.
    let wall = Date.UTC(2026, 10, 21, 10, 0, 0);
    const wallStore = new MemoryStore(() => wall);
    await processBatch(
      { source: "a", records: first },
      { store: wallStore, config: defaultConfig, detector },
    );
    wall += 2 * 3600_000;
    const late = await processBatch(
      { source: "b", records: second },
      { store: wallStore, config: defaultConfig, detector },
    );
    expect(late.hits.map((h) => h.rule.id)).not.toContain("ai-off-hours-burst");

    // Event-time clock: the same files, the same pause, the burst is found.
    const eventClock = new EventTimeClock();
    const store = new MemoryStore(eventClock.now);
    await processBatch(
      { source: "a", records: first },
      { store, eventClock, config: defaultConfig, detector },
    );
    const found = await processBatch(
      { source: "b", records: second },
      { store, eventClock, config: defaultConfig, detector },
    );
    const burst = found.hits.find((h) => h.rule.id === "ai-off-hours-burst");
    expect(burst?.count).toBe(24);
  });
});

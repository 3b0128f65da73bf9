import { describe, expect, it } from "vitest";
import type { BatchResult } from "../src/batch.ts";
import type { AuditEvent } from "../src/event.ts";
import { emptyStats } from "../src/pipeline.ts";
import { RunCollector } from "../src/report.ts";
import { makeEvent } from "./support/alert-events.ts";

function batch(events: AuditEvent[], reattributed: AuditEvent[] = []): BatchResult {
  return {
    source: "test",
    stats: emptyStats(),
    events,
    reattributed,
    kindChanges: [],
    waiting: [],
    hits: [],
    alerts: [],
    malformed: [],
    processedAt: new Date("2026-05-08T12:00:00Z"),
  };
}

describe("RunCollector verdicts", () => {
  it("keeps one line per account and event id, in first-seen order, the latest verdict replacing", async () => {
    const c = new RunCollector();
    const a1 = makeEvent({ id: "e-1", time: "2026-05-08T10:00:00Z", account: "111122223333", kind: "human" });
    const b1 = makeEvent({ id: "e-1", time: "2026-05-08T10:00:00Z", account: "444455556666", kind: "human" });
    const a2 = makeEvent({ id: "e-2", time: "2026-05-08T10:00:01Z", account: "111122223333", kind: "human" });
    await c.publish(batch([a1, b1, a2]));
    const a1Again = makeEvent({
      id: "e-1",
      time: "2026-05-08T10:00:00Z",
      account: "111122223333",
      kind: "ai",
    });
    const b1Again = makeEvent({
      id: "e-1",
      time: "2026-05-08T10:00:00Z",
      account: "444455556666",
      kind: "service",
    });
    await c.publish(batch([], [b1Again, a1Again]));
    const lines = [...c.eventLines()].map((l) => [l.account, l.id, l.actor.kind]);
    expect(lines).toEqual([
      ["111122223333", "e-1", "ai"],
      ["444455556666", "e-1", "service"],
      ["111122223333", "e-2", "human"],
    ]);
    expect(c.summary().records.events).toBe(3);
  });
});

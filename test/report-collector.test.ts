import { describe, expect, it } from "vitest";
import type { BatchResult } from "../src/batch.ts";
import type { ActorKind, AuditEvent, Confidence, Evidence } from "../src/event.ts";
import { emptyStats } from "../src/pipeline.ts";
import { type AiPrincipal, type EventLine, eventLine, RunCollector } from "../src/report.ts";
import { seededRandom } from "../support/seeded-random.ts";
import { makeEvent } from "./support/alert-events.ts";
import { assumeRole, call, iamUser, roleSession } from "./support/records.ts";
import { eventLinesOf, replayBatches } from "./support/replay.ts";

function batch(
  events: AuditEvent[],
  reattributed: AuditEvent[] = [],
  waiting: AuditEvent[] = [],
): BatchResult {
  return {
    source: "test",
    stats: emptyStats(),
    events,
    reattributed,
    kindChanges: [],
    waiting,
    hits: [],
    alerts: [],
    malformed: [],
    processedAt: new Date("2026-05-08T12:00:00Z"),
  };
}

const T0 = "2026-05-08T10:00:00Z";

describe("RunCollector verdicts", () => {
  it("keeps one line per account and event id with its final verdict, by time, id, then first seen", async () => {
    const c = new RunCollector({ keepEventLines: true });
    const a1 = makeEvent({ id: "e-1", time: T0, account: "444455556666", kind: "human" });
    const b1 = makeEvent({ id: "e-1", time: T0, account: "111122223333", kind: "human" });
    const a2 = makeEvent({ id: "e-0", time: "2026-05-08T10:00:01Z", account: "111122223333", kind: "human" });
    await c.publish(batch([a1, b1, a2], [], [a1, b1]));
    const a1Again = makeEvent({ id: "e-1", time: T0, account: "444455556666", kind: "ai" });
    const b1Again = makeEvent({ id: "e-1", time: T0, account: "111122223333", kind: "service" });
    // b1 becomes final first, a1 last: both keep their first-seen place among equal times and ids.
    await c.publish(batch([], [b1Again], []));
    await c.publish(batch([], [a1Again], []));
    const lines = eventLinesOf(c).map((l) => [l.account, l.id, l.actor.kind]);
    expect(lines).toEqual([
      ["444455556666", "e-1", "ai"],
      ["111122223333", "e-1", "service"],
      ["111122223333", "e-0", "human"],
    ]);
    expect(c.eventJsonLines()).toEqual([a1Again, b1Again, a2].map((e) => JSON.stringify(eventLine(e))));
    expect(c.summary().records.events).toBe(3);
    expect(c.summary().byKind).toEqual({ ai: 1, human: 1, service: 1, unknown: 0 });
  });

  it("counts a waiting event re-attributed to another kind once, under its new kind", async () => {
    const c = new RunCollector();
    const waiting = makeEvent({ id: "e-1", time: T0, kind: "human" });
    const ai = makeEvent({ id: "e-2", time: "2026-05-08T10:00:05Z", kind: "ai", display: "agent" });
    await c.publish(batch([waiting, ai], [], [waiting]));
    const before = c.summary();
    expect(before.byKind).toEqual({ ai: 1, human: 1, service: 0, unknown: 0 });
    expect(before.aiPrincipals.map((p) => [p.principal, p.calls])).toEqual([[ai.principal.arn, 1]]);

    const nowAi = makeEvent({ id: "e-1", time: T0, kind: "ai", display: "agent", action: "PutObject" });
    await c.publish(batch([], [nowAi], []));
    const after = c.summary();
    expect(after.records.events).toBe(2);
    expect(after.byKind).toEqual({ ai: 2, human: 0, service: 0, unknown: 0 });
    expect(after.aiPrincipals).toHaveLength(1);
    expect(after.aiPrincipals[0].calls).toBe(2);
    expect(after.aiPrincipals[0].topActions).toEqual([
      { action: "s3:DeleteObject", calls: 1 },
      { action: "s3:PutObject", calls: 1 },
    ]);
    // Another batch without it: the same counts.
    await c.publish(batch([], [], []));
    const later = c.summary();
    expect(later.byKind).toEqual(after.byKind);
    expect(later.aiPrincipals).toEqual(after.aiPrincipals);
  });

  it("counts an event still waiting at the end with its latest verdict, and keeps holding it", async () => {
    const c = new RunCollector({ keepEventLines: true });
    const first = makeEvent({ id: "e-1", time: T0, kind: "unknown" });
    await c.publish(batch([first], [], [first]));
    const latest = makeEvent({ id: "e-1", time: T0, kind: "ai", display: "agent" });
    await c.publish(batch([], [latest], [latest]));
    const once = c.summary();
    expect(once.byKind).toEqual({ ai: 1, human: 0, service: 0, unknown: 0 });
    expect(once.records.events).toBe(1);
    expect(once.aiPrincipals.map((p) => p.calls)).toEqual([1]);
    expect(once.timeRange).toEqual({ first: "2026-05-08T10:00:00.000Z", last: "2026-05-08T10:00:00.000Z" });
    const twice = c.summary();
    expect(JSON.stringify(twice)).toBe(JSON.stringify(once));
    expect(eventLinesOf(c).map((l) => l.actor.kind)).toEqual(["ai"]);
    expect(eventLinesOf(c).map((l) => l.actor.kind)).toEqual(["ai"]);
  });

  it("keeps no event lines unless asked to, and says so", async () => {
    const c = new RunCollector();
    await c.publish(batch([makeEvent({ id: "e-1", time: T0 })]));
    expect(() => c.eventJsonLines()).toThrow(/keepEventLines/);
    expect(c.summary().records.events).toBe(1);
  });

  it("lists AI principals of equal calls and name in the order they were first seen", async () => {
    const arn = "arn:aws:sts::999999999999:assumed-role/agent-runner/agent";
    const inA = makeEvent({ id: "e-1", time: T0, account: "111122223333", arn, kind: "unknown" });
    const inB = makeEvent({ id: "e-2", time: T0, account: "444455556666", arn });
    const c = new RunCollector();
    // inA is seen first but its AI verdict becomes final after inB's.
    await c.publish(batch([inA, inB], [], [inA]));
    await c.publish(batch([], [makeEvent({ id: "e-1", time: T0, account: "111122223333", arn })]));
    expect(c.summary().aiPrincipals.map((p) => p.account)).toEqual(["111122223333", "444455556666"]);
  });

  it("gives no time range and no AI principals for an empty run", () => {
    const s = new RunCollector({ keepEventLines: true }).summary();
    expect(s.timeRange).toBeNull();
    expect(s.aiPrincipals).toEqual([]);
    expect(s.records.events).toBe(0);
  });

  it("cleans AI principal values once per distinct value, merging values that clean alike", async () => {
    const c = new RunCollector();
    const arn = "arn:aws:sts::111122223333:assumed-role/agent-runner/agent";
    const plain = makeEvent({ id: "e-1", time: T0, arn });
    const escaped = makeEvent({
      id: "e-2",
      time: T0,
      arn: `${arn}\u001b[31m`,
      actor: {
        session: "s\u0007ess",
        evidence: [{ signal: "invokedBy", value: "aws-mcp.amazonaws.com\u200b", issuedBy: "\u0007" }],
      },
    });
    await c.publish(batch([plain, escaped]));
    const [p] = c.summary().aiPrincipals;
    expect(c.summary().aiPrincipals).toHaveLength(1);
    expect(p.principal).toBe(arn);
    expect(p.calls).toBe(2);
    expect(p.sessions).toContain("sess");
    expect(p.evidence).toEqual([{ signal: "invokedBy", value: "aws-mcp.amazonaws.com" }]);
  });
});

describe("RunCollector behind the pipeline: events resent in later batches", () => {
  const AGENT_KEY = "ASIAAGENT00000000001";
  const alice = iamUser("dev-alice");
  const issued = assumeRole("2026-05-08T09:05:00Z", alice, "agent-runner", "claude-task-42", AGENT_KEY, {
    tags: { AccessType: "AI" },
  });
  // Made with the key `issued` hands out: it waits for that issuance when it comes first.
  const agentCall = call(
    "ListBuckets",
    "2026-05-08T09:06:00Z",
    roleSession("agent-runner", "claude-task-42", AGENT_KEY, "2026-05-08T09:05:00Z"),
    { source: "s3.amazonaws.com" },
  );
  const humanCall = call("DescribeInstances", "2026-05-08T09:07:00Z", iamUser("dev-bob"));
  const idsAndKinds = (lines: EventLine[]) => lines.map((l) => [l.id, l.actor.kind]);

  it("counts an event whose verdict was final once when a later batch resends it", async () => {
    const { summary, collector } = await replayBatches([
      { source: "first", records: [humanCall] },
      { source: "resent", records: [humanCall] },
    ]);
    expect(summary.records).toMatchObject({ read: 2, events: 1, duplicates: 1 });
    expect(summary.byKind).toEqual({ ai: 0, human: 1, service: 0, unknown: 0 });
    expect(idsAndKinds(eventLinesOf(collector))).toEqual([[humanCall.eventID, "human"]]);
  });

  it("counts an event resent while it waits for its session once, with the verdict its session gives it", async () => {
    const { results, summary, collector } = await replayBatches([
      { source: "calls", records: [agentCall] },
      { source: "resent", records: [agentCall] },
      { source: "sts", records: [issued, agentCall] },
    ]);
    expect(results[0].waiting.map((e) => e.id)).toEqual([agentCall.eventID]);
    expect(summary.records).toMatchObject({ read: 4, events: 2, duplicates: 2, reattributed: 1 });
    expect(summary.byKind).toEqual({ ai: 1, human: 1, service: 0, unknown: 0 });
    expect(summary.aiPrincipals.map((p) => p.calls)).toEqual([1]);
    expect(idsAndKinds(eventLinesOf(collector))).toEqual([
      [issued.eventID, "human"],
      [agentCall.eventID, "ai"],
    ]);
  });
});

/**
 * The summary as the collector computed it before counting incrementally: from every event's final
 * verdict, cleaned, in first-seen order. Order matters for the first 20 sessions and evidence items
 * listed, the order evidence is listed in, and principals with equal calls and names.
 */
function referenceSummary(lines: EventLine[], times: number[]) {
  const byKind: Record<ActorKind, number> = { ai: 0, human: 0, service: 0, unknown: 0 };
  const ai = new Map<
    string,
    {
      principal: string;
      account: string;
      calls: number;
      confidence: Confidence;
      via: Set<string>;
      sessions: Set<string>;
      evidence: Map<string, AiPrincipal["evidence"][number]>;
      actions: Map<string, number>;
    }
  >();
  const rank: Record<Confidence, number> = { low: 0, medium: 1, high: 2 };
  for (const e of lines) {
    byKind[e.actor.kind]++;
    if (e.actor.kind !== "ai") continue;
    const key = `${e.account}#${e.principal}`;
    let p = ai.get(key);
    if (!p) {
      p = {
        principal: e.principal,
        account: e.account,
        calls: 0,
        confidence: "low",
        via: new Set(),
        sessions: new Set(),
        evidence: new Map(),
        actions: new Map(),
      };
      ai.set(key, p);
    }
    p.calls++;
    if (rank[e.actor.confidence] > rank[p.confidence]) p.confidence = e.actor.confidence;
    p.via.add(e.actor.via);
    if (e.actor.session && p.sessions.size < 20) p.sessions.add(e.actor.session);
    for (const ev of e.actor.evidence) {
      const k = `${ev.signal}=${ev.value}`;
      if (!p.evidence.has(k) && p.evidence.size < 20) {
        const item: AiPrincipal["evidence"][number] = { signal: ev.signal, value: ev.value };
        if (ev.issuedBy) item.issuedBy = ev.issuedBy;
        if (ev.via) item.via = ev.via;
        p.evidence.set(k, item);
      }
    }
    const action = `${e.service.replace(/\.amazonaws\.com$/, "")}:${e.action}`;
    p.actions.set(action, (p.actions.get(action) ?? 0) + 1);
  }
  return {
    events: lines.length,
    byKind,
    timeRange: lines.length
      ? {
          first: new Date(Math.min(...times)).toISOString(),
          last: new Date(Math.max(...times)).toISOString(),
        }
      : null,
    aiPrincipals: [...ai.values()]
      // a stable sort: equal calls and names stay in first-seen (insertion) order
      .sort(
        (a, b) => b.calls - a.calls || (a.principal < b.principal ? -1 : a.principal > b.principal ? 1 : 0),
      )
      .map((p) => ({
        principal: p.principal,
        account: p.account,
        calls: p.calls,
        confidence: p.confidence,
        via: [...p.via].sort(),
        sessions: [...p.sessions].sort(),
        evidence: [...p.evidence.values()],
        topActions: [...p.actions.entries()]
          .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
          .slice(0, 10)
          .map(([action, calls]) => ({ action, calls })),
      })),
  };
}

describe("RunCollector summary, counted as verdicts become final", () => {
  // Events that wait and are re-attributed later become final after events seen after them: the
  // summary must still read as if every final verdict had been counted in first-seen order.
  for (const seed of [1, 2, 3, 4, 5]) {
    it(`matches the summary of the final verdicts in first-seen order (seed ${seed})`, async () => {
      const rnd = seededRandom(seed);
      const pick = <T>(items: readonly T[]): T => items[Math.floor(rnd() * items.length)];
      const kinds: ActorKind[] = ["ai", "ai", "human", "service", "unknown"];
      const confidences: Confidence[] = ["low", "medium", "high"];
      // More sessions and evidence items than the 20 listed; names that clean alike merge.
      const sessions = Array.from({ length: 30 }, (_, i) => (i % 7 ? `session-${i}` : `session-${i}\u0007`));
      const evidencePool: Evidence[] = Array.from({ length: 40 }, (_, i) => ({
        signal: i % 2 ? "userAgent" : "sessionName",
        value: i % 9 ? `value-${i % 25}` : `value-${i % 25}\u200b`,
        ...(i % 3 ? {} : { issuedBy: `sts-${i}` }),
        ...(i % 5 ? {} : { via: `arn:aws:sts::111122223333:assumed-role/parent/${i}` }),
      }));
      const displays = ["agent-a", "agent-b", "agent-b\u001b[0m", "dev-carol"];
      const accounts = ["111122223333", "444455556666"];
      const actions = ["DeleteObject", "PutObject", "GetObject", "ListBuckets"];

      const eventFor = (id: string, account: string, time: string, display: string): AuditEvent => {
        const kind = pick(kinds);
        const evidence: Evidence[] = [];
        for (let n = Math.floor(rnd() * 4); n > 0; n--) evidence.push(pick(evidencePool));
        return makeEvent({
          id,
          time,
          account,
          display,
          kind,
          action: pick(actions),
          actor: {
            confidence: pick(confidences),
            via: pick(["aws-mcp", "sdk", "cli"]),
            session: pick(sessions),
            evidence,
          },
        });
      };

      const collector = new RunCollector({ keepEventLines: true });
      // The truth: each event's latest version, in first-seen order.
      const latest = new Map<string, AuditEvent>();
      let held: AuditEvent[] = [];
      for (let b = 0; b < 12; b++) {
        const events: AuditEvent[] = [];
        const waiting: AuditEvent[] = [];
        for (let i = 0; i < 60; i++) {
          const time = new Date(Date.UTC(2026, 4, 8, 10, Math.floor(rnd() * 60))).toISOString();
          const e = eventFor(`e-${b}-${i}`, pick(accounts), time, pick(displays));
          events.push(e);
          latest.set(`${e.account}#${e.id}`, e);
          if (rnd() < 0.3) waiting.push(e);
        }
        const reattributed: AuditEvent[] = [];
        const stillHeld: AuditEvent[] = [];
        for (const h of held) {
          if (rnd() < 0.5) {
            stillHeld.push(h);
            continue;
          }
          const again = eventFor(h.id, h.account, h.time.toISOString(), h.principal.display);
          reattributed.push(again);
          latest.set(`${again.account}#${again.id}`, again);
          if (rnd() < 0.3) waiting.push(again);
        }
        await collector.publish(batch(events, reattributed, waiting));
        held = [...stillHeld, ...waiting];
      }
      expect(held.length).toBeGreaterThan(0);

      const finals = [...latest.values()];
      const expected = referenceSummary(
        finals.map((e) => eventLine(e)),
        finals.map((e) => e.time.getTime()),
      );
      const s = collector.summary();
      expect(s.records.events).toBe(expected.events);
      // The events still waiting, whatever their verdict says.
      expect(s.records.unresolvedSessions).toBe(held.length);
      expect(s.byKind).toEqual(expected.byKind);
      expect(s.timeRange).toEqual(expected.timeRange);
      expect(JSON.stringify(s.aiPrincipals)).toBe(JSON.stringify(expected.aiPrincipals));
      expect(JSON.stringify(collector.summary())).toBe(JSON.stringify(s));

      const sortedLines = finals
        .map((e) => eventLine(e))
        .sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
        .map((l) => JSON.stringify(l));
      expect(collector.eventJsonLines()).toEqual(sortedLines);
    });
  }
});

describe("RunCollector.fileSkipped", () => {
  it("takes as many skipped paths as a copied bucket holds, each cleaned", () => {
    const collector = new RunCollector();
    // More than a call's arguments hold (~120k): rest parameters would overflow the stack here.
    const paths = Array.from({ length: 200_000 }, (_, i) => `AWSLogs/111122223333/vpcflowlogs/${i}.log.gz`);
    collector.fileSkipped(paths);
    collector.fileSkipped(["evil\u001b[31m\r\nname.json"]);
    const skipped = collector.summary().files.skipped;
    expect(skipped).toHaveLength(200_001);
    expect(skipped.at(-1)).toBe("evil name.json");
  });
});

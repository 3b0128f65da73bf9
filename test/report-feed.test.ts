import { describe, expect, it } from "vitest";
import type { Alert } from "../src/alerts.ts";
import {
  type AiPrincipal,
  alertFeed,
  MAX_FEED_ALERTS,
  MAX_LISTED_AI_PRINCIPALS,
  RunCollector,
  renderSummary,
} from "../src/report.ts";

function alert(id: string, severity: Alert["severity"], firstSeen: string, title = `title ${id}`): Alert {
  return {
    id,
    ruleId: "ai-destructive-action",
    title,
    severity,
    actor: { kind: "ai", confidence: "high", via: "aws-mcp", evidence: [] },
    principal: "arn:aws:iam::111122223333:user/dev-alice",
    account: "111122223333",
    region: "us-east-1",
    firstSeen,
    lastSeen: firstSeen,
    count: 1,
    eventIds: [],
    sample: [],
    status: "new",
  };
}

/** An ISO time `minutes` after 10:00. */
const at = (minutes: number) => new Date(Date.UTC(2026, 10, 20, 10, minutes)).toISOString();

describe("the terminal alert feed", () => {
  it("lists every alert in the order they began, with the count per severity", () => {
    const feed = alertFeed([
      alert("b", "low", at(5)),
      alert("c", "critical", at(1)),
      alert("a", "low", at(5)),
      alert("d", "high", at(3)),
    ]);
    expect(feed[0]).toBe("Alerts (4: 1 critical, 1 high, 2 low):");
    expect(
      feed
        .slice(1)
        .map((line) => line.slice(0, line.indexOf("  (")))
        .map((l) => l.trim()),
    ).toEqual(["[CRITICAL] title c", "[HIGH] title d", "[LOW] title a", "[LOW] title b"]);
    expect(feed[1]).toBe(`  [CRITICAL] title c  (ai-destructive-action, ×1, ${at(1)})`);
  });

  it("keeps a title from the records on its own line", () => {
    const forged = alert("x", "low", at(0), "deleted a bucket\n  [CRITICAL] nothing to see\u001b[2K");
    const feed = alertFeed([forged]);
    expect(feed).toHaveLength(2);
    expect(feed[1]).not.toContain("\n");
    expect(feed[1]).not.toContain("\u001b");
    expect(feed[1]).toContain("deleted a bucket");
  });

  it("lists the most severe when there are too many, and counts the rest", () => {
    const lows = Array.from({ length: MAX_FEED_ALERTS + 50 }, (_, i) =>
      alert(`low-${String(i).padStart(3, "0")}`, "low", at(i)),
    );
    const late = [alert("late-critical", "critical", at(500)), alert("late-high", "high", at(400))];
    const feed = alertFeed([...lows, ...late]);
    expect(feed[0]).toBe(
      `Alerts (${MAX_FEED_ALERTS + 52}: 1 critical, 1 high, ${MAX_FEED_ALERTS + 50} low):`,
    );
    const listed = feed.slice(1, -1);
    expect(listed).toHaveLength(MAX_FEED_ALERTS);
    // The earliest lows fill what the critical and high alerts leave; the feed stays in time order.
    expect(listed[0]).toContain("title low-000");
    expect(listed.at(-3)).toContain(`title low-${String(MAX_FEED_ALERTS - 3).padStart(3, "0")}`);
    expect(listed.at(-2)).toContain("[HIGH] title late-high");
    expect(listed.at(-1)).toContain("[CRITICAL] title late-critical");
    expect(feed.at(-1)).toBe(
      `  … 52 more not listed (52 low): the feed keeps the ${MAX_FEED_ALERTS} most severe; --out DIR writes every alert to alerts.jsonl`,
    );
  });

  it("is the last part of the summary, after the counts", () => {
    const text = renderSummary(new RunCollector().summary(), [alert("a", "high", at(0))]);
    expect(text.split("\n").slice(-2)).toEqual([
      "Alerts (1: 1 high):",
      `  [HIGH] title a  (ai-destructive-action, ×1, ${at(0)})`,
    ]);
    expect(renderSummary(new RunCollector().summary(), [])).not.toContain("Alerts (");
  });
});

describe("the terminal summary's AI principals", () => {
  const principal = (i: number): AiPrincipal => ({
    principal: `arn:aws:iam::111122223333:user/agent-${i}`,
    account: "111122223333",
    calls: 1000 - i,
    confidence: "high",
    via: ["aws-mcp"],
    sessions: [],
    evidence: [{ signal: "userAgentMarker", value: "md/awslabs#mcp#" }],
    topActions: [{ action: "s3:ListBuckets", calls: 1000 - i }],
  });

  it("describes the busiest and counts the others, which the JSON summary lists", () => {
    const extra = 3;
    const aiPrincipals = Array.from({ length: MAX_LISTED_AI_PRINCIPALS + extra }, (_, i) => principal(i));
    const text = renderSummary({ ...new RunCollector().summary(), aiPrincipals }, []);
    const described = text.split("\n").filter((line) => /^ {2}arn:/.test(line));
    expect(described).toHaveLength(MAX_LISTED_AI_PRINCIPALS);
    expect(described[0]).toMatch(/user\/agent-0 \(account 111122223333\): 1000 call\(s\)/);
    expect(text).not.toContain(`user/agent-${MAX_LISTED_AI_PRINCIPALS} `);
    const calls = aiPrincipals.slice(MAX_LISTED_AI_PRINCIPALS).reduce((n, p) => n + p.calls, 0);
    expect(text).toContain(
      `  … ${extra} more AI principal(s) with ${calls} call(s) in all: --format json or --out DIR (summary.json) lists them all`,
    );
    const few = renderSummary(
      { ...new RunCollector().summary(), aiPrincipals: aiPrincipals.slice(0, 2) },
      [],
    );
    expect(few).not.toContain("more AI principal");
  });
});

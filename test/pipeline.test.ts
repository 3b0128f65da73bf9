/** processBatch: how it reports the records it cannot read, and what a retry counts. */
import { describe, expect, it } from "vitest";
import { UnparseableRecord } from "../src/cloudtrail/decode.ts";
import { defaultConfig } from "../src/config.ts";
import { processBatch } from "../src/pipeline.ts";
import { RuleEngine } from "../src/rules/engine.ts";
import { MemoryStore } from "../src/state/memory.ts";
import { loadLinked, S3_BURST } from "./rules/engine.helpers.ts";
import { assumeRole, call, iamUser, roleSession } from "./support/records.ts";

describe("processBatch malformed records", () => {
  it("names them with the file name and reason cleaned and capped, once for every output", async () => {
    const hostile = "\u001b]0;pwned\u0007\u001b[2Jevil\r\nFAKE ALERT\u202e";
    const result = await processBatch(
      {
        source: `s3://trail/${hostile}.jsonl`,
        // A JSON Lines line that does not parse: its reason quotes the line.
        records: [new UnparseableRecord(`line 1: not JSON: ${hostile}${"x".repeat(1000)}`)],
      },
      { store: new MemoryStore(), config: defaultConfig },
    );
    expect(result.stats.malformed).toBe(1);
    const [m] = result.malformed;
    expect(m.index).toBe(0);
    expect(m.source).toBe("s3://trail/evil FAKE ALERT.jsonl");
    // Escape sequences and controls gone, breaks a space, cut to 300 code points ending in "…".
    expect(m.reason).toMatch(/^line 1: not JSON: evil FAKE ALERTx+…$/);
    expect(Array.from(m.reason)).toHaveLength(300);
  });

  it("names every malformed record of a batch by the cleaned file name, a record read between them", async () => {
    const result = await processBatch(
      {
        source: "s3://trail/\u001b[2Jevil.jsonl",
        records: [
          new UnparseableRecord("line 1: not JSON"),
          call("GetCallerIdentity", "2026-01-05T02:10:00Z", iamUser("alice")),
          null,
          new UnparseableRecord("line 4: not JSON"),
        ],
      },
      { store: new MemoryStore(), config: defaultConfig },
    );
    expect(result.stats.events).toBe(1);
    expect(result.malformed).toEqual([
      { source: "s3://trail/evil.jsonl", index: 0, reason: "line 1: not JSON" },
      { source: "s3://trail/evil.jsonl", index: 2, reason: "not a CloudTrail record: null" },
      { source: "s3://trail/evil.jsonl", index: 3, reason: "line 4: not JSON" },
    ]);
  });
});

describe("processBatch retried after its last write failed", () => {
  /** A store whose next markSeen fails once `failNext` is set: the batch's last write. */
  class FailingMarkSeen extends MemoryStore {
    failNext = false;
    override async markSeen(...args: Parameters<MemoryStore["markSeen"]>) {
      if (this.failNext) {
        this.failNext = false;
        throw new Error("throttled");
      }
      return super.markSeen(...args);
    }
  }

  it("counts its calls once in correlation windows, though the retry revives nothing", async () => {
    const store = new FailingMarkSeen(() => Date.parse("2026-11-20T10:10:00Z"));
    const deps = {
      store,
      config: defaultConfig,
      detector: new RuleEngine(loadLinked(S3_BURST), defaultConfig),
    };
    const s3 = (time: string) => call("GetObject", time, iamUser("bob"), { source: "s3.amazonaws.com" });
    // An agent's call waits for its session; the next batch issues it (tagged AI): the call changes kind.
    const agentCall = call(
      "ListBuckets",
      "2026-11-20T10:00:05Z",
      roleSession("agent-runner", "task-1", "ASIAAGENT00000000001", "2026-11-20T10:00:00Z"),
    );
    await processBatch({ source: "calls", records: [agentCall] }, deps);
    const issued = assumeRole(
      "2026-11-20T10:00:00Z",
      iamUser("alice"),
      "agent-runner",
      "task-1",
      "ASIAAGENT00000000001",
      {
        tags: { AccessType: "AI" },
      },
    );
    const batch = {
      source: "sts",
      records: [issued, s3("2026-11-20T10:00:10Z"), s3("2026-11-20T10:00:20Z")],
    };
    store.failNext = true;
    await expect(processBatch(batch, deps)).rejects.toThrow("throttled");
    // The first attempt committed the revival: the retry detects the batch without the revived call.
    const retried = await processBatch(batch, deps);
    expect(retried.kindChanges).toEqual([]);
    expect(retried.hits.filter((h) => h.rule.id === "s3-burst")).toEqual([]); // 2 calls, not 4
    const third = await processBatch({ source: "more", records: [s3("2026-11-20T10:00:30Z")] }, deps);
    expect(third.hits.filter((h) => h.rule.id === "s3-burst").map((h) => h.count)).toEqual([3]);
  });
});

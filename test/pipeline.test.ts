/** processBatch: how it reports the records it cannot read. */
import { describe, expect, it } from "vitest";
import { UnparseableRecord } from "../src/cloudtrail/decode.ts";
import { defaultConfig } from "../src/config.ts";
import { processBatch } from "../src/pipeline.ts";
import { MemoryStore } from "../src/state/memory.ts";
import { call, iamUser } from "./support/records.ts";

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

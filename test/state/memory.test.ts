import { describe, expect, it } from "vitest";
import { MemoryStore } from "../../src/state/memory.ts";
import { MAX_BUCKET_BATCH_IDS } from "../../src/state/store.ts";
import { storeContract } from "./contract.ts";

let clock = 0;
storeContract(
  "MemoryStore",
  async () => {
    clock = Date.UTC(2026, 0, 1);
    return new MemoryStore(() => clock);
  },
  (ms) => {
    clock += ms;
  },
);

describe("MemoryStore window batch ids", () => {
  it(`keeps ${MAX_BUCKET_BATCH_IDS} batch ids per bucket, then counts every batch without keeping its id`, async () => {
    const store = new MemoryStore();
    const add = (batchId: string) => store.addToWindows([{ key: "hot", minute: 1, count: 1 }], 3600, batchId);
    for (let k = 0; k < MAX_BUCKET_BATCH_IDS; k++) await add(`batch-${k}`);
    await add("batch-0"); // kept: turned away
    await add("one-too-many");
    await add("one-too-many"); // not kept: counted again
    const [bucket] = (await store.readWindows(["hot"], 1, 1)).get("hot") ?? [];
    expect(bucket.count).toBe(MAX_BUCKET_BATCH_IDS + 2);
  });
});

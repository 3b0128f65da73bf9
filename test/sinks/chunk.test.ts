/** Request chunking of the sinks: by count and by bytes, in order. */
import { describe, expect, it } from "vitest";
import { chunkBySize } from "../../src/sinks/chunk.ts";

describe("chunkBySize", () => {
  it("starts a new request when the next item would pass the byte limit", () => {
    expect(chunkBySize([60, 40, 1], 10, 100, (n) => n)).toEqual([[60, 40], [1]]);
    expect(chunkBySize([60, 41, 1], 10, 100, (n) => n)).toEqual([[60], [41, 1]]);
  });

  it("sends an item larger than the limit alone, and splits by count too", () => {
    expect(chunkBySize([10, 500, 10], 10, 100, (n) => n)).toEqual([[10], [500], [10]]);
    expect(chunkBySize([1, 1, 1, 1, 1], 2, 100, (n) => n)).toEqual([[1, 1], [1, 1], [1]]);
    expect(chunkBySize([], 2, 100, (n: number) => n)).toEqual([]);
  });
});

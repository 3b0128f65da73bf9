/** Request chunking: by count, and by count and bytes, in order. */
import { describe, expect, it } from "vitest";
import { chunkByCount, chunkBySize } from "../src/chunk.ts";

describe("chunkByCount", () => {
  it("splits in order into requests of at most the count, the last one holding the rest", () => {
    expect(chunkByCount([1, 2, 3, 4, 5], 2)).toEqual([[1, 2], [3, 4], [5]]);
    expect(chunkByCount([1, 2, 3, 4], 2)).toEqual([
      [1, 2],
      [3, 4],
    ]);
    expect(chunkByCount([1, 2], 25)).toEqual([[1, 2]]);
    expect(chunkByCount([], 25)).toEqual([]);
  });
});

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

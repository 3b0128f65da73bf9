/** The cache for strings that arrive as fresh copies (user agents): found by content, bounded. */
import { describe, expect, it } from "vitest";
import { FreshStringCache } from "../src/fresh-string-cache.ts";

/** A new string object with the same content, as JSON.parse makes one per record. */
const copy = (s: string) => JSON.parse(JSON.stringify(s)) as string;

describe("FreshStringCache", () => {
  it("finds a key by its content and tells apart keys of the same length", () => {
    const cache = new FreshStringCache<number>(100);
    cache.add("aws-cli/2.17.60", 1);
    cache.add("aws-cli/2.17.61", 2);
    cache.add("", 3);
    expect(cache.get(copy("aws-cli/2.17.60"))).toBe(1);
    expect(cache.get(copy("aws-cli/2.17.61"))).toBe(2);
    expect(cache.get("")).toBe(3);
    expect(cache.get("aws-cli/2.17.62")).toBeUndefined();
    expect(cache.get("boto3")).toBeUndefined();
  });

  it("keeps every key when many share one length (hostile input), and all stay findable", () => {
    const cache = new FreshStringCache<number>(1000);
    const keys = Array.from({ length: 50 }, (_, i) => `agent-${String(i).padStart(3, "0")}`);
    for (const [i, k] of keys.entries()) cache.add(k, i);
    for (const [i, k] of keys.entries()) expect(cache.get(copy(k))).toBe(i);
    expect(cache.get("agent-999")).toBeUndefined();
    expect(cache.size).toBe(50);
  });

  it("starts again empty when full", () => {
    const cache = new FreshStringCache<number>(3);
    for (const k of ["a", "bb", "ccc"]) cache.add(k, k.length);
    cache.add("dddd", 4);
    expect(cache.size).toBe(1);
    expect(cache.get("a")).toBeUndefined();
    expect(cache.get("dddd")).toBe(4);
  });

  it("empties the keys held beyond the scanned ones too when full", () => {
    const cache = new FreshStringCache<number>(10);
    const keys = Array.from({ length: 10 }, (_, i) => `k${i}`); // one length: the last two overflow
    for (const [i, k] of keys.entries()) cache.add(k, i);
    expect(cache.get(copy("k9"))).toBe(9);
    cache.add("other", 99);
    for (const k of keys) expect(cache.get(copy(k))).toBeUndefined();
    expect(cache.get(copy("other"))).toBe(99);
    expect(cache.size).toBe(1);
  });
});

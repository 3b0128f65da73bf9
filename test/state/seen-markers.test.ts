import { describe, expect, it } from "vitest";
import { SeenMarkers } from "../../src/state/seen-markers.ts";

describe("SeenMarkers", () => {
  it("keeps each key's latest expiry and knows nothing of other keys", () => {
    const m = new SeenMarkers();
    expect(m.get("evt#1#a")).toBeUndefined();
    m.set("evt#1#a", 100);
    m.set("evt#1#a", 250);
    m.set("", 7);
    expect(m.get("evt#1#a")).toBe(250);
    expect(m.get("")).toBe(7);
    expect(m.get("evt#1#b")).toBeUndefined();
    expect(m.get("evt#2#a")).toBeUndefined();
  });

  it("returns epoch-millisecond expiries exactly, beyond 32 bits and at zero", () => {
    const m = new SeenMarkers();
    const times = [0, 1, 2 ** 32 - 1, 2 ** 32, 1_795_255_803_552, 2 ** 41 + 12_345, 8_640_000_000_000_000];
    for (const [i, t] of times.entries()) m.set(`evt#1#${i}`, t);
    for (const [i, t] of times.entries()) expect(m.get(`evt#1#${i}`)).toBe(t);
  });

  it("finds every key after growing well past its first size, with no false hits", () => {
    const m = new SeenMarkers();
    const n = 50_000;
    for (let i = 0; i < n; i++) m.set(`evt#123456789012#${i.toString(36)}-${i}`, i + 1);
    for (let i = 0; i < n; i++) expect(m.get(`evt#123456789012#${i.toString(36)}-${i}`)).toBe(i + 1);
    let falseHits = 0;
    for (let i = 0; i < n; i++)
      if (m.get(`evt#210987654321#${i.toString(36)}-${i}`) !== undefined) falseHits++;
    expect(falseHits).toBe(0);
  });
});

describe("SeenMarkers.getAll then setAll (the pipeline's read, then mark after publishing)", () => {
  it("marks exactly what set() would, reusing the slots found when nothing was written between", () => {
    const fast = new SeenMarkers();
    const slow = new SeenMarkers();
    const everSet = new Set<string>();
    let n = 0;
    for (let batch = 0; batch < 40; batch++) {
      // Each batch overlaps the last by a third (and, past the wrap at 50,000, much earlier ones),
      // grows the table, and holds its first key twice: setAll meets its own earlier write.
      const keys = Array.from(
        { length: 3000 },
        (_, i) => `evt#1#${(n + i) % 50_000}-${i % 7 === 0 ? "x" : "y"}`,
      );
      keys.push(keys[0]);
      n += 2000;
      const before = fast.getAll(keys);
      expect(before).toEqual(keys.map((k) => slow.get(k)));
      fast.setAll(keys, batch + 1);
      for (const k of keys) slow.set(k, batch + 1);
      for (const k of keys) everSet.add(k);
    }
    expect(everSet.size).toBeGreaterThan(50_000);
    for (const k of everSet) {
      expect(fast.get(k)).toBeDefined();
      expect(fast.get(k)).toBe(slow.get(k));
    }
  });

  it("finds every key when the table grows in the middle of setAll", () => {
    const m = new SeenMarkers();
    const keys = Array.from({ length: 200_000 }, (_, i) => `evt#123456789012#${i}`);
    m.getAll(keys);
    m.setAll(keys, 42);
    expect(m.getAll(keys).every((exp) => exp === 42)).toBe(true);
  });

  it("probes again when the table changed between the lookup and the write", () => {
    const m = new SeenMarkers();
    const keys = ["evt#1#a", "evt#1#b"];
    expect(m.getAll(keys)).toEqual([undefined, undefined]);
    for (let i = 0; i < 100_000; i++) m.set(`evt#2#${i}`, 5); // writes and grows in between
    m.setAll(keys, 9);
    expect(m.getAll(keys)).toEqual([9, 9]);
    expect(m.get("evt#2#99999")).toBe(5);
    // A list other than the last looked up is written key by key.
    m.getAll(["evt#1#c"]);
    m.setAll(["evt#1#d"], 3);
    expect(m.getAll(["evt#1#c", "evt#1#d"])).toEqual([undefined, 3]);
  });
});

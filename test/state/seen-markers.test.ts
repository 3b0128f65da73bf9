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

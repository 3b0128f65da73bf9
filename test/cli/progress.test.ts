/** The terminal progress line of long replays (issue: "a progress line on a terminal for long runs"). */
import { describe, expect, it, vi } from "vitest";
import {
  endProgress,
  lookupProgressLine,
  progressLine,
  runAndFinish,
  setupRun,
} from "../../src/cli/options.ts";

function terminal(isTTY: boolean) {
  const written: string[] = [];
  return { written, stream: { isTTY, write: (text: string) => written.push(text) } };
}

describe("progressLine", () => {
  it("redraws one line on a terminal at most every 200 ms, with the count and the file", () => {
    const { written, stream } = terminal(true);
    let clock = 1_000;
    const onFile = progressLine("replay", stream, () => clock);
    onFile(1, "a.json.gz");
    clock += 100;
    onFile(2, "b.json.gz"); // too soon: not drawn
    clock += 150;
    onFile(3, "c.json.gz");
    expect(written).toEqual(["\r\x1b[2Kreplay 1 file(s): a.json.gz", "\r\x1b[2Kreplay 3 file(s): c.json.gz"]);
    endProgress(stream);
    expect(written.at(-1)).toBe("\r\x1b[2K");
  });

  it("keeps the end of long names and strips control characters from them (S3 keys are untrusted)", () => {
    const { written, stream } = terminal(true);
    const onFile = progressLine("replay", stream, () => 0);
    onFile(7, `s3://bucket/${"x".repeat(100)}\x1b]0;owned\x07/evil\r\n.json.gz`);
    const [line] = written;
    expect(line.startsWith("\r\x1b[2Kreplay 7 file(s): …")).toBe(true);
    const name = line.slice("\r\x1b[2Kreplay 7 file(s): ".length);
    expect([...name].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f)).toBe(false);
    expect(name.endsWith(".json.gz")).toBe(true);
  });

  it("writes nothing when stderr is not a terminal", () => {
    const { written, stream } = terminal(false);
    progressLine("replay", stream, () => 0)(1, "a.json.gz");
    endProgress(stream);
    expect(written).toEqual([]);
  });
});

describe("lookupProgressLine", () => {
  it("shows pages and events at most every 200 ms, and a throttled retry at once", () => {
    const { written, stream } = terminal(true);
    let clock = 1_000;
    const onProgress = lookupProgressLine(stream, () => clock);
    onProgress({ pages: 1, events: 50, throttled: 0 });
    clock += 50;
    onProgress({ pages: 2, events: 100, throttled: 0 }); // too soon: not drawn
    onProgress({ pages: 2, events: 100, throttled: 1 }); // a throttle: drawn at once
    clock += 50;
    onProgress({ pages: 3, events: 150, throttled: 1 }); // too soon again
    expect(written).toEqual([
      "\r\x1b[2Klookup 1 page(s), 50 events",
      "\r\x1b[2Klookup 2 page(s), 100 events, throttled 1× (LookupEvents allows 2 requests/s)",
    ]);
  });

  it("writes nothing when stderr is not a terminal", () => {
    const { written, stream } = terminal(false);
    lookupProgressLine(stream, () => 0)({ pages: 1, events: 1, throttled: 1 });
    expect(written).toEqual([]);
  });
});

describe("runAndFinish", () => {
  it("clears the progress line when the run fails, so the error is not printed onto it", async () => {
    const setup = await setupRun(
      { format: "text", "no-builtin-rules": true },
      { command: "replay", unit: "file" },
    );
    const wasTTY = process.stderr.isTTY;
    const written: string[] = [];
    const write = vi.spyOn(process.stderr, "write").mockImplementation((text) => {
      written.push(String(text));
      return true;
    });
    process.stderr.isTTY = true;
    try {
      const failing = runAndFinish(setup, async () => {
        throw new Error("listing failed");
      });
      await expect(failing).rejects.toThrow("listing failed");
    } finally {
      process.stderr.isTTY = wasTTY;
      write.mockRestore();
    }
    expect(written).toEqual(["\r\x1b[2K"]);
  });
});

import { readdirSync, readFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { describe, expect, it, vi } from "vitest";
import type { InputFile } from "../../src/cloudtrail/inputs.ts";
import { type PreparedFile, ReadAheadWorker } from "../../src/cloudtrail/read-ahead-worker.ts";
import { parseConfig } from "../../src/config.ts";
import { buildDetector } from "../../src/detection.ts";
import { RunCollector } from "../../src/report.ts";
import { runFiles } from "../../src/runner.ts";
import { replayState } from "../../src/state/memory.ts";

const DIR = "test/fixtures/corpus/invictus-ir-aws-dataset/CloudTrail";
const names = readdirSync(DIR).sort();
// As CloudTrail delivers them, gzipped; two broken (reported as unreadable, as without the thread):
// one cut short, which the scan does not take on, and one with a broken object inside a record,
// which only the main thread's parse of that object finds.
const BROKEN = [7, 11];
const files: InputFile[] = names.map((name, i) => {
  let text = readFileSync(`${DIR}/${name}`, "utf8");
  if (i === 7) text = text.slice(0, -2);
  if (i === 11) text = text.replace('"requestParameters":{', '"requestParameters":{"x":1,,');
  const bytes = gzipSync(text);
  return { source: `${name}.gz`, read: async () => bytes };
});

/** A replay of the corpus with this read-ahead; the summary, the alerts, and how files were prepared. */
async function replay(readAhead: ReadAheadWorker) {
  const prepared: string[] = [];
  const prepare = readAhead.prepare.bind(readAhead);
  vi.spyOn(readAhead, "prepare").mockImplementation(async (bytes, gzipped) => {
    const p: PreparedFile = await prepare(bytes, gzipped);
    prepared.push("scan" in p ? "scanned" : "bytes");
    return p;
  });
  const config = parseConfig({});
  const { detector } = await buildDetector(config, {
    builtin: true,
    extraDirs: ["test/fixtures/corpus/sigma"],
  });
  const collector = new RunCollector({ keepEventLines: true });
  await runFiles(files, { ...replayState(), config, collector, detector }, readAhead);
  const alerts = [...collector.alerts.values()].map((a) => `${a.id} ${a.count} ${a.title}`).sort();
  return { summary: collector.summary(), alerts, events: collector.eventJsonLines().sort(), prepared };
}

describe("a replay with the read-ahead thread scanning its files", async () => {
  const started = new ReadAheadWorker();
  expect(await started.started).toBe(true);
  const threaded = await replay(started);
  await started.close();
  const stopped = new ReadAheadWorker();
  await stopped.close(); // every file gunzipped and parsed on the main thread
  const unthreaded = await replay(stopped);

  it("scans the trail files on the thread (and hands the one cut short back unscanned)", () => {
    expect(threaded.prepared.filter((p) => p === "scanned")).toHaveLength(names.length - 1);
    expect(threaded.prepared.filter((p) => p === "bytes")).toHaveLength(1);
    expect(unthreaded.prepared.every((p) => p === "bytes")).toBe(true);
  });

  it("gives the same run as parsing every file: records, verdicts, alerts, the broken file", () => {
    expect(threaded.summary.records.read).toBeGreaterThan(2800);
    expect(threaded.summary.files.failed.map((f) => f.source)).toEqual(BROKEN.map((i) => `${names[i]}.gz`));
    expect(threaded.alerts.length).toBeGreaterThan(10);
    expect(threaded.summary).toStrictEqual(unthreaded.summary);
    expect(threaded.alerts).toStrictEqual(unthreaded.alerts);
    expect(threaded.events).toStrictEqual(unthreaded.events);
  });
});

describe("runFiles reading ahead", () => {
  it("reads several files at once and still runs them in the order given, whichever read ends first", async () => {
    let reading = 0;
    let mostAtOnce = 0;
    const sources = Array.from({ length: 20 }, (_, i) => `f${String(i).padStart(2, "0")}.json`);
    const inputs: InputFile[] = sources.map((source, i) => ({
      source,
      read: async () => {
        reading++;
        mostAtOnce = Math.max(mostAtOnce, reading);
        // Later files are read faster: their reads end before the earlier ones'.
        await new Promise((r) => setTimeout(r, (20 - i) * 2));
        reading--;
        const record = {
          eventID: `e${i}`,
          eventTime: "2026-05-08T10:00:00Z",
          eventName: "A",
          eventSource: "s3.amazonaws.com",
        };
        return Buffer.from(JSON.stringify({ Records: [record] }));
      },
    }));
    const ran: string[] = [];
    const collector = new RunCollector();
    const readAhead = new ReadAheadWorker();
    try {
      await runFiles(
        inputs,
        { ...replayState(), config: parseConfig({}), collector, onFile: (_, source) => ran.push(source) },
        readAhead,
      );
    } finally {
      await readAhead.close();
    }
    expect(ran).toEqual(sources);
    expect(collector.summary().records.events).toBe(20);
    expect(mostAtOnce).toBeGreaterThan(1);
    expect(mostAtOnce).toBeLessThanOrEqual(9); // the file in the pipeline and 8 ahead
  });
});

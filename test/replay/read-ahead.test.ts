import { readdirSync, readFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { describe, expect, it, vi } from "vitest";
import type { InputFile } from "../../src/cloudtrail/inputs.ts";
import { type PreparedFile, ReadAheadWorker } from "../../src/cloudtrail/read-ahead-worker.ts";
import { parseConfig } from "../../src/config.ts";
import { buildDetector } from "../../src/detection.ts";
import { RunCollector } from "../../src/report.ts";
import { READ_AHEAD, type ReadAheadLimits, runFiles } from "../../src/runner.ts";
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
  /**
   * `count` one-record files of `bytesEach` bytes, file i read in `delay(i)` ms: by default the first
   * 20 are read slower the earlier they come (their reads end before the earlier ones'), the others
   * at once (no timer), as from memory.
   */
  function inputs({ bytesEach = 0, count = 20, delay = (i: number) => (i < 20 ? (20 - i) * 2 : 0) } = {}) {
    const reads = { now: 0, mostAtOnce: 0, started: 0 };
    const sources = Array.from({ length: count }, (_, i) => `f${String(i).padStart(2, "0")}.json`);
    const files: InputFile[] = sources.map((source, i) => ({
      source,
      read: async () => {
        reads.started++;
        reads.now++;
        reads.mostAtOnce = Math.max(reads.mostAtOnce, reads.now);
        const ms = delay(i);
        if (ms) await new Promise((r) => setTimeout(r, ms));
        reads.now--;
        const record = {
          eventID: `e${i}`,
          eventTime: "2026-05-08T10:00:00Z",
          eventName: "A",
          eventSource: "s3.amazonaws.com",
        };
        const text = JSON.stringify({ Records: [record] });
        // Padded with JSON whitespace to the size asked for.
        return Buffer.from(text.padEnd(bytesEach, " "));
      },
    }));
    return { sources, files, reads };
  }

  /**
   * The files run in turn: the sources in the order they ran, and per file run how many files past
   * it had been asked for when it ran (`ahead`).
   */
  async function run({ files, reads }: ReturnType<typeof inputs>, limits?: ReadAheadLimits) {
    const ran: string[] = [];
    const ahead: number[] = [];
    const collector = new RunCollector();
    const readAhead = new ReadAheadWorker();
    try {
      await runFiles(
        files,
        {
          ...replayState(),
          config: parseConfig({}),
          collector,
          readAheadLimits: limits,
          onFile: (done, source) => {
            ran.push(source);
            ahead.push(reads.started - done);
          },
        },
        readAhead,
      );
    } finally {
      await readAhead.close();
    }
    return { ran, ahead, collector };
  }

  it("reads several files at once and still runs them in the order given, whichever read ends first", async () => {
    const input = inputs();
    const { ran, ahead, collector } = await run(input, { files: 8, bytes: READ_AHEAD.bytes });
    expect(ran).toEqual(input.sources);
    expect(collector.summary().records.events).toBe(20);
    expect(input.reads.mostAtOnce).toBeGreaterThan(1);
    expect(input.reads.mostAtOnce).toBeLessThanOrEqual(9); // the file in the pipeline and 8 ahead
    expect(ahead[0]).toBe(8);
  });

  it("reads as many files ahead as the limit says when they are small", async () => {
    const { ahead } = await run(inputs(), { files: 4, bytes: READ_AHEAD.bytes });
    expect(ahead.slice(0, 10)).toEqual([4, 4, 4, 4, 4, 4, 4, 4, 4, 4]);
  });

  it("by default reads 8 files ahead until sizes are known, then up to READ_AHEAD.files of small ones", async () => {
    const { ahead } = await run(inputs({ count: 60 }));
    expect(ahead[0]).toBe(8);
    expect(Math.max(...ahead.slice(1, 20))).toBe(READ_AHEAD.files);
    expect(READ_AHEAD.files).toBeGreaterThan(8);
  });

  it("reads fewer files ahead once their sizes fill the byte budget, and always one", async () => {
    const input = inputs({ bytesEach: 10_000 });
    // Before any read has ended, a file counts as an eighth of the budget: 8 ahead. Once sizes are
    // known, room for two files of 10 kB (and the one being read counted as 10 kB too).
    const { ran, ahead } = await run(input, { files: 16, bytes: 25_000 });
    expect(ran).toEqual(input.sources);
    expect(ahead[0]).toBe(8);
    for (const n of ahead.slice(10, 17)) expect(n).toBeLessThanOrEqual(2);
    // A budget smaller than one file: the pipeline still gets its next file read ahead.
    const one = await run(inputs({ bytesEach: 10_000 }), { files: 16, bytes: 1 });
    expect(one.ran).toEqual(input.sources);
    expect(one.ahead.slice(10, 19)).toEqual([1, 1, 1, 1, 1, 1, 1, 1, 1]);
  });

  it("counts a file still being read as at least an eighth of the budget, however small those read before", async () => {
    // The first file is read at once and small; the others take their time. Counted as that first
    // file's size, 16 would go ahead; counted as an eighth of the budget, 8 do.
    const input = inputs({ delay: (i) => (i === 0 ? 0 : 20) });
    const { ran, ahead } = await run(input, { files: 16, bytes: 8_000 });
    expect(ran).toEqual(input.sources);
    expect(ahead[0]).toBe(8);
  });

  it("reports a file whose read fails by its name and runs the others, a read that throws at once too", async () => {
    const input = inputs();
    // One read rejects (an S3 object gone since the listing); another throws before it returns a
    // promise (an InputFile that is not an async function): neither ends the run.
    input.files[3].read = async () => {
      throw new Error("NoSuchKey");
    };
    input.files[5].read = () => {
      throw new Error("EACCES: permission denied");
    };
    const { ran, collector } = await run(input, { files: 8, bytes: READ_AHEAD.bytes });
    expect(ran).toEqual(input.sources.filter((_, i) => i !== 3 && i !== 5));
    expect(collector.summary().files.failed).toEqual([
      { source: "f03.json", reason: "f03.json: NoSuchKey" },
      { source: "f05.json", reason: "f05.json: EACCES: permission denied" },
    ]);
  });
});

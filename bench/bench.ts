/**
 * `npm run bench`: records/s of (a) decompress + JSON.parse only — the floor — and (b) the full
 * replay pipeline (normalise, attribute, enrich, every built-in rule plus the SigmaHQ CloudTrail
 * rules, alerts, run collector), in one process over the same deterministic gzipped corpus, plus
 * peak RSS. Prints the figures and the ratio b/a: the median of each run's own ratio, (a) and (b)
 * measured back to back, so that the machine's speed drifting between runs cancels out, each from a
 * collected heap (run node with --expose-gc, as `npm run bench` does).
 *   --records N (default 200000)  --per-file N (default 1000)  --no-rules  --rules DIR (extra)
 *   --stages (also print milliseconds per pipeline stage; "waiting": the main thread waiting for the
 *   read-ahead worker's next file, and taking in its message)  --runs N (default 3: medians of N
 *   alternating runs)
 *   --disable ID (a rule off, as config rules.disabled does: what one rule costs)
 */
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { gunzipSync } from "node:zlib";
import { type InputFile, inDeliveryOrder } from "../src/cloudtrail/inputs.ts";
import { ReadAheadWorker } from "../src/cloudtrail/read-ahead-worker.ts";
import { parseConfig } from "../src/config.ts";
import { buildDetector } from "../src/detection.ts";
import type { StageTimes } from "../src/pipeline.ts";
import { RunCollector } from "../src/report.ts";
import { runFiles } from "../src/runner.ts";
import { replayState } from "../src/state/memory.ts";
import { generateCorpus } from "./corpus.ts";

const { values } = parseArgs({
  options: {
    records: { type: "string", default: "200000" },
    "per-file": { type: "string", default: "1000" },
    "no-rules": { type: "boolean", default: false },
    stages: { type: "boolean", default: false },
    runs: { type: "string", default: "3" },
    rules: { type: "string", multiple: true, default: [] },
    disable: { type: "string", multiple: true, default: [] },
  },
});
const SIGMA_RULES = "test/fixtures/corpus/sigma";
const config = parseConfig({ rules: { disabled: values.disable ?? [] } });
const records = Number(values.records);
const dir = `bench/.data/corpus-v2-${records}-${values["per-file"]}`;
const complete = join(dir, ".complete");

const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MiB`;
const peakRss = () => process.resourceUsage().maxRSS * 1024;
const rate = (n: number, ms: number) => Math.round((n / ms) * 1000);

if (!existsSync(complete)) {
  rmSync(dir, { recursive: true, force: true });
  const t0 = performance.now();
  generateCorpus(dir, { records, perFile: Number(values["per-file"]), seed: 20260508 });
  writeFileSync(complete, "");
  console.log(`generated ${records} records in ${((performance.now() - t0) / 1000).toFixed(1)} s → ${dir}`);
}
// Files are replayed in the order `agenttrail replay DIR` takes them (delivery time).
const paths = inDeliveryOrder(
  readdirSync(dir)
    .filter((f) => f.endsWith(".json.gz"))
    .sort()
    .map((f) => join(dir, f)),
);
// Bytes are read once up front so both measurements start from memory, not the disk cache.
const bytes = paths.map((p) => readFileSync(p));
const compressed = bytes.reduce((n, b) => n + b.length, 0);

function floor(): { records: number; ms: number } {
  const t0 = performance.now();
  let n = 0;
  for (const b of bytes)
    n += (JSON.parse(gunzipSync(b).toString("utf8")) as { Records: unknown[] }).Records.length;
  return { records: n, ms: performance.now() - t0 };
}

async function pipeline(): Promise<{
  records: number;
  ms: number;
  rules: number;
  alerts: number;
  ai: number;
  stages: StageTimes;
}> {
  // As `agenttrail replay` does: the read-ahead thread starts while the rules load (and is closed
  // if they fail to).
  const readAhead = new ReadAheadWorker();
  const collector = new RunCollector();
  const stages: StageTimes = {};
  let ruleCount: number;
  let t0: number;
  try {
    const extra = values["no-rules"] ? [] : [SIGMA_RULES, ...(values.rules ?? [])].filter(existsSync);
    const built = await buildDetector(config, { builtin: !values["no-rules"], extraDirs: extra });
    const { detector, errors } = built;
    ruleCount = built.ruleCount;
    if (errors.length) console.log(`rules not loaded: ${errors.length} (first: ${errors[0]})`);
    const files: InputFile[] = paths.map((source, i) => ({ source, read: async () => bytes[i] }));
    t0 = performance.now();
    await runFiles(
      files,
      {
        stageTimes: values.stages ? stages : undefined,
        ...replayState(),
        config,
        collector,
        detector,
      },
      readAhead,
    );
  } finally {
    await readAhead.close();
  }
  const ms = performance.now() - t0;
  const s = collector.summary();
  return { records: s.records.read, ms, rules: ruleCount, alerts: s.alerts.total, ai: s.byKind.ai, stages };
}

// Runs alternate (a) and (b) and medians are reported: one run swings by ±15% on a shared machine.
// (a) gets a warm-up run; (b) does not, its first run is one of the measured ones.
const runs = Math.max(1, Number(values.runs));
/**
 * Each measurement starts from a collected heap: otherwise a floor run paid for the garbage the
 * pipeline run before it left (its run state, up to a few hundred MiB), by a few per cent and unevenly.
 */
const collect = globalThis.gc ?? (() => {});
if (!globalThis.gc)
  console.log("(node without --expose-gc: measurements start from whatever heap the previous one left)");
floor(); // warm-up: JIT, zlib
const floors: { records: number; ms: number }[] = [];
const pipelines: Awaited<ReturnType<typeof pipeline>>[] = [];
let rssAfterFloor = 0;
let rssAfterPipeline = 0;
for (let run = 0; run < runs; run++) {
  collect();
  floors.push(floor());
  if (run === 0) rssAfterFloor = peakRss();
  collect();
  pipelines.push(await pipeline());
  if (run === 0) rssAfterPipeline = peakRss();
}
const median = <T extends { ms: number }>(xs: T[]): T =>
  [...xs].sort((x, y) => x.ms - y.ms)[(xs.length - 1) >> 1];
const a = median(floors);
const b = median(pipelines);
// Each run's b/a from its own (a) and (b): a machine slowing down for a minute slows both, where the
// ratio of medians may take (a) from a fast minute and (b) from a slow one.
const ratios = pipelines.map((p, i) => rate(p.records, p.ms) / rate(floors[i].records, floors[i].ms));
const ratio = median(ratios.map((r) => ({ ms: r }))).ms;

console.log(`corpus: ${paths.length} files, ${a.records} records, ${mib(compressed)} gzipped`);
console.log(`runs: ${runs}, medians below; b/a of each run: ${ratios.map((r) => r.toFixed(2)).join(" ")}`);
console.log(
  `(a) floor, gunzip + JSON.parse:  ${rate(a.records, a.ms).toLocaleString("en-US")} records/s  (${(a.ms / 1000).toFixed(2)} s)`,
);
console.log(
  `(b) full replay pipeline:        ${rate(b.records, b.ms).toLocaleString("en-US")} records/s  (${(b.ms / 1000).toFixed(2)} s, ${b.rules} rules, ${b.alerts} alerts, ${b.ai} AI events)`,
);
if (values.stages) {
  const listed = Object.entries(b.stages).map(([stage, ms]) => `${stage} ${ms.toFixed(0)}`);
  console.log(`stages of that run (ms): ${listed.join("  ")}`);
}
console.log(
  `ratio b/a: ${ratio.toFixed(2)} (median of the runs' ratios; ratio of the medians above: ${(rate(b.records, b.ms) / rate(a.records, a.ms)).toFixed(2)})`,
);
console.log(
  `peak RSS: ${mib(rssAfterFloor)} after the first floor run, ${mib(rssAfterPipeline)} after the first pipeline run`,
);

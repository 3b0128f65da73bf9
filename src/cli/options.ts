/** Option parsing shared by the commands that run the pipeline, and how a run ends. */

import type { Detector } from "../batch.ts";
import type { LookupProgress } from "../cloudtrail/lookup.ts";
import type { Config } from "../config.ts";
import { readConfigFile } from "../config-file.ts";
import { buildDetector } from "../detection.ts";
import { RunCollector, renderSummary, type SummarySource } from "../report.ts";
import type { RunDeps } from "../runner.ts";
import { cleanText } from "../sanitize.ts";
import { prepareOutputDir, writeRunOutputs } from "../sinks/local.ts";
import { replayState } from "../state/memory.ts";

export class UsageError extends Error {}

export const RUN_OPTIONS = {
  config: { type: "string" },
  out: { type: "string" },
  format: { type: "string", default: "text" },
  rules: { type: "string", multiple: true },
  "no-builtin-rules": { type: "boolean", default: false },
} as const;

export interface RunSetup {
  /** How the summary names the run and what it read. */
  source: SummarySource;
  config: Config;
  detector: Detector;
  collector: RunCollector;
  format: "text" | "json";
  out?: string;
  state: ReturnType<typeof replayState>;
}

export async function setupRun(
  values: {
    config?: string;
    out?: string;
    format?: string;
    rules?: string[];
    "no-builtin-rules"?: boolean;
  },
  source: SummarySource,
): Promise<RunSetup> {
  if (values.format !== "text" && values.format !== "json")
    throw new UsageError(`--format must be text or json, not ${values.format}`);
  if (values.out) {
    try {
      await prepareOutputDir(values.out);
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
  }
  const config = await readConfigFile(values.config);
  const { detector, errors, disabledCount, exceptionCount } = await buildDetector(config, {
    builtin: !values["no-builtin-rules"],
    extraDirs: values.rules ?? [],
  });
  for (const e of errors) process.stderr.write(`agenttrail: rule problem: ${e}\n`);
  // Said every run: tuning in a config file is easy to forget.
  if (disabledCount > 0)
    process.stderr.write(`agenttrail: ${disabledCount} rule(s) disabled by the config (rules.disabled)\n`);
  if (exceptionCount > 0)
    process.stderr.write(
      `agenttrail: ${exceptionCount} rule exception(s) set by the config (rules.exceptions)\n`,
    );
  return {
    source,
    config,
    detector,
    // Per-event lines are kept only for events.jsonl.
    collector: new RunCollector({ keepEventLines: Boolean(values.out) }),
    format: values.format,
    out: values.out,
    state: replayState(),
  };
}

/**
 * Runs a command's batches, then finishes the run (finishRun). `onFile` is the command's progress
 * line over files, if it has one; the progress line is cleared also when the run fails, so the error
 * is not printed onto it.
 */
export async function runAndFinish(
  setup: RunSetup,
  run: (deps: RunDeps) => Promise<void>,
  onFile?: RunDeps["onFile"],
): Promise<number> {
  const deps: RunDeps = {
    ...setup.state,
    config: setup.config,
    collector: setup.collector,
    detector: setup.detector,
    onFile,
  };
  try {
    await run(deps);
  } finally {
    endProgress();
  }
  return finishRun(setup);
}

/** Prints the summary, writes --out, and returns the exit status: non-zero when input was bad. */
async function finishRun(setup: RunSetup): Promise<number> {
  const summary = setup.collector.summary();
  if (setup.out) await writeRunOutputs(setup.out, setup.collector, summary);
  if (setup.format === "json") process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
  else
    process.stdout.write(`${renderSummary(summary, [...setup.collector.alerts.values()], setup.source)}\n`);
  for (const f of summary.files.failed) process.stderr.write(`agenttrail: ${f.reason}\n`);
  return summary.files.failed.length > 0 || summary.records.malformed > 0 ? 1 : 0;
}

/** node:util parseArgs, with its errors turned into usage errors. */
export function parseOrUsage<T>(parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

/** Where the progress line goes: a terminal (stderr), or a stand-in in tests. */
export interface ProgressStream {
  isTTY?: boolean;
  write(text: string): unknown;
}

/**
 * A one-line display on a terminal: each text replaces the line, at most every 200 ms unless
 * `now` is set (news the user should not miss); nothing when output is not a terminal.
 */
function progressWriter(
  stream: ProgressStream,
  clock: () => number,
): ((text: string, options?: { now?: boolean }) => void) | undefined {
  if (!stream.isTTY) return undefined;
  let last = Number.NEGATIVE_INFINITY;
  return (text, options) => {
    const t = clock();
    if (!options?.now && t - last < 200) return;
    last = t;
    stream.write(`\r\x1b[2K${text}`);
  };
}

/**
 * The progress line of a run over files. File names come from listings (S3 keys): cleaned like
 * every other record string.
 */
export function progressLine(
  label: string,
  stream: ProgressStream = process.stderr,
  now: () => number = Date.now,
): (done: number, source: string) => void {
  const write = progressWriter(stream, now);
  if (!write) return () => {};
  return (done, source) => {
    const name = source.length > 60 ? `…${source.slice(-59)}` : source;
    write(`${label} ${done} file(s): ${cleanText(name, 64)}`);
  };
}

/** The progress line of `agenttrail lookup`: pages and events so far, and throttled requests as they happen. */
export function lookupProgressLine(
  stream: ProgressStream = process.stderr,
  now: () => number = Date.now,
): (progress: LookupProgress) => void {
  const write = progressWriter(stream, now);
  if (!write) return () => {};
  let throttled = 0;
  return (p) => {
    const retrying = p.throttled > throttled;
    throttled = p.throttled;
    const note = p.throttled ? `, throttled ${p.throttled}× (LookupEvents allows 2 requests/s)` : "";
    write(`lookup ${p.pages} page(s), ${p.events} events${note}`, { now: retrying });
  };
}

export function endProgress(stream: ProgressStream = process.stderr): void {
  if (stream.isTTY) stream.write("\r\x1b[2K");
}

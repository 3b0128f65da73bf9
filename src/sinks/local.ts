/** The files `--out DIR` writes: events.jsonl (final verdicts), alerts.jsonl, summary.json. */
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { byFirstSeen } from "../alerts.ts";
import type { RunCollector, RunSummary } from "../report.ts";

/**
 * Makes the --out directory before the run: a directory that cannot be made fails in a second, not
 * after the whole input was read. Throws a one-line Error naming it.
 */
export async function prepareOutputDir(dir: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true });
  } catch (err) {
    throw new Error(`--out ${dir}: cannot make the directory: ${(err as Error).message}`);
  }
}

/**
 * `collector` must keep event lines (`new RunCollector({ keepEventLines: true })`); `dir` was made
 * before the run (prepareOutputDir).
 */
export async function writeRunOutputs(
  dir: string,
  collector: RunCollector,
  summary: RunSummary,
): Promise<void> {
  // By time then id, as the collector sorts them.
  const events = collector.eventJsonLines();
  const alerts = [...collector.alerts.values()].sort(byFirstSeen);
  await writeFile(join(dir, "events.jsonl"), jsonLines(events));
  await writeFile(join(dir, "alerts.jsonl"), jsonLines(alerts.map((a) => JSON.stringify(a))));
  await writeFile(join(dir, "summary.json"), `${JSON.stringify(summary, null, 2)}\n`);
}

function jsonLines(lines: string[]): string {
  return lines.join("\n") + (lines.length ? "\n" : "");
}

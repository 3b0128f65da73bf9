/** The files `--out DIR` writes: events.jsonl (final verdicts), alerts.jsonl, summary.json. */
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { RunCollector, RunSummary } from "../report.ts";

/** `collector` must keep event lines (`new RunCollector({ keepEventLines: true })`). */
export async function writeRunOutputs(
  dir: string,
  collector: RunCollector,
  summary: RunSummary,
): Promise<void> {
  await mkdir(dir, { recursive: true });
  // By time then id, as the collector sorts them.
  const events = collector.eventJsonLines();
  const alerts = [...collector.alerts.values()].sort((a, b) =>
    a.firstSeen < b.firstSeen ? -1 : a.firstSeen > b.firstSeen ? 1 : a.id < b.id ? -1 : 1,
  );
  await writeFile(join(dir, "events.jsonl"), jsonLines(events));
  await writeFile(join(dir, "alerts.jsonl"), jsonLines(alerts.map((a) => JSON.stringify(a))));
  await writeFile(join(dir, "summary.json"), `${JSON.stringify(summary, null, 2)}\n`);
}

function jsonLines(lines: string[]): string {
  return lines.join("\n") + (lines.length ? "\n" : "");
}

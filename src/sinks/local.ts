/** The files `--out DIR` writes: events.jsonl (final verdicts), alerts.jsonl, summary.json. */
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { RunCollector, RunSummary } from "../report.ts";

export async function writeRunOutputs(
  dir: string,
  collector: RunCollector,
  summary: RunSummary,
): Promise<void> {
  await mkdir(dir, { recursive: true });
  const events = [...collector.eventLines()].sort((a, b) =>
    a.time < b.time ? -1 : a.time > b.time ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0,
  );
  const alerts = [...collector.alerts.values()].sort((a, b) =>
    a.firstSeen < b.firstSeen ? -1 : a.firstSeen > b.firstSeen ? 1 : a.id < b.id ? -1 : 1,
  );
  await writeFile(join(dir, "events.jsonl"), jsonLines(events));
  await writeFile(join(dir, "alerts.jsonl"), jsonLines(alerts));
  await writeFile(join(dir, "summary.json"), `${JSON.stringify(summary, null, 2)}\n`);
}

function jsonLines(items: unknown[]): string {
  return items.map((i) => JSON.stringify(i)).join("\n") + (items.length ? "\n" : "");
}

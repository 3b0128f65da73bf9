/** Replays batches of raw records through the real pipeline with a MemoryStore; returns final verdicts. */
import type { Detector } from "../../src/batch.ts";
import { type ConfigInput, parseConfig } from "../../src/config.ts";
import { processBatch } from "../../src/pipeline.ts";
import { type EventLine, RunCollector } from "../../src/report.ts";
import { replayState } from "../../src/state/memory.ts";

export interface Batch {
  source: string;
  records: unknown[];
}

export async function replayBatches(batches: Batch[], config: ConfigInput = {}, detector?: Detector) {
  const { store, eventClock } = replayState();
  const collector = new RunCollector({ keepEventLines: true });
  const cfg = parseConfig(config);
  const results = [];
  for (const b of batches)
    results.push(await processBatch(b, { store, config: cfg, sinks: [collector], detector, eventClock }));
  const byId = new Map<string, EventLine>();
  for (const line of eventLinesOf(collector)) byId.set(line.id, line);
  return { store, collector, results, byId, summary: collector.summary() };
}

/** What `--out` writes to events.jsonl (the collector's eventJsonLines), as objects. */
export function eventLinesOf(collector: RunCollector): EventLine[] {
  return collector.eventJsonLines().map((json) => JSON.parse(json) as EventLine);
}

/** The verdict of the event with this id, failing loudly when it is missing. */
export function verdictOf(byId: Map<string, EventLine>, id: string): EventLine["actor"] {
  const line = byId.get(id);
  if (!line) throw new Error(`no event ${id}`);
  return line.actor;
}

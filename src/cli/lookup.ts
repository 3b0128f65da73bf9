/** `agenttrail lookup`: CloudTrail LookupEvents pages through the same pipeline as replay. */
import { parseArgs } from "node:util";
import { CloudTrailClient } from "@aws-sdk/client-cloudtrail";
import { lookupEventBatches, parseLookupAttribute } from "../cloudtrail/lookup.ts";
import { parseDuration } from "../duration.ts";
import { runRecordBatches } from "../runner.ts";
import {
  lookupProgressLine,
  parseOrUsage,
  RUN_OPTIONS,
  runAndFinish,
  setupRun,
  UsageError,
} from "./options.ts";

const LOOKUP_OPTIONS = {
  ...RUN_OPTIONS,
  since: { type: "string" },
  start: { type: "string" },
  end: { type: "string" },
  attribute: { type: "string" },
  region: { type: "string" },
  "max-pages": { type: "string" },
} as const;

export async function lookupCommand(args: string[]): Promise<number> {
  const { values } = parseOrUsage(() =>
    parseArgs({ args, options: LOOKUP_OPTIONS, allowPositionals: false }),
  );
  const end = values.end ? parseTime(values.end, "--end") : new Date();
  const start = values.start
    ? parseTime(values.start, "--start")
    : new Date(end.getTime() - parseOrUsage(() => parseDuration(values.since ?? "1h", "--since")) * 1000);
  let attribute: ReturnType<typeof parseLookupAttribute> | undefined;
  if (values.attribute) {
    try {
      attribute = parseLookupAttribute(values.attribute);
    } catch (err) {
      throw new UsageError(`--attribute must be ${(err as Error).message.replace(/^expected /, "")}`);
    }
  }
  const maxPages =
    values["max-pages"] === undefined ? undefined : positiveInteger(values["max-pages"], "--max-pages");
  // After every usage check: a usage mistake is said before a configuration error.
  const setup = await setupRun(values, { command: "lookup", unit: "page" });
  const client = new CloudTrailClient(values.region ? { region: values.region } : {});
  // Pages are not files: the lookup has a progress line of its own.
  const onProgress = lookupProgressLine();
  // A page that cannot be read ends the lookup: reported like an unreadable file, the pages read stand.
  const onPageFailed = (source: string, err: unknown) => setup.collector.fileFailed(source, err);
  return runAndFinish(setup, (deps) =>
    runRecordBatches(
      lookupEventBatches(client, { start, end, attribute, maxPages, onProgress, onPageFailed }),
      deps,
    ),
  );
}

function positiveInteger(text: string, flag: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`${flag} must be a positive integer, not ${text}`);
  return n;
}

function parseTime(text: string, flag: string): Date {
  const d = new Date(text);
  if (Number.isNaN(d.getTime())) throw new UsageError(`${flag}: not a time: ${text}`);
  return d;
}

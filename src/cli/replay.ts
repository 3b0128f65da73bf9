/** `agenttrail replay`: wiring of inputs, the memory store and the run outputs. */
import { parseArgs } from "node:util";
import { localInputs, readStream } from "../cloudtrail/inputs.ts";
import { s3ClientFromEnv } from "../cloudtrail/s3.ts";
import { s3Inputs } from "../cloudtrail/s3-inputs.ts";
import { describeReadError, runFiles } from "../runner.ts";
import {
  endProgress,
  finishRun,
  parseOrUsage,
  RUN_OPTIONS,
  runDeps,
  setupRun,
  UsageError,
} from "./options.ts";

export async function replayCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseOrUsage(() =>
    parseArgs({ args, options: RUN_OPTIONS, allowPositionals: true }),
  );
  if (positionals.length === 0)
    throw new UsageError("replay needs at least one file, directory, - or s3://bucket/prefix");
  const setup = await setupRun(values);
  const s3Args = positionals.filter((p) => p.startsWith("s3://"));
  const local = await localInputs(
    positionals.filter((p) => !p.startsWith("s3://")),
    () => readStream(process.stdin),
  );
  setup.collector.skippedFiles.push(...local.skipped);
  const deps = runDeps(setup, "replay");
  await runFiles(local.files, deps);
  if (s3Args.length) {
    const client = s3ClientFromEnv();
    for (const url of s3Args) {
      try {
        await runFiles(s3Inputs(client, url), deps);
      } catch (err) {
        // Listing failed (no such bucket, no permission): report it like an unreadable file.
        setup.collector.fileFailed(url, describeReadError(url, err));
      }
    }
  }
  endProgress();
  return finishRun(setup);
}

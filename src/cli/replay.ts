/** `agenttrail replay`: wiring of inputs, the memory store and the run outputs. */
import { parseArgs } from "node:util";
import { FileError } from "../cloudtrail/decode.ts";
import { describeEmptyDirectories, type InputFile, localInputs, readStream } from "../cloudtrail/inputs.ts";
import { ReadAheadWorker } from "../cloudtrail/read-ahead-worker.ts";
import { s3ClientFromEnv } from "../cloudtrail/s3.ts";
import { s3Inputs } from "../cloudtrail/s3-inputs.ts";
import { runFiles } from "../runner.ts";
import { parseOrUsage, progressLine, RUN_OPTIONS, runAndFinish, setupRun, UsageError } from "./options.ts";

export async function replayCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseOrUsage(() =>
    parseArgs({ args, options: RUN_OPTIONS, allowPositionals: true }),
  );
  if (positionals.length === 0)
    throw new UsageError("replay needs at least one file, directory, - or s3://bucket/prefix");
  // Started first: the thread loads while the rules do.
  const readAhead = new ReadAheadWorker();
  try {
    return await replay(values, positionals, readAhead);
  } finally {
    await readAhead.close();
  }
}

async function replay(
  values: Parameters<typeof setupRun>[0],
  positionals: string[],
  readAhead: ReadAheadWorker,
): Promise<number> {
  const s3Args = positionals.filter((p) => p.startsWith("s3://"));
  // A path that is not there is a mistake in what was asked for, like an empty directory below.
  const local = await localInputs(
    positionals.filter((p) => !p.startsWith("s3://")),
    () => readStream(process.stdin),
  ).catch((err: unknown) => {
    throw err instanceof FileError ? new UsageError(err.message) : err;
  });
  // A directory with nothing to read is a wrong path: a summary without it would read as "no AI
  // activity there".
  if (local.empty.length) throw new UsageError(describeEmptyDirectories(local.empty));
  // After the paths, as every command's usage checks: a wrong path is said before a configuration error.
  const setup = await setupRun(values, { command: "replay", unit: "file" });
  setup.collector.fileSkipped(local.skipped);
  const reportListing = (url: string, err: unknown) => setup.collector.fileFailed(url, err);
  // Local inputs first, then each S3 prefix: one run, one read-ahead, the sinks closed once.
  async function* inputs(): AsyncIterable<InputFile> {
    yield* local.files;
    if (s3Args.length) yield* s3Inputs(s3ClientFromEnv(), s3Args, reportListing);
  }
  return runAndFinish(setup, (deps) => runFiles(inputs(), deps, readAhead), progressLine("replay"));
}

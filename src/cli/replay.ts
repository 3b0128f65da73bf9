/** `agenttrail replay`: wiring of inputs, the memory store and the run outputs. */
import { S3Client } from "@aws-sdk/client-s3";
import { localInputs, readStream } from "../cloudtrail/inputs.ts";
import { s3Inputs } from "../cloudtrail/s3-inputs.ts";
import { runFiles } from "../runner.ts";
import { MemoryStore } from "../state/memory.ts";
import { endProgress, finishRun, parseRunArgs, progressLine, setupRun, UsageError } from "./options.ts";

export async function replayCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseRunArgs(args, {});
  if (positionals.length === 0) throw new UsageError("replay needs at least one file, directory, - or s3://bucket/prefix");
  const setup = await setupRun(values);
  const s3Args = positionals.filter((p) => p.startsWith("s3://"));
  const local = await localInputs(
    positionals.filter((p) => !p.startsWith("s3://")),
    () => readStream(process.stdin),
  );
  setup.collector.skippedFiles.push(...local.skipped);
  const store = new MemoryStore();
  const onFile = progressLine("replay");
  const deps = { store, config: setup.config, collector: setup.collector, detector: setup.detector, onFile };
  await runFiles(local.files, deps);
  if (s3Args.length) {
    const client = new S3Client({});
    for (const url of s3Args) await runFiles(s3Inputs(client, url, setup.collector.skippedFiles), deps);
  }
  endProgress();
  return finishRun(setup);
}

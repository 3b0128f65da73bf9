#!/usr/bin/env node
// Runs the TypeScript CLI directly (tsx), so a clone needs no build step.
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { YOUNG_GENERATION_FLAG } from "./node-flags.js";

// Unless the young-generation size was given (node flag or NODE_OPTIONS), the CLI runs in a child
// process started with it (see node-flags.js), which gets the signals and passes its exit status on.
const given = [...process.execArgv, process.env.NODE_OPTIONS ?? ""].some((arg) =>
  arg.includes("--max-semi-space-size"),
);
if (given) {
  const { register } = await import("tsx/esm/api");
  register();
  await import("../src/cli/main.ts");
} else {
  const child = spawn(
    process.execPath,
    [YOUNG_GENERATION_FLAG, ...process.execArgv, fileURLToPath(import.meta.url), ...process.argv.slice(2)],
    { stdio: "inherit" },
  );
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) process.on(signal, () => child.kill(signal));
  child.on("error", (err) => {
    console.error(`agenttrail: cannot start ${process.execPath}: ${err.message}`);
    process.exit(1);
  });
  child.on("exit", (code, signal) => {
    if (signal) {
      process.removeAllListeners(signal);
      process.kill(process.pid, signal);
    } else process.exit(code ?? 1);
  });
}

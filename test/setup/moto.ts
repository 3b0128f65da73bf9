/**
 * vitest globalSetup: one moto_server for the whole run on a free loopback port.
 * Test files reach it through test/support/aws.ts (`inject("awsEndpoint")`); each test isolates itself in a
 * fresh moto account (see resetMoto there), so files running in parallel workers share the server safely.
 */

import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { createServer } from "node:net";
import type { TestProject } from "vitest/node";

declare module "vitest" {
  export interface ProvidedContext {
    /** Base URL of the emulated AWS endpoint, e.g. http://127.0.0.1:41234 ("" when it could not start). */
    awsEndpoint: string;
    /** Why moto could not be started; tests that need it fail with this, the others still run. */
    awsUnavailable: string;
  }
}

const HOST = "127.0.0.1";
const START_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 5_000;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, HOST, () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => (port ? resolve(port) : reject(new Error("no free port"))));
    });
  });
}

function hasMotoServer(): boolean {
  const probe = spawnSync("moto_server", ["--help"], { stdio: "ignore" });
  return probe.error === undefined && probe.status === 0;
}

/** The project installs what it needs: moto is a Python tool, so it comes from pip. */
function ensureMotoServer(): void {
  if (hasMotoServer()) return;
  for (const pip of [
    ["pip", "install", "--quiet", "moto[server]"],
    ["python3", "-m", "pip", "install", "--quiet", "moto[server]"],
  ]) {
    const run = spawnSync(pip[0], pip.slice(1), { stdio: "inherit" });
    if (run.status === 0 && hasMotoServer()) return;
  }
  throw new Error("moto_server is not on PATH and `pip install 'moto[server]'` did not provide it");
}

async function waitUntilServing(url: string, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`moto_server exited early (${child.exitCode ?? child.signalCode}):\n${output()}`);
    }
    try {
      const res = await fetch(`${url}/moto-api/data.json`);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`moto_server did not answer on ${url} within ${START_TIMEOUT_MS} ms:\n${output()}`);
}

function exited(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/** Signals the whole process group (watchdog, a pyenv shim if any, python). */
function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

function groupAlive(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function groupGone(pid: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (groupAlive(pid)) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
  return true;
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  try {
    const { url, stop } = await startMoto();
    project.provide("awsEndpoint", url);
    project.provide("awsUnavailable", "");
    return stop;
  } catch (err) {
    const reason = (err as Error).message;
    console.warn(`[moto] emulated AWS unavailable, tests that need it will fail: ${reason}`);
    project.provide("awsEndpoint", "");
    project.provide("awsUnavailable", reason);
    return async () => {};
  }
}

async function startMoto(): Promise<{ url: string; stop: () => Promise<void> }> {
  ensureMotoServer();
  const port = await freePort();
  const url = `http://${HOST}:${port}`;
  // A small sh watchdog owns moto: it stops moto when this process dies without running the teardown
  // (vitest killed), so no emulator is left behind. detached: its own process group, which teardown stops.
  const watchdog = [
    'moto_server -H "$1" -p "$2" & moto=$!',
    "trap 'exit 0' TERM INT HUP",
    'while kill -0 "$3" 2>/dev/null && kill -0 "$moto" 2>/dev/null; do sleep 1; done',
    // parent gone (or moto died): stop the whole group, shim and python included
    'kill -0 "$3" 2>/dev/null || { trap - TERM; kill -TERM 0; }',
    'wait "$moto"',
  ].join("\n");
  const child = spawn("sh", ["-c", watchdog, "moto-watchdog", HOST, String(port), String(process.pid)], {
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let log = "";
  const keep = (chunk: Buffer) => {
    log = (log + chunk.toString()).slice(-4000);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  const pid = child.pid;
  if (pid === undefined) throw new Error("moto_server could not be started");

  const stop = async () => {
    signalGroup(pid, "SIGTERM");
    const stopped = (await exited(child, STOP_TIMEOUT_MS)) && (await groupGone(pid, STOP_TIMEOUT_MS));
    if (!stopped) {
      signalGroup(pid, "SIGKILL");
      await groupGone(pid, STOP_TIMEOUT_MS);
    }
  };

  try {
    await waitUntilServing(url, child, () => log);
  } catch (err) {
    await stop();
    throw err;
  }
  return { url, stop };
}

/**
 * bin/agenttrail.js starts the CLI in a child node with the young-generation flag: the child must
 * get it, see the same arguments and standard input, and not outlive the launcher.
 */
import { execFileSync, spawn } from "node:child_process";
import { describe, expect, it, onTestFinished } from "vitest";

const { YOUNG_GENERATION_FLAG } = (await import(
  new URL("../../bin/node-flags.js", import.meta.url).href
)) as {
  YOUNG_GENERATION_FLAG: string;
};

/** Command lines of the processes whose parent is `pid` (Linux /proc through ps). */
function childCommands(pid: number): { pid: number; command: string }[] {
  let out = "";
  try {
    out = execFileSync("ps", ["-o", "pid=,args=", "--ppid", String(pid)], { encoding: "utf8" });
  } catch {
    return []; // ps exits 1 when there is none
  }
  return out
    .split("\n")
    .filter((l) => l.trim())
    .map((l) => {
      const [p, ...rest] = l.trim().split(/\s+/);
      return { pid: Number(p), command: rest.join(" ") };
    });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe.skipIf(process.platform !== "linux")("the CLI launcher", () => {
  it("runs the CLI in a child started with the flag, and a SIGTERM to the launcher ends both", async () => {
    // `replay -` waits for standard input: the run is under way until stdin closes. Its stdin is a
    // pipe from another process, so that it stays open whatever happens to the launcher.
    const writer = spawn("sleep", ["30"], { stdio: ["ignore", "pipe", "ignore"] });
    const launcher = spawn(process.execPath, ["bin/agenttrail.js", "replay", "-"], {
      stdio: [writer.stdout, "pipe", "pipe"],
    });
    onTestFinished(() => {
      writer.kill();
    });
    let children: { pid: number; command: string }[] = [];
    for (let i = 0; i < 100 && children.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 50));
      children = childCommands(launcher.pid as number);
    }
    expect(children).toHaveLength(1);
    expect(children[0].command).toContain(YOUNG_GENERATION_FLAG);
    expect(children[0].command).toMatch(/bin\/agenttrail\.js replay -$/);

    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      launcher.on("exit", (code, signal) => resolve({ code, signal })),
    );
    launcher.kill("SIGTERM");
    expect(await exited).toEqual({ code: null, signal: "SIGTERM" });
    for (let i = 0; i < 40 && alive(children[0].pid); i++) await new Promise((r) => setTimeout(r, 50));
    expect(alive(children[0].pid)).toBe(false);
  });

  it("passes standard input and the exit status through", async () => {
    const launcher = spawn(process.execPath, ["bin/agenttrail.js", "replay", "-", "--format", "json"], {
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    launcher.stdout.on("data", (d) => {
      stdout += d;
    });
    launcher.stdin.end("not json at all");
    const code = await new Promise<number | null>((resolve) => launcher.on("exit", (c) => resolve(c)));
    expect(code).toBe(1); // a file that is not JSON: reported, exit status 1
    expect(JSON.parse(stdout).files.failed).toHaveLength(1);
  });
});

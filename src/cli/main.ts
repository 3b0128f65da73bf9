/** `agenttrail`: command dispatch only. */
import { ConfigError } from "../config.ts";
import { lookupCommand } from "./lookup.ts";
import { UsageError } from "./options.ts";
import { replayCommand } from "./replay.ts";
import { rulesCommand } from "./rules.ts";

const USAGE = `usage:
  agenttrail replay [--config FILE] [--out DIR] [--format text|json] [--rules DIR]... [--no-builtin-rules] <file|dir|-|s3://bucket/prefix>...
  agenttrail lookup [--since 3h | --start ISO --end ISO] [--attribute Key=Value] [--region R] [--config FILE] [--out DIR] [--format text|json] [--rules DIR]... [--no-builtin-rules]
  agenttrail rules test [--config FILE] [DIR]...
  agenttrail rules lint [--config FILE] [--no-builtin-rules] [DIR]...

rules test --config FILE runs the fixtures as a run with FILE would: its placeholders, agents, business
hours and exceptions apply, and a disabled rule's fixtures are not run (DISABLED). Without --config: the
defaults, which the built-in pack's fixtures are written for.`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case "replay":
      return replayCommand(rest);
    case "lookup":
      return lookupCommand(rest);
    case "rules":
      return rulesCommand(rest);
    case "help":
    case "--help":
    case "-h":
      process.stdout.write(`${USAGE}\n`);
      return 0;
    default:
      process.stderr.write(`${command ? `unknown command: ${command}\n` : ""}${USAGE}\n`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    const message =
      // Mistakes in what was asked for: their message says it all (a stack is for bugs).
      err instanceof ConfigError || err instanceof UsageError
        ? err.message
        : err instanceof Error
          ? (err.stack ?? err.message)
          : String(err);
    process.stderr.write(`agenttrail: ${message}\n`);
    process.exitCode = 2;
  },
);

/**
 * `agenttrail rules test [--config FILE] [DIR]...` and `agenttrail rules lint [--config FILE]
 * [--no-builtin-rules] [DIR]...`: detection as code.
 */
import { parseArgs } from "node:util";
import { readConfigFile } from "../config-file.ts";
import { runRulePaths, scenarioRunner } from "../detection.ts";
import { formatFixtureReport, runRuleFixtures } from "../rules/fixtures.ts";
import { formatLintReport, lintRules } from "../rules/lint.ts";
import { parseOrUsage, UsageError } from "./options.ts";

export async function rulesCommand(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  // Every mistake in what was asked for is said before the configuration is read: fixing a config
  // error first would only lead to the usage error.
  if (sub !== "test" && sub !== "lint")
    throw new UsageError(`rules needs test or lint, not ${sub ?? "nothing"}`);
  const { values, positionals } = parseOrUsage(() =>
    parseArgs({
      args: rest,
      options: { config: { type: "string" }, "no-builtin-rules": { type: "boolean", default: false } },
      allowPositionals: true,
    }),
  );
  const builtin = !values["no-builtin-rules"];
  if (sub === "lint" && !builtin && positionals.length === 0)
    throw new UsageError("rules lint --no-builtin-rules needs a rule directory to lint");
  if (sub === "test" && !builtin)
    throw new UsageError(
      "rules test takes no --no-builtin-rules: it tests the directories given (the built-in pack when none is)",
    );
  // The rules as a run with this configuration has them (the defaults without --config).
  const config = await readConfigFile(values.config);
  if (sub === "lint") {
    // The rules a run with `--rules DIR...` loads: duplicate ids across the sets, and the config's
    // tuning (disabled ids, exceptions), are checked against what will run.
    const paths = runRulePaths({ builtin, extraDirs: positionals });
    const report = await lintRules(paths, { tuning: config.rules });
    process.stdout.write(`${formatLintReport(report)}\n`);
    return report.ok ? 0 : 1;
  }
  let ok = true;
  // Each directory on its own; none given: the built-in pack, checked as a run checks it.
  const dirs = positionals.length ? positionals : runRulePaths({ builtin: true, extraDirs: [] });
  const scenarios = scenarioRunner(config);
  for (const dir of dirs) {
    const report = await runRuleFixtures(dir, scenarios, { tuning: config.rules });
    process.stdout.write(`${formatFixtureReport(report)}\n`);
    ok &&= report.ok;
  }
  return ok ? 0 : 1;
}

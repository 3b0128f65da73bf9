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
  const { values, positionals } = parseOrUsage(() =>
    parseArgs({
      args: rest,
      options: { config: { type: "string" }, "no-builtin-rules": { type: "boolean", default: false } },
      allowPositionals: true,
    }),
  );
  // The rules as a run with this configuration has them (the defaults without --config).
  const config = await readConfigFile(values.config);
  if (sub === "lint") {
    // The rules a run with `--rules DIR...` loads: duplicate ids across the sets, and the config's
    // tuning (disabled ids, exceptions), are checked against what will run.
    const builtin = !values["no-builtin-rules"];
    if (!builtin && positionals.length === 0)
      throw new UsageError("rules lint --no-builtin-rules needs a rule directory to lint");
    const paths = runRulePaths({ builtin, extraDirs: positionals });
    const report = await lintRules(paths, { tuning: config.rules });
    process.stdout.write(`${formatLintReport(report)}\n`);
    return report.ok ? 0 : 1;
  }
  if (sub === "test") {
    if (values["no-builtin-rules"])
      throw new UsageError(
        "rules test takes no --no-builtin-rules: it tests the directories given (the built-in pack when none is)",
      );
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
  throw new UsageError(`rules needs test or lint, not ${sub ?? "nothing"}`);
}

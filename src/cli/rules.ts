/** `agenttrail rules test|lint [--config FILE] [DIR]...`: detection as code. */
import { parseArgs } from "node:util";
import { defaultConfig } from "../config.ts";
import { readConfigFile } from "../config-file.ts";
import { builtinRulesDir, scenarioRunner } from "../detection.ts";
import { formatFixtureReport, runRuleFixtures } from "../rules/fixtures.ts";
import { formatLintReport, lintRules } from "../rules/lint.ts";
import { parseOrUsage, UsageError } from "./options.ts";

export async function rulesCommand(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  const { values, positionals } = parseOrUsage(() =>
    parseArgs({ args: rest, options: { config: { type: "string" } }, allowPositionals: true }),
  );
  const paths = positionals.length ? positionals : [builtinRulesDir()];
  if (sub === "lint") {
    // With a configuration: its placeholders expand, and its tuning is checked against these rules.
    const config = values.config ? await readConfigFile(values.config) : undefined;
    const report = await lintRules(paths, { tuning: config?.rules });
    process.stdout.write(`${formatLintReport(report)}\n`);
    return report.ok ? 0 : 1;
  }
  if (sub === "test") {
    if (values.config) throw new UsageError("rules test checks rules as written: it takes no --config");
    let ok = true;
    for (const dir of paths) {
      const report = await runRuleFixtures(dir, scenarioRunner(defaultConfig));
      process.stdout.write(`${formatFixtureReport(report)}\n`);
      ok &&= report.ok;
    }
    return ok ? 0 : 1;
  }
  throw new UsageError(`rules needs test or lint, not ${sub ?? "nothing"}`);
}

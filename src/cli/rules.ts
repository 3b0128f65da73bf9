/** `agenttrail rules test|lint [DIR]...`: detection as code. */
import { defaultConfig } from "../config.ts";
import { builtinRulesDir, scenarioRunner } from "../detection.ts";
import { formatFixtureReport, runRuleFixtures } from "../rules/fixtures.ts";
import { formatLintReport, lintRules } from "../rules/lint.ts";
import { UsageError } from "./options.ts";

export async function rulesCommand(args: string[]): Promise<number> {
  const [sub, ...dirs] = args;
  const paths = dirs.length ? dirs : [builtinRulesDir()];
  if (sub === "lint") {
    const report = await lintRules(paths);
    process.stdout.write(`${formatLintReport(report)}\n`);
    return report.ok ? 0 : 1;
  }
  if (sub === "test") {
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

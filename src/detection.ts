/** The detector a run uses: the built-in rule pack (rules/) plus any rule directories given. */
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Detector } from "./batch.ts";
import { type Config, ConfigError } from "./config.ts";
import { processBatch } from "./pipeline.ts";
import { RuleEngine } from "./rules/engine.ts";
import type { ScenarioRunner } from "./rules/fixtures.ts";
import { loadTunedRules } from "./rules/tuning.ts";
import { replayState } from "./state/memory.ts";

/**
 * rules/ one level above this module: beside src/ in a clone, beside functions/ in the Lambda artifact
 * (where this code is bundled into functions/handler.mjs); AGENTTRAIL_RULES_DIR overrides both.
 */
export function builtinRulesDir(env: Record<string, string | undefined> = process.env): string {
  if (env.AGENTTRAIL_RULES_DIR) return env.AGENTTRAIL_RULES_DIR;
  return fileURLToPath(new URL("../rules/", import.meta.url));
}

export interface DetectorOptions {
  builtin: boolean;
  extraDirs: readonly string[];
  builtinDir?: string;
}

/**
 * The rule paths a run loads, in order: the built-in pack (unless turned off), then the directories
 * added. `agenttrail rules lint` lints the same list, so that what it passes is what a run loads.
 */
export function runRulePaths(options: DetectorOptions): string[] {
  const paths: string[] = [];
  if (options.builtin) {
    const dir = options.builtinDir ?? builtinRulesDir();
    // A setting (AGENTTRAIL_RULES_DIR, a broken install) to correct, not a bug: no stack trace.
    if (!existsSync(dir)) throw new ConfigError(`built-in rules not found at ${dir}`);
    paths.push(dir);
  }
  paths.push(...options.extraDirs);
  return paths;
}

/**
 * The engine over the built-in and added rules, with the configuration's tuning: `rules.exceptions`
 * narrowed, `rules.disabled` turned off. `errors`: rules that did not load and tuning that names no
 * rule or does not compile; `ruleCount`: rules that run, not counting disabled ones that run on only
 * to feed a correlation.
 */
export async function buildDetector(
  config: Config,
  options: DetectorOptions,
): Promise<{
  detector: Detector;
  errors: string[];
  ruleCount: number;
  disabledCount: number;
  exceptionCount: number;
}> {
  const { tuned, errors } = await loadTunedRules(runRulePaths(options), config.rules);
  return {
    detector: new RuleEngine(tuned.linked, config),
    errors: errors.map((e) => `${e.file}${e.ruleId ? ` (${e.ruleId})` : ""}: ${e.reason}`),
    ruleCount: tuned.linked.enabled,
    disabledCount: tuned.linked.disabled,
    exceptionCount: tuned.exceptions,
  };
}

/**
 * Runs fixture scenarios through the real pipeline (normalise → attribute → enrich → detect) with
 * only the given rules and fresh in-memory state: what `agenttrail rules test` replays. One engine
 * per rule set, not per fixture: an engine keeps only what it derives from its rules (routes, index,
 * memoised lookups); a scenario's windows and markers are in its own store.
 */
export function scenarioRunner(config: Config): ScenarioRunner {
  return (rules) => {
    const detector = new RuleEngine(rules, config);
    return async (records) => {
      const { store, eventClock } = replayState();
      const result = await processBatch(
        { source: "fixture", records },
        { store, eventClock, config, detector },
      );
      return { hits: result.hits, malformed: result.malformed };
    };
  };
}

/**
 * A configuration's tuning of the loaded rules: `rules.exceptions` narrow detection rules, then
 * `rules.disabled` turns rules off. One place, so that the detector and `rules lint --config` agree.
 */
import type { Config } from "../config.ts";
import type { CompiledRule } from "./compile.ts";
import { withoutDisabled } from "./disable.ts";
import { withExceptions } from "./exceptions.ts";
import type { RuleProblem } from "./link.ts";

export function tuneRules(
  rules: readonly CompiledRule[],
  tuning: Config["rules"],
): { rules: CompiledRule[]; disabled: number; exceptions: number; problems: RuleProblem[] } {
  const narrowed = withExceptions(rules, tuning.exceptions, { placeholders: tuning.placeholders });
  const used = withoutDisabled(narrowed.rules, tuning.disabled);
  return {
    rules: used.rules,
    disabled: used.disabled,
    exceptions: narrowed.applied,
    problems: [...narrowed.problems, ...used.problems],
  };
}

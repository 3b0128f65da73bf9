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
): {
  rules: CompiledRule[];
  /** Rules that run and were not disabled (a disabled rule may run on, only to feed a correlation). */
  enabled: number;
  disabled: number;
  /** Exceptions in force: those that narrow a rule that still runs. */
  exceptions: number;
  problems: RuleProblem[];
} {
  const narrowed = withExceptions(rules, tuning.exceptions, { placeholders: tuning.placeholders });
  const used = withoutDisabled(narrowed.rules, tuning.disabled);
  const disabled = new Set(tuning.disabled);
  const running = new Set(used.rules.map((r) => r.meta.id));
  return {
    rules: used.rules,
    enabled: used.rules.filter((r) => !disabled.has(r.meta.id)).length,
    disabled: used.disabled,
    exceptions: narrowed.narrowed.filter((ids) => ids.some((id) => running.has(id))).length,
    problems: [...narrowed.problems, ...used.problems],
  };
}

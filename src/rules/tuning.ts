/**
 * A configuration's tuning of the loaded rules: `rules.exceptions` narrow detection rules, then
 * `rules.disabled` turns rules off, and the rules are linked as they run. One place, so that the
 * detector, `rules lint --config` and `rules test --config` agree.
 */
import type { Config } from "../config.ts";
import type { CompiledRule } from "./compile.ts";
import { withExceptions } from "./exceptions.ts";
import { type LinkedRules, linkRules, type RuleProblem } from "./link.ts";
import { type LoadResult, loadRules } from "./load.ts";

export interface TunedRules {
  /**
   * The rules linked as they run (disabled ones out, or only feeding): what the engine takes. Its
   * `enabled` counts the rules that run and are not disabled, its `disabled` the rules turned off by id
   * (`rules.disabled`): a base rule left out because it fed only disabled correlations is in neither.
   */
  linked: LinkedRules;
  /** Exceptions in force: those that narrow a rule that still runs. */
  exceptions: number;
  /**
   * Tuning that names no rule or does not compile, and the rules linking left out (a duplicate id, a
   * correlation that refers to no rule).
   */
  problems: RuleProblem[];
}

/**
 * @param options.onlyLoadedRules tuning entries naming none of `rules` are left out, not reported:
 * `rules test DIR` tests one directory, and entries naming rules elsewhere (the built-in pack, another
 * directory) are for `rules lint --config`, which checks them against the rules a run loads.
 */
export function tuneRules(
  rules: readonly CompiledRule[],
  tuning: Config["rules"],
  options: { onlyLoadedRules?: boolean } = {},
): TunedRules {
  // The exceptions are filtered where they are numbered, so a problem names its index in the config.
  const narrowed = withExceptions(rules, tuning.exceptions, { placeholders: tuning.placeholders }, options);
  const linked = linkRules(narrowed.rules, { ...options, disabled: tuning.disabled });
  const running = new Set(linked.rules.map((r) => r.meta.id));
  return {
    linked,
    exceptions: narrowed.narrowed.filter((ids) => ids.some((id) => running.has(id))).length,
    problems: [...narrowed.problems, ...linked.problems],
  };
}

export interface TunedRuleLoad {
  /** The rules as compiled (before tuning), the documents skipped, the files read. */
  loaded: LoadResult;
  tuned: TunedRules;
  /** Every problem: the documents that did not load, then the tuning's and linking's. */
  errors: RuleProblem[];
}

/**
 * The rules under `paths` (see loadRules), with the placeholders and tuning of `tuning`. With
 * `onlyLoadedRules`, tuning entries naming rules not loaded here are left out (see tuneRules), not reported.
 */
export async function loadTunedRules(
  paths: readonly string[],
  tuning: Config["rules"],
  options: { onlyLoadedRules?: boolean } = {},
): Promise<TunedRuleLoad> {
  const loaded = await loadRules(paths, { placeholders: tuning.placeholders });
  const tuned = tuneRules(loaded.rules, tuning, options);
  return { loaded, tuned, errors: [...loaded.errors, ...tuned.problems] };
}

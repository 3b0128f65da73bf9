/**
 * Rules a deployment turns off by id (config `rules.disabled`): a noisy SigmaHQ rule, a built-in that
 * does not fit an account, without editing the rule files. A disabled detection rule that an enabled
 * correlation still reads goes on feeding it, without alerting; otherwise it is not evaluated at all.
 * A disabled correlation takes with it the base rules that only fed it.
 */
import type { CompiledRule } from "./compile.ts";
import type { RuleProblem } from "./link.ts";

/** Where a problem with the disabled list is reported from. */
const SOURCE = "config rules.disabled";

export function withoutDisabled(
  rules: readonly CompiledRule[],
  disabledIds: readonly string[],
): { rules: CompiledRule[]; disabled: number; problems: RuleProblem[] } {
  const disabled = new Set(disabledIds);
  const problems: RuleProblem[] = [];
  // An id that names no rule is a typo or a rule that moved: a rule the user meant to silence runs on.
  const ids = new Set(rules.map((r) => r.meta.id));
  for (const id of disabled) {
    if (!ids.has(id)) problems.push({ file: SOURCE, ruleId: id, reason: "no loaded rule has this id" });
  }
  // Base rules are referenced by id or by Sigma name; the correlations on and off each feed some.
  const fed = new Set<string>();
  const fedByDisabled = new Set<string>();
  for (const r of rules) {
    if (r.kind !== "correlation") continue;
    for (const ref of r.ruleRefs) (disabled.has(r.meta.id) ? fedByDisabled : fed).add(ref);
  }
  const feeds = (r: CompiledRule, into: Set<string>) =>
    r.kind === "detection" && (into.has(r.meta.id) || (r.name !== undefined && into.has(r.name)));
  const kept: CompiledRule[] = [];
  let count = 0;
  for (const r of rules) {
    if (disabled.has(r.meta.id)) {
      count++;
      if (feeds(r, fed)) kept.push(withAlert(r, false));
    } else if (feeds(r, fedByDisabled)) {
      // Its correlation is off: it stays only if it alerts or still feeds another, alerting as linked
      // with all the rules (linked again without that correlation, Sigma's default would turn it on).
      if (r.meta.alert || feeds(r, fed)) kept.push(withAlert(r, r.meta.alert));
    } else {
      kept.push(r);
    }
  }
  return { rules: kept, disabled: count, problems };
}

/**
 * `rule` alerting or not, in its policy too: the engine links rules again, and linking settles
 * meta.alert from the policy.
 */
function withAlert(rule: CompiledRule, alert: boolean): CompiledRule {
  return { ...rule, policy: { ...rule.policy, alert }, meta: { ...rule.meta, alert } };
}

/**
 * Rules a deployment turns off by id (config `rules.disabled`): a noisy SigmaHQ rule, a built-in that
 * does not fit an account, without editing the rule files. A disabled detection rule that an enabled
 * correlation still reads goes on feeding it, without alerting; otherwise it is not evaluated at all.
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
  // Base rules are referenced by id or by Sigma name.
  const fed = new Set<string>();
  for (const r of rules) {
    if (r.kind === "correlation" && !disabled.has(r.meta.id)) for (const ref of r.ruleRefs) fed.add(ref);
  }
  const kept: CompiledRule[] = [];
  let count = 0;
  for (const r of rules) {
    if (!disabled.has(r.meta.id)) {
      kept.push(r);
      continue;
    }
    count++;
    const feeds = r.kind === "detection" && (fed.has(r.meta.id) || (r.name !== undefined && fed.has(r.name)));
    // The policy, not only meta: the engine links rules again, and linking settles meta.alert from it.
    if (feeds) kept.push({ ...r, policy: { ...r.policy, alert: false }, meta: { ...r.meta, alert: false } });
  }
  return { rules: kept, disabled: count, problems };
}

/**
 * Links a set of compiled rules: unique ids, correlations resolved to their base rules, and whether
 * each detection rule alerts on its own (explicit `agenttrail.alert` wins; otherwise, as Sigma says,
 * a rule referenced by a correlation only feeds it unless that correlation sets `generate: true`).
 *
 * Rules a deployment turns off by id (config `rules.disabled`: a noisy SigmaHQ rule, a built-in that
 * does not fit an account) are settled here too, with the references every correlation resolves to:
 * a disabled detection rule that an enabled correlation reads goes on feeding it without alerting,
 * otherwise it is not evaluated at all; a disabled correlation takes with it the base rules that
 * only fed it. A base rule keeps the alerting it has with every correlation present: turning a
 * correlation off does not make its base rules start alerting on their own.
 */
import type { CompiledCorrelationRule, CompiledDetectionRule, CompiledRule } from "./compile.ts";

export interface RuleProblem {
  file: string;
  ruleId?: string;
  reason: string;
  /** Set when the reason is a Sigma feature the engine does not implement. */
  feature?: string;
}

export interface LinkedCorrelation {
  rule: CompiledCorrelationRule;
  /** Base rules in the order of rule.ruleRefs. */
  bases: CompiledDetectionRule[];
}

export interface LinkedRules {
  /** Every usable rule, with meta.alert settled. */
  rules: CompiledRule[];
  detections: CompiledDetectionRule[];
  correlations: LinkedCorrelation[];
  problems: RuleProblem[];
  /** Rules `off` lists as named by `disabled` (those that run on only to feed a correlation included). */
  disabled: number;
  /**
   * Rules in `rules` that were not disabled: the others are disabled detection rules an enabled
   * correlation reads, kept (alert: false) to feed it.
   */
  enabled: number;
  /**
   * Every rule the tuning turned off, as given, with why: disabled by id (left out of `rules`, or kept
   * in it only to feed a correlation), or a base rule that fed only disabled correlations (so
   * `rules test` can say why a rule with fixtures is not run).
   */
  off: { rule: CompiledRule; reason: string }[];
}

/** Where a problem with the disabled list is reported from. */
const DISABLED_SOURCE = "config rules.disabled";
const DISABLED_REASON = "turned off by the configuration (rules.disabled)";

/**
 * @param options.onlyLoadedRules ids in `disabled` naming none of `input` are left out, not reported
 * (see tuneRules).
 */
export function linkRules(
  input: readonly CompiledRule[],
  options: { disabled?: readonly string[]; onlyLoadedRules?: boolean } = {},
): LinkedRules {
  const problems: RuleProblem[] = [];
  const byId = new Map<string, CompiledRule>();
  for (const r of input) {
    const prev = byId.get(r.meta.id);
    if (prev) {
      problems.push({
        file: r.file,
        ruleId: r.meta.id,
        reason: `duplicate rule id (already in ${prev.file})`,
      });
      continue;
    }
    byId.set(r.meta.id, r);
  }
  const unique = [...byId.values()];
  const disabled = new Set(options.disabled);
  // A typo or a rule that moved: a rule the user meant to silence runs on.
  if (!options.onlyLoadedRules)
    for (const id of disabled)
      if (!byId.has(id))
        problems.push({ file: DISABLED_SOURCE, ruleId: id, reason: "no loaded rule has this id" });
  const byName = new Map<string, CompiledRule>();
  for (const r of unique) if (r.name !== undefined && !byName.has(r.name)) byName.set(r.name, r);

  const correlations: LinkedCorrelation[] = [];
  const referenced = new Map<CompiledDetectionRule, boolean>(); // → some referencing correlation generates
  const dropped = new Set<CompiledRule>();
  const off: LinkedRules["off"] = [];
  // Those turned off by id (not a base rule that fed only disabled correlations).
  let turnedOff = 0;
  // Base rules of the enabled correlations (`referenced` holds those of the disabled ones too).
  const fed = new Set<CompiledDetectionRule>();
  for (const r of unique) {
    if (r.kind !== "correlation") continue;
    const bases: CompiledDetectionRule[] = [];
    let ok = true;
    for (const ref of r.ruleRefs) {
      const target = byId.get(ref) ?? byName.get(ref);
      if (!target) {
        problems.push({
          file: r.file,
          ruleId: r.meta.id,
          reason: `correlation refers to unknown rule "${ref}"`,
        });
        ok = false;
      } else if (target.kind === "correlation") {
        problems.push({
          file: r.file,
          ruleId: r.meta.id,
          reason: `unsupported Sigma feature: correlation of correlations ("${ref}")`,
          feature: "correlation of correlations",
        });
        ok = false;
      } else {
        bases.push(target);
      }
    }
    for (const [alias, byRule] of Object.entries(r.aliases)) {
      for (const key of Object.keys(byRule)) {
        const known = r.ruleRefs.includes(key) || bases.some((b) => b.name === key || b.meta.id === key);
        if (!known && ok) {
          problems.push({
            file: r.file,
            ruleId: r.meta.id,
            reason: `alias ${alias} names rule "${key}", not in correlation.rules`,
          });
          ok = false;
        }
      }
    }
    if (!ok) {
      dropped.add(r);
      continue;
    }
    // Alerting is settled with every correlation, the disabled ones too (see above).
    for (const b of bases) referenced.set(b, (referenced.get(b) ?? false) || r.generate);
    if (disabled.has(r.meta.id)) {
      dropped.add(r);
      off.push({ rule: r, reason: DISABLED_REASON });
      turnedOff++;
      continue;
    }
    correlations.push({ rule: r, bases });
    for (const b of bases) fed.add(b);
  }

  const detections: CompiledDetectionRule[] = [];
  const rules: CompiledRule[] = [];
  const linkedBase = new Map<CompiledDetectionRule, CompiledDetectionRule>();
  let feedingOnly = 0;
  for (const r of unique) {
    if (dropped.has(r)) continue;
    if (r.kind === "detection") {
      const generates = referenced.get(r);
      let alert = r.policy.alert ?? (generates === undefined ? true : generates);
      if (disabled.has(r.meta.id)) {
        off.push({ rule: r, reason: DISABLED_REASON });
        turnedOff++;
        if (!fed.has(r)) continue;
        alert = false;
        feedingOnly++;
      } else if (!alert && referenced.has(r) && !fed.has(r)) {
        off.push({ rule: r, reason: "feeds only correlations the configuration turns off" });
        continue;
      }
      const linked = alert === r.meta.alert ? r : { ...r, meta: { ...r.meta, alert } };
      linkedBase.set(r, linked);
      detections.push(linked);
      rules.push(linked);
    } else {
      rules.push(r);
    }
  }
  for (const c of correlations) c.bases = c.bases.map((b) => linkedBase.get(b) ?? b);
  return {
    rules,
    detections,
    correlations,
    problems,
    disabled: turnedOff,
    enabled: rules.length - feedingOnly,
    off,
  };
}

/**
 * Links a set of compiled rules: unique ids, correlations resolved to their base rules, and whether
 * each detection rule alerts on its own (explicit `agenttrail.alert` wins; otherwise, as Sigma says,
 * a rule referenced by a correlation only feeds it unless that correlation sets `generate: true`).
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
}

export function linkRules(input: readonly CompiledRule[]): LinkedRules {
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
  const byName = new Map<string, CompiledRule>();
  for (const r of unique) if (r.name !== undefined && !byName.has(r.name)) byName.set(r.name, r);

  const correlations: LinkedCorrelation[] = [];
  const referenced = new Map<CompiledDetectionRule, boolean>(); // → some referencing correlation generates
  const dropped = new Set<CompiledRule>();
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
    correlations.push({ rule: r, bases });
    for (const b of bases) referenced.set(b, (referenced.get(b) ?? false) || r.generate);
  }

  const detections: CompiledDetectionRule[] = [];
  const rules: CompiledRule[] = [];
  const linkedBase = new Map<CompiledDetectionRule, CompiledDetectionRule>();
  for (const r of unique) {
    if (dropped.has(r)) continue;
    if (r.kind === "detection") {
      const generates = referenced.get(r);
      const alert = r.policy.alert ?? (generates === undefined ? true : generates);
      const linked = alert === r.meta.alert ? r : { ...r, meta: { ...r.meta, alert } };
      linkedBase.set(r, linked);
      detections.push(linked);
      rules.push(linked);
    } else {
      rules.push(r);
    }
  }
  for (const c of correlations) c.bases = c.bases.map((b) => linkedBase.get(b) ?? b);
  return { rules, detections, correlations, problems };
}

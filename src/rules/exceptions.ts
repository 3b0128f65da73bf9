/**
 * Exceptions a deployment sets for detection rules (config `rules.exceptions`): events a rule must not
 * count, written as a Sigma selection, so a known-benign job no longer alerts while the rule still
 * watches everyone else. Compiled with the rules' own compiler: the same fields, derived fields and
 * modifiers.
 */
import type { Config } from "../config.ts";
import type { CompiledRule } from "./compile.ts";
import { compileDetection } from "./detection.ts";
import type { RuleProblem } from "./link.ts";
import type { CompileContext, EventPredicate } from "./values.ts";

type RuleException = Config["rules"]["exceptions"][number];

/** The selection name inside the one-selection detection an exception compiles to. */
const SELECTION = "exception";

/**
 * @param options.onlyLoadedRules only the ids of `rules` are considered: an exception's other ids are
 * skipped, not reported, and so is an exception naming none of `rules` (see tuneRules), while every
 * problem still names its exception by its index in the config.
 */
export function withExceptions(
  rules: readonly CompiledRule[],
  exceptions: readonly RuleException[],
  ctx: CompileContext,
  options: { onlyLoadedRules?: boolean } = {},
): { rules: CompiledRule[]; problems: RuleProblem[]; narrowed: string[][] } {
  const problems: RuleProblem[] = [];
  // Per exception that narrows at least one rule, the ids it narrows (what is in force: tuning.ts).
  const narrowed: string[][] = [];
  // The first rule of an id, as linking keeps it (the rules are not linked yet).
  const byId = new Map<string, CompiledRule>();
  for (const r of rules) if (!byId.has(r.meta.id)) byId.set(r.meta.id, r);
  const excluded = new Map<string, EventPredicate[]>();
  exceptions.forEach((exception, i) => {
    const ids = options.onlyLoadedRules ? exception.rules.filter((id) => byId.has(id)) : exception.rules;
    if (!ids.length) return;
    const file = `config rules.exceptions[${i}]`;
    let test: EventPredicate;
    try {
      test = compileDetection({ [SELECTION]: exception.match, condition: SELECTION }, ctx).match;
    } catch (err) {
      problems.push({ file, reason: `match: ${(err as Error).message}` });
      return;
    }
    const narrows: string[] = [];
    for (const id of ids) {
      const rule = byId.get(id);
      if (!rule) {
        problems.push({ file, ruleId: id, reason: "no loaded rule has this id" });
      } else if (rule.kind === "correlation") {
        // A correlation counts its base rules' matches: an exception belongs on those.
        const bases = rule.ruleRefs.join(", ");
        problems.push({
          file,
          ruleId: id,
          reason: `a correlation rule: set the exception on its base rules (${bases})`,
        });
      } else {
        const list = excluded.get(id) ?? [];
        list.push(test);
        excluded.set(id, list);
        narrows.push(id);
      }
    }
    if (narrows.length) narrowed.push(narrows);
  });
  const out = rules.map((r) => {
    const tests = excluded.get(r.meta.id); // only detection rules get any
    if (!tests || r.kind !== "detection") return r;
    const { match } = r;
    // Only events the rule matches reach the exceptions: they cost nothing on the rest.
    const matchUnlessExcepted: EventPredicate = (e) => match(e) && !tests.some((t) => t(e));
    return { ...r, match: matchUnlessExcepted };
  });
  return { rules: out, problems, narrowed };
}

/**
 * A Sigma `detection` section compiled to one predicate, plus what the index needs: the literal
 * eventName / eventSource values an event must have for the rule to possibly match.
 */
import { isObject } from "../json-values.ts";
import { type ConditionNode, parseCondition } from "./condition.ts";
import { RuleCompileError, unsupported } from "./errors.ts";
import { MAX_NESTING, valueText } from "./fields.ts";
import {
  type CompileContext,
  compileFieldItem,
  compilePattern,
  type EventPredicate,
  parseWildcards,
  type StringTest,
} from "./values.ts";

/** Fields the index knows: an event's value for each is read once (eventName/eventSource/type raw, kind from the actor). */
export const INDEXED_FIELDS = ["eventName", "eventSource", "actor.kind", "userIdentity.type"] as const;
export type IndexedField = (typeof INDEXED_FIELDS)[number];

/** Per indexed field, lower-cased values one of which the event must carry; absent = no requirement. */
export type IndexRequirements = Partial<Record<IndexedField, ReadonlySet<string>>>;

export interface CompiledDetection {
  match: EventPredicate;
  requires: IndexRequirements;
}

/** null = unconstrained. */
type Requirement = Record<IndexedField, Set<string> | null>;

const UNCONSTRAINED: Requirement = {
  eventName: null,
  eventSource: null,
  "actor.kind": null,
  "userIdentity.type": null,
};

interface CompiledSelection {
  match: EventPredicate;
  requirement: Requirement;
}

function someStringLeaf(value: unknown, test: StringTest, depth = 0): boolean {
  if (depth > MAX_NESTING) return false;
  if (Array.isArray(value)) {
    for (let k = 0; k < value.length; k++) if (someStringLeaf(value[k], test, depth + 1)) return true;
    return false;
  }
  if (value !== null && typeof value === "object") {
    for (const key in value) {
      if (someStringLeaf((value as Record<string, unknown>)[key], test, depth + 1)) return true;
    }
    return false;
  }
  const s = typeof value === "string" ? value : valueText(value);
  return s !== undefined && test(s);
}

/** Keyword search: the value appears (wildcards allowed) in any string of the raw record. */
function compileKeywords(values: unknown[], where: string): CompiledSelection {
  const tests = values.map((v) => {
    if (typeof v !== "string" && typeof v !== "number") {
      throw new RuleCompileError(`${where}: keywords must be strings or numbers`);
    }
    const parts = typeof v === "string" ? parseWildcards(v) : [String(v)];
    return compilePattern([0, ...parts, 0], false);
  });
  const any: StringTest = (s) => {
    for (let k = 0; k < tests.length; k++) if (tests[k](s)) return true;
    return false;
  };
  return { match: (e) => someStringLeaf(e.raw, any), requirement: UNCONSTRAINED };
}

function compileMap(map: Record<string, unknown>, where: string, ctx: CompileContext): CompiledSelection {
  const keys = Object.keys(map);
  if (keys.length === 0) throw new RuleCompileError(`${where}: empty selection`);
  const items = keys.map((k) => compileFieldItem(k, map[k], ctx));
  const requirement: Requirement = { ...UNCONSTRAINED };
  for (const item of items) {
    for (const f of INDEXED_FIELDS) {
      if (item.field === f && item.equalsAnyOf) {
        const set = new Set(item.equalsAnyOf);
        const prev = requirement[f];
        requirement[f] = prev ? new Set([...prev].filter((v) => set.has(v))) : set;
      }
    }
  }
  const preds = items.map((i) => i.match);
  if (preds.length === 1) return { match: preds[0], requirement };
  if (preds.length === 2) {
    const [a, b] = preds;
    return { match: (e) => a(e) && b(e), requirement };
  }
  return {
    match: (e) => {
      for (let k = 0; k < preds.length; k++) if (!preds[k](e)) return false;
      return true;
    },
    requirement,
  };
}

function union(reqs: Requirement[]): Requirement {
  const out: Requirement = {
    eventName: new Set(),
    eventSource: new Set(),
    "actor.kind": new Set(),
    "userIdentity.type": new Set(),
  };
  for (const f of INDEXED_FIELDS) {
    for (const r of reqs) {
      const s = r[f];
      const acc = out[f];
      if (s === null || acc === null) {
        out[f] = null;
        continue;
      }
      for (const v of s) acc.add(v);
    }
  }
  return out;
}

function intersect(reqs: Requirement[]): Requirement {
  const out: Requirement = { ...UNCONSTRAINED };
  for (const f of INDEXED_FIELDS) {
    for (const r of reqs) {
      const s = r[f];
      if (s === null) continue;
      const acc = out[f];
      out[f] = acc === null ? new Set(s) : new Set([...acc].filter((v) => s.has(v)));
    }
  }
  return out;
}

function compileSelection(name: string, value: unknown, ctx: CompileContext): CompiledSelection {
  if (isObject(value)) return compileMap(value, name, ctx);
  if (Array.isArray(value)) {
    if (value.length === 0) throw new RuleCompileError(`${name}: empty selection`);
    if (value.every(isObject)) {
      const alts = value.map((m, k) => compileMap(m, `${name}[${k}]`, ctx));
      const preds = alts.map((a) => a.match);
      return {
        match: (e) => {
          for (let k = 0; k < preds.length; k++) if (preds[k](e)) return true;
          return false;
        },
        requirement: union(alts.map((a) => a.requirement)),
      };
    }
    if (value.some(isObject)) throw new RuleCompileError(`${name}: mixes maps and keywords`);
    return compileKeywords(value, name);
  }
  if (typeof value === "string" || typeof value === "number") return compileKeywords([value], name);
  throw new RuleCompileError(`${name}: a selection must be a map, a list of maps or keywords`);
}

function compileNode(
  node: ConditionNode,
  selections: Map<string, CompiledSelection>,
): { match: EventPredicate; requirement: Requirement } {
  switch (node.type) {
    case "ref": {
      const s = selections.get(node.name) as CompiledSelection;
      return { match: s.match, requirement: s.requirement };
    }
    case "not": {
      const inner = compileNode(node.arg, selections).match;
      return { match: (e) => !inner(e), requirement: UNCONSTRAINED };
    }
    case "and": {
      const parts = node.args.map((a) => compileNode(a, selections));
      const preds = parts.map((p) => p.match);
      return {
        match: (e) => {
          for (let k = 0; k < preds.length; k++) if (!preds[k](e)) return false;
          return true;
        },
        requirement: intersect(parts.map((p) => p.requirement)),
      };
    }
    case "or": {
      const parts = node.args.map((a) => compileNode(a, selections));
      const preds = parts.map((p) => p.match);
      return {
        match: (e) => {
          for (let k = 0; k < preds.length; k++) if (preds[k](e)) return true;
          return false;
        },
        requirement: union(parts.map((p) => p.requirement)),
      };
    }
    case "of": {
      const parts = node.names.map((n) => selections.get(n) as CompiledSelection);
      const preds = parts.map((p) => p.match);
      const min = node.min === "all" ? preds.length : node.min;
      if (min > preds.length) {
        return { match: () => false, requirement: UNCONSTRAINED };
      }
      const requirement =
        node.min === "all"
          ? intersect(parts.map((p) => p.requirement))
          : union(parts.map((p) => p.requirement));
      if (min === 1) {
        return {
          match: (e) => {
            for (let k = 0; k < preds.length; k++) if (preds[k](e)) return true;
            return false;
          },
          requirement,
        };
      }
      return {
        match: (e) => {
          let n = 0;
          for (let k = 0; k < preds.length; k++) if (preds[k](e) && ++n >= min) return true;
          return false;
        },
        requirement,
      };
    }
  }
}

export function compileDetection(detection: Record<string, unknown>, ctx: CompileContext): CompiledDetection {
  if ("timeframe" in detection) throw unsupported("detection.timeframe", "use a correlation rule");
  const condition = detection.condition;
  if (condition === undefined) throw new RuleCompileError("detection has no condition");
  const selections = new Map<string, CompiledSelection>();
  for (const [name, value] of Object.entries(detection)) {
    if (name === "condition") continue;
    selections.set(name, compileSelection(name, value, ctx));
  }
  const identifiers = [...selections.keys()];
  const conditions = Array.isArray(condition) ? condition : [condition];
  if (conditions.length === 0 || conditions.some((c) => typeof c !== "string")) {
    throw new RuleCompileError("condition must be a string (or a list of strings)");
  }
  const trees = conditions.map((c) => parseCondition(c as string, identifiers));
  const tree: ConditionNode = trees.length === 1 ? trees[0] : { type: "or", args: trees };
  const compiled = compileNode(tree, selections);
  const requires: IndexRequirements = {};
  for (const f of INDEXED_FIELDS) {
    const set = compiled.requirement[f];
    if (set) requires[f] = set;
  }
  return { match: compiled.match, requires };
}

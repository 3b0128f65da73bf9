/**
 * One validated YAML document → one compiled rule. Detection rules become a predicate and index
 * requirements; correlation rules keep their parameters (the engine links them to their base rules).
 */
import type { z } from "zod";
import { isObject } from "../json-values.ts";
import { describeIssues } from "../schema-issues.ts";
import { compileDetection, type IndexRequirements } from "./detection.ts";
import { RuleCompileError, unsupported } from "./errors.ts";
import { compileField, type FieldAccessor } from "./fields.ts";
import {
  type AgenttrailPolicy,
  CONDITION_OPERATORS,
  CORRELATION_TYPES,
  type ConditionOperator,
  type CorrelationDoc,
  correlationSchema,
  type SigmaRuleDoc,
  sigmaRuleSchema,
  timespanMinutes,
} from "./schema.ts";
import type { RuleMeta } from "./types.ts";
import type { CompileContext, EventPredicate } from "./values.ts";

export const DEFAULT_GROUP_BY = ["actor.principal"];

interface CompiledBase {
  meta: RuleMeta;
  /** Sigma `name`, by which correlations may refer to the rule. */
  name?: string;
  file: string;
  /** The `agenttrail` policy map as written (alert left undefined when the rule did not set it). */
  policy: AgenttrailPolicy;
  /** Things lint should say about a rule that loads (e.g. semantics that differ from a SIEM). */
  warnings: string[];
}

export interface CompiledDetectionRule extends CompiledBase {
  kind: "detection";
  match: EventPredicate;
  requires: IndexRequirements;
  /** Accessors for meta.groupBy, in order. */
  groupBy: FieldAccessor[];
}

export type CorrelationType = CorrelationDoc["correlation"]["type"];

export interface CompiledCorrelationRule extends CompiledBase {
  kind: "correlation";
  type: CorrelationType;
  /** References (id or name) of the base rules, as written. */
  ruleRefs: string[];
  /** group-by field names (alias names where aliases are defined). */
  groupBy: string[];
  /** alias → base rule (reference, name or id) → field name. */
  aliases: Record<string, Record<string, string>>;
  timespan: string;
  spanMinutes: number;
  /** Every operator must hold. Temporal types default to "all base rules seen". */
  condition: [ConditionOperator, number][];
  /** value_count: the field whose distinct values are counted. */
  valueField?: string;
  /** Sigma `generate`: base rules also alert on their own. */
  generate: boolean;
}

export type CompiledRule = CompiledDetectionRule | CompiledCorrelationRule;

/** What a document is, before validation. */
export type DocumentKind = "detection" | "correlation";

export function classifyDocument(doc: unknown): DocumentKind {
  if (!isObject(doc)) throw new RuleCompileError("a rule document must be a YAML map");
  if ("correlation" in doc) return "correlation";
  if ("action" in doc) throw unsupported("rule collection action", `action: ${String(doc.action)}`);
  if ("filter" in doc && !("detection" in doc)) throw unsupported("filter rule");
  return "detection";
}

/** Logsource check: only AWS CloudTrail rules run here; undefined when the rule is for us. */
export function logsourceMismatch(doc: unknown): string | undefined {
  if (!isObject(doc) || !isObject(doc.logsource)) return undefined;
  const { product, service, category } = doc.logsource;
  const p = typeof product === "string" ? product.toLowerCase() : undefined;
  const s = typeof service === "string" ? service.toLowerCase() : undefined;
  if (p === "aws" && s === "cloudtrail") return undefined;
  const what = [product, service, category].filter((v) => v !== undefined).join("/") || "(none)";
  return `logsource ${what} is not aws/cloudtrail`;
}

function baseMeta(doc: SigmaRuleDoc | CorrelationDoc, file: string, groupBy: string[]): RuleMeta {
  const policy = doc.agenttrail ?? {};
  const meta: RuleMeta = {
    id: doc.id ?? (doc.name as string),
    title: doc.title,
    level: doc.level ?? "medium",
    tags: doc.tags,
    falsepositives: doc.falsepositives,
    alert: policy.alert ?? true,
    groupBy,
    source: file,
  };
  if (doc.description !== undefined) meta.description = doc.description;
  if (policy.runbook !== undefined) meta.runbook = policy.runbook;
  if (policy.suppressionMinutes !== undefined) meta.suppressionMinutes = policy.suppressionMinutes;
  if (policy.levelIfAi !== undefined) meta.levelIfAi = policy.levelIfAi;
  if (policy.levelIfFailed !== undefined) meta.levelIfFailed = policy.levelIfFailed;
  return meta;
}

function validate<T>(schema: z.ZodType<T>, doc: unknown): T {
  const r = schema.safeParse(doc);
  if (!r.success)
    throw new RuleCompileError(`invalid rule: ${describeIssues(r.error, { root: "(document)" })}`);
  return r.data;
}

export function compileDetectionRule(doc: unknown, file: string, ctx: CompileContext): CompiledDetectionRule {
  const rule = validate<SigmaRuleDoc>(sigmaRuleSchema, doc);
  const groupBy = rule.agenttrail?.groupBy ?? DEFAULT_GROUP_BY;
  const warnings: string[] = [];
  const detection = compileDetection(rule.detection, { ...ctx, warnings });
  const compiled: CompiledDetectionRule = {
    kind: "detection",
    meta: baseMeta(rule, file, [...groupBy]),
    file,
    policy: rule.agenttrail ?? {},
    warnings,
    match: detection.match,
    requires: detection.requires,
    groupBy: groupBy.map(compileField),
  };
  if (rule.name !== undefined) compiled.name = rule.name;
  return compiled;
}

/** Distinct values a store bucket keeps (MemoryStore/DynamoStore cap): value_count above it cannot count. */
const BUCKET_VALUE_CAP = 1000;

export function compileCorrelationRule(doc: unknown, file: string): CompiledCorrelationRule {
  if (isObject(doc) && isObject(doc.correlation)) {
    const t = doc.correlation.type;
    if (typeof t === "string" && !(CORRELATION_TYPES as readonly string[]).includes(t)) {
      throw unsupported(`correlation type ${t}`);
    }
  }
  const rule = validate<CorrelationDoc>(correlationSchema, doc);
  const c = rule.correlation;
  const groupBy = c["group-by"] ?? [];
  const policyGroup = rule.agenttrail?.groupBy;
  if (policyGroup && policyGroup.join("\u0000") !== groupBy.join("\u0000")) {
    throw new RuleCompileError(
      "agenttrail.groupBy of a correlation must equal correlation.group-by (its alert groups are its windows' groups)",
    );
  }
  const condition: [ConditionOperator, number][] = [];
  for (const op of CONDITION_OPERATORS) {
    const v = c.condition?.[op];
    if (v !== undefined) condition.push([op, v]);
  }
  const warnings: string[] = [];
  let valueField: string | undefined;
  if (c.type === "event_count" || c.type === "value_count") {
    if (condition.length === 0) throw new RuleCompileError(`${c.type} needs a condition`);
  }
  if (c.type === "value_count") {
    valueField = c.condition?.field;
    if (!valueField) throw new RuleCompileError("value_count needs condition.field");
    const limit = Math.max(...condition.map(([, n]) => n));
    if (limit >= BUCKET_VALUE_CAP) {
      warnings.push(
        `value_count threshold ${limit} is at or above the ${BUCKET_VALUE_CAP} values a window bucket keeps`,
      );
    }
  } else if (c.condition?.field) {
    throw new RuleCompileError(`condition.field only applies to value_count`);
  }
  if (c.type === "temporal" || c.type === "temporal_ordered") {
    if (condition.length === 0) condition.push(["gte", c.rules.length]);
  }
  if (condition.some(([op]) => op === "lt" || op === "lte")) {
    warnings.push(
      "lt/lte conditions are checked on windows as they fill, so they can hold before the timespan has passed",
    );
  }
  const aliases = c.aliases ?? {};
  const compiled: CompiledCorrelationRule = {
    kind: "correlation",
    meta: baseMeta(rule, file, [...groupBy]),
    file,
    policy: rule.agenttrail ?? {},
    warnings,
    type: c.type,
    ruleRefs: c.rules,
    groupBy,
    aliases,
    timespan: c.timespan,
    spanMinutes: timespanMinutes(c.timespan),
    condition,
    generate: rule.generate ?? c.generate ?? false,
  };
  if (valueField) compiled.valueField = valueField;
  if (rule.name !== undefined) compiled.name = rule.name;
  return compiled;
}

export function compileDocument(doc: unknown, file: string, ctx: CompileContext): CompiledRule {
  return classifyDocument(doc) === "correlation"
    ? compileCorrelationRule(doc, file)
    : compileDetectionRule(doc, file, ctx);
}

/** Checks a correlation condition against a window statistic. */
export function conditionHolds(condition: readonly [ConditionOperator, number][], value: number): boolean {
  for (const [op, n] of condition) {
    switch (op) {
      case "gt":
        if (!(value > n)) return false;
        break;
      case "gte":
        if (!(value >= n)) return false;
        break;
      case "lt":
        if (!(value < n)) return false;
        break;
      case "lte":
        if (!(value <= n)) return false;
        break;
      case "eq":
        if (value !== n) return false;
        break;
      case "neq":
        if (value === n) return false;
        break;
    }
  }
  return true;
}

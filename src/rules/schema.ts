/**
 * zod schemas of the YAML documents a rule file may hold: a Sigma detection rule, a Sigma correlation
 * rule, and agenttrail's own policy map (`agenttrail:`). Sigma metadata we do not use passes through;
 * the policy map is strict, because a typo there must not silently change alerting.
 */

import { z } from "zod";
import { parseDuration } from "../duration.ts";

export const levelSchema = z.enum(["informational", "low", "medium", "high", "critical"]);

export const agenttrailPolicySchema = z
  .object({
    alert: z.boolean().optional(),
    groupBy: z.array(z.string().min(1)).min(1).optional(),
    suppressionMinutes: z.number().int().min(0).optional(),
    levelIfAi: levelSchema.optional(),
    levelIfFailed: levelSchema.optional(),
    runbook: z.string().min(1).optional(),
  })
  .strict();

export type AgenttrailPolicy = z.infer<typeof agenttrailPolicySchema>;

const text = z.string({
  error: (iss) =>
    iss.input !== null && typeof iss.input === "object"
      ? "expected a string, got a map (an unquoted ': ' in YAML makes a map: quote the text)"
      : `expected a string, got ${iss.input === null ? "null" : typeof iss.input}`,
});

const stringList = z.preprocess((v) => (typeof v === "string" ? [v] : v), z.array(text));

const common = {
  title: z.string().min(1),
  /** Optional in Sigma; a rule without one is known by its `name` (one of the two is required here). */
  id: z
    .union([z.string().min(1), z.number()])
    .transform(String)
    .optional(),
  name: z.string().min(1).optional(),
  status: z.string().optional(),
  description: z.string().optional(),
  tags: z
    .array(z.string())
    .nullish()
    .transform((v) => v ?? []),
  falsepositives: stringList.nullish().transform((v) => v ?? []),
  level: levelSchema.optional(),
  agenttrail: agenttrailPolicySchema.optional(),
};

export const logsourceSchema = z.looseObject({
  product: z.string().optional(),
  service: z.string().optional(),
  category: z.string().optional(),
});

const hasIdentity = (r: { id?: string; name?: string }) => r.id !== undefined || r.name !== undefined;
const identityIssue = { message: "a rule needs an id (or at least a name)", path: ["id"] };

export const sigmaRuleSchema = z
  .looseObject({
    ...common,
    logsource: logsourceSchema,
    detection: z.record(z.string(), z.unknown()),
  })
  .refine(hasIdentity, identityIssue);

export type SigmaRuleDoc = z.infer<typeof sigmaRuleSchema>;

export const CORRELATION_TYPES = ["event_count", "value_count", "temporal", "temporal_ordered"] as const;
export const CONDITION_OPERATORS = ["gt", "gte", "lt", "lte", "eq", "neq"] as const;
export type ConditionOperator = (typeof CONDITION_OPERATORS)[number];

export const correlationConditionSchema = z
  .object({
    gt: z.number().optional(),
    gte: z.number().optional(),
    lt: z.number().optional(),
    lte: z.number().optional(),
    eq: z.number().optional(),
    neq: z.number().optional(),
    /** value_count: the field whose distinct values are counted. */
    field: z.string().min(1).optional(),
  })
  .strict()
  .refine((c) => CONDITION_OPERATORS.some((op) => c[op] !== undefined), {
    message: "condition needs at least one of gt, gte, lt, lte, eq, neq",
  });

export const timespanSchema = z
  .string()
  .regex(/^\d+[smhdw]$/, "timespan: expected <number><s|m|h|d|w>, e.g. 5m")
  .or(
    z
      .number()
      .int()
      .positive()
      .transform((n) => `${n}s`),
  );

export const correlationSchema = z
  .looseObject({
    ...common,
    /** Sigma puts `generate` at the top level; `correlation.generate` is accepted too. */
    generate: z.boolean().optional(),
    correlation: z
      .object({
        type: z.enum(CORRELATION_TYPES),
        rules: stringList.pipe(z.array(z.string().min(1)).min(1)),
        "group-by": stringList.optional(),
        timespan: timespanSchema,
        condition: correlationConditionSchema.optional(),
        aliases: z.record(z.string(), z.record(z.string(), z.string())).optional(),
        generate: z.boolean().optional(),
      })
      .strict(),
  })
  .refine(hasIdentity, identityIssue);

export type CorrelationDoc = z.infer<typeof correlationSchema>;

/** Timespan in whole minutes (windows are minute buckets: seconds round up to a minute). */
export function timespanMinutes(span: string): number {
  return Math.max(1, Math.ceil(parseDuration(span, "timespan") / 60));
}

/**
 * One schema for every setting. The CLI reads it from --config (YAML or JSON); the Lambda from
 * environment variables (configFromEnv). Unknown keys are errors: a typo must not silently disable
 * a detection.
 */
import { z } from "zod";
import { asObject } from "./json-values.ts";
import { describeIssues } from "./schema-issues.ts";

const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, "expected HH:MM (24h)");
const weekday = z.enum(["mon", "tue", "wed", "thu", "fri", "sat", "sun"]);

const businessHoursSchema = z
  .object({
    timeZone: z.string().default("UTC"),
    days: z.array(weekday).default(["mon", "tue", "wed", "thu", "fri"]),
    start: hhmm.default("08:00"),
    end: hhmm.default("18:00"),
    /** ISO dates (YYYY-MM-DD) in timeZone that count as off-hours all day. */
    holidays: z.array(z.string().regex(/^\d{4}-\d{2}-\d{2}$/, "expected YYYY-MM-DD")).default([]),
  })
  .strict()
  .refine((b) => isValidTimeZone(b.timeZone), { message: "unknown IANA time zone", path: ["timeZone"] });

const agentTagSchema = z.object({ key: z.string().min(1), value: z.string().min(1) }).strict();

/** A Sigma selection: a map of fields (with modifiers) that must all hold, or a list of such maps (any). */
const selectionSchema = z.union([
  z.record(z.string().min(1), z.unknown()),
  z.array(z.record(z.string().min(1), z.unknown())).min(1),
]);

/** Events a rule must not count: a known-benign job, a sandbox account. */
const ruleExceptionSchema = z
  .object({
    /** Ids of the detection rules it applies to. */
    rules: z.array(z.string().min(1)).min(1),
    /** The events it takes out, as a Sigma selection (field paths and modifiers as in rules). */
    match: selectionSchema,
    /** Why: kept with the configuration for whoever reviews it. */
    reason: z.string().min(1),
  })
  .strict();

const configSchema = z
  .object({
    agents: z
      .object({
        /** Session tags that mark a session as an AI agent's (keys compared case-insensitively, as STS does). */
        sessionTags: z.array(agentTagSchema).default([{ key: "AccessType", value: "AI" }]),
        /** IAM role names or ARNs whose sessions are agents. */
        roles: z.array(z.string().min(1)).default([]),
        /** Glob patterns (* and ?) on the role session name, e.g. "mcp-*", "agent-*". */
        sessionNamePatterns: z.array(z.string().min(1)).default([]),
        /** Glob patterns on sts sourceIdentity. */
        sourceIdentityPatterns: z.array(z.string().min(1)).default([]),
        /** Extra user-agent substrings of agent clients or self-hosted MCP servers (case-insensitive). */
        userAgentMarkers: z.array(z.string().min(1)).default([]),
      })
      .strict()
      .prefault({}),
    businessHours: businessHoursSchema.prefault({}),
    /** How late (minutes, event time) an event may arrive and still count in correlation windows. */
    latenessMinutes: z.number().int().min(0).max(1440).default(20),
    /** How long an event whose session is unknown waits for the issuing STS call (hours). */
    parkHours: z.number().min(0).max(72).default(12),
    /** Alert suppression window (minutes) for repeated matches of one rule and group. */
    suppressionMinutes: z.number().int().min(0).default(60),
    metrics: z
      .object({ namespace: z.string().min(1).max(255).default("AgentTrail") })
      .strict()
      .prefault({}),
    /** The SNS alert feed (README, "Subscribing to the alert feed"). */
    alerts: z
      .object({
        /** Updates of an alert already sent: "none", "escalations" (its severity rose) or "all". */
        updates: z.enum(["none", "escalations", "all"]).default("escalations"),
        /** "json": readable text for e-mail, the alert JSON for SQS/HTTPS/Lambda; "string": the JSON for all. */
        messageStructure: z.enum(["json", "string"]).default("json"),
      })
      .strict()
      .prefault({}),
    rules: z
      .object({
        /** Values of Sigma `expand` placeholders (`%admin_roles%` → a list): a rule matches any of them. */
        placeholders: z.record(z.string().min(1), z.array(z.string())).default({}),
        /** Ids of rules turned off (built-in or added); an id no loaded rule has is an error. */
        disabled: z.array(z.string().min(1)).default([]),
        /** Events that given detection rules do not count (see rules/README.md, "Tuning"). */
        exceptions: z.array(ruleExceptionSchema).default([]),
      })
      .strict()
      .prefault({}),
  })
  .strict();

export type Config = z.infer<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;

function isValidTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

export class ConfigError extends Error {}

/** Validates a parsed config document; the error lists every bad key with its path. */
export function parseConfig(input: unknown, origin = "config"): Config {
  const result = configSchema.safeParse(input ?? {});
  if (result.success) return result.data;
  throw new ConfigError(`${origin}: invalid configuration: ${describeIssues(result.error)}`);
}

export const defaultConfig: Config = parseConfig({});

/**
 * Lambda settings from environment variables (one JSON document in AGENTTRAIL_CONFIG, plus the
 * common ones as their own variables so serverless.yml parameters can set them directly).
 */
export function configFromEnv(env: Record<string, string | undefined>): Config {
  let doc: Record<string, unknown> = {};
  if (env.AGENTTRAIL_CONFIG) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(env.AGENTTRAIL_CONFIG);
    } catch (err) {
      throw new ConfigError(`AGENTTRAIL_CONFIG: not JSON: ${(err as Error).message}`);
    }
    const object = asObject(parsed);
    if (!object) throw new ConfigError("AGENTTRAIL_CONFIG: not a JSON object");
    doc = object;
  }
  // A section that is not an object is passed on as it is, for the schema to name what is wrong.
  const agents = editableSection(doc.agents);
  if (env.AGENT_TAG && agents) {
    const [key, ...rest] = env.AGENT_TAG.split("=");
    agents.sessionTags = [{ key, value: rest.join("=") }];
  }
  const hours = editableSection(doc.businessHours);
  if (env.BUSINESS_HOURS && hours) {
    const [start, end] = env.BUSINESS_HOURS.split("-");
    hours.start = start;
    hours.end = end;
  }
  if (env.BUSINESS_DAYS && hours)
    hours.days = env.BUSINESS_DAYS.split(",").map((d) => d.trim().toLowerCase());
  if (env.TIME_ZONE && hours) hours.timeZone = env.TIME_ZONE;
  const metrics = editableSection(doc.metrics);
  if (env.METRICS_NAMESPACE && metrics) metrics.namespace = env.METRICS_NAMESPACE;
  return parseConfig(
    {
      ...doc,
      agents: agents ?? doc.agents,
      businessHours: hours ?? doc.businessHours,
      metrics: metrics ?? doc.metrics,
    },
    "environment",
  );
}

/** A copy of a config section to add environment settings to; undefined when it is not an object. */
function editableSection(value: unknown): Record<string, unknown> | undefined {
  if (value === undefined) return {};
  const object = asObject(value);
  return object ? { ...object } : undefined;
}

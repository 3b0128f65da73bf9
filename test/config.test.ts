import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { ConfigError, configFromEnv, defaultConfig, parseConfig } from "../src/config.ts";
import { readConfigFile } from "../src/config-file.ts";
import { buildDetector } from "../src/detection.ts";

/** The example configuration file of the README's "Configuration" section. */
function readmeConfigExample(): string {
  const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
  const section = readme.slice(readme.indexOf("\n## Configuration\n"));
  const block = /```yaml\n([\s\S]*?)```/.exec(section);
  if (!block) throw new Error("README: no yaml block in the Configuration section");
  return block[1];
}

describe("config", () => {
  it("has the documented defaults", () => {
    expect(defaultConfig.agents.sessionTags).toEqual([{ key: "AccessType", value: "AI" }]);
    expect(defaultConfig.businessHours).toEqual({
      timeZone: "UTC",
      days: ["mon", "tue", "wed", "thu", "fri"],
      start: "08:00",
      end: "18:00",
      holidays: [],
    });
    expect(defaultConfig.latenessMinutes).toBe(20);
    expect(defaultConfig.suppressionMinutes).toBe(60);
    expect(defaultConfig.metrics.namespace).toBe("AgentTrail");
    expect(defaultConfig.rules).toEqual({ placeholders: {}, disabled: [], exceptions: [] });
    expect(defaultConfig.alerts).toEqual({ updates: "escalations", messageStructure: "json" });
  });

  it("reads the README's example configuration, every key of it", async () => {
    const dir = mkdtempSync(join(tmpdir(), "agenttrail-readme-config-"));
    const file = join(dir, "agenttrail.yaml");
    writeFileSync(file, readmeConfigExample());
    const cfg = await readConfigFile(file);
    // Every key of the schema, each section's too, is in the example (parsed with no defaults filled in).
    const documented = parseYaml(readmeConfigExample()) as Record<string, Record<string, unknown>>;
    const sections = Object.entries(defaultConfig).filter(([, v]) => typeof v === "object");
    expect(Object.keys(documented).sort()).toEqual(Object.keys(defaultConfig).sort());
    for (const [name, value] of sections)
      expect(Object.keys(documented[name]).sort(), name).toEqual(Object.keys(value).sort());
    expect(cfg.businessHours.timeZone).toBe("Europe/Berlin");
    expect(cfg.alerts).toEqual({ updates: "escalations", messageStructure: "json" });
    expect(cfg.rules.exceptions).toHaveLength(1);
    expect(() => parseConfig({ alerts: { messageStructure: "xml" } })).toThrow(/alerts.messageStructure/);
  });

  it("rejects unknown keys and bad values, naming each", () => {
    expect(() => parseConfig({ agents: { rolez: ["x"] } })).toThrow(/agents: Unrecognized key: "rolez"/);
    expect(() => parseConfig({ businessHours: { timeZone: "Mars/Olympus" } })).toThrow(
      /businessHours.timeZone: unknown IANA time zone/,
    );
    expect(() => parseConfig({ businessHours: { start: "25:00", days: ["funday"] } })).toThrow(ConfigError);
    expect(() => parseConfig({ latenessMinutes: -1 })).toThrow(/latenessMinutes/);
    expect(() => parseConfig({ rules: { disabled: "ai-destructive-action" } })).toThrow(/rules.disabled/);
  });

  it("reads YAML and JSON files, and names the file in errors", async () => {
    const dir = mkdtempSync(join(tmpdir(), "agenttrail-config-"));
    const yaml = join(dir, "a.yaml");
    writeFileSync(
      yaml,
      "agents:\n  roles: [bedrock-agent]\nbusinessHours:\n  timeZone: Europe/Berlin\n  holidays: ['2026-12-24']\n",
    );
    const cfg = await readConfigFile(yaml);
    expect(cfg.agents.roles).toEqual(["bedrock-agent"]);
    expect(cfg.businessHours.timeZone).toBe("Europe/Berlin");
    expect(cfg.businessHours.start).toBe("08:00");
    const json = join(dir, "b.json");
    writeFileSync(json, JSON.stringify({ suppressionMinutes: 5 }));
    expect((await readConfigFile(json)).suppressionMinutes).toBe(5);
    const bad = join(dir, "bad.yaml");
    writeFileSync(bad, "agent:\n  roles: []\n");
    await expect(readConfigFile(bad)).rejects.toThrow(
      `${bad}: invalid configuration: (root): Unrecognized key: "agent"`,
    );
    await expect(readConfigFile(join(dir, "missing.yaml"))).rejects.toThrow(/cannot read config/);
  });

  it("passes Sigma expand placeholders from the config to the rules", async () => {
    const dir = mkdtempSync(join(tmpdir(), "agenttrail-expand-"));
    writeFileSync(
      join(dir, "admin.yml"),
      "title: admin role used\nid: admin-role-used\nlogsource: {product: aws, service: cloudtrail}\ndetection:\n  sel:\n    userIdentity.sessionContext.sessionIssuer.userName|expand: '%admin_roles%'\n  condition: sel\nlevel: low\n",
    );
    const unset = await buildDetector(defaultConfig, { builtin: false, extraDirs: [dir] });
    expect(unset.errors.join("\n")).toMatch(/admin_roles/);
    const cfg = parseConfig({ rules: { placeholders: { admin_roles: ["OrgAdmin", "BreakGlass"] } } });
    const set = await buildDetector(cfg, { builtin: false, extraDirs: [dir] });
    expect(set.errors).toEqual([]);
    expect(set.ruleCount).toBe(1);
  });

  it("reads the Lambda's environment variables into the same schema", () => {
    const cfg = configFromEnv({
      AGENT_TAG: "Agent=copilot",
      BUSINESS_HOURS: "07:30-19:00",
      BUSINESS_DAYS: "Mon,Tue,Sat",
      TIME_ZONE: "America/New_York",
      METRICS_NAMESPACE: "Sec/Agents",
      AGENTTRAIL_CONFIG: JSON.stringify({ agents: { roles: ["agent-runner"] }, suppressionMinutes: 30 }),
    });
    expect(cfg.agents.sessionTags).toEqual([{ key: "Agent", value: "copilot" }]);
    expect(cfg.agents.roles).toEqual(["agent-runner"]);
    expect(cfg.businessHours).toMatchObject({
      start: "07:30",
      end: "19:00",
      days: ["mon", "tue", "sat"],
      timeZone: "America/New_York",
    });
    expect(cfg.metrics.namespace).toBe("Sec/Agents");
    expect(cfg.suppressionMinutes).toBe(30);
    expect(() => configFromEnv({ AGENTTRAIL_CONFIG: "{" })).toThrow(/AGENTTRAIL_CONFIG: not JSON/);
    expect(() => configFromEnv({ TIME_ZONE: "Nowhere/Land" })).toThrow(/environment: invalid configuration/);
  });

  it("rejects an AGENTTRAIL_CONFIG that is not a JSON object, and names a section that is not one", () => {
    for (const doc of ["null", "5", '"x"', "[]"])
      expect(() => configFromEnv({ AGENTTRAIL_CONFIG: doc }), doc).toThrow(
        /AGENTTRAIL_CONFIG: not a JSON object/,
      );
    expect(() => configFromEnv({ AGENTTRAIL_CONFIG: '{"agents":"x"}', AGENT_TAG: "A=B" })).toThrow(
      ConfigError,
    );
    expect(() => configFromEnv({ AGENTTRAIL_CONFIG: '{"agents":"x"}' })).not.toThrow(/"0"/);
    expect(() => configFromEnv({ AGENTTRAIL_CONFIG: '{"agents":"x"}' })).toThrow(/agents/);
    // Environment settings for a section that is not an object: the schema's error, naming it.
    for (const [section, env] of [
      ["businessHours", { BUSINESS_HOURS: "09:00-17:00", BUSINESS_DAYS: "mon", TIME_ZONE: "UTC" }],
      ["metrics", { METRICS_NAMESPACE: "Agenttrail" }],
    ] as const) {
      const run = () => configFromEnv({ AGENTTRAIL_CONFIG: JSON.stringify({ [section]: 5 }), ...env });
      expect(run, section).toThrow(ConfigError);
      expect(run, section).toThrow(section);
    }
  });
});

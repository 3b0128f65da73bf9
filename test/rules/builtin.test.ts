/**
 * The built-in rule pack: rules/ loads with no error, and every rule's fixtures, replayed through the
 * whole pipeline (normalise → attribute → enrich → detect), hit (match/) or stay silent (nomatch/).
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { hitSeverity } from "../../src/alerts.ts";
import { defaultConfig } from "../../src/config.ts";
import { scenarioRunner } from "../../src/detection.ts";
import { SELF_MODIFICATION_ACTIONS } from "../../src/enrich/iam.ts";
import { loggingReductionActions, securityDisableActions } from "../../src/enrich/tampering.ts";
import { processBatch } from "../../src/pipeline.ts";
import { RuleEngine } from "../../src/rules/engine.ts";
import { runRuleFixtures, type ScenarioRunner } from "../../src/rules/fixtures.ts";
import { loadRules } from "../../src/rules/load.ts";
import { loadTunedRules } from "../../src/rules/tuning.ts";
import type { RuleHit } from "../../src/rules/types.ts";
import { MemoryStore } from "../../src/state/memory.ts";
import { invictusRecords } from "./engine.helpers.ts";

const RULES_DIR = fileURLToPath(new URL("../../rules", import.meta.url));
const INVICTUS_DIR = fileURLToPath(
  new URL("../fixtures/corpus/invictus-ir-aws-dataset/CloudTrail", import.meta.url),
);

/** The scenario runner `agenttrail rules test` uses: fresh in-memory state, the whole pipeline. */
const scenarios: ScenarioRunner = scenarioRunner(defaultConfig);

const BUILTIN_IDS = [
  "ai-off-hours-burst",
  "ai-destructive-action",
  "iam-self-modification",
  "cloudtrail-tampering",
  "ai-access-denied-burst",
];

describe("built-in rules", () => {
  it("load with no error, with the agreed ids, 15 CIS checks, runbooks and tags", async () => {
    const { tuned, errors } = await loadTunedRules([RULES_DIR], defaultConfig.rules);
    expect(errors).toEqual([]);
    const alerting = tuned.linked.rules.filter((r) => r.meta.alert);
    const ids = alerting.map((r) => r.meta.id);
    for (const id of BUILTIN_IDS) expect(ids).toContain(id);
    expect(ids.filter((id) => id.startsWith("cis-"))).toHaveLength(15);
    expect(alerting).toHaveLength(20);
    for (const rule of alerting) {
      expect(rule.meta.runbook, rule.meta.id).toBeTruthy();
      expect(rule.meta.falsepositives.length, rule.meta.id).toBeGreaterThan(0);
      expect(rule.meta.tags.length, rule.meta.id).toBeGreaterThan(0);
    }
  });

  it("name every call their derived facts can be true for, so the engine indexes them by eventName and eventSource", async () => {
    const loaded = await loadRules([RULES_DIR]);
    const byId = new Map(loaded.rules.map((r) => [r.meta.id, r]));
    const requires = (id: string) => {
      const rule = byId.get(id);
      if (rule?.kind !== "detection" || !rule.requires.eventName)
        throw new Error(`${id} is not indexed by eventName`);
      return rule.requires;
    };
    const selfModification = requires("iam-self-modification").eventName;
    for (const action of SELF_MODIFICATION_ACTIONS)
      expect(selfModification?.has(action.toLowerCase()), action).toBe(true);
    const tampering = requires("cloudtrail-tampering");
    for (const { service, action } of [...loggingReductionActions(), ...securityDisableActions()]) {
      expect(tampering.eventName?.has(action.toLowerCase()), action).toBe(true);
      expect(tampering.eventSource?.has(service), `${service} ${action}`).toBe(true);
    }
  });

  it("are each described in rules/README.md", async () => {
    const readme = readFileSync(join(RULES_DIR, "README.md"), "utf8");
    const loaded = await loadRules([RULES_DIR]);
    for (const rule of loaded.rules) expect(readme, rule.meta.id).toContain(`\`${rule.meta.id}\``);
  });

  it("every rule passes its match and nomatch fixtures through the real pipeline", async () => {
    const report = await runRuleFixtures(RULES_DIR, scenarios);
    const failures = report.results
      .filter((r) => r.status === "fail")
      .map((r) => ({ rule: r.ruleId, reason: r.reason, cases: r.cases.filter((c) => !c.passed) }));
    expect(report.loadErrors).toEqual([]);
    expect(failures).toEqual([]);
    const tested = report.results.filter((r) => r.status === "pass").map((r) => r.ruleId);
    expect(tested).toHaveLength(20);
  });
});

describe("rules/fixtures/README.md", () => {
  it("gives every fixture's provenance, and those it calls real are invictus-ir records, unchanged", () => {
    const fixturesDir = join(RULES_DIR, "fixtures");
    const readme = readFileSync(join(fixturesDir, "README.md"), "utf8");
    // "| <rule> | match | `<file>` | <provenance>: <what it is> |" → "<rule>/match/<file>" → provenance
    const provenance = new Map<string, string>();
    for (const [, rule, kind, file, from] of readme.matchAll(
      /^\| ([a-z0-9-]+) \| (match|nomatch) \| `([^`]+)` \| ([^|:]+):/gm,
    ))
      provenance.set(`${rule}/${kind}/${file}`, from);
    const onDisk = readdirSync(fixturesDir, { recursive: true, encoding: "utf8" })
      .filter((path) => path.endsWith(".json"))
      .map((path) => path.split(/[\\/]/).join("/"));
    expect([...provenance.keys()].sort()).toEqual(onDisk.sort());

    const corpus = new Map<string, unknown>();
    for (const file of readdirSync(INVICTUS_DIR).filter((f) => f.endsWith(".json")))
      for (const r of invictusRecords(file)) corpus.set(String(r.eventID), r);
    const real = [...provenance].filter(([, from]) => from === "real").map(([path]) => path);
    expect(real.length).toBeGreaterThan(0);
    for (const path of real) {
      const records = JSON.parse(readFileSync(join(fixturesDir, path), "utf8")) as { eventID: string }[];
      for (const r of records) expect(r, `${path} ${r.eventID}`).toEqual(corpus.get(r.eventID));
    }
  });
});

describe("built-in rules on the invictus-ir attack simulation (real trail files, no AI involved)", () => {
  it("raise cloudtrail-tampering for the successful DeleteTrail, log-reducing PutEventSelectors and DeleteFlowLogs, and no AI rule", async () => {
    const config = defaultConfig;
    const detector = new RuleEngine((await loadTunedRules([RULES_DIR], config.rules)).tuned.linked, config);
    const files = readdirSync(INVICTUS_DIR)
      .filter((f) => f.endsWith(".json"))
      .sort();
    const records = files.map(invictusRecords);
    const last = Math.max(
      ...records.flat().map((r) => Date.parse(String((r as { eventTime: string }).eventTime))),
    );
    const store = new MemoryStore(() => last);
    const hits: RuleHit[] = [];
    const tamperingEvents = new Map<string, { name: string; error?: string }>();
    for (let i = 0; i < files.length; i++) {
      const result = await processBatch(
        { source: files[i], records: records[i] },
        { store, config, detector },
      );
      hits.push(...result.hits);
      for (const h of result.hits) {
        if (h.rule.id !== "cloudtrail-tampering") continue;
        for (const e of h.events) tamperingEvents.set(e.id, { name: e.action, error: e.error?.code });
      }
    }
    const successfulDeleteTrails = records
      .flat()
      .filter((r) => {
        const rec = r as { eventName: string; errorCode?: string };
        return rec.eventName === "DeleteTrail" && !rec.errorCode;
      })
      .map((r) => (r as { eventID: string }).eventID);
    expect(successfulDeleteTrails.length).toBeGreaterThan(0);
    for (const id of successfulDeleteTrails) expect(tamperingEvents.get(id)?.name).toBe("DeleteTrail");
    // the call that turned management events off (ReadOnly, includeManagementEvents false)
    expect(tamperingEvents.get("076e96d5-2983-473f-920a-2fc2d7e02777")?.name).toBe("PutEventSelectors");
    // the later call restoring ReadWriteType All with management events does not reduce logging
    expect(tamperingEvents.has("3d6df238-f83c-4a34-bea8-45cf80a2050b")).toBe(false);
    // Stratus's remove-flow-logs technique deletes the VPC flow log that Terraform created just before
    expect(tamperingEvents.get("de58d903-38d7-4f30-a84b-b79d858e8376")?.name).toBe("DeleteFlowLogs");
    expect(tamperingEvents.has("a3fbe842-f8df-4bb3-accf-1407cc925cbd")).toBe(false); // CreateFlowLogs
    // failed StopLogging attempts (TrailNotFoundException) are still reported
    expect(
      [...tamperingEvents.values()].some(
        (e) => e.name === "StopLogging" && e.error === "TrailNotFoundException",
      ),
    ).toBe(true);
    const aiRules = hits.filter(
      (h) => h.rule.id.startsWith("ai-") || h.events.some((e) => e.actor.kind === "ai"),
    );
    expect(aiRules).toEqual([]);
    // the attack's IAM changes on other roles are CIS policy changes, not self-modification
    expect(hits.some((h) => h.rule.id === "cis-iam-policy-changes")).toBe(true);
    expect(hits.some((h) => h.rule.id === "iam-self-modification")).toBe(false);
  });
});

describe("cloudtrail-tampering's severity on its fixtures", () => {
  it("reports failed attempts at levelIfFailed, an agent's too, and a successful DeleteTrail at its level", async () => {
    const { tuned } = await loadTunedRules([RULES_DIR], defaultConfig.rules);
    const severityOf = async (fixture: string) => {
      const path = join(RULES_DIR, "fixtures/cloudtrail-tampering/match", fixture);
      const { hits } = await scenarios(tuned.linked)(JSON.parse(readFileSync(path, "utf8")) as unknown[]);
      return hits
        .filter((h) => h.rule.id === "cloudtrail-tampering")
        .map((h) => hitSeverity(h.rule, h.events));
    };
    expect(await severityOf("invictus-failed-stop-logging.json")).toEqual(["medium"]);
    // denied and made by an agent: levelIfAi raises it, levelIfFailed caps it
    expect(await severityOf("mcp-delete-flow-logs-denied.json")).toEqual(["medium"]);
    expect(await severityOf("invictus-delete-trail.json")).toEqual(["high"]);
  });
});

describe("ai-destructive-action on DynamoDB bulk deletes", () => {
  it("groups an agent's BatchWriteItem deletes by the table named in requestItems", async () => {
    const { tuned } = await loadTunedRules([RULES_DIR], defaultConfig.rules);
    const fixture = join(
      RULES_DIR,
      "fixtures/ai-destructive-action/match/mcp-batch-write-deletes-orders-items.json",
    );
    const records = JSON.parse(readFileSync(fixture, "utf8")) as unknown[];
    // the table only in requestItems: the group must not come from the resources list
    for (const r of records) delete (r as { resources?: unknown }).resources;
    const { hits } = await scenarios(tuned.linked)(records);
    const destructive = hits.filter((h) => h.rule.id === "ai-destructive-action");
    expect(destructive.flatMap((h) => h.events.map((e) => e.action))).toEqual([
      "BatchWriteItem",
      "BatchWriteItem",
    ]);
    expect(new Set(destructive.map((h) => h.groupKey)).size).toBe(1);
    expect(destructive[0].group).toMatchObject({
      "actor.session": "arn:aws:iam::111122223333:user/agent-user",
      "action.target": "dynamodb:orders",
    });
  });
});

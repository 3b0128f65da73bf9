/**
 * `agenttrail rules test`: every rule's fixtures replayed through the pipeline. For a rule with id X,
 * the files in `<rulesDir>/fixtures/X/match/` must make X hit at least once and those in `…/nomatch/`
 * never. A fixture is a file in any format `agenttrail replay` reads (a JSON array of records,
 * `{"Records": […]}`, JSON Lines, EventBridge events; gzipped or not), one scenario in order. A record
 * the pipeline would count as malformed fails its fixture: dropped, it could make the fixture pass for
 * the wrong reason. The pipeline is injected (`ScenarioRunner`), so this module stays independent of it.
 * Given a configuration's `rules` section, the rules are tuned as a run tunes them: exceptions narrow
 * them, and a disabled rule's fixtures are not run (it makes no alert).
 */
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { decodeFile } from "../cloudtrail/decode.ts";
import { isTrailFileName } from "../cloudtrail/inputs.ts";
import { type Config, defaultConfig } from "../config.ts";
import type { MalformedRecord } from "../event.ts";
import type { LinkedRules, RuleProblem } from "./link.ts";
import { loadTunedRules } from "./tuning.ts";
import type { RuleHit } from "./types.ts";

/** What one scenario gave: the rules' hits, and the records the pipeline could not read. */
export interface ScenarioResult {
  hits: RuleHit[];
  malformed: readonly MalformedRecord[];
}

/** Replays one fixture's records, with fresh state, through the rules it was made for. */
export type RunScenario = (records: unknown[]) => Promise<ScenarioResult>;

/**
 * The scenarios of one rule set: called once per directory with its rules as linked with the tuning
 * (a disabled rule that feeds a correlation keeps alert: false), then once per fixture.
 */
export type ScenarioRunner = (rules: LinkedRules) => RunScenario;

export type FixtureExpectation = "match" | "nomatch";

export interface FixtureCase {
  fixture: string;
  expect: FixtureExpectation;
  passed: boolean;
  /** Hits of the rule under test. */
  hits: number;
  reason?: string;
}

export interface RuleFixtureResult {
  ruleId: string;
  title?: string;
  file?: string;
  status: "pass" | "fail" | "no-fixtures" | "disabled";
  cases: FixtureCase[];
  reason?: string;
}

export interface FixtureReport {
  results: RuleFixtureResult[];
  /** Rules that did not load, and tuning that cannot apply (an exception that does not compile…). */
  loadErrors: RuleProblem[];
  /** No failing rule and no load error. */
  ok: boolean;
}

export interface FixtureOptions {
  /** A configuration's `rules` section: placeholders, exceptions and disabled ids, as a run applies them. */
  tuning?: Config["rules"];
  /**
   * Alerting rules must have both match and nomatch fixtures (default true: the built-in pack's rule).
   * Rules that only feed correlations (alert: false) never need their own.
   */
  requireFixtures?: boolean;
}

/** The fixture files of a match/ or nomatch/ directory: the names replay takes as trail files. */
async function listFixtures(dir: string): Promise<string[]> {
  try {
    const names = await readdir(dir);
    return names
      .filter(isTrailFileName)
      .sort()
      .map((n) => join(dir, n));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw err;
  }
}

async function listDirs(dir: string): Promise<string[]> {
  try {
    const entries = await readdir(dir, { withFileTypes: true });
    return entries
      .filter((e) => e.isDirectory())
      .map((e) => e.name)
      .sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw err;
  }
}

async function readScenario(file: string): Promise<unknown[]> {
  const decoded = decodeFile(await readFile(file), file);
  if (decoded.skippedReason) throw new Error(`holds no records to replay (${decoded.skippedReason})`);
  return decoded.records;
}

/** Malformed records listed in a failed fixture's reason. */
const MAX_LISTED_MALFORMED = 3;

async function runCase(
  ruleId: string,
  fixture: string,
  expect: FixtureExpectation,
  runScenario: RunScenario,
): Promise<FixtureCase> {
  let records: unknown[];
  try {
    records = await readScenario(fixture);
  } catch (err) {
    return {
      fixture,
      expect,
      passed: false,
      hits: 0,
      reason: `cannot read fixture: ${(err as Error).message}`,
    };
  }
  let hits: RuleHit[];
  try {
    const result = await runScenario(records);
    if (result.malformed.length) {
      const listed = result.malformed
        .slice(0, MAX_LISTED_MALFORMED)
        .map((m) => `#${m.index}: ${m.reason}`)
        .join("; ");
      const more = result.malformed.length - MAX_LISTED_MALFORMED;
      const reason = `${result.malformed.length} malformed record(s), ${listed}${more > 0 ? `; and ${more} more` : ""}`;
      return { fixture, expect, passed: false, hits: 0, reason };
    }
    hits = result.hits;
  } catch (err) {
    return { fixture, expect, passed: false, hits: 0, reason: `pipeline failed: ${(err as Error).message}` };
  }
  const own = hits.filter((h) => h.rule.id === ruleId).length;
  if (expect === "match") {
    return own > 0
      ? { fixture, expect, passed: true, hits: own }
      : { fixture, expect, passed: false, hits: 0, reason: `expected ${ruleId} to hit, it did not` };
  }
  return own === 0
    ? { fixture, expect, passed: true, hits: 0 }
    : { fixture, expect, passed: false, hits: own, reason: `expected no hit of ${ruleId}, got ${own}` };
}

export async function runRuleFixtures(
  rulesDir: string,
  scenarios: ScenarioRunner,
  options: FixtureOptions = {},
): Promise<FixtureReport> {
  const requireFixtures = options.requireFixtures ?? true;
  const configured = options.tuning ?? defaultConfig.rules;
  // The tuning tested is the part about this directory's rules; the rest is for `rules lint`.
  const {
    loaded,
    tuned,
    errors: loadErrors,
  } = await loadTunedRules([rulesDir], configured, {
    onlyLoadedRules: true,
  });
  const linked = tuned.linked;
  const runScenario = scenarios(linked);
  // Why a rule is not tested: the tuning turned it off (a disabled rule that runs on only to feed a
  // correlation makes no alert of its own either).
  const offReasons = new Map(linked.off.map((o) => [o.rule.meta.id, o.reason]));
  const fixturesRoot = join(rulesDir, "fixtures");
  const fixtureIds = new Set(await listDirs(fixturesRoot));
  const results: RuleFixtureResult[] = [];
  // In load order; the rules tested as linked (their alert flag settled). A duplicated id is tested
  // once, as linking keeps it.
  const linkedById = new Map(linked.rules.map((r) => [r.meta.id, r]));
  const seen = new Set<string>();
  for (const loadedRule of loaded.rules) {
    const id = loadedRule.meta.id;
    if (seen.has(id)) continue;
    seen.add(id);
    // A loaded rule's fixtures are its own, run or not: those of no loaded rule are orphans.
    const hasFixtures = fixtureIds.delete(id);
    const offReason = offReasons.get(id);
    if (offReason) {
      results.push({
        ruleId: id,
        title: loadedRule.meta.title,
        file: loadedRule.file,
        status: "disabled",
        cases: [],
        reason: `${offReason}: fixtures not run`,
      });
      continue;
    }
    const rule = linkedById.get(id);
    if (!rule) continue; // refused by linking: reported among the load errors
    const dir = join(fixturesRoot, id);
    const match = hasFixtures ? await listFixtures(join(dir, "match")) : [];
    const nomatch = hasFixtures ? await listFixtures(join(dir, "nomatch")) : [];
    const result: RuleFixtureResult = {
      ruleId: id,
      title: rule.meta.title,
      file: rule.file,
      status: "pass",
      cases: [],
    };
    for (const f of match) result.cases.push(await runCase(id, f, "match", runScenario));
    for (const f of nomatch) result.cases.push(await runCase(id, f, "nomatch", runScenario));
    const missing = [match.length === 0 ? "match" : "", nomatch.length === 0 ? "nomatch" : ""].filter(
      Boolean,
    );
    if (result.cases.some((c) => !c.passed)) {
      result.status = "fail";
      result.reason = `${result.cases.filter((c) => !c.passed).length} of ${result.cases.length} fixtures failed`;
    } else if (!rule.meta.alert && result.cases.length === 0) {
      result.status = "no-fixtures";
      result.reason = "feeds correlations only (alert: false)";
    } else if (missing.length > 0) {
      result.status = requireFixtures ? "fail" : result.cases.length === 0 ? "no-fixtures" : "pass";
      result.reason = `no ${missing.join(" or ")} fixtures`;
    }
    results.push(result);
  }
  for (const orphan of fixtureIds) {
    results.push({
      ruleId: orphan,
      status: "fail",
      cases: [],
      reason: `fixtures/${orphan} has no loaded rule with that id`,
    });
  }
  return { results, loadErrors, ok: loadErrors.length === 0 && results.every((r) => r.status !== "fail") };
}

const STATUS_LABELS: Record<RuleFixtureResult["status"], string> = {
  pass: "PASS",
  fail: "FAIL",
  "no-fixtures": "NO FIXTURES",
  disabled: "DISABLED",
};

/** Human-readable report for the terminal. */
export function formatFixtureReport(report: FixtureReport): string {
  const lines: string[] = [];
  for (const e of report.loadErrors)
    lines.push(`LOAD ERROR  ${e.file}${e.ruleId ? ` ${e.ruleId}` : ""}: ${e.reason}`);
  for (const r of report.results) {
    lines.push(`${STATUS_LABELS[r.status].padEnd(11)} ${r.ruleId}${r.reason ? `: ${r.reason}` : ""}`);
    for (const c of r.cases) if (!c.passed) lines.push(`  ${c.expect} ${c.fixture}: ${c.reason}`);
  }
  const pass = report.results.filter((r) => r.status === "pass").length;
  const fail = report.results.filter((r) => r.status === "fail").length;
  const off = report.results.filter((r) => r.status === "disabled").length;
  lines.push(
    `${report.results.length} rules: ${pass} passed, ${fail} failed, ${off ? `${off} disabled, ` : ""}${report.loadErrors.length} load errors`,
  );
  return lines.join("\n");
}

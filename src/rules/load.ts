/**
 * Rule loading: `.yml`/`.yaml` files (directories recursively, several YAML documents per file),
 * each document validated and compiled on its own. A document that cannot load is reported with its
 * file, rule id and reason, and the others go on; rules for other log sources are skipped, not errors.
 */
import { readdir, readFile, realpath, stat } from "node:fs/promises";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";
import { isObject } from "../json-values.ts";
import { type CompiledRule, compileDocument, logsourceMismatch } from "./compile.ts";
import { RuleCompileError } from "./errors.ts";
import type { RuleProblem } from "./link.ts";

export type { RuleProblem } from "./link.ts";

export interface LoadOptions {
  /** Values for Sigma `expand` placeholders: `%name%` → values (the rule matches any of them). */
  placeholders?: Record<string, readonly string[]>;
}

export interface RuleSource {
  file: string;
  text: string;
}

export interface LoadResult {
  /**
   * Compiled rules, as written: not yet linked (duplicate ids, correlation references and alerting
   * are settled by tuneRules, which links them with the configuration's tuning).
   */
  rules: CompiledRule[];
  /** Documents that could not load (bad YAML, invalid rule, unsupported feature). */
  errors: RuleProblem[];
  /** Valid documents that are not for us (other log sources). */
  skipped: RuleProblem[];
  /** Files read, in order. */
  files: string[];
}

const RULE_FILE = /\.ya?ml$/i;

/**
 * Rule files under the given paths (files as given; directories recursively, sorted). A file reached
 * more than once (a directory given twice or inside another, the built-in pack given again with
 * `--rules rules/`) is listed once, where it was first reached: loaded twice, each of its rules would
 * be a duplicate id.
 */
export async function findRuleFiles(
  paths: readonly string[],
): Promise<{ files: string[]; errors: RuleProblem[] }> {
  const files: string[] = [];
  const errors: RuleProblem[] = [];
  const reached = new Set<string>();
  async function add(file: string): Promise<void> {
    const real = await realpath(file);
    if (reached.has(real)) return;
    reached.add(real);
    files.push(file);
  }
  /** Rule files under `dir`, counting those already listed. */
  async function walk(dir: string): Promise<number> {
    const entries = await readdir(dir, { withFileTypes: true });
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    let found = 0;
    for (const e of entries) {
      const p = join(dir, e.name);
      if (e.isDirectory()) found += await walk(p);
      else if (e.isFile() && RULE_FILE.test(e.name)) {
        await add(p);
        found++;
      }
    }
    return found;
  }
  for (const p of paths) {
    try {
      const s = await stat(p);
      if (s.isDirectory()) {
        // A directory given on purpose that holds no rules is a mistyped path, not an empty pack.
        if ((await walk(p)) === 0) errors.push({ file: p, reason: "no rule files (.yml, .yaml) in it" });
      } else await add(p);
    } catch (err) {
      errors.push({ file: p, reason: `cannot read: ${(err as Error).message}` });
    }
  }
  return { files, errors };
}

function ruleIdOf(doc: unknown): string | undefined {
  if (!isObject(doc)) return undefined;
  const { id, name } = doc;
  if (typeof id === "string" || typeof id === "number") return String(id);
  return typeof name === "string" ? name : undefined;
}

/** Compiles the documents of one file; problems are appended to `errors` / `skipped`. */
export function compileSource(
  source: RuleSource,
  options: LoadOptions,
  out: { rules: CompiledRule[]; errors: RuleProblem[]; skipped: RuleProblem[] },
): void {
  const ctx = { placeholders: options.placeholders ?? {} };
  let docs: ReturnType<typeof parseAllDocuments>;
  try {
    docs = parseAllDocuments(source.text);
  } catch (err) {
    out.errors.push({ file: source.file, reason: `YAML: ${(err as Error).message}` });
    return;
  }
  if (!Array.isArray(docs)) docs = [docs];
  docs.forEach((d, index) => {
    const where = docs.length > 1 ? `${source.file}#${index + 1}` : source.file;
    if (d.errors.length > 0) {
      out.errors.push({ file: where, reason: `YAML: ${d.errors.map((e) => e.message).join("; ")}` });
      return;
    }
    const doc = d.toJS({ maxAliasCount: 100 }) as unknown;
    if (doc === null || doc === undefined) return; // empty document (e.g. trailing ---)
    const ruleId = ruleIdOf(doc);
    const mismatch = logsourceMismatch(doc);
    if (mismatch) {
      out.skipped.push({ file: where, ruleId, reason: mismatch });
      return;
    }
    try {
      out.rules.push(compileDocument(doc, where, ctx));
    } catch (err) {
      if (!(err instanceof RuleCompileError)) throw err;
      const problem: RuleProblem = { file: where, ruleId, reason: err.message };
      if (err.feature) problem.feature = err.feature;
      out.errors.push(problem);
    }
  });
}

/** Loads rule texts already in memory (bundled built-ins, tests). */
export function loadRuleSources(sources: readonly RuleSource[], options: LoadOptions = {}): LoadResult {
  const out = { rules: [] as CompiledRule[], errors: [] as RuleProblem[], skipped: [] as RuleProblem[] };
  for (const s of sources) compileSource(s, options, out);
  return { ...out, files: sources.map((s) => s.file) };
}

/**
 * Loads every rule file under `paths` (files or directories). Load them in one call so that
 * correlations link across files (loadTunedRules: what a run and lint use).
 */
export async function loadRules(paths: readonly string[], options: LoadOptions = {}): Promise<LoadResult> {
  const found = await findRuleFiles(paths);
  const sources: RuleSource[] = [];
  const readErrors: RuleProblem[] = [...found.errors];
  for (const file of found.files) {
    try {
      sources.push({ file, text: await readFile(file, "utf8") });
    } catch (err) {
      readErrors.push({ file, reason: `cannot read: ${(err as Error).message}` });
    }
  }
  const result = loadRuleSources(sources, options);
  return { ...result, errors: [...readErrors, ...result.errors], files: found.files };
}

/**
 * `agenttrail rules lint`: load and validate rules, one line per rule document, and, given a
 * configuration, its tuning (disabled ids and exceptions) against the rules loaded.
 */
import { type Config, defaultConfig } from "../config.ts";
import type { CompiledRule } from "./compile.ts";
import { loadTunedRules } from "./tuning.ts";

export type LintStatus = "loaded" | "skipped" | "error" | "unsupported";

export interface LintEntry {
  file: string;
  ruleId?: string;
  title?: string;
  kind?: CompiledRule["kind"];
  status: LintStatus;
  /** Why the rule is skipped or failed. */
  reason?: string;
  /** The Sigma feature the engine does not implement (status "unsupported"). */
  feature?: string;
  warnings: string[];
}

export interface LintReport {
  entries: LintEntry[];
  files: string[];
  counts: Record<LintStatus, number>;
  /** True when every rule document loaded or was skipped as not-for-us. */
  ok: boolean;
}

export interface LintOptions {
  /**
   * A configuration's `rules` section: its placeholders expand, and its tuning is checked too
   * (default: the default configuration's, which tunes nothing).
   */
  tuning?: Config["rules"];
}

export async function lintRules(paths: readonly string[], options: LintOptions = {}): Promise<LintReport> {
  // What the CLI and the Lambda would report for this configuration.
  const { loaded, tuned, errors } = await loadTunedRules(paths, options.tuning ?? defaultConfig.rules);
  // A document linking refused (a duplicate id, a broken correlation) is listed by its error alone:
  // "loaded" are those it kept, running or turned off by the tuning. By file and id, as exceptions
  // hand linking narrowed copies of the rules.
  const { linked } = tuned;
  const kept = new Set(
    [...linked.rules, ...linked.off.map((o) => o.rule)].map((r) => documentKey(r.file, r.meta.id)),
  );
  const entries: LintEntry[] = [];
  for (const r of loaded.rules) {
    if (!kept.has(documentKey(r.file, r.meta.id))) continue;
    entries.push({
      file: r.file,
      ruleId: r.meta.id,
      title: r.meta.title,
      kind: r.kind,
      status: "loaded",
      warnings: [...r.warnings],
    });
  }
  for (const s of loaded.skipped) entries.push({ ...s, status: "skipped", warnings: [] });
  for (const e of errors) entries.push({ ...e, status: e.feature ? "unsupported" : "error", warnings: [] });
  entries.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
  const counts: Record<LintStatus, number> = { loaded: 0, skipped: 0, error: 0, unsupported: 0 };
  for (const e of entries) counts[e.status]++;
  return {
    entries,
    files: loaded.files,
    counts,
    ok: counts.error === 0 && counts.unsupported === 0,
  };
}

/** A rule document by its file (`file#n` in a file of several) and id. */
function documentKey(file: string, ruleId: string | undefined): string {
  return `${file}\u0000${ruleId ?? ""}`;
}

/** Human-readable report for the terminal. */
export function formatLintReport(report: LintReport): string {
  const lines: string[] = [];
  for (const e of report.entries) {
    const who = e.ruleId ? `${e.ruleId}${e.title ? ` (${e.title})` : ""}` : "";
    const what = e.status === "loaded" ? "ok" : e.status;
    const why = e.reason ? `: ${e.reason}` : "";
    lines.push(`${what.padEnd(11)} ${e.file}${who ? ` ${who}` : ""}${why}`);
    for (const w of e.warnings) lines.push(`  warning: ${w}`);
  }
  const c = report.counts;
  lines.push(
    `${report.files.length} files: ${c.loaded} loaded, ${c.skipped} skipped, ${c.unsupported} unsupported, ${c.error} errors`,
  );
  return lines.join("\n");
}

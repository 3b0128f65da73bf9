/**
 * Which rules an event can possibly match, from the literal eventName / eventSource values each rule
 * requires (derived from its condition tree). Rules without such a requirement are in every list.
 * Candidate lists are computed once per distinct (eventName, eventSource) pair and memoised under
 * the exact strings, so the per-event cost is two Map lookups and no allocation.
 */
import type { AuditEvent } from "../event.ts";
import type { CompiledDetectionRule } from "./compile.ts";

/** Distinct name/source pairs remembered before the memo is reset (bounds memory on odd input). */
const MEMO_LIMIT = 20_000;

const EMPTY: readonly CompiledDetectionRule[] = [];

export class RuleIndex {
  private memo = new Map<string, Map<string, readonly CompiledDetectionRule[]>>();
  private memoSize = 0;
  /** Rules indexed by a required eventName (lower-cased). */
  private readonly byName = new Map<string, CompiledDetectionRule[]>();
  /** Rules with no eventName requirement. */
  private readonly anyName: CompiledDetectionRule[] = [];

  constructor(readonly rules: readonly CompiledDetectionRule[]) {
    for (const r of rules) {
      const names = r.requires.eventName;
      if (!names) {
        this.anyName.push(r);
        continue;
      }
      for (const n of names) {
        let list = this.byName.get(n);
        if (!list) {
          list = [];
          this.byName.set(n, list);
        }
        list.push(r);
      }
    }
  }

  /** Rules that can match an event with this eventName and eventSource, in load order. */
  candidates(eventName: string, eventSource: string): readonly CompiledDetectionRule[] {
    let bySource = this.memo.get(eventName);
    const hit = bySource?.get(eventSource);
    if (hit) return hit;
    const list = this.compute(eventName.toLowerCase(), eventSource.toLowerCase());
    if (this.memoSize >= MEMO_LIMIT) {
      this.memo = new Map();
      this.memoSize = 0;
      bySource = undefined;
    }
    if (!bySource) {
      bySource = new Map();
      this.memo.set(eventName, bySource);
    }
    bySource.set(eventSource, list);
    this.memoSize++;
    return list;
  }

  candidatesFor(event: AuditEvent): readonly CompiledDetectionRule[] {
    const raw = event.raw;
    const name = raw.eventName;
    const source = raw.eventSource;
    return this.candidates(typeof name === "string" ? name : "", typeof source === "string" ? source : "");
  }

  private compute(name: string, source: string): readonly CompiledDetectionRule[] {
    const named = this.byName.get(name);
    const pool = new Set(named ? [...this.anyName, ...named] : this.anyName);
    const out: CompiledDetectionRule[] = [];
    // keep load order: rules are evaluated (and hits emitted) in a stable order
    for (const r of this.rules) {
      if (!pool.has(r)) continue;
      const sources = r.requires.eventSource;
      if (sources && !sources.has(source)) continue;
      out.push(r);
    }
    return out.length ? out : EMPTY;
  }
}

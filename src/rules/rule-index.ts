/**
 * Which rules an event can possibly match, from the literal values each rule requires of the indexed
 * fields (eventName, eventSource, actor.kind, userIdentity.type), derived from its condition tree.
 * A rule without a requirement on a field is a candidate whatever the event's value.
 * Candidate lists are computed once per distinct combination of values and memoised under the exact
 * strings, so the per-event cost is four Map lookups and no allocation.
 */
import type { AuditEvent } from "../event.ts";
import type { CompiledDetectionRule } from "./compile.ts";
import { INDEXED_FIELDS } from "./detection.ts";

/** Distinct value combinations remembered before the memo is reset (bounds memory on odd input). */
const MEMO_LIMIT = 50_000;

const EMPTY: readonly CompiledDetectionRule[] = [];

type Level = Map<string, Level | readonly CompiledDetectionRule[]>;

export class RuleIndex {
  private memo: Level = new Map();
  private memoSize = 0;

  constructor(readonly rules: readonly CompiledDetectionRule[]) {}

  /**
   * Rules that can match an event with these values, in load order. An omitted value (undefined)
   * filters nothing on that field.
   */
  candidates(
    eventName: string | undefined,
    eventSource: string | undefined,
    actorKind?: string,
    userIdentityType?: string,
  ): readonly CompiledDetectionRule[] {
    if (
      eventName === undefined ||
      eventSource === undefined ||
      actorKind === undefined ||
      userIdentityType === undefined
    ) {
      return this.compute([eventName, eventSource, actorKind, userIdentityType]);
    }
    const l1 = this.memo.get(eventName) as Level | undefined;
    const l2 = l1?.get(eventSource) as Level | undefined;
    const l3 = l2?.get(actorKind) as Level | undefined;
    const hit = l3?.get(userIdentityType) as readonly CompiledDetectionRule[] | undefined;
    if (hit) return hit;
    const list = this.compute([eventName, eventSource, actorKind, userIdentityType]);
    if (this.memoSize >= MEMO_LIMIT) {
      this.memo = new Map();
      this.memoSize = 0;
    }
    let level = this.memo;
    for (const key of [eventName, eventSource, actorKind]) {
      let next = level.get(key) as Level | undefined;
      if (!next) {
        next = new Map();
        level.set(key, next);
      }
      level = next;
    }
    level.set(userIdentityType, list);
    this.memoSize++;
    return list;
  }

  candidatesFor(event: AuditEvent): readonly CompiledDetectionRule[] {
    const raw = event.raw;
    const name = raw.eventName ?? "";
    const source = raw.eventSource ?? "";
    const kind = event.actor?.kind ?? "";
    const identity = raw.userIdentity;
    let type: unknown = "";
    if (identity !== null && typeof identity === "object") {
      if (Array.isArray(identity)) return this.rules;
      type = (identity as Record<string, unknown>).type ?? "";
    }
    // values that are not plain strings compare in ways the memo keys cannot express: no filtering
    if (typeof name !== "string" || typeof source !== "string" || typeof type !== "string") return this.rules;
    return this.candidates(name, source, kind, type);
  }

  private compute(values: (string | undefined)[]): readonly CompiledDetectionRule[] {
    const lowered = values.map((v) => v?.toLowerCase());
    const out = this.rules.filter((r) =>
      INDEXED_FIELDS.every((field, k) => {
        const required = r.requires[field];
        const value = lowered[k];
        return required === undefined || value === undefined || required.has(value);
      }),
    );
    return out.length ? out : EMPTY;
  }
}

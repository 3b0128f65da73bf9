/**
 * Which rules an event can possibly match, from the literal values each rule requires of the indexed
 * fields (eventName, eventSource, actor.kind, userIdentity.type), derived from its condition tree.
 * A rule without a requirement on a field is a candidate whatever the event's value.
 * Candidate lists are computed once per distinct combination of values and memoised under the exact
 * strings: per eventName (a Map lookup), a short list of the combinations of the other three values,
 * searched by comparison. An event's values are strings of its own, which each Map lookup would have
 * to hash; comparing them with the few combinations one eventName meets is cheaper. No allocation.
 */
import type { AuditEvent } from "../event.ts";
import type { CompiledDetectionRule } from "./compile.ts";
import { INDEXED_FIELDS, type IndexRequirements } from "./detection.ts";

/** Distinct value combinations remembered before the memo is reset (bounds memory on odd input). */
const MEMO_LIMIT = 50_000;

/** Combinations remembered per eventName before its list starts over (bounds the search on odd input). */
const MAX_COMBINATIONS = 64;

const EMPTY: readonly never[] = [];

interface Combination<R> {
  source: string;
  kind: string;
  type: string;
  rules: readonly R[];
}

/** Indexes rules, or anything that carries a rule's requirements (the engine indexes its routes). */
export class RuleIndex<R extends { readonly requires: IndexRequirements } = CompiledDetectionRule> {
  private memo = new Map<string, Combination<R>[]>();
  private memoSize = 0;

  constructor(readonly rules: readonly R[]) {}

  /**
   * Rules that can match an event with these values, in load order. An omitted value (undefined)
   * filters nothing on that field.
   */
  candidates(
    eventName: string | undefined,
    eventSource: string | undefined,
    actorKind?: string,
    userIdentityType?: string,
  ): readonly R[] {
    if (
      eventName === undefined ||
      eventSource === undefined ||
      actorKind === undefined ||
      userIdentityType === undefined
    ) {
      return this.compute([eventName, eventSource, actorKind, userIdentityType]);
    }
    let combinations = this.memo.get(eventName);
    if (combinations) {
      for (let k = 0; k < combinations.length; k++) {
        const c = combinations[k];
        if (c.type === userIdentityType && c.kind === actorKind && c.source === eventSource) return c.rules;
      }
    }
    const rules = this.compute([eventName, eventSource, actorKind, userIdentityType]);
    if (this.memoSize >= MEMO_LIMIT) {
      this.memo = new Map();
      this.memoSize = 0;
      combinations = undefined;
    }
    if (!combinations || combinations.length >= MAX_COMBINATIONS) {
      this.memoSize -= combinations?.length ?? 0;
      combinations = [];
      this.memo.set(eventName, combinations);
    }
    combinations.push({ source: eventSource, kind: actorKind, type: userIdentityType, rules });
    this.memoSize++;
    return rules;
  }

  candidatesFor(event: AuditEvent): readonly R[] {
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

  private compute(values: (string | undefined)[]): readonly R[] {
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

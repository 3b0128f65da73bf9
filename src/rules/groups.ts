/**
 * Alert groups and correlation windows: an event's group of a rule (its group-by values) as a map
 * lookup, and the group's description (key and values by field) that hits and windows carry.
 */
import type { AuditEvent } from "../event.ts";
import { type FieldAccessor, valueText } from "./fields.ts";

/** A group-by field's value as alert groups and correlation windows key it ("" when missing). */
function groupValue(field: FieldAccessor, event: AuditEvent): string {
  return valueText(field.first(event)) ?? "";
}

/**
 * An event's group of a rule (its group-by values), as a map lookup: with one group-by field (the
 * usual case) the value itself, so no string is built per match; else the group key (JSON of the
 * values), which no value can make two groups share (values come from records: joining them with a
 * separator let a value holding the separator collide with another group).
 */
export function groupLookup(accessors: readonly FieldAccessor[], event: AuditEvent): string {
  if (accessors.length === 1) return groupValue(accessors[0], event);
  return groupKeyOf(accessors.map((a) => groupValue(a, event)));
}

interface GroupDescription {
  groupKey: string;
  group: Record<string, string>;
}

/** A group met for the first time: its key (JSON of the values) and the values by field name. */
export function describeGroup(
  fields: readonly string[],
  accessors: readonly FieldAccessor[],
  lookup: string,
  event: AuditEvent,
): GroupDescription {
  const single = accessors.length === 1;
  const values = single ? [lookup] : accessors.map((a) => groupValue(a, event));
  const group: Record<string, string> = {};
  fields.forEach((f, k) => {
    group[f] = values[k];
  });
  return { groupKey: single ? groupKeyOf(values) : lookup, group };
}

/**
 * Groups described per rule, and the characters of their lookups, before the cache starts again
 * empty; longer lookups are described per batch. Bounds what hostile records can make it hold.
 */
const MAX_DESCRIBED_GROUPS = 10_000;
const MAX_DESCRIBED_CHARS = 1_000_000;
const MAX_DESCRIBED_VALUE_CHARS = 1024;

/**
 * A rule's groups, described once per run rather than once per batch: the same principals match
 * batch after batch, and handing out the same key string lets later map lookups (alert suppression
 * keys) reuse its hash. Descriptions are shared by many batches' hits: frozen.
 */
export class GroupDescriptions {
  private readonly known = new Map<string, GroupDescription>();
  private knownChars = 0;

  constructor(
    private readonly fields: readonly string[],
    private readonly accessors: readonly FieldAccessor[],
  ) {}

  /** `lookup` is groupLookup's of these accessors for `event`. */
  of(lookup: string, event: AuditEvent): GroupDescription {
    if (lookup.length > MAX_DESCRIBED_VALUE_CHARS)
      return describeGroup(this.fields, this.accessors, lookup, event);
    let described = this.known.get(lookup);
    if (!described) {
      described = describeGroup(this.fields, this.accessors, lookup, event);
      Object.freeze(described.group);
      if (this.known.size >= MAX_DESCRIBED_GROUPS || this.knownChars >= MAX_DESCRIBED_CHARS) {
        this.known.clear();
        this.knownChars = 0;
      }
      this.known.set(lookup, described);
      this.knownChars += lookup.length;
    }
    return described;
  }
}

/** Whether `s` may hold what JSON.stringify escapes: a quote, a backslash, a control character, a (lone) surrogate. */
function needsJsonEscape(s: string): boolean {
  for (let k = 0; k < s.length; k++) {
    const c = s.charCodeAt(k);
    if (c < 0x20 || c === 0x22 || c === 0x5c || (c >= 0xd800 && c <= 0xdfff)) return true;
  }
  return false;
}

/**
 * JSON.stringify(values) for a list of strings (a hit's groupKey): strings with nothing to escape are
 * quoted directly, a few times faster than the generic serialiser on the tens of thousands of groups
 * a replay makes.
 */
export function groupKeyOf(values: readonly string[]): string {
  let out = "[";
  for (let k = 0; k < values.length; k++) {
    const v = values[k];
    if (k) out += ",";
    out += needsJsonEscape(v) ? JSON.stringify(v) : `"${v}"`;
  }
  return `${out}]`;
}

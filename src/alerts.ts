/** Alerts: the feed a responder reads. Built from rule hits with dedup and suppression. */
import type { Actor } from "./event.ts";
import type { Level } from "./rules/types.ts";

export interface Alert {
  /** Deterministic from rule + group + suppression window start: a replay makes the same id. */
  id: string;
  ruleId: string;
  title: string;
  severity: Level;
  actor: Actor;
  /** The principal (ARN or name) the alert is about. */
  principal: string;
  account: string;
  region: string;
  firstSeen: string;
  lastSeen: string;
  count: number;
  /** Capped list of contributing event ids. */
  eventIds: string[];
  /** A few redacted, truncated records. */
  sample: Record<string, unknown>[];
  description?: string;
  runbook?: string;
  /** new: first match in its suppression window (publish); updated: a later match raised the count. */
  status: "new" | "updated";
}

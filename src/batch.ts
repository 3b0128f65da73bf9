/** Contracts at the pipeline's seams: what a batch produces, what detectors and sinks implement. */
import type { Alert } from "./alerts.ts";
import type { ActorKind, AuditEvent, MalformedRecord } from "./event.ts";
import type { RuleHit } from "./rules/types.ts";
import type { Store } from "./state/store.ts";

export interface BatchStats {
  /** Records found in the input (valid or not). */
  records: number;
  malformed: number;
  /** Events dropped because their eventID was already processed (in this batch or an earlier one). */
  duplicates: number;
  /** Skipped on purpose: CloudTrail Insights records, digest content. */
  skipped: number;
  /** Distinct new events attributed in this batch. */
  events: number;
  /** Earlier events whose session became known in this batch and were attributed again. */
  reattributed: number;
  /** Events still waiting for their session's issuing STS call. */
  parked: number;
  byKind: Record<ActorKind, number>;
}

export interface BatchResult {
  source: string;
  stats: BatchStats;
  /** New events of this batch, attributed and enriched. */
  events: AuditEvent[];
  /** Events from earlier batches whose verdict was recomputed now that their session is known. */
  reattributed: AuditEvent[];
  /** Those re-attributed events whose actor kind changed, with the kind they were counted under before. */
  kindChanges: KindChange[];
  /**
   * Those of `events` and `reattributed` still waiting for their session's issuing call: a later
   * batch may re-attribute them. The verdict of every other event is final.
   */
  waiting: AuditEvent[];
  hits: RuleHit[];
  /** New alerts and alerts whose count went up. */
  alerts: Alert[];
  malformed: MalformedRecord[];
  processedAt: Date;
}

/** Runs detection over a batch's events (new and re-attributed); state lives in the store. */
export interface Detector {
  /**
   * @param batchKeys the eventKey of each of the batch's own events: what names the batch's window
   *   writes, so that a retry adds them once. Events detected again because their actor kind changed
   *   are not the batch's own: a retry may no longer revive them. Defaults to the keys of `events`.
   */
  detect(events: AuditEvent[], store: Store, batchKeys?: readonly string[]): Promise<RuleHit[]>;
}

/** A re-attributed event whose actor kind changed, with `from` the kind it was parked (and counted) under. */
export interface KindChange {
  event: AuditEvent;
  from: ActorKind;
}

/** Where a processed batch goes: CloudWatch, SNS, terminal, files. Called once per batch, after processing. */
export interface Sink {
  publish(result: BatchResult): Promise<void>;
  /** Called once at the end of a run (CLI) to flush files. */
  close?(): Promise<void>;
}

/**
 * Derived facts rules can match on, keyed by their rule field names (`time.offHours`,
 * `action.destructive`, …); the exact semantics of each fact are documented in rules/README.md
 * ("Derived fields"). Lookup tables are built at module load, the business-hours calendar once per
 * config. Facts are computed when read (the costly groups once, then kept; a few cheap ones on each
 * read): most events are read by no rule that needs them, so enriching a batch costs one small object
 * per event.
 */
import type { Config } from "./config.ts";
import { type BusinessCalendar, calendarFor, type TimeFacts } from "./enrich/calendar.ts";
import { type DestructiveKind, destructiveKind } from "./enrich/destructive.ts";
import { collectAttachments, type SelfModification, selfModification } from "./enrich/iam.ts";
import { loggingReduced, securityServiceDisabled } from "./enrich/tampering.ts";
import { actionTarget } from "./enrich/target.ts";
import type { AuditEvent } from "./event.ts";

/** Names of the facts enrichEvents sets, as rules spell them (and in the order their JSON lists them). */
export const FACT_NAMES = [
  "time.offHours",
  "time.localHour",
  "time.weekday",
  "time.localDate",
  "action.destructive",
  "action.destructiveKind",
  "action.target",
  "iam.selfModification",
  "iam.target",
  "logging.reduced",
  "security.serviceDisabled",
  "security.service",
  "error.accessDenied",
] as const;

export type FactName = (typeof FACT_NAMES)[number];

/**
 * Error codes of calls refused for lack of permission (IAM, SCP, resource or VPC endpoint policy).
 * Matched as: starts with AccessDenied, ends with UnauthorizedOperation, or one of the exact codes.
 */
const ACCESS_DENIED_CODES = new Set(["UnauthorizedAccess", "AuthorizationError", "VpceAccessDenied"]);

export function isAccessDenied(code: string | undefined): boolean {
  if (!code) return false;
  return (
    code.startsWith("AccessDenied") || code.endsWith("UnauthorizedOperation") || ACCESS_DENIED_CODES.has(code)
  );
}

/** What the facts of every event of one enrichEvents call share. */
interface BatchContext {
  calendar: BusinessCalendar;
  /** Policy attachments seen in the batch (iam.selfModification of policy changes). */
  attachments: ReadonlySet<string>;
}

/** Marks a fact group not computed yet (undefined is a computed "does not apply"). */
const PENDING = null;

/**
 * One event's facts. Each fact is a getter on the prototype that computes its group (the time facts
 * from one calendar lookup, a kind and its boolean, …) on first read; an absent fact reads undefined,
 * as a missing key did. JSON.stringify gives the same object as when every fact was an own key:
 * the facts that apply, in FACT_NAMES order.
 */
class EventFacts {
  [name: string]: unknown;
  readonly #event: AuditEvent;
  readonly #context: BatchContext;
  #time: Readonly<TimeFacts> | undefined | typeof PENDING = PENDING;
  #destructive: DestructiveKind | undefined | typeof PENDING = PENDING;
  #target: string | undefined | typeof PENDING = PENDING;
  #iam: SelfModification | undefined | typeof PENDING = PENDING;
  #disabled: string | undefined | typeof PENDING = PENDING;
  #loggingOff: boolean | typeof PENDING = PENDING;

  constructor(event: AuditEvent, context: BatchContext) {
    this.#event = event;
    this.#context = context;
  }

  #timeFacts(): Readonly<TimeFacts> | undefined {
    if (this.#time === PENDING) this.#time = this.#context.calendar.facts(this.#event.time);
    return this.#time;
  }

  #destructiveKind(): DestructiveKind | undefined {
    if (this.#destructive === PENDING) {
      const e = this.#event;
      this.#destructive = destructiveKind(
        e.service,
        e.action,
        e.raw.requestParameters,
        e.time,
        () => this.#loggingReduced() || this.#disabledService() !== undefined,
      );
    }
    return this.#destructive;
  }

  #selfModification(): SelfModification | undefined {
    if (this.#iam === PENDING) this.#iam = selfModification(this.#event, this.#context.attachments);
    return this.#iam;
  }

  #loggingReduced(): boolean {
    if (this.#loggingOff === PENDING) {
      const e = this.#event;
      this.#loggingOff = loggingReduced(e.service, e.action, e.raw.requestParameters);
    }
    return this.#loggingOff;
  }

  #disabledService(): string | undefined {
    if (this.#disabled === PENDING) {
      const e = this.#event;
      this.#disabled = securityServiceDisabled(e.service, e.action, e.raw.requestParameters);
    }
    return this.#disabled;
  }

  get "time.offHours"(): boolean | undefined {
    return this.#timeFacts()?.offHours;
  }

  get "time.localHour"(): number | undefined {
    return this.#timeFacts()?.hour;
  }

  get "time.weekday"(): string | undefined {
    return this.#timeFacts()?.weekday;
  }

  get "time.localDate"(): string | undefined {
    return this.#timeFacts()?.date;
  }

  get "action.destructive"(): boolean {
    return this.#destructiveKind() !== undefined;
  }

  get "action.destructiveKind"(): DestructiveKind | undefined {
    return this.#destructiveKind();
  }

  get "action.target"(): string | undefined {
    if (this.#target === PENDING) {
      const e = this.#event;
      this.#target = actionTarget({
        service: e.service,
        region: e.region,
        params: e.raw.requestParameters,
        resources: e.resources,
      });
    }
    return this.#target;
  }

  get "iam.selfModification"(): boolean {
    return this.#selfModification()?.self === true;
  }

  get "iam.target"(): string | undefined {
    return this.#selfModification()?.target;
  }

  get "logging.reduced"(): boolean {
    return this.#loggingReduced();
  }

  get "security.serviceDisabled"(): boolean {
    return this.#disabledService() !== undefined;
  }

  get "security.service"(): string | undefined {
    return this.#disabledService();
  }

  get "error.accessDenied"(): boolean {
    return isAccessDenied(this.#event.error?.code);
  }

  /** The facts that apply, as plain data (what JSON.stringify writes). */
  toJSON(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const name of FACT_NAMES) {
      const value = this[name];
      if (value !== undefined) out[name] = value;
    }
    return out;
  }
}

/** Sets `event.facts` on every event (replacing earlier facts: re-attributed events are enriched again). */
export function enrichEvents(events: AuditEvent[], config: Config): void {
  if (events.length === 0) return;
  const context: BatchContext = { calendar: calendarFor(config), attachments: collectAttachments(events) };
  for (const event of events) event.facts = new EventFacts(event, context);
}

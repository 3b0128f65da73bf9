/**
 * The raw CloudTrail record, as tolerant as the wild requires (aws-formats.md §1): unknown fields
 * pass, optional fields may be null or absent, placeholders are not rejected. Only what every later
 * stage needs is required: eventTime, eventName, eventSource.
 */
import { z } from "zod";
import { isObject } from "../json-values.ts";

const optionalString = z.string().nullish();

const sessionIssuerSchema = z.looseObject({
  type: optionalString,
  arn: optionalString,
  userName: optionalString,
  accountId: optionalString,
  principalId: optionalString,
});

const userIdentitySchema = z.looseObject({
  type: optionalString,
  principalId: optionalString,
  arn: optionalString,
  accountId: optionalString,
  accessKeyId: optionalString,
  userName: optionalString,
  invokedBy: optionalString,
  sessionContext: z
    .looseObject({
      sessionIssuer: sessionIssuerSchema.nullish(),
      sourceIdentity: optionalString,
      attributes: z
        .looseObject({ creationDate: optionalString, mfaAuthenticated: z.unknown().optional() })
        .nullish(),
    })
    .nullish(),
});

export const cloudTrailRecordSchema = z.looseObject({
  eventVersion: optionalString,
  eventTime: z.string({ error: "missing eventTime" }),
  eventName: z.string({ error: "missing eventName" }).min(1, "empty eventName"),
  eventSource: z.string({ error: "missing eventSource" }).min(1, "empty eventSource"),
  eventID: optionalString,
  eventType: optionalString,
  eventCategory: optionalString,
  awsRegion: optionalString,
  recipientAccountId: optionalString,
  sourceIPAddress: optionalString,
  userAgent: optionalString,
  errorCode: optionalString,
  errorMessage: optionalString,
  readOnly: z.union([z.boolean(), z.string()]).nullish(),
  userIdentity: userIdentitySchema.nullish(),
  requestParameters: z.unknown().optional(),
  responseElements: z.unknown().optional(),
  /** Entries that are not objects (some exports stringify them) are ignored, not fatal. */
  resources: z.array(z.unknown()).nullish(),
});

export type CloudTrailRecord = z.infer<typeof cloudTrailRecordSchema>;

/**
 * eventTime in the formats seen in the wild: ISO-8601 `2023-07-10T11:45:00Z` (CloudTrail itself),
 * and data-lake renderings `2023-07-10 11:45:00`, with `.fff`/`.fffffffff` fractions, with or
 * without `Z` (no zone means UTC, as CloudTrail times always are).
 */
const EVENT_TIME =
  /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:?\d{2})?$/;

/** The number written by `length` ASCII digits at `from` (callers checked they are digits). */
function digitsAt(text: string, from: number, length: number): number {
  let n = 0;
  for (let i = from; i < from + length; i++) n = n * 10 + text.charCodeAt(i) - 48;
  return n;
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function daysInMonth(year: number, month: number): number {
  if (month !== 2) return DAYS_IN_MONTH[month - 1];
  return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
}

/** Where `2023-07-10T11:45:00Z` has digits (the rest are - - T : : Z). */
const CANONICAL_DIGITS = [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18];

/** CloudTrail's own form, `2023-07-10T11:45:00Z` (nearly every record): checked without a regex. */
function isCanonicalEventTime(text: string): boolean {
  if (
    text.length !== 20 ||
    text.charCodeAt(4) !== 45 || // -
    text.charCodeAt(7) !== 45 ||
    text.charCodeAt(10) !== 84 || // T
    text.charCodeAt(13) !== 58 || // :
    text.charCodeAt(16) !== 58 ||
    text.charCodeAt(19) !== 90 // Z
  )
    return false;
  for (let k = 0; k < CANONICAL_DIGITS.length; k++) {
    const c = text.charCodeAt(CANONICAL_DIGITS[k]);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

/**
 * The last canonical minute read (`2023-07-10T11:45:`) and its time: the records of a file fall in a
 * few minutes, so most times differ from the one before only in their seconds.
 */
let lastMinute = "";
let lastMinuteMs = 0;

export function parseEventTime(text: string): Date | undefined {
  if (isCanonicalEventTime(text)) {
    const second = digitsAt(text, 17, 2);
    if (second < 60 && lastMinute !== "" && text.startsWith(lastMinute))
      return new Date(lastMinuteMs + second * 1000);
    const year = digitsAt(text, 0, 4);
    const month = digitsAt(text, 5, 2);
    const day = digitsAt(text, 8, 2);
    const hour = digitsAt(text, 11, 2);
    const minute = digitsAt(text, 14, 2);
    const t = Date.UTC(year, month - 1, day, hour, minute, second);
    // Impossible dates that Date.UTC would roll over (2023-02-30) are rejected. In range, that is a
    // table lookup; out of range (and years Date.UTC reads as 19xx), the Date says whether it rolled.
    if (year >= 100 && hour < 24 && minute < 60 && second < 60 && month >= 1 && month <= 12) {
      if (day < 1 || day > daysInMonth(year, month)) return undefined;
      lastMinute = text.slice(0, 17);
      lastMinuteMs = t - second * 1000;
      return new Date(t);
    }
    const d = new Date(t);
    return d.getUTCDate() !== day ? undefined : d;
  }
  const m = EVENT_TIME.exec(text);
  if (!m) return undefined;
  const ms = m[7] ? Number(m[7].slice(0, 3).padEnd(3, "0")) : 0;
  let t = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6], ms);
  const zone = m[8];
  if (zone && zone !== "Z") {
    const sign = zone[0] === "-" ? -1 : 1;
    const digits = zone.slice(1).replace(":", "");
    t -= sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2))) * 60_000;
  }
  const d = new Date(t);
  // Reject impossible dates that Date.UTC would roll over (2023-02-30).
  return Number.isNaN(t) || d.getUTCDate() !== +m[3] ? undefined : d;
}

/**
 * sessionContext.attributes.creationDate: the doc's ISO basic form `20131102T010628Z` and the
 * extended form real records use.
 */
export function parseCreationDate(text: string): Date | undefined {
  const basic = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(text);
  if (basic) return new Date(Date.UTC(+basic[1], +basic[2] - 1, +basic[3], +basic[4], +basic[5], +basic[6]));
  return parseEventTime(text);
}

const MONTHS: Record<string, number> = {
  jan: 0,
  feb: 1,
  mar: 2,
  apr: 3,
  may: 4,
  jun: 5,
  jul: 6,
  aug: 7,
  sep: 8,
  oct: 9,
  nov: 10,
  dec: 11,
};

/**
 * responseElements.credentials.expiration is not ISO: `Nov 30, 2024, 8:43:17 PM` and
 * `Jan 22, 2021 12:46:28 AM` (the comma after the year varies). UTC. ISO strings and epoch
 * numbers (SDK renderings) are accepted too.
 */
export function parseExpiration(value: unknown): Date | undefined {
  if (typeof value === "number" && Number.isFinite(value))
    return new Date(value < 1e11 ? value * 1000 : value);
  if (typeof value !== "string") return undefined;
  const m = /^([A-Za-z]{3})[a-z]*\.? (\d{1,2}), (\d{4}),? (\d{1,2}):(\d{2}):(\d{2})\s*([AP]M)$/i.exec(
    value.trim(),
  );
  if (m) {
    const month = MONTHS[m[1].toLowerCase()];
    if (month === undefined) return undefined;
    let hour = Number(m[4]) % 12;
    if (m[7].toUpperCase() === "PM") hour += 12;
    return new Date(Date.UTC(+m[3], month, +m[2], hour, +m[5], +m[6]));
  }
  return parseEventTime(value);
}

/**
 * The same acceptance as cloudTrailRecordSchema, without building a copy of the record: the hot
 * path checks with this and asks zod only for the reason when it fails (a test pins that both
 * agree on every corpus record).
 */
export function isCloudTrailRecord(r: Record<string, unknown>): boolean {
  if (typeof r.eventTime !== "string" || typeof r.eventName !== "string" || typeof r.eventSource !== "string")
    return false;
  if (r.eventName === "" || r.eventSource === "") return false;
  // Fields read by name, not from a list of names: the hot path of every record.
  if (
    !isOptionalString(r.eventVersion) ||
    !isOptionalString(r.eventID) ||
    !isOptionalString(r.eventType) ||
    !isOptionalString(r.eventCategory) ||
    !isOptionalString(r.awsRegion) ||
    !isOptionalString(r.recipientAccountId) ||
    !isOptionalString(r.sourceIPAddress) ||
    !isOptionalString(r.userAgent) ||
    !isOptionalString(r.errorCode) ||
    !isOptionalString(r.errorMessage)
  )
    return false;
  const ro = r.readOnly;
  if (ro !== undefined && ro !== null && typeof ro !== "boolean" && typeof ro !== "string") return false;
  const ui = r.userIdentity;
  if (ui !== undefined && ui !== null) {
    if (!isObject(ui)) return false;
    if (
      !isOptionalString(ui.type) ||
      !isOptionalString(ui.principalId) ||
      !isOptionalString(ui.arn) ||
      !isOptionalString(ui.accountId) ||
      !isOptionalString(ui.accessKeyId) ||
      !isOptionalString(ui.userName) ||
      !isOptionalString(ui.invokedBy)
    )
      return false;
    const ctx = ui.sessionContext;
    if (ctx !== undefined && ctx !== null) {
      if (!isObject(ctx) || !isOptionalString(ctx.sourceIdentity)) return false;
      const issuer = ctx.sessionIssuer;
      if (issuer !== undefined && issuer !== null) {
        if (!isObject(issuer)) return false;
        if (
          !isOptionalString(issuer.type) ||
          !isOptionalString(issuer.arn) ||
          !isOptionalString(issuer.userName) ||
          !isOptionalString(issuer.accountId) ||
          !isOptionalString(issuer.principalId)
        )
          return false;
      }
      const attrs = ctx.attributes;
      if (
        attrs !== undefined &&
        attrs !== null &&
        (!isObject(attrs) || !isOptionalString(attrs.creationDate))
      )
        return false;
    }
  }
  const resources = r.resources;
  if (resources !== undefined && resources !== null) {
    if (!Array.isArray(resources)) return false;
  }
  return true;
}

function isOptionalString(v: unknown): boolean {
  return v === undefined || v === null || typeof v === "string";
}

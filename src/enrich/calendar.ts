/**
 * Business-hours calendar: local hour, weekday and off-hours verdict of an instant in the configured
 * time zone. Intl formatting is slow, so local wall-clock parts are cached per 15-minute UTC slot
 * (every real UTC offset is a multiple of 15 minutes, so a slot never straddles a local-time change),
 * and the resulting facts per minute, so an event costs one Map lookup.
 */
import type { Config } from "../config.ts";

export type Weekday = "mon" | "tue" | "wed" | "thu" | "fri" | "sat" | "sun";

export interface LocalTime {
  /** Local calendar date, YYYY-MM-DD. */
  date: string;
  weekday: Weekday;
  /** 0–23 */
  hour: number;
  /** Minutes since local midnight, 0–1439. */
  minuteOfDay: number;
}

export interface TimeFacts extends LocalTime {
  offHours: boolean;
}

const SLOT_MS = 15 * 60_000;
const MAX_CACHED_SLOTS = 20_000;
const MAX_CACHED_MINUTES = 50_000;
const WEEKDAYS: Record<string, Weekday> = {
  Mon: "mon",
  Tue: "tue",
  Wed: "wed",
  Thu: "thu",
  Fri: "fri",
  Sat: "sat",
  Sun: "sun",
};

type BusinessHours = Config["businessHours"];

export class BusinessCalendar {
  private readonly format: Intl.DateTimeFormat;
  private readonly days: ReadonlySet<string>;
  private readonly holidays: ReadonlySet<string>;
  private readonly start: number;
  private readonly end: number;
  /** slot number → local parts at the slot's start */
  private readonly slots = new Map<number, LocalTime>();
  /** minute number (epoch minutes) → facts of that minute, shared by every event in it */
  private readonly minutes = new Map<number, Readonly<TimeFacts>>();

  constructor(hours: BusinessHours) {
    this.format = new Intl.DateTimeFormat("en-US", {
      timeZone: hours.timeZone,
      hourCycle: "h23",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      weekday: "short",
      hour: "2-digit",
      minute: "2-digit",
    });
    this.days = new Set(hours.days);
    this.holidays = new Set(hours.holidays);
    this.start = minutesOf(hours.start);
    this.end = minutesOf(hours.end);
  }

  /** Local wall-clock parts of an instant; undefined for an invalid date. */
  local(time: Date): LocalTime | undefined {
    const ms = time.getTime();
    if (Number.isNaN(ms)) return undefined;
    const slot = Math.floor(ms / SLOT_MS);
    let base = this.slots.get(slot);
    if (!base) {
      if (this.slots.size >= MAX_CACHED_SLOTS) this.slots.clear();
      base = this.partsOf(new Date(slot * SLOT_MS));
      this.slots.set(slot, base);
    }
    const extra = Math.floor((ms - slot * SLOT_MS) / 60_000);
    if (extra === 0) return base;
    const minuteOfDay = base.minuteOfDay + extra;
    return { date: base.date, weekday: base.weekday, hour: Math.floor(minuteOfDay / 60), minuteOfDay };
  }

  /**
   * Off-hours: on a day not in `days`, on a holiday, or outside [start, end). A window whose end is
   * not after its start (22:00–06:00) runs overnight: a business day's hours are from `start` to
   * midnight plus midnight to `end` of that same calendar day.
   * The result is shared by all instants of the same minute: treat it as read-only.
   */
  facts(time: Date): Readonly<TimeFacts> | undefined {
    const ms = time.getTime();
    if (Number.isNaN(ms)) return undefined;
    const minute = Math.floor(ms / 60_000);
    let facts = this.minutes.get(minute);
    if (!facts) {
      const local = this.local(time) as LocalTime;
      facts = { ...local, offHours: !this.inHours(local) };
      if (this.minutes.size >= MAX_CACHED_MINUTES) this.minutes.clear();
      this.minutes.set(minute, facts);
    }
    return facts;
  }

  private inHours(local: LocalTime): boolean {
    if (!this.days.has(local.weekday) || this.holidays.has(local.date)) return false;
    if (this.start < this.end) return local.minuteOfDay >= this.start && local.minuteOfDay < this.end;
    return local.minuteOfDay >= this.start || local.minuteOfDay < this.end;
  }

  private partsOf(instant: Date): LocalTime {
    let year = "";
    let month = "";
    let day = "";
    let weekday: Weekday = "mon";
    let hour = 0;
    let minute = 0;
    for (const part of this.format.formatToParts(instant)) {
      switch (part.type) {
        case "year":
          year = part.value;
          break;
        case "month":
          month = part.value;
          break;
        case "day":
          day = part.value;
          break;
        case "weekday":
          weekday = WEEKDAYS[part.value] ?? "mon";
          break;
        case "hour":
          hour = Number(part.value) % 24;
          break;
        case "minute":
          minute = Number(part.value);
          break;
      }
    }
    return { date: `${year}-${month}-${day}`, weekday, hour, minuteOfDay: hour * 60 + minute };
  }
}

function minutesOf(hhmm: string): number {
  const [h, m] = hhmm.split(":");
  return Number(h) * 60 + Number(m);
}

const calendars = new WeakMap<BusinessHours, BusinessCalendar>();

/** One calendar per businessHours object, so its cache survives across batches of one config. */
export function calendarFor(config: Config): BusinessCalendar {
  let calendar = calendars.get(config.businessHours);
  if (!calendar) {
    calendar = new BusinessCalendar(config.businessHours);
    calendars.set(config.businessHours, calendar);
  }
  return calendar;
}

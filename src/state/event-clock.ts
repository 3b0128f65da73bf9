/**
 * The store clock of a replay: the latest event time seen so far. TTLs (sessions, parked events,
 * correlation windows, suppression) then follow the data, so a replay that takes an hour of wall
 * time over a month of logs expires nothing early and keeps nothing forever. The Lambda uses the
 * wall clock: its events are minutes old.
 */
export class EventTimeClock {
  private latest = 0;

  readonly now = (): number => this.latest;

  /** Moves the clock on to the latest time of a batch's events (never back). */
  observeEvents(events: readonly { time: Date }[]): void {
    for (let i = 0; i < events.length; i++) {
      const t = events[i].time.getTime();
      if (t > this.latest) this.latest = t;
    }
  }
}

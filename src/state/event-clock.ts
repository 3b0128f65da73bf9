/**
 * The store clock of a replay: the latest event time seen so far. TTLs (sessions, parked events,
 * correlation windows, suppression) then follow the data, so a replay that takes an hour of wall
 * time over a month of logs expires nothing early and keeps nothing forever. The Lambda uses the
 * wall clock: its events are minutes old.
 */
export class EventTimeClock {
  private latest = 0;

  readonly now = (): number => this.latest;

  observe(eventTimeMs: number): void {
    if (eventTimeMs > this.latest) this.latest = eventTimeMs;
  }

  /** Observes the time of each event of a batch. */
  observeEvents(events: readonly { time: Date }[]): void {
    for (let i = 0; i < events.length; i++) this.observe(events[i].time.getTime());
  }
}

import { EventTimeClock } from "./event-clock.ts";
import { SeenMarkers } from "./seen-markers.ts";
import {
  inMinuteOrder,
  MAX_BUCKET_BATCH_IDS,
  MAX_BUCKET_VALUES,
  type ParkedEvent,
  type SessionRecord,
  type Store,
  type WindowBucket,
  type WindowIncrement,
} from "./store.ts";

interface Expiring<T> {
  value: T;
  expiresAt: number;
}

/** A window bucket as stored: with the batches that added to it (see addToWindows). */
interface StoredBucket extends Expiring<WindowBucket> {
  batchIds: string[];
}

/**
 * In-memory Store for replay and tests. `clock` lets tests move time. Sessions, parked events and
 * items are kept as given and handed out as stored (no copy: a replay parks many records and reads
 * many alert states, and copying each dominated its cost); callers must treat what they read as
 * read-only, as the pipeline does (alert planning copies the suppression state it changes).
 */
export class MemoryStore implements Store {
  private readonly sessions = new Map<string, Map<string, Expiring<SessionRecord>>>();
  private readonly parkedByKey = new Map<string, Map<string, Expiring<ParkedEvent>>>();
  private readonly seenMarkers = new SeenMarkers();
  private readonly windows = new Map<string, Map<number, StoredBucket>>();
  private readonly items = new Map<string, Expiring<unknown>>();

  constructor(private readonly clock: () => number = Date.now) {}

  now(): number {
    return this.clock();
  }

  private live<T>(e: Expiring<T> | undefined): e is Expiring<T> {
    return e !== undefined && e.expiresAt > this.now();
  }

  async putSessions(records: SessionRecord[], ttlSeconds: number): Promise<void> {
    const expiresAt = this.now() + ttlSeconds * 1000;
    for (const r of records) putNested(this.sessions, r.key, r.issuedBy, { value: r, expiresAt });
  }

  async getSessions(keys: string[]): Promise<Map<string, SessionRecord[]>> {
    return this.liveNested(this.sessions, keys);
  }

  async park(events: ParkedEvent[], ttlSeconds: number): Promise<void> {
    const expiresAt = this.now() + ttlSeconds * 1000;
    for (const e of events) putNested(this.parkedByKey, e.waitingFor, e.eventId, { value: e, expiresAt });
  }

  async parked(keys: string[]): Promise<Map<string, ParkedEvent[]>> {
    return this.liveNested(this.parkedByKey, keys);
  }

  /** Per distinct key, the live values stored under it (keys with none are left out). */
  private liveNested<T>(map: Map<string, Map<string, Expiring<T>>>, keys: string[]): Map<string, T[]> {
    const out = new Map<string, T[]>();
    const now = this.now();
    for (const key of new Set(keys)) {
      const stored = map.get(key);
      if (!stored) continue;
      // Every batch asks for its sessions: one loop, no intermediate lists.
      let found: T[] | undefined;
      for (const e of stored.values()) {
        if (e.expiresAt <= now) continue;
        found ??= [];
        found.push(e.value);
      }
      if (found) out.set(key, found);
    }
    return out;
  }

  async unpark(entries: { waitingFor: string; eventId: string }[]): Promise<void> {
    for (const { waitingFor, eventId } of entries) {
      const m = this.parkedByKey.get(waitingFor);
      m?.delete(eventId);
      if (m && m.size === 0) this.parkedByKey.delete(waitingFor);
    }
  }

  async seen(keys: string[]): Promise<Set<string>> {
    const now = this.now();
    const out = new Set<string>();
    const expiries = this.seenMarkers.getAll(keys);
    for (let i = 0; i < keys.length; i++) {
      const exp = expiries[i];
      if (exp !== undefined && exp > now) out.add(keys[i]);
    }
    return out;
  }

  async markSeen(keys: string[], ttlSeconds: number): Promise<void> {
    this.seenMarkers.setAll(keys, this.now() + ttlSeconds * 1000);
  }

  /**
   * A changed bucket is a new object: buckets readWindows handed out stay as they were read. A batch's
   * id stays with each bucket it added to for the bucket's life (up to MAX_BUCKET_BATCH_IDS ids a
   * bucket; see there), so a repeated call adds nothing there.
   */
  async addToWindows(increments: WindowIncrement[], ttlSeconds: number, batchId: string): Promise<void> {
    const now = this.now();
    const expiresAt = now + ttlSeconds * 1000;
    // Buckets this call adds to: one call may hold several increments of a bucket.
    const addingTo = new Set<StoredBucket>();
    for (const inc of increments) {
      let buckets = this.windows.get(inc.key);
      if (!buckets) {
        buckets = new Map();
        this.windows.set(inc.key, buckets);
      }
      const cur = buckets.get(inc.minute);
      if (cur !== undefined && cur.expiresAt > now) {
        if (!addingTo.has(cur)) {
          if (cur.batchIds.includes(batchId)) continue;
          if (cur.batchIds.length < MAX_BUCKET_BATCH_IDS) cur.batchIds.push(batchId);
          addingTo.add(cur);
        }
        const old = cur.value;
        cur.value = {
          minute: old.minute,
          count: old.count + inc.count,
          values: withValues(old.values, inc.values),
        };
        if (expiresAt > cur.expiresAt) cur.expiresAt = expiresAt;
      } else {
        const bucket = { minute: inc.minute, count: inc.count, values: withValues([], inc.values) };
        const stored = {
          value: bucket,
          expiresAt: Math.max(expiresAt, cur?.expiresAt ?? 0),
          batchIds: [batchId],
        };
        buckets.set(inc.minute, stored);
        addingTo.add(stored);
      }
    }
  }

  /** Buckets are handed out as stored (read-only, see addToWindows): most are only counted. */
  async readWindows(
    keys: string[],
    fromMinute: number,
    toMinute: number,
  ): Promise<Map<string, WindowBucket[]>> {
    const now = this.now();
    const out = new Map<string, WindowBucket[]>();
    for (const key of new Set(keys)) {
      const buckets = this.windows.get(key);
      if (!buckets) continue;
      const found: WindowBucket[] = [];
      // Windows span minutes, a key holds few buckets: walk whichever is smaller, drop expired ones.
      if (toMinute - fromMinute < buckets.size) {
        for (let minute = fromMinute; minute <= toMinute; minute++) {
          const e = buckets.get(minute);
          if (e && e.expiresAt > now) found.push(e.value);
        }
      } else {
        // values(), not entries(): no [minute, entry] pair per bucket (a bucket knows its minute)
        for (const e of buckets.values()) {
          const { minute } = e.value;
          if (e.expiresAt <= now) buckets.delete(minute);
          else if (minute >= fromMinute && minute <= toMinute) found.push(e.value);
        }
        inMinuteOrder(found);
      }
      if (found.length) out.set(key, found);
    }
    return out;
  }

  async getItems<T>(keys: string[]): Promise<Map<string, T>> {
    const out = new Map<string, T>();
    for (const key of new Set(keys)) {
      const e = this.items.get(key);
      if (this.live(e)) out.set(key, e.value as T);
    }
    return out;
  }

  async putItems<T>(items: { key: string; value: T }[], ttlSeconds: number): Promise<void> {
    const expiresAt = this.now() + ttlSeconds * 1000;
    // Written values are owned by the store from here (callers build them for the write).
    for (const { key, value } of items) this.items.set(key, { value, expiresAt });
  }
}

/** `values` plus the added ones it lacks, up to MAX_BUCKET_VALUES; `values` itself when none are added. */
function withValues(values: string[], added: readonly string[] | undefined): string[] {
  if (!added) return values;
  let out = values;
  for (const v of added) {
    if (out.length >= MAX_BUCKET_VALUES) break;
    if (out.includes(v)) continue;
    if (out === values) out = [...values];
    out.push(v);
  }
  return out;
}

/** Stores `value` under `outer`, then `inner` (sessions by key and issuing event, parked events by key and id). */
function putNested<T>(
  map: Map<string, Map<string, Expiring<T>>>,
  outer: string,
  inner: string,
  value: Expiring<T>,
): void {
  let byInner = map.get(outer);
  if (!byInner) {
    byInner = new Map();
    map.set(outer, byInner);
  }
  byInner.set(inner, value);
}

/**
 * The state of an offline run (replay, lookup, rule fixtures): a MemoryStore on an event-time clock,
 * which the pipeline advances with each batch (see EventTimeClock).
 */
export function replayState(): { store: MemoryStore; eventClock: EventTimeClock } {
  const eventClock = new EventTimeClock();
  return { store: new MemoryStore(eventClock.now), eventClock };
}

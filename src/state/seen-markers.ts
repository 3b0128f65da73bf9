/**
 * The memory store's seen markers (the pipeline's event-id dedup): an open-addressing
 * table of 64-bit key hashes and expiry times in typed arrays. A replay marks every event it reads;
 * holding each key string in a Map kept them all alive and cost most of a Map insert each, where a
 * hashed slot costs 16 bytes and no object.
 *
 * Exactness: two different keys are confused only if both 32-bit lanes of their hash agree, about
 * n²/2⁶⁵ for n keys (≈ 3·10⁻⁶ for ten million markers); a confusion can only make a key look seen.
 */

/** Two 32-bit lanes of a cyrb53-style hash of a string (UTF-16 code units, two a step), each fully mixed. */
function hashLanes(key: string, out: Int32Array): void {
  let h1 = 0xdeadbeef ^ key.length;
  let h2 = 0x41c6ce57 ^ key.length;
  // Two UTF-16 code units a step: half the multiplications, every bit of both still mixed in.
  const pairs = key.length - (key.length & 1);
  for (let i = 0; i < pairs; i += 2) {
    const c = key.charCodeAt(i) | (key.charCodeAt(i + 1) << 16);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  if (pairs < key.length) {
    const c = key.charCodeAt(pairs);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507);
  h1 ^= Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507);
  h2 ^= Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  out[0] = h1;
  out[1] = h2;
}

const INITIAL_SLOTS = 1 << 16;
/**
 * Int32 words per slot: [expiry high word + 1 (0 = empty), hash lane 1, hash lane 2, expiry low word].
 * One slot's words share a cache line: a probe of a large table costs one miss, not one per array.
 */
const WORDS = 4;
const TWO_32 = 2 ** 32;

export class SeenMarkers {
  private slots = new Int32Array(INITIAL_SLOTS * WORDS);
  private capacity = INITIAL_SLOTS;
  private count = 0;
  private readonly lanes = new Int32Array(2);
  /** Writes so far: a getAll's remembered slots are used only if none happened since. */
  private writes = 0;
  /** The last getAll: its keys, and per key its slot and hash lanes. */
  private lastLookup: { keys: readonly string[]; found: Int32Array; writes: number } | undefined;

  /** Expiry (epoch ms) of a key's marker, or undefined if it has none. */
  get(key: string): number | undefined {
    const at = this.find(key) * WORDS;
    const high = this.slots[at];
    return high === 0 ? undefined : (high - 1) * TWO_32 + (this.slots[at + 3] >>> 0);
  }

  set(key: string, expiresAt: number): void {
    this.writes++;
    this.claim(this.find(key), this.lanes[0], this.lanes[1], expiresAt);
  }

  /**
   * Expiries of many keys (undefined: no marker). The pipeline asks this of a batch's keys and,
   * after publishing, marks the same list seen with setAll: the slots found here are remembered so
   * that setAll neither hashes nor probes again when nothing was written in between.
   */
  getAll(keys: readonly string[]): (number | undefined)[] {
    const out = new Array<number | undefined>(keys.length);
    const found = new Int32Array(keys.length * 3);
    for (let i = 0; i < keys.length; i++) {
      const slot = this.find(keys[i]);
      found[i * 3] = slot;
      found[i * 3 + 1] = this.lanes[0];
      found[i * 3 + 2] = this.lanes[1];
      const at = slot * WORDS;
      const high = this.slots[at];
      out[i] = high === 0 ? undefined : (high - 1) * TWO_32 + (this.slots[at + 3] >>> 0);
    }
    this.lastLookup = { keys, found, writes: this.writes };
    return out;
  }

  /** Sets every key's expiry (see getAll). */
  setAll(keys: readonly string[], expiresAt: number): void {
    const last = this.lastLookup;
    this.lastLookup = undefined;
    if (!last || last.keys !== keys || last.writes !== this.writes) {
      for (const key of keys) this.set(key, expiresAt);
      return;
    }
    this.writes++;
    const capacity = this.capacity;
    for (let i = 0; i < keys.length; i++) {
      const a = last.found[i * 3 + 1];
      const b = last.found[i * 3 + 2];
      let slot: number = last.found[i * 3];
      const at = slot * WORDS;
      // A remembered slot is still right unless the table grew, or an earlier key of this list took
      // the empty slot this one was to go in (then it probes again, from its hash).
      if (
        this.capacity !== capacity ||
        (this.slots[at] !== 0 && (this.slots[at + 1] !== a || this.slots[at + 2] !== b))
      )
        slot = this.findLanes(a, b);
      this.claim(slot, a, b, expiresAt);
    }
  }

  /** Writes a key's hash (into an empty slot) and expiry at `slot`. */
  private claim(slot: number, a: number, b: number, expiresAt: number): void {
    const at = slot * WORDS;
    if (this.slots[at] === 0) {
      this.slots[at + 1] = a;
      this.slots[at + 2] = b;
      this.count++;
    }
    writeExpiry(this.slots, at, expiresAt);
    // Kept at most half full so probe runs stay short.
    if (this.count * 2 > this.capacity) this.grow();
  }

  /** The key's slot, or the empty slot where it would go; leaves its hash in `lanes`. */
  private find(key: string): number {
    hashLanes(key, this.lanes);
    return this.findLanes(this.lanes[0], this.lanes[1]);
  }

  private findLanes(a: number, b: number): number {
    const mask = this.capacity - 1;
    const slots = this.slots;
    let slot = (a ^ Math.imul(b, 0x9e3779b1)) & mask;
    for (;;) {
      const at = slot * WORDS;
      if (slots[at] === 0 || (slots[at + 1] === a && slots[at + 2] === b)) return slot;
      slot = (slot + 1) & mask;
    }
  }

  private grow(): void {
    const old = this.slots;
    const capacity = this.capacity * 2;
    const slots = new Int32Array(capacity * WORDS);
    const mask = capacity - 1;
    for (let from = 0; from < old.length; from += WORDS) {
      if (old[from] === 0) continue;
      const a = old[from + 1];
      const b = old[from + 2];
      let slot = (a ^ Math.imul(b, 0x9e3779b1)) & mask;
      while (slots[slot * WORDS] !== 0) slot = (slot + 1) & mask;
      // Word by word: a subarray per slot cost more than the copy.
      const to = slot * WORDS;
      for (let w = 0; w < WORDS; w++) slots[to + w] = old[from + w];
    }
    this.slots = slots;
    this.capacity = capacity;
  }
}

/** Epoch ms (a non-negative integer below 2⁵³) as two 32-bit words; the high one + 1 marks the slot used. */
function writeExpiry(slots: Int32Array, at: number, expiresAt: number): void {
  const ms = Math.max(0, Math.floor(expiresAt));
  slots[at] = Math.floor(ms / TWO_32) + 1;
  slots[at + 3] = (ms % TWO_32) | 0;
}

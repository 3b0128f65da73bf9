/**
 * The memory store's seen markers (event ids, processed files, alert suppression): an open-addressing
 * table of 64-bit key hashes and expiry times in typed arrays. A replay marks every event it reads;
 * holding each key string in a Map kept them all alive and cost most of a Map insert each, where a
 * hashed slot costs 16 bytes and no object.
 *
 * Exactness: two different keys are confused only if both 32-bit lanes of their hash agree, about
 * n²/2⁶⁵ for n keys (≈ 3·10⁻⁶ for ten million markers); a confusion can only make a key look seen.
 */

/** Two 32-bit lanes of a cyrb53-style hash of a string (UTF-16 code units), each fully mixed. */
function hashLanes(key: string, out: Int32Array): void {
  let h1 = 0xdeadbeef ^ key.length;
  let h2 = 0x41c6ce57 ^ key.length;
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
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

const INITIAL_SLOTS = 1 << 12;
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

  /** Expiry (epoch ms) of a key's marker, or undefined if it has none. */
  get(key: string): number | undefined {
    const at = this.find(key) * WORDS;
    const high = this.slots[at];
    return high === 0 ? undefined : (high - 1) * TWO_32 + (this.slots[at + 3] >>> 0);
  }

  set(key: string, expiresAt: number): void {
    const at = this.find(key) * WORDS;
    if (this.slots[at] === 0) {
      this.slots[at + 1] = this.lanes[0];
      this.slots[at + 2] = this.lanes[1];
      this.count++;
    }
    writeExpiry(this.slots, at, expiresAt);
    // Kept at most half full so probe runs stay short.
    if (this.count * 2 > this.capacity) this.grow();
  }

  /** The key's slot, or the empty slot where it would go; leaves its hash in `lanes`. */
  private find(key: string): number {
    hashLanes(key, this.lanes);
    const a = this.lanes[0];
    const b = this.lanes[1];
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
      slots.set(old.subarray(from, from + WORDS), slot * WORDS);
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

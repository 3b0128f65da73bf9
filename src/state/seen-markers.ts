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

export class SeenMarkers {
  private lane1 = new Int32Array(INITIAL_SLOTS);
  private lane2 = new Int32Array(INITIAL_SLOTS);
  private expires = new Float64Array(INITIAL_SLOTS);
  private used = new Uint8Array(INITIAL_SLOTS);
  private count = 0;
  private readonly lanes = new Int32Array(2);

  /** Expiry (epoch ms) of a key's marker, or undefined if it has none. */
  get(key: string): number | undefined {
    const slot = this.find(key);
    return this.used[slot] ? this.expires[slot] : undefined;
  }

  set(key: string, expiresAt: number): void {
    const slot = this.find(key);
    if (!this.used[slot]) {
      this.used[slot] = 1;
      this.lane1[slot] = this.lanes[0];
      this.lane2[slot] = this.lanes[1];
      this.count++;
    }
    this.expires[slot] = expiresAt;
    // Kept at most half full so probe runs stay short.
    if (this.count * 2 > this.used.length) this.grow();
  }

  /** The key's slot, or the empty slot where it would go; leaves its hash in `lanes`. */
  private find(key: string): number {
    hashLanes(key, this.lanes);
    const a = this.lanes[0];
    const b = this.lanes[1];
    const mask = this.used.length - 1;
    let slot = (a ^ Math.imul(b, 0x9e3779b1)) & mask;
    while (this.used[slot] && (this.lane1[slot] !== a || this.lane2[slot] !== b)) slot = (slot + 1) & mask;
    return slot;
  }

  private grow(): void {
    const { lane1, lane2, expires, used } = this;
    const size = used.length * 2;
    this.lane1 = new Int32Array(size);
    this.lane2 = new Int32Array(size);
    this.expires = new Float64Array(size);
    this.used = new Uint8Array(size);
    const mask = size - 1;
    for (let i = 0; i < used.length; i++) {
      if (!used[i]) continue;
      const a = lane1[i];
      const b = lane2[i];
      let slot = (a ^ Math.imul(b, 0x9e3779b1)) & mask;
      while (this.used[slot]) slot = (slot + 1) & mask;
      this.used[slot] = 1;
      this.lane1[slot] = a;
      this.lane2[slot] = b;
      this.expires[slot] = expires[i];
    }
  }
}

/**
 * A cache keyed by strings that arrive as fresh copies: JSON.parse makes a new string for every
 * record, and a Map hashes each one in full (for a 150-character user agent, several times the
 * cost of comparing it with the few known ones). Keys are grouped by length and compared by
 * content; past a few keys of one length (hostile input), a Map holds the rest.
 */

/** Keys of one length compared one by one; beyond this they go to the Map. */
const MAX_SCANNED_PER_LENGTH = 8;

export class FreshStringCache<V> {
  private readonly byLength = new Map<number, { keys: string[]; values: V[] }>();
  private readonly overflow = new Map<string, V>();
  private count = 0;

  /** @param maxSize entries kept before the cache starts again empty (bounds memory on odd input). */
  constructor(private readonly maxSize: number) {}

  get(key: string): V | undefined {
    const same = this.byLength.get(key.length);
    if (same) {
      const keys = same.keys;
      for (let i = 0; i < keys.length; i++) if (keys[i] === key) return same.values[i];
      if (keys.length < MAX_SCANNED_PER_LENGTH) return undefined;
    }
    return this.overflow.size ? this.overflow.get(key) : undefined;
  }

  /** Adds a key that get() did not find. */
  add(key: string, value: V): void {
    if (this.count >= this.maxSize) {
      this.byLength.clear();
      this.overflow.clear();
      this.count = 0;
    }
    this.count++;
    let same = this.byLength.get(key.length);
    if (!same) {
      same = { keys: [], values: [] };
      this.byLength.set(key.length, same);
    }
    if (same.keys.length < MAX_SCANNED_PER_LENGTH) {
      same.keys.push(key);
      same.values.push(value);
    } else this.overflow.set(key, value);
  }

  get size(): number {
    return this.count;
  }
}

// @ts-check

/**
 * The scan of a CloudTrail trail file into compact form (the ScannedTrail of trail-scan.ts), run on
 * the replay's read-ahead thread. Plain JavaScript (type-checked from its JSDoc) so that a worker
 * loads it without a TypeScript loader: the thread starts in tens of milliseconds, not hundreds.
 *
 * The scan checks the JSON of everything it reads itself: the document, the records, their keys and
 * string, number and literal values. Objects and arrays it only delimits: their texts are checked by
 * JSON.parse on the main thread (recordsOfScan), which parses them anyway. A file not taken on — not
 * valid JSON, a document that is not exactly `{"Records":[…]}` — is left to the usual decoding
 * (decode.ts), so the records and every error message are the same either way; a record with a key
 * `__proto__` is kept whole, as one text for JSON.parse (wholeRecord).
 */

/** A slot's low two bits say what its value is; the rest is an index (or which literal). */
export const SLOT = Object.freeze({ string: 0, nested: 1, literal: 2, shared: 3 });

/** The literals a literal slot names, by index. */
export const LITERALS = Object.freeze([true, false, null]);

/** A record's first slot when the record is kept whole as one nested text. */
export const WHOLE = -1;

// Byte values the scan looks at.
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;

/** A key in the tree of records' key sequences (TrailScanner.nextKey). */
class KeyNode {
  /** The keys seen after this one, matched by their bytes (the first MATCHED of them). @type {KeyNode[]} */
  children = [];
  /** The rest, by name: hostile input with many keys must not make every key a long search. @type {Map<string, KeyNode> | undefined} */
  more = undefined;

  /** The index of the shape whose last key this is, once a record has ended here. */
  shape = -1;

  static MATCHED = 16;

  /**
   * @param {string} key
   * @param {Uint8Array} bytes the key as written (empty when it had escapes: matched by string then)
   * @param {KeyNode | undefined} parent the key before it (none for the root)
   * @param {ValueStats} stats
   */
  constructor(key, bytes, parent, stats) {
    this.key = key;
    this.bytes = bytes;
    this.parent = parent;
    this.stats = stats;
  }

  /** The keys from the root to here: a record's shape (made once per shape, not kept per node). */
  path() {
    /** @type {string[]} */
    const keys = [];
    for (let n = /** @type {KeyNode | undefined} */ (this); n?.parent; n = n.parent) keys.push(n.key);
    return keys.reverse();
  }
}

/** How often one key's values repeated, over its first SAMPLE values. */
class ValueStats {
  static SAMPLE = 128;

  /** @param {string} key */
  constructor(key) {
    this.key = key;
  }
  values = 0;
  repeats = 0;

  /** Set once a key's values have shown they do not repeat: they are no longer looked up. */
  distinct = false;

  /** Where the key's previous value was written, and its slot: the same bytes are the same slot. */
  lastStart = 0;
  lastEnd = 0;
  lastSlot = -1;
}

/** Thrown inside the scan when the text is not what it takes on; scanTrailFile returns undefined. */
class NotTaken extends Error {}

const NOT_TAKEN = new NotTaken();

/**
 * Nested texts that repeat from file to file (a session's userIdentity, TLS details), kept on the
 * scanning thread across the files of a run: each is sent to the main thread once and parsed there
 * once (`ScannedTrail.shared`), not once per file. Bounded: past MAX_ENTRIES or MAX_CHARS it starts
 * again empty, and says so with the next file.
 */
export class ScanDictionary {
  static MAX_ENTRIES = 50_000;
  static MAX_CHARS = 32 * 1024 * 1024;
  static MAX_DISTINCT_KEYS = 1_000;

  /** @type {Map<string, number>} */
  ids = new Map();
  chars = 0;

  /** Texts given an id since the last file's scan was taken. @type {string[]} */
  added = [];

  /** Whether the ids start again with the next file's scan. */
  reset = false;

  /** Keys whose values have shown they do not repeat (ValueStats.distinct), remembered across files. @type {Set<string>} */
  distinctKeys = new Set();

  /** @param {string} text */
  idOf(text) {
    let id = this.ids.get(text);
    if (id === undefined) {
      id = this.ids.size;
      this.ids.set(text, id);
      this.added.push(text);
      this.chars += text.length;
    }
    return id;
  }

  /** What the main thread needs of this file's scan; readies the dictionary for the next one. */
  take() {
    const shared = { reset: this.reset, added: this.added };
    this.added = [];
    this.reset = false;
    if (this.ids.size >= ScanDictionary.MAX_ENTRIES || this.chars >= ScanDictionary.MAX_CHARS) {
      this.ids.clear();
      this.chars = 0;
      this.reset = true;
    }
    return shared;
  }
}

/**
 * The records of a decompressed trail file in compact form, or undefined when the file is anything
 * but valid JSON of the shape `{"Records":[…]}` (decode.ts reads those, and reports what is wrong).
 * @param {Uint8Array} bytes
 * @param {ScanDictionary} [dictionary] the run's, when files are scanned one after another; a
 *   scan without one stands alone
 * @returns {import("./trail-scan.ts").ScannedTrail | undefined}
 */
export function scanTrailFile(bytes, dictionary = new ScanDictionary()) {
  const added = dictionary.added.length;
  try {
    return new TrailScanner(bytes, dictionary).scan();
  } catch (err) {
    // Texts this file added are forgotten with it: the main thread never hears of them.
    for (const text of dictionary.added.splice(added)) {
      dictionary.ids.delete(text);
      dictionary.chars -= text.length;
    }
    if (err instanceof NotTaken) return undefined;
    throw err;
  }
}

/**
 * Buffer's own decoders of a range: what `toString(encoding, start, end)` calls after checking its
 * arguments, which on millions of short strings costs as much as the decoding.
 * @typedef {Buffer & { latin1Slice(start: number, end: number): string, utf8Slice(start: number, end: number): string }} SlicingBuffer
 */

class TrailScanner {
  pos = 0;

  /** @type {string[]} */
  strings = [];

  /** @type {Map<string, number>} */
  stringIndex = new Map();

  /** Texts of this file's values of keys whose values do not repeat. @type {string[]} */
  nested = [];

  /** @type {string[][]} */
  shapes = [];

  /** Keys seen in records, as a tree of key sequences: a path from the root is a record's shape. */
  root = new KeyNode("", new Uint8Array(0), undefined, new ValueStats(""));

  /** Repetition of each key's values (see ValueStats), shared by the key's nodes. @type {Map<string, ValueStats>} */
  statsByKey = new Map();
  slots = new Int32Array(4096);
  used = 0;

  /** Whether the last string stepped over had a backslash escape. */
  lastEscaped = false;

  /** Whether the last string stepped over had a byte above 0x7f (not ASCII: decoded as UTF-8). */
  lastHadHigh = false;

  /**
   * @param {Uint8Array} bytes
   * @param {ScanDictionary} dictionary
   */
  constructor(bytes, dictionary) {
    this.bytes = bytes;
    this.dictionary = dictionary;
    this.buffer = /** @type {SlicingBuffer} */ (
      Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    );
  }

  scan() {
    const b = this.bytes;
    // A UTF-8 byte-order mark, as decode.ts allows.
    if (b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf) this.pos = 3;
    this.expect(OPEN_BRACE);
    this.skipSpace();
    if (this.readKey() !== "Records") throw NOT_TAKEN;
    this.expect(COLON);
    this.expect(OPEN_BRACKET);
    let records = 0;
    this.skipSpace();
    if (b[this.pos] === CLOSE_BRACKET) this.pos++;
    else {
      for (;;) {
        this.skipSpace();
        this.record();
        records++;
        this.skipSpace();
        const c = b[this.pos++];
        if (c === CLOSE_BRACKET) break;
        if (c !== COMMA) throw NOT_TAKEN;
      }
    }
    this.expect(CLOSE_BRACE);
    this.skipSpace();
    if (this.pos !== b.length) throw NOT_TAKEN;
    return {
      strings: this.strings,
      nested: this.nested,
      shared: this.dictionary.take(),
      shapes: this.shapes,
      slots: this.slots.slice(0, this.used),
      records,
    };
  }

  record() {
    const b = this.bytes;
    const start = this.pos;
    if (b[this.pos] !== OPEN_BRACE) {
      this.push(WHOLE);
      this.push(this.valueSlot(this.root.stats));
      return;
    }
    this.pos++;
    const shapeAt = this.used;
    this.push(0);
    let node = this.root;
    this.skipSpace();
    if (b[this.pos] === CLOSE_BRACE) this.pos++;
    else {
      for (;;) {
        this.skipSpace();
        node = this.nextKey(node);
        // Assigning `__proto__` would set the prototype where JSON.parse makes a property.
        if (node.key === "__proto__") {
          this.wholeRecord(start, shapeAt);
          return;
        }
        this.expect(COLON);
        this.skipSpace();
        this.push(this.valueSlot(node.stats));
        this.skipSpace();
        const c = b[this.pos++];
        if (c === CLOSE_BRACE) break;
        if (c !== COMMA) throw NOT_TAKEN;
      }
    }
    if (node.shape < 0) {
      node.shape = this.shapes.length;
      this.shapes.push(node.path());
    }
    this.slots[shapeAt] = node.shape;
  }

  /**
   * The key at the scan (at its opening quote) as the child of `node` it names. Records of a file
   * mostly share their keys in the same order, so a key is matched by its bytes against the keys
   * that followed the same ones before; no string is made for it.
   * @param {KeyNode} node
   * @returns {KeyNode}
   */
  nextKey(node) {
    const b = this.bytes;
    if (b[this.pos] !== QUOTE) throw NOT_TAKEN;
    const at = this.pos + 1;
    const children = node.children;
    for (let i = 0; i < children.length; i++) {
      const keyBytes = children[i].bytes;
      const n = keyBytes.length;
      if (b[at + n] !== QUOTE || n === 0) continue;
      let k = 0;
      while (k < n && b[at + k] === keyBytes[k]) k++;
      if (k === n) {
        this.pos = at + n + 1;
        return children[i];
      }
    }
    const start = this.pos;
    const key = this.readString();
    for (const child of children) if (child.key === key) return child;
    const known = node.more?.get(key);
    if (known) return known;
    // Only a key written without escapes can be matched by its bytes.
    const bytes = this.lastEscaped ? new Uint8Array(0) : b.slice(start + 1, this.pos - 1);
    let stats = this.statsByKey.get(key);
    if (!stats) {
      stats = new ValueStats(key);
      stats.distinct = this.dictionary.distinctKeys.has(key);
      this.statsByKey.set(key, stats);
    }
    const child = new KeyNode(key, bytes, node, stats);
    if (children.length < KeyNode.MATCHED) children.push(child);
    else {
      node.more ??= new Map();
      node.more.set(key, child);
    }
    return child;
  }

  /**
   * The record from `start` kept as one nested text (the scan goes on after it).
   * @param {number} start
   * @param {number} shapeAt
   */
  wholeRecord(start, shapeAt) {
    this.pos = start;
    this.used = shapeAt;
    this.push(WHOLE);
    this.push(this.nestedSlot(this.root.stats));
  }

  /**
   * @param {ValueStats} stats
   * @returns {number}
   */
  valueSlot(stats) {
    const c = this.bytes[this.pos];
    if (c === QUOTE) {
      const start = this.pos;
      this.skipString();
      if (this.sameAsLast(stats, start)) return stats.lastSlot;
      const s = this.stringAt(start);
      return this.remember(stats, start, (this.stringIndexOf(s, stats) << 2) | SLOT.string);
    }
    if (c === 0x74 /* t */) return this.literal("true", 0);
    if (c === 0x66 /* f */) return this.literal("false", 1);
    if (c === 0x6e /* n */) return this.literal("null", 2);
    return this.nestedSlot(stats);
  }

  /**
   * An object, array or number: its text (a number checked here, an object or array only delimited:
   * see skipContainer), kept in the run's dictionary unless the key's values do not repeat.
   * @param {ValueStats} stats
   * @returns {number}
   */
  nestedSlot(stats) {
    const start = this.pos;
    const plain = this.skipValue();
    if (this.sameAsLast(stats, start)) return stats.lastSlot;
    const text = plain ? this.buffer.latin1Slice(start, this.pos) : this.buffer.utf8Slice(start, this.pos);
    if (stats.distinct) {
      this.nested.push(text);
      return this.remember(stats, start, ((this.nested.length - 1) << 2) | SLOT.nested);
    }
    const known = this.dictionary.ids.size;
    const id = this.dictionary.idOf(text);
    this.sample(stats, this.dictionary.ids.size === known);
    return this.remember(stats, start, (id << 2) | SLOT.shared);
  }

  /**
   * Whether the value just stepped over (from `start`) is written exactly as the key's previous
   * value: records of one session repeat their identity, agent and TLS details one after another,
   * and comparing bytes where they lie costs less than making and hashing a string of them.
   * @param {ValueStats} stats
   * @param {number} start
   */
  sameAsLast(stats, start) {
    const length = this.pos - start;
    if (stats.lastSlot < 0 || stats.lastEnd - stats.lastStart !== length) return false;
    const b = this.bytes;
    const last = stats.lastStart;
    for (let i = 0; i < length; i++) if (b[start + i] !== b[last + i]) return false;
    return true;
  }

  /**
   * @param {ValueStats} stats
   * @param {number} start
   * @param {number} slot
   */
  remember(stats, start, slot) {
    stats.lastStart = start;
    stats.lastEnd = this.pos;
    stats.lastSlot = slot;
    return slot;
  }

  /**
   * The index of `value` in the file's strings, added if new. Values of a key that do not repeat
   * (event and request ids, times) are not looked up at all once that is clear: hashing them is
   * wasted work.
   * @param {string} value
   * @param {ValueStats} stats
   */
  stringIndexOf(value, stats) {
    const table = this.strings;
    if (stats.distinct) {
      table.push(value);
      return table.length - 1;
    }
    let i = this.stringIndex.get(value);
    const repeated = i !== undefined;
    if (i === undefined) {
      i = table.length;
      table.push(value);
      this.stringIndex.set(value, i);
    }
    this.sample(stats, repeated);
    return i;
  }

  /**
   * Counts a looked-up value of a key; past SAMPLE values with few repeats, the key's values are
   * taken as distinct for the rest of the run.
   * @param {ValueStats} stats
   * @param {boolean} repeated
   */
  sample(stats, repeated) {
    if (repeated) stats.repeats++;
    if (++stats.values === ValueStats.SAMPLE && stats.repeats * 8 < ValueStats.SAMPLE) {
      stats.distinct = true;
      const keys = this.dictionary.distinctKeys;
      if (keys.size < ScanDictionary.MAX_DISTINCT_KEYS) keys.add(stats.key);
    }
  }

  /**
   * @param {string} word
   * @param {number} which its index in LITERALS
   */
  literal(word, which) {
    const b = this.bytes;
    for (let i = 0; i < word.length; i++) if (b[this.pos + i] !== word.charCodeAt(i)) throw NOT_TAKEN;
    this.pos += word.length;
    return (which << 2) | SLOT.literal;
  }

  /**
   * Steps over an object, array or number (valueSlot takes strings and literals, and a whole record
   * is an object); true when its strings are ASCII.
   */
  skipValue() {
    const c = this.bytes[this.pos];
    if (c === OPEN_BRACE || c === OPEN_BRACKET) return this.skipContainer();
    this.skipNumber();
    return true;
  }

  /**
   * An object or array with everything in it, found by its brackets outside strings. Not checked
   * here: its text goes to JSON.parse on the main thread, which checks it as it parses (and the file
   * is decoded the usual way if it is not JSON). Iterative: hostile depth cannot overflow the stack.
   */
  skipContainer() {
    const b = this.bytes;
    const end = b.length;
    let pos = this.pos;
    let depth = 0;
    let high = 0;
    for (;;) {
      if (pos >= end) throw NOT_TAKEN;
      const c = b[pos++];
      if (c === QUOTE) {
        for (;;) {
          if (pos >= end) throw NOT_TAKEN;
          const d = b[pos++];
          if (d === QUOTE) break;
          if (d === BACKSLASH) pos++;
          else high |= d;
        }
      } else if (c === OPEN_BRACE || c === OPEN_BRACKET) depth++;
      else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
        if (--depth === 0) break;
      }
    }
    this.pos = pos;
    return high < 0x80;
  }

  /** `-?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?`, as JSON has it. */
  skipNumber() {
    const b = this.bytes;
    if (b[this.pos] === 0x2d) this.pos++;
    if (b[this.pos] === 0x30) this.pos++;
    else if (isDigit(b[this.pos])) while (isDigit(b[this.pos])) this.pos++;
    else throw NOT_TAKEN;
    if (b[this.pos] === 0x2e) {
      this.pos++;
      if (!isDigit(b[this.pos])) throw NOT_TAKEN;
      while (isDigit(b[this.pos])) this.pos++;
    }
    if (b[this.pos] === 0x65 || b[this.pos] === 0x45) {
      this.pos++;
      if (b[this.pos] === 0x2b || b[this.pos] === 0x2d) this.pos++;
      if (!isDigit(b[this.pos])) throw NOT_TAKEN;
      while (isDigit(b[this.pos])) this.pos++;
    }
  }

  /**
   * Steps over a string from its opening quote, checking escapes and refusing raw control
   * characters as JSON.parse does; notes whether it had escapes or bytes above 0x7f.
   */
  skipString() {
    const b = this.bytes;
    const end = b.length;
    let pos = this.pos + 1;
    let escaped = false;
    let high = false;
    for (;;) {
      if (pos >= end) throw NOT_TAKEN;
      const c = b[pos++];
      if (c === QUOTE) break;
      if (c < 0x20) throw NOT_TAKEN;
      if (c === BACKSLASH) {
        escaped = true;
        const e = b[pos++];
        if (e === 0x75 /* u */) {
          for (let k = 0; k < 4; k++) if (!isHex(b[pos++])) throw NOT_TAKEN;
        } else if (!SIMPLE_ESCAPES.has(e)) throw NOT_TAKEN;
      } else if (c >= 0x80) high = true;
    }
    this.pos = pos;
    this.lastEscaped = escaped;
    this.lastHadHigh = high;
  }

  /** A string's value (the scan is at its opening quote). */
  readString() {
    const start = this.pos;
    this.skipString();
    return this.stringAt(start);
  }

  /**
   * The value of the string just stepped over, from its opening quote at `start`.
   * @param {number} start
   * @returns {string}
   */
  stringAt(start) {
    // Escapes are decoded by JSON.parse itself (skipString has checked them).
    if (this.lastEscaped) return JSON.parse(this.buffer.utf8Slice(start, this.pos));
    return this.lastHadHigh
      ? this.buffer.utf8Slice(start + 1, this.pos - 1)
      : this.buffer.latin1Slice(start + 1, this.pos - 1);
  }

  readKey() {
    this.skipSpace();
    if (this.bytes[this.pos] !== QUOTE) throw NOT_TAKEN;
    return this.readString();
  }

  skipSpace() {
    const b = this.bytes;
    let c = b[this.pos];
    while (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) c = b[++this.pos];
  }

  /** @param {number} c */
  expect(c) {
    this.skipSpace();
    if (this.bytes[this.pos] !== c) throw NOT_TAKEN;
    this.pos++;
  }

  /** @param {number} v */
  push(v) {
    if (this.used === this.slots.length) {
      const grown = new Int32Array(this.slots.length * 2);
      grown.set(this.slots);
      this.slots = grown;
    }
    this.slots[this.used++] = v;
  }
}
const SIMPLE_ESCAPES = new Set([0x22, 0x5c, 0x2f, 0x62, 0x66, 0x6e, 0x72, 0x74]);

/** @param {number | undefined} c */
function isDigit(c) {
  return c !== undefined && c >= 0x30 && c <= 0x39;
}

/** @param {number | undefined} c */
function isHex(c) {
  return (
    c !== undefined && ((c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66))
  );
}

import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { NotJsonError, recordsOfScan, SharedValues } from "../../src/cloudtrail/trail-scan.ts";
import { ScanDictionary, scanTrailFile } from "../../src/cloudtrail/trail-scanner.mjs";
import { seededRandom } from "../../support/seeded-random.ts";

const INVICTUS = "test/fixtures/corpus/invictus-ir-aws-dataset/CloudTrail";
const LIB = "test/fixtures/corpus/aws-cloudtrail-processing-library";

/** The records by way of the scan, or undefined when the scan did not take the text on. */
function viaScan(text: string | Uint8Array): unknown[] | undefined {
  const scan = scanTrailFile(typeof text === "string" ? Buffer.from(text) : text);
  return scan && recordsOfScan(scan);
}

/**
 * Whether the scan refuses invalid JSON one way or the other: it does not take the text on, or (an
 * object or array it only delimited is broken) building the records throws NotJsonError.
 */
function refusedAsInvalid(text: string): boolean {
  const scan = scanTrailFile(Buffer.from(text));
  if (!scan) return true;
  try {
    recordsOfScan(scan);
  } catch (err) {
    return err instanceof NotJsonError;
  }
  return false;
}

/** The scan took the text on and gives JSON.parse's records: same values, same key order. */
function expectSameAsParse(text: string): unknown[] {
  const got = viaScan(text);
  const want = (JSON.parse(text.replace(/^\uFEFF/, "")) as { Records: unknown[] }).Records;
  expect(got).toBeDefined();
  expect(got).toStrictEqual(want);
  expect(JSON.stringify(got)).toBe(JSON.stringify(want));
  return got as unknown[];
}

describe("scanTrailFile + recordsOfScan", () => {
  it("gives every record of the real trail files exactly as JSON.parse does", () => {
    const files = readdirSync(INVICTUS).filter((f) => f.endsWith(".json"));
    expect(files.length).toBeGreaterThan(50);
    let records = 0;
    for (const f of files) records += expectSameAsParse(readFileSync(join(INVICTUS, f), "utf8")).length;
    expect(records).toBeGreaterThan(2000);
    for (const f of ["SerializerTestFile.json", "SerializerAllFieldsNull.json"])
      expectSameAsParse(readFileSync(join(LIB, f), "utf8"));
  });

  it("shares one object between records whose value had the same text, and only then", () => {
    const identity = { type: "AssumedRole", arn: "arn:aws:sts::1:assumed-role/r/s" };
    const text = JSON.stringify({
      Records: [
        { eventName: "A", userIdentity: identity },
        { eventName: "B", userIdentity: identity },
        { eventName: "C", userIdentity: { ...identity, arn: "arn:aws:sts::1:assumed-role/r/t" } },
      ],
    });
    const [a, b, c] = expectSameAsParse(text) as { userIdentity: unknown }[];
    expect(a.userIdentity).toBe(b.userIdentity);
    expect(c.userIdentity).not.toBe(a.userIdentity);
  });

  it("decodes escapes, UTF-8 and keys written with escapes", () => {
    const text = [
      '{"Records":[',
      '{"eventName":"Get\\"Object\\\\ \\/ \\b\\f\\n\\r\\t \\u0000 \\u00e9 \\ud83d\\ude00 \\ud800","userAgent":"été 日本 😀",',
      '"requestParameters":{"k\\u00e9y":"v\\u0041","ü":["\\n",1]},"event\\u004eame2":"x","ключ":"значение"},',
      '{"eventName":"plain","event\\u004eame2":"y"},{"eventName":"again","eventName2":"z"}',
      "]}",
    ].join("");
    const [first, second, third] = expectSameAsParse(text) as Record<string, unknown>[];
    expect(first.eventName).toBe('Get"Object\\ / \b\f\n\r\t \u0000 é 😀 \ud800');
    expect(first.userAgent).toBe("été 日本 😀");
    expect(first.ключ).toBe("значение");
    expect(second.eventName2).toBe("y");
    expect(third.eventName2).toBe("z");
  });

  it("reads bytes that are not valid UTF-8 as a whole-file UTF-8 decoding does", () => {
    const bytes = Buffer.concat([
      Buffer.from('{"Records":[{"eventName":"a'),
      Buffer.from([0xff, 0xe2, 0x82]),
      Buffer.from('","requestParameters":{"x":"'),
      Buffer.from([0xc3]),
      Buffer.from('"}}]}'),
    ]);
    const want = JSON.parse(bytes.toString("utf8")).Records;
    expect(viaScan(bytes)).toStrictEqual(want);
  });

  it("keeps literals, numbers and records that are not objects", () => {
    expectSameAsParse(
      '{"Records":[{"readOnly":true,"managementEvent":false,"errorCode":null,"n":0,"m":-0,"x":1.5E-3,"big":12345678901234567890,"inf":1e400,"neg":-2e+2},null,5,"text",[1,{"a":[]}],{}]}',
    );
  });

  it("reads whitespace anywhere JSON allows it, and a byte-order mark", () => {
    const doc = {
      Records: [{ eventName: "A", requestParameters: { a: [1, 2, { b: null }] } }, { eventName: "B" }],
    };
    expectSameAsParse(JSON.stringify(doc, null, 2).replaceAll("\n", "\r\n\t"));
    expectSameAsParse(`\uFEFF ${JSON.stringify(doc)} \n`);
    expectSameAsParse('{ "Records" : [ ] }');
  });

  it("makes a key __proto__ a property, as JSON.parse does, never the record's prototype", () => {
    const text = '{"Records":[{"eventName":"A","__proto__":{"polluted":true}},{"eventName":"B"}]}';
    const [a, b] = expectSameAsParse(text) as Record<string, unknown>[];
    expect(Object.getPrototypeOf(a)).toBe(Object.prototype);
    expect(Object.hasOwn(a, "__proto__")).toBe(true);
    expect((a as { polluted?: boolean }).polluted).toBeUndefined();
    expect(b.eventName).toBe("B");
    // Written with an escape, and again in a later record (matched by its bytes then): every such
    // record is kept whole, so no shape holds the key (recordsOfScan builds shapes as literals).
    const escaped =
      '{"Records":[{"eventName":"A","\\u005f_proto__":{"polluted":true}},{"eventName":"B","__proto__":[1]},{"eventName":"C","__proto__":{"x":1}}]}';
    for (const r of expectSameAsParse(escaped) as Record<string, unknown>[]) {
      expect(Object.getPrototypeOf(r)).toBe(Object.prototype);
      expect(Object.hasOwn(r, "__proto__")).toBe(true);
    }
    for (const t of [text, escaped]) {
      const scan = scanTrailFile(Buffer.from(t));
      expect(scan?.shapes.flat()).not.toContain("__proto__");
    }
  });

  it("builds records whose keys would read differently as code exactly as JSON.parse does", () => {
    // Records are built from their keys as object-literal code: keys that would break out of a
    // string literal, or that a literal treats apart (integer keys, __proto__), must not matter.
    const keys = ['"', "\\", "'", "`$" + "{x}`", "*/", "\u2028", "\u2029", "\ud800", "0", "10", "-1"];
    const odd = Object.fromEntries(keys.map((k, i) => [k, i]));
    const text = JSON.stringify({
      Records: [
        { eventName: "A", ...odd, constructor: "c", toString: "t" },
        { eventName: "B", ...odd, constructor: "c", toString: "t" },
        Object.fromEntries(Array.from({ length: 64 }, (_, i) => [`k${i}`, i])),
        Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`k${i}`, i])),
      ],
    });
    const records = expectSameAsParse(text) as Record<string, unknown>[];
    for (const r of records) expect(Object.getPrototypeOf(r)).toBe(Object.prototype);
    expect(records[0]['"']).toBe(0);
    expect(Object.keys(records[0]).slice(0, 2)).toEqual(["0", "10"]);
  });

  it("builds records key by key where node may not make code from strings, and tries to once", () => {
    // Two files, each of more shapes than a file may compile: a refused compile must not be tried
    // again for every shape of every file.
    const records: unknown[] = [{ eventName: "A", n: 1 }, { eventName: "B", n: 2 }, 3];
    for (let i = 0; i < 40; i++) records.push({ eventName: "C", [`k${i}`]: i });
    const text = JSON.stringify({ Records: records });
    const script = [
      "let compiles = 0;",
      "globalThis.Function = new Proxy(Function, { construct: (f, args) => (compiles++, Reflect.construct(f, args)) });",
      'const { recordsOfScan } = await import("./src/cloudtrail/trail-scan.ts");',
      'const { scanTrailFile } = await import("./src/cloudtrail/trail-scanner.mjs");',
      "const read = () => recordsOfScan(scanTrailFile(Buffer.from(process.argv[1])));",
      "process.stdout.write(JSON.stringify({ files: [read(), read()], compiles }));",
    ].join("\n");
    const flags = ["--disallow-code-generation-from-strings", "--import", "tsx", "--input-type=module"];
    const out = execFileSync(process.execPath, [...flags, "-e", script, text], { encoding: "utf8" });
    const { files, compiles } = JSON.parse(out);
    expect(files).toStrictEqual([records, records]);
    expect(compiles).toBe(1);
  });

  it("compiles at most 16 new shapes a file (MAX_COMPILES_PER_FILE), and a shape once", () => {
    // A file of records that nearly all differ must not compile a function per record: past its
    // first new shapes they are built key by key, and compiled in the files after it.
    const records = Array.from({ length: 40 }, (_, i) => ({ eventName: "A", [`capped${i}`]: i }));
    const text = JSON.stringify({ Records: records });
    const real = globalThis.Function;
    let compiles = 0;
    globalThis.Function = new Proxy(real, {
      construct: (f, args) => {
        compiles++;
        return Reflect.construct(f, args);
      },
    });
    try {
      const after = [1, 2, 3, 4].map(() => {
        expect(viaScan(text)).toStrictEqual(records);
        return compiles;
      });
      expect(after).toEqual([16, 32, 40, 40]);
    } finally {
      globalThis.Function = real;
    }
  });

  it("takes the last of repeated keys, where the first one stood, as JSON.parse does", () => {
    const [r] = expectSameAsParse('{"Records":[{"a":1,"b":2,"a":3}]}') as Record<string, unknown>[];
    expect(Object.keys(r)).toEqual(["a", "b"]);
    expect(r.a).toBe(3);
  });

  it("keeps every value of a key whose values stop being looked up (they did not repeat)", () => {
    const records = Array.from({ length: 400 }, (_, i) => ({
      eventID: i === 399 ? "id-0" : `id-${i}`,
      requestParameters: { n: i === 398 ? 0 : i },
      userAgent: "same",
    }));
    expectSameAsParse(JSON.stringify({ Records: records }));
  });

  it("reads hostile key sets in time and memory that grow with the input, not its square", () => {
    // One record with 30,000 keys, and 5,000 records whose keys differ from the first one on.
    const wide = Object.fromEntries(Array.from({ length: 30_000 }, (_, i) => [`k${i}`, i % 2 ? "v" : null]));
    const many = Array.from({ length: 5_000 }, (_, i) => ({ [`first${i}`]: 1, eventName: "A" }));
    expectSameAsParse(JSON.stringify({ Records: [wide, ...many] }));
  });

  it("walks hostile nesting without recursion", () => {
    const depth = 100_000;
    const text = `{"Records":[{"eventName":"deep","requestParameters":${"[".repeat(depth)}${"]".repeat(depth)}}]}`;
    const records = viaScan(text) as { requestParameters: unknown }[];
    let level = 0;
    let v: unknown = records[0].requestParameters;
    while (Array.isArray(v) && v.length) {
      v = v[0];
      level++;
    }
    expect(level).toBe(depth - 1);
  });

  it.each([
    ["a truncated file", '{"Records":[{"eventName":"A"}'],
    ["a trailing comma", '{"Records":[{"eventName":"A"},]}'],
    ["a trailing comma in a nested object", '{"Records":[{"r":{"a":1,}}]}'],
    ["a raw control character in a string", '{"Records":[{"eventName":"A\tB"}]}'],
    ["an unknown escape", '{"Records":[{"eventName":"\\x41"}]}'],
    ["a short \\u escape", '{"Records":[{"r":{"a":"\\u12"}}]}'],
    ["a number with a leading zero", '{"Records":[{"n":01}]}'],
    ["a number ending in a point", '{"Records":[{"r":[1.]}]}'],
    ["a number with a plus sign", '{"Records":[{"n":+1}]}'],
    ["a bare minus", '{"Records":[{"n":-}]}'],
    ["NaN", '{"Records":[{"n":NaN}]}'],
    ["a misspelt literal", '{"Records":[{"readOnly":tru}]}'],
    ["single quotes", "{'Records':[]}"],
    ["a key that is not a string", '{"Records":[{eventName:"A"}]}'],
    ["a missing colon", '{"Records":[{"r":{"a" 1}}]}'],
    ["text after the document", '{"Records":[]} x'],
    ["whitespace JSON does not allow", '{"Records":[]}\u00a0'],
  ])("gives no records for invalid JSON (%s): decoding reports it", (_, text) => {
    expect(() => JSON.parse(text)).toThrow();
    expect(refusedAsInvalid(text)).toBe(true);
  });

  it("leaves the checking of objects and arrays to the parse of their text", () => {
    const text = '{"Records":[{"eventName":"A","requestParameters":{"a":[1,]}}]}';
    expect(scanTrailFile(Buffer.from(text))).toBeDefined();
    expect(() => viaScan(text)).toThrow(NotJsonError);
  });

  it.each([
    ["an array of records", '[{"eventName":"A"}]'],
    ["a single record", '{"eventName":"A"}'],
    ["another key before Records", '{"x":1,"Records":[]}'],
    ["another key after Records", '{"Records":[],"x":1}'],
    ["Records that is not an array", '{"Records":{}}'],
    ["a digest file", '{"digestStartTime":"2026-05-08T11:00:00Z","logFiles":[]}'],
    ["JSON Lines", '{"eventName":"A"}\n{"eventName":"B"}'],
    ["an empty file", ""],
  ])("leaves other documents to decode.ts (%s)", (_, text) => {
    expect(viaScan(text)).toBeUndefined();
  });

  it("agrees with JSON.parse on randomly damaged trail files: same records, or none", () => {
    const base = readFileSync(join(INVICTUS, readdirSync(INVICTUS).sort()[0]), "utf8").slice(0, 40_000);
    const doc = JSON.parse(`${base.slice(0, base.lastIndexOf("},{") + 1)}]}`) as { Records: unknown[] };
    const original = JSON.stringify(doc);
    const alphabet = [
      '"',
      "\\",
      "{",
      "}",
      "[",
      "]",
      ",",
      ":",
      " ",
      "0",
      "-",
      "e",
      ".",
      "u",
      "t",
      "\u00e9",
      "\n",
    ];
    const random = seededRandom(20261121);
    let taken = 0;
    let validTrail = 0;
    for (let i = 0; i < 3000; i++) {
      let text = original;
      const edits = 1 + Math.floor(random() * 3);
      for (let e = 0; e < edits; e++) {
        const at = Math.floor(random() * text.length);
        const ch = alphabet[Math.floor(random() * alphabet.length)];
        const kind = random();
        text =
          kind < 0.34
            ? text.slice(0, at) + text.slice(at + 1)
            : kind < 0.67
              ? text.slice(0, at) + ch + text.slice(at)
              : text.slice(0, at) + ch + text.slice(at + 1);
      }
      let parsed: unknown;
      let parses = true;
      try {
        parsed = JSON.parse(text);
      } catch {
        parses = false;
      }
      const isTrail =
        parses &&
        parsed !== null &&
        typeof parsed === "object" &&
        !Array.isArray(parsed) &&
        Object.keys(parsed).length === 1 &&
        Array.isArray((parsed as { Records?: unknown }).Records) &&
        !text.includes('"Records":[],"Records"');
      const scan = scanTrailFile(Buffer.from(text));
      let got: unknown[] | undefined;
      if (scan) {
        taken++;
        if (parses) {
          got = recordsOfScan(scan);
          expect(got).toStrictEqual((parsed as { Records: unknown[] }).Records);
        } else expect(() => recordsOfScan(scan), text).toThrow(NotJsonError);
      }
      if (isTrail) {
        validTrail++;
        expect(got, text).toBeDefined();
      }
    }
    // The damage leaves both kinds often enough for the comparison to mean something.
    expect(taken).toBeGreaterThan(300);
    expect(3000 - validTrail).toBeGreaterThan(300);
  });
});

describe("a run's files scanned with one ScanDictionary", () => {
  const identity = (n: number) => ({ type: "AssumedRole", arn: `arn:aws:sts::1:assumed-role/r/s${n}` });
  const file = (ids: number[], extra: Record<string, unknown> = {}) =>
    JSON.stringify({
      Records: ids.map((n, i) => ({ eventName: `E${i}`, userIdentity: identity(n), ...extra })),
    });

  /** Scans texts in order with one dictionary; records are built after all scans, as a read-ahead does. */
  function scanAll(texts: string[], dictionary = new ScanDictionary()) {
    const shared = new SharedValues();
    const scans = texts.map((t) => {
      const scan = scanTrailFile(Buffer.from(t), dictionary);
      return scan && { scan, values: shared.take(scan) };
    });
    return scans.map((s) => s && { scan: s.scan, records: recordsOfScan(s.scan, s.values) });
  }

  it("sends a repeated value once, and its files' records share the one object", () => {
    const texts = [file([1, 2, 1]), file([2, 3]), file([1])];
    const out = scanAll(texts);
    expect(out.map((o) => o?.records)).toStrictEqual(texts.map((t) => JSON.parse(t).Records));
    expect(out.map((o) => o?.scan.shared.added.length)).toEqual([2, 1, 0]);
    const first = out[0]?.records[0] as { userIdentity: unknown };
    const last = out[2]?.records[0] as { userIdentity: unknown };
    expect(last.userIdentity).toBe(first.userIdentity);
  });

  it("starts again when full, and files scanned before then still read right", () => {
    const dictionary = new ScanDictionary();
    const limit = ScanDictionary.MAX_ENTRIES;
    ScanDictionary.MAX_ENTRIES = 3;
    try {
      const texts = [file([1, 2, 3, 4]), file([1, 5]), file([5, 6]), file([1])];
      const out = scanAll(texts, dictionary);
      expect(out.map((o) => o?.records)).toStrictEqual(texts.map((t) => JSON.parse(t).Records));
      expect(out.map((o) => o?.scan.shared.reset)).toEqual([false, true, false, true]);
    } finally {
      ScanDictionary.MAX_ENTRIES = limit;
    }
  });

  it("forgets what a file that was not taken on had added", () => {
    const broken = file([7, 8]).slice(0, -3);
    const texts = [file([1]), broken, file([7])];
    const out = scanAll(texts);
    expect(out[1]).toBeUndefined();
    expect(out[2]?.scan.shared.added).toHaveLength(1);
    expect(out[2]?.records).toStrictEqual(JSON.parse(texts[2]).Records);
  });

  it("refuses each file that names a shared text that is not JSON, and only those", () => {
    const broken = '{"Records":[{"eventName":"A","userIdentity":{"type":"IAMUser",}}]}';
    const texts = [broken, file([1]), broken.replace('"A"', '"B"')];
    const dictionary = new ScanDictionary();
    const shared = new SharedValues();
    const scans = texts.map((t) => scanTrailFile(Buffer.from(t), dictionary));
    const values = scans.map((scan) => (scan ? shared.take(scan) : []));
    expect(scans.every(Boolean)).toBe(true);
    const build = (i: number) => recordsOfScan(scans[i] as NonNullable<(typeof scans)[number]>, values[i]);
    expect(() => build(0)).toThrow(NotJsonError);
    expect(build(1)).toStrictEqual(JSON.parse(texts[1]).Records);
    expect(() => build(2)).toThrow(NotJsonError);
  });

  it("keeps values that do not repeat out of the dictionary, in later files too", () => {
    const unique = (file: number) =>
      JSON.stringify({
        Records: Array.from({ length: 200 }, (_, i) => ({
          eventName: "PutObject",
          userIdentity: identity(i % 3),
          requestParameters: { key: `f${file}-${i}` },
        })),
      });
    const out = scanAll([unique(1), unique(2)]);
    expect(out.map((o) => o?.records)).toStrictEqual([1, 2].map((f) => JSON.parse(unique(f)).Records));
    // The first file's sample of request parameters went in before they showed they do not repeat.
    expect(out[0]?.scan.shared.added.length).toBeLessThanOrEqual(3 + 128);
    expect(out[1]?.scan.shared.added).toEqual([]);
    expect(out[1]?.scan.nested).toHaveLength(200);
  });

  it("remembers at most MAX_DISTINCT_KEYS keys whose values do not repeat, however many keys a run brings", () => {
    const samples = 128; // ValueStats.SAMPLE: by then each key has shown its values do not repeat
    /**
     * A hostile file: records of `keys` keys whose values never repeat (unique across keys too: a
     * shared text counts as a repeat whichever key it came from), numbered from `first`.
     */
    const hostile = (prefix: string, keys: number, first: number) =>
      JSON.stringify({
        Records: Array.from({ length: samples }, (_, r) =>
          Object.fromEntries(Array.from({ length: keys }, (_, k) => [`${prefix}${k}`, first + r * keys + k])),
        ),
      });
    const many = ScanDictionary.MAX_DISTINCT_KEYS + 10;
    const texts = [hostile("a", many, 0), hostile("b", 10, samples * many)];
    const dictionary = new ScanDictionary();
    const out = scanAll(texts, dictionary);
    expect(out.map((o) => o?.records)).toStrictEqual(texts.map((t) => JSON.parse(t).Records));
    expect(dictionary.distinctKeys.size).toBe(ScanDictionary.MAX_DISTINCT_KEYS);
    // The next file's keys come after the cap is reached: none of them is remembered.
    expect([...dictionary.distinctKeys].filter((k) => k.startsWith("b"))).toEqual([]);
  });
});

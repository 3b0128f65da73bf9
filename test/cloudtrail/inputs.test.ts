import { type Dirent, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { readdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it, vi } from "vitest";
import { describeEmptyDirectories, inDeliveryOrder, localInputs } from "../../src/cloudtrail/inputs.ts";

// readdir as it is, unless a test makes a folder list more files than are worth writing to disk.
vi.mock("node:fs/promises", async (importOriginal) => {
  const fs = await importOriginal<typeof import("node:fs/promises")>();
  return { ...fs, readdir: vi.fn(fs.readdir) };
});

const noStdin = async () => new Uint8Array();

describe("localInputs", () => {
  it("walks directories, takes trail files in delivery order and skips digest, insight, other services' and other files by path", async () => {
    const root = mkdtempSync(join(tmpdir(), "agenttrail-inputs-"));
    const base = join(root, "AWSLogs/111122223333");
    const files = {
      sts: `${base}/CloudTrail/us-east-1/2026/05/08/111122223333_CloudTrail_us-east-1_20260508T0910Z_Hk3mZp8QwA1rT5Lb.json.gz`,
      calls: `${base}/CloudTrail/eu-west-1/2026/05/08/111122223333_CloudTrail_eu-west-1_20260508T0915Z_Qr7TnV2sXc9LpE4d.json.gz`,
      early: `${base}/CloudTrail/eu-west-1/2026/05/08/111122223333_CloudTrail_eu-west-1_20260508T0905Z_Aa7TnV2sXc9LpE4d.json.gz`,
      digest: `${base}/CloudTrail-Digest/us-east-1/2026/05/08/111122223333_CloudTrail-Digest_us-east-1_t_us-east-1_20260508T100000Z.json.gz`,
      insight: `${base}/CloudTrail-Insight/us-east-1/2026/05/08/111122223333_CloudTrail-Insight_us-east-1_20260508T1000Z_x.json.gz`,
      notes: `${root}/notes.txt`,
      jsonl: `${root}/extra/events.jsonl`,
      config: `${base}/Config/us-east-1/2026/5/8/ConfigHistory/111122223333_Config_us-east-1_ConfigHistory_x.json.gz`,
    };
    for (const path of Object.values(files)) {
      mkdirSync(join(path, ".."), { recursive: true });
      writeFileSync(path, "");
    }
    const { files: taken, skipped, empty } = await localInputs([root], noStdin);
    expect(taken.map((f) => f.source)).toEqual([files.jsonl, files.early, files.sts, files.calls]);
    expect(skipped.sort()).toEqual([files.digest, files.insight, files.notes, files.config].sort());
    expect(empty).toEqual([]);
  });

  it("lists each directory given that holds no trail file, with how many files it passed over", async () => {
    const root = mkdtempSync(join(tmpdir(), "agenttrail-inputs-"));
    const [digests, bare, full] = ["digests", "bare", "full"].map((d) => join(root, d));
    for (const d of [digests, bare, full]) mkdirSync(d);
    mkdirSync(join(digests, "CloudTrail-Digest"));
    writeFileSync(join(digests, "CloudTrail-Digest", "a_CloudTrail-Digest_x.json.gz"), "");
    writeFileSync(join(digests, "notes.txt"), "");
    writeFileSync(join(full, "trail.json"), "");
    const { files, empty } = await localInputs([digests, bare, full], noStdin);
    expect(files.map((f) => f.source)).toEqual([join(full, "trail.json")]);
    expect(empty).toEqual([
      { dir: digests, passedOver: 2 },
      { dir: bare, passedOver: 0 },
    ]);
    expect(describeEmptyDirectories(empty)).toBe(
      `no CloudTrail log files in ${digests} (2 file(s) passed over: digest, Insights, other services' logs or other names), ${bare}; replay reads .json, .jsonl and .ndjson files, gzipped or not`,
    );
  });

  it("walks a folder of more files than a call's arguments hold, as a copied bucket's", async () => {
    const root = mkdtempSync(join(tmpdir(), "agenttrail-inputs-"));
    const day = join(root, "AWSLogs/111122223333/CloudTrail/us-east-1/2026/05/08");
    mkdirSync(day, { recursive: true });
    // 300,000 files in the day's folder (a stack overflow for anything that spreads them into a
    // call), one in three not a trail file's name, listed from the end of the day to its start.
    const count = 300_000;
    const names = Array.from({ length: count }, (_, i) => {
      const minute = Math.floor(((count - 1 - i) / count) * 24 * 60);
      const hhmm = `${String(Math.floor(minute / 60)).padStart(2, "0")}${String(minute % 60).padStart(2, "0")}`;
      return i % 3 === 0
        ? `notes-${i}.txt`
        : `111122223333_CloudTrail_us-east-1_20260508T${hhmm}Z_${i}.json.gz`;
    });
    const file = (name: string) => ({ name, isFile: () => true, isDirectory: () => false }) as Dirent;
    const listed = vi.mocked(readdir);
    const real = listed.getMockImplementation() as typeof readdir;
    listed.mockImplementation((async (path: string, options: { withFileTypes: true }) =>
      path === day ? names.map(file) : real(path, options)) as typeof readdir);
    try {
      const { files, skipped } = await localInputs([root], noStdin);
      expect(files).toHaveLength(count - Math.ceil(count / 3));
      expect(skipped).toHaveLength(Math.ceil(count / 3));
      // In delivery order, from the start of the day to its end.
      const times = files.map((f) => /T(\d{4})Z/.exec(f.source)?.[1] ?? "");
      expect([times[0], times.at(-1)]).toEqual(["0000", "2359"]);
      expect(times.filter((t, i) => i > 0 && t < times[i - 1])).toEqual([]);
    } finally {
      listed.mockImplementation(real);
    }
  });

  it("names a path that does not exist in one line", async () => {
    const missing = join(mkdtempSync(join(tmpdir(), "agenttrail-inputs-")), "nope");
    await expect(localInputs([missing], noStdin)).rejects.toThrow(`${missing}: no such file or directory`);
  });

  it("takes a file named on the command line as it is, and - as standard input", async () => {
    const root = mkdtempSync(join(tmpdir(), "agenttrail-inputs-"));
    const path = join(root, "whatever.txt");
    writeFileSync(path, "{}");
    const { files } = await localInputs([path, "-"], async () => new TextEncoder().encode("[]"));
    expect(files.map((f) => f.source)).toEqual([path, "stdin"]);
    expect(new TextDecoder().decode(await files[1].read())).toBe("[]");
  });
});

describe("inDeliveryOrder", () => {
  it("orders by the delivery time in CloudTrail file names, keeping others first in their order", () => {
    expect(
      inDeliveryOrder([
        "b_CloudTrail_us-east-1_20260508T1000Z_x.json.gz",
        "z.json",
        "a_CloudTrail_eu-west-1_20260508T0900Z_y.json.gz",
        "y.json",
      ]),
    ).toEqual([
      "z.json",
      "y.json",
      "a_CloudTrail_eu-west-1_20260508T0900Z_y.json.gz",
      "b_CloudTrail_us-east-1_20260508T1000Z_x.json.gz",
    ]);
  });
});

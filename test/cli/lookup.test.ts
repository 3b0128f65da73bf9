/** `agenttrail lookup` wiring: LookupEvents pages (aws-sdk-client-mock: moto has no LookupEvents) through the pipeline. */
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CloudTrailClient, LookupEventsCommand } from "@aws-sdk/client-cloudtrail";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, describe, expect, it, vi } from "vitest";
import { lookupCommand } from "../../src/cli/lookup.ts";
import { UsageError } from "../../src/cli/options.ts";
import { decodeFile } from "../../src/cloudtrail/decode.ts";
import { localInputs } from "../../src/cloudtrail/inputs.ts";
import { parseLookupAttribute } from "../../src/cloudtrail/lookup.ts";

const cloudtrail = mockClient(CloudTrailClient);

afterEach(() => {
  cloudtrail.reset();
  vi.restoreAllMocks();
});

async function exampleRecords(): Promise<Record<string, unknown>[]> {
  const { files } = await localInputs(["examples"], async () => new Uint8Array());
  const out: Record<string, unknown>[] = [];
  for (const f of files)
    out.push(...(decodeFile(await f.read(), f.source).records as Record<string, unknown>[]));
  return out;
}

describe("agenttrail lookup", () => {
  it("pages through LookupEvents with the attribute given and attributes the events like a replay", async () => {
    const records = await exampleRecords();
    const asEvent = (r: Record<string, unknown>) => ({
      EventId: r.eventID as string,
      EventName: r.eventName as string,
      CloudTrailEvent: JSON.stringify(r),
    });
    cloudtrail
      .on(LookupEventsCommand)
      .resolvesOnce({ Events: records.slice(0, 20).map(asEvent), NextToken: "page-2" })
      .resolvesOnce({
        Events: [...records.slice(20).map(asEvent), { EventId: "bad", CloudTrailEvent: "{not json" }],
      });
    const out = mkdtempSync(join(tmpdir(), "agenttrail-lookup-"));
    const stdout = vi.spyOn(process.stdout, "write").mockImplementation(() => true);
    const status = await lookupCommand([
      "--start",
      "2026-05-08T00:00:00Z",
      "--end",
      "2026-05-09T00:00:00Z",
      "--attribute",
      "Username=agent-user",
      "--out",
      out,
      "--format",
      "json",
    ]);
    stdout.mockRestore();
    expect(status).toBe(1); // one unparseable CloudTrailEvent: reported, the rest processed
    const calls = cloudtrail.commandCalls(LookupEventsCommand);
    expect(calls).toHaveLength(2);
    expect(calls[0].args[0].input).toMatchObject({
      LookupAttributes: [{ AttributeKey: "Username", AttributeValue: "agent-user" }],
      MaxResults: 50,
    });
    expect(calls[1].args[0].input.NextToken).toBe("page-2");
    const summary = JSON.parse(readFileSync(join(out, "summary.json"), "utf8"));
    expect(summary.records).toMatchObject({ read: records.length + 1, events: records.length, malformed: 1 });
    expect(summary.byKind.ai).toBeGreaterThan(0);
  });

  it("prints what the pages before a failed one held, names the failed page, and exits 1", async () => {
    const records = await exampleRecords();
    cloudtrail
      .on(LookupEventsCommand)
      .resolvesOnce({
        Events: records
          .slice(0, 10)
          .map((r) => ({ EventId: String(r.eventID), CloudTrailEvent: JSON.stringify(r) })),
        NextToken: "page-2",
      })
      .rejects(Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:443"), { name: "Error" }));
    const stdout: string[] = [];
    const stderr: string[] = [];
    vi.spyOn(process.stdout, "write").mockImplementation((text) => stdout.push(String(text)) > 0);
    vi.spyOn(process.stderr, "write").mockImplementation((text) => stderr.push(String(text)) > 0);
    const status = await lookupCommand(["--since", "3h", "--no-builtin-rules"]);
    vi.restoreAllMocks();
    expect(status).toBe(1);
    const text = stdout.join("");
    expect(text).toMatch(/^agenttrail lookup: 1 page\(s\), 10 record\(s\)/);
    expect(text).toContain(
      "Pages that could not be read:\n  cloudtrail-lookup all page 2: not readable: Error: connect ECONNREFUSED 127.0.0.1:443",
    );
    expect(stderr.join("")).toContain("agenttrail: cloudtrail-lookup all page 2: not readable:");
  });

  it("parses Key=Value lookup attributes, keeping = inside the value", () => {
    expect(parseLookupAttribute("ResourceName=arn:aws:s3:::b?x=1")).toEqual({
      key: "ResourceName",
      value: "arn:aws:s3:::b?x=1",
    });
    expect(() => parseLookupAttribute("Username")).toThrow(/Key=Value/);
    expect(() => parseLookupAttribute("username=bob")).toThrow(/one of AccessKeyId/);
  });

  it("rejects an unknown lookup attribute before calling AWS", async () => {
    await expect(lookupCommand(["--since", "1h", "--attribute", "Colour=blue"])).rejects.toThrow(
      /--attribute must be Key=Value/,
    );
    expect(cloudtrail.commandCalls(LookupEventsCommand)).toHaveLength(0);
  });

  it("rejects a bad --since or --max-pages as a usage error before calling AWS", async () => {
    for (const args of [
      ["--since", "3x"],
      ["--max-pages", "abc"],
      ["--max-pages", "0"],
      ["--max-pages", "1.5"],
    ]) {
      await expect(lookupCommand(args), args.join(" ")).rejects.toThrow(UsageError);
    }
    await expect(lookupCommand(["--max-pages", "abc"])).rejects.toThrow(
      /--max-pages must be a positive integer/,
    );
    // Said before the configuration is read, which would stop the command first.
    await expect(
      lookupCommand(["--max-pages", "0", "--config", join(tmpdir(), "agenttrail-no-such-config.yaml")]),
    ).rejects.toThrow(UsageError);
    expect(cloudtrail.commandCalls(LookupEventsCommand)).toHaveLength(0);
  });
});

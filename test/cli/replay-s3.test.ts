/** `agenttrail replay s3://…` as a user runs it, against S3 on moto with the standard credential chain. */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { beforeEach, describe, expect, it } from "vitest";
import { localInputs } from "../../src/cloudtrail/inputs.ts";
import { awsClientConfig, awsEnv, createBucket, resetMoto } from "../support/aws.ts";

describe("agenttrail replay s3://bucket/prefix", () => {
  beforeEach(async () => {
    await resetMoto();
  });

  it("lists and streams the trail objects under the prefix, skipping digest files, with the same verdicts as a local replay", async () => {
    const s3 = new S3Client(awsClientConfig());
    const bucket = await createBucket(s3);
    const { files } = await localInputs(["examples"], async () => new Uint8Array());
    for (const f of files) {
      const key = f.source.slice(f.source.indexOf("AWSLogs/"));
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: readFileSync(f.source) }));
    }
    const digest =
      "AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2026/05/08/111122223333_CloudTrail-Digest_us-east-1_t_us-east-1_20260508T120000Z.json.gz";
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: digest, Body: "not gzip at all" }));

    const env = { ...process.env, ...awsEnv() };
    const remote = spawnSync(
      process.execPath,
      ["bin/agenttrail.js", "replay", `s3://${bucket}/AWSLogs/`, "--format", "json"],
      { encoding: "utf8", env, timeout: 60_000 },
    );
    expect(remote.status, remote.stderr).toBe(0);
    const local = spawnSync(
      process.execPath,
      ["bin/agenttrail.js", "replay", "examples/", "--format", "json"],
      { encoding: "utf8", timeout: 60_000 },
    );
    const r = JSON.parse(remote.stdout);
    const l = JSON.parse(local.stdout);
    expect(r.files.read).toBe(files.length);
    expect(r.records).toEqual(l.records);
    expect(r.byKind).toEqual(l.byKind);
    expect(r.aiPrincipals).toEqual(l.aiPrincipals);

    // A prefix that cannot be listed is reported like an unreadable file; the others are replayed.
    const missing = spawnSync(
      process.execPath,
      [
        "bin/agenttrail.js",
        "replay",
        "s3://no-such-bucket-agenttrail/AWSLogs/",
        `s3://${bucket}/AWSLogs/`,
        "--format",
        "json",
      ],
      { encoding: "utf8", env, timeout: 60_000 },
    );
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain("s3://no-such-bucket-agenttrail/AWSLogs/: not listable");
    const m = JSON.parse(missing.stdout);
    expect(m.files.failed.map((f: { source: string }) => f.source)).toEqual([
      "s3://no-such-bucket-agenttrail/AWSLogs/",
    ]);
    expect(m.records).toEqual(l.records);

    // So is a prefix with no trail object under it (a mistyped prefix), rather than an empty run.
    const typo = spawnSync(
      process.execPath,
      ["bin/agenttrail.js", "replay", `s3://${bucket}/AWSLgos/`, "--format", "json"],
      { encoding: "utf8", env, timeout: 60_000 },
    );
    expect(typo.status).toBe(1);
    expect(typo.stderr).toContain(`s3://${bucket}/AWSLgos/: no CloudTrail log files under this prefix`);
  });
});

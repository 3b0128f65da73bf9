/**
 * The 57 SigmaHQ CloudTrail rules (test/fixtures/corpus/sigma) load and run, and a handful give the
 * verdicts their authors intended on real records from the invictus-ir attack simulation.
 */
import { readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { defaultConfig } from "../../src/config.ts";
import type { AuditEvent } from "../../src/event.ts";
import type { CompiledDetectionRule } from "../../src/rules/compile.ts";
import { RuleEngine } from "../../src/rules/engine.ts";
import type { LinkedRules, RuleProblem } from "../../src/rules/link.ts";
import { lintRules } from "../../src/rules/lint.ts";
import type { LoadResult } from "../../src/rules/load.ts";
import { loadTunedRules } from "../../src/rules/tuning.ts";
import { MemoryStore } from "../../src/state/memory.ts";
import { auditEvents } from "../support/records.ts";
import { invictusRecords, toEvent } from "./engine.helpers.ts";

const SIGMA_DIR = fileURLToPath(
  new URL("../fixtures/corpus/sigma/rules/cloud/aws/cloudtrail/", import.meta.url),
);
const INVICTUS_DIR = fileURLToPath(
  new URL("../fixtures/corpus/invictus-ir-aws-dataset/CloudTrail/", import.meta.url),
);

let loaded: LoadResult;
/** The rules linked as a run links them (untuned): what the engine takes. */
let linked: LinkedRules;
let errors: RuleProblem[];
beforeAll(async () => {
  const sigma = await loadTunedRules([SIGMA_DIR], defaultConfig.rules);
  ({ loaded, errors } = sigma);
  linked = sigma.tuned.linked;
});

function sigma(fileName: string): CompiledDetectionRule {
  const rule = loaded.rules.find((r) => r.file.endsWith(`/${fileName}`));
  if (rule?.kind !== "detection") throw new Error(`rule ${fileName} not loaded`);
  return rule;
}

/** One real record by file and eventID prefix, optionally altered (a "crafted-from-real" record). */
function real(
  file: string,
  idPrefix: string,
  alter: (r: Record<string, unknown>) => void = () => {},
): AuditEvent {
  const raw = invictusRecords(file).find((r) => String(r.eventID).startsWith(idPrefix));
  if (!raw) throw new Error(`no record ${idPrefix} in ${file}`);
  const copy = structuredClone(raw);
  alter(copy);
  return toEvent(copy);
}

const F1205 = "218007301253_CloudTrail_us-east-1_20230710T1205Z_UljXNp9xLp8nsAGc.json";
const F1210 = "218007301253_CloudTrail_us-east-1_20230710T1210Z_6CICdbJQM3beT7n3.json";
const F1225 = "218007301253_CloudTrail_us-east-1_20230710T1225Z_4iD2boYSOwmb6sWd.json";
const F1230_LOGIN = "218007301253_CloudTrail_us-east-1_20230710T1230Z_AvIajGd5rkz6vTy4.json";
const F1230_KEYS = "218007301253_CloudTrail_us-east-1_20230710T1230Z_ZtUNbBkwAu98FPZb.json";
const F1145 = "218007301253_CloudTrail_us-east-1_20230710T1145Z_s7dpHbl38neqZbm2.json";

describe("SigmaHQ CloudTrail rules", () => {
  it("all 57 load with no error and none skipped", () => {
    const files = readdirSync(SIGMA_DIR).filter((f) => f.endsWith(".yml"));
    expect(files).toHaveLength(57);
    expect(errors).toEqual([]);
    expect(loaded.skipped).toEqual([]);
    expect(linked.rules).toHaveLength(57);
    expect(linked.rules.every((r) => r.kind === "detection" && r.meta.alert)).toBe(true);
  });

  it("lint passes them, and warns about the one that compares a field name as text", async () => {
    const report = await lintRules([SIGMA_DIR]);
    expect(report.ok).toBe(true);
    const warned = report.entries.filter((e) => e.warnings.length > 0);
    expect(warned.map((e) => e.file.split("/").pop())).toEqual(["aws_iam_backdoor_users_keys.yml"]);
  });

  it("keeps Sigma metadata the alert stage needs", () => {
    const r = sigma("aws_cloudtrail_disable_logging.yml");
    expect(r.meta).toMatchObject({
      id: "4db60cc0-36fb-42b7-9b58-a5b53019fb74",
      title: "AWS CloudTrail Important Change",
      level: "medium",
      tags: ["attack.defense-impairment", "attack.t1685.002"],
      falsepositives: ["Valid change in a Trail"],
      groupBy: ["actor.principal"],
    });
  });

  it("aws_cloudtrail_disable_logging matches the real StopLogging and DeleteTrail calls, not PutEventSelectors", () => {
    const rule = sigma("aws_cloudtrail_disable_logging.yml");
    expect(rule.match(real(F1205, "9790ee84"))).toBe(true); // StopLogging (TrailNotFoundException)
    expect(rule.match(real(F1210, "fcec2e46"))).toBe(true); // DeleteTrail, succeeded
    expect(rule.match(real(F1205, "076e96d5"))).toBe(false); // PutEventSelectors
    expect(rule.match(real(F1210, "fcec2e46", (r) => (r.eventSource = "s3.amazonaws.com")))).toBe(false);
  });

  it("aws_cloudtrail_bucket_deleted: successful DeleteBucket only (errorCode null)", () => {
    const rule = sigma("aws_cloudtrail_bucket_deleted.yml");
    expect(rule.match(real(F1210, "d6b83ae2"))).toBe(true);
    expect(rule.match(real(F1210, "0c3bce40"))).toBe(false); // BucketNotEmpty
  });

  it("console login without MFA: case-insensitive 'NO' meets the record's 'No'", () => {
    const rule = sigma("aws_cloudtrail_console_login_success_without_mfa.yml");
    expect(rule.match(real(F1225, "70e5932e"))).toBe(true);
    expect(rule.match(real(F1230_LOGIN, "8feee4c2"))).toBe(false); // MFAUsed: Yes
  });

  it("aws_enum_buckets: ListBuckets by an IAM user, not by an assumed role", () => {
    const rule = sigma("aws_enum_buckets.yml");
    expect(rule.match(real(F1145, "44a42357"))).toBe(true);
    const asRole = real(F1145, "44a42357", (r) => {
      r.userIdentity = { type: "AssumedRole", arn: "arn:aws:sts::123837392027:assumed-role/r/s" };
    });
    expect(rule.match(asRole)).toBe(false);
  });

  it("aws_cloudtrail_imds_malicious_usage (re) on a crafted EC2 instance-credential call", () => {
    const rule = sigma("aws_cloudtrail_imds_malicious_usage.yml");
    const stolen = real(F1230_KEYS, "64b7de64", (r) => {
      r.userIdentity = {
        type: "AssumedRole",
        arn: "arn:aws:sts::123837392027:assumed-role/aws:ec2-instance/i-0abc",
      };
    });
    expect(rule.match(stolen)).toBe(true);
    expect(rule.match(real(F1230_KEYS, "64b7de64"))).toBe(false);
  });

  it("aws_disable_bucket_versioning: contains on the requestParameters object", () => {
    const rule = sigma("aws_disable_bucket_versioning.yml");
    const suspend = (status: string) =>
      real(F1210, "d6b83ae2", (r) => {
        r.eventName = "PutBucketVersioning";
        r.requestParameters = {
          bucketName: "b",
          VersioningConfiguration: { Status: status },
          versioning: "",
        };
      });
    expect(rule.match(suspend("Suspended"))).toBe(true);
    expect(rule.match(suspend("Enabled"))).toBe(false);
  });

  it("aws_iam_s3browser_templated_s3_bucket_policy_creation: contains|all inside an embedded policy document", () => {
    const rule = sigma("aws_iam_s3browser_templated_s3_bucket_policy_creation.yml");
    const policy = (resource: string) =>
      JSON.stringify({
        Version: "2012-10-17",
        Statement: [{ Effect: "Allow", Action: "s3:GetObject", Resource: resource }],
      });
    const put = (resource: string) =>
      real(F1230_KEYS, "64b7de64", (r) => {
        r.eventName = "PutUserPolicy";
        r.userAgent = "S3 Browser 9.5.5 https://s3browser.com";
        r.requestParameters = { userName: "u", policyName: "p", policyDocument: policy(resource) };
      });
    expect(rule.match(put("arn:aws:s3:::<YOUR-BUCKET-NAME>/*"))).toBe(true);
    expect(rule.match(put("arn:aws:s3:::real-bucket/*"))).toBe(false);
  });

  it("aws_update_login_profile: fieldref filter", () => {
    const rule = sigma("aws_update_login_profile.yml");
    const update = (userName: string) =>
      real(F1230_KEYS, "64b7de64", (r) => {
        r.eventName = "UpdateLoginProfile";
        r.requestParameters = { userName };
      });
    expect(rule.match(update("someone-else"))).toBe(true);
    // the filter compares the whole ARN with requestParameters.userName, as the rule is written
    expect(rule.match(update("arn:aws:iam::123837392027:user/bert-jan"))).toBe(false);
  });

  it("the index changes no verdict: over the whole invictus dataset, indexed = every rule on every event", async () => {
    const rules = linked.detections;
    const engine = new RuleEngine(linked, defaultConfig);
    let events = 0;
    let matches = 0;
    for (const file of readdirSync(INVICTUS_DIR).filter((f) => f.endsWith(".json"))) {
      const batch = auditEvents(invictusRecords(file));
      events += batch.length;
      const brute = new Map<string, number>();
      for (const e of batch) {
        for (const r of rules) {
          if (!r.match(e)) continue;
          matches++;
          const key = `${r.meta.id}|${JSON.stringify([e.principal.arn ?? e.principal.display])}`;
          brute.set(key, (brute.get(key) ?? 0) + 1);
        }
      }
      const hits = await engine.detect(batch, new MemoryStore());
      const indexed = new Map(hits.map((h) => [`${h.rule.id}|${h.groupKey}`, h.count]));
      expect(indexed).toEqual(brute);
    }
    expect(events).toBeGreaterThan(2000);
    expect(matches).toBeGreaterThan(50);
  });
});

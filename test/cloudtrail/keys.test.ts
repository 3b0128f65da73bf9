/**
 * isCloudTrailLogKey on the keys a trail bucket holds (reference/aws-formats.md §4.1):
 * `[<prefix>/]AWSLogs/[<o-orgid>/]<ACCOUNT>/CloudTrail[-Digest|-Insight]/<region>/<YYYY>/<MM>/<DD>/<file>`,
 * beside the other services' logs a shared log bucket keeps under `AWSLogs/`.
 */
import { describe, expect, it } from "vitest";
import { isCloudTrailLogKey } from "../../src/cloudtrail/keys.ts";

const ACCOUNT = "111122223333";
const ORG = "o-fxozgwu6rc";
const DAY = "us-east-2/2026/01/05";
const LOG_FILE = `${ACCOUNT}_CloudTrail_us-east-2_20260105T0210Z_Mu0KsOhtH1ar15ZZ.json.gz`;
const DIGEST_FILE = `${ACCOUNT}_CloudTrail-Digest_us-east-2_main_us-east-2_20260105T021000Z.json.gz`;
const INSIGHT_FILE = `${ACCOUNT}_CloudTrail-Insight_us-east-2_20260105T0516Z_KL5e9VCV2SS7IqzB.json.gz`;

/** The three layouts a trail writes: plain, an organization trail's, and either under a prefix. */
const LAYOUTS = {
  plain: `AWSLogs/${ACCOUNT}`,
  organization: `AWSLogs/${ORG}/${ACCOUNT}`,
  prefixed: `trails/main/AWSLogs/${ACCOUNT}`,
  "prefixed organization": `org-trail/AWSLogs/${ORG}/${ACCOUNT}`,
};

describe("isCloudTrailLogKey", () => {
  for (const [layout, root] of Object.entries(LAYOUTS)) {
    it(`takes the log files of a ${layout} trail and passes over its Digest and Insight files`, () => {
      expect(isCloudTrailLogKey(`${root}/CloudTrail/${DAY}/${LOG_FILE}`)).toBe(true);
      // All three end in .json.gz: only the folder tells them apart.
      expect(isCloudTrailLogKey(`${root}/CloudTrail-Digest/${DAY}/${DIGEST_FILE}`)).toBe(false);
      expect(isCloudTrailLogKey(`${root}/CloudTrail-Insight/${DAY}/${INSIGHT_FILE}`)).toBe(false);
    });

    it(`passes over the other services' logs beside a ${layout} trail, and folder markers`, () => {
      for (const other of [
        `elasticloadbalancing/${DAY}/${ACCOUNT}_elasticloadbalancing_us-east-2_app.web.50dc6c495c0c9188_20260105T0210Z_198.51.100.1_2ab3.log.gz`,
        `vpcflowlogs/${DAY}/${ACCOUNT}_vpcflowlogs_us-east-2_fl-0a1b_20260105T0210Z_ab12.log.gz`,
        `Config/us-east-2/2026/1/5/ConfigHistory/${ACCOUNT}_Config_us-east-2_ConfigHistory_AWS::S3::Bucket_20260105T021000Z.json.gz`,
        `GuardDuty/us-east-2/2026/01/05/f2b1c9e0.jsonl.gz`,
      ]) {
        expect(isCloudTrailLogKey(`${root}/${other}`), other).toBe(false);
      }
      // The console's "create folder" objects.
      expect(isCloudTrailLogKey(`${root}/CloudTrail/`)).toBe(false);
      expect(isCloudTrailLogKey(`${root}/CloudTrail/${DAY}/`)).toBe(false);
    });
  }

  it("passes over VPC flow logs in their Hive-style partitions", () => {
    expect(
      isCloudTrailLogKey(
        `AWSLogs/aws-account-id=${ACCOUNT}/aws-service=vpcflowlogs/aws-region=us-east-2/year=2026/month=01/day=05/x.log.parquet`,
      ),
    ).toBe(false);
  });

  it("judges near misses of the CloudTrail folder as another service's folder", () => {
    // Service folders are matched exactly: anything else under <account>/ is not a trail's.
    for (const folder of ["cloudtrail", "CloudTrailLogs", "CloudTrail-Digest-copy"]) {
      expect(isCloudTrailLogKey(`AWSLogs/${ACCOUNT}/${folder}/${DAY}/${LOG_FILE}`), folder).toBe(false);
    }
    // A prefix that merely starts like a Digest or Insight folder is not one.
    expect(
      isCloudTrailLogKey(`CloudTrail-Insight-exports/AWSLogs/${ACCOUNT}/CloudTrail/${DAY}/${LOG_FILE}`),
    ).toBe(true);
    // A Digest or Insight folder anywhere in the path, as in a copy of the bucket.
    expect(isCloudTrailLogKey(`CloudTrail-Digest/${DAY}/${DIGEST_FILE}`)).toBe(false);
    expect(isCloudTrailLogKey(`C:\\cases\\42\\CloudTrail-Insight\\${INSIGHT_FILE}`)).toBe(false);
  });

  it("reads local paths with backslashes by the same layout", () => {
    const root = `D:\\logs\\AWSLogs\\${ORG}\\${ACCOUNT}`;
    expect(isCloudTrailLogKey(`${root}\\CloudTrail\\us-east-2\\${LOG_FILE}`)).toBe(true);
    expect(isCloudTrailLogKey(`${root}\\CloudTrail-Insight\\us-east-2\\${INSIGHT_FILE}`)).toBe(false);
    expect(isCloudTrailLogKey(`${root}\\elasticloadbalancing\\us-east-2\\x.log.gz`)).toBe(false);
  });

  it("takes what is outside AWS's layout: only the Digest and Insight folders and folder markers count there", () => {
    for (const key of [
      // Not an account id (12 digits), not AWSLogs itself: AWS's layout does not apply.
      `AWSLogs/1111222233334/elasticloadbalancing/${DAY}/x.log.gz`,
      `MyAWSLogs/${ACCOUNT}/elasticloadbalancing/${DAY}/x.log.gz`,
      // Trail files copied elsewhere, under a folder a user named AWSLogs too.
      "incident-42/trail-part-1.json.gz",
      `/srv/AWSLogs/2026-05/${LOG_FILE}`,
      `case-42/AWSLogs/us-east-1/2026/05/08/${LOG_FILE}`,
    ]) {
      expect(isCloudTrailLogKey(key), key).toBe(true);
    }
    expect(isCloudTrailLogKey("")).toBe(false);
    expect(isCloudTrailLogKey("incident-42/")).toBe(false);
  });
});

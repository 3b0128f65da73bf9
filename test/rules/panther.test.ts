/**
 * Agreement with Panther's detections (panther-labs/panther-analysis test cases) for the rules that
 * overlap ours. Every case runs through the real pipeline (normalise → attribute → enrich → detect)
 * with the built-in rules; our verdict must equal Panther's `expected`, or the case is listed in
 * DOCUMENTED_DIFFERENCES with the reason. Undocumented disagreements fail, and so do documented
 * differences that no longer differ (the table must stay true).
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import type { Config } from "../../src/config.ts";
import { defaultConfig } from "../../src/config.ts";
import type { AuditEvent } from "../../src/event.ts";
import { processBatch } from "../../src/pipeline.ts";
import { RuleEngine } from "../../src/rules/engine.ts";
import type { LinkedRules } from "../../src/rules/link.ts";
import { loadTunedRules } from "../../src/rules/tuning.ts";
import { MemoryStore } from "../../src/state/memory.ts";

interface PantherCase {
  rule_id: string;
  test_name: string;
  expected: boolean;
  event: Record<string, unknown>;
}

const CASES: PantherCase[] = readFileSync(
  new URL("../fixtures/corpus/panther-analysis/cases.jsonl", import.meta.url),
  "utf8",
)
  .split("\n")
  .filter((l) => l.trim())
  .map((l) => JSON.parse(l) as PantherCase);

const RULES_DIR = fileURLToPath(new URL("../../rules", import.meta.url));

/** Panther rule → the built-in rules that detect the same thing (any of them hitting is "ours: true"). */
const RULE_OVERLAP: Record<string, string[]> = {
  "AWS.CloudTrail.Stopped": ["cloudtrail-tampering"],
  "AWS.CloudTrail.EventSelectorsDisabled": ["cloudtrail-tampering"],
  "AWS.ConfigService.DisabledDeleted": ["cloudtrail-tampering"],
  "AWS.Macie.Evasion": ["cloudtrail-tampering"],
  "AWS.VPCFlow.LogsDeleted": ["cloudtrail-tampering"],
  "AWS.CloudTrail.DNSLogsDeleted": ["cloudtrail-tampering"],
  "AWS.S3.DisableBucketLogging": ["cloudtrail-tampering"],
  // Not mapped: AWS.S3.SecurityControlDisabling. Its bucket-logging cases are DisableBucketLogging's
  // records again; its versioning cases are not tampering for us (a suspension is action.destructive,
  // reported for AI agents by ai-destructive-action; MFA delete turned off, by no rule).
  "AWS.CloudTrail.Created": ["cis-cloudtrail-config-changes"],
  "AWS.IAM.PolicyModified": ["cis-iam-policy-changes"],
  "AWS.Root.Activity": ["cis-root-account-usage"],
  "AWS.Console.LoginWithoutMFA": ["cis-console-signin-without-mfa"],
  "AWS.Console.RootLoginFailed": ["cis-console-auth-failures"],
  "AWS.CloudTrail.UnauthorizedAPICall": ["cis-unauthorized-api-calls"],
  "AWS.IAMUser.ReconAccessDenied": ["cis-unauthorized-api-calls"],
  "AWS.KMS.CustomerManagedKeyLoss": ["cis-cmk-disable-or-deletion"],
  "AWS.S3.BucketPolicyModified": ["cis-s3-bucket-policy-changes"],
  "AWS.ConfigService.Created": ["cis-config-changes"],
  "AWS.EC2.SecurityGroupModified": ["cis-security-group-changes"],
  "AWS.EC2.NetworkACLModified": ["cis-nacl-changes"],
  "AWS.EC2.GatewayModified": ["cis-network-gateway-changes"],
  "AWS.EC2.RouteTableModified": ["cis-route-table-changes"],
  "AWS.EC2.VPCModified": ["cis-vpc-changes"],
  "AWS.CloudTrail.AttemptToLeaveOrg": ["cis-organizations-changes"],
  // Partial: Panther's list also has DisableEbsEncryptionByDefault, DeleteRule… (for us action.destructive,
  // not tampering). Its allowlisted DeleteRule case agrees only because tampering has no DeleteRule, not
  // through an allowlist.
  "AWS.CloudTrail.SecurityConfigurationChange": ["cloudtrail-tampering"],
};

/**
 * Panther rules that overlap a derived fact rather than a rule (our AI rules need an AI actor, which no
 * Panther case has): ours is "the call succeeded and action.destructive is true".
 */
const DESTRUCTIVE_OVERLAP = new Set([
  "AWS.S3.DeleteObject",
  "AWS.S3.DeleteObjects",
  "AWS.S3.BucketDeleted",
  "AWS.RDS.InstanceDeletion",
  "AWS.RDS.SnapshotDeleted",
  "AWS.RDS.AutomatedBackupDeleted",
  "AWS.S3.SuspendVersioning",
  "AWS.RDS.DeletionProtectionDisabled",
  // Panther also requires a CloudTrail bucket (by name); action.destructive counts a short expiry on any bucket.
  "AWS.CloudTrail.ShortLifecycle",
]);

const CIS_COUNTS_FAILURES =
  "the CIS metric filter has no errorCode condition: CIS alarms count attempts, failed ones included; " +
  "Panther reports only successful changes";
const TAMPERING_REPORTS_FAILURES =
  "cloudtrail-tampering reports failed attempts too (at levelIfFailed, lower severity): someone tried to " +
  "blind the defenders; Panther ignores calls with an errorCode";

/** `rule_id / test_name` → why our verdict differs from Panther's. */
const DOCUMENTED_DIFFERENCES: Record<string, string> = {
  "AWS.CloudTrail.Stopped / Error Stopping CloudTrail": TAMPERING_REPORTS_FAILURES,
  "AWS.CloudTrail.SecurityConfigurationChange / Security Configuration Not Changed - Error":
    TAMPERING_REPORTS_FAILURES,
  "AWS.ConfigService.DisabledDeleted / Error Deleting Config Recorder": TAMPERING_REPORTS_FAILURES,
  "AWS.S3.DisableBucketLogging / Bucket Logging Disabled - Failed": TAMPERING_REPORTS_FAILURES,
  "AWS.Macie.Evasion / UpdateSession":
    "Panther flags every UpdateMacieSession; security.serviceDisabled is true only when the session is " +
    "paused (status PAUSED): changing findingPublishingFrequency does not disable Macie",
  "AWS.Macie.Evasion / UpdateSession (Macie v1 event)":
    "Macie Classic (macie.amazonaws.com) is retired; we follow macie2 only, and only a pause (status PAUSED) " +
    "disables Macie",
  "AWS.CloudTrail.Created / Error Creating CloudTrail": CIS_COUNTS_FAILURES,
  "AWS.ConfigService.Created / Error Creating Config Recorder Delivery Channel": CIS_COUNTS_FAILURES,
  "AWS.ConfigService.Created / Config Recorder Deleted":
    "Panther's rule is about creation only; CIS 4.9's filter (cis-config-changes) also lists " +
    "DeleteDeliveryChannel, so ours reports it",
  "AWS.IAM.PolicyModified / IAM Policy Change Error": CIS_COUNTS_FAILURES,
  "AWS.KMS.CustomerManagedKeyLoss / KMS Disable Key Error": CIS_COUNTS_FAILURES,
  "AWS.S3.BucketPolicyModified / S3 Bucket Policy Modified Error Response": CIS_COUNTS_FAILURES,
  "AWS.EC2.GatewayModified / Error Modifying Network Gateway": CIS_COUNTS_FAILURES,
  "AWS.EC2.NetworkACLModified / Error Modifying Network ACL": CIS_COUNTS_FAILURES,
  "AWS.EC2.RouteTableModified / Error Modifying Route Table": CIS_COUNTS_FAILURES,
  "AWS.EC2.SecurityGroupModified / Error Mofidying Security Group": CIS_COUNTS_FAILURES,
  "AWS.EC2.VPCModified / Error Modifying VPC": CIS_COUNTS_FAILURES,
  "AWS.Root.Activity / Root Activity - CreateServiceLinkedRole":
    "Panther exempts a list of root events (CreateServiceLinkedRole); the CIS 4.3 filter exempts only calls " +
    "made by an AWS service (invokedBy) and AwsServiceEvent records",
  "AWS.Root.Activity / Root Read-Only Enumeration":
    "Panther ignores read-only root calls; the CIS 4.3 filter counts every root call",
  "AWS.Console.LoginWithoutMFA / No MFA Login - Root User":
    "the CIS 4.2 filter covers IAM users only (userIdentity.type IAMUser); cis-root-account-usage reports " +
    "every root sign-in instead",
  "AWS.Console.LoginWithoutMFA / MFA Login - SAML":
    "Panther trusts the SAML identity provider's MFA (SamlProviderArn); the CIS 4.2 filter only reads " +
    "MFAUsed, which is No here",
  "AWS.Console.LoginWithoutMFA / No MFA Login - New User":
    "Panther mocks an account-age lookup that suppresses new users; we have no such state and follow the " +
    "CIS 4.2 filter",
  "AWS.Console.RootLoginFailed / Failed Root Login":
    'the CIS 4.6 filter needs errorMessage "Failed authentication", which this record lacks (it only has ' +
    "responseElements.ConsoleLogin Failure)",
  "AWS.CloudTrail.UnauthorizedAPICall / Unauthorized API Call from Within AWS (FQDN)":
    "Panther drops denials whose sourceIPAddress is an AWS service name; the CIS 4.1 filter counts every " +
    "AccessDenied*/ *UnauthorizedOperation (the nozaq variant excludes only delivery.logs.amazonaws.com)",
  "AWS.IAMUser.ReconAccessDenied / Unauthorized API Call from Within AWS (FQDN)":
    "Panther drops denials from AWS service addresses; the CIS 4.1 filter counts them",
  "AWS.IAMUser.ReconAccessDenied / Unauthorized API Call - From AWS console":
    "Panther drops denials of console sessions (the console probes permissions); the CIS 4.1 filter counts them",
};

/**
 * Partial records that never reach the rules (normalise rejects them with a reason): Panther expects
 * false for each, so they agree, but only trivially — listed so that a change is noticed.
 */
const NOT_NORMALISED: Record<string, string> = {
  "AWS.Console.LoginWithoutMFA / No MFA - authenticated from session with MFA":
    "partial record without eventTime",
  "AWS.Root.Activity / Root User Failed Activity": 'eventTime is "redacted"',
  "AWS.S3.BucketDeleted / S3 Bucket Deletion Failed": "partial record without eventTime",
  "AWS.S3.BucketDeleted / An S3 Object Deleted": "partial record without eventTime",
};

interface Verdict {
  ours: boolean;
  /** Why the pipeline produced no event (the record did not normalise), if it did not. */
  malformed?: string;
}

let engineRules: LinkedRules;
const config: Config = defaultConfig;

beforeAll(async () => {
  const loaded = await loadTunedRules([RULES_DIR], config.rules);
  expect(loaded.errors).toEqual([]);
  engineRules = loaded.tuned.linked;
});

async function run(c: PantherCase): Promise<{ hits: string[]; event?: AuditEvent; malformed?: string }> {
  // Panther's records often share eventID "1": each case is its own batch with a fresh store.
  const store = new MemoryStore(() => Date.now());
  const detector = new RuleEngine(engineRules, config);
  const result = await processBatch(
    { source: `panther:${c.rule_id}`, records: [c.event] },
    { store, config, detector },
  );
  return {
    hits: result.hits.map((h) => h.rule.id),
    event: result.events[0],
    malformed: result.malformed[0]?.reason,
  };
}

async function verdict(c: PantherCase): Promise<Verdict> {
  const { hits, event, malformed } = await run(c);
  if (DESTRUCTIVE_OVERLAP.has(c.rule_id)) {
    return { ours: event?.facts["action.destructive"] === true && !event.error, malformed };
  }
  const ours = RULE_OVERLAP[c.rule_id];
  return { ours: hits.some((id) => ours.includes(id)), malformed };
}

const overlapping = CASES.filter((c) => c.rule_id in RULE_OVERLAP || DESTRUCTIVE_OVERLAP.has(c.rule_id));

describe("Panther agreement", () => {
  it("covers the overlapping Panther rules", () => {
    const rules = new Set(overlapping.map((c) => c.rule_id));
    for (const id of [...Object.keys(RULE_OVERLAP), ...DESTRUCTIVE_OVERLAP])
      expect(rules.has(id), id).toBe(true);
  });

  it("agrees with every case or documents why not", async () => {
    const undocumented: string[] = [];
    const stale: string[] = [];
    const notNormalised: string[] = [];
    for (const c of overlapping) {
      const key = `${c.rule_id} / ${c.test_name}`;
      const v = await verdict(c);
      const agrees = v.ours === c.expected;
      const documented = key in DOCUMENTED_DIFFERENCES;
      if (!agrees && !documented) {
        undocumented.push(
          `${key}: Panther ${c.expected}, ours ${v.ours}${v.malformed ? ` (malformed: ${v.malformed})` : ""}`,
        );
      }
      if (agrees && documented) stale.push(key);
      if (v.malformed) notNormalised.push(key);
    }
    expect(undocumented).toEqual([]);
    expect(stale).toEqual([]);
    expect(notNormalised.sort()).toEqual(Object.keys(NOT_NORMALISED).sort());
  });

  it("documents differences only for cases that exist", () => {
    const keys = new Set(overlapping.map((c) => `${c.rule_id} / ${c.test_name}`));
    for (const key of Object.keys(DOCUMENTED_DIFFERENCES)) expect(keys.has(key), key).toBe(true);
  });
});

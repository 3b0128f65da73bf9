import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { decodeFile } from "../src/cloudtrail/decode.ts";
import { parseExpiration } from "../src/cloudtrail/records.ts";
import { normaliseRecord, stripVersionSuffix } from "../src/normalise.ts";
import { auditEvents } from "./support/records.ts";

const origin = { source: "test", index: 0 };
const PANTHER = "test/fixtures/corpus/panther-analysis/cases.jsonl";
const LIB = "test/fixtures/corpus/aws-cloudtrail-processing-library";

interface PantherCase {
  rule_id: string;
  test_name: string;
  shape: string;
  event: unknown;
}
const pantherCases = readFileSync(PANTHER, "utf8")
  .split("\n")
  .filter(Boolean)
  .map((l) => JSON.parse(l) as PantherCase);

describe("normaliseRecord", () => {
  it("normalises a real record into the AuditEvent fields", () => {
    const file =
      "test/fixtures/corpus/invictus-ir-aws-dataset/CloudTrail/218007301253_CloudTrail_us-east-1_20230710T1145Z_7xgocspSowgK0Gto.json";
    const [raw] = decodeFile(readFileSync(file), file).records as Record<string, unknown>[];
    const n = normaliseRecord(raw, { source: file, index: 3 });
    if (!n.ok) throw new Error(n.reason);
    const e = n.event;
    expect(e.id).toBe(raw?.eventID);
    expect(e.time.toISOString()).toBe(new Date(raw?.eventTime as string).toISOString());
    expect(e.service).toBe("s3.amazonaws.com");
    expect(e.action).toBe(raw?.eventName);
    expect(e.principal.type).toBe((raw.userIdentity as { type: string }).type);
    expect(e.account).toBe(raw?.recipientAccountId);
    expect(e.origin).toEqual({ source: file, index: 3 });
    expect(e.raw).toBe(raw);
    expect(e.actor.kind).toBe("unknown");
  });

  it("accepts the eventTime formats found in the wild, as UTC", () => {
    const at = (eventTime: string) => {
      const n = normaliseRecord(
        { eventTime, eventName: "X", eventSource: "s3.amazonaws.com", eventID: "1" },
        origin,
      );
      return n.ok ? n.event.time.toISOString() : n.reason;
    };
    expect(at("2023-07-10T11:45:00Z")).toBe("2023-07-10T11:45:00.000Z");
    expect(at("2022-12-11 19:42:55")).toBe("2022-12-11T19:42:55.000Z");
    expect(at("2025-01-20 16:52:14.000000000")).toBe("2025-01-20T16:52:14.000Z");
    expect(at("2024-01-01 00:00:00.123")).toBe("2024-01-01T00:00:00.123Z");
    expect(at("2022-09-15 13:45:24Z")).toBe("2022-09-15T13:45:24.000Z");
    expect(at("redacted")).toMatch(/eventTime is not a time/);
  });

  it("strips eventName version suffixes and keeps the original", () => {
    expect(stripVersionSuffix("UpdateFunctionConfiguration20150331v2")).toBe("UpdateFunctionConfiguration");
    expect(stripVersionSuffix("GetDistribution2020_05_31")).toBe("GetDistribution");
    expect(stripVersionSuffix("GetObject")).toBe("GetObject");
    const n = normaliseRecord(
      {
        eventTime: "2019-01-01T00:00:00Z",
        eventName: "ListFunctions20150331",
        eventSource: "lambda.amazonaws.com",
      },
      origin,
    );
    expect(n.ok && [n.event.action, n.event.rawAction]).toEqual(["ListFunctions", "ListFunctions20150331"]);
  });

  /** The event of a GetObject record with only the fields normaliseRecord requires, and `extra`. */
  const eventOf = (extra: Record<string, unknown>) =>
    auditEvents([
      {
        eventTime: "2026-01-01T00:00:00Z",
        eventSource: "s3.amazonaws.com",
        eventName: "GetObject",
        ...extra,
      },
    ])[0];

  it("gives every principal the same fields, in one order, whatever the record held", () => {
    // Later stages read principals at every call: one layout keeps those reads on one kind of object.
    const keysOf = (userIdentity: unknown): string[] => Object.keys(eventOf({ userIdentity }).principal);
    const root = keysOf({ type: "Root", arn: "arn:aws:iam::111122223333:root", accountId: "111122223333" });
    expect(root).toContain("sessionName");
    expect(keysOf({ type: "AWSService", invokedBy: "ec2.amazonaws.com" })).toEqual(root);
    expect(keysOf(undefined)).toEqual(root);
    const role = keysOf({
      type: "AssumedRole",
      arn: "arn:aws:sts::111122223333:assumed-role/r/s",
      sessionContext: {
        sessionIssuer: { type: "Role", arn: "arn:aws:iam::111122223333:role/r", userName: "r" },
      },
    });
    expect(role).toEqual(root);
  });

  it("gives records without userIdentity one frozen principal: no type, shown as unknown", () => {
    const a = eventOf({}).principal;
    expect(a).toEqual({ type: "", display: "unknown" });
    expect(Object.isFrozen(a)).toBe(true);
    expect(eventOf({ eventID: "other" }).principal).toBe(a);
    // A userIdentity without a type is shown the same way, in a principal of its own.
    const empty = eventOf({ userIdentity: {} }).principal;
    expect(empty).toEqual(a);
    expect(empty).not.toBe(a);
  });

  it("gives records that share one userIdentity object (as a replay's decoder hands them out) one frozen principal", () => {
    const userIdentity = {
      type: "AssumedRole",
      arn: "arn:aws:sts::111122223333:assumed-role/dev/alice",
      accountId: "111122223333",
    };
    const [a, b] = auditEvents([
      {
        eventTime: "2026-01-01T00:00:00Z",
        eventSource: "s3.amazonaws.com",
        eventName: "GetObject",
        userIdentity,
      },
      {
        eventTime: "2026-01-01T00:00:01Z",
        eventSource: "s3.amazonaws.com",
        eventName: "PutObject",
        userIdentity,
      },
    ]);
    expect(a.principal).toMatchObject({
      roleName: "dev",
      sessionName: "alice",
      display: "assumed-role/dev/alice",
    });
    expect(b.principal).toBe(a.principal);
    expect(Object.isFrozen(a.principal)).toBe(true);
    // An equal identity in an object of its own (JSON.parse makes one per record): an equal principal.
    const c = eventOf({ userIdentity: { ...userIdentity } }).principal;
    expect(c).toEqual(a.principal);
    expect(c).not.toBe(a.principal);
  });

  it("gives a failed call's event the same fields, in one order, as a successful one's", () => {
    const keysOf = (extra: Record<string, unknown>): string[] => Object.keys(eventOf(extra));
    const ok = keysOf({});
    expect(ok).toContain("error");
    expect(keysOf({ errorCode: "AccessDenied", errorMessage: "no" })).toEqual(ok);
  });

  it("parses assumed-role principals: role, session, role ARN with path", () => {
    const n = normaliseRecord(
      {
        eventTime: "2024-08-02T08:23:55Z",
        eventName: "GetCallerIdentity",
        eventSource: "sts.amazonaws.com",
        userIdentity: {
          type: "AssumedRole",
          arn: "arn:aws:sts::017622104382:assumed-role/AWSReservedSSO_Admin_abc/alice@example.com",
          accountId: "017622104382",
          accessKeyId: "ASIAP5CT9NN8EYVU1FXV",
          sessionContext: {
            sessionIssuer: {
              type: "Role",
              arn: "arn:aws:iam::017622104382:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Admin_abc",
              userName: "AWSReservedSSO_Admin_abc",
            },
            sourceIdentity: "alice",
          },
        },
      },
      origin,
    );
    if (!n.ok) throw new Error(n.reason);
    expect(n.event.principal).toMatchObject({
      type: "AssumedRole",
      roleName: "AWSReservedSSO_Admin_abc",
      roleArn: "arn:aws:iam::017622104382:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Admin_abc",
      sessionName: "alice@example.com",
      sourceIdentity: "alice",
      accessKeyId: "ASIAP5CT9NN8EYVU1FXV",
      display: "assumed-role/AWSReservedSSO_Admin_abc/alice@example.com",
    });
  });

  it("reads errors from errorCode and from ConsoleLogin's responseElements", () => {
    const base = {
      eventTime: "2022-11-10T16:24:34Z",
      eventSource: "signin.amazonaws.com",
      eventName: "ConsoleLogin",
    };
    const failed = normaliseRecord(
      { ...base, responseElements: { ConsoleLogin: "Failure" }, errorMessage: "Failed authentication" },
      origin,
    );
    expect(failed.ok && failed.event.error).toEqual({ code: "Failure", message: "Failed authentication" });
    const ok = normaliseRecord({ ...base, responseElements: { ConsoleLogin: "Success" } }, origin);
    expect(ok.ok && ok.event.error).toBeUndefined();
    const denied = normaliseRecord({ ...base, errorCode: "AccessDenied" }, origin);
    expect(denied.ok && denied.event.error?.code).toBe("AccessDenied");
  });

  it("gives records without eventID a stable synthetic id", () => {
    const r = { eventTime: "2024-01-01T00:00:00Z", eventName: "X", eventSource: "s3.amazonaws.com" };
    const a = normaliseRecord(r, origin);
    const b = normaliseRecord({ ...r }, origin);
    expect(a.ok && a.event.id).toMatch(/^synthetic-[0-9a-f]{32}$/);
    expect(a.ok && b.ok && a.event.id === b.event.id).toBe(true);
  });

  it("skips Insights records and rejects non-records with a reason", () => {
    const insight = normaliseRecord(
      { eventType: "AwsCloudTrailInsight", eventTime: "2019-11-14T00:51:00Z" },
      origin,
    );
    expect(insight).toMatchObject({ ok: false, skipped: true });
    expect(normaliseRecord(null, origin)).toMatchObject({
      ok: false,
      reason: "not a CloudTrail record: null",
    });
    expect(normaliseRecord([1], origin)).toMatchObject({ ok: false });
  });

  it("handles the processing library's odd files: all fields null, unknown fields, misspelt fields", () => {
    const read = (f: string) => decodeFile(readFileSync(`${LIB}/${f}`), f).records;
    const [allNull, filled] = read("SerializerAllFieldsNull.json");
    expect(normaliseRecord(allNull, origin)).toMatchObject({
      ok: false,
      reason: "not a CloudTrail record: missing eventTime",
    });
    expect(normaliseRecord(filled, origin).ok).toBe(true);
    for (const f of [
      "SerializerTestFileNewFieldsInRoot.json",
      "SerializerTestFileNewFieldAtRandomPlaces.json",
      "SerializerTestFileNewFieldsInUserIdentity.json",
    ]) {
      for (const r of read(f)) expect(normaliseRecord(r, origin).ok).toBe(true);
    }
    const [misspelt, correct] = read("SerializerTestFileBadFieldName.json");
    expect(normaliseRecord(misspelt, origin)).toMatchObject({
      ok: false,
      reason: "not a CloudTrail record: missing eventTime",
    });
    expect(normaliseRecord(correct, origin).ok).toBe(true);
  });

  it("normalises or rejects with a reason every Panther case, never throwing", () => {
    const outcomes = { ok: 0, rejected: 0 };
    for (const c of pantherCases) {
      const n = normaliseRecord(c.event, origin);
      if (n.ok) {
        outcomes.ok++;
        expect(Number.isNaN(n.event.time.getTime())).toBe(false);
      } else {
        outcomes.rejected++;
        expect(n.reason.length).toBeGreaterThan(10);
      }
      // Records in CloudTrail's own shape with the required fields must normalise.
      const e = c.event as Record<string, unknown>;
      if (
        c.shape === "full_core" &&
        typeof e.eventTime === "string" &&
        /^\d{4}-/.test(e.eventTime) &&
        e.eventName &&
        e.eventSource
      ) {
        expect(n.ok, `${c.rule_id} / ${c.test_name}`).toBe(true);
      }
      if (c.shape === "lowercase_keys") expect(n.ok ? "" : n.reason).toMatch(/lower-cased/);
      if (c.shape === "other_log_type") expect(n.ok).toBe(false);
    }
    expect(outcomes.ok).toBeGreaterThan(400);
    expect(outcomes.ok + outcomes.rejected).toBe(pantherCases.length);
  });
});

describe("parseExpiration", () => {
  it("parses both human formats of credentials.expiration as UTC", () => {
    expect(parseExpiration("Nov 30, 2024, 8:43:17 PM")?.toISOString()).toBe("2024-11-30T20:43:17.000Z");
    expect(parseExpiration("Jan 22, 2021 12:46:28 AM")?.toISOString()).toBe("2021-01-22T00:46:28.000Z");
    expect(parseExpiration("Oct 2, 2019, 12:12:29 PM")?.toISOString()).toBe("2019-10-02T12:12:29.000Z");
    expect(parseExpiration("2019-10-02T23:12:29Z")?.toISOString()).toBe("2019-10-02T23:12:29.000Z");
    expect(parseExpiration("HIDDEN_DUE_TO_SECURITY_REASONS")).toBeUndefined();
  });
});

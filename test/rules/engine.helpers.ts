/** Shared by the rule engine tests: real records → AuditEvents (auditEvents), rules from YAML text. */
import { readFileSync } from "node:fs";
import { expect } from "vitest";
import type { Actor, AuditEvent } from "../../src/event.ts";
import type { CompiledDetectionRule, CompiledRule } from "../../src/rules/compile.ts";
import { type LinkedRules, linkRules } from "../../src/rules/link.ts";
import { type LoadOptions, type LoadResult, loadRuleSources } from "../../src/rules/load.ts";
import { MemoryStore } from "../../src/state/memory.ts";
import { auditEvents } from "../support/records.ts";

export interface EventOverrides {
  actor?: Partial<Actor>;
  facts?: Record<string, unknown>;
}

let counter = 0;

/** A CloudTrail record with the fields normaliseRecord needs, plus `fields`. */
export function record(fields: Record<string, unknown> = {}): Record<string, unknown> {
  counter++;
  return {
    eventVersion: "1.08",
    eventTime: "2026-11-20T10:00:00Z",
    eventSource: "s3.amazonaws.com",
    eventName: "GetObject",
    awsRegion: "us-east-1",
    sourceIPAddress: "203.0.113.7",
    userAgent: "aws-cli/2.15.0",
    eventID: `evt-${counter}`,
    eventType: "AwsApiCall",
    recipientAccountId: "111122223333",
    userIdentity: {
      type: "IAMUser",
      arn: "arn:aws:iam::111122223333:user/alice",
      accountId: "111122223333",
      userName: "alice",
    },
    ...fields,
  };
}

export function toEvent(raw: Record<string, unknown>, overrides: EventOverrides = {}): AuditEvent {
  const [event] = auditEvents([raw]);
  if (overrides.actor) event.actor = { ...event.actor, ...overrides.actor };
  if (overrides.facts) event.facts = { ...event.facts, ...overrides.facts };
  return event;
}

export function event(fields: Record<string, unknown> = {}, overrides: EventOverrides = {}): AuditEvent {
  return toEvent(record(fields), overrides);
}

/** Loads YAML rule text (compiled, not linked); fails the test on any load error. */
export function load(yaml: string, options: LoadOptions = {}): LoadResult {
  const result = loadRuleSources([{ file: "inline.yml", text: yaml }], options);
  expect(result.errors).toEqual([]);
  return result;
}

/** Loads YAML rule text and links it, untuned: what the engine takes. Fails the test on any problem. */
export function loadLinked(yaml: string, options: LoadOptions = {}): LinkedRules {
  const linked = linkRules(load(yaml, options).rules);
  expect(linked.problems).toEqual([]);
  return linked;
}

/** The lines a rule starts with: title and id (both `id`), the CloudTrail logsource, a level. */
export const ruleHead = (id: string, level = "low") =>
  `title: ${id}\nid: ${id}\nlogsource: {product: aws, service: cloudtrail}\nlevel: ${level}\n`;

const HEADER = "logsource: {product: aws, service: cloudtrail}\nlevel: high\n";

/** One detection rule from its `detection:` section (YAML, indented by two spaces). */
export function ruleWith(detection: string, options: LoadOptions = {}): CompiledDetectionRule {
  const { rules } = load(`title: t\nid: r1\n${HEADER}detection:\n${detection}`, options);
  const rule = rules[0];
  if (rule.kind !== "detection") throw new Error("expected a detection rule");
  return rule;
}

export function detectionRule(rules: CompiledRule[], id: string): CompiledDetectionRule {
  const r = rules.find((x) => x.meta.id === id);
  if (r?.kind !== "detection") throw new Error(`no detection rule ${id}`);
  return r;
}

/** Records of one invictus-ir trail file (copied into test/fixtures/corpus). */
export function invictusRecords(file: string): Record<string, unknown>[] {
  const path = new URL(`../fixtures/corpus/invictus-ir-aws-dataset/CloudTrail/${file}`, import.meta.url);
  return (JSON.parse(readFileSync(path, "utf8")) as { Records: Record<string, unknown>[] }).Records;
}

/** A real MemoryStore that counts window calls. */
export class CountingStore extends MemoryStore {
  calls = { addToWindows: 0, readWindows: 0 };
  override async addToWindows(...args: Parameters<MemoryStore["addToWindows"]>) {
    this.calls.addToWindows++;
    return super.addToWindows(...args);
  }
  override async readWindows(...args: Parameters<MemoryStore["readWindows"]>) {
    this.calls.readWindows++;
    return super.readWindows(...args);
  }
}

/** A base rule (by name) and an event_count correlation over it: three S3 calls in 5 minutes. */
export const S3_BURST = `${ruleHead("s3-call")}name: s3_call
detection:
  s:
    eventSource: s3.amazonaws.com
  condition: s
---
title: S3 burst
id: s3-burst
level: high
correlation:
  type: event_count
  rules: [s3_call]
  group-by: [actor.principal]
  timespan: 5m
  condition: {gte: 3}
`;

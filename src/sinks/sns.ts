/**
 * SNS alert feed: one message per new alert, PublishBatch where several (≤10 entries, ≤256 KB per
 * request), entries that come back in Failed[] retried with backoff, a publish that still fails throws.
 *
 * By default each message uses MessageStructure "json": `default` and `email` carry the readable
 * text, `sqs`, `lambda`, `https` and `http` the alert as JSON. AWS documents message attributes as
 * "sent only when the message structure is String, not JSON" (aws-formats.md §7.3), so
 * `messageStructure: "string"` sends the alert JSON to every protocol, attributes certainly with it.
 * Message attributes `severity`, `ruleId`, `actorKind`, `account` and `tags` serve subscription
 * filter policies. The subject is under 100 characters with
 * no control characters; the message stays under 256 KB by trimming samples first. Samples are
 * redacted again here: nothing unredacted leaves the process even if an alert came from elsewhere.
 *
 * "updated" alerts (the count of an alert already sent went up) are not re-sent by default, except
 * when their severity rose (`updates: "escalations"`, the default); `"all"` sends every update,
 * `"none"` only new alerts.
 */

import {
  type BatchResultErrorEntry,
  PublishBatchCommand,
  type PublishBatchRequestEntry,
  PublishCommand,
  type SNSClient,
} from "@aws-sdk/client-sns";
import { type Alert, alertMessageAttributes, renderAlertText } from "../alerts.ts";
import type { BatchResult, Sink } from "../batch.ts";
import { chunkBySize } from "../chunk.ts";
import { type Config, defaultConfig } from "../config.ts";
import {
  attemptsOf,
  backoffDelay,
  type RetryOptions,
  retryLeftovers,
  SinkPublishError,
  withRetry,
} from "../retry.ts";
import { cleanText, redactRecord } from "../sanitize.ts";

/** SNS message size limit (message + attributes), aws-formats.md §7.3. */
export const MAX_MESSAGE_BYTES = 256 * 1024;
/** Room kept for the envelope and accounting differences. */
export const MESSAGE_MARGIN_BYTES = 2 * 1024;
export const MAX_BATCH_ENTRIES = 10;
/** The subject must be "less than 100 characters". */
export const MAX_SUBJECT_CHARS = 99;

/** "json": a text for e-mail and the alert JSON for machines; "string": the alert JSON for all. */
type MessageStructure = Config["alerts"]["messageStructure"];

/** The configuration's `alerts` section (defaults "escalations" and "json", as there), and where to publish. */
export interface SnsAlertSinkOptions extends Partial<Config["alerts"]> {
  topicArn: string;
  retry?: RetryOptions;
}

/** "[HIGH] AI agent (via aws-mcp) deleted 3 objects …", < 100 characters, one line, no control characters. */
export function alertSubject(alert: Alert): string {
  const sev = alert.severity.toUpperCase();
  const prefix =
    alert.status === "new"
      ? `[${sev}] `
      : alert.escalatedFrom
        ? `[${sev}, raised from ${alert.escalatedFrom.toUpperCase()}] `
        : `[${sev}, update: ${alert.count} events] `;
  let subject = cleanText(`${prefix}${cleanText(alert.title, 400)}`, MAX_SUBJECT_CHARS);
  // "characters" may be counted in UTF-16 units: keep that under 100 too.
  while (subject.length > MAX_SUBJECT_CHARS) subject = `${Array.from(subject).slice(0, -2).join("")}…`;
  return subject || `[${sev}] agenttrail alert`;
}

function attributeBytes(attributes: Record<string, { DataType: string; StringValue: string }>): number {
  let n = 0;
  for (const [k, v] of Object.entries(attributes))
    n += Buffer.byteLength(k) + v.DataType.length + Buffer.byteLength(v.StringValue);
  return n;
}

export interface AlertMessage {
  subject: string;
  /** The MessageStructure "json" document, or with "string" the alert JSON. */
  message: string;
  attributes: ReturnType<typeof alertMessageAttributes>;
  /** Bytes counted against the SNS limit. */
  bytes: number;
}

function messageText(alert: Alert, extra: Record<string, unknown>, structure: MessageStructure): string {
  const json = JSON.stringify({ ...alert, ...extra });
  if (structure === "string") return json;
  const text = renderAlertText(alert);
  return JSON.stringify({ default: text, email: text, sqs: json, lambda: json, https: json, http: json });
}

export interface AlertMessageOptions {
  /** The size limit (message, subject and attributes); SNS's by default. */
  maxBytes?: number;
  /** The configuration's default unless given. */
  messageStructure?: MessageStructure;
}

/**
 * The SNS message for an alert, under the size limit: first with the full (re-redacted) sample, then
 * dropping sample records, then shortening lists and texts. Throws if even the minimum does not fit.
 */
export function alertMessage(
  alert: Alert,
  {
    maxBytes = MAX_MESSAGE_BYTES,
    messageStructure = defaultConfig.alerts.messageStructure,
  }: AlertMessageOptions = {},
): AlertMessage {
  const subject = alertSubject(alert);
  const attributes = alertMessageAttributes(alert);
  const overhead = attributeBytes(attributes) + Buffer.byteLength(subject);
  const budget = maxBytes - MESSAGE_MARGIN_BYTES - overhead;
  const base: Alert = { ...alert, sample: alert.sample.map((r) => redactRecord(r)) };
  const candidates: (() => [Alert, Record<string, unknown>])[] = [];
  for (let keep = base.sample.length; keep >= 0; keep--) {
    candidates.push(() => [
      { ...base, sample: base.sample.slice(0, keep) },
      keep < base.sample.length ? { sampleOmitted: base.sample.length - keep } : {},
    ]);
  }
  candidates.push(() => [
    {
      ...base,
      sample: [],
      eventIds: base.eventIds.slice(0, 10),
      title: cleanText(base.title, 200),
      description: base.description ? cleanText(base.description, 500) : undefined,
      runbook: base.runbook ? cleanText(base.runbook, 500) : undefined,
      actor: { ...base.actor, evidence: base.actor.evidence.slice(0, 3) },
    },
    { sampleOmitted: base.sample.length, trimmed: true },
  ]);
  for (const candidate of candidates) {
    const [a, extra] = candidate();
    const message = messageText(a, extra, messageStructure);
    const bytes = Buffer.byteLength(message);
    if (bytes <= budget) return { subject, message, attributes, bytes: bytes + overhead };
  }
  throw new SinkPublishError(
    `alert ${alert.id} does not fit in an SNS message of ${maxBytes} bytes even trimmed`,
  );
}

/** Groups messages into PublishBatch requests: ≤10 entries and ≤256 KB each. */
export function batchMessages<T extends { bytes: number }>(messages: readonly T[]): T[][] {
  return chunkBySize(messages, MAX_BATCH_ENTRIES, MAX_MESSAGE_BYTES - MESSAGE_MARGIN_BYTES, (m) => m.bytes);
}

export class SnsAlertSink implements Sink {
  private readonly fifo: boolean;
  private readonly updates: Config["alerts"]["updates"];
  private readonly structure: MessageStructure;
  /** MessageStructure as Publish takes it: "json", or left out for a plain string message. */
  private readonly structureField: { MessageStructure?: "json" };

  constructor(
    private readonly client: SNSClient,
    private readonly options: SnsAlertSinkOptions,
  ) {
    this.fifo = options.topicArn.endsWith(".fifo");
    // Defaults from the config schema: one place says what they are.
    this.updates = options.updates ?? defaultConfig.alerts.updates;
    this.structure = options.messageStructure ?? defaultConfig.alerts.messageStructure;
    this.structureField = this.structure === "json" ? { MessageStructure: "json" } : {};
  }

  /** The alerts of a batch this sink sends, per the update policy. */
  selectAlerts(alerts: readonly Alert[]): Alert[] {
    return alerts.filter(
      (a) =>
        a.status === "new" ||
        this.updates === "all" ||
        (this.updates === "escalations" && a.escalatedFrom !== undefined),
    );
  }

  async publish(result: BatchResult): Promise<void> {
    const alerts = this.selectAlerts(result.alerts);
    if (alerts.length === 0) return;
    const messages = alerts.map((alert) => ({
      alert,
      ...alertMessage(alert, { messageStructure: this.structure }),
    }));
    if (messages.length === 1) {
      await this.publishOne(messages[0]);
      return;
    }
    for (const batch of batchMessages(messages)) await this.publishBatch(batch);
  }

  /** What a Publish call and a PublishBatch entry both carry for one alert. */
  private messageFields(m: AlertMessage & { alert: Alert }) {
    return {
      Subject: m.subject,
      Message: m.message,
      ...this.structureField,
      MessageAttributes: m.attributes,
      ...this.fifoFields(m.alert),
    };
  }

  private fifoFields(alert: Alert): { MessageGroupId?: string; MessageDeduplicationId?: string } {
    if (!this.fifo) return {};
    // Same alert and count → same dedup id: SNS drops a retried duplicate within 5 minutes.
    return {
      MessageGroupId: alert.ruleId.slice(0, 128) || "agenttrail",
      MessageDeduplicationId: `${alert.id}-${alert.count}`,
    };
  }

  private async publishOne(m: AlertMessage & { alert: Alert }): Promise<void> {
    await withRetry(
      `SNS Publish of alert ${m.alert.id} to ${this.options.topicArn}`,
      () =>
        this.client.send(
          new PublishCommand({
            TopicArn: this.options.topicArn,
            ...this.messageFields(m),
          }),
        ),
      this.options.retry,
    );
  }

  /**
   * One PublishBatch call; entries that come back in Failed[] for a reason of SNS's own are sent
   * again with backoff, and a rejected entry (SenderFault) fails the publish at once. An entry the
   * response lists in neither Successful[] nor Failed[] is sent again too: an alert may then arrive
   * twice (a feed's consumers dedup by alert id), but it is never taken as sent without SNS saying so.
   */
  private async publishBatch(batch: (AlertMessage & { alert: Alert })[]): Promise<void> {
    const retry = this.options.retry ?? {};
    const entries: BatchEntry[] = batch.map((m, i) => ({
      alertId: m.alert.id,
      request: {
        Id: `a${i}`,
        ...this.messageFields(m),
      },
    }));
    await retryLeftovers(
      entries,
      async (pending) => {
        const response = await withRetry(
          `SNS PublishBatch of ${pending.length} alerts to ${this.options.topicArn}`,
          () =>
            this.client.send(
              new PublishBatchCommand({
                TopicArn: this.options.topicArn,
                PublishBatchRequestEntries: pending.map((e) => e.request),
              }),
            ),
          retry,
        );
        const failures = new Map((response.Failed ?? []).map((f) => [f.Id, f]));
        const sent = new Set((response.Successful ?? []).map((s) => s.Id));
        const failed: BatchEntry[] = [];
        for (const e of pending) {
          const failure = failures.get(e.request.Id) ?? (sent.has(e.request.Id) ? undefined : NOT_ANSWERED);
          if (failure) failed.push({ ...e, failure });
        }
        const permanent = failed.filter((e) => e.failure?.SenderFault);
        if (permanent.length) {
          throw new SinkPublishError(
            `SNS PublishBatch to ${this.options.topicArn} rejected ${permanent.length} alerts: ${describeFailures(failed)}`,
          );
        }
        return failed;
      },
      {
        attempts: attemptsOf(retry),
        delayMs: (attempt) => backoffDelay(attempt, retry),
        exhausted: (left, attempts) =>
          new SinkPublishError(
            `SNS PublishBatch to ${this.options.topicArn}: ${left.length} alerts still failing after ${attempts} attempts: ${describeFailures(left)}`,
          ),
        sleep: retry.sleep,
        onRetry: (left, attempt, delay) => retry.onRetry?.(new Error(describeFailures(left)), attempt, delay),
      },
    );
  }
}

/** Why an entry is sent again when the response does not mention it. */
const NOT_ANSWERED: BatchResultErrorEntry = {
  Id: undefined,
  Code: "NotAnswered",
  SenderFault: false,
  Message: "in neither Successful nor Failed of the response",
};

/** A PublishBatch entry, its alert, and why SNS last refused it (Failed[]). */
interface BatchEntry {
  alertId: string;
  request: PublishBatchRequestEntry;
  failure?: BatchResultErrorEntry;
}

function describeFailures(entries: BatchEntry[]): string {
  return entries
    .map((e) => `${e.alertId}: ${e.failure?.Code ?? "?"} ${e.failure?.Message ?? ""}`.trim())
    .join("; ");
}

/**
 * Lambda trigger envelopes → what to read (reference/aws-formats.md §4.4–4.5, §5).
 *
 * Accepted: S3 ObjectCreated notifications (directly, in SQS, in SNS, in SNS inside SQS), CloudTrail's own
 * SNS delivery notification (`s3Bucket`, `s3ObjectKey[]`, also inside SQS), and EventBridge CloudTrail
 * events (`detail` is the record), directly, through SNS, or queued in SQS (also inside SNS). Core
 * module: no AWS SDK.
 */

import { z } from "zod";
import { isObject } from "../json-values.ts";
import { describeIssues } from "../schema-issues.ts";
import { isCloudTrailLogKey } from "./keys.ts";

export interface S3ObjectRef {
  bucket: string;
  /** Decoded object key (S3 notifications URL-encode keys; CloudTrail's own notification does not). */
  key: string;
  /** `s3.object.eTag` of an S3 notification (CloudTrail's own notification has none). */
  etag?: string;
}

/** A CloudTrail record an EventBridge event carried through SQS or SNS: one batch, like a direct event. */
export interface QueuedRecord {
  /** `eventbridge:<EventBridge event id>`, as for a direct event. */
  source: string;
  record: unknown;
}

/**
 * One message of an SQS batch: the trail files it names or the record it carries, why it holds
 * nothing to read (logged, as an ignored event is), or why its body could not be understood (the
 * handler reports that message as a batch item failure). Reasons and errors start with the message's
 * label (`SQS message <id>: `).
 */
export type SqsMessage = { messageId: string } & (MessageContents | { kind: "error"; error: string });

export type Trigger =
  | { kind: "s3-objects"; objects: S3ObjectRef[] }
  | {
      kind: "sqs";
      /** Every message of the batch, in order; one that could not be read is an `error`, the others go on. */
      messages: SqsMessage[];
    }
  | { kind: "cloudtrail-records"; records: unknown[]; source: string }
  | { kind: "ignored"; reason: string };

/** A trigger that cannot be processed at all (not for one bad SQS message: see `SqsMessage`). */
export class TriggerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TriggerError";
  }
}

/** EventBridge detail-types whose `detail` is a CloudTrail record (both console sign-in spellings). */
const CLOUDTRAIL_DETAIL_TYPES: ReadonlySet<string> = new Set([
  "AWS API Call via CloudTrail",
  "AWS Console Signin via CloudTrail",
  "AWS Console Sign In via CloudTrail",
  "AWS Console Action via CloudTrail",
  "AWS Service Event via CloudTrail",
]);

/** S3 notification keys are URL-encoded with `+` for space. */
function decodeS3Key(encoded: string): string {
  return decodeURIComponent(encoded.replace(/\+/g, " "));
}

// ---- schemas (only the fields we read; unknown fields are allowed and ignored) --------------------------

const s3NotificationRecord = z.object({
  eventSource: z.literal("aws:s3").optional(),
  eventName: z.string(),
  s3: z.object({
    bucket: z.object({ name: z.string().min(1) }),
    object: z.object({ key: z.string().min(1), eTag: z.string().optional() }),
  }),
});
const s3Notification = z.object({ Records: z.array(s3NotificationRecord) });
const s3TestEvent = z.object({ Event: z.literal("s3:TestEvent") });

/** CloudTrail → SNS on each delivered file (keys are not URL-encoded). */
const cloudTrailNotification = z.object({
  s3Bucket: z.string().min(1),
  s3ObjectKey: z.union([z.array(z.string().min(1)), z.string().min(1)]),
});

/** SNS envelope as delivered to SQS/HTTP (`…URL`) or inside a Lambda SNS record (`…Url`). */
const snsEnvelope = z.object({
  Type: z.string(),
  MessageId: z.string().optional(),
  Message: z.string(),
  SigningCertURL: z.string().optional(),
  SigningCertUrl: z.string().optional(),
});

const sqsRecord = z.object({
  messageId: z.string().min(1),
  body: z.string(),
  eventSource: z.literal("aws:sqs").optional(),
});
const sqsEvent = z.object({ Records: z.array(sqsRecord).min(1) });

const snsLambdaEvent = z.object({
  Records: z.array(z.object({ EventSource: z.literal("aws:sns").optional(), Sns: snsEnvelope })).min(1),
});

const eventBridgeEvent = z.object({
  id: z.string().min(1),
  "detail-type": z.string(),
  source: z.string().optional(),
  detail: z.unknown(),
});

// ---- decoding ---------------------------------------------------------------------------------------

/** A malformed event can have an issue per field: its first three name it. */
function firstIssues(error: z.ZodError): string {
  return describeIssues(error, { max: 3 });
}

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new Error(`${what} is not JSON (${(err as Error).message})`);
  }
}

function dedupe(objects: S3ObjectRef[]): S3ObjectRef[] {
  const seen = new Set<string>();
  return objects.filter((o) => {
    const id = `${o.bucket}\u0000${o.key}`;
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  });
}

function objectsOfS3Notification(payload: z.infer<typeof s3Notification>): S3ObjectRef[] {
  const out: S3ObjectRef[] = [];
  for (const r of payload.Records) {
    if (!r.eventName.startsWith("ObjectCreated:")) continue;
    let key: string;
    try {
      key = decodeS3Key(r.s3.object.key);
    } catch {
      throw new Error(
        `object key ${JSON.stringify(r.s3.object.key.slice(0, 200))} is not valid URL encoding`,
      );
    }
    if (!isCloudTrailLogKey(key)) continue;
    const ref: S3ObjectRef = { bucket: r.s3.bucket.name, key };
    if (r.s3.object.eTag) ref.etag = r.s3.object.eTag;
    out.push(ref);
  }
  return out;
}

/**
 * What one notification holds: trail files to read (at least one), an EventBridge event's CloudTrail
 * record, or why it holds neither. contentsOfMessage (with parseEventBridge) decides the reason, once
 * for every kind of notification; the callers only pass it on.
 */
type MessageContents =
  | { kind: "objects"; objects: S3ObjectRef[] }
  | { kind: "record"; record: QueuedRecord }
  | { kind: "ignored"; reason: string };

/**
 * The trail files a notification names (`what`), or that it names none. Duplicates are dropped where
 * the files leave this module (triggerOf, parseSqs): an SNS event's messages are merged first.
 */
function namedObjects(objects: S3ObjectRef[], what: string): MessageContents {
  if (objects.length === 0) return { kind: "ignored", reason: `${what} names no CloudTrail log file` };
  return { kind: "objects", objects };
}

/**
 * What one notification payload holds: an S3 notification, an S3 test event, CloudTrail's delivery
 * notification, an EventBridge event (a rule targeting a queue or a topic), or an SNS envelope around
 * one of these. Strings are JSON-decoded (SQS bodies, SNS Message). Throws an Error saying what is
 * wrong with the payload, or that it is none of these; the message that carried it adds its own label
 * (contentsOfSnsMessage, parseSqs) and triggerOf makes it a TriggerError.
 */
function contentsOfMessage(payload: unknown, depth = 0): MessageContents {
  // A string is an SQS body or an SNS Message: the label of its message (contentsOfSnsMessage, parseSqs)
  // says which.
  if (typeof payload === "string") payload = parseJson(payload, depth === 0 ? "body" : "Message");
  if (!isObject(payload)) throw new Error("notification is not a JSON object");

  if ("detail-type" in payload) return parseEventBridge(payload);
  if ("Records" in payload) {
    const parsed = s3Notification.safeParse(payload);
    if (!parsed.success) throw new Error(`not an S3 event notification: ${firstIssues(parsed.error)}`);
    return namedObjects(objectsOfS3Notification(parsed.data), "S3 notification");
  }
  if (s3TestEvent.safeParse(payload).success) return { kind: "ignored", reason: "s3:TestEvent" };
  if ("s3Bucket" in payload) {
    const parsed = cloudTrailNotification.safeParse(payload);
    if (!parsed.success)
      throw new Error(`not a CloudTrail delivery notification: ${firstIssues(parsed.error)}`);
    const keys = Array.isArray(parsed.data.s3ObjectKey) ? parsed.data.s3ObjectKey : [parsed.data.s3ObjectKey];
    return namedObjects(
      keys.filter(isCloudTrailLogKey).map((key) => ({ bucket: parsed.data.s3Bucket, key })),
      "CloudTrail delivery notification",
    );
  }
  if ("Type" in payload) {
    const parsed = snsEnvelope.safeParse(payload);
    if (!parsed.success) throw new Error(`not an SNS notification: ${firstIssues(parsed.error)}`);
    const type = parsed.data.Type;
    // SubscriptionConfirmation / UnsubscribeConfirmation carry nothing to read
    if (type !== "Notification")
      return { kind: "ignored", reason: `SNS Type ${JSON.stringify(type.slice(0, 100))}` };
    if (depth >= 2) throw new Error("SNS notification nested too deep");
    return contentsOfSnsMessage(parsed.data.Message, parsed.data.MessageId, depth + 1);
  }
  const keys = Object.keys(payload).slice(0, 8).join(", ");
  throw new Error(`not an S3, SNS, CloudTrail or EventBridge notification (keys: ${keys || "none"})`);
}

/**
 * An SNS notification's Message (in an envelope, or in a record of Lambda's SNS event): why it could
 * not be read is labelled with the notification, once however it arrived.
 */
function contentsOfSnsMessage(
  message: string,
  messageId: string | undefined,
  depth: number,
): MessageContents {
  try {
    return contentsOfMessage(message, depth);
  } catch (err) {
    throw new Error(`SNS message ${messageId ?? "(no MessageId)"}: ${(err as Error).message}`);
  }
}

function parseSqs(event: z.infer<typeof sqsEvent>): Trigger {
  const messages = event.Records.map(({ messageId, body }): SqsMessage => {
    const what = `SQS message ${messageId}`;
    let contents: MessageContents;
    try {
      contents = contentsOfMessage(body);
    } catch (err) {
      return { messageId, kind: "error", error: `${what}: ${(err as Error).message}` };
    }
    if (contents.kind === "ignored")
      return { messageId, kind: "ignored", reason: `${what}: ${contents.reason}` };
    if (contents.kind === "objects") return { messageId, kind: "objects", objects: dedupe(contents.objects) };
    return { messageId, ...contents };
  });
  return { kind: "sqs", messages };
}

/** An EventBridge event, direct or inside an SQS body or SNS message: its record, or why it holds none. */
function parseEventBridge(payload: unknown): Exclude<MessageContents, { kind: "objects" }> {
  const parsed = eventBridgeEvent.safeParse(payload);
  if (!parsed.success) throw new Error(`malformed EventBridge event: ${firstIssues(parsed.error)}`);
  const event = parsed.data;
  const detailType = event["detail-type"];
  if (!CLOUDTRAIL_DETAIL_TYPES.has(detailType)) {
    return { kind: "ignored", reason: `EventBridge detail-type ${JSON.stringify(detailType.slice(0, 100))}` };
  }
  if (!isObject(event.detail)) {
    throw new Error(`EventBridge event ${event.id}: detail is not a CloudTrail record object`);
  }
  return { kind: "record", record: { source: `eventbridge:${event.id}`, record: event.detail } };
}

/**
 * Classifies a Lambda event. An SQS batch gives `sqs`, one entry a message: what it names or why it
 * could not be read, so one bad message never hides the others. An event whose Records are empty is
 * ignored; one that cannot be understood (an SQS batch whose records are not SQS messages included)
 * throws a TriggerError.
 */
export function parseTrigger(event: unknown): Trigger {
  if (!isObject(event)) throw new TriggerError("trigger event is not a JSON object");

  if (Array.isArray(event.Records)) {
    const first: unknown = event.Records[0];
    if (first === undefined) return { kind: "ignored", reason: "event has no Records" };
    if (isObject(first) && (first.eventSource === "aws:sqs" || "receiptHandle" in first || "body" in first)) {
      const parsed = sqsEvent.safeParse(event);
      if (!parsed.success) throw new TriggerError(`malformed SQS event: ${firstIssues(parsed.error)}`);
      return parseSqs(parsed.data);
    }
    if (isObject(first) && (first.EventSource === "aws:sns" || "Sns" in first)) {
      const parsed = snsLambdaEvent.safeParse(event);
      if (!parsed.success) throw new TriggerError(`malformed SNS event: ${firstIssues(parsed.error)}`);
      return triggerOf(() => contentsOfSnsEvent(parsed.data));
    }
  }

  // An EventBridge event, an S3 notification, an S3 test event, CloudTrail's delivery notification,
  // or an SNS envelope around one of these (a subscription that is not Lambda's own SNS trigger).
  // Its error says what it was taken for, or that it is none of these.
  return triggerOf(() => contentsOfMessage(event));
}

/**
 * The messages of a Lambda SNS event as one notification: the trail files they name, an EventBridge
 * event's record, or (when none names anything to read) the first one's reason.
 */
function contentsOfSnsEvent(event: z.infer<typeof snsLambdaEvent>): MessageContents {
  // An EventBridge rule can target the topic: its Message is the event itself.
  const contents = event.Records.map(({ Sns }) => contentsOfSnsMessage(Sns.Message, Sns.MessageId, 1));
  const objects = contents.flatMap((c) => (c.kind === "objects" ? c.objects : []));
  const records = contents.filter((c) => c.kind === "record");
  if (records.length === 0) return objects.length > 0 ? { kind: "objects", objects } : contents[0];
  // Lambda hands an SNS subscription one message per invocation; an event is one batch, as directly.
  if (records.length > 1 || objects.length > 0) {
    throw new Error(
      `SNS notification holds ${contents.length} messages with EventBridge events among them: expected one message per invocation`,
    );
  }
  return records[0];
}

/**
 * The trigger of the one notification an event is: trail files, an EventBridge event's record (one
 * batch), or nothing to read and why. What is wrong with the notification (`read` throws) fails the
 * invocation: a TriggerError, its message as it is (labelled already by the messages it came in).
 */
function triggerOf(read: () => MessageContents): Trigger {
  let contents: MessageContents;
  try {
    contents = read();
  } catch (err) {
    throw new TriggerError((err as Error).message);
  }
  switch (contents.kind) {
    case "objects":
      return { kind: "s3-objects", objects: dedupe(contents.objects) };
    case "record":
      return {
        kind: "cloudtrail-records",
        records: [contents.record.record],
        source: contents.record.source,
      };
    case "ignored":
      return { kind: "ignored", reason: contents.reason };
  }
}

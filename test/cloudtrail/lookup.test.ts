// aws-sdk-client-mock here because moto has no CloudTrail LookupEvents.

import { readFileSync } from "node:fs";
import {
  CloudTrailClient,
  type Event,
  LookupEventsCommand,
  type LookupEventsCommandInput,
  ThrottlingException,
} from "@aws-sdk/client-cloudtrail";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { UnparseableRecord } from "../../src/cloudtrail/decode.ts";
import {
  type LookupBatch,
  type LookupOptions,
  lookupEventBatches,
  TokenBucket,
} from "../../src/cloudtrail/lookup.ts";

const RECORDS: Record<string, unknown>[] = JSON.parse(
  readFileSync(
    new URL(
      "../fixtures/corpus/aws-cloudtrail-processing-library/SerializerTestFileCompact.json",
      import.meta.url,
    ),
    "utf8",
  ),
).Records;

/** LookupEvents' Event for a record, as the API returns it (the record as a JSON string). */
function lookupEvent(record: Record<string, unknown>, i: number): Event {
  return {
    EventId: `evt-${i}`,
    EventName: String(record.eventName),
    ReadOnly: "false",
    EventTime: new Date("2013-11-01T00:00:00Z"),
    EventSource: String(record.eventSource),
    CloudTrailEvent: JSON.stringify(record),
  };
}

const START = new Date("2026-01-05T00:00:00Z");
const END = new Date("2026-01-05T06:00:00Z");

const cloudtrail = mockClient(CloudTrailClient);
let now: number;
let sleeps: number[];

/** A clock that only sleeping moves, so pacing is observable as sleep calls. */
function fakeTime(): Pick<LookupOptions, "clock" | "sleep"> {
  return {
    clock: () => now,
    sleep: async (ms: number) => {
      sleeps.push(ms);
      now += ms;
    },
  };
}

async function collect(opts: Partial<LookupOptions> = {}): Promise<LookupBatch[]> {
  const out: LookupBatch[] = [];
  const client = new CloudTrailClient({ region: "us-east-1" });
  for await (const batch of lookupEventBatches(client, { start: START, end: END, ...fakeTime(), ...opts })) {
    out.push(batch);
  }
  return out;
}

const inputs = (): LookupEventsCommandInput[] =>
  cloudtrail.commandCalls(LookupEventsCommand).map((call) => call.args[0].input);

function throttled(): ThrottlingException {
  return new ThrottlingException({ message: "Rate exceeded", $metadata: { httpStatusCode: 400 } });
}

beforeEach(() => {
  cloudtrail.reset();
  now = 1_767_571_200_000;
  sleeps = [];
});
afterEach(() => cloudtrail.reset());

describe("lookupEventBatches", () => {
  it("pages with NextToken, 50 per request, one batch of parsed records per page", async () => {
    cloudtrail
      .on(LookupEventsCommand)
      .resolvesOnce({ Events: RECORDS.slice(0, 2).map(lookupEvent), NextToken: "t1" })
      .resolvesOnce({ Events: RECORDS.slice(2, 5).map((r, i) => lookupEvent(r, i + 2)), NextToken: "t2" })
      .resolvesOnce({ Events: RECORDS.slice(5).map((r, i) => lookupEvent(r, i + 5)) });

    const batches = await collect();
    expect(batches.map((b) => b.records)).toEqual([
      RECORDS.slice(0, 2),
      RECORDS.slice(2, 5),
      RECORDS.slice(5),
    ]);
    expect(new Set(batches.map((b) => b.source)).size).toBe(3);
    expect(
      inputs().map((i) => [i.NextToken, i.MaxResults, i.StartTime, i.EndTime, i.LookupAttributes]),
    ).toEqual([
      [undefined, 50, START, END, undefined],
      ["t1", 50, START, END, undefined],
      ["t2", 50, START, END, undefined],
    ]);
  });

  it("passes the one lookup attribute through on every page", async () => {
    cloudtrail
      .on(LookupEventsCommand)
      .resolvesOnce({ Events: [lookupEvent(RECORDS[0], 0)], NextToken: "t1" })
      .resolvesOnce({ Events: [lookupEvent(RECORDS[1], 1)] });
    await collect({ attribute: { key: "EventName", value: "DeleteBucket" } });
    expect(inputs().map((i) => i.LookupAttributes)).toEqual([
      [{ AttributeKey: "EventName", AttributeValue: "DeleteBucket" }],
      [{ AttributeKey: "EventName", AttributeValue: "DeleteBucket" }],
    ]);
  });

  it("stops after maxPages and skips empty pages without stopping", async () => {
    cloudtrail
      .on(LookupEventsCommand)
      .resolvesOnce({ Events: [], NextToken: "t1" })
      .resolvesOnce({ Events: [lookupEvent(RECORDS[0], 0)], NextToken: "t2" })
      .resolvesOnce({ Events: [lookupEvent(RECORDS[1], 1)], NextToken: "t3" })
      .resolves({ Events: [lookupEvent(RECORDS[2], 2)], NextToken: "more" });
    const progress: unknown[] = [];
    const batches = await collect({ maxPages: 3, onProgress: (p) => progress.push(p) });
    expect(batches.map((b) => b.records)).toEqual([[RECORDS[0]], [RECORDS[1]]]);
    expect(inputs()).toHaveLength(3);
    expect(progress).toEqual([
      { pages: 1, events: 0, throttled: 0 },
      { pages: 2, events: 1, throttled: 0 },
      { pages: 3, events: 2, throttled: 0 },
    ]);
  });

  it("paces requests at 2 per second and does not wait when the consumer was slower", async () => {
    cloudtrail
      .on(LookupEventsCommand)
      .resolvesOnce({ Events: [lookupEvent(RECORDS[0], 0)], NextToken: "t1" })
      .resolvesOnce({ Events: [lookupEvent(RECORDS[1], 1)], NextToken: "t2" })
      .resolvesOnce({ Events: [lookupEvent(RECORDS[2], 2)], NextToken: "t3" })
      .resolvesOnce({ Events: [lookupEvent(RECORDS[3], 3)] });
    const client = new CloudTrailClient({ region: "us-east-1" });
    let page = 0;
    for await (const _ of lookupEventBatches(client, { start: START, end: END, ...fakeTime() })) {
      page++;
      if (page === 2) now += 800; // processing the page took longer than the pacing interval
    }
    // page 1 immediately, page 2 after 500 ms, page 3 none (800 ms passed), page 4 after 500 ms
    expect(sleeps).toEqual([500, 500]);
    expect(inputs()).toHaveLength(4);
  });

  it("retries a throttled request with growing backoff and reports it", async () => {
    cloudtrail
      .on(LookupEventsCommand)
      .rejectsOnce(throttled())
      .rejectsOnce(throttled())
      .resolvesOnce({ Events: [lookupEvent(RECORDS[0], 0)] });
    const progress: { throttled: number }[] = [];
    const batches = await collect({ onProgress: (p) => progress.push(p) });
    expect(batches.map((b) => b.records)).toEqual([[RECORDS[0]]]);
    expect(inputs()).toHaveLength(3);
    expect(inputs().every((i) => i.NextToken === undefined)).toBe(true);
    // backoff 1000 then 2000; the pacer adds nothing since the backoff already spaced the requests
    expect(sleeps).toEqual([1000, 2000]);
    // each throttle is reported before its wait, then the page
    expect(progress).toEqual([
      { pages: 0, events: 0, throttled: 1 },
      { pages: 0, events: 0, throttled: 2 },
      { pages: 1, events: 1, throttled: 2 },
    ]);
  });

  it("knows throttling however it is reported: HTTP 429 and other services' names retry too", async () => {
    const tooMany = Object.assign(new Error("Too Many Requests"), {
      name: "UnknownError",
      $metadata: { httpStatusCode: 429 },
    });
    const limit = Object.assign(new Error("limit"), { name: "RequestLimitExceeded" });
    cloudtrail
      .on(LookupEventsCommand)
      .rejectsOnce(tooMany)
      .rejectsOnce(limit)
      .resolvesOnce({ Events: [lookupEvent(RECORDS[0], 0)] });
    expect((await collect()).map((b) => b.records)).toEqual([[RECORDS[0]]]);
    expect(inputs()).toHaveLength(3);
  });

  it("gives up after maxThrottleRetries, and never retries other errors", async () => {
    cloudtrail.on(LookupEventsCommand).rejects(throttled());
    await expect(collect({ maxThrottleRetries: 2 })).rejects.toThrow(ThrottlingException);
    expect(inputs()).toHaveLength(3);

    cloudtrail.reset();
    const denied = Object.assign(new Error("not authorized to perform cloudtrail:LookupEvents"), {
      name: "AccessDeniedException",
    });
    cloudtrail.on(LookupEventsCommand).rejects(denied);
    await expect(collect()).rejects.toThrow(/not authorized/);
    expect(inputs()).toHaveLength(1);
  });

  it("with onPageFailed, reports the page that cannot be read and keeps the pages before it", async () => {
    const denied = Object.assign(new Error("not authorized to perform cloudtrail:LookupEvents"), {
      name: "AccessDeniedException",
      $metadata: { httpStatusCode: 400 },
    });
    cloudtrail
      .on(LookupEventsCommand)
      .resolvesOnce({ Events: [lookupEvent(RECORDS[0], 0)], NextToken: "t2" })
      .rejectsOnce(throttled())
      .rejects(denied);
    const failed: [string, string][] = [];
    const batches = await collect({
      maxThrottleRetries: 1,
      attribute: { key: "Username", value: "bob" },
      onPageFailed: (source, err) => failed.push([source, err.message]),
    });
    expect(batches.map((b) => b.records)).toEqual([[RECORDS[0]]]);
    expect(failed).toEqual([
      [
        "cloudtrail-lookup Username=bob page 2",
        "cloudtrail-lookup Username=bob page 2: not readable: AccessDeniedException (HTTP 400): not authorized to perform cloudtrail:LookupEvents",
      ],
    ]);
    // The throttled attempt was retried; the denied one was not, and no page came after it.
    expect(inputs()).toHaveLength(3);
  });

  it("turns an unparseable CloudTrailEvent into a malformed record, keeping the others", async () => {
    cloudtrail.on(LookupEventsCommand).resolvesOnce({
      Events: [
        lookupEvent(RECORDS[0], 0),
        { ...lookupEvent(RECORDS[1], 1), CloudTrailEvent: '{"eventVersion":"1.08",' },
        { EventId: "evt-2", EventName: "ListBuckets" },
        lookupEvent(RECORDS[3], 3),
      ],
    });
    const [batch] = await collect();
    expect(batch.records).toHaveLength(4);
    expect(batch.records[0]).toEqual(RECORDS[0]);
    expect(batch.records[3]).toEqual(RECORDS[3]);
    expect(batch.records[1]).toBeInstanceOf(UnparseableRecord);
    expect((batch.records[1] as UnparseableRecord).reason).toMatch(
      /^LookupEvents event evt-1: CloudTrailEvent is not JSON/,
    );
    expect((batch.records[2] as UnparseableRecord).reason).toBe(
      "LookupEvents event evt-2: no CloudTrailEvent",
    );
  });

  it("rejects a time range that does not go forward", async () => {
    await expect(collect({ start: END, end: START })).rejects.toThrow(/start .* is not before end/);
    expect(inputs()).toHaveLength(0);
  });
});

describe("TokenBucket", () => {
  it("allows a burst, then spaces takes by 1/rate", async () => {
    const time = fakeTime();
    const bucket = new TokenBucket(4, 2, time.clock, time.sleep);
    for (let i = 0; i < 4; i++) await bucket.take();
    expect(sleeps).toEqual([250, 250]);
  });
});

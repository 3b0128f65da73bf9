/**
 * CloudTrail LookupEvents → batches of records, for `agenttrail lookup` (reference/aws-formats.md §7.4):
 * management events of the last 90 days, 50 per page, at most one lookup attribute, 2 requests/s per account
 * and Region. Pages come newest first; each page is one batch.
 */

import {
  type CloudTrailClient,
  type LookupAttributeKey,
  LookupEventsCommand,
  type LookupEventsCommandOutput,
} from "@aws-sdk/client-cloudtrail";
import { describeAwsError, isThrottlingError, sleep as realSleep, type Sleep } from "../retry.ts";
import { FileError, UnparseableRecord } from "./decode.ts";

export const LOOKUP_ATTRIBUTE_KEYS: readonly LookupAttributeKey[] = [
  "AccessKeyId",
  "EventId",
  "EventName",
  "EventSource",
  "ReadOnly",
  "ResourceName",
  "ResourceType",
  "Username",
];

/**
 * `Key=Value` (as `agenttrail lookup --attribute` takes it) → a lookup attribute; the key must be one
 * LookupEvents accepts. The value may itself contain `=`.
 */
export function parseLookupAttribute(text: string): { key: LookupAttributeKey; value: string } {
  const eq = text.indexOf("=");
  const key = text.slice(0, eq) as LookupAttributeKey;
  if (eq < 0 || !LOOKUP_ATTRIBUTE_KEYS.includes(key)) {
    throw new Error(
      `expected Key=Value with Key one of ${LOOKUP_ATTRIBUTE_KEYS.join(", ")}, not ${JSON.stringify(text.slice(0, 100))}`,
    );
  }
  return { key, value: text.slice(eq + 1) };
}

export interface LookupProgress {
  pages: number;
  events: number;
  /** Throttled requests retried so far. */
  throttled: number;
}

export interface LookupOptions {
  start: Date;
  end: Date;
  attribute?: { key: LookupAttributeKey; value: string };
  /** Stop after this many pages (50 events each). */
  maxPages?: number;
  /** Called after each page, and when a throttled request is about to be retried (before the wait). */
  onProgress?: (progress: LookupProgress) => void;
  /** Requests per second; LookupEvents allows 2 per account and Region. */
  ratePerSecond?: number;
  /** Retries of one request after ThrottlingException before giving up. */
  maxThrottleRetries?: number;
  /**
   * Called with the page's source and error when a page cannot be read (after the throttling
   * retries); paging stops there, the pages already read stand. Without it the error is thrown.
   */
  onPageFailed?: (source: string, err: FileError) => void;
  /** Injectable time, so tests check the pacing without waiting. */
  clock?: () => number;
  sleep?: Sleep;
}

export interface LookupBatch {
  source: string;
  /** Parsed CloudTrailEvent records; an unparseable one is an UnparseableRecord (counted as malformed). */
  records: unknown[];
}

const PAGE_SIZE = 50;
const THROTTLE_BACKOFF_MS = 1000;
const MAX_BACKOFF_MS = 20_000;

/** A token bucket: `take()` waits until a request may go out at `ratePerSecond`, bursts up to `burst`. */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private readonly ratePerSecond: number,
    private readonly burst: number,
    private readonly clock: () => number = Date.now,
    private readonly sleep: Sleep = realSleep,
  ) {
    if (!(ratePerSecond > 0) || !(burst >= 1))
      throw new Error("TokenBucket needs a positive rate and burst >= 1");
    this.tokens = burst;
    this.last = clock();
  }

  async take(): Promise<void> {
    for (;;) {
      const now = this.clock();
      this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) * this.ratePerSecond) / 1000);
      this.last = now;
      if (this.tokens >= 1) {
        this.tokens -= 1;
        return;
      }
      await this.sleep(Math.ceil(((1 - this.tokens) * 1000) / this.ratePerSecond));
    }
  }
}

function parseEvent(event: NonNullable<LookupEventsCommandOutput["Events"]>[number]): unknown {
  const id = event.EventId ?? "(no EventId)";
  if (typeof event.CloudTrailEvent !== "string") {
    return new UnparseableRecord(`LookupEvents event ${id}: no CloudTrailEvent`);
  }
  try {
    return JSON.parse(event.CloudTrailEvent);
  } catch (err) {
    return new UnparseableRecord(
      `LookupEvents event ${id}: CloudTrailEvent is not JSON: ${(err as Error).message}`,
    );
  }
}

/**
 * Pages through LookupEvents between `start` and `end`, one batch per non-empty page. Requests are paced by
 * a token bucket; a throttled request is retried with exponential backoff, then the error is thrown
 * (or, with `onPageFailed`, reported there and paging stops).
 */
export async function* lookupEventBatches(
  client: CloudTrailClient,
  opts: LookupOptions,
): AsyncIterable<LookupBatch> {
  if (!(opts.start.getTime() < opts.end.getTime())) {
    throw new Error(`lookup: start ${opts.start.toISOString()} is not before end ${opts.end.toISOString()}`);
  }
  const clock = opts.clock ?? Date.now;
  const sleep = opts.sleep ?? realSleep;
  const pacer = new TokenBucket(opts.ratePerSecond ?? 2, 1, clock, sleep);
  const maxRetries = opts.maxThrottleRetries ?? 6;
  const progress: LookupProgress = { pages: 0, events: 0, throttled: 0 };
  const attribute = opts.attribute ? `${opts.attribute.key}=${opts.attribute.value}` : "all";
  /** How a page is named as a batch source, and when it cannot be read. */
  const pageSource = (page: number) => `cloudtrail-lookup ${attribute} page ${page}`;

  let nextToken: string | undefined;
  do {
    if (opts.maxPages !== undefined && progress.pages >= opts.maxPages) return;
    let page: LookupEventsCommandOutput | undefined;
    for (let attempt = 0; page === undefined; attempt++) {
      await pacer.take();
      try {
        page = await client.send(
          new LookupEventsCommand({
            StartTime: opts.start,
            EndTime: opts.end,
            MaxResults: PAGE_SIZE,
            NextToken: nextToken,
            LookupAttributes: opts.attribute
              ? [{ AttributeKey: opts.attribute.key, AttributeValue: opts.attribute.value }]
              : undefined,
          }),
        );
      } catch (err) {
        if (!isThrottlingError(err) || attempt >= maxRetries) {
          if (!opts.onPageFailed) throw err;
          // Without this page's NextToken there is no next page: report it, keep what was read.
          const source = pageSource(progress.pages + 1);
          opts.onPageFailed(source, new FileError(source, `not readable: ${describeAwsError(err)}`));
          return;
        }
        progress.throttled++;
        opts.onProgress?.({ ...progress });
        await sleep(Math.min(MAX_BACKOFF_MS, THROTTLE_BACKOFF_MS * 2 ** attempt));
      }
    }
    progress.pages++;
    const records = (page.Events ?? []).map(parseEvent);
    progress.events += records.length;
    opts.onProgress?.({ ...progress });
    nextToken = page.NextToken || undefined;
    if (records.length > 0) {
      yield { source: pageSource(progress.pages), records };
    }
  } while (nextToken);
}

/** The retry policy of AWS calls (src/retry.ts: sinks, DynamoDB store, LookupEvents). Pure. */
import { describe, expect, it } from "vitest";
import {
  backoffDelay,
  isRetryableError,
  isThrottlingError,
  retryLeftovers,
  SinkPublishError,
  withRetry,
} from "../src/retry.ts";

const awsError = (name: string, status: number, extra: Record<string, unknown> = {}) =>
  Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status }, ...extra });

describe("isRetryableError", () => {
  it("retries throttling, server faults and network failures", () => {
    expect(isRetryableError(awsError("ThrottlingException", 400))).toBe(true);
    expect(isRetryableError(awsError("Throttling", 400))).toBe(true);
    expect(isRetryableError(awsError("SomethingNew", 503))).toBe(true);
    expect(isRetryableError(awsError("SomethingNew", 429))).toBe(true);
    expect(isRetryableError(Object.assign(new Error("socket hang up"), { code: "ECONNRESET" }))).toBe(true);
    expect(isRetryableError(awsError("Odd", 400, { $retryable: { throttling: true } }))).toBe(true);
  });

  it("does not retry client errors", () => {
    expect(isRetryableError(awsError("NotFoundException", 404))).toBe(false);
    expect(isRetryableError(awsError("InvalidParameterValue", 400))).toBe(false);
    expect(isRetryableError(awsError("AuthorizationError", 403))).toBe(false);
    expect(isRetryableError("boom")).toBe(false);
  });
});

describe("backoffDelay", () => {
  it("grows exponentially up to the cap, with full jitter", () => {
    const top = () => 0.999999;
    expect(backoffDelay(1, { random: top, baseDelayMs: 100 })).toBe(99);
    expect(backoffDelay(3, { random: top, baseDelayMs: 100 })).toBe(399);
    expect(backoffDelay(20, { random: top, baseDelayMs: 100, maxDelayMs: 1000 })).toBe(999);
    expect(backoffDelay(3, { random: () => 0, baseDelayMs: 100 })).toBe(0);
  });
});

describe("withRetry", () => {
  it("retries a retryable failure, sleeping the backoff, then returns the result", async () => {
    const slept: number[] = [];
    let calls = 0;
    const value = await withRetry(
      "op",
      async () => {
        calls++;
        if (calls < 3) throw awsError("ThrottlingException", 400);
        return "ok";
      },
      { sleep: async (ms) => void slept.push(ms), random: () => 0.5, baseDelayMs: 100 },
    );
    expect(value).toBe("ok");
    expect(calls).toBe(3);
    expect(slept).toEqual([50, 100]);
  });

  it("gives up at once on a non-retryable error, naming the operation", async () => {
    let calls = 0;
    const run = withRetry(
      "SNS Publish to arn:x",
      async () => {
        calls++;
        throw awsError("NotFoundException", 404);
      },
      { sleep: async () => {} },
    );
    await expect(run).rejects.toBeInstanceOf(SinkPublishError);
    await expect(run).rejects.toThrow(
      "SNS Publish to arn:x failed (not retryable): NotFoundException: NotFoundException",
    );
    expect(calls).toBe(1);
  });

  it("stops after the configured attempts and keeps the last error as cause", async () => {
    let calls = 0;
    const last = awsError("ServiceUnavailable", 503);
    const err = await withRetry(
      "op",
      async () => {
        calls++;
        throw last;
      },
      { attempts: 4, sleep: async () => {} },
    ).catch((e: unknown) => e);
    expect(calls).toBe(4);
    expect(err).toBeInstanceOf(SinkPublishError);
    expect((err as Error).message).toContain("after 4 attempts");
    expect((err as Error).cause).toBe(last);
  });
});

describe("isThrottlingError", () => {
  it("knows throttling by name, code, the SDK's marker and HTTP 429, whatever the service calls it", () => {
    for (const name of [
      "ThrottlingException",
      "Throttling",
      "RequestLimitExceeded",
      "TooManyRequestsException",
    ])
      expect(isThrottlingError(awsError(name, 400))).toBe(true);
    expect(isThrottlingError(Object.assign(new Error("x"), { code: "SlowDown" }))).toBe(true);
    expect(isThrottlingError(awsError("Odd", 400, { $retryable: { throttling: true } }))).toBe(true);
    expect(isThrottlingError(awsError("Odd", 429))).toBe(true);
  });

  it("is not a server fault or a client error", () => {
    expect(isThrottlingError(awsError("InternalError", 500))).toBe(false);
    expect(isThrottlingError(awsError("Odd", 500, { $retryable: {} }))).toBe(false);
    expect(isThrottlingError(awsError("AccessDeniedException", 400))).toBe(false);
    expect(isThrottlingError(undefined)).toBe(false);
  });
});

describe("retryLeftovers", () => {
  const noWait = async () => {};

  it("sends again only what the last send left over, waiting the delay of each attempt", async () => {
    const sent: number[][] = [];
    const slept: number[] = [];
    await retryLeftovers(
      [1, 2, 3, 4],
      async (items) => {
        sent.push(items);
        return items.filter((x) => x > sent.length + 1);
      },
      {
        attempts: 5,
        delayMs: (attempt) => attempt * 10,
        exhausted: () => new Error("unreachable"),
        sleep: async (ms) => void slept.push(ms),
      },
    );
    expect(sent).toEqual([[1, 2, 3, 4], [3, 4], [4]]);
    expect(slept).toEqual([10, 20]);
  });

  it("throws the caller's error with what is left after the last attempt", async () => {
    let sends = 0;
    const retried: number[] = [];
    const run = retryLeftovers(
      ["a", "b"],
      async (items) => {
        sends++;
        return items.slice(-1);
      },
      {
        attempts: 2,
        delayMs: () => 0,
        exhausted: (left, attempts) => new Error(`${left.join(",")} left after ${attempts}`),
        sleep: noWait,
        onRetry: (_left, attempt) => void retried.push(attempt),
      },
    );
    await expect(run).rejects.toThrow("b left after 2");
    expect(sends).toBe(2);
    expect(retried).toEqual([1]);
  });

  it("lets an error of the send end the loop as it is", async () => {
    const boom = new Error("boom");
    const run = retryLeftovers([1], async () => Promise.reject(boom), {
      attempts: 3,
      delayMs: () => 0,
      exhausted: () => new Error("unreachable"),
      sleep: noWait,
    });
    await expect(run).rejects.toBe(boom);
  });
});

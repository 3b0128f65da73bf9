/**
 * Retries of AWS calls, shared by the sinks, the DynamoDB store and LookupEvents. The SDK retries
 * each request a few times itself; these loops cover what it does not: throttling that outlasts the
 * SDK's budget (withRetry), and partial batch failures that come back with HTTP 200 — PublishBatch
 * Failed[], BatchWriteItem/BatchGetItem unprocessed items (retryLeftovers).
 * No AWS SDK import: errors are recognised by their name, $retryable marker or HTTP status.
 */

export type Sleep = (ms: number) => Promise<void>;

export const sleep: Sleep = (ms) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export interface RetryOptions {
  /** Attempts in total, the first included (default 5). */
  attempts?: number;
  /** First backoff ceiling in ms (default 200), doubled per attempt. */
  baseDelayMs?: number;
  /** Largest backoff in ms (default 5000). */
  maxDelayMs?: number;
  /** Injected for tests; defaults to setTimeout. */
  sleep?: Sleep;
  /** Injected for tests; defaults to Math.random. */
  random?: () => number;
  /** Called before each retry (logging). */
  onRetry?: (error: unknown, attempt: number, delayMs: number) => void;
}

const THROTTLING = new Set([
  "Throttling",
  "ThrottlingException",
  "ThrottledException",
  "RequestThrottled",
  "RequestThrottledException",
  "TooManyRequestsException",
  "RequestLimitExceeded",
  "ProvisionedThroughputExceededException",
  "SlowDown",
  "Throttled",
  "KMSThrottlingException",
]);

const TRANSIENT = new Set([
  "InternalFailure",
  "InternalError",
  "InternalErrorException",
  "InternalServerError",
  "ServiceUnavailable",
  "ServiceUnavailableException",
  "RequestTimeout",
  "RequestTimeoutException",
  "TimeoutError",
  "EC2ThrottledException",
  "KMSInternalException",
  "ECONNRESET",
  "ECONNREFUSED",
  "ETIMEDOUT",
  "EPIPE",
  "EAI_AGAIN",
]);

interface ErrorLike {
  name?: string;
  code?: string;
  $retryable?: unknown;
  $metadata?: { httpStatusCode?: number };
}

/** The service asked us to slow down: by error name or code, the SDK's throttling marker, or HTTP 429. */
export function isThrottlingError(error: unknown): boolean {
  if (typeof error !== "object" || error === null) return false;
  const e = error as ErrorLike;
  if ((e.name && THROTTLING.has(e.name)) || (e.code && THROTTLING.has(e.code))) return true;
  const retryable = e.$retryable as { throttling?: unknown } | undefined;
  return retryable?.throttling === true || e.$metadata?.httpStatusCode === 429;
}

/** Throttling and transient server/network errors: worth another try. Client errors are not. */
export function isRetryableError(error: unknown): boolean {
  if (isThrottlingError(error)) return true;
  if (typeof error !== "object" || error === null) return false;
  const e = error as ErrorLike;
  if ((e.name && TRANSIENT.has(e.name)) || (e.code && TRANSIENT.has(e.code))) return true;
  if (e.$retryable) return true;
  const status = e.$metadata?.httpStatusCode;
  return status !== undefined && status >= 500;
}

/** A sink call that failed for good: says what, where and why, keeps the last error as cause. */
export class SinkPublishError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "SinkPublishError";
  }
}

/**
 * An error for a one-line report: `Name: message`; with `httpStatus`, an AWS call's status too:
 * `AccessDenied (HTTP 403): Access Denied`.
 */
export function describeError(error: unknown, options: { httpStatus?: boolean } = {}): string {
  if (!(error instanceof Error)) return String(error);
  const status = options.httpStatus ? (error as ErrorLike).$metadata?.httpStatusCode : undefined;
  return `${error.name}${status ? ` (HTTP ${status})` : ""}: ${error.message}`;
}

/** An AWS call's error for a one-line report, its HTTP status included (see describeError). */
export const describeAwsError = (err: unknown): string => describeError(err, { httpStatus: true });

/** Attempts in total that `options` allow (default 5, at least 1). */
export function attemptsOf(options: RetryOptions): number {
  return Math.max(1, options.attempts ?? 5);
}

/** Backoff before retry number `attempt` (1-based): uniform in [0, min(max, base·2^(attempt-1))]. */
export function backoffDelay(attempt: number, options: RetryOptions = {}): number {
  const base = options.baseDelayMs ?? 200;
  const max = options.maxDelayMs ?? 5000;
  const ceiling = Math.min(max, base * 2 ** (attempt - 1));
  return Math.floor((options.random ?? Math.random)() * ceiling);
}

/**
 * Runs `fn` until it succeeds, a non-retryable error occurs, or the attempts are used up; then throws
 * a SinkPublishError naming `what`. `fn` gets the attempt number (1-based).
 */
export async function withRetry<T>(
  what: string,
  fn: (attempt: number) => Promise<T>,
  options: RetryOptions = {},
): Promise<T> {
  const attempts = attemptsOf(options);
  const wait = options.sleep ?? sleep;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (error) {
      const retryable = isRetryableError(error);
      if (!retryable || attempt >= attempts) {
        const why = retryable ? `after ${attempt} attempts` : "(not retryable)";
        throw new SinkPublishError(`${what} failed ${why}: ${describeError(error)}`, { cause: error });
      }
      const delay = backoffDelay(attempt, options);
      options.onRetry?.(error, attempt, delay);
      await wait(delay);
    }
  }
}

export interface LeftoverRetry<T> {
  /** Sends in total, the first included. */
  attempts: number;
  /** Wait after send number `attempt` (1-based) before the next. */
  delayMs: (attempt: number) => number;
  /** The error thrown when items are still left after the last send. */
  exhausted: (left: T[], attempts: number) => Error;
  sleep?: Sleep;
  /** Called before each wait (logging). */
  onRetry?: (left: T[], attempt: number, delayMs: number) => void;
}

/**
 * Sends `items`, then again whatever the response left unprocessed, until none is left or the sends
 * are used up. `send` returns the leftovers (a batch call's UnprocessedItems or Failed[] entries); an
 * error it throws ends the loop (wrap it in withRetry for errors worth another try).
 */
export async function retryLeftovers<T>(
  items: T[],
  send: (items: T[]) => Promise<T[]>,
  options: LeftoverRetry<T>,
): Promise<void> {
  const wait = options.sleep ?? sleep;
  let pending = items;
  for (let attempt = 1; ; attempt++) {
    pending = await send(pending);
    if (pending.length === 0) return;
    if (attempt >= options.attempts) throw options.exhausted(pending, attempt);
    const delay = options.delayMs(attempt);
    options.onRetry?.(pending, attempt, delay);
    await wait(delay);
  }
}

/**
 * Retry with capped exponential backoff and full jitter, for the sinks' AWS calls. The SDK retries
 * each request a few times itself; this outer loop covers what it does not: throttling that outlasts
 * the SDK's budget, and partial batch failures that come back with HTTP 200 (PublishBatch Failed[]).
 * No AWS SDK import: errors are recognised by their name, $retryable marker or HTTP status.
 */

export interface RetryOptions {
  /** Attempts in total, the first included (default 5). */
  attempts?: number;
  /** First backoff ceiling in ms (default 200), doubled per attempt. */
  baseDelayMs?: number;
  /** Largest backoff in ms (default 5000). */
  maxDelayMs?: number;
  /** Injected for tests; defaults to setTimeout. */
  sleep?: (ms: number) => Promise<void>;
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

/** Throttling and transient server/network errors: worth another try. Client errors are not. */
export function isRetryableError(error: unknown): boolean {
  if (typeof error !== "object" || error === null) return false;
  const e = error as ErrorLike;
  if (e.name && (THROTTLING.has(e.name) || TRANSIENT.has(e.name))) return true;
  if (e.code && (THROTTLING.has(e.code) || TRANSIENT.has(e.code))) return true;
  if (e.$retryable) return true;
  const status = e.$metadata?.httpStatusCode;
  return status === 429 || (status !== undefined && status >= 500);
}

/** A sink call that failed for good: says what, where and why, keeps the last error as cause. */
export class SinkPublishError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "SinkPublishError";
  }
}

export function describeError(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

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
  const attempts = Math.max(1, options.attempts ?? 5);
  const sleep = options.sleep ?? defaultSleep;
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
      await sleep(delay);
    }
  }
}

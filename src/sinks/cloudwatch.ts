/**
 * CloudWatch sink: a batch's metric datums (src/metrics.ts) as PutMetricData in the configured
 * namespace, at most 1000 datums and well under 1 MB per request, retried with backoff on throttling
 * and transient errors. A request that still fails makes publish() throw (the invocation fails and is
 * retried; event dedup markers are written only after publishing, so nothing is lost).
 */

import { type CloudWatchClient, PutMetricDataCommand } from "@aws-sdk/client-cloudwatch";
import type { BatchResult, Sink } from "../batch.ts";
import { chunkBySize } from "../chunk.ts";
import type { Config } from "../config.ts";
import { type MetricDatum, metricDatums } from "../metrics.ts";
import { type RetryOptions, withRetry } from "../retry.ts";

/** PutMetricData limits (aws-formats.md §7.1). */
export const MAX_DATUMS_PER_REQUEST = 1000;
/** Payload budget per request: the limit is 1 MB; stay clear of it. */
export const MAX_REQUEST_BYTES = 800 * 1024;

export interface CloudWatchSinkOptions {
  retry?: RetryOptions;
}

/** Splits datums into requests of ≤ MAX_DATUMS_PER_REQUEST and ≤ MAX_REQUEST_BYTES (estimated as JSON). */
export function metricRequests(datums: readonly MetricDatum[]): MetricDatum[][] {
  return chunkBySize(datums, MAX_DATUMS_PER_REQUEST, MAX_REQUEST_BYTES, (d) => JSON.stringify(d).length + 16);
}

export class CloudWatchSink implements Sink {
  private readonly namespace: string;

  constructor(
    private readonly client: CloudWatchClient,
    config: Config,
    private readonly options: CloudWatchSinkOptions = {},
  ) {
    this.namespace = config.metrics.namespace;
  }

  async publish(result: BatchResult): Promise<void> {
    const requests = metricRequests(metricDatums(result));
    for (const [i, data] of requests.entries()) {
      await withRetry(
        `CloudWatch PutMetricData (namespace ${this.namespace}, request ${i + 1}/${requests.length}, ${data.length} datums)`,
        () => this.client.send(new PutMetricDataCommand({ Namespace: this.namespace, MetricData: data })),
        this.options.retry,
      );
    }
  }
}

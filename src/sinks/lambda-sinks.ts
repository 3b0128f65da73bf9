/** The Lambda's sinks, in the order processBatch publishes to them (one after another; a failure stops it). */
import type { CloudWatchClient } from "@aws-sdk/client-cloudwatch";
import type { SNSClient } from "@aws-sdk/client-sns";
import type { Sink } from "../batch.ts";
import type { Config } from "../config.ts";
import { CloudWatchSink } from "./cloudwatch.ts";
import { SnsAlertSink } from "./sns.ts";

export function lambdaSinks(
  clients: { sns: SNSClient; cloudWatch: CloudWatchClient },
  config: Config,
  topicArn: string,
): Sink[] {
  // Alerts first: a batch retried because its metrics failed sends its alerts again (the same ids,
  // which consumers dedup), where the other order would count its calls twice in the metrics.
  return [
    new SnsAlertSink(clients.sns, { topicArn, ...config.alerts }),
    new CloudWatchSink(clients.cloudWatch, config),
  ];
}

/**
 * `…/CloudTrail-Digest/…` and `…/CloudTrail-Insight/…`, in S3 keys and local paths alike: Digest and
 * Insight deliveries share the `.json.gz` suffix with API records, not the path.
 */
const SKIPPED_SEGMENT = /(^|[/\\])CloudTrail-(Digest|Insight)([/\\]|$)/;

/**
 * Another service's log in a shared log bucket, by AWS's layout: `AWSLogs/[o-org/]<account>/<service>/…`
 * with a service folder other than `CloudTrail/` (VPC Flow Logs, ELB, Config), or a Hive-style
 * `AWSLogs/aws-account-id=…/` flow-log partition. Any other path, under a folder a user named
 * `AWSLogs` included, is not judged.
 */
const OTHER_SERVICE_LOG =
  /(^|[/\\])AWSLogs[/\\](?:(?:o-[a-z0-9]+[/\\])?\d{12}[/\\](?!CloudTrail[/\\])|aws-account-id=)/;

/**
 * True for keys and paths that hold CloudTrail log files: not folder markers, not Digest or Insight
 * files, and not the other services' logs a shared bucket keeps under `AWSLogs/` (a notification on the
 * bucket, a listing of it and a copy of it name those too).
 */
export function isCloudTrailLogKey(key: string): boolean {
  return key !== "" && !key.endsWith("/") && !SKIPPED_SEGMENT.test(key) && !OTHER_SERVICE_LOG.test(key);
}

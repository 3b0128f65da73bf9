/** Which trail paths hold API records: Digest and Insight deliveries share the `.json.gz` suffix, not the path. */
const SKIPPED_SEGMENT = /(^|[/\\])CloudTrail-(Digest|Insight)([/\\]|$)/;

/** `…/CloudTrail-Digest/…` and `…/CloudTrail-Insight/…`, in S3 keys and local paths alike. */
export function isDigestOrInsightPath(path: string): boolean {
  return SKIPPED_SEGMENT.test(path);
}

/**
 * A path under `AWSLogs/` outside a `CloudTrail/` folder: another service's log (VPC Flow Logs, ELB,
 * Config) in a shared log bucket, not a trail file. Paths outside `AWSLogs/` (copied files) are not judged.
 */
const OTHER_SERVICE_LOG = /(^|[/\\])AWSLogs[/\\](?!.*[/\\]CloudTrail[/\\])/;

export function isOtherServiceLogPath(path: string): boolean {
  return OTHER_SERVICE_LOG.test(path);
}

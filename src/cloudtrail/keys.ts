/** Which trail paths hold API records: Digest and Insight deliveries share the `.json.gz` suffix, not the path. */
const SKIPPED_SEGMENT = /(^|[/\\])CloudTrail-(Digest|Insight)([/\\]|$)/;

/** `…/CloudTrail-Digest/…` and `…/CloudTrail-Insight/…`, in S3 keys and local paths alike. */
export function isDigestOrInsightPath(path: string): boolean {
  return SKIPPED_SEGMENT.test(path);
}

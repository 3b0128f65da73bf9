/**
 * Calls that blind the defenders: audit logging reduced (CloudTrail, VPC flow logs, Route 53 Resolver
 * query logs, S3 server access logs), and security services (GuardDuty, Config, Security Hub, Macie,
 * IAM Access Analyzer) turned off. Judged from the request alone: the state before the call is not in
 * the record, so "reduced" means "the log no longer records everything it can".
 */
import { isObject, type Params, scalarText } from "../json-values.ts";
import { CallTable } from "./call-table.ts";

/** Whether a call, by its requestParameters, turns a log or a security service off. */
type Predicate = (p: Params) => boolean;
const always: Predicate = () => true;

/** Whether `table` holds the call and its requestParameters (`params`) satisfy its predicate. */
function holds(table: CallTable<Predicate>, service: string, action: string, params: unknown): boolean {
  const predicate = table.get(service, action);
  if (!predicate) return false;
  return predicate === always || (isObject(params) && predicate(params));
}

/** Every eventSource/eventName pair in `table`. */
function callsOf(table: CallTable<Predicate>): Array<{ service: string; action: string }> {
  return table.calls().map(({ service, action }) => ({ service, action }));
}

/** The calls that reduce what an audit log records. */
const LOG_REDUCTIONS = new CallTable<Predicate>();

LOG_REDUCTIONS.add("cloudtrail", {
  StopLogging: always,
  DeleteTrail: always,
  DeleteEventDataStore: always,
  StopEventDataStoreIngestion: always,
  PutEventSelectors: eventSelectorsReduce,
  PutInsightSelectors: (p) => Array.isArray(p.insightSelectors) && p.insightSelectors.length === 0,
  UpdateTrail: updateTrailReduces,
});
// Flow logs and Resolver query logs are the network and DNS record of the VPCs: deleting or detaching
// them always leaves a gap.
LOG_REDUCTIONS.add("ec2", { DeleteFlowLogs: always });
LOG_REDUCTIONS.add("route53resolver", {
  DeleteResolverQueryLogConfig: always,
  DisassociateResolverQueryLogConfig: always,
});
LOG_REDUCTIONS.add("s3", { PutBucketLogging: bucketLoggingOff });

/** Whether a call reduces what an audit log records (see rules/README.md, `logging.reduced`). */
export function loggingReduced(service: string, action: string, params: unknown): boolean {
  return holds(LOG_REDUCTIONS, service, action, params);
}

/** Every eventSource/eventName pair logging.reduced can be true for (for rules and tests). */
export function loggingReductionActions(): Array<{ service: string; action: string }> {
  return callsOf(LOG_REDUCTIONS);
}

/**
 * S3 turns server access logging off with an empty BucketLoggingStatus element: CloudTrail records
 * it as `{xmlns}` alone, a request that logs somewhere as `{xmlns, LoggingEnabled: {TargetBucket, …}}`.
 * A record without the element says nothing about the body.
 */
function bucketLoggingOff(p: Params): boolean {
  const status = p.BucketLoggingStatus;
  if (status === undefined || status === null) return false;
  const target = isObject(status) ? status.LoggingEnabled : undefined;
  return target === undefined || target === null;
}

/**
 * Basic selectors: reduced unless one selector logs all management events (includeManagementEvents
 * not false, readWriteType All or absent, no excluded event sources).
 * Advanced selectors: reduced when the list is empty or no selector covers every management event
 * (eventCategory = Management with no readOnly or eventSource condition).
 */
function eventSelectorsReduce(p: Params): boolean {
  if (Array.isArray(p.advancedEventSelectors)) {
    return !p.advancedEventSelectors.some(advancedLogsAllManagement);
  }
  if (Array.isArray(p.eventSelectors)) return !p.eventSelectors.some(basicLogsAllManagement);
  return false;
}

function basicLogsAllManagement(selector: unknown): boolean {
  if (!isObject(selector)) return false;
  if (selector.includeManagementEvents === false) return false;
  const rw = selector.readWriteType;
  if (rw !== undefined && rw !== null && rw !== "All") return false;
  const excluded = selector.excludeManagementEventSources;
  return !(Array.isArray(excluded) && excluded.length > 0);
}

function advancedLogsAllManagement(selector: unknown): boolean {
  if (!isObject(selector) || !Array.isArray(selector.fieldSelectors)) return false;
  let management = false;
  for (const field of selector.fieldSelectors) {
    if (!isObject(field)) continue;
    const name = scalarText(field.field ?? field.Field);
    if (name === "eventCategory") {
      const equals = field.equals ?? field.Equals;
      management = Array.isArray(equals) && equals.includes("Management");
    } else if (name === "readOnly" || name === "eventSource") {
      return false;
    }
  }
  return management;
}

/**
 * UpdateTrail reduces logging when it turns off multi-region or global service events or log file
 * validation, makes an organization trail a single-account one (no more logs for the member
 * accounts), removes CloudWatch Logs delivery, or points the trail at another bucket.
 */
function updateTrailReduces(p: Params): boolean {
  return (
    p.isMultiRegionTrail === false ||
    p.isOrganizationTrail === false ||
    p.includeGlobalServiceEvents === false ||
    p.enableLogFileValidation === false ||
    p.cloudWatchLogsLogGroupArn === "" ||
    (typeof p.s3BucketName === "string" && p.s3BucketName !== "")
  );
}

/** The calls that turn a security service off or blind it. */
const SECURITY = new CallTable<Predicate>();
/** eventSource → the security service's short name, for titles. */
const SECURITY_NAMES = new Map<string, string>();

/** `prefix`: the eventSource prefix (`macie2` for macie2.amazonaws.com); `service`: the name in titles. */
function security(prefix: string, service: string, actions: Record<string, Predicate>): void {
  SECURITY_NAMES.set(SECURITY.add(prefix, actions), service);
}

security("guardduty", "guardduty", {
  DeleteDetector: always,
  UpdateDetector: (p) => p.enable === false || featuresDisabled(p),
  DisassociateFromMasterAccount: always,
  DisassociateFromAdministratorAccount: always,
  StopMonitoringMembers: always,
  DisassociateMembers: always,
  DeleteMembers: always,
});
security("config", "config", {
  StopConfigurationRecorder: always,
  DeleteConfigurationRecorder: always,
  DeleteDeliveryChannel: always,
});
security("securityhub", "securityhub", {
  DisableSecurityHub: always,
  BatchDisableStandards: always,
  DisableImportFindingsForProduct: always,
  DisassociateFromMasterAccount: always,
  DisassociateFromAdministratorAccount: always,
  UpdateStandardsControl: (p) => scalarText(p.controlStatus ?? p.ControlStatus) === "DISABLED",
});
security("macie2", "macie", {
  DisableMacie: always,
  UpdateMacieSession: (p) => p.status === "PAUSED",
  DisassociateFromMasterAccount: always,
  DisassociateFromAdministratorAccount: always,
});
security("access-analyzer", "access-analyzer", {
  DeleteAnalyzer: always,
});

function featuresDisabled(p: Params): boolean {
  const features = p.features;
  if (Array.isArray(features)) {
    return features.some((f) => isObject(f) && scalarText(f.status ?? f.Status).toUpperCase() === "DISABLED");
  }
  return false;
}

/** The security service a call turns off or blinds (guardduty, config, …), or undefined. */
export function securityServiceDisabled(
  service: string,
  action: string,
  params: unknown,
): string | undefined {
  return holds(SECURITY, service, action, params) ? SECURITY_NAMES.get(service) : undefined;
}

/** Every eventSource/eventName pair that can disable a security service (for rules and tests). */
export function securityDisableActions(): Array<{ service: string; action: string }> {
  return callsOf(SECURITY);
}

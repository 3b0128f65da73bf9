/**
 * Calls that blind the defenders: CloudTrail logging reduced, and security services (GuardDuty, Config,
 * Security Hub, Macie, IAM Access Analyzer) turned off. Judged from the request alone: the state before
 * the call is not in the record, so "reduced" means "the trail no longer logs everything it can".
 */
import { awsEventSource } from "../event.ts";
import { isObject, type Params, scalarText } from "../json-values.ts";

const CLOUDTRAIL = awsEventSource("cloudtrail");

/** Trail calls that reduce logging whatever their parameters. */
const ALWAYS_REDUCES = new Set([
  "StopLogging",
  "DeleteTrail",
  "DeleteEventDataStore",
  "StopEventDataStoreIngestion",
]);

/** Whether a CloudTrail call reduces what is logged (see rules/README.md, `logging.reduced`). */
export function loggingReduced(service: string, action: string, params: unknown): boolean {
  if (service !== CLOUDTRAIL) return false;
  if (ALWAYS_REDUCES.has(action)) return true;
  if (!isObject(params)) return false;
  switch (action) {
    case "PutEventSelectors":
      return eventSelectorsReduce(params);
    case "PutInsightSelectors": {
      const selectors = params.insightSelectors;
      return Array.isArray(selectors) && selectors.length === 0;
    }
    case "UpdateTrail":
      return updateTrailReduces(params);
    default:
      return false;
  }
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

type DisablePredicate = (p: Params) => boolean;
const always: DisablePredicate = () => true;

/** eventSource → eventName → predicate on requestParameters; short service name for titles. */
const SECURITY = new Map<string, { service: string; actions: Map<string, DisablePredicate> }>();

/** `prefix`: the eventSource prefix (`macie2` for macie2.amazonaws.com); `service`: the name in titles. */
function security(prefix: string, service: string, actions: Record<string, DisablePredicate>): void {
  SECURITY.set(awsEventSource(prefix), { service, actions: new Map(Object.entries(actions)) });
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
  const entry = SECURITY.get(service);
  const predicate = entry?.actions.get(action);
  if (!entry || !predicate) return undefined;
  if (predicate === always) return entry.service;
  return isObject(params) && predicate(params) ? entry.service : undefined;
}

/** Every eventSource/eventName pair that can disable a security service (for rules and tests). */
export function securityDisableActions(): Array<{ service: string; action: string }> {
  const out: Array<{ service: string; action: string }> = [];
  for (const [service, entry] of SECURITY)
    for (const action of entry.actions.keys()) out.push({ service, action });
  return out;
}

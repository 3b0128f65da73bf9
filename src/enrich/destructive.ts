/**
 * Which API calls destroy, terminate, purge or disable something: a table keyed by eventSource and
 * eventName (version suffix stripped), not a pattern over every name — `DeleteMessage` on a queue is
 * routine, `DeleteTags` destroys nothing, and `PurgeQueue` does not start with Delete.
 * Some calls are destructive only with certain parameters (a lifecycle rule that expires objects within
 * days, versioning suspended, deletion protection turned off); those carry a predicate.
 */
import { DYNAMODB_EVENT_SOURCE } from "../event.ts";
import { asArray, isObject, type Params, scalarNumber, scalarText } from "../json-values.ts";
import { CallTable } from "./call-table.ts";
import { loggingReductionActions, securityDisableActions } from "./tampering.ts";

export type DestructiveKind = "delete" | "terminate" | "purge" | "disable" | "expire";

type Predicate = (params: Params, eventTime: Date) => boolean;

interface Entry {
  kind: DestructiveKind;
  when?: Predicate;
}

const EXPIRY_DAYS = 7;
const DAY_MS = 86_400_000;

const TABLE = new CallTable<Entry>();

/** Adds `names` of the service whose eventSource prefix is `prefix` (`s3` for s3.amazonaws.com). */
function add(prefix: string, kind: DestructiveKind, names: string[], when?: Predicate): void {
  TABLE.add(prefix, Object.fromEntries(names.map((name) => [name, when ? { kind, when } : { kind }])));
}

// S3: objects and buckets, lifecycle expiry, versioning suspension (removes the undo for deletes)
add("s3", "delete", ["DeleteObject", "DeleteObjects", "DeleteBucket", "DeleteObjectVersion"]);
add("s3", "expire", ["PutBucketLifecycle", "PutBucketLifecycleConfiguration"], lifecycleExpiresSoon);
add("s3", "disable", ["PutBucketVersioning"], (p) => {
  const status = versioningStatus(p);
  return status === "Suspended" || status === "Disabled";
});

add("dynamodb", "delete", ["DeleteTable", "DeleteItem", "DeleteBackup", "DeleteTableReplica"]);
// Bulk item deletes: batch and transaction writes, PartiQL statements (data events)
const DYNAMODB_BATCH_WRITES = ["BatchWriteItem", "TransactWriteItems"];
const DYNAMODB_PARTIQL = ["ExecuteStatement", "BatchExecuteStatement", "ExecuteTransaction"];
add("dynamodb", "delete", DYNAMODB_BATCH_WRITES, writesDelete);
add("dynamodb", "delete", DYNAMODB_PARTIQL, partiqlDeletes);
const DYNAMODB_ITEM_WRITES: ReadonlySet<string> = new Set([...DYNAMODB_BATCH_WRITES, ...DYNAMODB_PARTIQL]);
/**
 * Whether the call is a DynamoDB batch, transaction or PartiQL write, which deletes items only among
 * other writes (`action.destructive` tells which did). The same names elsewhere (the RDS Data API's
 * ExecuteStatement) are not.
 */
export function isDynamoDbItemWrite(service: string, action: string): boolean {
  return service === DYNAMODB_EVENT_SOURCE && DYNAMODB_ITEM_WRITES.has(action);
}
add("dynamodb", "disable", ["UpdateContinuousBackups"], (p) => pitrDisabled(p));
add("dynamodb", "disable", ["UpdateTable"], (p) => p.deletionProtectionEnabled === false);

add("ec2", "terminate", ["TerminateInstances"]);
add("ec2", "delete", [
  "DeleteVolume",
  "DeleteSnapshot",
  "DeleteSecurityGroup",
  "DeleteVpc",
  "DeleteSubnet",
  "DeleteRouteTable",
  "DeleteRoute",
  "DeleteInternetGateway",
  "DeleteNatGateway",
  "DeleteNetworkInterface",
  "DeleteNetworkAcl",
  "DeleteKeyPair",
  "DeregisterImage",
  "DeleteLaunchTemplate",
  "DeleteTransitGateway",
  "DeleteVpcEndpoints",
  "DeleteVpcPeeringConnection",
  "DeleteCustomerGateway",
  "DeleteVpnConnection",
  "DeleteVpnGateway",
  "DeleteFleets",
  "ReleaseAddress",
]);
add("ec2", "disable", ["DisableEbsEncryptionByDefault"]);

add("rds", "delete", [
  "DeleteDBInstance",
  "DeleteDBCluster",
  "DeleteDBSnapshot",
  "DeleteDBClusterSnapshot",
  "DeleteDBInstanceAutomatedBackup",
  "DeleteDBClusterAutomatedBackup",
  "DeleteGlobalCluster",
]);
add("rds", "disable", ["ModifyDBInstance", "ModifyDBCluster"], (p) => p.deletionProtection === false);

add("lambda", "delete", [
  "DeleteFunction",
  "DeleteLayerVersion",
  "DeleteAlias",
  "DeleteEventSourceMapping",
  "DeleteFunctionUrlConfig",
]);

add("kms", "delete", ["ScheduleKeyDeletion", "DeleteImportedKeyMaterial", "DeleteAlias"]);
add("kms", "disable", ["DisableKey"]);

add("secretsmanager", "delete", ["DeleteSecret"]);
add("ssm", "delete", ["DeleteParameter", "DeleteParameters", "DeleteDocument"]);
add("logs", "delete", [
  "DeleteLogGroup",
  "DeleteLogStream",
  "DeleteMetricFilter",
  "DeleteSubscriptionFilter",
  "DeleteDestination",
]);
add("monitoring", "delete", ["DeleteAlarms", "DeleteDashboards"]);
add("monitoring", "disable", ["DisableAlarmActions"]);

add("ecr", "delete", ["DeleteRepository", "BatchDeleteImage"]);
add("eks", "delete", ["DeleteCluster", "DeleteNodegroup", "DeleteFargateProfile", "DeleteAddon"]);
add("ecs", "delete", [
  "DeleteCluster",
  "DeleteService",
  "DeleteTaskDefinitions",
  "DeregisterTaskDefinition",
  "DeleteCapacityProvider",
]);

add("sqs", "purge", ["PurgeQueue"]);
add("sqs", "delete", ["DeleteQueue"]);
add("sns", "delete", ["DeleteTopic", "DeletePlatformApplication"]);
add("cloudformation", "delete", ["DeleteStack", "DeleteStackSet", "DeleteStackInstances"]);

add("iam", "delete", [
  "DeleteUser",
  "DeleteRole",
  "DeleteGroup",
  "DeletePolicy",
  "DeletePolicyVersion",
  "DeleteRolePolicy",
  "DeleteUserPolicy",
  "DeleteGroupPolicy",
  "DeleteAccessKey",
  "DeleteLoginProfile",
  "DeleteInstanceProfile",
  "DeleteServiceLinkedRole",
  "DeleteSAMLProvider",
  "DeleteOpenIDConnectProvider",
  "DeleteServerCertificate",
  "DeleteSSHPublicKey",
  "DeleteVirtualMFADevice",
]);
add("iam", "disable", ["DeactivateMFADevice"]);

add("route53", "delete", ["DeleteHostedZone", "DeleteHealthCheck", "DeleteTrafficPolicy"]);
add("route53", "delete", ["ChangeResourceRecordSets"], deletesRecordSets);
add("elasticfilesystem", "delete", [
  "DeleteFileSystem",
  "DeleteMountTarget",
  "DeleteAccessPoint",
  "DeleteReplicationConfiguration",
]);
add("elasticache", "delete", [
  "DeleteCacheCluster",
  "DeleteReplicationGroup",
  "DeleteSnapshot",
  "DeleteServerlessCache",
  "DeleteGlobalReplicationGroup",
]);
add("redshift", "delete", ["DeleteCluster", "DeleteClusterSnapshot"]);
add("redshift-serverless", "delete", ["DeleteNamespace", "DeleteWorkgroup", "DeleteSnapshot"]);
add("backup", "delete", [
  "DeleteBackupVault",
  "DeleteRecoveryPoint",
  "DeleteBackupPlan",
  "DeleteBackupSelection",
  "DeleteBackupVaultLockConfiguration",
]);
add("glacier", "delete", ["DeleteVault", "DeleteArchive"]);
add("es", "delete", ["DeleteDomain", "DeleteElasticsearchDomain"]);
add("kinesis", "delete", ["DeleteStream"]);
add("firehose", "delete", ["DeleteDeliveryStream"]);
add("glue", "delete", ["DeleteDatabase", "DeleteTable"]);
add("apigateway", "delete", ["DeleteRestApi", "DeleteApi"]);
add("cognito-idp", "delete", ["DeleteUserPool"]);
add("codecommit", "delete", ["DeleteRepository"]);
add("states", "delete", ["DeleteStateMachine"]);
add("events", "delete", ["DeleteRule", "DeleteEventBus"]);
add("elasticloadbalancing", "delete", ["DeleteLoadBalancer", "DeleteTargetGroup"]);
add("autoscaling", "delete", ["DeleteAutoScalingGroup"]);
add("acm", "delete", ["DeleteCertificate"]);
add("wafv2", "delete", ["DeleteWebACL"]);
add("bedrock", "delete", ["DeleteGuardrail", "DeleteModelInvocationLoggingConfiguration"]);

/**
 * The kind of destruction an API call performs, or undefined when it destroys nothing. Turning off an
 * audit log or a security service destroys the defenders' view: those calls are tampering.ts's
 * (`logging.reduced`, `security.serviceDisabled`), judged there alone so that the facts never
 * disagree; a Delete… call among them deletes, the rest disable.
 * @param blindsDefenders whether the call turns off a log or a security service (tampering.ts's
 *   verdicts), asked only of a call outside the table: an event's facts pass the answers they keep, so
 *   neither is judged twice.
 */
export function destructiveKind(
  service: string,
  action: string,
  params: unknown,
  eventTime: Date,
  blindsDefenders: () => boolean,
): DestructiveKind | undefined {
  const entry = TABLE.get(service, action);
  if (entry) {
    if (!entry.when) return entry.kind;
    return isObject(params) && entry.when(params, eventTime) ? entry.kind : undefined;
  }
  return blindsDefenders() ? defendersViewKind(action) : undefined;
}

function defendersViewKind(action: string): DestructiveKind {
  return action.startsWith("Delete") ? "delete" : "disable";
}

/** The eventSource/eventName pairs that can be destructive (for documentation and tests). */
export function destructiveActions(): Array<{ service: string; action: string; kind: DestructiveKind }> {
  const tabled = TABLE.calls().map(({ service, action, entry }) => ({ service, action, kind: entry.kind }));
  const blinding = [...loggingReductionActions(), ...securityDisableActions()].map(({ service, action }) => ({
    service,
    action,
    kind: defendersViewKind(action),
  }));
  return [...tabled, ...blinding];
}

/**
 * An enabled lifecycle rule that expires current objects or noncurrent versions within EXPIRY_DAYS
 * days (or on a date within that span of the call): data loss soon, not routine retention.
 * CloudTrail renders the XML body, so `Rule` is an object for one rule and a list for several.
 */
function lifecycleExpiresSoon(p: Params, eventTime: Date): boolean {
  const config = p.LifecycleConfiguration ?? p.lifecycleConfiguration;
  if (!isObject(config)) return false;
  for (const rule of asArray(config.Rule ?? config.Rules ?? config.rules)) {
    if (!isObject(rule) || scalarText(rule.Status ?? rule.status) !== "Enabled") continue;
    const exp = rule.Expiration ?? rule.expiration;
    if (isObject(exp)) {
      const days = scalarNumber(exp.Days ?? exp.days);
      if (Number.isFinite(days) && days <= EXPIRY_DAYS) return true;
      const date = Date.parse(scalarText(exp.Date ?? exp.date));
      if (Number.isFinite(date) && date - eventTime.getTime() <= EXPIRY_DAYS * DAY_MS) return true;
    }
    const noncurrent = rule.NoncurrentVersionExpiration ?? rule.noncurrentVersionExpiration;
    if (isObject(noncurrent)) {
      const days = scalarNumber(noncurrent.NoncurrentDays ?? noncurrent.noncurrentDays);
      if (Number.isFinite(days) && days <= EXPIRY_DAYS) return true;
    }
  }
  return false;
}

function versioningStatus(p: Params): unknown {
  const config = p.VersioningConfiguration ?? p.versioningConfiguration;
  return isObject(config) ? (config.Status ?? config.status) : undefined;
}

function pitrDisabled(p: Params): boolean {
  const spec = p.pointInTimeRecoverySpecification;
  return isObject(spec) && spec.pointInTimeRecoveryEnabled === false;
}

/**
 * A write request that deletes: BatchWriteItem's `requestItems` maps each table (name or ARN) to a list
 * of `{deleteRequest: {key}}` / `{putRequest: {item}}` (the API's DeleteRequest/PutRequest casing too);
 * TransactWriteItems' `requestItems` is a list of `{operation: "Put"|"Update"|"Delete"|"ConditionCheck",
 * tableName, key}` (DynamoDB Developer Guide, "Understanding DynamoDB log file entries").
 */
function writesDelete(p: Params): boolean {
  const items = p.requestItems;
  const requests = isObject(items) ? Object.values(items).flatMap(asArray) : asArray(items);
  return requests.some(
    (r) =>
      isObject(r) &&
      ((r.deleteRequest ?? r.DeleteRequest ?? null) !== null ||
        scalarText(r.operation).toLowerCase() === "delete"),
  );
}

/**
 * Whitespace, line comments (`--`) and block comments before a PartiQL statement's keyword. Nothing
 * follows the repetition, so the first way it matches is kept: linear time on any statement.
 */
const PARTIQL_LEADING = /^(?:\s|--[^\n]*(?:\n|$)|\/\*[\s\S]*?\*\/)*/;

/**
 * A PartiQL DELETE: ExecuteStatement's `statement`, BatchExecuteStatement's `requestItems[].statement`
 * (both in the Developer Guide's examples), ExecuteTransaction's `transactStatements[].statement` (the
 * API's name; no logged example). CloudTrail redacts non-key values only, so the keyword is kept; a
 * statement that is absent or not text says nothing and is not a delete.
 */
function partiqlDeletes(p: Params): boolean {
  if (isDeleteStatement(p.statement)) return true;
  return [p.requestItems, p.transactStatements].some((list) =>
    asArray(list).some((s) => isObject(s) && isDeleteStatement(s.statement ?? s.Statement)),
  );
}

function isDeleteStatement(statement: unknown): boolean {
  const text = scalarText(statement);
  const start = PARTIQL_LEADING.exec(text)?.[0].length ?? 0;
  return /^delete\b/i.test(text.slice(start, start + 7));
}

function deletesRecordSets(p: Params): boolean {
  const batch = p.changeBatch;
  if (!isObject(batch)) return false;
  return asArray(batch.changes).some((c) => isObject(c) && scalarText(c.action).toUpperCase() === "DELETE");
}

/**
 * `action.target`: a readable name for the group of resources a call acts on, used to group alerts
 * ("deleted 40 objects in s3:prod-reports" is one alert, not forty). Objects inside a container are
 * grouped by the container (S3 bucket, DynamoDB table, log group, ECR repository, ECS/EKS cluster);
 * EC2 resources, whose ids are random and numerous, by region.
 * Format: `<service prefix>:<name>`, e.g. `s3:prod-reports`, `dynamodb:orders`, `ec2:us-east-1`.
 */
import { awsEventSource, DYNAMODB_EVENT_SOURCE } from "../event.ts";
import { asArray, isObject } from "../json-values.ts";

/** requestParameters keys that name the target group, most specific container first. */
const NAME_KEYS = [
  "bucketName",
  "tableName",
  "TableName",
  "functionName",
  "logGroupName",
  "logGroupIdentifier",
  "repositoryName",
  "clusterName",
  "cluster",
  "stackName",
  "stackSetName",
  "queueUrl",
  "topicArn",
  "secretId",
  "keyId",
  "trailName",
  "name",
  "roleName",
  "userName",
  "groupName",
  "policyArn",
  "instanceProfileName",
  "dBInstanceIdentifier",
  "dBClusterIdentifier",
  "dBSnapshotIdentifier",
  "dBClusterSnapshotIdentifier",
  "globalClusterIdentifier",
  "fileSystemId",
  "cacheClusterId",
  "replicationGroupId",
  "clusterIdentifier",
  "backupVaultName",
  "detectorId",
  "analyzerName",
  "configurationRecorderName",
  "deliveryChannelName",
  "hostedZoneId",
  "resolverQueryLogConfigId",
  "id",
  "domainName",
  "streamName",
  "deliveryStreamName",
  "databaseName",
  "restApiId",
  "apiId",
  "userPoolId",
  "stateMachineArn",
  "autoScalingGroupName",
  "loadBalancerArn",
  "targetGroupArn",
  "certificateArn",
  "vaultName",
  "eventDataStore",
  "parameterName",
  "alarmNames",
  "names",
] as const;

/** Parameter name → rank in NAME_KEYS: records have few parameters, so scanning theirs is cheaper. */
const NAME_RANK = new Map<string, number>(NAME_KEYS.map((k, i) => [k, i]));

/** Services whose resources are grouped per region rather than by name. */
const REGIONAL_GROUPS = new Set([awsEventSource("ec2")]);

/** Names come from the record (attacker-controlled): long ones are cut, they only need to group. */
const MAX_NAME_CHARS = 200;

const prefixes = new Map<string, string>();

/** `s3.amazonaws.com` → `s3`; cached, the set of event sources is small. */
export function servicePrefix(eventSource: string): string {
  let prefix = prefixes.get(eventSource);
  if (prefix === undefined) {
    const dot = eventSource.indexOf(".");
    prefix = dot > 0 ? eventSource.slice(0, dot) : eventSource;
    if (prefixes.size < 2000) prefixes.set(eventSource, prefix);
  }
  return prefix;
}

export interface TargetInput {
  service: string;
  region: string;
  params: unknown;
  /** The record's resources list (ARNs are the fallback when no parameter names the target). */
  resources: readonly { arn?: string }[];
}

export function actionTarget(input: TargetInput): string | undefined {
  const prefix = servicePrefix(input.service);
  if (REGIONAL_GROUPS.has(input.service)) return input.region ? `${prefix}:${input.region}` : prefix;
  const params = input.params;
  if (isObject(params)) {
    // DynamoDB backups are named by ARN: …:table/<table>/backup/<id> → group by table
    if (typeof params.backupArn === "string") {
      const table = /:table\/([^/]+)/.exec(params.backupArn);
      if (table) return `${prefix}:${table[1]}`;
    }
    if (input.service === DYNAMODB_EVENT_SOURCE) {
      const tables = requestTables(params.requestItems);
      if (tables) return `${prefix}:${tables}`;
    }
    let best: string | undefined;
    let bestRank: number = NAME_KEYS.length;
    for (const key in params) {
      const rank = NAME_RANK.get(key);
      if (rank === undefined || rank >= bestRank) continue;
      const name = readableName(params[key]);
      if (name) {
        best = name;
        bestRank = rank;
      }
    }
    if (best) return `${prefix}:${best}`;
  }
  for (const resource of input.resources) {
    const name = resource.arn ? readableName(resource.arn) : undefined;
    if (name) return `${prefix}:${name}`;
  }
  return undefined;
}

/**
 * The tables of a DynamoDB batch or transaction, sorted (one set of tables is one group, in whatever
 * order the request lists them) and joined with commas: `requestItems` is a map keyed by table name or
 * ARN (BatchWriteItem, BatchGetItem) or a list of items each with its `tableName` (TransactWriteItems).
 */
function requestTables(items: unknown): string | undefined {
  const names = isObject(items)
    ? Object.keys(items).map(readableName)
    : asArray(items).map((item) =>
        isObject(item) ? readableName(item.tableName ?? item.TableName) : undefined,
      );
  const tables = [...new Set(names.filter((n) => n !== undefined))].sort();
  return tables.length > 0 ? tables.join(",").slice(0, MAX_NAME_CHARS) : undefined;
}

/** A short readable name from a parameter value: ARN → resource id, queue URL → queue name. */
function readableName(value: unknown): string | undefined {
  if (Array.isArray(value)) {
    const first = value.find((v) => typeof v === "string" && v !== "");
    return typeof first === "string" ? readableName(first) : undefined;
  }
  if (typeof value !== "string" || value === "") return undefined;
  if (value.length > MAX_NAME_CHARS) return readableName(value.slice(0, MAX_NAME_CHARS));
  if (value.startsWith("arn:")) {
    // arn:partition:service:region:account:resource — keep the resource's last path segment
    const parts = value.split(":");
    const resource = parts.slice(5).join(":");
    // S3 ARNs name objects as bucket/key: the bucket is the group
    if (parts[2] === "s3") return resource.split("/")[0] || value;
    const tail = resource.slice(Math.max(resource.lastIndexOf("/"), resource.lastIndexOf(":")) + 1);
    return tail || resource || value;
  }
  if (value.startsWith("https://")) {
    const tail = value.slice(value.lastIndexOf("/") + 1);
    return tail || value;
  }
  return value;
}

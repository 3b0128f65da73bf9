/**
 * The Lambda entry point: wiring only. Builds the AWS clients (endpoint, region and credentials come from
 * the environment, so AWS_ENDPOINT_URL points them at an emulator), the configuration (configFromEnv),
 * the rule engine over the packaged rules/, the DynamoDB store and the sinks, once per container; every
 * invocation goes to handleInvocation (src/lambda.ts).
 *
 * Environment (set by serverless.yml): STATE_TABLE, ALERT_TOPIC_ARN, METRICS_NAMESPACE, AGENT_TAG,
 * BUSINESS_HOURS, BUSINESS_DAYS, TIME_ZONE, AGENTTRAIL_CONFIG; AGENTTRAIL_RULES_DIR to read rules elsewhere.
 */
import { CloudWatchClient } from "@aws-sdk/client-cloudwatch";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { SNSClient } from "@aws-sdk/client-sns";
import { readS3Object, s3ClientFromEnv } from "../src/cloudtrail/s3.ts";
import { configFromEnv } from "../src/config.ts";
import { buildDetector } from "../src/detection.ts";
import { handleInvocation, type InvocationDeps, type InvocationSummary } from "../src/lambda.ts";
import { lambdaSinks } from "../src/sinks/lambda-sinks.ts";
import { DynamoStore } from "../src/state/dynamo.ts";

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`environment variable ${name} is not set`);
  return value;
}

async function createDeps(): Promise<InvocationDeps> {
  const config = configFromEnv(process.env);
  const tableName = required("STATE_TABLE");
  const topicArn = required("ALERT_TOPIC_ARN");
  const s3 = s3ClientFromEnv();
  const store = new DynamoStore({ client: new DynamoDBClient({}), tableName });
  // The built-in rules packaged beside the bundle (<task root>/rules), or AGENTTRAIL_RULES_DIR.
  const { detector, errors, ruleCount, disabledCount, exceptionCount } = await buildDetector(config, {
    builtin: true,
    extraDirs: [],
  });
  // A rule that does not load, or tuning that misses its rule, must not silently change detection:
  // fail, loudly, every invocation.
  if (errors.length > 0) throw new Error(`rule problems: ${errors.join("; ")}`);
  console.log(
    JSON.stringify({
      msg: "cold start",
      rules: ruleCount,
      disabledRules: disabledCount,
      ruleExceptions: exceptionCount,
      namespace: config.metrics.namespace,
    }),
  );
  return {
    store,
    config,
    detector,
    sinks: lambdaSinks({ sns: new SNSClient({}), cloudWatch: new CloudWatchClient({}) }, config, topicArn),
    readObject: (bucket, key) => readS3Object(s3, bucket, key),
  };
}

let deps: Promise<InvocationDeps> | undefined;

/** Built once per container; a failed cold start is not cached, the next invocation tries again. */
function containerDeps(): Promise<InvocationDeps> {
  if (!deps) {
    deps = createDeps();
    deps.catch(() => {
      deps = undefined;
    });
  }
  return deps;
}

export async function handler(event: unknown): Promise<InvocationSummary> {
  return handleInvocation(event, await containerDeps());
}

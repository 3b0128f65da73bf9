/**
 * serverless.yml against the code it deploys: the table the store needs, the DynamoDB actions the store
 * calls (no more, no less), the environment the handler reads, and the bundle options shared with the e2e test.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { describe, expect, it } from "vitest";
import { storeTableDefinition } from "../src/state/dynamo.ts";
import { readServerlessYml, repoRoot, type ServerlessDoc } from "./e2e/serverless-yml.ts";

const root = repoRoot;

type Statement = { Sid?: string; Action: string | string[] };

function roleStatements(doc: ServerlessDoc): Statement[] {
  const role = doc.resources.Resources[doc.provider.iam.role];
  const policies = role.Properties.Policies as { PolicyDocument: { Statement: unknown[] } }[];
  return policies.flatMap((p) =>
    p.PolicyDocument.Statement.map((s) => {
      // !If [condition, statement, AWS::NoValue]
      const cond = (s as { If?: unknown[] }).If;
      return (cond ? cond[1] : s) as Statement;
    }),
  );
}

const actions = (s: Statement) => (Array.isArray(s.Action) ? s.Action : [s.Action]);

describe("serverless.yml", () => {
  const doc = readServerlessYml();

  it("creates the state table exactly as DynamoStore defines it", () => {
    const table = doc.resources.Resources.StateTable.Properties;
    expect(table.KeySchema).toEqual(storeTableDefinition.keySchema);
    expect(table.AttributeDefinitions).toEqual(storeTableDefinition.attributeDefinitions);
    expect(table.BillingMode).toBe(storeTableDefinition.billingMode);
    expect(table.TimeToLiveSpecification).toEqual({
      AttributeName: storeTableDefinition.ttlAttribute,
      Enabled: true,
    });
  });

  it("grants exactly the DynamoDB actions DynamoStore calls", () => {
    const source = readFileSync(new URL("src/state/dynamo.ts", root), "utf8");
    const commandToAction: Record<string, string> = {
      GetCommand: "GetItem",
      PutCommand: "PutItem",
      UpdateCommand: "UpdateItem",
      DeleteCommand: "DeleteItem",
      QueryCommand: "Query",
      ScanCommand: "Scan",
      BatchGetCommand: "BatchGetItem",
      BatchWriteCommand: "BatchWriteItem",
      TransactWriteCommand: "TransactWriteItems",
      TransactGetCommand: "TransactGetItems",
    };
    const used = new Set(
      [...source.matchAll(/new (\w+Command)\(/g)].map((m) => {
        const action = commandToAction[m[1]];
        if (!action) throw new Error(`unmapped DynamoDB command ${m[1]}`);
        return `dynamodb:${action}`;
      }),
    );
    const granted = new Set(
      roleStatements(doc)
        .flatMap(actions)
        .filter((a) => a.startsWith("dynamodb:")),
    );
    expect([...granted].sort()).toEqual([...used].sort());
  });

  it("keeps S3 reads to the trail prefix and metrics to the namespace", () => {
    const statements = roleStatements(doc);
    const read = statements.find((s) => actions(s).includes("s3:GetObject")) as Statement & {
      Resource: unknown;
    };
    // Under the trail's own key prefix, when it has one.
    expect(JSON.stringify(read.Resource)).toContain(`/\${TrailKeyPrefix}AWSLogs/*/CloudTrail/*"`);
    expect(statements.flatMap(actions).filter((a) => a.startsWith("s3:"))).toEqual(["s3:GetObject"]);
    const metrics = statements.find((s) => actions(s).includes("cloudwatch:PutMetricData")) as Statement & {
      Condition: Record<string, Record<string, unknown>>;
    };
    expect(metrics.Condition.StringEquals["cloudwatch:namespace"]).toEqual({ Ref: "MetricsNamespace" });
    expect(statements.flatMap(actions).some((a) => a === "*" || a.endsWith(":*"))).toBe(false);
  });

  it("takes the trail's key prefix only with the slash CloudTrail puts before AWSLogs/", () => {
    const parameters = (
      doc.resources as unknown as { Parameters: Record<string, { AllowedPattern?: string }> }
    ).Parameters;
    const pattern = new RegExp(parameters.TrailKeyPrefix?.AllowedPattern ?? "");
    for (const ok of ["", "org-trail/", "logs/org-trail/"]) expect(pattern.test(ok), ok).toBe(true);
    // Without the slash the notification prefix would be "org-trailAWSLogs/": nothing would arrive.
    for (const bad of ["org-trail", "/org-trail/", "AWSLogs"]) expect(pattern.test(bad), bad).toBe(false);
  });

  it("notifies the function for AWSLogs/ keys of the existing bucket, or reads an SQS queue with partial failures", () => {
    expect(doc.functions.trail.events).toBe(`\${self:custom.trailEvents.\${param:trigger}}`);
    const events = (doc.custom as unknown as { trailEvents: Record<string, Record<string, unknown>[]> })
      .trailEvents;
    expect(events.s3).toEqual([
      {
        s3: {
          bucket: `\${param:trailBucket}`,
          event: "s3:ObjectCreated:*",
          existing: true,
          rules: [{ prefix: `\${param:trailKeyPrefix}AWSLogs/` }],
        },
      },
    ]);
    expect(events.sqs[0].sqs).toMatchObject({ functionResponseType: "ReportBatchItemFailures" });
  });

  it("runs the bench with the CLI's young-generation size, and the function's node with one of its own", () => {
    const text = (path: string) => readFileSync(new URL(`../${path}`, import.meta.url), "utf8");
    const flag = /YOUNG_GENERATION_FLAG = "([^"]+)"/.exec(text("bin/node-flags.js"))?.[1];
    expect(flag).toMatch(/^--max-semi-space-size=\d+$/);
    expect(JSON.parse(text("package.json")).scripts.bench.split(/\s+/)).toContain(flag);
    // The function reads one file a batch, without the read-ahead thread, in memory it pays for.
    expect(String(doc.provider.environment.NODE_OPTIONS).split(/\s+/)).toContain("--max-semi-space-size=64");
  });

  it("builds the handler with the shared esbuild options (ESM, node22, .mjs, nothing external)", () => {
    const require = createRequire(import.meta.url);
    const configure = require(new URL(doc.custom.esbuild.config, root).pathname) as (() => Record<
      string,
      unknown
    >) & {
      esbuildOptions: () => Record<string, unknown>;
    };
    const plugin = configure();
    const direct = configure.esbuildOptions();
    expect(plugin).toMatchObject({
      format: "esm",
      platform: "node",
      target: "node22",
      outputFileExtension: ".mjs",
    });
    expect(direct).toMatchObject({
      format: "esm",
      platform: "node",
      target: "node22",
      outExtension: { ".js": ".mjs" },
    });
    for (const key of ["bundle", "minify", "sourcemap", "banner", "mainFields", "external"]) {
      expect(plugin[key], key).toEqual(direct[key]);
    }
    expect(doc.provider.runtime).toBe("nodejs22.x");
    expect(doc.functions.trail.handler).toBe("functions/handler.handler");
  });

  it("ships the rule files beside the bundle, without their fixtures", () => {
    expect(doc.package.patterns).toContain("rules/**/*.yml");
    expect(doc.package.patterns).toContain("!rules/fixtures/**");
  });
});

/** serverless.yml as data, for tests that hold the deployment and the code to each other. */
import { readFileSync } from "node:fs";
import { parseDocument, type YAMLSeq } from "yaml";

export const repoRoot = new URL("../../", import.meta.url);

export interface ServerlessDoc {
  provider: { runtime: string; environment: Record<string, unknown>; iam: { role: string } };
  custom: { esbuild: { config: string } };
  package: { patterns: string[] };
  functions: Record<string, { handler: string; events: unknown }>;
  resources: { Resources: Record<string, { Type: string; Properties: Record<string, unknown> }> };
}

/** serverless.yml with CloudFormation short tags (!Ref X → {Ref: X}, !If [...] → {If: [...]}). */
export function readServerlessYml(): ServerlessDoc {
  const text = readFileSync(new URL("serverless.yml", repoRoot), "utf8");
  const tags = ["!Ref", "!GetAtt", "!Sub", "!If", "!Not", "!Equals", "!Join"].flatMap((tag) => [
    { tag, resolve: (value: string) => ({ [tag.slice(1)]: value }) },
    { tag, collection: "seq" as const, resolve: (seq: YAMLSeq) => ({ [tag.slice(1)]: seq.toJSON() }) },
  ]);
  const doc = parseDocument(text, { customTags: tags as never });
  if (doc.errors.length) throw new Error(doc.errors.map((e) => e.message).join("; "));
  return doc.toJS() as ServerlessDoc;
}

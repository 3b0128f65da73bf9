import { describe, expect, it } from "vitest";
import { z } from "zod";
import { describeIssues } from "../src/schema-issues.ts";

const schema = z.object({ a: z.string(), b: z.object({ c: z.number() }), d: z.boolean() });

function errorOf(input: unknown, s: z.ZodType = schema): z.ZodError {
  const r = s.safeParse(input);
  if (r.success) throw new Error("expected the input to fail");
  return r.error;
}

describe("describeIssues", () => {
  it("names each issue by its path, in one line", () => {
    const text = describeIssues(errorOf({ a: 1, b: { c: "x" }, d: true }));
    expect(text).toMatch(/^a: [^;]+; b\.c: [^;]+$/);
  });

  it("names an issue about the whole document by `root`", () => {
    expect(describeIssues(errorOf("text"))).toMatch(/^\(root\): /);
    expect(describeIssues(errorOf("text"), { root: "(document)" })).toMatch(/^\(document\): /);
  });

  it("keeps the first `max` issues", () => {
    const error = errorOf({});
    expect(
      describeIssues(error)
        .split("; ")
        .map((p) => p.split(":")[0]),
    ).toEqual(["a", "b", "d"]);
    expect(
      describeIssues(error, { max: 2 })
        .split("; ")
        .map((p) => p.split(":")[0]),
    ).toEqual(["a", "b"]);
  });

  it("writes a symbol in a path as text rather than throwing", () => {
    const key = Symbol("k");
    const error = new z.ZodError([{ code: "custom", path: ["x", key], message: "bad", input: undefined }]);
    expect(describeIssues(error)).toBe("x.Symbol(k): bad");
  });
});

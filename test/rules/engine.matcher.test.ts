import { describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config.ts";
import { enrichEvents, FACT_NAMES } from "../../src/enrich.ts";
import { compileField, SEVERAL } from "../../src/rules/fields.ts";
import { loadRuleSources } from "../../src/rules/load.ts";
import {
  compilePattern,
  parseWildcards,
  requiredLiteral,
  trimUnanchoredDots,
} from "../../src/rules/values.ts";
import { event, ruleWith } from "./engine.helpers.ts";

type Fields = Record<string, unknown>;

/** [what, detection YAML (two-space indent), record fields, expected] */
type Case = [string, string, Fields, boolean];

function check([, detection, fields, expected]: Case, facts?: Fields): void {
  const rule = ruleWith(detection);
  expect(rule.match(event(fields, facts ? { facts } : {}))).toBe(expected);
}

const sel = (body: string) => `  selection:\n${body}\n  condition: selection\n`;

describe("plain values", () => {
  const cases: Case[] = [
    ["equal", sel("    eventName: DeleteBucket"), { eventName: "DeleteBucket" }, true],
    ["case-insensitive", sel("    eventName: deletebucket"), { eventName: "DeleteBucket" }, true],
    ["different value", sel("    eventName: DeleteBucket"), { eventName: "DeleteBuckets" }, false],
    ["list = OR", sel("    eventName: [StopLogging, DeleteTrail]"), { eventName: "DeleteTrail" }, true],
    [
      "list = OR, none",
      sel("    eventName: [StopLogging, DeleteTrail]"),
      { eventName: "UpdateTrail" },
      false,
    ],
    [
      "map = AND",
      sel("    eventName: DeleteTrail\n    awsRegion: eu-west-1"),
      { eventName: "DeleteTrail" },
      false,
    ],
    ["missing field", sel("    errorCode: AccessDenied"), {}, false],
    ["wildcard *", sel("    eventName: 'Delete*'"), { eventName: "DeleteObjects" }, true],
    ["wildcard * negative", sel("    eventName: 'Delete*'"), { eventName: "PutObject" }, false],
    ["wildcard ?", sel("    eventName: 'Get?bject'"), { eventName: "GetObject" }, true],
    ["wildcard ? is one char", sel("    eventName: 'Get?bject'"), { eventName: "GetOObject" }, false],
    ["wildcard in the middle", sel("    userAgent: 'aws-*/2.*'"), { userAgent: "aws-cli/2.15.0" }, true],
    ["escaped * is literal", sel("    userAgent: 'a\\*b'"), { userAgent: "a*b" }, true],
    ["escaped * is not a wildcard", sel("    userAgent: 'a\\*b'"), { userAgent: "axxb" }, false],
    ["escaped ? is literal", sel("    userAgent: 'what\\?'"), { userAgent: "whatX" }, false],
    ["escaped backslash", sel("    userAgent: 'a\\\\*'"), { userAgent: "a\\zzz" }, true],
    ["null = missing", sel("    errorCode: null"), {}, true],
    ["null = JSON null", sel("    errorCode: null"), { errorCode: null }, true],
    ["null, value present", sel("    errorCode: null"), { errorCode: "AccessDenied" }, false],
    ["null or value", sel("    errorCode: [null, Success]"), { errorCode: "Success" }, true],
    ["boolean vs JSON boolean", sel("    readOnly: false"), { readOnly: false }, true],
    ["boolean vs other boolean", sel("    readOnly: false"), { readOnly: true }, false],
    [
      "boolean vs string",
      sel("    requestParameters.enable: false"),
      { requestParameters: { enable: "false" } },
      true,
    ],
    [
      "string vs JSON boolean",
      sel("    requestParameters.enable: 'false'"),
      { requestParameters: { enable: false } },
      true,
    ],
    [
      "number vs number",
      sel("    requestParameters.maxResults: 50"),
      { requestParameters: { maxResults: 50 } },
      true,
    ],
    [
      "number vs string",
      sel("    requestParameters.maxResults: 50"),
      { requestParameters: { maxResults: "50" } },
      true,
    ],
    [
      "number mismatch",
      sel("    requestParameters.maxResults: 50"),
      { requestParameters: { maxResults: 5 } },
      false,
    ],
    ["empty string", sel("    errorMessage: ''"), { errorMessage: "" }, true],
    ["empty string vs text", sel("    errorMessage: ''"), { errorMessage: "x" }, false],
    [
      "dotted path",
      sel("    userIdentity.sessionContext.sessionIssuer.userName: admin-role"),
      {
        userIdentity: { type: "AssumedRole", sessionContext: { sessionIssuer: { userName: "Admin-Role" } } },
      },
      true,
    ],
    [
      "path through an array: any element",
      sel("    resources.ARN: 'arn:aws:s3:::prod*'"),
      { resources: [{ ARN: "arn:aws:s3:::dev-a" }, { ARN: "arn:aws:s3:::prod-b" }] },
      true,
    ],
    [
      "path through an array: no element",
      sel("    resources.ARN: 'arn:aws:s3:::prod*'"),
      { resources: [{ ARN: "arn:aws:s3:::dev-a" }] },
      false,
    ],
    [
      "array value: any element",
      sel("    requestParameters.layers: 'arn:l2'"),
      { requestParameters: { layers: ["arn:l1", "arn:l2"] } },
      true,
    ],
    [
      "list of maps = OR",
      "  selection:\n    - eventName: A\n    - eventName: B\n      awsRegion: us-east-1\n  condition: selection",
      { eventName: "B" },
      true,
    ],
    [
      "list of maps, no alternative matches",
      "  selection:\n    - eventName: A\n    - eventName: B\n      awsRegion: eu-west-1\n  condition: selection",
      { eventName: "B" },
      false,
    ],
  ];
  it.each(cases)("%s", (...c) => check(c));
});

describe("modifiers", () => {
  const cases: Case[] = [
    ["contains", sel("    userAgent|contains: CLI/2"), { userAgent: "aws-cli/2.15.0" }, true],
    ["contains negative", sel("    userAgent|contains: boto3"), { userAgent: "aws-cli/2.15.0" }, false],
    [
      "contains with inner wildcard",
      sel("    userAgent|contains: 'cli*15'"),
      { userAgent: "aws-cli/2.15.0" },
      true,
    ],
    [
      "startswith",
      sel("    eventName|startswith: updatefunction"),
      { eventName: "UpdateFunctionConfiguration20150331v2" },
      true,
    ],
    [
      "startswith negative",
      sel("    eventName|startswith: Function"),
      { eventName: "UpdateFunctionConfiguration" },
      false,
    ],
    [
      "endswith",
      sel("    eventName|endswith: V2"),
      { eventName: "UpdateFunctionConfiguration20150331v2" },
      true,
    ],
    ["endswith negative", sel("    eventName|endswith: Update"), { eventName: "UpdateFunction" }, false],
    [
      "contains|all",
      sel("    userAgent|contains|all: [aws-cli, '2.15']"),
      { userAgent: "aws-cli/2.15.0" },
      true,
    ],
    [
      "contains|all, one missing",
      sel("    userAgent|contains|all: [aws-cli, boto]"),
      { userAgent: "aws-cli/2.15.0" },
      false,
    ],
    [
      "contains on an object (flat text)",
      sel("    requestParameters|contains: suspended"),
      { requestParameters: { VersioningConfiguration: { Status: "Suspended" } } },
      true,
    ],
    [
      "contains on embedded JSON keeps quotes",
      sel("    requestParameters|contains: '\"s3:GetObject\"'"),
      { requestParameters: { policyDocument: '{"Action":"s3:GetObject"}' } },
      true,
    ],
    ["cased", sel("    eventName|cased: DeleteBucket"), { eventName: "DeleteBucket" }, true],
    ["cased negative", sel("    eventName|cased: deletebucket"), { eventName: "DeleteBucket" }, false],
    ["contains|cased negative", sel("    userAgent|contains|cased: CLI"), { userAgent: "aws-cli" }, false],
    [
      "re",
      sel("    userIdentity.arn|re: '.+:assumed-role/aws:.+'"),
      { userIdentity: { type: "AssumedRole", arn: "arn:aws:sts::1:assumed-role/aws:ec2-instance/i-1" } },
      true,
    ],
    ["re negative", sel("    userIdentity.arn|re: '.+:assumed-role/aws:.+'"), {}, false],
    ["re is case-sensitive", sel("    eventName|re: '^deletebucket$'"), { eventName: "DeleteBucket" }, false],
    ["re|i", sel("    eventName|re|i: '^deletebucket$'"), { eventName: "DeleteBucket" }, true],
    ["re (?i) prefix", sel("    eventName|re: '(?i)^deletebucket$'"), { eventName: "DeleteBucket" }, true],
    ["re|m", sel("    errorMessage|re|m: '^denied$'"), { errorMessage: "first\ndenied\nlast" }, true],
    ["re without m", sel("    errorMessage|re: '^denied$'"), { errorMessage: "first\ndenied\nlast" }, false],
    ["re|s", sel("    errorMessage|re|s: 'first.last'"), { errorMessage: "first\nlast" }, true],
    ["re without s", sel("    errorMessage|re: 'first.last'"), { errorMessage: "first\nlast" }, false],
    ["cidr v4", sel("    sourceIPAddress|cidr: 10.0.0.0/8"), { sourceIPAddress: "10.20.30.40" }, true],
    ["cidr v4 negative", sel("    sourceIPAddress|cidr: 10.0.0.0/8"), { sourceIPAddress: "11.0.0.1" }, false],
    ["cidr v4 /32", sel("    sourceIPAddress|cidr: 192.0.2.1/32"), { sourceIPAddress: "192.0.2.1" }, true],
    [
      "cidr list",
      sel("    sourceIPAddress|cidr: [10.0.0.0/8, 192.168.0.0/16]"),
      { sourceIPAddress: "192.168.1.1" },
      true,
    ],
    [
      "cidr vs hostname",
      sel("    sourceIPAddress|cidr: 10.0.0.0/8"),
      { sourceIPAddress: "s3.amazonaws.com" },
      false,
    ],
    [
      "cidr v4-mapped v6",
      sel("    sourceIPAddress|cidr: 10.0.0.0/8"),
      { sourceIPAddress: "::ffff:10.1.2.3" },
      true,
    ],
    [
      "cidr v6",
      sel("    sourceIPAddress|cidr: '2001:db8::/32'"),
      { sourceIPAddress: "2001:db8:1:2::7" },
      true,
    ],
    [
      "cidr v6 negative",
      sel("    sourceIPAddress|cidr: '2001:db8::/32'"),
      { sourceIPAddress: "2001:db9::1" },
      false,
    ],
    [
      "cidr v6 odd prefix",
      sel("    sourceIPAddress|cidr: '2001:db8:8000::/33'"),
      { sourceIPAddress: "2001:db8:ffff::1" },
      true,
    ],
    [
      "cidr v6 odd prefix negative",
      sel("    sourceIPAddress|cidr: '2001:db8:8000::/33'"),
      { sourceIPAddress: "2001:db8:7fff::1" },
      false,
    ],
    [
      "cidr v6 vs v4 address",
      sel("    sourceIPAddress|cidr: '::/0'"),
      { sourceIPAddress: "10.0.0.1" },
      false,
    ],
    ["exists true", sel("    errorCode|exists: true"), { errorCode: "AccessDenied" }, true],
    ["exists true, missing", sel("    errorCode|exists: true"), {}, false],
    ["exists true, JSON null", sel("    responseElements|exists: true"), { responseElements: null }, false],
    ["exists false", sel("    errorCode|exists: false"), {}, true],
    ["exists false, present", sel("    errorCode|exists: false"), { errorCode: "x" }, false],
    [
      "fieldref",
      sel("    userIdentity.userName|fieldref: requestParameters.userName"),
      { requestParameters: { userName: "ALICE" } },
      true,
    ],
    [
      "fieldref negative",
      sel("    userIdentity.userName|fieldref: requestParameters.userName"),
      { requestParameters: { userName: "bob" } },
      false,
    ],
    [
      "fieldref, other missing",
      sel("    userIdentity.userName|fieldref: requestParameters.userName"),
      {},
      false,
    ],
    [
      "fieldref|contains",
      sel("    userIdentity.arn|fieldref|contains: requestParameters.userName"),
      { requestParameters: { userName: "alice" } },
      true,
    ],
    ["gt", sel("    requestParameters.maxResults|gt: 100"), { requestParameters: { maxResults: 101 } }, true],
    [
      "gt negative",
      sel("    requestParameters.maxResults|gt: 100"),
      { requestParameters: { maxResults: 100 } },
      false,
    ],
    [
      "gte",
      sel("    requestParameters.maxResults|gte: 100"),
      { requestParameters: { maxResults: 100 } },
      true,
    ],
    [
      "lt on numeric string",
      sel("    requestParameters.maxResults|lt: 10"),
      { requestParameters: { maxResults: "9" } },
      true,
    ],
    [
      "lte negative",
      sel("    requestParameters.maxResults|lte: 10"),
      { requestParameters: { maxResults: 11 } },
      false,
    ],
    [
      "compare vs text",
      sel("    requestParameters.maxResults|gt: 1"),
      { requestParameters: { maxResults: "many" } },
      false,
    ],
    [
      "base64",
      sel("    requestParameters.userData|base64: '#!/bin/bash'"),
      { requestParameters: { userData: "IyEvYmluL2Jhc2g=" } },
      true,
    ],
    [
      "base64offset|contains",
      sel("    requestParameters.userData|base64offset|contains: 'curl '"),
      { requestParameters: { userData: Buffer.from("#!/bin/sh\ncurl http://x").toString("base64") } },
      true,
    ],
    [
      "base64offset|contains negative",
      sel("    requestParameters.userData|base64offset|contains: 'wget '"),
      { requestParameters: { userData: Buffer.from("#!/bin/sh\ncurl http://x").toString("base64") } },
      false,
    ],
  ];
  it.each(cases)("%s", (...c) => check(c));

  it("base64offset finds the text at each of the three byte offsets", () => {
    const rule = ruleWith(sel("    requestParameters.userData|base64offset|contains: 'curl'"));
    for (const prefix of ["", "a", "ab", "abc"]) {
      const userData = Buffer.from(`${prefix}curl x`).toString("base64");
      expect(rule.match(event({ requestParameters: { userData } }))).toBe(true);
    }
  });

  it("expand takes placeholder values from the load options", () => {
    const detection = sel("    sourceIPAddress|expand|cidr: '%office_networks%'");
    const options = { placeholders: { office_networks: ["10.0.0.0/8", "192.0.2.0/24"] } };
    const rule = ruleWith(detection, options);
    expect(rule.match(event({ sourceIPAddress: "192.0.2.9" }))).toBe(true);
    expect(rule.match(event({ sourceIPAddress: "198.51.100.1" }))).toBe(false);
  });

  it("expand substitutes inside a longer value", () => {
    const rule = ruleWith(sel("    userIdentity.arn|expand: 'arn:aws:iam::%acct%:user/*'"), {
      placeholders: { acct: ["999999999999", "111122223333"] },
    });
    expect(rule.match(event())).toBe(true);
  });
});

describe("derived fields", () => {
  it("actor.* come from the attribution verdict", () => {
    const rule = ruleWith(sel("    actor.kind: ai\n    actor.via|startswith: mcp"));
    expect(rule.match(event({}, { actor: { kind: "ai", via: "mcp-managed" } }))).toBe(true);
    expect(rule.match(event({}, { actor: { kind: "human", via: "mcp-managed" } }))).toBe(false);
  });

  it("actor.principal is the principal ARN", () => {
    const rule = ruleWith(sel("    actor.principal|endswith: ':user/alice'"));
    expect(rule.match(event())).toBe(true);
  });

  it("facts are matched by their names, booleans included", () => {
    const rule = ruleWith(sel("    time.offHours: true\n    action.destructive: 'true'"));
    expect(rule.match(event({}, { facts: { "time.offHours": true, "action.destructive": true } }))).toBe(
      true,
    );
    expect(rule.match(event({}, { facts: { "time.offHours": false, "action.destructive": true } }))).toBe(
      false,
    );
    expect(rule.match(event())).toBe(false);
  });
});

describe("conditions", () => {
  const det = (condition: string) =>
    [
      "  sel_name:",
      "    eventName: DeleteTrail",
      "  sel_source:",
      "    eventSource: cloudtrail.amazonaws.com",
      "  filter_user:",
      "    userIdentity.userName: alice",
      `  condition: ${condition}`,
    ].join("\n");
  const trail = { eventName: "DeleteTrail", eventSource: "cloudtrail.amazonaws.com" };
  const other = { eventName: "DeleteTrail", eventSource: "s3.amazonaws.com" };
  const cases: Case[] = [
    ["and", det("sel_name and sel_source"), trail, true],
    ["and, one false", det("sel_name and sel_source"), other, false],
    ["or", det("sel_source or filter_user"), other, true],
    ["not", det("sel_name and not filter_user"), trail, false],
    ["not, filter false", det("sel_name and not sel_source"), other, true],
    ["parentheses", det("sel_name and (sel_source or not filter_user)"), other, false],
    ["precedence: and binds tighter than or", det("filter_user or sel_name and sel_source"), other, true],
    ["precedence: not binds tightest", det("not sel_source and sel_name"), other, true],
    ["1 of sel_*", det("1 of sel_*"), other, true],
    ["all of sel_*", det("all of sel_*"), other, false],
    ["all of sel_*, all true", det("all of sel_*"), trail, true],
    [
      "1 of them",
      det("1 of them"),
      {
        eventName: "PutObject",
        eventSource: "s3.amazonaws.com",
        userIdentity: { type: "IAMUser", userName: "bob" },
      },
      false,
    ],
    [
      "1 of them, one true",
      det("1 of them"),
      { eventName: "PutObject", eventSource: "s3.amazonaws.com" },
      true,
    ],
    ["all of them", det("all of them"), trail, true],
    ["not 1 of filter_*", det("sel_name and not 1 of filter_*"), trail, false],
    ["keywords in condition are case-insensitive", det("sel_name AND NOT sel_source"), other, true],
    ["any of", det("any of sel_*"), other, true],
    ["2 of", det("2 of them"), other, true],
    ["2 of, only one true", det("2 of sel_*"), other, false],
    ["nested parentheses and not", det("not (sel_source or (filter_user and not sel_name))"), other, true],
    ["condition list = OR", det("\n    - sel_source\n    - filter_user"), other, true],
    [
      "_-prefixed selections are not in them",
      det("all of them").replace("filter_user", "_filter_user"),
      { ...trail, userIdentity: { type: "IAMUser", userName: "bob" } },
      true,
    ],
  ];
  it.each(cases)("%s", (...c) => check(c));

  it("keyword lists search every string of the record", () => {
    const rule = ruleWith("  keywords:\n    - 'stratus-red-team'\n    - 'pacu'\n  condition: keywords");
    expect(rule.match(event({ requestParameters: { name: "x-STRATUS-RED-TEAM-y" } }))).toBe(true);
    expect(rule.match(event({ requestParameters: { name: "benign" } }))).toBe(false);
  });
});

describe("rules that cannot load", () => {
  const base = "title: t\nid: x\nlogsource: {product: aws, service: cloudtrail}\n";
  const loadOne = (text: string) => loadRuleSources([{ file: "f.yml", text }]);

  it.each([
    ["windash", "detection:\n  s:\n    a|windash: x\n  condition: s", "modifier windash"],
    ["unknown modifier", "detection:\n  s:\n    a|frobnicate: x\n  condition: s", "modifier frobnicate"],
    ["aggregation", "detection:\n  s:\n    a: x\n  condition: s | count() > 5", "aggregation in condition"],
    ["timeframe", "detection:\n  s:\n    a: x\n  timeframe: 5m\n  condition: s", "detection.timeframe"],
    ["PCRE-only regex", "detection:\n  s:\n    a|re: '(?<=a)(?>b)'\n  condition: s", "re"],
  ])("%s is reported as an unsupported feature", (_what, detection, feature) => {
    const r = loadOne(base + detection);
    expect(r.rules).toEqual([]);
    expect(r.errors).toHaveLength(1);
    expect(r.errors[0]).toMatchObject({ file: "f.yml", ruleId: "x", feature });
  });

  it.each([
    [
      "unknown selection in condition",
      "detection:\n  s:\n    a: x\n  condition: s and t",
      /unknown selection "t"/,
    ],
    ["no condition", "detection:\n  s:\n    a: x", /no condition/],
    ["bad cidr", "detection:\n  s:\n    a|cidr: 10.0.0.0/40\n  condition: s", /cidr/],
    [
      "contains with startswith",
      "detection:\n  s:\n    a|contains|startswith: x\n  condition: s",
      /cannot be combined/,
    ],
    ["gt with text", "detection:\n  s:\n    a|gt: many\n  condition: s", /takes a number/],
    ["null with a modifier", "detection:\n  s:\n    a|contains: null\n  condition: s", /null/],
    ["of that matches nothing", "detection:\n  s:\n    a: x\n  condition: 1 of f_*", /matches no selection/],
    ["bad level", "level: severe\ndetection:\n  s:\n    a: x\n  condition: s", /level/],
    ["policy typo", "agenttrail: {alret: false}\ndetection:\n  s:\n    a: x\n  condition: s", /alret/],
    // A configuration gap, not an engine limit: lint must not call it unsupported.
    [
      "unconfigured expand",
      "detection:\n  s:\n    a|expand: '%nets%'\n  condition: s",
      /placeholder %nets% has no values; set rules\.placeholders\.nets in the config/,
    ],
  ])("%s is an error with the reason", (_what, rest, reason) => {
    const r = loadOne(base + rest);
    expect(r.rules).toEqual([]);
    expect(r.errors).toHaveLength(1);
    expect(r.errors[0].feature).toBeUndefined();
    expect(r.errors[0].reason).toMatch(reason);
  });
});

describe("regex rewriting", () => {
  it.each([
    [".+:assumed-role/aws:.+", ".:assumed-role/aws:."],
    [".*foo.*", "foo"],
    [".*?foo", "foo"],
    ["foo\\.*", "foo\\.*"],
    ["foo\\\\.*", "foo\\\\"],
    ["^.*foo$", "^.*foo$"],
  ])("%s → %s", (src, out) => {
    expect(trimUnanchoredDots(src)).toBe(out);
  });

  it("keeps the verdicts of the original pattern", () => {
    const samples = [
      "",
      "x",
      "foo",
      "xfoo",
      "foox",
      "a:assumed-role/aws:b",
      ":assumed-role/aws:",
      "a\nfoo\nb",
      "foo.",
    ];
    for (const src of [
      ".+:assumed-role/aws:.+",
      ".*foo.*",
      ".+foo",
      "foo.+",
      ".*?foo",
      "foo\\.*",
      ".+",
      ".*",
    ]) {
      const original = new RegExp(src);
      const trimmed = new RegExp(trimUnanchoredDots(src));
      for (const s of samples) expect([src, s, trimmed.test(s)]).toEqual([src, s, original.test(s)]);
    }
  });
});

describe("required literal of a regex (searched for before the regex runs)", () => {
  it.each([
    [".:assumed-role\\/aws:.", "", ":assumed-role/aws:"],
    ["^arn:aws:iam::\\d+:root$", "", undefined],
    ["foo.*barbaz", "", "barbaz"],
    ["abcd?e", "", "abc"],
    ["ab+cdef*", "", "cde"],
    ["x\\.y\\-z", "", "x.y-z"],
    ["(abc)?def", "", undefined],
    ["abc|def", "", undefined],
    ["[abc]def", "", undefined],
    ["abc{2}", "", undefined],
    ["abcdef", "i", undefined],
    ["ab", "", undefined],
  ])("%s /%s → %s", (src, flags, literal) => {
    expect(requiredLiteral(src, flags)).toBe(literal);
  });

  it("the prefiltered test keeps the regex's verdicts", () => {
    const samples = [
      "",
      "abc",
      "xabcdefx",
      "a:assumed-role/aws:b",
      ":assumed-role/aws:",
      "foo\nbarbaz",
      "abcdde",
      "abe",
    ];
    for (const src of [".:assumed-role\\/aws:.", "foo.*barbaz", "abcd?e", "ab+cdef*", "^abc", "cde$"]) {
      const rule = ruleWith(sel(`    annotation|re: '${src}'`));
      const re = new RegExp(src);
      for (const s of samples)
        expect([src, s, rule.match(event({ annotation: s }))]).toEqual([src, s, re.test(s)]);
    }
  });
});

describe("wildcard patterns", () => {
  /** The reference semantics: the pattern as an anchored regular expression. */
  function reference(pattern: string, cased: boolean): RegExp {
    let src = "";
    for (const part of parseWildcards(pattern)) {
      if (part === 0) src += "[\\s\\S]*";
      else if (part === 1) src += "[\\s\\S]";
      else src += (part as string).replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
    }
    return new RegExp(`^${src}$`, cased ? "" : "i");
  }

  it("every compiled form agrees with the anchored regex", () => {
    // a small deterministic generator: patterns and values over an alphabet that makes overlaps likely
    let seed = 42;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return (seed >>> 16) % n;
    };
    const word = (alphabet: string, max: number) =>
      Array.from({ length: rand(max + 1) }, () => alphabet[rand(alphabet.length)]).join("");
    let checked = 0;
    for (let k = 0; k < 3000; k++) {
      const pattern = word(k % 2 ? "aAb**?" : "aAb*", 7);
      const value = word(k % 3 ? "aAb" : "aAbB", k % 3 ? 4 : 8);
      for (const cased of [false, true]) {
        const got = compilePattern(parseWildcards(pattern), cased)(value);
        expect([pattern, value, cased, got]).toEqual([
          pattern,
          value,
          cased,
          reference(pattern, cased).test(value),
        ]);
        checked++;
      }
    }
    expect(checked).toBe(6000);
  });
});

describe("field shapes (a single string is tested directly, anything else by the general walk)", () => {
  const contains = (field: string) => sel(`    ${field}|contains: prod`);
  const cases: Case[] = [
    ["top level: string", contains("annotation"), { annotation: "prod-agent" }, true],
    ["top level: array", contains("annotation"), { annotation: ["dev", "prod"] }, true],
    ["top level: number as text", sel("    annotation|startswith: '1.'"), { annotation: 1.5 }, true],
    ["top level: null", contains("annotation"), { annotation: null }, false],
    ["top level: missing", contains("annotation"), {}, false],
    [
      "two segments: string",
      contains("requestParameters.name"),
      { requestParameters: { name: "prod" } },
      true,
    ],
    [
      "two segments: primitive on the way",
      contains("requestParameters.name"),
      { requestParameters: "prod" },
      false,
    ],
    [
      "two segments: array on the way",
      contains("requestParameters.name"),
      { requestParameters: [{ name: "dev" }, { name: "prod" }] },
      true,
    ],
    [
      "two segments: array value",
      contains("requestParameters.name"),
      { requestParameters: { name: ["dev", "prod"] } },
      true,
    ],
    [
      "two segments: object value as flat text",
      contains("requestParameters.name"),
      { requestParameters: { name: { env: "prod" } } },
      true,
    ],
    [
      "three segments: string",
      contains("requestParameters.a.b"),
      { requestParameters: { a: { b: "prod" } } },
      true,
    ],
    [
      "three segments: primitive on the way",
      contains("requestParameters.a.b"),
      { requestParameters: { a: "prod" } },
      false,
    ],
    [
      "three segments: array on the way",
      contains("requestParameters.a.b"),
      { requestParameters: { a: [{ b: "dev" }, { b: "prod" }] } },
      true,
    ],
    [
      "three segments: array first",
      contains("requestParameters.a.b"),
      { requestParameters: [{ a: { b: "prod" } }] },
      true,
    ],
    [
      "four segments: string",
      contains("requestParameters.a.b.c"),
      { requestParameters: { a: { b: { c: "prod" } } } },
      true,
    ],
    [
      "four segments: array on the way",
      contains("requestParameters.a.b.c"),
      { requestParameters: { a: { b: [{ c: "dev" }, { c: "prod" }] } } },
      true,
    ],
    [
      "four segments: primitive on the way",
      contains("requestParameters.a.b.c"),
      { requestParameters: { a: { b: "prod" } } },
      false,
    ],
    [
      "four segments: number as text",
      sel("    requestParameters.a.b.c: 1"),
      { requestParameters: { a: { b: { c: 1 } } } },
      true,
    ],
    ["all: one string", sel("    annotation|contains|all: [aws, cli]"), { annotation: "aws-cli/2" }, true],
    [
      "all: one string, one missing",
      sel("    annotation|contains|all: [aws, cli]"),
      { annotation: "aws-sdk" },
      false,
    ],
    [
      "all: values spread over an array",
      sel("    annotation|contains|all: [aws, cli]"),
      { annotation: ["aws-sdk", "cli"] },
      true,
    ],
    ["list: second value", sel("    annotation|startswith: [dev, prod]"), { annotation: "prod-agent" }, true],
    ["re: string", sel("    annotation|re: '^pro?d'"), { annotation: "prod" }, true],
    ["re: array", sel("    annotation|re: '^pro?d'"), { annotation: ["dev", "prod"] }, true],
    ["cidr: string", sel("    annotation|cidr: 10.0.0.0/8"), { annotation: "10.1.2.3" }, true],
    ["cidr: array", sel("    annotation|cidr: 10.0.0.0/8"), { annotation: ["1.1.1.1", "10.0.0.1"] }, true],
    ["cidr: number", sel("    annotation|cidr: 10.0.0.0/8"), { annotation: 10 }, false],
  ];
  it.each(cases)("%s", (...c) => check(c));

  it("several() walks the values a field reports as SEVERAL, record paths and facts alike", () => {
    const seen = (name: string, e: ReturnType<typeof event>) => {
      const field = compileField(name);
      expect(field.value(e)).toBe(SEVERAL);
      const values: unknown[] = [];
      field.several(e, (v) => {
        values.push(v);
        return v === "stop";
      });
      return values;
    };
    const record = event({ resources: [{ ARN: "a" }, { ARN: ["b", "stop", "never"] }, { ARN: "never" }] });
    expect(seen("resources.ARN", record)).toEqual(["a", "b", "stop"]);
    const fact = event({}, { facts: { "custom.value": ["x", "y"] } });
    expect(seen("custom.value", fact)).toEqual(["x", "y"]);
  });

  it("every derived fact is read under its own name", () => {
    const facts = Object.fromEntries(FACT_NAMES.map((name) => [name, `value of ${name}`]));
    const e = event({}, { facts });
    for (const name of FACT_NAMES) expect(compileField(name).value(e)).toBe(`value of ${name}`);
  });

  it("names every object answers to (constructor, toJSON, toString…) read the record's own keys only", () => {
    const config = parseConfig({});
    const enriched = (fields: Fields) => {
      const e = event(fields);
      enrichEvents([e], config);
      return e;
    };
    for (const name of ["constructor", "toJSON", "toString"]) {
      const equals = ruleWith(sel(`    ${name}: x`));
      const exists = ruleWith(sel(`    ${name}|exists: true`));
      expect(equals.match(enriched({ [name]: "x" }))).toBe(true);
      expect(equals.match(enriched({}))).toBe(false);
      expect(exists.match(enriched({}))).toBe(false);
    }
    const nested = ruleWith(sel("    requestParameters.constructor|exists: true"));
    expect(nested.match(enriched({ requestParameters: { bucketName: "b" } }))).toBe(false);
    expect(nested.match(enriched({ requestParameters: { constructor: "x" } }))).toBe(true);
    const throughArray = ruleWith(sel("    resources.toString|exists: true"));
    expect(throughArray.match(enriched({ resources: [{ ARN: "a" }, {}] }))).toBe(false);
    expect(throughArray.match(enriched({ resources: [{ ARN: "a" }, { toString: "t" }] }))).toBe(true);
    const group = compileField("requestParameters.hasOwnProperty");
    expect(group.first(enriched({ requestParameters: { bucketName: "b" } }))).toBeUndefined();
  });

  it("a name that is not a fact of the event reads the record", () => {
    const rule = ruleWith(contains("custom.value"));
    expect(rule.match(event({ custom: { value: "prod" } }))).toBe(true);
    expect(rule.match(event({ custom: { value: "dev" } }, { facts: { "custom.value": "prod" } }))).toBe(true);
    expect(rule.match(event({ custom: { value: "prod" } }, { facts: { "custom.value": ["dev"] } }))).toBe(
      false,
    );
  });
});

describe("hostile record shapes", () => {
  it("deeply nested values neither overflow the stack nor match beyond the nesting limit", () => {
    let nested: unknown = "needle";
    for (let k = 0; k < 20_000; k++) nested = k % 2 ? [nested] : { a: nested };
    const deep = event({ requestParameters: { deep: nested } });
    const contains = ruleWith(sel("    requestParameters|contains: needle"));
    const keywords = ruleWith("  keywords:\n    - needle\n  condition: keywords");
    expect(contains.match(deep)).toBe(false);
    expect(keywords.match(deep)).toBe(false);
    const shallow = event({ requestParameters: { deep: [[{ a: "needle" }]] } });
    expect(contains.match(shallow)).toBe(true);
    expect(keywords.match(shallow)).toBe(true);
  });

  it("arrays nested in arrays on a field path stop at the limit", () => {
    let nested: unknown = "needle";
    for (let k = 0; k < 20_000; k++) nested = [nested];
    const rule = ruleWith(sel("    requestParameters.list: needle"));
    expect(rule.match(event({ requestParameters: { list: nested } }))).toBe(false);
    expect(rule.match(event({ requestParameters: { list: [["needle"]] } }))).toBe(true);
  });
});

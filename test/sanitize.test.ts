import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import type { Actor, Confidence } from "../src/event.ts";
import {
  cleanActor,
  cleanText,
  isSecretKey,
  isSecretName,
  MAX_RECORD_DEPTH,
  MAX_RECORD_STRING,
  REDACTED,
  redactRecord,
  redactText,
} from "../src/sanitize.ts";

const awsDocs = JSON.parse(
  readFileSync(
    new URL("./fixtures/corpus/aws-docs/assumerole_examples_awsdocs.json", import.meta.url),
    "utf8",
  ),
) as { record: Record<string, unknown> }[];

// Shape of the real GetFederationToken record in reference/aws-formats.md §2.3 (Stratus Red Team), token trimmed.
const getFederationToken = {
  eventName: "GetFederationToken",
  eventSource: "sts.amazonaws.com",
  eventTime: "2024-11-30T08:43:17Z",
  requestParameters: { name: "stratus_red_team", policy: '{\n\t\t"Version": "2012-10-17"\n\t}' },
  responseElements: {
    credentials: {
      accessKeyId: "ASIASTJKC5GCM7ZE6LUP",
      expiration: "Nov 30, 2024, 8:43:17 PM",
      sessionToken: "IQoJb3JpZ2luX2VjEB4aCXVzLXdlc3QtMSJHMEXAMPLETOKENabcdefghijklmnop",
    },
    federatedUser: { arn: "arn:aws:sts::742491224508:federated-user/stratus_red_team" },
  },
  userIdentity: { type: "IAMUser", accessKeyId: "AKIA6V1GNZTT65XQH36M", accountId: "742491224508" },
};

function allStrings(value: unknown, out: string[] = []): string[] {
  if (typeof value === "string") out.push(value);
  else if (Array.isArray(value)) for (const v of value) allStrings(v, out);
  else if (value && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) {
      out.push(k);
      allStrings(v, out);
    }
  }
  return out;
}

describe("cleanText", () => {
  it("stringifies values", () => {
    expect(cleanText(42)).toBe("42");
    expect(cleanText(null)).toBe("");
    expect(cleanText(undefined)).toBe("");
    expect(cleanText(false)).toBe("false");
    expect(cleanText({ a: 1 })).toBe('{"a":1}');
  });

  it("removes ANSI escape sequences whole", () => {
    expect(cleanText("\x1b[31mred\x1b[0m alert")).toBe("red alert");
    expect(cleanText("x\x1b]0;owned title\x07y")).toBe("xy");
    expect(cleanText("bell\x07 and nul\x00")).toBe("bell and nul");
  });

  it("turns CR/LF and tabs into single spaces so a value cannot forge a new line", () => {
    const forged = "dev-alice\r\nSeverity: low\r\n\tAll clear";
    const cleaned = cleanText(forged);
    expect(cleaned).not.toMatch(/[\r\n\t]/);
    expect(cleaned).toBe("dev-alice Severity: low All clear");
    expect(cleanText("a\u2028b\u0085c")).toBe("a b c");
  });

  it("strips bidi overrides, zero-width and format characters, DEL and C1", () => {
    // "\u202E" would render "exe.txt" reversed in a mail client.
    expect(cleanText("invoice\u202Etxt.exe")).toBe("invoicetxt.exe");
    expect(cleanText("\u2066a\u2069\u200Bb\u200F\uFEFFc\u007Fd\u0080e\u0090f")).toBe("abcdef");
    // 8-bit CSI (U+009B) starts an escape sequence like ESC [ does.
    expect(cleanText("a\u009B31mb")).toBe("ab");
    expect(cleanText("\u202A\u202B\u202C\u202D\u2067\u2068")).toBe("");
  });

  it("keeps ordinary Unicode text", () => {
    expect(cleanText("Grüße 東京 🚀")).toBe("Grüße 東京 🚀");
  });

  it("truncates to max code points with an ellipsis, never splitting a surrogate pair", () => {
    expect(cleanText("abcdef", 4)).toBe("abc…");
    expect(cleanText("abcd", 4)).toBe("abcd");
    const emoji = "🚀".repeat(10);
    const cut = cleanText(emoji, 5);
    expect(Array.from(cut)).toHaveLength(5);
    expect(cut).toBe("🚀🚀🚀🚀…");
    expect(cleanText("x".repeat(1000))).toHaveLength(256);
  });

  it("drops lone surrogates", () => {
    expect(cleanText("a\ud800b\udc00c")).toBe("abc");
  });
});

describe("isSecretKey / redactText", () => {
  it("matches secret keys case-insensitively and leaves ordinary keys alone", () => {
    for (const k of [
      "sessionToken",
      "SESSIONTOKEN",
      "SecretString",
      "secretString",
      "SAMLAssertion",
      "X-Amz-Security-Token",
      "dbPassword",
      "xApiKey",
    ]) {
      expect(isSecretKey(k), k).toBe(true);
    }
    for (const k of [
      "accessKeyId",
      "secretId",
      "roleSessionName",
      "passwordLastUsed",
      "PasswordUpdated",
      "keyName",
    ]) {
      expect(isSecretKey(k), k).toBe(false);
    }
  });

  it("redacts tokens inside URLs, headers and bare session-token blobs", () => {
    const url =
      "https://b.s3.amazonaws.com/k?X-Amz-Security-Token=FwoGZXIvYXdzEabc%2Fdef&X-Amz-Signature=abcdef0123&X-Amz-Expires=60";
    const out = redactText(url);
    expect(out).not.toContain("FwoGZXIvYXdzEabc");
    expect(out).not.toContain("abcdef0123");
    expect(out).toContain("X-Amz-Expires=60");
    expect(redactText("x-amz-security-token: IQoJb3JpZ2luXYZ")).toBe(`x-amz-security-token: ${REDACTED}`);
    const blob = `token was IQoJb3JpZ2luX2VjEB4aCXVzLXdlc3QtMSJHMEUCIQ== ok`;
    expect(redactText(blob)).toBe(`token was ${REDACTED} ok`);
  });
});

describe("redactRecord", () => {
  it("redacts the sessionToken of every AWS documentation AssumeRole record and keeps the rest", () => {
    expect(awsDocs.length).toBeGreaterThan(0);
    for (const { record } of awsDocs) {
      const original = structuredClone(record);
      const red = redactRecord(record);
      const creds = (red.responseElements as { credentials: Record<string, unknown> }).credentials;
      expect(creds.sessionToken).toBe(REDACTED);
      // Attribution still needs these.
      expect(creds.accessKeyId).toBe(
        (original.responseElements as { credentials: { accessKeyId: string } }).credentials.accessKeyId,
      );
      expect(red.eventID).toBe(original.eventID);
      expect(red.requestParameters).toEqual(original.requestParameters);
      // A deep copy: the input is untouched.
      expect(record).toEqual(original);
      const token = (original.responseElements as { credentials: { sessionToken: string } }).credentials
        .sessionToken;
      expect(JSON.stringify(red)).not.toContain(token);
    }
  });

  it("redacts the GetFederationToken session token and keeps the policy", () => {
    const red = redactRecord(getFederationToken);
    expect(JSON.stringify(red)).not.toContain("IQoJb3JpZ2lu");
    const req = red.requestParameters as Record<string, string>;
    // Tabs and newlines inside the policy document become spaces; content stays.
    expect(req.policy).toContain('"Version": "2012-10-17"');
    expect(req.name).toBe("stratus_red_team");
  });

  it("redacts secrets in request parameters, headers and nested credentials, case-insensitively", () => {
    const record = {
      eventName: "PutSecretValue",
      requestParameters: {
        secretId: "prod/db",
        SecretString: "hunter2",
        secretBinary: "aGVsbG8=",
        newPassword: "n3w",
        OldPassword: "0ld",
        password: "p",
        privateKey: "-----BEGIN RSA PRIVATE KEY-----",
        SAMLAssertion: "PHNhbWw+",
        webIdentityToken: "eyJhbGciOi",
        clientSecret: "cs",
        authorizationToken: "at",
        headers: { "x-amz-security-token": "tok", "X-Amz-Date": "20240101T000000Z" },
        nested: [{ credentials: { SessionToken: "st", accessKeyId: "ASIAEXAMPLE" } }],
      },
    };
    const red = redactRecord(record);
    const text = JSON.stringify(red);
    for (const secret of [
      "hunter2",
      "aGVsbG8=",
      "n3w",
      "0ld",
      "BEGIN RSA",
      "PHNhbWw+",
      "eyJhbGciOi",
      '"cs"',
      '"at"',
      '"tok"',
      '"st"',
    ]) {
      expect(text, secret).not.toContain(secret);
    }
    const req = red.requestParameters as Record<string, unknown>;
    expect(req.secretId).toBe("prod/db");
    expect((req.headers as Record<string, unknown>)["X-Amz-Date"]).toBe("20240101T000000Z");
    expect(text).toContain("ASIAEXAMPLE");
  });

  it("caps long strings, deep nesting and huge arrays", () => {
    let deep: Record<string, unknown> = { leaf: "x" };
    for (let i = 0; i < 20; i++) deep = { child: deep };
    const red = redactRecord({
      big: "a".repeat(10_000),
      deep,
      list: Array.from({ length: 1000 }, (_, i) => i),
    });
    expect((red.big as string).length).toBe(MAX_RECORD_STRING);
    expect((red.big as string).endsWith("…")).toBe(true);
    let node: unknown = red.deep;
    let depth = 1;
    while (node && typeof node === "object") {
      node = (node as Record<string, unknown>).child;
      depth++;
    }
    expect(depth).toBeLessThanOrEqual(MAX_RECORD_DEPTH + 1);
    expect(String(node)).toContain("TRUNCATED");
    expect((red.list as unknown[]).length).toBeLessThan(1000);
    expect(JSON.stringify(red).length).toBeLessThan(20_000);
  });

  it("strips control characters from hostile values and keys", () => {
    const red = redactRecord({
      userAgent: "\x1b[2J\x1b[Hcurl\r\nX-Injected: 1",
      "evil\u202Ekey": "right-to-left\u202Eoverride",
    });
    // biome-ignore lint/suspicious/noControlCharactersInRegex: the assertion is about control characters
    for (const s of allStrings(red)) expect(s).not.toMatch(/[\x00-\x1f\x7f-\x9f\u202a-\u202e]/);
    expect(red.userAgent).toBe("curl X-Injected: 1");
    expect(red.evilkey).toBe("right-to-leftoverride");
  });

  it("does not let a __proto__ key change the copy's prototype", () => {
    const hostile = JSON.parse('{"__proto__": {"polluted": true}, "eventName": "X"}');
    const red = redactRecord(hostile);
    expect(Object.getPrototypeOf(red)).toBe(Object.prototype);
    expect((red as { polluted?: boolean }).polluted).toBeUndefined();
    expect(({} as { polluted?: boolean }).polluted).toBeUndefined();
  });

  it("returns {} for anything but an object", () => {
    expect(redactRecord(null)).toEqual({});
    expect(redactRecord("sessionToken")).toEqual({});
    expect(redactRecord([1, 2])).toEqual({});
  });
});

/** A text, the credential in it, and what around it redactText keeps. */
type RedactionCase = [text: string, secret: string, kept: string];

function expectRedacted(cases: readonly RedactionCase[]): void {
  for (const [text, secret, kept] of cases) {
    const out = redactText(text);
    expect(out, text).not.toContain(secret);
    expect(out, text).toContain(REDACTED);
    expect(out, text).toContain(kept);
  }
}

/**
 * Secret names, one at least for each part and word isSecretName knows. Each ends in its secret word,
 * so an assignment to it in free text is redacted too.
 */
const SECRET_NAMES = [
  "DB_PASSWORD",
  "db_passwd",
  "stripeApiKey",
  "/prod/github-token",
  "AWS_SECRET_ACCESS_KEY",
  "BASIC_AUTH",
  "DB_PWD",
  "DATABASE_CONNECTION_STRING",
  // One name for each part and word no name above needs.
  "CLIENT_SECRET",
  "GPG_PASSPHRASE",
  "SSH_PRIVATE_KEY",
  "JWT_SIGNING_KEY",
  "DATA_ENCRYPTION_KEY",
  "MASTER_KEY",
  "SESSION_KEY",
  "STORAGE_ACCESS_KEY",
  "DB_PASS",
  "GIT_CREDS",
  "SENTRY_DSN",
  "SESSION_COOKIE",
];

describe("secrets under user-chosen names and in free text", () => {
  it("judges environment variable, parameter and tag names, not ordinary ones", () => {
    for (const n of [...SECRET_NAMES, "/credentials/stratus-red-team/credentials-5"]) {
      expect(isSecretName(n), n).toBe(true);
    }
    for (const n of ["AWS_ACCESS_KEY_ID", "LOG_LEVEL", "author", "passport", "CostCenter", "Name", "team"]) {
      expect(isSecretName(n), n).toBe(false);
    }
  });

  // requestParameters as the APIs take them (ECS RegisterTaskDefinition, CodeBuild CreateProject,
  // CloudFormation CreateStack, SSM PutParameter, Lambda/SageMaker variable maps).
  const configuredWithSecrets = {
    eventName: "RegisterTaskDefinition",
    requestParameters: {
      containerDefinitions: [
        {
          name: "web",
          environment: [
            { name: "DB_PASSWORD", value: "hunter2-ecs" },
            { name: "LOG_LEVEL", value: "debug" },
          ],
          secrets: [{ name: "API_TOKEN", valueFrom: "arn:aws:ssm:us-east-1:111122223333:parameter/api" }],
        },
      ],
      environment: {
        type: "LINUX_CONTAINER",
        environmentVariables: [
          { name: "GITHUB_TOKEN", value: "codebuild-plain", type: "PLAINTEXT" },
          { name: "STAGE", value: "prod", type: "PLAINTEXT" },
        ],
      },
      parameters: [
        { parameterKey: "DBPassword", parameterValue: "cfn-secret" },
        { ParameterKey: "InstanceType", ParameterValue: "t3.micro" },
      ],
      putParameter: { name: "/app/db/password", value: "ssm-string", type: "String" },
      secureParameter: { name: "/app/config", value: "ssm-secure", type: "SecureString" },
      function: { environment: { variables: { API_KEY: "lambda-key", REGION: "eu-west-1" } } },
      model: { environment: { HF_TOKEN: "sagemaker-token", MODEL: "llama" } },
      job: { defaultArguments: { "--db-password": "glue-arg", "--job-language": "python" } },
      stackParameters: [{ ParameterName: "ApiToken", ParameterValue: "param-name-value" }],
      tags: [
        { key: "team", value: "red" },
        { Key: "deploy-secret", Value: "tag-secret" },
      ],
    },
  };

  it("redacts the value paired with a secret name and keeps the rest", () => {
    const red = redactRecord(configuredWithSecrets);
    const text = JSON.stringify(red);
    for (const secret of [
      "hunter2-ecs",
      "codebuild-plain",
      "cfn-secret",
      "ssm-string",
      "ssm-secure",
      "lambda-key",
      "sagemaker-token",
      "glue-arg",
      "param-name-value",
      "tag-secret",
    ]) {
      expect(text, secret).not.toContain(secret);
    }
    // The names stay, so a responder sees which secret was set; so do ordinary values.
    for (const kept of [
      "DB_PASSWORD",
      "GITHUB_TOKEN",
      "DBPassword",
      "/app/db/password",
      "API_KEY",
      "HF_TOKEN",
      "debug",
      "prod",
      "t3.micro",
      "eu-west-1",
      "llama",
      "python",
      '"red"',
      "arn:aws:ssm:us-east-1:111122223333:parameter/api",
      "LINUX_CONTAINER",
    ]) {
      expect(text, kept).toContain(kept);
    }
    const container = (red.requestParameters as { containerDefinitions: { environment: unknown[] }[] })
      .containerDefinitions[0];
    expect(container?.environment).toEqual([
      { name: "DB_PASSWORD", value: REDACTED },
      { name: "LOG_LEVEL", value: "debug" },
    ]);
  });

  it("judges a service's struct under a variable-map key by CloudTrail's field names, not as variables", () => {
    // CodeBuild's `environment` is a struct (booleans, nested objects), not a map of variables.
    const environment = {
      type: "LINUX_CONTAINER",
      imagePullCredentialsType: "CODEBUILD",
      privilegedMode: false,
      registryCredential: { credentialProvider: "SECRETS_MANAGER" },
    };
    expect(redactRecord({ requestParameters: { environment } }).requestParameters).toEqual({ environment });
  });

  it("judges the names of each kind of variable map by isSecretName", () => {
    // Names isSecretKey does not know: only reading the map as variables hides their values.
    const red = redactRecord({
      requestParameters: {
        // Amplify CreateApp / CreateBranch.
        environmentVariables: { GITHUB_TOKEN: "amplify-token", STAGE: "prod" },
        // Glue CreateJob.
        defaultArguments: { "--api-token": "glue-token", "--job-language": "python" },
        // SageMaker CreateModel's container.
        environment: { DB_PASS: "sagemaker-pass", MODEL: "llama" },
        // Lambda CreateFunction.
        function: { environment: { variables: { SESSION_COOKIE: "lambda-cookie", REGION: "eu-west-1" } } },
      },
    });
    expect(red.requestParameters).toEqual({
      environmentVariables: { GITHUB_TOKEN: REDACTED, STAGE: "prod" },
      defaultArguments: { "--api-token": REDACTED, "--job-language": "python" },
      environment: { DB_PASS: REDACTED, MODEL: "llama" },
      function: { environment: { variables: { SESSION_COOKIE: REDACTED, REGION: "eu-west-1" } } },
    });
  });

  it("does not judge CloudTrail's own field names as user-chosen ones", () => {
    const red = redactRecord({
      requestParameters: { name: "report-bucket", value: "kept", nextToken: "page-2" },
      responseElements: { credentials: { accessKeyId: "ASIAEXAMPLE", expiration: "Nov 30, 2024" } },
      additionalEventData: { properties: { tokenIssuerType: "AzureAD" } },
    });
    expect(red.requestParameters).toEqual({ name: "report-bucket", value: "kept", nextToken: "page-2" });
    expect(JSON.stringify(red)).toContain("ASIAEXAMPLE");
    expect(JSON.stringify(red)).toContain("AzureAD");
  });

  it("redacts credentials recognisable by their shape or assignment in free text", () => {
    // Each shape and name alone, in as little text as it takes, is in the pre-scan test below.
    const cases: RedactionCase[] = [
      ["OPENAI_API_KEY=sk-proj-abcdefghijklmnopqrstuvwxyz0123456789AB done", "sk-proj-abc", "done"],
      [
        "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXk\n-----END OPENSSH PRIVATE KEY----- after",
        "b3Blbn",
        "after",
      ],
      [
        "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhZ2VudCJ9.c2lnbmF0dXJlMTIz",
        "eyJzdWIi",
        "Bearer",
      ],
      ["mysql -u root --password=topsecret1 -h db", "topsecret1", "-h db"],
      ["curl -H 'x-api-key: abcdef123456' https://api", "abcdef123456", "https://api"],
      // Assignments to names that end in a secret word, however the name is written.
      ["export DB_PASSWORD=hunter2hunter2; ./migrate", "hunter2", "./migrate"],
      ["aws_secret_access_key = wJalrXUtnFEMI ok", "wJalr", "ok"],
      ['{"MasterUserPassword":"Sup3rS3cret!","Engine":"mysql"}', "Sup3r", "mysql"],
      // Header values to the end of the line or quoted string: every cookie, an opaque bearer token.
      ["Cookie: session=abc123; csrf=xyz789\nnext line", "xyz789", "next line"],
      // (No "token" in it: the header gets past the pre-scan on the word "auth" alone.)
      ['{"Authorization":"Bearer opaque-value-123","Host":"api"}', "opaque-value", '"Host":"api"'],
      ["Proxy-Authorization: Basic dXNlcjpwYXNz\nnext line", "dXNlcjpwYXNz", "next line"],
      // Quoted parameters and cookie values are part of the value; a quote that ends the string is not.
      ['Authorization: Digest username="bob", response="6629fae4939"', "6629fae", "Digest"],
      ['Set-Cookie: sid="abc123xyz"; Path=/\nnext line', "abc123xyz", "next line"],
      ["curl -H 'Cookie: sid=\"abc123xyz\"; b=2' https://api", "abc123xyz", "' https://api"],
      ['{"Authorization":"Basic dXNlcjpwYXNzd29yZA==","Host":"api"}', "dXNlcj", '"Host":"api"'],
      // An assignment inside the value of one that is not a secret's.
      ["bypass=https://host/?password=inner123&mode=x", "inner123", "mode=x"],
      // A URL's password whatever is glued before its scheme, a JWT glued after a hyphen.
      ["1postgres://app:hunter2@db", "hunter2", "1postgres://app:"],
      ["id-eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhZ2VudCJ9.c2lnbmF0dXJlMTIz", "eyJzdWIi", "id-"],
      // Past long runs that each pattern reads from many starts (the input of its worst case), the
      // credential at the end is still found.
      [`${"x.pass".repeat(5000)} postgres://app:hunter2@db`, "hunter2", "postgres://app:"],
      [
        `${"eyJ-".repeat(5000)} eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhZ2VudCJ9.c2lnbmF0dXJlMTIz`,
        "eyJzdWIi",
        "eyJ-eyJ-",
      ],
    ];
    expectRedacted(cases);
    // A Secrets Manager ARN names a secret; it is not one.
    const arn = "arn:aws:secretsmanager:us-east-1:111122223333:secret:prod/db-AbCdEf";
    expect(redactText(arn)).toBe(arn);
    // Nor is a policy's action, nor a key id, nor a name that only starts with a secret word.
    for (const kept of [
      '"Action": "secretsmanager:GetSecretValue"',
      "AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE",
      "DB_PASSWORD_FILE=/run/secrets/db",
      // Names that only hold a secret word inside a longer one.
      "author: alice",
      "bypass=true",
      "authorizationType: NONE",
    ]) {
      expect(redactText(kept)).toBe(kept);
    }
  });

  it("redacts an assignment to every secret name isSecretName knows, however it is written", () => {
    for (const name of SECRET_NAMES) {
      expectRedacted([
        [`${name}=v4lue-1 end`, "v4lue", "end"],
        [`{"${name}": "v4lue-2", "next": 1}`, "v4lue", '"next": 1'],
        [`--${name.toLowerCase()} = v4lue-3 end`, "v4lue", "end"],
      ]);
    }
  });

  it("lets through the cheap pre-scan each credential it must redact, one alternative at a time", () => {
    // One string per alternative of redactText's pre-scan, in its order, meeting that alternative
    // only: an alternative dropped or narrowed leaves its string unredacted. (The word "pass" meets
    // "password" and "passphrase" too, unanchored: those two parts fail by ASSIGNMENT, which needs them.)
    const blob = "A".repeat(24);
    const cases: RedactionCase[] = [
      ["?X-Amz-Signature=abcdef0123456789 end", "abcdef0123", "end"],
      [`blob IQoJb3JpZ2lu${blob} end`, "IQoJb3JpZ2lu", "end"],
      [`blob AgoJb3JpZ2lu${blob} end`, "AgoJb3JpZ2lu", "end"],
      [`blob FwoGZXIvYXdz${blob} end`, "FwoGZXIvYXdz", "end"],
      [`blob FQoGZXIvYXdz${blob} end`, "FQoGZXIvYXdz", "end"],
      [
        "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\n-----END RSA PRIVATE KEY----- after",
        "MIIEow",
        "after",
      ],
      ["ghp_abcdefghijklmnopqrstuvwxyz0123456789 end", "ghp_", "end"],
      ["pat github_pat_11ABCDEFGHIJKLMNOPQRSTUVWXYZ012345 end", "github_pat_", "end"],
      ["slack xoxb-123456789012-abcdefghijkl ok", "xoxb-", "ok"],
      ["key sk-abcdefghijklmnopqrstuvwxyz0123456789ABCD end", "sk-abc", "end"],
      ["Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhZ2VudCJ9.c2lnbmF0dXJlMTIz", "eyJzdWIi", "Bearer"],
      ["postgres://app:hunter2@db.internal:5432/app", "hunter2", "app:"],
      // Short strings too: one argument of a command list.
      ["--password=hunter2", "hunter2", "--password="],
      ["PASSPHRASE: correct-horse end", "correct-horse", "end"],
      ["client_secret=abc123xyz end", "abc123xyz", "end"],
      ["refresh_token=abc123xyz end", "abc123xyz", "end"],
      ["API_KEY=abc123xyz end", "abc123xyz", "end"],
      ["access_key: abc123xyz end", "abc123xyz", "end"],
      ["private_key=abc123xyz end", "abc123xyz", "end"],
      ["credentials=abc123xyz end", "abc123xyz", "end"],
      ["connection_string=abc123xyz end", "abc123xyz", "end"],
      ["jwt_signing_key=abc123xyz end", "abc123xyz", "end"],
      ["encryption-key=abc123xyz end", "abc123xyz", "end"],
      ["MasterKey=abc123xyz end", "abc123xyz", "end"],
      ["session_key=abc123xyz end", "abc123xyz", "end"],
      // The whole secret words.
      ["MYSQL_PWD=abc123 mysql", "abc123", "mysql"],
      ["DB_PASS=abc123xyz end", "abc123xyz", "end"],
      ["BASIC_AUTH=abc123xyz end", "abc123xyz", "end"],
      ["GIT_CREDS=abc123xyz end", "abc123xyz", "end"],
      ["SENTRY_DSN=abc123xyz end", "abc123xyz", "end"],
      ["Cookie: a=abc123xyz; b=2\nend", "abc123xyz", "end"],
    ];
    expectRedacted(cases);
  });
});

describe("redactRecord over the real corpus", () => {
  const corpus = new URL("./fixtures/corpus/", import.meta.url);
  const invictusDir = new URL("invictus-ir-aws-dataset/CloudTrail/", corpus);
  const records: Record<string, unknown>[] = [];
  for (const file of readdirSync(invictusDir)) {
    records.push(
      ...(
        JSON.parse(readFileSync(new URL(file, invictusDir), "utf8")) as { Records: Record<string, unknown>[] }
      ).Records,
    );
  }
  for (const line of readFileSync(new URL("panther-analysis/cases.jsonl", corpus), "utf8").split("\n")) {
    const event = line ? (JSON.parse(line) as { event?: unknown }).event : undefined;
    if (event && typeof event === "object" && !Array.isArray(event))
      records.push(event as Record<string, unknown>);
  }

  /** Every value under a secret key, as [key, value] pairs. */
  function secrets(value: unknown, out: [string, unknown][] = []): [string, unknown][] {
    if (Array.isArray(value)) for (const v of value) secrets(v, out);
    else if (value && typeof value === "object") {
      for (const [k, v] of Object.entries(value)) {
        if (isSecretKey(k) && v !== null && typeof v !== "boolean") out.push([k, v]);
        else secrets(v, out);
      }
    }
    return out;
  }

  it("removes every session token and password of the invictus-ir and Panther records", () => {
    expect(records.length).toBeGreaterThan(3000);
    const found = records.flatMap((r) => secrets(r));
    // The corpus does hold real credentials (STS session tokens of the attack simulation).
    expect(found.filter(([k]) => k === "sessionToken").length).toBeGreaterThan(10);
    for (const r of records) {
      const red = redactRecord(r);
      const text = JSON.stringify(red);
      for (const [, v] of secrets(r)) {
        if (typeof v === "string" && v.length > 4 && !REDACTED.includes(v)) expect(text).not.toContain(v);
      }
      for (const [, v] of secrets(red)) expect(v).toBe(REDACTED);
      expect(text).not.toMatch(/IQoJb3JpZ2lu[A-Za-z0-9+/=]{20}/);
      // What attribution and rules read stays as it was.
      expect(red.eventID).toEqual(r.eventID);
      expect(red.eventName).toEqual(r.eventName);
      expect((red.userIdentity as { arn?: unknown } | undefined)?.arn).toEqual(
        (r.userIdentity as { arn?: unknown } | undefined)?.arn,
      );
    }
  });
});

describe("cleanActor", () => {
  const hostile = {
    kind: "robot",
    confidence: "sure",
    via: "agent\u001b[2J",
    evidence: [
      ...Array.from({ length: 12 }, (_, i) => ({
        signal: `s${i}`,
        value: `v${i}`,
        confidence: "high" as Confidence,
      })),
      { signal: "odd", value: "x", confidence: "sure" as Confidence },
    ],
  } as unknown as Actor;

  it("keeps every evidence item with its valid confidence by default (events.jsonl), and normalises enums", () => {
    const a = cleanActor(hostile);
    expect(a.kind).toBe("unknown");
    expect(a.confidence).toBe("low");
    expect(a.via).toBe("agent");
    expect(a.evidence).toHaveLength(13);
    expect(a.evidence[0]).toEqual({ signal: "s0", value: "v0", confidence: "high" });
    expect(a.evidence[12]).toEqual({ signal: "odd", value: "x" });
  });

  it("caps evidence and drops per-signal confidence for alerts", () => {
    const a = cleanActor(hostile, { maxEvidence: 10, evidenceConfidence: false });
    expect(a.evidence).toHaveLength(10);
    expect(a.evidence.every((e) => e.confidence === undefined)).toBe(true);
  });
});

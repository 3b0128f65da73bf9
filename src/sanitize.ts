import { type Actor, type ActorKind, CONFIDENCE_RANK, type Confidence, type Evidence } from "./event.ts";
import { isObject } from "./json-values.ts";

/**
 * Hygiene for strings and records that came from CloudTrail (attacker-influenced: user agents,
 * session names, request parameters). Everything an alert, a log line or a published message
 * interpolates goes through `cleanText`; every record that leaves the process goes through
 * `redactRecord`. Pure, no I/O.
 */

export const REDACTED = "[REDACTED]";
export const ELLIPSIS = "…";

/** Longest string kept inside a redacted record (code units); longer ones are cut with "…". */
export const MAX_RECORD_STRING = 2048;
/** Nesting below this depth is replaced by a marker (CloudTrail records are shallow; 8 is generous). */
export const MAX_RECORD_DEPTH = 8;
/** Array elements and object keys kept per level. */
export const MAX_RECORD_ENTRIES = 200;
const MAX_KEY_LENGTH = 128;

// ANSI/VT escape sequences as a whole (CSI "ESC [ … final", OSC "ESC ] … BEL|ST", two-byte "ESC x"),
// so that stripping ESC does not leave "[31m" behind.
const ANSI =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is this module's job
  /\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-Z\\-_]|\x9b[0-?]*[ -/]*[@-~]/g;
// Line breaks and tabs (incl. NEL, LINE/PARAGRAPH SEPARATOR) become one space: no log/header injection.
const BREAKS = /[\t\n\v\f\r\u0085\u2028\u2029]+/g;
// C0, DEL, C1, zero-width and bidi/format controls, BOM, and lone surrogates.
const CONTROLS =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is this module's job
  /[\x00-\x1f\x7f-\x9f\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
// Quick test: printable ASCII only, nothing to do but maybe truncate.
const PLAIN = /^[\x20-\x7e]*$/;

/** Removes escape sequences and control/format characters; breaks and tabs become a space. */
export function stripControls(text: string): string {
  if (PLAIN.test(text)) return text;
  return text.replace(ANSI, "").replace(BREAKS, " ").replace(CONTROLS, "");
}

/** Cuts to at most `max` code points, the last one being "…" when something was cut. */
export function truncateCodePoints(text: string, max: number): string {
  if (max <= 0) return "";
  // Fast path: fewer code units than max means fewer code points.
  if (text.length <= max) return text;
  const points = Array.from(text);
  if (points.length <= max) return text;
  return points.slice(0, max - 1).join("") + ELLIPSIS;
}

/**
 * A string safe to interpolate into a title, a subject, a log line or a chat message:
 * String()-ified (null/undefined → "", objects → JSON), escape sequences and control/bidi
 * characters removed, line breaks and tabs as single spaces, at most `max` code points.
 */
export function cleanText(value: unknown, max = 256): string {
  let text: string;
  if (value === null || value === undefined) text = "";
  else if (typeof value === "string") text = value;
  else if (typeof value === "object" && !(value instanceof Date)) {
    try {
      text = JSON.stringify(value) ?? String(value);
    } catch {
      text = Object.prototype.toString.call(value);
    }
  } else text = String(value);
  return truncateCodePoints(stripControls(text), max);
}

// Keys (lower-cased) whose value is a secret wherever they appear.
const SECRET_KEYS = new Set([
  "sessiontoken",
  "secretaccesskey",
  "password",
  "newpassword",
  "oldpassword",
  "currentpassword",
  "masteruserpassword",
  "secretstring",
  "secretbinary",
  "privatekey",
  "samlassertion",
  "samlresponse",
  "webidentitytoken",
  "clientsecret",
  "authorizationtoken",
  "x-amz-security-token",
  "accesstoken",
  "refreshtoken",
  "idtoken",
  "tokencode",
  "secret",
  "passphrase",
  "keymaterial",
  "plaintext",
]);
// Key suffixes that name a secret (e.g. "dbPassword", "apiClientSecret", "githubAccessToken", "xApiKey").
const SECRET_KEY_SUFFIX =
  /(password|passphrase|clientsecret|secretkey|sessiontoken|accesstoken|privatekey|apikey)$/;

/**
 * A list of texts as alerts carry it: cleaned, empty ones dropped, at most `maxEntries`; undefined
 * when none is left. Frozen: every alert of a rule shares the one list.
 */
export function cleanedList(
  values: readonly string[],
  maxLength: number,
  maxEntries: number,
): readonly string[] | undefined {
  const list = values
    .map((v) => cleanText(v, maxLength).trim())
    .filter(Boolean)
    .slice(0, maxEntries);
  return list.length ? Object.freeze(list) : undefined;
}

/** Tags an alert lists (SigmaHQ rules have two to six). */
const MAX_TAGS = 20;

/** A rule's (or an alert's) Sigma tags, cleaned as alerts carry them (see cleanedList). */
export function cleanedTags(tags: readonly string[]): readonly string[] | undefined {
  return cleanedList(tags, 100, MAX_TAGS);
}

/** Whether a record key names a secret (case-insensitive). */
export function isSecretKey(key: string): boolean {
  return isLowerSecretKey(key.toLowerCase());
}

function isLowerSecretKey(lowerKey: string): boolean {
  return SECRET_KEYS.has(lowerKey) || SECRET_KEY_SUFFIX.test(lowerKey);
}

// The parts that mark a name as a secret's (environment variable, parameter, tag key, assignment in
// free text): "DB_PASSWORD", "stripeApiKey", "/prod/github-token", "AWS_SECRET_ACCESS_KEY" (but not
// "AWS_ACCESS_KEY_ID": key ids are not secret). Regular-expression sources; a space stands for where
// a separator may sit in free text ("api_key", "api-key", "apikey"). isSecretName looks for them
// anywhere in a name, redactText at the end of an assigned name: one list, so the two cannot drift.
const SECRET_NAME_PARTS = [
  "passw(?:or)?d",
  "passphrase",
  "secret",
  "token",
  "api key",
  "private key",
  "credential",
  "connection string",
  "signing key",
  "encryption key",
  "master key",
  "session key",
  "access key(?!id)",
];
// Short words that name a secret only as a whole word ("DB_PWD", "BASIC_AUTH"; not "author", "passport").
const SECRET_NAME_WORDS = ["pwd", "pass", "auth", "creds", "dsn", "cookie"];
const SECRET_WORD_SET = new Set(SECRET_NAME_WORDS);
const JOINED_PARTS = SECRET_NAME_PARTS.map((part) => part.replaceAll(" ", "")).join("|");
const SECRET_PART_ANYWHERE = new RegExp(JOINED_PARTS);
const SECRET_PART_AT_END = new RegExp(`(?:${JOINED_PARTS})s?$`);
// The parts and words as free text may write the end of a secret's name, for redactText.
const FREE_TEXT_SECRET_ENDS = [
  ...SECRET_NAME_PARTS.map((part) => part.replaceAll(" ", "[_-]?")),
  ...SECRET_NAME_WORDS,
].join("|");

/** A name's words, lower-cased: "DB_PASSWORD" and "dbPassword" are both ["db", "password"]. */
function nameWords(name: string): string[] {
  return name
    .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean);
}

/**
 * Whether a user-chosen name, such as an environment variable's or a parameter's, names a secret.
 * Broader than isSecretKey: it judges names inside name/value pairs and variable maps, never
 * CloudTrail's own field names (where "credentials" and "nextToken" carry no secret of the user's).
 */
export function isSecretName(name: string): boolean {
  const words = nameWords(name);
  return SECRET_PART_ANYWHERE.test(words.join("")) || words.some((w) => SECRET_WORD_SET.has(w));
}

/**
 * Whether a name assigned to in free text ends in a secret part or word: "DB_PASSWORD=" and "dbPass:"
 * do, "DB_PASSWORD_FILE=" (a path) and "bypass=" do not.
 */
function isSecretAssignmentName(name: string): boolean {
  const words = nameWords(name);
  const last = words.at(-1);
  return last !== undefined && (SECRET_WORD_SET.has(last) || SECRET_PART_AT_END.test(words.join("")));
}

// Fields (lower-cased) holding a user-chosen name, and the value paired with it, in the name/value
// lists AWS APIs take: ECS/Batch `environment: [{name, value}]`, CodeBuild `environmentVariables`,
// CloudFormation `parameters: [{parameterKey, parameterValue}]`, tags `[{key, value}]`, SSM `{name, value}`.
const PAIR_NAME_FIELDS = ["name", "key", "parameterkey", "parametername"];
const PAIR_VALUE_FIELDS = new Set(["value", "parametervalue"]);
// Keys (lower-cased) whose object value, when it maps names to strings only, is a map of variables:
// Lambda `environment.variables`, SageMaker `environment: {NAME: value}`, Glue `defaultArguments`.
// Not generic ones ("properties"), nor a struct such as CodeBuild's `environment` (booleans, nested
// objects): there the names are a service's own fields ("tokenIssuerType"), and judging them hides facts.
const VARIABLE_MAP_KEYS = new Set(["variables", "environment", "environmentvariables", "defaultarguments"]);

/**
 * Whether the value fields of this object are secret: it pairs a secret-looking name with a value,
 * or it is an SSM SecureString parameter.
 */
function hasSecretPairValue(
  obj: Record<string, unknown>,
  keys: readonly string[],
  lowerKeys: readonly string[],
): boolean {
  // Most objects pair nothing ({bucketName, key}): no name is judged without a value beside it.
  if (!lowerKeys.some((k) => PAIR_VALUE_FIELDS.has(k))) return false;
  for (let i = 0; i < keys.length; i++) {
    const k = lowerKeys[i] as string;
    const v = obj[keys[i] as string];
    if (typeof v !== "string") continue;
    if (PAIR_NAME_FIELDS.includes(k) && isSecretName(v)) return true;
    if (k === "type" && v.toLowerCase() === "securestring") return true;
  }
  return false;
}

/** Whether every value of this object is a string: a map of variables, not a service's struct. */
function isStringMap(value: unknown): boolean {
  if (!isObject(value)) return false;
  for (const v of Object.values(value)) if (typeof v !== "string") return false;
  return true;
}

// Secrets embedded in string values: presigned-URL tokens/signatures, "x-amz-security-token: …" headers,
// and STS session tokens by their well-known base64 prefixes ("origin"/"er/aws" blobs).
const TOKEN_IN_QUERY = /((?:x-amz-security-token|x-amz-signature)["']?\s*[=:]\s*["']?)[^&\s"',;]+/gi;
const SESSION_TOKEN_BLOB = /\b(?:IQoJb3JpZ2lu|AgoJb3JpZ2lu|FwoGZXIvYXdz|FQoGZXIvYXdz)[A-Za-z0-9+/=]{20,}/g;

// Credentials recognisable by their shape, wherever they sit (an agent pasting a key into a variable,
// a tag, a description): PEM private keys, GitHub/Slack/OpenAI/Anthropic tokens, JWTs. A JWT's first
// part does not run on past "-eyJ", where the next try starts: in a long run of "eyJ-" every try read
// to the run's end (quadratic). A header holding "-eyJ" by chance is redacted from there on.
const CREDENTIAL_SHAPES =
  /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|$)|\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{30,}|xox[abposr]-[A-Za-z0-9-]{10,}|sk-(?:ant-|proj-)?[A-Za-z0-9_-]{32,}|eyJ(?:[A-Za-z0-9_]|-(?!eyJ)){8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,})/g;
// The password of a URL's user info: "postgres://app:s3cret@db:5432" keeps scheme, user and host.
// Found by its "://", whatever comes before: a pattern that read the scheme first tried it again from
// every word boundary of a long run of scheme characters ("x.pass" repeated), quadratic in its length.
const URL_PASSWORD = /(:\/\/[^\s:/@]*:)[^\s/@]+@/g;
// An assignment to a name that may end in a secret part or word, in a command line, a connection
// string, an environment file or a JSON blob: "--password=…", "DB_PASSWORD=…", "aws_secret_access_key = …",
// '"MasterUserPassword":"…"', "x-api-key: …", "SENTRY_DSN=…". isSecretAssignmentName then judges the name.
// Not "secretsmanager:GetSecretValue" (the name must end in the word), nor the "secret:" of a Secrets
// Manager ARN (a name never starts after ":").
// It ends where the value starts: a value is read (ASSIGNED_VALUE) only after a secret's name, so a
// text of many non-secret assignments ("bypass=bypass=…") is read once, not once per assignment.
const ASSIGNMENT = new RegExp(
  `(?<![\\w.:-])([\\w.-]*?(?:${FREE_TEXT_SECRET_ENDS})s?)(["']?\\s*[=:]\\s*["']?)(?=[^\\s&,;"'])`,
  "gi",
);
/** The value of an assignment, read from where ASSIGNMENT ended. */
const ASSIGNED_VALUE = /[^\s&,;"']+/y;
// HTTP headers whose whole value is a credential, to the end of the line or the quoted string: every
// cookie of "Cookie: a=1; b=2", an opaque "Authorization: Bearer …" (its scheme is kept). A quoted
// parameter or cookie value ('response="…"', 'sid="…"') is part of the value: a quote right after "="
// opens one when its closing quote is followed by a separator, the end, or a closing single quote
// (not by the next key of a JSON blob, as in '"Basic dXNlcg==","Host"').
const CREDENTIAL_HEADER =
  /((?<![\w-])(?:(?:proxy-)?authorization["']?\s*:\s*["']?(?:(?:bearer|basic|digest|negotiate|ntlm|token|aws4-hmac-sha256)\s+)?|(?:set-)?cookie["']?\s*:\s*["']?))[^\r\n"']+(?:(?<==)"[^\r\n"]*"(?=[\s,;']|$)[^\r\n"']*)*/gi;

// One scan that every pattern above needs to match somewhere: most strings pass it and are left alone.
// Kept in step with them: each alternative written here is the cheapest part of one of them; then
// come ASSIGNMENT's secret name ends, whose words "auth" and "cookie" also let CREDENTIAL_HEADER's
// names through (a word dropped from SECRET_NAME_WORDS needs its own alternative here).
const MAY_HOLD_CREDENTIAL = new RegExp(
  `x-amz-s|IQoJb3|AgoJb3|FwoGZX|FQoGZX|-----BEGIN|gh[pousr]_|github_pat_|xox[abposr]-|sk-|eyJ|:\\/\\/|${FREE_TEXT_SECRET_ENDS}`,
  "i",
);

/** Hides the value of each assignment in `text` whose name is a secret's (isSecretAssignmentName). */
function redactAssignments(text: string): string {
  let out = "";
  let copiedTo = 0;
  ASSIGNMENT.lastIndex = 0;
  // Past a name that is not a secret's ("bypass="), the search goes on in its value, which may hold
  // an assignment of its own.
  for (let match = ASSIGNMENT.exec(text); match; match = ASSIGNMENT.exec(text)) {
    const name = match[1] as string;
    if (!isSecretAssignmentName(name)) continue;
    ASSIGNED_VALUE.lastIndex = ASSIGNMENT.lastIndex;
    ASSIGNED_VALUE.exec(text);
    out += text.slice(copiedTo, match.index) + name + (match[2] as string) + REDACTED;
    copiedTo = ASSIGNED_VALUE.lastIndex;
    ASSIGNMENT.lastIndex = copiedTo;
  }
  return copiedTo === 0 ? text : out + text.slice(copiedTo);
}

/** Replaces credentials embedded in free text (URLs, headers, token blobs, keys, assignments) with "[REDACTED]". */
export function redactText(text: string): string {
  // No length shortcut: "--password=hunter2" is a command-line argument of its own.
  if (!MAY_HOLD_CREDENTIAL.test(text)) return text;
  return redactAssignments(
    text
      .replace(TOKEN_IN_QUERY, `$1${REDACTED}`)
      .replace(SESSION_TOKEN_BLOB, REDACTED)
      .replace(CREDENTIAL_SHAPES, REDACTED)
      .replace(URL_PASSWORD, `$1${REDACTED}@`)
      .replace(CREDENTIAL_HEADER, `$1${REDACTED}`),
  );
}

function capString(text: string, max: number): string {
  const cleaned = redactText(stripControls(text));
  if (cleaned.length <= max) return cleaned;
  let cut = cleaned.slice(0, max - 1);
  // Do not leave half a surrogate pair behind.
  if (/[\ud800-\udbff]$/.test(cut)) cut = cut.slice(0, -1);
  return cut + ELLIPSIS;
}

function setKey(out: Record<string, unknown>, key: string, value: unknown): void {
  // A record may carry an own "__proto__" key (JSON.parse allows it): define it, never assign it.
  if (key === "__proto__") Object.defineProperty(out, key, { value, enumerable: true, writable: true });
  else out[key] = value;
}

export interface RedactLimits {
  /** Longest string kept (code units). */
  maxString?: number;
  /** Deepest nesting kept. */
  maxDepth?: number;
  /** Array elements and object keys kept per level. */
  maxEntries?: number;
}

type Limits = Required<RedactLimits>;

/** `variableMap`: the value's keys are user-chosen variable names, judged by isSecretName. */
function redactValue(value: unknown, depth: number, limits: Limits, variableMap = false): unknown {
  if (value === null || typeof value === "boolean") return value;
  if (typeof value === "number") return Number.isFinite(value) ? value : String(value);
  if (typeof value === "string") return capString(value, limits.maxString);
  if (typeof value === "bigint") return value.toString();
  if (value instanceof Date) return value.toISOString();
  if (typeof value !== "object") return undefined; // functions, symbols: not data
  if (depth >= limits.maxDepth) return "[TRUNCATED: too deep]";
  if (Array.isArray(value)) {
    const out = value.slice(0, limits.maxEntries).map((v) => redactValue(v, depth + 1, limits) ?? null);
    if (value.length > limits.maxEntries) out.push(`[TRUNCATED: ${value.length - limits.maxEntries} more]`);
    return out;
  }
  return redactObject(value as Record<string, unknown>, depth, limits, variableMap);
}

function redactObject(
  obj: Record<string, unknown>,
  depth: number,
  limits: Limits,
  variableMap = false,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const keys = Object.keys(obj);
  const lowerKeys = keys.map((k) => k.toLowerCase());
  const secretPairValue = hasSecretPairValue(obj, keys, lowerKeys);
  let kept = 0;
  let dropped = 0;
  for (let i = 0; i < keys.length; i++) {
    if (kept >= limits.maxEntries) {
      dropped++;
      continue;
    }
    const rawKey = keys[i] as string;
    const lowerKey = lowerKeys[i] as string;
    const key = cleanText(rawKey, MAX_KEY_LENGTH);
    const value = obj[rawKey];
    const secret =
      isLowerSecretKey(lowerKey) ||
      (variableMap && isSecretName(rawKey)) ||
      (secretPairValue && PAIR_VALUE_FIELDS.has(lowerKey));
    if (secret && value !== null && value !== undefined && typeof value !== "boolean") {
      setKey(out, key, REDACTED);
    } else {
      const isVariableMap = VARIABLE_MAP_KEYS.has(lowerKey) && isStringMap(value);
      const v = redactValue(value, depth + 1, limits, isVariableMap);
      if (v === undefined) continue;
      setKey(out, key, v);
    }
    kept++;
  }
  if (dropped) setKey(out, "[TRUNCATED]", `${dropped} more keys`);
  return out;
}

/**
 * A deep copy of a CloudTrail record that is safe to store, log or publish: values under secret
 * keys (case-insensitive: sessionToken, secretAccessKey, passwords, SecretString/SecretBinary,
 * privateKey, SAML assertions, web identity and authorization tokens, client secrets,
 * x-amz-security-token, …) become "[REDACTED]"; so do the values of name/value pairs and variable
 * maps whose name looks secret (isSecretName: `{name: "DB_PASSWORD", value}`, `variables.API_KEY`)
 * and of SSM SecureString parameters; credentials embedded in strings too (redactText); strings lose
 * control characters and are cut at MAX_RECORD_STRING; nesting is cut at MAX_RECORD_DEPTH.
 * Anything that is not a plain object gives {}.
 */
export function redactRecord(raw: unknown, limits: RedactLimits = {}): Record<string, unknown> {
  if (!isObject(raw)) return {};
  return redactObject(raw, 0, {
    maxString: Math.max(2, limits.maxString ?? MAX_RECORD_STRING),
    maxDepth: limits.maxDepth ?? MAX_RECORD_DEPTH,
    maxEntries: Math.max(1, limits.maxEntries ?? MAX_RECORD_ENTRIES),
  });
}

const ACTOR_KINDS = new Set<ActorKind>(["ai", "human", "service", "unknown"]);
const CONFIDENCES = new Set(Object.keys(CONFIDENCE_RANK) as Confidence[]);

/** A confidence as cleaned actors carry it: anything else is low. */
export function knownConfidence(confidence: unknown): Confidence {
  return CONFIDENCES.has(confidence as Confidence) ? (confidence as Confidence) : "low";
}

/** An actor kind as output reads it: anything else is `unknown`. */
export function knownActorKind(kind: unknown): ActorKind {
  return ACTOR_KINDS.has(kind as ActorKind) ? (kind as ActorKind) : "unknown";
}

export interface CleanActorOptions {
  /** Evidence items kept (alerts keep a few, events.jsonl all of them). */
  maxEvidence?: number;
  /** Keep each signal's own confidence (events.jsonl does; the alert format has none). */
  evidenceConfidence?: boolean;
}

/** Longest text (code points) cleanActor keeps of an Actor's strings; the run summary cleans alike. */
export const ACTOR_TEXT_MAX = { via: 64, session: 512 } as const;
/** Longest text (code points) cleanActor keeps of an Evidence item's strings. */
export const EVIDENCE_TEXT_MAX = { signal: 64, value: 256, issuedBy: 128, via: 512 } as const;

/** A verdict safe to print, write or publish: every string cleaned and capped, enums validated. */
export function cleanActor(actor: Actor, options: CleanActorOptions = {}): Actor {
  const maxEvidence = options.maxEvidence ?? Number.POSITIVE_INFINITY;
  const withConfidence = options.evidenceConfidence ?? true;
  const evidence = actor.evidence ?? [];
  const out: Actor = {
    kind: knownActorKind(actor.kind),
    confidence: knownConfidence(actor.confidence),
    via: cleanText(actor.via, ACTOR_TEXT_MAX.via),
    evidence: (evidence.length > maxEvidence ? evidence.slice(0, maxEvidence) : evidence).map((e) =>
      cleanEvidence(e, withConfidence),
    ),
  };
  if (actor.session) out.session = cleanText(actor.session, ACTOR_TEXT_MAX.session);
  return out;
}

function cleanEvidence(e: Evidence, withConfidence: boolean): Evidence {
  const out: Evidence = {
    signal: cleanText(e.signal, EVIDENCE_TEXT_MAX.signal),
    value: cleanText(e.value, EVIDENCE_TEXT_MAX.value),
  };
  if (e.issuedBy) out.issuedBy = cleanText(e.issuedBy, EVIDENCE_TEXT_MAX.issuedBy);
  if (e.via) out.via = cleanText(e.via, EVIDENCE_TEXT_MAX.via);
  if (withConfidence && e.confidence && CONFIDENCES.has(e.confidence)) out.confidence = e.confidence;
  return out;
}

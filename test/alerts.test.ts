import { describe, expect, it } from "vitest";
import {
  type Alert,
  alertId,
  alertMessageAttributes,
  buildAlerts,
  MAX_ALERT_EVENT_IDS,
  MAX_TRACKED_EVENT_IDS,
  planAlerts,
  renderAlertText,
  suppressionKey,
} from "../src/alerts.ts";
import { parseConfig } from "../src/config.ts";
import { REDACTED } from "../src/sanitize.ts";
import { MemoryStore } from "../src/state/memory.ts";
import { type EventSpec, makeEvent, makeHit, makeRule } from "./support/alert-events.ts";

const config = parseConfig({});
// biome-ignore lint/suspicious/noControlCharactersInRegex: the assertions are about control characters
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069\u200b-\u200f\ufeff]/;

/** A MemoryStore that counts the calls the alert stage makes. */
class CountingStore extends MemoryStore {
  gets = 0;
  puts = 0;
  override async getItems<T>(keys: string[]): Promise<Map<string, T>> {
    this.gets++;
    return super.getItems<T>(keys);
  }
  override async putItems<T>(items: { key: string; value: T }[], ttlSeconds: number): Promise<void> {
    this.puts++;
    return super.putItems(items, ttlSeconds);
  }
}

function deletes(ids: string[], start: string, opts: Partial<EventSpec> = {}) {
  const t0 = Date.parse(start);
  return ids.map((id, i) => makeEvent({ id, time: new Date(t0 + i * 1000).toISOString(), ...opts }));
}

describe("buildAlerts: first match, suppression, replay", () => {
  it("fires a new alert at once with a deterministic id and a responder-readable title", async () => {
    const store = new CountingStore();
    const rule = makeRule();
    const events = deletes(["e1", "e2", "e3"], "2026-11-20T10:00:00Z");
    const hit = makeHit(rule, events);
    const [alert, ...rest] = await buildAlerts([hit], store, config);
    expect(rest).toHaveLength(0);
    expect(alert.status).toBe("new");
    expect(alert.id).toBe(alertId(rule.id, hit.groupKey, new Date("2026-11-20T10:00:00Z")));
    expect(alert.id).toMatch(/^[0-9a-f]{32}$/);
    expect(alert.title).toBe("AI agent (via aws-mcp) deleted 3 objects in prod-reports as dev-alice");
    expect(alert.count).toBe(3);
    expect(alert.eventIds).toEqual(["e1", "e2", "e3"]);
    expect(alert.severity).toBe("high");
    expect(alert.actor.kind).toBe("ai");
    expect(alert.actor.evidence).toEqual([{ signal: "invokedBy", value: "aws-mcp.amazonaws.com" }]);
    expect(alert.account).toBe("111122223333");
    expect(alert.region).toBe("us-east-1");
    expect(alert.principal).toContain("assumed-role/agent-runner/dev-alice");
    expect(alert.firstSeen).toBe("2026-11-20T10:00:00.000Z");
    expect(alert.lastSeen).toBe("2026-11-20T10:00:02.000Z");
    expect(alert.sample).toHaveLength(3);
    expect(alert.runbook).toBe(rule.runbook);
    expect(alert.description).toBe(rule.description);
    expect(store.gets).toBe(1);
    expect(store.puts).toBe(1);
  });

  it("updates the count of the same alert for later matches inside the window, then opens a new one", async () => {
    const store = new MemoryStore();
    const rule = makeRule();
    const [first] = await buildAlerts(
      [makeHit(rule, deletes(["a1"], "2026-11-20T10:00:00Z"))],
      store,
      config,
    );
    const [second] = await buildAlerts(
      [makeHit(rule, deletes(["a2", "a3"], "2026-11-20T10:40:00Z"))],
      store,
      config,
    );
    expect(second.status).toBe("updated");
    expect(second.id).toBe(first.id);
    expect(second.count).toBe(3);
    expect(second.eventIds).toEqual(["a1", "a2", "a3"]);
    expect(second.firstSeen).toBe("2026-11-20T10:00:00.000Z");
    expect(second.lastSeen).toBe("2026-11-20T10:40:01.000Z");
    // 61 minutes after the first match: outside the default 60-minute window.
    const [third] = await buildAlerts(
      [makeHit(rule, deletes(["a4"], "2026-11-20T11:01:00Z"))],
      store,
      config,
    );
    expect(third.status).toBe("new");
    expect(third.id).not.toBe(first.id);
    expect(third.count).toBe(1);
  });

  it("lets a late event join the window it precedes by less than a window, and opens its own one further back", async () => {
    const store = new MemoryStore();
    const rule = makeRule();
    const [opened] = await buildAlerts(
      [makeHit(rule, deletes(["l1"], "2026-11-20T10:30:00Z"))],
      store,
      config,
    );
    // 20 minutes before the window's start (the file arrived late): the same alert, its first event earlier.
    const [late] = await buildAlerts([makeHit(rule, deletes(["l0"], "2026-11-20T10:10:00Z"))], store, config);
    expect(late.status).toBe("updated");
    expect(late.id).toBe(opened.id);
    expect(late.count).toBe(2);
    expect(late.firstSeen).toBe("2026-11-20T10:10:00.000Z");
    expect(late.lastSeen).toBe("2026-11-20T10:30:00.000Z");
    expect(late.windowStart).toBe("2026-11-20T10:30:00.000Z");
    // More than a window before the start: a separate alert.
    const [earlier] = await buildAlerts(
      [makeHit(rule, deletes(["k0"], "2026-11-20T09:29:00Z"))],
      store,
      config,
    );
    expect(earlier.status).toBe("new");
    expect(earlier.id).not.toBe(opened.id);
    expect(earlier.count).toBe(1);
  });

  it("counts a replayed batch once and raises no alert for it", async () => {
    const store = new MemoryStore();
    const rule = makeRule();
    const batch = () => [makeHit(rule, deletes(["r1", "r2"], "2026-11-20T10:00:00Z"))];
    const [first] = await buildAlerts(batch(), store, config);
    expect(first.count).toBe(2);
    expect(await buildAlerts(batch(), store, config)).toEqual([]);
    // A later batch overlapping the first: only the new event counts.
    const [next] = await buildAlerts(
      [
        makeHit(rule, [
          ...deletes(["r1", "r2"], "2026-11-20T10:00:00Z"),
          ...deletes(["r3"], "2026-11-20T10:05:00Z"),
        ]),
      ],
      store,
      config,
    );
    expect(next.count).toBe(3);
    expect(next.id).toBe(first.id);
  });

  it("uses the rule's suppression window over the configured one, and the configured one over the default", async () => {
    const rule = makeRule({ suppressionMinutes: 5 });
    const store = new MemoryStore();
    await buildAlerts([makeHit(rule, deletes(["s1"], "2026-11-20T10:00:00Z"))], store, config);
    const [later] = await buildAlerts(
      [makeHit(rule, deletes(["s2"], "2026-11-20T10:06:00Z"))],
      store,
      config,
    );
    expect(later.status).toBe("new");

    const longConfig = parseConfig({ suppressionMinutes: 180 });
    const store2 = new MemoryStore();
    const plain = makeRule();
    await buildAlerts([makeHit(plain, deletes(["t1"], "2026-11-20T10:00:00Z"))], store2, longConfig);
    const [same] = await buildAlerts(
      [makeHit(plain, deletes(["t2"], "2026-11-20T12:30:00Z"))],
      store2,
      longConfig,
    );
    expect(same.status).toBe("updated");
  });

  it("keeps groups and rules apart", async () => {
    const store = new MemoryStore();
    const rule = makeRule();
    const other = makeRule({ id: "cloudtrail-tampering", title: "CloudTrail tampering" });
    const a = makeHit(rule, deletes(["g1"], "2026-11-20T10:00:00Z"));
    const b = makeHit(rule, deletes(["g2"], "2026-11-20T10:00:00Z"), {
      groupKey: "other-session|s3:prod-reports",
    });
    const c = makeHit(other, deletes(["g3"], "2026-11-20T10:00:00Z"));
    const alerts = await buildAlerts([a, b, c], store, config);
    expect(alerts.map((x) => x.status)).toEqual(["new", "new", "new"]);
    expect(new Set(alerts.map((x) => x.id)).size).toBe(3);
  });

  it("splits one hit whose events span more than a window into two alerts", async () => {
    const store = new MemoryStore();
    const events = [
      ...deletes(["w1", "w2"], "2026-11-20T10:00:00Z"),
      ...deletes(["w3"], "2026-11-20T12:00:00Z"),
    ];
    const alerts = await buildAlerts([makeHit(makeRule(), events)], store, config);
    expect(alerts.map((a) => [a.status, a.count])).toEqual([
      ["new", 2],
      ["new", 1],
    ]);
  });

  it("merges several hits of one batch for the same group into one new alert", async () => {
    const rule = makeRule();
    const alerts = await buildAlerts(
      [
        makeHit(rule, deletes(["m1"], "2026-11-20T10:00:00Z")),
        makeHit(rule, deletes(["m2"], "2026-11-20T10:02:00Z")),
      ],
      new MemoryStore(),
      config,
    );
    expect(alerts).toHaveLength(1);
    expect(alerts[0].status).toBe("new");
    expect(alerts[0].count).toBe(2);
  });

  it("makes no alert for rules that only feed correlations", async () => {
    const rule = makeRule({ alert: false });
    const store = new CountingStore();
    expect(
      await buildAlerts([makeHit(rule, deletes(["n1"], "2026-11-20T10:00:00Z"))], store, config),
    ).toEqual([]);
    expect(store.gets + store.puts).toBe(0);
  });

  it("does not store the suppression state until a plan is committed (a failed publish retries as new)", async () => {
    const store = new MemoryStore();
    const rule = makeRule();
    const hit = () => makeHit(rule, deletes(["p1"], "2026-11-20T10:00:00Z"));
    const plan = await planAlerts([hit()], store, config);
    expect(plan.alerts[0].status).toBe("new");
    const retry = await planAlerts([hit()], store, config);
    expect(retry.alerts[0].status).toBe("new");
    expect(retry.alerts[0].id).toBe(plan.alerts[0].id);
    await retry.commit();
    expect((await planAlerts([hit()], store, config)).alerts).toEqual([]);
  });

  it("bounds the remembered event ids and still never double counts a replay", async () => {
    const store = new MemoryStore();
    const rule = makeRule();
    const n = MAX_TRACKED_EVENT_IDS + 50;
    const ids = Array.from({ length: n }, (_, i) => `big-${i}`);
    const events = () => deletes(ids, "2026-11-20T10:00:00Z");
    const hit = makeHit(rule, events());
    const [alert] = await buildAlerts([hit], store, config);
    expect(alert.count).toBe(n);
    expect(alert.eventIds).toHaveLength(MAX_ALERT_EVENT_IDS);
    const state = (
      await store.getItems<{ windows: { seen: string[] }[] }>([suppressionKey(rule.id, hit.groupKey)])
    )
      .values()
      .next().value;
    expect(state?.windows[0].seen.length).toBe(MAX_TRACKED_EVENT_IDS);
    // The whole batch again, and the untracked tail alone: nothing new.
    expect(await buildAlerts([makeHit(rule, events())], store, config)).toEqual([]);
    expect(await buildAlerts([makeHit(rule, events().slice(-50))], store, config)).toEqual([]);
    // A genuinely new, later event still counts.
    const [later] = await buildAlerts(
      [makeHit(rule, deletes(["big-new"], "2026-11-20T10:30:00Z"))],
      store,
      config,
    );
    expect(later.count).toBe(n + 1);
  });

  type StoredWindow = { seen: unknown; count: number } & Record<string, unknown>;
  type StoredState = { v: number; windows: StoredWindow[] };
  /** The stored suppression state of `rule` and the group of `hit`, after planning `hit` alone. */
  async function storedAfter(rule: ReturnType<typeof makeRule>, hit: ReturnType<typeof makeHit>) {
    const store = new MemoryStore();
    await buildAlerts([hit], store, config);
    const key = suppressionKey(rule.id, hit.groupKey);
    const state = (await store.getItems<StoredState>([key])).get(key) as StoredState;
    return { key, state: structuredClone(state) };
  }

  it("counts on when a stored window's hashes are not a list (an item edited by hand)", async () => {
    const rule = makeRule();
    const hit = () => makeHit(rule, deletes(["hand-1"], "2026-11-20T10:00:00Z"));
    const { key, state } = await storedAfter(rule, hit());
    const store = new MemoryStore();
    const edited = { ...state, windows: [{ ...state.windows[0], seen: 42 }] };
    await store.putItems([{ key, value: edited }], 3600);
    const [alert] = await buildAlerts([hit()], store, config);
    expect(alert).toMatchObject({ status: "updated", count: 2 });
  });
});

describe("buildAlerts: severity", () => {
  const tampering = makeRule({
    id: "cloudtrail-tampering",
    title: "CloudTrail or security service tampering",
    level: "high",
    levelIfAi: "critical",
    levelIfFailed: "medium",
    groupBy: ["actor.principal"],
  });
  const stop = (id: string, time: string, extra: Partial<EventSpec> = {}) =>
    makeEvent({
      id,
      time,
      action: "StopLogging",
      service: "cloudtrail.amazonaws.com",
      requestParameters: { name: "org-trail" },
      facts: { "action.target": "cloudtrail:org-trail" },
      ...extra,
    });

  it("raises the level for an AI actor and lowers it when every call failed", async () => {
    const [ai] = await buildAlerts(
      [makeHit(tampering, [stop("x1", "2026-11-20T10:00:00Z")])],
      new MemoryStore(),
      config,
    );
    expect(ai.severity).toBe("critical");
    const [human] = await buildAlerts(
      [makeHit(tampering, [stop("x2", "2026-11-20T10:00:00Z", { kind: "human" })])],
      new MemoryStore(),
      config,
    );
    expect(human.severity).toBe("high");
    const [failed] = await buildAlerts(
      [makeHit(tampering, [stop("x3", "2026-11-20T10:00:00Z", { errorCode: "AccessDenied" })])],
      new MemoryStore(),
      config,
    );
    expect(failed.severity).toBe("medium");
    expect(failed.title).toContain("tried");
    expect(failed.title).toContain("AccessDenied");
  });

  it("reports an escalation when a failed attempt is followed by a successful one", async () => {
    const store = new MemoryStore();
    const [first] = await buildAlerts(
      [
        makeHit(tampering, [
          stop("y1", "2026-11-20T10:00:00Z", { errorCode: "AccessDenied", kind: "human" }),
        ]),
      ],
      store,
      config,
    );
    expect(first.severity).toBe("medium");
    const [second] = await buildAlerts(
      [makeHit(tampering, [stop("y2", "2026-11-20T10:10:00Z", { kind: "human" })])],
      store,
      config,
    );
    expect(second.status).toBe("updated");
    expect(second.severity).toBe("high");
    expect(second.escalatedFrom).toBe("medium");
  });

  it("titles a human console tampering call with the trail and the principal", async () => {
    const [alert] = await buildAlerts(
      [
        makeHit(tampering, [
          stop("z1", "2026-11-20T10:00:00Z", {
            kind: "human",
            via: "console",
            display: "arn:aws:iam::111122223333:user/bob",
          }),
        ]),
      ],
      new MemoryStore(),
      config,
    );
    expect(alert.title).toBe(
      "Human (console) stopped CloudTrail logging for trail org-trail as arn:aws:iam::111122223333:user/bob",
    );
  });
});

describe("buildAlerts: correlations", () => {
  it("takes the window count of a correlation hit and titles an access-denied burst", async () => {
    const rule = makeRule({
      id: "ai-access-denied-burst",
      title: "AI agent access denied burst",
      level: "medium",
    });
    const events = Array.from({ length: 4 }, (_, i) =>
      makeEvent({
        id: `d${i}`,
        time: `2026-11-20T10:0${i}:30Z`,
        action: "GetObject",
        errorCode: "AccessDenied",
        via: "mcp-self-hosted",
        display: "role/agent-runner",
      }),
    );
    const hit = makeHit(rule, events, {
      count: 12,
      firstSeen: new Date("2026-11-20T10:00:00Z"),
      lastSeen: new Date("2026-11-20T10:05:00Z"),
    });
    const [alert] = await buildAlerts([hit], new MemoryStore(), config);
    expect(alert.count).toBe(12);
    expect(alert.title).toBe(
      "AI agent (via mcp-self-hosted) got 12 access denials in 5 min as role/agent-runner",
    );
  });

  it("titles an off-hours burst", async () => {
    const rule = makeRule({ id: "ai-off-hours-burst", title: "AI burst off hours", level: "medium" });
    const events = Array.from({ length: 20 }, (_, i) =>
      makeEvent({
        id: `o${i}`,
        time: new Date(Date.parse("2026-11-21T02:00:00Z") + i * 10_000).toISOString(),
        action: "ListBuckets",
      }),
    );
    const [alert] = await buildAlerts([makeHit(rule, events)], new MemoryStore(), config);
    expect(alert.title).toBe(
      "AI agent (via aws-mcp) made 20 calls in 4 min outside business hours as dev-alice",
    );
  });
});

describe("alert hygiene", () => {
  const hostile = () =>
    makeEvent({
      id: "h1\r\nInjected: yes",
      time: "2026-11-20T10:00:00Z",
      display: "\u001b[31mevil\u001b[0m\r\nSeverity: low\u202Etxt.exe",
      via: "mcp\nself",
      actor: {
        evidence: [{ signal: "userAgent", value: "claude-code/1.0 \u001b]0;pwned\u0007\r\nX: y" }],
      },
      requestParameters: {
        bucketName: "prod-reports",
        key: "a",
        environment: [{ name: "DB_PASSWORD", value: "hunter2-in-alert" }],
        description: "seeded with ghp_abcdefghijklmnopqrstuvwxyz0123456789",
      },
      responseElements: {
        credentials: { accessKeyId: "ASIAEXAMPLE", sessionToken: "IQoJb3JpZ2luSECRETSECRETSECRETSECRET" },
      },
    });

  it("strips control characters from everything a record put into the alert and redacts the sample", async () => {
    const [alert] = await buildAlerts([makeHit(makeRule(), [hostile()])], new MemoryStore(), config);
    const strings: string[] = [];
    const walk = (v: unknown) => {
      if (typeof v === "string") strings.push(v);
      else if (v && typeof v === "object") {
        for (const [k, x] of Object.entries(v)) {
          strings.push(k);
          walk(x);
        }
      }
    };
    walk(alert);
    for (const s of strings) expect(s).not.toMatch(CONTROL);
    expect(alert.title).toContain("evil Severity: low");
    expect(JSON.stringify(alert)).not.toContain("SECRETSECRET");
    expect(JSON.stringify(alert)).not.toContain("hunter2-in-alert");
    expect(JSON.stringify(alert)).not.toContain("ghp_abcdef");
    const creds = (alert.sample[0].responseElements as { credentials: Record<string, string> }).credentials;
    expect(creds.sessionToken).toBe(REDACTED);
    expect(creds.accessKeyId).toBe("ASIAEXAMPLE");
  });

  it("caps the sample size for huge records", async () => {
    const big = makeEvent({
      id: "big",
      time: "2026-11-20T10:00:00Z",
      requestParameters: {
        policies: Array.from({ length: 150 }, (_, i) => ({ n: i, doc: "x".repeat(1500) })),
      },
    });
    const [alert] = await buildAlerts([makeHit(makeRule(), [big])], new MemoryStore(), config);
    expect(JSON.stringify(alert.sample[0]).length).toBeLessThanOrEqual(8 * 1024);
    expect(alert.sample[0].eventID).toBe("big");
  });
});

describe("renderAlertText / alertMessageAttributes", () => {
  async function sampleAlert(): Promise<Alert> {
    const [alert] = await buildAlerts(
      [makeHit(makeRule(), deletes(["t1", "t2"], "2026-11-20T10:00:00Z"))],
      new MemoryStore(),
      config,
    );
    return alert;
  }

  it("says who, what, where, how bad, why, what next and which events", async () => {
    const alert = await sampleAlert();
    const text = renderAlertText(alert);
    const lines = text.split("\n");
    expect(lines[0]).toBe(`[HIGH] ${alert.title}`);
    expect(text).toMatch(/^Who: +AI agent \(via aws-mcp\), high confidence$/m);
    expect(text).toMatch(/^Account: +111122223333$/m);
    expect(text).toMatch(/^Region: +us-east-1$/m);
    expect(text).toContain("invokedBy = aws-mcp.amazonaws.com");
    expect(text).toContain(`Next steps: ${alert.runbook}`);
    expect(text).toContain("Event ids: t1, t2");
    expect(text).toContain(`Alert id: ${alert.id}`);
  });

  it("carries the rule's known false positives, cleaned and capped, and lists them for the responder", async () => {
    const rule = makeRule({
      falsepositives: ["Cleanup jobs\r\nFAKE LINE", "", "Backups rotated", "c", "d", "e", "f"],
    });
    const [alert] = await buildAlerts(
      [makeHit(rule, deletes(["f1"], "2026-11-20T10:00:00Z"))],
      new MemoryStore(),
      config,
    );
    expect(alert.falsePositives).toEqual(["Cleanup jobs FAKE LINE", "Backups rotated", "c", "d", "e"]);
    expect(JSON.parse(JSON.stringify(alert)).falsePositives).toEqual(alert.falsePositives);
    const text = renderAlertText(alert);
    expect(text).toContain("Known false positives: Cleanup jobs FAKE LINE; Backups rotated; c; d; e\n");
    // A rule without any: no field, no line.
    const plain = await sampleAlert();
    expect("falsePositives" in plain).toBe(false);
    expect(renderAlertText(plain)).not.toContain("Known false positives");
  });

  it("carries the rule's Sigma tags and names the ATT&CK tactics and techniques in the text", async () => {
    const rule = makeRule({
      tags: [
        "attack.defense-evasion",
        "attack.t1562.008",
        "attack.T1070",
        "cve.2024-1234",
        "detection.threat-hunting",
      ],
    });
    const [alert] = await buildAlerts(
      [makeHit(rule, deletes(["g1"], "2026-11-20T10:00:00Z"))],
      new MemoryStore(),
      config,
    );
    expect(alert.tags).toEqual(rule.tags);
    expect(renderAlertText(alert)).toContain("\nATT&CK: defense-evasion, T1562.008, T1070\n");
    const plain = await sampleAlert();
    expect("tags" in plain).toBe(false);
    expect(renderAlertText(plain)).not.toContain("ATT&CK");
    expect(renderAlertText({ ...plain, tags: ["cve.2024-1234"] })).not.toContain("ATT&CK");
    // An alert read back from elsewhere: the line lists the tags the tags attribute carries, 20 at most.
    const many = Array.from({ length: 30 }, (_, i) => `attack.t${1000 + i}`);
    const attack = renderAlertText({ ...plain, tags: many })
      .split("\n")
      .find((l) => l.startsWith("ATT&CK: "));
    expect(attack?.slice("ATT&CK: ".length).split(", ")).toEqual(
      many.slice(0, 20).map((t) => t.slice("attack.".length).toUpperCase()),
    );
    // ...each cleaned and capped as that attribute carries it.
    const hostileLine = renderAlertText({
      ...plain,
      tags: [`attack.t1562\r\nFAKE\u001b[2J${"x".repeat(200)}`],
    });
    expect(hostileLine).toContain(`\nATT&CK: t1562 FAKE${"x".repeat(82)}…\n`);
  });

  it("lists a numbered runbook one step per line", async () => {
    const alert = await sampleAlert();
    const text = renderAlertText({
      ...alert,
      runbook: "1. Stop the agent. 2. Revoke its session.  3. Restore from backup.",
    });
    expect(text).toContain(
      "Next steps:\n  1. Stop the agent.\n  2. Revoke its session.\n  3. Restore from backup.",
    );
  });

  it("cleans fields again when rendering an alert that came from elsewhere", async () => {
    const alert = await sampleAlert();
    const text = renderAlertText({ ...alert, title: "x\r\nFAKE LINE", principal: "p\u001b[2J" });
    expect(text.split("\n")[0]).toBe("[HIGH] x FAKE LINE");
    expect(text).not.toContain("\u001b");
  });

  it("gives the four filterable attributes of an untagged rule as SNS String attributes", async () => {
    const alert = await sampleAlert();
    expect(alertMessageAttributes(alert)).toEqual({
      severity: { DataType: "String", StringValue: "high" },
      ruleId: { DataType: "String", StringValue: "ai-destructive-action" },
      actorKind: { DataType: "String", StringValue: "ai" },
      account: { DataType: "String", StringValue: "111122223333" },
    });
    expect(alertMessageAttributes({ ...alert, account: "" }).account.StringValue).toBe("unknown");
  });

  it("adds the rule's tags as a String.Array attribute, cleaned, only when there are any", async () => {
    const alert = await sampleAlert();
    expect("tags" in alertMessageAttributes(alert)).toBe(false);
    const tagged = alertMessageAttributes({
      ...alert,
      tags: ["attack.defense-evasion", 'attack.t1562.008"]\u0000', "", ...Array(30).fill("x")],
    });
    expect(tagged.tags.DataType).toBe("String.Array");
    const values = JSON.parse(tagged.tags.StringValue) as string[];
    expect(values.slice(0, 2)).toEqual(["attack.defense-evasion", 'attack.t1562.008"]']);
    expect(values).toHaveLength(20);
  });
});

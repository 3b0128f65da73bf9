/**
 * Alert output forms: readable text for e-mail and chat, message attributes for subscription filter
 * policies. Values are cleaned again here: an Alert may have been read back from a file or a store.
 */
import type { Alert } from "../alerts.ts";
import { cleanedTags, cleanText } from "../sanitize.ts";
import { actorPhrase } from "./title.ts";

const MAX_LISTED_EVENT_IDS = 20;

function line(label: string, value: string): string {
  return `${`${label}:`.padEnd(12)}${value}`;
}

/** Who, what, where, how bad, evidence, next steps and event ids, one fact per line. */
export function renderAlertText(alert: Alert): string {
  const a = alert.actor;
  const out: string[] = [];
  out.push(`[${alert.severity.toUpperCase()}] ${cleanText(alert.title, 300)}`);
  out.push("");
  const status = alert.status === "new" ? "new alert" : `updated: count now ${alert.count}`;
  const escalated = alert.escalatedFrom ? `, severity raised from ${alert.escalatedFrom}` : "";
  out.push(line("Status", `${status}${escalated}`));
  out.push(
    line(
      "Rule",
      `${cleanText(alert.ruleId, 120)}${alert.ruleTitle ? ` (${cleanText(alert.ruleTitle, 160)})` : ""}`,
    ),
  );
  out.push(line("Severity", alert.severity));
  out.push(line("Who", `${actorPhrase(a)}, ${a.confidence} confidence`));
  out.push(line("Principal", cleanText(alert.principal, 512) || "unknown"));
  if (a.session) out.push(line("Session", cleanText(a.session, 512)));
  out.push(line("Account", cleanText(alert.account, 32) || "unknown"));
  out.push(line("Region", cleanText(alert.region, 64) || "unknown"));
  const span =
    alert.firstSeen === alert.lastSeen ? alert.firstSeen : `${alert.firstSeen} to ${alert.lastSeen}`;
  out.push(line("When", `${cleanText(span, 80)} (${alert.count} ${alert.count === 1 ? "event" : "events"})`));
  if (alert.group && Object.keys(alert.group).length) {
    const group = Object.entries(alert.group)
      .map(([k, v]) => `${cleanText(k, 64)}=${cleanText(v, 128)}`)
      .join(", ");
    out.push(line("Group", group));
  }
  if (a.evidence.length) {
    out.push("");
    out.push(`Why ${a.kind === "ai" ? "AI" : a.kind}:`);
    for (const e of a.evidence) {
      const extra = [
        e.issuedBy ? `issued by event ${cleanText(e.issuedBy, 80)}` : "",
        e.via ? `via ${cleanText(e.via, 256)}` : "",
      ]
        .filter(Boolean)
        .join(", ");
      out.push(`  - ${cleanText(e.signal, 64)} = ${cleanText(e.value, 256)}${extra ? ` (${extra})` : ""}`);
    }
  }
  if (alert.description) {
    out.push("");
    out.push(`What this means: ${cleanText(alert.description, 2000).trim()}`);
  }
  // The same tags, capped, as the message attributes carry (an alert may come from a file).
  const attack = attackTags(cleanedTags(alert.tags ?? []) ?? []);
  if (attack) {
    out.push("");
    out.push(`ATT&CK: ${attack}`);
  }
  if (alert.falsePositives?.length) {
    out.push("");
    out.push(`Known false positives: ${alert.falsePositives.map((f) => cleanText(f, 300)).join("; ")}`);
  }
  out.push("");
  const runbook = alert.runbook ? cleanText(alert.runbook, 2000).trim() : "";
  if (runbook) {
    // Numbered runbooks ("1. … 2. …") read better one step per line.
    const steps = runbook.split(/\s+(?=\d{1,2}\.\s)/);
    if (steps.length > 1) out.push("Next steps:", ...steps.map((step) => `  ${step}`));
    else out.push(`Next steps: ${runbook}`);
  } else {
    out.push(
      "Next steps: review the events below in CloudTrail and confirm the activity with the principal's owner.",
    );
  }
  out.push("");
  const ids = alert.eventIds.slice(0, MAX_LISTED_EVENT_IDS).map((id) => cleanText(id, 80));
  const more = alert.count > ids.length ? ` (+${alert.count - ids.length} more)` : "";
  out.push(`Event ids: ${ids.join(", ") || "none"}${more}`);
  out.push(`Alert id: ${cleanText(alert.id, 80)}`);
  return out.join("\n");
}

/**
 * `attack.defense-evasion`, `attack.t1562.008` → "defense-evasion, T1562.008"; other tags are left to
 * the JSON. The tags are cleaned already (cleanedTags).
 */
function attackTags(tags: readonly string[]): string {
  return tags
    .filter((t) => /^attack\./i.test(t))
    .map((t) => {
      const name = t.slice("attack.".length);
      return /^t\d{4}(\.\d{3})?$/i.test(name) ? name.toUpperCase() : name;
    })
    .join(", ");
}

export interface StringAttribute {
  DataType: "String" | "String.Array";
  StringValue: string;
}

/**
 * SNS/SQS message attributes for subscription filter policies (never empty, SNS rejects that):
 * `severity`, `ruleId`, `actorKind`, `account`, and `tags` (String.Array of the rule's Sigma tags,
 * `attack.defense-evasion`, `attack.t1562.008`…: a filter policy matches any of them) when it has any.
 */
export function alertMessageAttributes(alert: Alert): Record<string, StringAttribute> {
  const attr = (value: string): StringAttribute => ({ DataType: "String", StringValue: value || "unknown" });
  const attributes: Record<string, StringAttribute> = {
    severity: attr(alert.severity),
    ruleId: attr(cleanText(alert.ruleId, 256)),
    actorKind: attr(alert.actor.kind),
    account: attr(cleanText(alert.account, 32)),
  };
  // Cleaned again: nothing uncleaned leaves the process even if an alert came from elsewhere.
  const tags = cleanedTags(alert.tags ?? []);
  if (tags) attributes.tags = { DataType: "String.Array", StringValue: JSON.stringify(tags) };
  return attributes;
}

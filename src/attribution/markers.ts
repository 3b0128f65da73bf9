/**
 * What a single record says about how a call was made: AWS-managed MCP servers, self-hosted MCP
 * and agent-client user agents, and the ordinary channels (console, CLI, SDK, IaC).
 * Sources: aws-formats.md §3 (AT-CT, AT-IAM, SMUS-MCP, AWSLABS).
 */

/** Service principals of AWS-managed MCP servers: aws-mcp, eks-mcp, ecs-mcp, sagemaker-unified-studio-mcp, … */
const MANAGED_MCP_PRINCIPAL = /^[a-z0-9-]*-mcp\.amazonaws\.com$/i;
/** eventSource spellings of the MCP tool-call event: `aws-mcp.amazonaws.com`, `aws-mcp.us-east-1.api.aws`. */
const MANAGED_MCP_SOURCE = /^[a-z0-9-]*-mcp(\.[a-z0-9-]+)*\.(amazonaws\.com|api\.aws)$/i;

export function isManagedMcpPrincipal(value: string | undefined): boolean {
  if (value === undefined || value.length >= 128) return false;
  // Every call asks this of its user agent, source IP and invokedBy: those not ending in "m"/"M" skip the regex.
  if ((value.charCodeAt(value.length - 1) | 0x20) !== 0x6d) return false;
  return MANAGED_MCP_PRINCIPAL.test(value);
}

export function isManagedMcpSource(value: string | undefined): boolean {
  return value !== undefined && value.length < 128 && MANAGED_MCP_SOURCE.test(value);
}

export type AgentChannel = "mcp-self-hosted" | "agent-client";

export interface UserAgentMarker {
  /** lower-case substring */
  marker: string;
  channel: AgentChannel;
}

/** Built-in user-agent markers (case-insensitive substrings). */
export const BUILTIN_USER_AGENT_MARKERS: readonly UserAgentMarker[] = [
  { marker: "awslabs/mcp/", channel: "mcp-self-hosted" },
  { marker: "md/awslabs#mcp#", channel: "mcp-self-hosted" },
  { marker: "mcpclient/", channel: "mcp-self-hosted" },
  { marker: "mcp-proxy-for-aws", channel: "mcp-self-hosted" },
  { marker: "claude-code/", channel: "agent-client" },
  { marker: "kiro/", channel: "agent-client" },
  { marker: "strands-agents", channel: "agent-client" },
  { marker: "amazon-q-developer", channel: "agent-client" },
  { marker: "q-developer-cli", channel: "agent-client" },
  { marker: "codex-cli/", channel: "agent-client" },
  { marker: "gemini-cli/", channel: "agent-client" },
  { marker: "cursor/", channel: "agent-client" },
  { marker: "langchain", channel: "agent-client" },
];

export type Channel = "console" | "cli" | "sdk" | "iac" | "unknown";

/** The ordinary channel of a call: console calls say so in the record, the rest in their user agent (userAgentChannel). */
export function channelOf(
  fromUserAgent: Channel,
  eventType: string,
  raw: Readonly<Record<string, unknown>>,
): Channel {
  if (eventType === "AwsConsoleSignIn" || eventType === "AwsConsoleAction") return "console";
  if (raw.sessionCredentialFromConsole === "true") return "console";
  return fromUserAgent;
}

/**
 * The channel a user agent names. Checked in order: the console wraps SDKs
 * (`S3Console/0.4, aws-internal/3 aws-sdk-java`), Terraform wraps the Go SDK.
 */
export function userAgentChannel(userAgent: string): Channel {
  const ua = userAgent.toLowerCase();
  if (ua === "") return "unknown";
  if (/console|signin\.amazonaws\.com|^mozilla\//.test(ua.replace(/^\[/, ""))) return "console";
  if (/terraform|cloudformation|pulumi|aws-cdk|crossplane/.test(ua)) return "iac";
  if (/aws-cli\/|aws-shell|awstoolsforpowershell|aws-powershell/.test(ua)) return "cli";
  if (/aws-sdk|boto3|botocore|aws-internal|smithy|aws-chalice/.test(ua)) return "sdk";
  return "unknown";
}

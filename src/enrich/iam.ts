/**
 * IAM self-modification: a principal changing the IAM identity it is acting as — the role behind its
 * assumed-role session, or its own IAM user (also when reached through a GetFederationToken session).
 * This is how an agent widens its own permissions, plants credentials for itself or steers ABAC.
 */
import { type AuditEvent, awsEventSource } from "../event.ts";
import { asObject, type Params } from "../json-values.ts";

const IAM = awsEventSource("iam");

/** Calls that change a role, by requestParameters.roleName. */
const ROLE_ACTIONS = new Set([
  "PutRolePolicy",
  "AttachRolePolicy",
  "DetachRolePolicy",
  "DeleteRolePolicy",
  "UpdateAssumeRolePolicy",
  "PutRolePermissionsBoundary",
  "DeleteRolePermissionsBoundary",
  "TagRole",
  "UntagRole",
  "UpdateRole",
]);

/** Calls that change a user, by requestParameters.userName. */
const USER_ACTIONS = new Set([
  "PutUserPolicy",
  "AttachUserPolicy",
  "DetachUserPolicy",
  "DeleteUserPolicy",
  "PutUserPermissionsBoundary",
  "DeleteUserPermissionsBoundary",
  "CreateAccessKey",
  "UpdateAccessKey",
  "CreateLoginProfile",
  "UpdateLoginProfile",
  "TagUser",
  "UntagUser",
  "AddUserToGroup",
  "CreateServiceSpecificCredential",
  "UploadSigningCertificate",
  "UploadSSHPublicKey",
]);

/** User calls whose UserName is optional: without it IAM acts on the calling user itself. */
const DEFAULTS_TO_CALLER = new Set([
  "CreateAccessKey",
  "UpdateAccessKey",
  "CreateLoginProfile",
  "UpdateLoginProfile",
  "UploadSigningCertificate",
]);

/** Calls that change a managed policy's content, by requestParameters.policyArn. */
const POLICY_ACTIONS = new Set(["CreatePolicyVersion", "SetDefaultPolicyVersion"]);

/** Calls that attach a managed policy to a role or user (remembered to judge POLICY_ACTIONS). */
const ATTACH_ACTIONS = new Set(["AttachRolePolicy", "AttachUserPolicy"]);

/** Every eventName that can be a self-modification (rules list them so the engine can index them). */
export const SELF_MODIFICATION_ACTIONS: ReadonlySet<string> = new Set([
  ...ROLE_ACTIONS,
  ...USER_ACTIONS,
  ...POLICY_ACTIONS,
]);

export interface SelfModification {
  /** The identity changed: role/<name>, user/<name> or policy/<arn>. */
  target: string;
  self: boolean;
}

function str(v: unknown): string | undefined {
  return typeof v === "string" && v !== "" ? v : undefined;
}

/** IAM names are unique case-insensitively; accept names given as ARNs too. */
function sameName(a: string | undefined, b: string | undefined): boolean {
  if (!a || !b) return false;
  const tail = (s: string) => (s.startsWith("arn:") ? s.slice(s.lastIndexOf("/") + 1) : s);
  return tail(a).toLowerCase() === tail(b).toLowerCase();
}

/** The role a session acts as (assumed-role sessions). */
function callerRole(event: AuditEvent): string | undefined {
  return event.principal.type === "AssumedRole" ? event.principal.roleName : undefined;
}

/** The IAM user a principal acts as: itself, or the user that issued its federation token. */
function callerUser(event: AuditEvent): string | undefined {
  const p = event.principal;
  if (p.type === "IAMUser") return p.userName;
  if (p.type === "FederatedUser") {
    const issuer = (event.raw.userIdentity as { sessionContext?: { sessionIssuer?: Params } } | undefined)
      ?.sessionContext?.sessionIssuer;
    if (issuer && issuer.type === "IAMUser") return str(issuer.userName);
  }
  return undefined;
}

/** Whether the call targets an identity in the caller's own account (IAM is account-scoped). */
function sameAccount(event: AuditEvent): boolean {
  const own = event.principal.account;
  return !own || !event.account || own === event.account;
}

/** A key for "identity X has policy P attached", from attach calls seen in the batch. */
function attachmentKey(account: string, kind: "role" | "user", name: string, policyArn: string): string {
  return `${account}|${kind}|${name.toLowerCase()}|${policyArn}`;
}

/**
 * Policy attachments seen in a batch: CreatePolicyVersion / SetDefaultPolicyVersion records name only
 * the policy, so a change to "a policy attached to itself" is recognised only where an attach call in
 * the same batch says the caller's identity holds that policy.
 */
export function collectAttachments(events: readonly AuditEvent[]): Set<string> {
  const seen = new Set<string>();
  for (const event of events) {
    if (event.service !== IAM || !ATTACH_ACTIONS.has(event.action) || event.error) continue;
    const p = asObject(event.raw.requestParameters);
    const policyArn = str(p?.policyArn);
    if (!p || !policyArn) continue;
    const role = str(p.roleName);
    const user = str(p.userName);
    if (event.action === "AttachRolePolicy" && role)
      seen.add(attachmentKey(event.account, "role", role, policyArn));
    if (event.action === "AttachUserPolicy" && user)
      seen.add(attachmentKey(event.account, "user", user, policyArn));
  }
  return seen;
}

/** The identity an IAM call changes and whether it is the caller's own; undefined for other calls. */
export function selfModification(
  event: AuditEvent,
  attachments: ReadonlySet<string>,
): SelfModification | undefined {
  if (event.service !== IAM) return undefined;
  const action = event.action;
  const p = asObject(event.raw.requestParameters);
  if (ROLE_ACTIONS.has(action)) {
    const role = str(p?.roleName);
    if (!role) return undefined;
    return { target: `role/${role}`, self: sameAccount(event) && sameName(callerRole(event), role) };
  }
  if (USER_ACTIONS.has(action)) {
    const named = str(p?.userName);
    const caller = callerUser(event);
    const user = named ?? (DEFAULTS_TO_CALLER.has(action) ? caller : undefined);
    if (!user) return undefined;
    return { target: `user/${user}`, self: sameAccount(event) && sameName(caller, user) };
  }
  if (POLICY_ACTIONS.has(action)) {
    const policyArn = str(p?.policyArn);
    if (!policyArn) return undefined;
    const role = callerRole(event);
    const user = callerUser(event);
    const self =
      (role !== undefined && attachments.has(attachmentKey(event.account, "role", role, policyArn))) ||
      (user !== undefined && attachments.has(attachmentKey(event.account, "user", user, policyArn)));
    return { target: `policy/${policyArn}`, self };
  }
  return undefined;
}

/** SHA-256 of a text: identities (alert ids, store keys, synthetic event ids), not secrets. */
import crypto from "node:crypto";

/** The one-shot crypto.hash (Node ≥ 20.12) makes no Hash object per call; older Node 20 builds one. */
export const sha256Hex: (text: string) => string =
  typeof crypto.hash === "function"
    ? (text) => crypto.hash("sha256", text)
    : (text) => crypto.createHash("sha256").update(text).digest("hex");

/** The same digest as base64url: shorter, where a key must fit a length (correlation window keys). */
export const sha256Base64url: (text: string) => string =
  typeof crypto.hash === "function"
    ? (text) => crypto.hash("sha256", text, "base64url")
    : (text) => crypto.createHash("sha256").update(text).digest("base64url");

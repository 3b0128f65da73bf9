import { describe, expect, it } from "vitest";
import { sha256Base64url, sha256Hex } from "../src/hash.ts";

describe("sha256 digests", () => {
  it("match the published SHA-256 vector, as hex and as base64url", () => {
    expect(sha256Hex("abc")).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    expect(sha256Base64url("abc")).toBe("ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0");
  });

  it("hash the text as UTF-8 (é is the bytes c3 a9)", () => {
    expect(sha256Hex("é")).toBe("4a99557e4033c3539de2eb65472017cad5f9557f7a0625a09f1c3f6e2ba69c4c");
    expect(sha256Base64url("é")).toBe("SplVfkAzw1Od4utlRyAXytX5VX96BiWgnxw_biumnEw");
  });
});

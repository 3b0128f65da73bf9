import crypto from "node:crypto";
import { afterEach, describe, expect, it, vi } from "vitest";
import * as oneShot from "../src/hash.ts";

type HashModule = typeof oneShot;

/** hash.ts as loaded on a Node 20 without the one-shot crypto.hash (before 20.12): the Hash-object path. */
async function withoutOneShot(): Promise<HashModule> {
  vi.resetModules();
  vi.doMock("node:crypto", () => {
    const { hash: _absent, ...rest } = crypto;
    return { default: rest, ...rest };
  });
  return import("../src/hash.ts");
}

afterEach(() => {
  vi.doUnmock("node:crypto");
  vi.resetModules();
});

describe.each([
  ["the one-shot crypto.hash", async () => oneShot],
  ["createHash, where crypto.hash is missing", withoutOneShot],
])("sha256 digests with %s", (_, load: () => Promise<HashModule>) => {
  it("match the published SHA-256 vector, as hex and as base64url", async () => {
    const { sha256Base64url, sha256Hex } = await load();
    expect(sha256Hex("abc")).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    expect(sha256Base64url("abc")).toBe("ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0");
  });

  it("hash the text as UTF-8 (é is the bytes c3 a9)", async () => {
    const { sha256Base64url, sha256Hex } = await load();
    expect(sha256Hex("é")).toBe("4a99557e4033c3539de2eb65472017cad5f9557f7a0625a09f1c3f6e2ba69c4c");
    expect(sha256Base64url("é")).toBe("SplVfkAzw1Od4utlRyAXytX5VX96BiWgnxw_biumnEw");
  });
});

it("the fallback path really runs without crypto.hash", async () => {
  const spy = vi.spyOn(crypto, "createHash");
  const { sha256Hex } = await withoutOneShot();
  sha256Hex("abc");
  expect(spy).toHaveBeenCalledWith("sha256");
  spy.mockRestore();
});

/**
 * The Lambda bundle's esbuild options, in one place: serverless-esbuild loads this file through
 * `custom.esbuild.config` in serverless.yml (it calls the exported function with the Serverless
 * instance), and test/e2e builds the same bundle with `esbuildOptions()` so the two cannot drift.
 * CommonJS because serverless-esbuild `require`s it.
 */
"use strict";

/** An ESM bundle calls `require` for Node built-ins inside bundled CommonJS dependencies (AWS SDK). */
const REQUIRE_SHIM = [
  'import { createRequire as __agenttrailCreateRequire } from "node:module";',
  'import { fileURLToPath as __agenttrailFileURLToPath } from "node:url";',
  'import { dirname as __agenttrailDirname } from "node:path";',
  "const require = __agenttrailCreateRequire(import.meta.url);",
  "const __filename = __agenttrailFileURLToPath(import.meta.url);",
  "const __dirname = __agenttrailDirname(__filename);",
].join("\n");

/** Plain esbuild BuildOptions (no serverless-esbuild keys), for building the bundle directly. */
function esbuildOptions() {
  return {
    bundle: true,
    format: "esm",
    platform: "node",
    target: "node22",
    minify: false,
    sourcemap: true,
    // Everything is bundled, the AWS SDK v3 included: the deployed code runs the SDK version the
    // tests ran, not whatever the runtime ships.
    external: [],
    mainFields: ["module", "main"],
    banner: { js: REQUIRE_SHIM },
    outExtension: { ".js": ".mjs" },
  };
}

/** serverless-esbuild options: the esbuild options plus the plugin's own keys. */
function serverlessEsbuildOptions() {
  const { outExtension: _outExtension, ...options } = esbuildOptions();
  return {
    ...options,
    outputFileExtension: ".mjs",
    // Nothing is external, so there is nothing for a package manager to install (works offline).
    exclude: [],
    packager: "npm",
  };
}

module.exports = () => serverlessEsbuildOptions();
module.exports.esbuildOptions = esbuildOptions;
module.exports.serverlessEsbuildOptions = serverlessEsbuildOptions;

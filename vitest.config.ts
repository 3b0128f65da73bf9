import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // one moto_server for the run; tests isolate themselves per moto account (test/support/aws.ts)
    globalSetup: ["test/setup/moto.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});

import { defineConfig } from "vitest/config";

// Two cores on CI: run files in forks, a few at a time, and keep network-free defaults.
export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    pool: "forks",
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
    testTimeout: 20_000,
    hookTimeout: 20_000,
    reporters: ["default"],
    env: { TOKENGOBLIN_LOG: "silent" },
  },
});

/**
 * A paid order survives the shop process being SIGKILLed during deliveries, on SQLite (the default
 * store): issue 11's schedule (30 customers, 1 s key creation, 3 kills) and issue 18's harsh one (40
 * customers, 1–3 s key creation, 6 kills). The same run on Redis and on a Redis Cluster:
 * crash-redis.test.ts, crash-cluster.test.ts. The run and its verdict: test/support/kill-test.ts
 * (CRASH_SEED, CRASH_CUSTOMERS, CRASH_KILLS, CRASH_LOG, CRASH_VERBOSE are read there).
 */
import { afterEach, describe, it } from "vitest";
import { HARSH, STANDARD, TEST_TIMEOUT_MS, cleanUpKillTest, onSqlite, sized } from "../support/kill-test.ts";

afterEach(cleanUpKillTest);

describe("a paid order survives the shop being killed during delivery (issue 11)", () => {
  it("with SQLite", { timeout: TEST_TIMEOUT_MS }, () => onSqlite(sized(STANDARD)));
});

describe("a paid order survives six kills during slow deliveries, and no live key is left unshown (issue 18)", () => {
  it("with SQLite", { timeout: TEST_TIMEOUT_MS }, () => onSqlite(sized(HARSH)));
});

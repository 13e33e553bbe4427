/** The dashboard's failed-login memory is bounded without lifting the lock of a client that keeps guessing (issue 18, point 7). */
import { describe, expect, test } from "vitest";
import { createAuth } from "../../../src/dashboard/auth.ts";
import type { HttpRequest } from "../../../src/http/server.ts";
import { testClock } from "../../support/app.ts";

const TOKEN = "dashboard-token-0123456789";
const WINDOW_MS = 15 * 60_000;
/** A login form post from the socket address `client`. */
const from = (client: string): HttpRequest => ({
  method: "POST",
  path: "/admin/login",
  query: new URLSearchParams(),
  params: {},
  headers: {},
  rawBody: Buffer.alloc(0),
  remoteAddress: client,
});

describe("failed dashboard logins", () => {
  test("a guessing client stays locked while thousands of one-off client names roll over the memory; the right token always gets in", () => {
    const clock = testClock();
    const auth = createAuth({ token: TOKEN, now: clock, windowMs: WINDOW_MS, maxTrackedClients: 1_000, lockedPauseMs: 0 });
    for (let i = 0; i < 5; i++) expect(auth.login(from("attacker"), "guess")).toBe("wrong_token");
    expect(auth.login(from("attacker"), "guess")).toBe("locked");
    for (let forged = 0; forged < 20_000; forged++) {
      expect(auth.login(from(`10.${Math.floor(forged / 256)}.${forged % 256}.1`), "guess")).toBe("wrong_token");
      if (forged % 500 === 0) {
        expect(auth.login(from("attacker"), "guess")).toBe("locked");
        clock.advance(1_000);
      }
    }
    expect(auth.trackedClients()).toBeLessThanOrEqual(1_000);
    // Issue 18: the limit slows guessing, it never locks the owner out.
    expect(auth.login(from("attacker"), TOKEN)).toBe("ok");
    clock.advance(WINDOW_MS + 1);
    expect(auth.login(from("attacker"), "guess")).toBe("wrong_token");
  });
});

/** The dashboard's failed-login memory is bounded without ever lifting a lock (issue 18, point 7). */
import { describe, expect, test } from "vitest";
import { createAuth } from "../../../src/dashboard/auth.ts";
import type { HttpRequest } from "../../../src/http/server.ts";
import { testClock } from "../../support/app.ts";

const TOKEN = "dashboard-token-0123456789";
const WINDOW_MS = 15 * 60_000;
const from = (client: string): HttpRequest => ({ method: "POST", path: "/admin/login", query: new URLSearchParams(), params: {}, headers: { "x-forwarded-for": client }, rawBody: Buffer.alloc(0) });

describe("failed dashboard logins", () => {
  test("a locked client stays locked while days of forged client names pile up and roll over the memory", () => {
    const clock = testClock();
    const auth = createAuth({ token: TOKEN, now: clock, windowMs: WINDOW_MS });
    // Just under the total limit per window, so nothing locks everyone: ~10,000 one-off names.
    let forged = 0;
    while (forged < 9_990) {
      for (let i = 0; i < 45 && forged < 9_990; i++) expect(auth.login(from(`10.0.${forged++}`), "guess")).toBe("wrong_token");
      clock.advance(WINDOW_MS + 1);
    }
    for (let i = 0; i < 5; i++) auth.login(from("attacker"), "guess");
    expect(auth.login(from("attacker"), TOKEN)).toBe("locked");
    for (let i = 0; i < 30; i++) expect(auth.login(from(`10.1.${i}`), "guess")).toBe("wrong_token");
    expect(auth.login(from("attacker"), TOKEN)).toBe("locked");
    clock.advance(WINDOW_MS + 1);
    expect(auth.login(from("attacker"), TOKEN)).toBe("ok");
  });
});

/**
 * Issue 18: the dashboard's failed-login limit could lock the owner out. It was partly global and
 * believed any `X-Forwarded-For`, so 50 wrong tries with made-up header values refused the right Bearer
 * token from every address for 15 minutes. Now the limit is per client address as the server sees it,
 * a forwarded address counts only behind a proxy named in TRUSTED_PROXY, and the right token or a
 * signed-in session always gets in.
 */
import { afterEach, describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../src/config.ts";
import { SESSION_COOKIE, createAuth } from "../../src/dashboard/auth.ts";
import { createClientAddress, parseTrustedProxies } from "../../src/http/client-address.ts";
import type { HttpRequest, HttpResponse } from "../../src/http/server.ts";
import { ADMIN_TOKEN, type Shop, openShop } from "../support/dashboard-shop.ts";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

async function shop(env: Record<string, string> = {}, listen = false): Promise<Shop> {
  const opened = await openShop({ HTTP_PORT: "0", ...env }, listen ? { listen: true } : {});
  cleanups.push(() => opened.app.close());
  return opened;
}

const ATTACKER = "203.0.113.9";
const OWNER = "198.51.100.7";
const PROXY = "127.0.0.1";

/** Requests as they arrive from one socket address, in-process. */
function from(s: Shop, remoteAddress: string) {
  const send = (method: "GET" | "POST", path: string, headers: Record<string, string> = {}, body?: string): Promise<HttpResponse> =>
    s.app.http.dispatch({
      method,
      path,
      headers: { host: "shop.example", ...(body === undefined ? {} : { "content-type": "application/x-www-form-urlencoded" }), ...headers },
      rawBody: Buffer.from(body ?? ""),
      remoteAddress,
    });
  return {
    bearer: (token: string, headers: Record<string, string> = {}) =>
      send("GET", "/admin", { authorization: `Bearer ${token}`, ...headers }),
    login: (token: string, headers: Record<string, string> = {}) =>
      send("POST", "/admin/login", headers, `token=${encodeURIComponent(token)}`),
    withCookie: (cookie: string) => send("GET", "/admin", { cookie }),
  };
}
const statuses = (responses: HttpResponse[]) => responses.map((response) => response.status);
const sessionOf = (response: HttpResponse) =>
  `${SESSION_COOKIE}=${/^tg_admin=([^;]*)/.exec(response.headers?.["set-cookie"] ?? "")?.[1] ?? ""}`;

describe("the failed-login limit counts per client address", () => {
  it("rotating X-Forwarded-For values without a trusted proxy all count against the one socket address", async () => {
    const s = await shop();
    const attacker = from(s, ATTACKER);
    const first = [];
    for (let i = 0; i < 5; i++) first.push(await attacker.bearer(`guess-${i}`, { "x-forwarded-for": `10.0.0.${i}` }));
    expect(statuses(first)).toEqual([401, 401, 401, 401, 401]);
    expect((await attacker.bearer("guess-5", { "x-forwarded-for": "10.0.0.99" })).status).toBe(429);
    expect((await attacker.login("guess-6", { "x-forwarded-for": "192.0.2.1" })).status).toBe(429);
    // Another address is not touched by them.
    expect((await from(s, OWNER).bearer("typo")).status).toBe(401);
  });

  it("with TRUSTED_PROXY set, requests through that proxy count per forwarded client (its last hop)", async () => {
    const s = await shop({ TRUSTED_PROXY: PROXY });
    const proxy = from(s, PROXY);
    // 60 clients behind the proxy, one wrong token each: none is locked.
    const many = await Promise.all(
      Array.from({ length: 60 }, (_, i) => proxy.bearer(`guess-${i}`, { "x-forwarded-for": `10.1.${Math.floor(i / 250)}.${i % 250}` })),
    );
    expect(new Set(statuses(many))).toEqual(new Set([401]));
    // One client behind it guessing on: locked after five, whatever it writes in front of the proxy's hop.
    for (let i = 0; i < 5; i++)
      expect((await proxy.bearer(`again-${i}`, { "x-forwarded-for": `198.18.${i}.1, ${ATTACKER}` })).status).toBe(401);
    expect((await proxy.bearer("again-5", { "x-forwarded-for": ATTACKER })).status).toBe(429);
    // The same header from a socket that is not the proxy is not believed: that socket is the client.
    expect((await from(s, "192.0.2.50").bearer("x", { "x-forwarded-for": ATTACKER })).status).toBe(401);
  });

  it("after an attacker's 50+ failures the right Bearer token and an existing session still get in, from the same address too", async () => {
    const s = await shop();
    const owner = from(s, OWNER);
    const session = sessionOf(await owner.login(ADMIN_TOKEN));
    expect((await owner.withCookie(session)).status).toBe(200);
    // The attack: 60 wrong tries with rotating X-Forwarded-For values, all at once.
    const attacker = from(s, ATTACKER);
    const attack = await Promise.all(
      Array.from({ length: 60 }, (_, i) => attacker.bearer(`guess-${i}`, { "x-forwarded-for": `10.2.0.${i}` })),
    );
    expect(statuses(attack).filter((status) => status === 429)).toHaveLength(55);
    expect((await owner.bearer(ADMIN_TOKEN)).status).toBe(200);
    expect((await owner.withCookie(session)).status).toBe(200);
    // Even from the address that was guessing (an office NAT, a proxy without TRUSTED_PROXY).
    expect((await attacker.bearer(ADMIN_TOKEN)).status).toBe(200);
    expect((await attacker.withCookie(session)).status).toBe(200);
    expect((await attacker.login(ADMIN_TOKEN)).status).toBe(303);
  });

  it("a locked address gets 429 with a clear message for a wrong token, until 15 minutes after its last guess", async () => {
    const s = await shop();
    const attacker = from(s, ATTACKER);
    for (let i = 0; i < 5; i++) await attacker.bearer(`guess-${i}`);
    const asked = performance.now();
    const locked = await attacker.bearer("guess-5");
    // Refusals to a locked address take a second: one guess after another gets slow.
    expect(performance.now() - asked).toBeGreaterThanOrEqual(900);
    expect(locked.status).toBe(429);
    expect(String(locked.body)).toMatch(
      /too many wrong tokens from your address; wait 15 minutes.*the right token and a signed-in session still work/,
    );
    expect(locked.headers?.["retry-after"]).toBe("900");
    s.clock.advance(10 * 60_000);
    expect((await attacker.bearer("guess-6")).status).toBe(429); // a guess while locked keeps it locked
    s.clock.advance(14 * 60_000);
    expect((await attacker.bearer("guess-7")).status).toBe(429);
    s.clock.advance(16 * 60_000);
    expect((await attacker.bearer("guess-8")).status).toBe(401);
  });

  it("reads the client from the real socket: rotating X-Forwarded-For over TCP still locks that socket's address", async () => {
    const s = await shop({}, true);
    await s.app.start();
    const url = `http://127.0.0.1:${s.app.port}/admin`;
    const get = (token: string, forwarded: string) =>
      fetch(url, { headers: { authorization: `Bearer ${token}`, "x-forwarded-for": forwarded } });
    const answers = [];
    for (let i = 0; i < 6; i++) answers.push((await get(`guess-${i}`, `10.3.0.${i}`)).status);
    expect(answers).toEqual([401, 401, 401, 401, 401, 429]);
    expect((await get(ADMIN_TOKEN, "10.3.0.77")).status).toBe(200);
  });
});

describe("which client a request comes from", () => {
  const request = (remoteAddress: string | undefined, forwarded?: string): Pick<HttpRequest, "remoteAddress" | "headers"> => ({
    remoteAddress,
    headers: forwarded === undefined ? {} : { "x-forwarded-for": forwarded },
  });
  const proxies = (text: string) => {
    const parsed = parseTrustedProxies(text);
    if (!parsed.ok) throw new Error(parsed.bad);
    return parsed.proxies;
  };

  it("is the socket's address unless that socket is a trusted proxy", () => {
    const none = createClientAddress([]);
    expect(none(request("::ffff:203.0.113.9", "10.0.0.1"))).toBe("203.0.113.9");
    const behind = createClientAddress(proxies("127.0.0.1, 10.0.0.0/8"));
    expect(behind(request("127.0.0.1", "203.0.113.9"))).toBe("203.0.113.9");
    expect(behind(request("203.0.113.50", "203.0.113.9"))).toBe("203.0.113.50");
  });

  it("reads X-Forwarded-For from the right, skipping trusted hops, and stops at a hop no proxy would write", () => {
    const behind = createClientAddress(proxies("127.0.0.1, 10.0.0.0/8"));
    expect(behind(request("127.0.0.1", "1.1.1.1, 203.0.113.9, 10.4.4.4"))).toBe("203.0.113.9");
    expect(behind(request("127.0.0.1", "203.0.113.9:51234"))).toBe("203.0.113.9");
    expect(behind(request("127.0.0.1", "not-an-address"))).toBe("127.0.0.1");
    expect(behind(request("127.0.0.1"))).toBe("127.0.0.1");
    expect(behind(request("127.0.0.1", "10.9.9.9"))).toBe("10.9.9.9");
  });

  it("names IPv6 clients by their /64, so rotating inside one network gains nothing", () => {
    const none = createClientAddress([]);
    expect(none(request("2001:db8:1:2::1"))).toBe(none(request("2001:db8:1:2:ffff:ffff:ffff:ffff")));
    expect(none(request("2001:db8:1:2::1"))).toBe("2001:db8:1:2::/64");
    expect(none(request("2001:db8:1:3::1"))).not.toBe(none(request("2001:db8:1:2::1")));
    expect(none(request("::1"))).toBe("0:0:0:0::/64");
  });

  it("TRUSTED_PROXY takes addresses and networks, and a bad entry stops start-up naming the variable", () => {
    expect(loadConfig({ TRUSTED_PROXY: "127.0.0.1, ::1, 10.0.0.0/8" }).http.trustedProxies).toHaveLength(3);
    expect(loadConfig({}).http.trustedProxies).toEqual([]);
    for (const bad of ["localhost", "10.0.0.0/33", "127.0.0.1/8/1", "300.1.1.1"]) {
      expect(() => loadConfig({ TRUSTED_PROXY: bad })).toThrow(ConfigError);
      expect(() => loadConfig({ TRUSTED_PROXY: bad })).toThrow(
        /^TRUSTED_PROXY: must be a comma-separated list of IP addresses or networks/,
      );
    }
  });
});

describe("the failure map stays bounded", () => {
  it("under address rotation it keeps at most maxTrackedClients, forgetting expired and then the oldest", () => {
    let now = 0;
    const auth = createAuth({
      token: ADMIN_TOKEN,
      now: () => now,
      maxTrackedClients: 100,
      lockedPauseMs: 0,
      clientOf: (r) => String(r.headers["x-client"]),
    });
    const guess = (client: string, token = "wrong") =>
      auth.caller({
        method: "GET",
        path: "/admin",
        query: new URLSearchParams(),
        params: {},
        headers: { authorization: `Bearer ${token}`, "x-client": client },
        rawBody: Buffer.alloc(0),
      });
    for (let i = 0; i < 6; i++) guess("steady");
    expect(guess("steady")).toEqual({ ok: false, reason: "locked" });
    for (let i = 0; i < 5_000; i++) {
      now += 10;
      guess(`rotating-${i}`);
      expect(auth.trackedClients()).toBeLessThanOrEqual(100);
    }
    // Forgotten clients start again from zero; the right token was never refused.
    expect(guess("steady", ADMIN_TOKEN)).toMatchObject({ ok: true, via: "bearer" });
    now += 16 * 60_000;
    guess("after-the-window");
    expect(auth.trackedClients()).toBe(1);
  });
});

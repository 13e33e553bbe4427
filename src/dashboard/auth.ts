/**
 * Who may see the dashboard: a request carrying `Authorization: Bearer <ADMIN_TOKEN>`, or a browser
 * holding the session cookie the login form sets. The cookie is stateless — an expiry signed with a
 * key derived from the token — so it survives restarts, works across instances, and dies when the
 * token changes. Tokens and signatures are compared in constant time; failed attempts are limited.
 *
 * Cross-site requests: the cookie is SameSite=Strict, and every cookie-authenticated POST must carry
 * the form's CSRF field (a signature of the session) and must not come from another origin.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { createBoundedMap } from "../bounded.ts";
import type { HttpRequest } from "../http/server.ts";

/** The session cookie's name; scoped to /admin. */
export const SESSION_COOKIE = "tg_admin";

export type Caller =
  | { ok: true; via: "bearer" | "cookie"; csrf: string }
  | { ok: false; reason: "none" | "wrong_token" | "expired" | "bad_cookie" | "locked" };

export type AuthOptions = {
  token: string;
  now: () => number;
  /** How long a login lasts. */
  sessionTtlMs?: number;
  /** Failed attempts allowed per client within `windowMs`, and in total (any client) within it. */
  maxFailuresPerClient?: number;
  maxFailuresTotal?: number;
  windowMs?: number;
  /** PUBLIC_URL's host: browsers' Origin when a proxy rewrites Host. */
  publicHost?: string;
};

export type Auth = ReturnType<typeof createAuth>;

const digest = (text: string) => createHash("sha256").update(text).digest();
/** Equal-length digests, so neither the length nor the first differing byte leaks through timing. */
const sameSecret = (a: string, b: string) => timingSafeEqual(digest(a), digest(b));

/** The value of one cookie in a Cookie header, or undefined. */
export function readCookie(header: string | string[] | undefined, name: string): string | undefined {
  const text = Array.isArray(header) ? header.join("; ") : (header ?? "");
  for (const part of text.split(";")) {
    const at = part.indexOf("=");
    if (at > 0 && part.slice(0, at).trim() === name) return part.slice(at + 1).trim();
  }
  return undefined;
}

/** Fields of an `application/x-www-form-urlencoded` body. */
export function readForm(request: HttpRequest): URLSearchParams {
  return new URLSearchParams(request.rawBody.toString("utf8"));
}

/**
 * Which client a request comes from, for the failure limit. The server does not pass the socket
 * address; behind a proxy X-Forwarded-For names the client. It can be forged, which is why a
 * total limit over all clients backs the per-client one.
 */
const clientOf = (request: HttpRequest) => {
  const forwarded = request.headers["x-forwarded-for"];
  const first = (Array.isArray(forwarded) ? forwarded[0] : forwarded)?.split(",")[0]?.trim();
  return first || "direct";
};

const header = (request: HttpRequest, name: string) => {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
};

/** Clients whose failed attempts are remembered at once. */
const MAX_CLIENTS = 10_000;

export function createAuth(options: AuthOptions) {
  const { token, now } = options;
  const ttl = options.sessionTtlMs ?? 12 * 3_600_000;
  const windowMs = options.windowMs ?? 15 * 60_000;
  const perClient = options.maxFailuresPerClient ?? 5;
  const total = options.maxFailuresTotal ?? 50;
  // Derived keys: the cookie never carries anything from which the token could be recovered.
  const sessionKey = createHmac("sha256", token).update("tokengoblin dashboard session v1").digest();
  const sign = (text: string) => createHmac("sha256", sessionKey).update(text).digest("base64url");
  // A client's failures are forgotten a window after its last one; a flood of forged client names
  // pushes out the least recently failing names, never the total ("*", written on every failure).
  const failures = createBoundedMap<string, number[]>({ maxEntries: MAX_CLIENTS, ttlMs: windowMs, clock: now });

  const recent = (key: string) => {
    const since = now() - windowMs;
    // Older failures stay in the stored list until the next one rewrites it: each read filters them.
    const list = (failures.get(key) ?? []).filter((at) => at > since);
    if (list.length === 0) failures.delete(key);
    return list;
  };
  const locked = (request: HttpRequest) => recent(clientOf(request)).length >= perClient || recent("*").length >= total;
  const fail = (request: HttpRequest) => {
    for (const key of [clientOf(request), "*"]) failures.set(key, [...recent(key), now()]);
  };

  const csrfFor = (cookie: string) => sign(`csrf.${cookie}`);

  return {
    /** A fresh session cookie value (`v1.<expiry>.<nonce>.<signature>`). */
    newSession(): string {
      const body = `v1.${now() + ttl}.${randomBytes(9).toString("base64url")}`;
      return `${body}.${sign(body)}`;
    },

    /** The Set-Cookie header for a session; `secure` when the dashboard is served over https. */
    cookieHeader(value: string, secure: boolean): string {
      const maxAge = value === "" ? 0 : Math.floor(ttl / 1000);
      return `${SESSION_COOKIE}=${value}; Path=/admin; HttpOnly; SameSite=Strict; Max-Age=${maxAge}${secure ? "; Secure" : ""}`;
    },

    /** Checks a token typed into the login form (counts failures; refuses while locked). */
    login(request: HttpRequest, typed: string): "ok" | "wrong_token" | "locked" {
      if (locked(request)) return "locked";
      if (sameSecret(typed, token)) return "ok";
      fail(request);
      return "wrong_token";
    },

    /** Who is calling: bearer token first, then the session cookie. */
    caller(request: HttpRequest): Caller {
      const authorization = header(request, "authorization");
      if (authorization !== undefined) {
        if (locked(request)) return { ok: false, reason: "locked" };
        const match = /^Bearer\s+(.+)$/i.exec(authorization.trim());
        if (match && sameSecret(match[1] ?? "", token)) return { ok: true, via: "bearer", csrf: "" };
        fail(request);
        return { ok: false, reason: "wrong_token" };
      }
      const cookie = readCookie(request.headers.cookie, SESSION_COOKIE);
      if (!cookie) return { ok: false, reason: "none" };
      const parts = cookie.split(".");
      if (parts.length !== 4 || parts[0] !== "v1") return { ok: false, reason: "bad_cookie" };
      const body = parts.slice(0, 3).join(".");
      if (!sameSecret(parts[3] ?? "", sign(body))) return { ok: false, reason: "bad_cookie" };
      if (!(Number(parts[1]) > now())) return { ok: false, reason: "expired" };
      return { ok: true, via: "cookie", csrf: csrfFor(cookie) };
    },

    /**
     * Whether a state-changing request may proceed: bearer callers always (browsers never add that
     * header by themselves); cookie callers only with the form's CSRF field and from this origin.
     */
    sameSiteWrite(request: HttpRequest, caller: Extract<Caller, { ok: true }>, form: URLSearchParams): boolean {
      if (caller.via === "bearer") return true;
      if (!fromThisOrigin(request, options.publicHost)) return false;
      return sameSecret(form.get("csrf") ?? "", caller.csrf);
    },
  };
}

/**
 * False when the browser says the request comes from another site: `Sec-Fetch-Site`, else an
 * `Origin` whose host is neither the `Host` the request was sent to, nor the proxy's
 * `X-Forwarded-Host`, nor `publicHost` (PUBLIC_URL's host; a proxy may rewrite `Host`). Requests
 * without either header (old browsers, curl) pass; the CSRF field still guards them.
 */
export function fromThisOrigin(request: HttpRequest, publicHost?: string): boolean {
  const site = header(request, "sec-fetch-site");
  if (site !== undefined && site !== "same-origin" && site !== "none") return false;
  const origin = header(request, "origin");
  if (origin === undefined) return true;
  let host: string;
  try {
    host = new URL(origin).host;
  } catch {
    return false;
  }
  return [header(request, "host"), header(request, "x-forwarded-host"), publicHost].some((allowed) => allowed !== undefined && allowed === host);
}

/**
 * Who may see the dashboard: a request carrying `Authorization: Bearer <ADMIN_TOKEN>`, or a browser
 * holding the session cookie the login form sets. The cookie is stateless — an expiry signed with a
 * key derived from the token — so it survives restarts, works across instances, and dies when the
 * token changes. Tokens and signatures are compared in constant time.
 *
 * Failed attempts are limited per client address (the socket's, or the client a trusted proxy names:
 * see `client-address.ts`), never globally, and the right token or a valid session always gets in: the
 * limit slows guessing from the address that guesses, it can never lock the owner out (issue 18, where
 * 50 wrong tries with made-up `X-Forwarded-For` values locked the real token out everywhere).
 *
 * Cross-site requests: the cookie is SameSite=Strict, and every cookie-authenticated POST must carry
 * the form's CSRF field (a signature of the session) and must not come from another origin.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { clientKey, IN_PROCESS } from "../http/client-address.ts";
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
  /**
   * Wrong tokens allowed per client within `windowMs`; after that the client's wrong tokens are
   * answered "locked" (429), slowly, until `windowMs` passed since its last one. Right ones still work.
   */
  maxFailuresPerClient?: number;
  windowMs?: number;
  /** How long a locked client waits for its refusal (default 1 s): guessing from it gets slow. */
  lockedPauseMs?: number;
  /** Clients whose failures are remembered at most; expired ones go first, then the oldest. */
  maxTrackedClients?: number;
  /** Names a request's client (default: its socket address); `createClientAddress` builds one. */
  clientOf?: (request: HttpRequest) => string;
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

/** Without a configured proxy, a request's client is its socket's address (`X-Forwarded-For` is not read). */
const socketClient = (request: HttpRequest) => (request.remoteAddress === undefined ? IN_PROCESS : clientKey(request.remoteAddress));
/** Refusals waiting out their pause at most; beyond that a locked client is answered at once. */
const MAX_PAUSED_REFUSALS = 1_000;

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
  const lockedPauseMs = options.lockedPauseMs ?? 1_000;
  const maxTracked = options.maxTrackedClients ?? MAX_CLIENTS;
  const clientOf = options.clientOf ?? socketClient;
  // Derived keys: the cookie never carries anything from which the token could be recovered.
  const sessionKey = createHmac("sha256", token).update("tokengoblin dashboard session v1").digest();
  const sign = (text: string) => createHmac("sha256", sessionKey).update(text).digest("base64url");
  /**
   * Wrong tokens per client: how many, and until when they count. Map order is least recently failed
   * first, so when address rotation fills it, the clients that stopped longest ago are forgotten first.
   */
  const failures = new Map<string, { count: number; until: number }>();
  let paused = 0;

  const current = (client: string) => {
    const record = failures.get(client);
    if (record && record.until <= now()) {
      failures.delete(client);
      return undefined;
    }
    return record;
  };
  const forgetOldest = () => {
    const at = now();
    for (const [client, record] of failures) if (record.until <= at) failures.delete(client);
    // Down to 90%, so a flood of new addresses does not pay for this scan on every request.
    for (const client of failures.keys()) {
      if (failures.size <= maxTracked * 0.9) break;
      failures.delete(client);
    }
  };
  /** Counts a wrong token from the client; "locked" when it was already over the limit before this one. */
  const refuse = (request: HttpRequest): "wrong_token" | "locked" => {
    const client = clientOf(request);
    const record = current(client);
    const count = (record?.count ?? 0) + 1;
    failures.delete(client);
    // Once locked, every further guess keeps the client locked for a whole window after it.
    failures.set(client, { count, until: count >= perClient || !record ? now() + windowMs : record.until });
    // The least recently failed clients come first: drop those whose window has passed.
    for (const [oldest, entry] of failures) {
      if (entry.until > now()) break;
      failures.delete(oldest);
    }
    if (failures.size > maxTracked) forgetOldest();
    return count > perClient ? "locked" : "wrong_token";
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

    /** Checks a token typed into the login form. The right one always passes; wrong ones are counted. */
    login(request: HttpRequest, typed: string): "ok" | "wrong_token" | "locked" {
      if (sameSecret(typed, token)) return "ok";
      return refuse(request);
    },

    /** Who is calling: bearer token first, then the session cookie. */
    caller(request: HttpRequest): Caller {
      const authorization = header(request, "authorization");
      if (authorization !== undefined) {
        const match = /^Bearer\s+(.+)$/i.exec(authorization.trim());
        if (match && sameSecret(match[1] ?? "", token)) return { ok: true, via: "bearer", csrf: "" };
        return { ok: false, reason: refuse(request) };
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
     * Waits before a "locked" answer goes out, so a client that keeps guessing gets one answer a
     * second or so (at most {@link MAX_PAUSED_REFUSALS} wait at a time; the rest are answered at once).
     */
    async lockedPause(): Promise<void> {
      if (lockedPauseMs <= 0 || paused >= MAX_PAUSED_REFUSALS) return;
      paused++;
      try {
        await new Promise((resolve) => setTimeout(resolve, lockedPauseMs));
      } finally {
        paused--;
      }
    },

    /** How many clients' failures are remembered now (bounded by `maxTrackedClients`). */
    trackedClients: () => failures.size,

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
  return [header(request, "host"), header(request, "x-forwarded-host"), publicHost].some(
    (allowed) => allowed !== undefined && allowed === host,
  );
}

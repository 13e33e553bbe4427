/**
 * The deploy kit (issue 22): each file in deploy/ passes the program that reads it (deploy/check.sh),
 * each check fails on a broken copy (so a pass means something), and the nginx and Caddy site files,
 * run for real in front of a stand-in for the bot, pass exactly the bot's public routes.
 *
 * Needs systemd-analyze, caddy, nginx, openssl and redis-server (.ci/run installs them). In CI a
 * missing one fails its tests; locally they are skipped with a warning.
 */
import { rmSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type CheckName,
  type RunningProxy,
  SITE_NAME,
  ask,
  brokenCopy,
  missingTools,
  runCheck,
  startBotStandIn,
  startCaddy,
  startNginx,
} from "../support/deploy-kit.ts";

const CHECKS: CheckName[] = ["unit", "caddy", "nginx", "redis"];
const missing = Object.fromEntries(CHECKS.map((check) => [check, missingTools(check)])) as Record<CheckName, string[]>;
const inCi = Boolean(process.env.CI);
for (const check of CHECKS) {
  if (missing[check].length > 0 && !inCi)
    console.warn(`[deploy-kit.test] ${check} checks SKIPPED: missing ${missing[check].join(", ")} (apt-get install it)`);
}
/** Skips locally when a tool is missing; in CI runs, and the first line of the test fails instead. */
const needs = (check: CheckName) => missing[check].length > 0 && !inCi;
const requireTools = (check: CheckName) => {
  if (missing[check].length > 0) throw new Error(`missing in CI: ${missing[check].join(", ")}; .ci/run installs them with apt-get`);
};

describe("deploy/check.sh", () => {
  it.skipIf(CHECKS.some(needs))("passes on the kit as shipped, all four checks", () => {
    for (const check of CHECKS) requireTools(check);
    const run = runCheck();
    expect(run.output).toContain("all 4 checks passed");
    expect(run.status, run.output).toBe(0);
  });

  const broken: { check: CheckName; what: string; file: string; edit: (text: string) => string; says: string }[] = [
    {
      check: "unit",
      what: "a misspelt directive (verify only warns about it)",
      file: "tokengoblin.service",
      edit: (t) => t.replace(/^NoNewPrivileges=yes$/m, "NoNewPrivilege=yes"),
      says: "Unknown key 'NoNewPrivilege'",
    },
    {
      check: "unit",
      what: "a value systemd cannot read",
      file: "tokengoblin.service",
      edit: (t) => t.replace(/^ProtectSystem=strict$/m, "ProtectSystem=strickt"),
      says: "Failed to parse protect system value",
    },
    {
      check: "unit",
      what: "an ExecStart program that does not exist",
      file: "tokengoblin.service",
      edit: (t) => t.replace(/^ExecStart=\S+/m, "ExecStart=/usr/local/bin/no-such-node"),
      says: "is not executable",
    },
    {
      check: "caddy",
      what: "an unknown directive",
      file: "Caddyfile",
      edit: (t) => t.replace(/^(\s*)reverse_proxy 127\.0\.0\.1:8080/m, "$1reverse_proxi 127.0.0.1:8080"),
      says: "unrecognized directive: reverse_proxi",
    },
    {
      check: "caddy",
      what: "a file caddy fmt would change",
      file: "Caddyfile",
      edit: (t) => t.replace("\thandle {", "\thandle   {"),
      says: "not formatted",
    },
    {
      check: "nginx",
      what: "an unknown directive",
      file: "nginx-tokengoblin.conf",
      edit: (t) => t.replace(/^(\s*)proxy_http_version 1\.1;$/m, "$1proxy_http_versoin 1.1;"),
      says: 'unknown directive "proxy_http_versoin"',
    },
    {
      check: "nginx",
      what: "a TLS server without its certificate",
      file: "nginx-tokengoblin.conf",
      edit: (t) => t.replace(/^\s*ssl_certificate \S+;$/m, ""),
      says: 'no "ssl_certificate" is defined',
    },
    {
      check: "redis",
      what: "a directive Redis refuses",
      file: "redis.conf",
      edit: (t) => t.replace(/^appendfsync always$/m, "appendfsync sometimes"),
      says: "refused to start",
    },
    {
      check: "redis",
      what: "eviction allowed (valid for Redis, wrong for money)",
      file: "redis.conf",
      edit: (t) => t.replace(/^maxmemory-policy noeviction$/m, "maxmemory-policy allkeys-lru"),
      says: "maxmemory-policy is 'allkeys-lru'; production needs 'noeviction'",
    },
    {
      check: "redis",
      what: "no append-only file",
      file: "redis.conf",
      edit: (t) => t.replace(/^appendonly yes$/m, "appendonly no"),
      says: "appendonly is 'no'; production needs 'yes'",
    },
  ];
  for (const { check, what, file, edit, says } of broken) {
    it.skipIf(needs(check))(`fails the ${check} check on ${file} with ${what}`, () => {
      requireTools(check);
      const dir = brokenCopy(file, edit);
      try {
        const run = runCheck(dir, [check]);
        expect(run.output).toContain(`FAIL  ${file}`);
        expect(run.output).toContain(says);
        expect(run.status, run.output).toBe(1);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});

/** What the bot must get through the proxy, and what must stop at the proxy. */
const PASSED: [method: string, path: string][] = [
  ["POST", "/telegram/webhook"],
  ["POST", "/webhooks/cryptopay"],
  ["GET", "/pay/sandbox/sbx_ord_1"],
  ["POST", "/pay/sandbox/sbx_ord_1"],
  ["GET", "/admin"],
  ["GET", "/admin/orders?state=paid"],
  ["POST", "/admin/login"],
  ["GET", "/healthz"],
];
const STOPPED: [method: string, path: string][] = [
  ["GET", "/metrics"],
  ["GET", "/"],
  ["GET", "/admin/../metrics"],
  ["GET", "/administrator"],
  ["POST", "/telegram/webhook/extra"],
  ["POST", "/webhooksx/cryptopay"],
];

const proxies: { name: string; check: CheckName; start: (upstreamPort: number) => Promise<RunningProxy> }[] = [
  { name: "nginx", check: "nginx", start: startNginx },
  { name: "Caddy", check: "caddy", start: startCaddy },
];

for (const { name, check, start } of proxies) {
  describe.skipIf(needs(check))(`${name} with the shipped site file`, () => {
    let bot: Awaited<ReturnType<typeof startBotStandIn>>;
    let proxy: RunningProxy | undefined;

    beforeAll(async () => {
      requireTools(check);
      bot = await startBotStandIn();
      proxy = await start(bot.port);
    }, 30_000);
    afterAll(async () => {
      await proxy?.stop();
      await bot?.close();
    });

    it("passes Telegram's and the providers' webhooks, the pay page, the dashboard and /healthz to the bot", async () => {
      for (const [method, path] of PASSED) {
        const before = bot.seen.length;
        const answer = await ask(proxy!.https, method, path);
        expect({ method, path, status: answer.status, body: answer.body }).toEqual({ method, path, status: 200, body: `bot saw ${path}` });
        expect(bot.seen.slice(before).some((seen) => seen.method === method && seen.path === path)).toBe(true);
      }
    });

    it("answers /metrics and every other path itself with 404, without asking the bot", async () => {
      for (const [method, path] of STOPPED) {
        const answer = await ask(proxy!.https, method, path);
        expect({ method, path, status: answer.status }).toEqual({ method, path, status: 404 });
      }
      const stoppedPaths = new Set(STOPPED.map(([, path]) => path).concat("/metrics"));
      expect(bot.seen.filter((seen) => stoppedPaths.has(seen.path))).toEqual([]);
    });

    it("tells the bot the client's own address and https, whatever the client claims", async () => {
      const before = bot.seen.length;
      await ask(proxy!.https, "POST", "/admin/login", { headers: { "x-forwarded-for": "203.0.113.9", "x-forwarded-proto": "http" } });
      const seen = bot.seen.slice(before).find((request) => request.path === "/admin/login");
      expect(seen?.headers["x-forwarded-for"]).toBe("127.0.0.1");
      expect(seen?.headers["x-forwarded-proto"]).toBe("https");
      expect(seen?.headers.host).toBe(SITE_NAME);
    });

    it("sends plain-HTTP visitors to https", async () => {
      const answer = await ask(proxy!.http, "GET", "/admin", { plain: true });
      expect([301, 308]).toContain(answer.status);
      expect(answer.location).toMatch(new RegExp(`^https://${SITE_NAME.replaceAll(".", "\\.")}(:\\d+)?/admin$`));
    });
  });
}

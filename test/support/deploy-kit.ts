/**
 * The deploy kit under test: which of its tools this machine has, deploy/check.sh on the kit or on a
 * copy with one file broken, and the shipped nginx and Caddy site files run for real in front of a
 * stand-in for the bot, with only what a test machine must change (ports, the certificate, the
 * upstream's address) rewritten in a copy.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { type IncomingHttpHeaders, type IncomingMessage, createServer, request as plainRequest } from "node:http";
import { request as tlsRequest } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { freePort, until } from "./crash-shop.ts";

/** The repository's deploy/ folder. */
export const DEPLOY_DIR = fileURLToPath(new URL("../../deploy/", import.meta.url));
/** The public name the site files are written for. */
export const SITE_NAME = "bot.example.com";

/** nginx lives in /usr/sbin, which a non-root PATH may lack. */
const PATH = `${process.env.PATH ?? ""}:/usr/sbin:/sbin`;

/** Each check of deploy/check.sh and the programs it needs (Debian package in brackets). */
export const CHECK_TOOLS = {
  unit: ["systemd-analyze [systemd]"],
  caddy: ["caddy [caddy]"],
  nginx: ["nginx [nginx]", "openssl [openssl]"],
  redis: ["redis-server [redis-server]", "redis-cli [redis-server]"],
} as const;
export type CheckName = keyof typeof CHECK_TOOLS;

/** The tools (with their package) of `check` that are not installed here; empty when all are. */
export function missingTools(check: CheckName): string[] {
  return CHECK_TOOLS[check].filter(
    (tool) => spawnSync("sh", ["-c", `command -v ${tool.split(" ")[0]}`], { env: { ...process.env, PATH } }).status !== 0,
  );
}

export type CheckRun = { status: number | null; output: string };

/** Runs deploy/check.sh on `dir` (default: the kit itself), only the named checks when given. */
export function runCheck(dir: string = DEPLOY_DIR, checks: CheckName[] = []): CheckRun {
  const run = spawnSync("bash", [join(DEPLOY_DIR, "check.sh"), dir, ...checks], {
    encoding: "utf8",
    env: { ...process.env, PATH },
    timeout: 60_000,
  });
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

/**
 * A copy of the kit in a temp folder with `file` changed by `edit`, which must change it (a
 * breakage that matches nothing would prove nothing). Returns the folder; the caller removes it.
 */
export function brokenCopy(file: string, edit: (text: string) => string): string {
  const dir = mkdtempSync(join(tmpdir(), "tokengoblin-kit-"));
  cpSync(DEPLOY_DIR, dir, { recursive: true });
  const before = readFileSync(join(dir, file), "utf8");
  const after = edit(before);
  if (after === before) throw new Error(`the edit left ${file} as it was: fix the test's breakage`);
  writeFileSync(join(dir, file), after);
  return dir;
}

/** Replaces `pattern` in `text`, failing when it is not there (the shipped file changed under the test). */
export function rewrite(text: string, pattern: RegExp, replacement: string): string {
  if (!pattern.test(text)) throw new Error(`the site file no longer contains ${pattern}: update test/support/deploy-kit.ts`);
  return text.replace(new RegExp(pattern.source, pattern.flags.includes("g") ? pattern.flags : `${pattern.flags}g`), replacement);
}

export type SeenRequest = { method: string; path: string; headers: IncomingHttpHeaders };

/** A stand-in for the bot on 127.0.0.1: answers 200 `bot saw <path>` and remembers every request. */
export async function startBotStandIn() {
  const seen: SeenRequest[] = [];
  const server = createServer((req, res) => {
    seen.push({ method: req.method ?? "", path: req.url ?? "", headers: req.headers });
    req.resume();
    req.on("end", () => res.end(`bot saw ${req.url}`));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as AddressInfo).port,
    seen,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export type Answer = { status: number; body: string; location: string | undefined };

/** A request to a proxy as a client on the internet would send it (TLS by name unless `plain`). */
export function ask(
  port: number,
  method: string,
  path: string,
  options: { headers?: Record<string, string>; plain?: boolean } = {},
): Promise<Answer> {
  const headers = { host: SITE_NAME, ...options.headers };
  return new Promise((resolve, reject) => {
    const done = (res: IncomingMessage) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (body += chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body, location: res.headers.location }));
    };
    const target = { host: "127.0.0.1", port, method, path, headers };
    const req = options.plain
      ? plainRequest(target, done)
      : tlsRequest({ ...target, servername: SITE_NAME, rejectUnauthorized: false }, done);
    req.on("error", reject);
    req.end(method === "POST" ? "{}" : undefined);
  });
}

/** A proxy process started from a rewritten copy of a shipped site file. */
export type RunningProxy = { https: number; http: number; output: () => string; stop(): Promise<void> };

function supervise(child: ChildProcess, dir: string, https: number, http: number): RunningProxy {
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  return {
    https,
    http,
    output: () => output,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function ready(proxy: RunningProxy, name: string): Promise<RunningProxy> {
  const up = await until(async () => (await ask(proxy.https, "GET", "/healthz").catch(() => null))?.status === 200, 15_000, 100);
  if (!up) {
    await proxy.stop();
    throw new Error(`${name} did not answer /healthz through TLS within 15 s:\n${proxy.output()}`);
  }
  return proxy;
}

/**
 * nginx serving deploy/nginx-tokengoblin.conf, changed only where a test machine must: it listens on
 * two free ports of 127.0.0.1 (no IPv6), uses a throwaway self-signed certificate, and passes to the
 * stand-in's port instead of 8080.
 */
export async function startNginx(upstreamPort: number): Promise<RunningProxy> {
  const dir = mkdtempSync(join(tmpdir(), "tokengoblin-nginx-"));
  const [https, http] = [await freePort(), await freePort()];
  const tls = spawnSync("openssl", [
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-days",
    "1",
    "-subj",
    `/CN=${SITE_NAME}`,
    "-keyout",
    join(dir, "tls.key"),
    "-out",
    join(dir, "tls.crt"),
  ]);
  if (tls.status !== 0) throw new Error(`openssl could not make a test certificate: ${tls.stderr}`);
  let site = readFileSync(join(DEPLOY_DIR, "nginx-tokengoblin.conf"), "utf8");
  site = rewrite(site, /^\s*listen \[::\]:\d+.*$/m, "");
  site = rewrite(site, /listen 443 ssl http2;/, `listen 127.0.0.1:${https} ssl http2;`);
  site = rewrite(site, /listen 80;/, `listen 127.0.0.1:${http};`);
  site = rewrite(site, /ssl_certificate \S+;/, `ssl_certificate ${join(dir, "tls.crt")};`);
  site = rewrite(site, /ssl_certificate_key \S+;/, `ssl_certificate_key ${join(dir, "tls.key")};`);
  site = rewrite(site, /server 127\.0\.0\.1:8080/, `server 127.0.0.1:${upstreamPort}`);
  writeFileSync(join(dir, "site.conf"), site);
  writeFileSync(
    join(dir, "nginx.conf"),
    `daemon off;\npid ${dir}/nginx.pid;\nerror_log stderr;\nevents {}\nhttp {\n  access_log off;\n  include ${dir}/site.conf;\n}\n`,
  );
  const child = spawn("nginx", ["-p", dir, "-e", "stderr", "-c", join(dir, "nginx.conf")], {
    env: { ...process.env, PATH },
    stdio: ["ignore", "pipe", "pipe"],
  });
  return ready(supervise(child, dir, https, http), "nginx");
}

/**
 * Caddy serving deploy/Caddyfile, changed only where a test machine must: global options put it on
 * two free ports with its own local CA instead of Let's Encrypt (no admin endpoint, nothing added to
 * the system's trust store), and it passes to the stand-in's port instead of 8080.
 */
export async function startCaddy(upstreamPort: number): Promise<RunningProxy> {
  const dir = mkdtempSync(join(tmpdir(), "tokengoblin-caddy-"));
  const [https, http] = [await freePort(), await freePort()];
  let site = readFileSync(join(DEPLOY_DIR, "Caddyfile"), "utf8");
  site = rewrite(site, /reverse_proxy 127\.0\.0\.1:8080/, `reverse_proxy 127.0.0.1:${upstreamPort}`);
  const globals = `{\n\tadmin off\n\thttp_port ${http}\n\thttps_port ${https}\n\tlocal_certs\n\tskip_install_trust\n\tdefault_bind 127.0.0.1\n}\n\n`;
  writeFileSync(join(dir, "Caddyfile"), globals + site);
  const child = spawn("caddy", ["run", "--config", join(dir, "Caddyfile"), "--adapter", "caddyfile"], {
    env: { ...process.env, PATH, HOME: dir, XDG_DATA_HOME: dir, XDG_CONFIG_HOME: dir },
    stdio: ["ignore", "pipe", "pipe"],
  });
  return ready(supervise(child, dir, https, http), "caddy");
}

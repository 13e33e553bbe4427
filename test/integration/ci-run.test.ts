/**
 * .ci/run cleans up after itself (issue 22): the Redis it starts listens on 127.0.0.1 only and is
 * stopped when the run ends, whether the tests pass, fail or the run is interrupted.
 *
 * The real script runs in a sandbox: its Redis on a free port instead of 6379 (the only edit), with
 * stand-ins on PATH for npm (records what it was asked and whether Redis answered), apt-get (fails:
 * a test never installs packages) and the programs the script looks for, a stand-in
 * deploy/check.sh (test/integration/deploy-kit.test.ts checks the real one) and a stand-in
 * scripts/redis-cluster.sh that records its start and stop (the real one starts three nodes; the
 * store tests use it). The run never inherits REDIS_URL or REDIS_CLUSTER_URL, so it always starts both. Needs redis-server; in
 * CI its absence fails the tests, locally it skips them with a warning.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { freePort, until } from "../support/crash-shop.ts";
import { rewrite } from "../support/deploy-kit.ts";

const CI_RUN = fileURLToPath(new URL("../../.ci/run", import.meta.url));
const hasRedis = spawnSync("sh", ["-c", "command -v redis-server && command -v redis-cli"]).status === 0;
if (!hasRedis && !process.env.CI) console.warn("[ci-run.test] SKIPPED: no redis-server/redis-cli (apt-get install redis-server)");

type Sandbox = { dir: string; port: number; log: () => string; tmp: string };
const sandboxes: { dir: string; port: number }[] = [];
afterEach(() => {
  for (const { dir, port } of sandboxes.splice(0)) {
    // A failed test may have left the script's Redis running: stop it, so the failure stays this test's.
    spawnSync("redis-cli", ["-h", "127.0.0.1", "-p", String(port), "shutdown", "nosave"], { stdio: "ignore" });
    rmSync(dir, { recursive: true, force: true });
  }
});

const script = (body: string) => `#!/bin/sh\n${body}\n`;
function executable(path: string, body: string) {
  writeFileSync(path, script(body));
  chmodSync(path, 0o755);
}

async function sandbox(): Promise<Sandbox> {
  const dir = mkdtempSync(join(tmpdir(), "tokengoblin-ci-run-"));
  const port = await freePort();
  sandboxes.push({ dir, port });
  for (const sub of [".ci", "deploy", "scripts", "bin", "tmp"]) mkdirSync(join(dir, sub));
  let run = readFileSync(CI_RUN, "utf8");
  run = rewrite(run, /^start_redis 6379$/m, `start_redis ${port}`);
  run = rewrite(run, /redis:\/\/127\.0\.0\.1:6379/, `redis://127.0.0.1:${port}`);
  writeFileSync(join(dir, ".ci", "run"), run);
  const log = join(dir, "calls.log");
  executable(join(dir, "deploy", "check.sh"), `echo "deploy/check.sh" >> ${log}`);
  executable(
    join(dir, "scripts", "redis-cluster.sh"),
    `echo "redis-cluster.sh $1" >> ${log}\n[ "$1" = start ] && echo "redis-cluster://127.0.0.1:1"\nexit 0`,
  );
  executable(
    join(dir, "bin", "npm"),
    `echo "npm $1 REDIS_URL=$REDIS_URL redis:$(redis-cli -h 127.0.0.1 -p ${port} ping 2>&1)" >> ${log}
[ "$1" = test ] || exit 0
sleep "\${FAKE_TEST_SECONDS:-0}"
exit "\${FAKE_TEST_STATUS:-0}"`,
  );
  executable(join(dir, "bin", "apt-get"), `echo "apt-get must not run in a test" >&2; exit 99`);
  for (const program of ["chromium", "systemd-analyze", "caddy", "nginx", "openssl"]) executable(join(dir, "bin", program), "exit 0");
  return { dir, port, tmp: join(dir, "tmp"), log: () => (existsSync(log) ? readFileSync(log, "utf8") : "") };
}

function start(
  box: Sandbox,
  env: Record<string, string> = {},
): { child: ChildProcess; exit: Promise<number | null>; output: () => string } {
  const { REDIS_URL: _url, REDIS_CLUSTER_URL: _clusterUrl, ...inherited } = process.env;
  const child = spawn("bash", [join(box.dir, ".ci", "run")], {
    env: { ...inherited, PATH: `${join(box.dir, "bin")}:${process.env.PATH ?? ""}`, CI: "true", TMPDIR: box.tmp, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  return {
    child,
    exit: new Promise((resolve) => child.once("exit", (code, signal) => resolve(code ?? (signal ? -1 : null)))),
    output: () => output,
  };
}

const redisAnswers = (port: number) =>
  spawnSync("redis-cli", ["-h", "127.0.0.1", "-p", String(port), "ping"], { encoding: "utf8" }).stdout.trim() === "PONG";
/** Whether anything listens on the port on another address than loopback (Redis bound wider). */
const listensBeyondLoopback = (port: number) =>
  spawnSync(
    "sh",
    [
      "-c",
      `cat /proc/net/tcp /proc/net/tcp6 2>/dev/null | awk '$4 == "0A" { print $2 }' | grep -i ':${port.toString(16).padStart(4, "0")}$'`,
    ],
    { encoding: "utf8" },
  )
    .stdout.split("\n")
    .filter((address) => address && !/^0100007F:/i.test(address)).length > 0;

describe.skipIf(!hasRedis && !process.env.CI)(".ci/run", () => {
  it(
    "runs the kit check, npm ci and npm test against its own Redis on 127.0.0.1, and stops that Redis when the tests pass",
    { timeout: 30_000 },
    async () => {
      if (!hasRedis) throw new Error("redis-server is missing in CI: .ci/run installs it");
      const box = await sandbox();
      const run = start(box, { FAKE_TEST_SECONDS: "1" });
      expect(await until(() => redisAnswers(box.port), 10_000)).toBe(true);
      expect(listensBeyondLoopback(box.port)).toBe(false);
      expect(await run.exit, run.output()).toBe(0);
      expect(box.log().trim().split("\n")).toEqual([
        "redis-cluster.sh start",
        "deploy/check.sh",
        `npm ci REDIS_URL=redis://127.0.0.1:${box.port} redis:PONG`,
        `npm test REDIS_URL=redis://127.0.0.1:${box.port} redis:PONG`,
        "redis-cluster.sh stop",
      ]);
      expect(redisAnswers(box.port)).toBe(false);
      expect(readdirSync(box.tmp)).toEqual([]);
    },
  );

  it("stops its Redis and keeps the tests' exit status when the tests fail", { timeout: 30_000 }, async () => {
    if (!hasRedis) throw new Error("redis-server is missing in CI: .ci/run installs it");
    const box = await sandbox();
    const run = start(box, { FAKE_TEST_STATUS: "3" });
    expect(await run.exit, run.output()).toBe(3);
    expect(box.log()).toContain("npm test");
    expect(box.log()).toContain("redis-cluster.sh stop");
    expect(redisAnswers(box.port)).toBe(false);
    expect(readdirSync(box.tmp)).toEqual([]);
  });

  it("stops its Redis when the run itself is sent SIGTERM", { timeout: 30_000 }, async () => {
    if (!hasRedis) throw new Error("redis-server is missing in CI: .ci/run installs it");
    const box = await sandbox();
    const run = start(box, { FAKE_TEST_SECONDS: "2" });
    expect(await until(() => box.log().includes("npm test"), 10_000)).toBe(true);
    // Only the script is signalled (not its process group): the Redis must be stopped by the script.
    run.child.kill("SIGTERM");
    expect(await run.exit, run.output()).toBe(143);
    expect(redisAnswers(box.port)).toBe(false);
    expect(box.log()).toContain("redis-cluster.sh stop");
    expect(readdirSync(box.tmp)).toEqual([]);
  });
});

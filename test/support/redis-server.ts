/**
 * A throw-away redis-server of a test's own (a free port, a temporary directory, no persistence), for
 * tests that stop, freeze or count the commands of their Redis, which the shared one cannot allow.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { connect, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Null when `redis-server` can be run; otherwise why not. */
export function redisServerMissing(): string | null {
  const probe = spawnSync("redis-server", ["--version"], { encoding: "utf8" });
  return probe.error ? `redis-server cannot be run (${probe.error.message})` : null;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

export type OwnRedis = {
  url: string;
  /** SIGSTOP: connected clients stay connected, and nothing answers. */
  freeze(): void;
  /** SIGCONT. */
  thaw(): void;
  /** Kills the server and waits until it is gone. */
  stop(): Promise<void>;
  /** Starts it again on the same port (empty, unless it was started `persistent`). */
  restart(): Promise<void>;
  /** Stops it for good and removes its directory. */
  dispose(): Promise<void>;
};

/**
 * Starts a redis-server on a free port; resolves once it accepts connections. `persistent`: every write
 * is on disk before it is answered (append-only file, fsync always), so a stop loses nothing.
 */
export async function startOwnRedis(options: { persistent?: boolean } = {}): Promise<OwnRedis> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "tg-redis-"));
  let child: ChildProcess | undefined;
  const start = async () => {
    const persistence = options.persistent ? ["--appendonly", "yes", "--appendfsync", "always"] : ["--appendonly", "no"];
    child = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", ...persistence, "--dir", dir], {
      stdio: "ignore",
    });
    const deadline = Date.now() + 5_000;
    while (Date.now() < deadline) {
      if (await answers(port)) return;
      await new Promise((resolve) => setTimeout(resolve, 50)); // a real redis-server process starting: connect again
    }
    child.kill("SIGKILL");
    throw new Error(`redis-server did not start on port ${port}`);
  };
  const stop = async () => {
    const running = child;
    child = undefined;
    if (!running || running.exitCode !== null) return;
    const exited = new Promise((resolve) => running.once("exit", resolve));
    running.kill("SIGCONT");
    running.kill("SIGKILL");
    await exited;
  };
  await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    freeze: () => child?.kill("SIGSTOP"),
    thaw: () => child?.kill("SIGCONT"),
    stop,
    restart: start,
    async dispose() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

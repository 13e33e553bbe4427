/**
 * Start-up and footprint as a user feels them: the time from `npm start` until `/healthz` answers,
 * and the resident memory of the running bot once it is idle, on the embedded default configuration
 * (console chat, SQLite file store, sandbox payments and delivery, no LLM).
 *
 * Each run starts `npm start` in a fresh temp directory for the store, on a free HTTP_PORT, with stdin
 * kept open (so the console chat keeps running), polls `/healthz` every 10 ms, waits a moment, then
 * reads VmRSS from /proc of the node process that serves the port (`npm start` is a tree: npm, a shell,
 * and the app's node process; before this issue also a tsx wrapper and an esbuild service). Linux only.
 *
 * `npx tsx bench/startup.ts [runs]` prints the runs alone; `npm run bench` includes the median.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** One start: time to a 200 from /healthz, and memory once idle. */
export type StartupRun = {
  readyMs: number;
  /** VmRSS of the app's node process, MB. */
  rssMb: number;
  /** VmRSS summed over the whole `npm start` process tree (npm itself included), MB. */
  treeRssMb: number;
  /** What ran in the tree, e.g. "npm start › sh › node dist/main.js". */
  tree: string;
  /**
   * CPU time (user + system) the tree had used when /healthz first answered, ms. Unlike `readyMs`
   * it hardly moves when other jobs load the machine, so it is the number to compare between runs.
   */
  cpuMs: number;
};

export type StartupSummary = { runs: StartupRun[]; readyMs: number; rssMb: number; treeRssMb: number; cpuMs: number };

/** The goals from issue 12, item 8. */
export const STARTUP_GOALS = { readyMs: 1000, rssMb: 90 } as const;

const HERE = fileURLToPath(import.meta.url);
const ROOT = resolve(dirname(HERE), "..");
const IDLE_MS = 1500;
const TIMEOUT_MS = 30_000;

function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once("error", fail);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? done(address.port) : fail(new Error("no port"))));
    });
  });
}

type Proc = { pid: number; ppid: number; rssKb: number; comm: string; cmdline: string; cpuMs: number };

/** Clock ticks per second for /proc/<pid>/stat times (USER_HZ, 100 on Linux everywhere in practice). */
const TICKS_PER_SECOND = 100;

function readProc(pid: number): Proc | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const field = (name: string) => new RegExp(`^${name}:\\s*(.*)$`, "m").exec(status)?.[1] ?? "";
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean).join(" ");
    // stat fields after the command's closing parenthesis: utime, stime, cutime, cstime are 12th-15th.
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const times = stat
      .slice(stat.lastIndexOf(")") + 2)
      .split(" ")
      .slice(11, 15)
      .map(Number);
    const cpuMs = (times.reduce((sum, ticks) => sum + ticks, 0) * 1000) / TICKS_PER_SECOND;
    return { pid, ppid: Number(field("PPid")), rssKb: Number.parseInt(field("VmRSS"), 10) || 0, comm: field("Name"), cmdline, cpuMs };
  } catch {
    return null; // exited meanwhile
  }
}

/** `root` and every process below it. */
function processTree(root: number): Proc[] {
  const all = readdirSync("/proc")
    .filter((name) => /^\d+$/.test(name))
    .map((name) => readProc(Number(name)))
    .filter((p): p is Proc => p !== null);
  const tree: Proc[] = [];
  const queue = [root];
  while (queue.length > 0) {
    const pid = queue.shift() as number;
    const proc = all.find((p) => p.pid === pid);
    if (!proc) continue;
    tree.push(proc);
    for (const child of all) if (child.ppid === pid) queue.push(child.pid);
  }
  return tree;
}

const short = (p: Proc) => {
  const words = p.cmdline.split(" ").map((w) => (w.includes("/") ? w.slice(w.lastIndexOf("/") + 1) : w));
  return (
    words
      .filter((w) => !w.startsWith("--") && !w.startsWith("file:"))
      .slice(0, 3)
      .join(" ") || p.comm
  );
};

async function healthy(port: number): Promise<boolean> {
  try {
    const response = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(500) });
    await response.arrayBuffer();
    return response.status === 200;
  } catch {
    return false;
  }
}

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

function stop(child: ChildProcess): Promise<void> {
  return new Promise((done) => {
    if (child.exitCode !== null || child.signalCode !== null) return done();
    const timer = setTimeout(() => {
      // The whole group we started (detached), if closing stdin did not end it.
      if (child.pid) process.kill(-child.pid, "SIGKILL");
    }, 5000);
    child.once("exit", () => {
      clearTimeout(timer);
      done();
    });
    child.stdin?.end(); // the console chat ends with its input, and the app closes cleanly
  });
}

/** Starts `npm start` once and measures it. */
export async function measureStartupOnce(command = ["npm", "start", "--silent"]): Promise<StartupRun> {
  const dir = mkdtempSync(join(tmpdir(), "tokengoblin-startup-"));
  const port = await freePort();
  const [file, ...args] = command as [string, ...string[]];
  const started = performance.now();
  const child = spawn(file, args, {
    cwd: ROOT,
    detached: true,
    stdio: ["pipe", "ignore", "pipe"],
    env: {
      ...process.env,
      STORE_URL: `sqlite://${join(dir, "store.sqlite")}`,
      HTTP_PORT: String(port),
      TELEGRAM_BOT_TOKEN: "",
      LLM_API_KEY: "",
      OPENROUTER_API_KEY: "",
      PAYMENT_PROVIDER: "sandbox",
      DELIVERY_PROVIDER: "sandbox",
      INSPECT: "",
      TOKENGOBLIN_LOG: "warn",
    },
  });
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  try {
    let readyMs = 0;
    let cpuMs = 0;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`npm start exited with ${child.exitCode} before /healthz answered: ${stderr.trim()}`);
      if (await healthy(port)) {
        readyMs = performance.now() - started;
        cpuMs = processTree(child.pid as number).reduce((sum, p) => sum + p.cpuMs, 0);
        break;
      }
      if (performance.now() - started > TIMEOUT_MS) throw new Error(`/healthz did not answer within ${TIMEOUT_MS} ms: ${stderr.trim()}`);
      await sleep(10);
    }
    await sleep(IDLE_MS);
    const tree = processTree(child.pid as number);
    // The app is the deepest node process: npm and a tsx wrapper are node processes too, above it.
    const nodes = tree.filter((p) => p.comm === "node" || p.comm.startsWith("node"));
    const app = nodes.filter((p) => !nodes.some((q) => q.ppid === p.pid)).at(-1);
    if (!app) throw new Error(`no node process under npm start (${tree.map(short).join(", ")})`);
    return {
      readyMs,
      rssMb: app.rssKb / 1024,
      treeRssMb: tree.reduce((sum, p) => sum + p.rssKb, 0) / 1024,
      tree: tree.map(short).join(" › "),
      cpuMs,
    };
  } finally {
    await stop(child);
    rmSync(dir, { recursive: true, force: true });
  }
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
};

/**
 * Starts the product `runs` times (one unmeasured start first, so a build or a transform cache left
 * stale by an edit is not charged to the median) and gives the medians.
 */
export async function measureStartup(runs = 5, onRun?: (run: StartupRun, index: number) => void): Promise<StartupSummary> {
  await measureStartupOnce();
  const results: StartupRun[] = [];
  for (let i = 0; i < runs; i++) {
    const run = await measureStartupOnce();
    results.push(run);
    onRun?.(run, i);
  }
  return {
    runs: results,
    readyMs: median(results.map((r) => r.readyMs)),
    rssMb: median(results.map((r) => r.rssMb)),
    treeRssMb: median(results.map((r) => r.treeRssMb)),
    cpuMs: median(results.map((r) => r.cpuMs)),
  };
}

if (HERE === resolve(process.argv[1] ?? "")) {
  const runs = Number(process.argv[2] ?? "5");
  const summary = await measureStartup(runs, (run, i) =>
    console.log(
      `run ${i + 1}: ready ${run.readyMs.toFixed(0)} ms (CPU ${run.cpuMs.toFixed(0)} ms), app RSS ${run.rssMb.toFixed(0)} MB, tree RSS ${run.treeRssMb.toFixed(0)} MB (${run.tree})`,
    ),
  );
  const verdict = (ok: boolean) => (ok ? "ok" : "MISSED");
  console.log(
    `median of ${runs}: ready ${summary.readyMs.toFixed(0)} ms, CPU ${summary.cpuMs.toFixed(0)} ms (goal ≤ ${STARTUP_GOALS.readyMs} ms: ${verdict(summary.readyMs <= STARTUP_GOALS.readyMs)}), ` +
      `idle RSS ${summary.rssMb.toFixed(0)} MB (goal ≤ ${STARTUP_GOALS.rssMb} MB: ${verdict(summary.rssMb <= STARTUP_GOALS.rssMb)}), whole tree ${summary.treeRssMb.toFixed(0)} MB`,
  );
}

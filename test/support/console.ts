/** The console chat as `npm start` runs it without a Telegram token, in a child process, for e2e tests. */
import { spawn } from "node:child_process";

/** Runs `npm start`'s entry point with piped input, as `printf '…' | npm start` would. */
export function runConsole(input: string, env: Record<string, string> = {}, args: string[] = []) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts", ...args], {
      // The machine's own locale must not decide the language of these checks.
      env: {
        ...process.env,
        LC_ALL: "",
        LC_MESSAGES: "",
        LANG: "C.UTF-8",
        STORE_URL: "memory://",
        HTTP_PORT: "0",
        TELEGRAM_BOT_TOKEN: "",
        TOKENGOBLIN_LOG: "warn",
        ...env,
      },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input);
  });
}

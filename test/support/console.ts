/** The console chat as `npm start` runs it without a Telegram token, in a child process, for e2e tests. */
import { type ProcessRun, runProcess } from "./run-process.ts";

/** Runs `npm start`'s entry point with piped input, as `printf '…' | npm start` would. */
export function runConsole(input: string, env: Record<string, string> = {}, args: string[] = []): Promise<ProcessRun> {
  return runProcess(process.execPath, ["--import", "tsx", "src/main.ts", ...args], {
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
    input,
  });
}

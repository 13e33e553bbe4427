import { spawn } from "node:child_process";
import { describe, expect, test } from "vitest";
import { consoleLanguage } from "../../src/cli/console.ts";

/** Runs `npm start`'s entry point with piped input, as `printf '…' | npm start` would. */
function runConsole(input: string, env: Record<string, string> = {}, args: string[] = []) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts", ...args], {
      // The machine's own locale must not decide the language of these checks.
      env: { ...process.env, LC_ALL: "", LC_MESSAGES: "", LANG: "C.UTF-8", STORE_URL: "memory://", HTTP_PORT: "0", TELEGRAM_BOT_TOKEN: "", TOKENGOBLIN_LOG: "warn", ...env },
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

describe("console chat", () => {
  test("piped input prints a quote of $40.00 (40.00 USDT) and a pay link, then exits 0", async () => {
    const { code, stdout } = await runConsole("I need 2000 tokens\nyes\n");
    expect(code).toBe(0);
    expect(stdout).toContain("2,000 tokens for $40.00 (you pay 40.00 USDT)");
    expect(stdout).toMatch(/Pay here: http:\/\/localhost:\d+\/pay\/sandbox\/sbx_ord_/);
  });

  test("--lang ru speaks Russian from the welcome to the quote", async () => {
    const { code, stdout } = await runConsole("2000 токенов\n/help\n", {}, ["--lang", "ru"]);
    expect(code).toBe(0);
    expect(stdout.replace(/\u00a0/g, " ")).toContain("2 000 токенов за 40,00 $ (к оплате 40,00 USDT)");
    expect(stdout).toContain("Добро пожаловать в TokenGoblin");
    expect(stdout).not.toMatch(/Welcome|tokens/);
  });

  test("a bad configuration stops start-up with one line naming the variable", async () => {
    const { code, stderr } = await runConsole("", { PRICE_PER_1K_TOKENS: "cheap" });
    expect(code).toBe(1);
    expect(stderr.trim().split("\n")).toHaveLength(1);
    expect(stderr).toContain("PRICE_PER_1K_TOKENS");
  });
});

describe("console language", () => {
  test("--lang wins over the locale; C and POSIX name no language", () => {
    expect(consoleLanguage(["--lang", "ru"], { LANG: "en_US.UTF-8" })).toBe("ru");
    expect(consoleLanguage(["--lang=ru"], {})).toBe("ru");
    expect(consoleLanguage([], { LANG: "ru_RU.UTF-8" })).toBe("ru_RU.UTF-8");
    expect(consoleLanguage([], { LC_ALL: "C", LANG: "ru_RU.UTF-8" })).toBe("ru_RU.UTF-8");
    expect(consoleLanguage([], { LC_ALL: "uk_UA.UTF-8", LANG: "en_US.UTF-8" })).toBe("uk_UA.UTF-8");
    expect(consoleLanguage([], {})).toBeUndefined();
  });
});

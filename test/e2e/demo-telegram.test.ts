/**
 * Issue 22: the README tells how to watch the Telegram conversation end to end without a real token,
 * `npm run demo:telegram`. This runs that script and checks the transcript it prints: the real bot
 * against the local Bot API stand-in, a typed amount, the ✅ Confirm button, Pay on the sandbox page and
 * the delivered code, in that order.
 */
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, test } from "vitest";

const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));

function runDemo(args: string[] = []): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", "scripts/demo-telegram.ts", ...args], {
      cwd: REPO_ROOT,
      env: { ...process.env, TOKENGOBLIN_LOG: "" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const killer = setTimeout(() => child.kill("SIGKILL"), 40_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(killer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Where each expected line appears in the transcript (-1 when missing). */
const positions = (text: string, patterns: RegExp[]) => patterns.map((pattern) => text.search(pattern));

describe("npm run demo:telegram (issue 22)", () => {
  test("prints a whole purchase as the customer sees it: quote, confirm, pay link, delivered code", { timeout: 60_000 }, async () => {
    const { code, stdout, stderr } = await runDemo();
    expect(code, stderr).toBe(0);
    const steps = positions(stdout, [
      /👤 Customer: \/start\n🤖 TokenGoblin:\n {3}👋 Welcome to TokenGoblin!/,
      /👤 Customer: I need 2000 tokens\n🤖 TokenGoblin:\n {3}🧾 2,000 tokens for \$40\.00 \(you pay 40\.00 USDT\)\./,
      /\[ ✅ Confirm \] {2}\[ ✖ Cancel \]/,
      /👤 Customer presses: ✅ Confirm\n🤖 TokenGoblin.*:\n {3}💳 Order ord_[A-Za-z0-9_-]+: 2,000 tokens for \$40\.00/,
      /Pay here: http:\/\/localhost:\d+\/pay\/sandbox\/sbx_ord_/,
      /🌐 Customer opens http:\/\/localhost:\d+\/pay\/sandbox\/sbx_ord_[A-Za-z0-9_-]+ and presses Pay/,
      /Payment confirmed and delivered: 2,000 tokens\.\n {3}Your code: TG-[A-Z0-9]+/,
      /✅ Delivered: the code above is what the customer paid for\./,
    ]);
    expect(
      steps.every((at) => at >= 0),
      `${JSON.stringify(steps)}\n${stdout}`,
    ).toBe(true);
    expect([...steps].sort((a, b) => a - b)).toEqual(steps);
    // As the customer's app shows it: no HTML tags or entities.
    expect(stdout).not.toMatch(/<\/?(b|code|tg-spoiler)>|&(lt|gt|amp);/);
  });

  test("the README documents it", () => {
    const readme = readFileSync(`${REPO_ROOT}README.md`, "utf8");
    expect(readme).toContain("npm run demo:telegram");
    expect(JSON.parse(readFileSync(`${REPO_ROOT}package.json`, "utf8")).scripts["demo:telegram"]).toBe("tsx scripts/demo-telegram.ts");
  });
});

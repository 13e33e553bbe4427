import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { consoleLanguage, pressedButton } from "../../src/cli/console.ts";
import { CUSTOMER_COMMANDS } from "../../src/customer-commands.ts";
import type { Button } from "../../src/render/messages.ts";
import { runConsole } from "../support/console.ts";

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

/** The README's console transcript: the piped input of its first line, and everything printed after it. */
function readmeTranscript(): { input: string; output: string } {
  const readme = readFileSync(join(import.meta.dirname, "../../README.md"), "utf8");
  const block = /### A console session[\s\S]*?```text\n([\s\S]*?)\n```/.exec(readme)?.[1] ?? "";
  const [command = "", ...output] = block.split("\n");
  const printf = /^\$ printf '(.*)' \| npm start$/.exec(command)?.[1] ?? "";
  return { input: printf.replace(/\\n/g, "\n"), output: output.join("\n") };
}

/** Order ids and the port differ from run to run. */
const steady = (text: string) =>
  text
    .replace(/ord_[A-Za-z0-9_-]+/g, "ord_…")
    .replace(/localhost:\d+/g, "localhost:8080")
    .trim();

describe("console chat (issue 13: a fair stand-in for Telegram)", () => {
  test("the README's transcript is exactly what a fresh start prints", async () => {
    const { input, output } = readmeTranscript();
    expect(input).toContain("\n");
    const { code, stdout } = await runConsole(input);
    expect(code).toBe(0);
    expect(steady(stdout)).toBe(steady(output));
  });

  test("typing a button's label does what the button does: '+ 1k' adds a thousand to the quote", async () => {
    const { stdout } = await runConsole("I need 2000 tokens\n+ 1k\n");
    expect(stdout).toContain("3,000 tokens for $60.00");
  });

  test("a button's number presses it: 2 on the welcome quotes the second package", async () => {
    const { stdout } = await runConsole("2\n4\n");
    expect(stdout).toContain("5,000 tokens for $100.00");
    expect(stdout).toContain("6,000 tokens for $120.00"); // [4] is + 1k on the quote
  });

  test("a question mid-purchase is answered and the quote stays", async () => {
    const { stdout } = await runConsole("I need 2000 tokens\nwhich coins can I pay with?\nyes\n");
    const answer = stdout.slice(stdout.indexOf("you › which coins"));
    expect(answer).toContain("USDT");
    expect(answer).toContain("2,000 tokens for $40.00");
    expect(stdout).toMatch(/Order ord_[A-Za-z0-9_-]+: 2,000 tokens for \$40\.00/);
  });

  test("the chat is remembered: a second run against the same store starts where the first ended", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tokengoblin-console-"));
    try {
      const store = { STORE_URL: `sqlite://${join(dir, "store.sqlite")}` };
      const first = await runConsole("I need 2000 tokens\nyes\n", store);
      expect(first.code).toBe(0);
      const second = await runConsole("I need 2000 tokens\ncancel\nI need 2000 tokens\n", store);
      expect(second.code).toBe(0);
      const [welcome = ""] = second.stdout.split("you ›");
      expect(welcome).toContain("Welcome to TokenGoblin");
      expect(welcome).toMatch(/Order ord_[A-Za-z0-9_-]+: 2,000 tokens/);
      expect(second.stdout).toContain("Cancel it first");
      expect(second.stdout).toContain("Order cancelled");
      expect(second.stdout.trim().endsWith("[4] + 1k")).toBe(true); // quoted afresh
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("a number or label presses only a button that is shown", () => {
    const buttons: Button[] = [
      { label: "✅ Confirm", press: { action: "confirm", orderId: "ord_1", shown: 2000 } },
      { label: "− 1k", press: { action: "amount", orderId: "ord_1", tokens: 1000, shown: 2000 } },
      { label: "💳 Pay", url: "http://pay" },
    ];
    expect(pressedButton("1", buttons)).toBe(buttons[0]);
    expect(pressedButton("#3", buttons)).toBe(buttons[2]);
    expect(pressedButton("- 1k", buttons)).toBe(buttons[1]);
    expect(pressedButton("CONFIRM", buttons)).toBe(buttons[0]);
    expect(pressedButton("4", buttons)).toBeNull();
    expect(pressedButton("2000", buttons)).toBeNull();
    expect(pressedButton("yes", buttons)).toBeNull();
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

/** Each input line of a piped session with the reply printed after it (without the 🧌), in order. */
function exchanges(stdout: string): { said: string; reply: string }[] {
  return stdout
    .split("\nyou › ")
    .slice(1)
    .map((part) => {
      const [said = "", ...rest] = part.split("\n");
      return { said, reply: rest.join("\n").trim().replace(/^🧌 /, "") };
    });
}

describe("console commands (issue 22: the console speaks like Telegram)", () => {
  test("every customer command the README lists answers in the console as in Telegram", async () => {
    const input = [
      "/buy 2000",
      "/cart",
      "/status",
      "/orders",
      "/help",
      "/cancel",
      "/cart",
      "/start",
      "/start buy_5000",
      "/buy lots",
      "/promo NOPE",
    ].join("\n");
    const { code, stdout } = await runConsole(`${input}\n`);
    expect(code).toBe(0);
    const [buy, cart, status, orders, help, cancel, emptyCart, start, deepLink, badAmount, promo] = exchanges(stdout);
    expect(buy?.reply).toContain("🧾 2,000 tokens for $40.00 (you pay 40.00 USDT).");
    expect(cart?.reply).toBe(buy?.reply); // the open order, with its buttons
    expect(status?.reply).toContain("2,000 tokens for $40.00");
    expect(orders?.reply).toMatch(/Your last orders:\n\s+• .*2,000 tokens for \$40\.00, quoted/);
    expect(help?.reply).toContain("I sell AI API credit at $20.00 per 1,000 tokens");
    expect(cancel?.reply).toContain("Order cancelled. Nothing was charged.");
    expect(emptyCart?.reply).not.toContain("Sorry, I didn't get that");
    expect(emptyCart?.reply).toContain("[1] 1k");
    expect(start?.reply).toContain("Welcome to TokenGoblin!");
    expect(deepLink?.reply).toContain("5,000 tokens for $100.00");
    expect(badAmount?.reply).toMatch(/^Sorry, I didn't get that\. 🧾 5,000 tokens/);
    expect(promo?.reply).toContain("I don't know that promo code.");
  });

  test("the README lists every customer command Telegram has, and each one, as the README writes it, is answered in the console", async () => {
    const readme = readFileSync(join(import.meta.dirname, "../../README.md"), "utf8");
    const afterTranscript = readme.slice(readme.indexOf("```", readme.indexOf("```text") + 7));
    const paragraph = afterTranscript.slice(0, afterTranscript.indexOf("\n## "));
    const listed = [...paragraph.matchAll(/`(\/[a-z]+)((?: [A-Za-z0-9_]+)?)`/g)].map(
      ([, command = "", argument = ""]) => `${command}${argument}`,
    );
    expect(new Set(listed.map((typed) => typed.split(" ")[0]!.slice(1)))).toEqual(new Set(CUSTOMER_COMMANDS));
    const { code, stdout } = await runConsole(`${listed.join("\n")}\n`);
    expect(code).toBe(0);
    const answers = exchanges(stdout);
    expect(answers.map((answer) => answer.said)).toEqual(listed);
    for (const answer of answers) expect(answer.reply, `the answer to ${answer.said}`).not.toMatch(/didn't get that|unknown command/i);
  });

  test("/language offers every language as a numbered button; pressing one switches the chat", async () => {
    const { code, stdout } = await runConsole("/language\n2\n/cart\n/buy 2000\n");
    expect(code).toBe(0);
    const [choose, pressed, cart, buy] = exchanges(stdout);
    expect(choose?.reply).toBe("Choose your language:\n      [1] English   [2] Русский");
    expect(pressed?.reply).toBe("Готово: теперь я пишу по-русски.");
    expect(cart?.reply).toContain("пакет"); // the welcome's packages, in Russian
    expect(buy?.reply.replace(/\u00a0/g, " ")).toContain("2 000 токенов за 40,00 $");
  });

  test("/language ru switches at once, and /language en switches back", async () => {
    const { stdout } = await runConsole("/language ru\n/buy 2000\n/language en\n/status\n/language RU\n");
    const [ru, quote, en, status, again] = exchanges(stdout);
    expect(ru?.reply).toBe("Готово: теперь я пишу по-русски.");
    expect(quote?.reply.replace(/\u00a0/g, " ")).toContain("2 000 токенов за 40,00 $");
    expect(en?.reply).toBe("Done: I'll write in English from now on.");
    expect(status?.reply).toContain("2,000 tokens for $40.00");
    expect(again?.reply).toContain("Готово");
  });
});

/**
 * `npm run demo:telegram`: watch a whole Telegram purchase without a bot token. It starts a local
 * stand-in for the Bot API (`bot-api-stub.ts`), runs the real product against it — `src/main.ts`, what
 * `npm start` runs, with TELEGRAM_BOT_TOKEN and TELEGRAM_API_ROOT pointing at the stand-in, an
 * in-memory store and sandbox payments — then plays one customer: a text, the ✅ Confirm button, Pay on
 * the sandbox page, and prints the chat as the customer sees it, up to the delivered code.
 *
 *   npm run demo:telegram                 the conversation in English
 *   npm run demo:telegram -- --lang ru    the customer's Telegram speaks Russian
 *
 * Telegram refuses buttons that link to a private host, so with the pay page on localhost the bot sends
 * the pay link as text (as it would on a laptop with a real token). Exits 0 once the code was
 * delivered; 1 (with the product's last output) if the purchase got stuck.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { type ApiCall, type InlineButton, startBotApiStub } from "./bot-api-stub.ts";

const REPO_ROOT = fileURLToPath(new URL("../", import.meta.url));
const CHAT = 4242;
/** How long one step may take before the demo calls the purchase stuck. */
const STEP_MS = 15_000;

const argv = process.argv.slice(2);
const langAt = argv.findIndex((arg) => arg === "--lang" || arg.startsWith("--lang="));
const language = langAt === -1 ? undefined : argv[langAt]!.includes("=") ? argv[langAt]!.split("=")[1] : argv[langAt + 1];

/** Telegram's HTML as a customer's app shows it: no tags, entities decoded. */
function asShown(html: string): string {
  return html
    .replace(/<a href="([^"]*)">([\s\S]*?)<\/a>/g, "$2 ($1)")
    .replace(/<\/?(?:b|i|u|s|code|pre|tg-spoiler)>/g, "")
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, "&");
}

function print(line = ""): void {
  process.stdout.write(`${line}\n`);
}

/** A message the bot showed (sent or edited): its text, then its buttons row by row. */
function printShown(call: ApiCall): void {
  const edited = call.method === "editMessageText";
  print(`🤖 TokenGoblin${edited ? " (edits its message)" : ""}:`);
  for (const line of asShown(String(call.payload.text)).split("\n")) print(`   ${line}`.trimEnd());
  const rows = (call.payload.reply_markup as { inline_keyboard?: InlineButton[][] } | undefined)?.inline_keyboard ?? [];
  for (const row of rows) print(`   ${row.map((button) => `[ ${button.text}${button.url ? " ↗" : ""} ]`).join("  ")}`);
  print();
}

async function main(): Promise<number> {
  const api = await startBotApiStub();
  if (language) api.speaks(CHAT, language);
  const output: string[] = [];
  const product: ChildProcess = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], {
    cwd: REPO_ROOT,
    env: {
      ...process.env,
      TELEGRAM_BOT_TOKEN: api.token,
      TELEGRAM_API_ROOT: api.url,
      TELEGRAM_WEBHOOK_URL: "",
      STORE_URL: "memory://",
      HTTP_PORT: "0",
      PUBLIC_URL: "",
      PAYMENT_PROVIDER: "sandbox",
      DELIVERY_PROVIDER: "sandbox",
      LLM_API_KEY: "",
      OPENROUTER_API_KEY: "",
      ADMIN_CHAT_IDS: "",
      TOKENGOBLIN_LOG: "warn",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  for (const stream of [product.stdout, product.stderr]) stream?.on("data", (chunk: Buffer) => output.push(chunk.toString("utf8")));
  const exited = new Promise<void>((resolve) => product.once("exit", () => resolve()));

  /** The next message the bot shows in the customer's chat after call number `since`. */
  const shown = (since: number) =>
    api.waitFor(
      (call) =>
        call.ok && (call.method === "sendMessage" || call.method === "editMessageText") && String(call.payload.chat_id) === String(CHAT),
      since,
      STEP_MS,
    );
  const says = async (text: string) => {
    const since = api.mark();
    print(`👤 Customer: ${text}`);
    api.text(CHAT, text);
    const answer = await shown(since);
    printShown(answer);
    return answer;
  };

  try {
    await api.waitFor((call) => call.method === "getUpdates", 0, STEP_MS);
    print(`Telegram conversation with @${api.bot.username}: the real bot, a local Bot API stand-in at ${api.url}, sandbox payments.`);
    print();
    await says("/start");
    const quote = await says(language?.toLowerCase().startsWith("ru") ? "Нужно 2000 токенов" : "I need 2000 tokens");

    const message = api.lastMessage(CHAT);
    const confirm = (quote.payload.reply_markup as { inline_keyboard?: InlineButton[][] } | undefined)?.inline_keyboard?.flat()[0];
    if (!message || !confirm?.callback_data) throw new Error("the quote came without a ✅ Confirm button");
    print(`👤 Customer presses: ${confirm.text}`);
    let since = api.mark();
    api.press(CHAT, message, confirm.callback_data);
    const invoice = await shown(since);
    printShown(invoice);

    const payUrl = /https?:\/\/[^\s"<]+\/pay\/sandbox\/[A-Za-z0-9_-]+/.exec(String(invoice.payload.text))?.[0];
    if (!payUrl) throw new Error("the invoice came without a pay link");
    print(`🌐 Customer opens ${payUrl} and presses Pay (sandbox: no real money moves)`);
    print();
    since = api.mark();
    const paid = await fetch(payUrl, { method: "POST" });
    if (paid.status !== 200) throw new Error(`the sandbox pay page answered ${paid.status}`);
    // Confirmation and goods may come as one message or two: show them until the code arrives.
    for (;;) {
      const news = await shown(since);
      printShown(news);
      since = api.calls.indexOf(news) + 1;
      if (/TG-[A-Z0-9]{4,}/.test(String(news.payload.text))) break;
    }
    print("✅ Delivered: the code above is what the customer paid for.");
    return 0;
  } catch (error) {
    process.stderr.write(
      `demo:telegram: ${error instanceof Error ? error.message : String(error)}\nThe product's last output:\n${output.join("").slice(-4000)}\n`,
    );
    return 1;
  } finally {
    product.kill("SIGTERM");
    const killer = setTimeout(() => product.kill("SIGKILL"), 10_000);
    await exited;
    clearTimeout(killer);
    await api.close();
  }
}

process.exitCode = await main();

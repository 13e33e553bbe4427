/**
 * The web dashboard over in-process HTTP (issues 15, 20, 22): who gets in (bearer token, login form,
 * session cookie), what cross-site requests are refused, and what the pages show — the owner's front
 * page, both sides of a conversation, escaped customer text, the goods' hint but never their secret,
 * the actions going through the engine's admin door.
 */
import { afterEach, describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../src/config.ts";
import { SESSION_COOKIE } from "../../src/dashboard/auth.ts";
import type { HttpResponse } from "../../src/http/server.ts";
import type { Transformer } from "grammy";
import type { Update } from "grammy/types";
import { ChatId, OrderId } from "../../src/domain/ids.ts";
import { createBot } from "../../src/telegram/index.ts";
import { startTestApp } from "../support/app.ts";
import { ADMIN_TOKEN, type Shop, openShop } from "../support/dashboard-shop.ts";
import { TEST_BOT_INFO } from "../support/telegram-shop.ts";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

async function shop(env: Record<string, string> = {}): Promise<Shop> {
  const opened = await openShop(env);
  cleanups.push(() => opened.app.close());
  return opened;
}

type Request = { headers?: Record<string, string>; body?: string; query?: string };
const HOST = "shop.example";

function client(s: Shop) {
  const send = (method: "GET" | "POST", path: string, request: Request = {}): Promise<HttpResponse> =>
    s.app.http.dispatch({
      method,
      path,
      query: new URLSearchParams(request.query ?? ""),
      headers: {
        host: HOST,
        ...(request.body !== undefined ? { "content-type": "application/x-www-form-urlencoded" } : {}),
        ...request.headers,
      },
      rawBody: Buffer.from(request.body ?? ""),
    });
  return {
    get: (path: string, request?: Request) => send("GET", path, request),
    post: (path: string, request?: Request) => send("POST", path, request),
    bearer: { authorization: `Bearer ${ADMIN_TOKEN}` },
  };
}

const cookieOf = (response: HttpResponse) => {
  const header = response.headers?.["set-cookie"] ?? "";
  return /^tg_admin=([^;]*)/.exec(header)?.[1] ?? "";
};
const csrfOf = (html: string) => /name="csrf" value="([^"]+)"/.exec(html)?.[1] ?? "";

async function login(s: Shop) {
  const http = client(s);
  const response = await http.post("/admin/login", {
    body: `token=${encodeURIComponent(ADMIN_TOKEN)}`,
    headers: { origin: `https://${HOST}` },
  });
  expect(response.status).toBe(303);
  const cookie = cookieOf(response);
  const overview = await http.get("/admin", { headers: { cookie: `${SESSION_COOKIE}=${cookie}` } });
  expect(overview.status).toBe(200);
  return { cookie: `${SESSION_COOKIE}=${cookie}`, csrf: csrfOf(String(overview.body)), setCookie: response.headers?.["set-cookie"] ?? "" };
}

describe("dashboard access", () => {
  it("does not exist without ADMIN_TOKEN", async () => {
    const { app } = await startTestApp();
    cleanups.push(() => app.close());
    for (const path of [
      "/admin",
      "/admin/login",
      "/admin/funnel",
      "/admin/orders",
      "/admin/orders.csv",
      "/admin/orders/ord_x",
      "/admin/chats/42",
    ]) {
      expect((await app.http.dispatch({ method: "GET", path, headers: {}, rawBody: Buffer.alloc(0) })).status).toBe(404);
    }
  });

  it("refuses to start with a short ADMIN_TOKEN, naming the variable", () => {
    expect(() => loadConfig({ ADMIN_TOKEN: "hunter2" })).toThrow(ConfigError);
    expect(() => loadConfig({ ADMIN_TOKEN: "hunter2" })).toThrow(/^ADMIN_TOKEN: must be at least 16 characters/);
    expect(loadConfig({ ADMIN_TOKEN }).adminToken).toBe(ADMIN_TOKEN);
    expect(loadConfig({}).adminToken).toBeUndefined();
  });

  it("sends a visitor without a token to the login form and refuses their POSTs", async () => {
    const http = client(await shop());
    for (const path of ["/admin", "/admin/funnel", "/admin/orders", "/admin/orders.csv", "/admin/orders/ord_x", "/admin/chats/42"]) {
      const response = await http.get(path);
      expect(response.status).toBe(303);
      expect(response.headers?.location).toBe("/admin/login");
    }
    expect((await http.post("/admin/orders/ord_x/retry", { body: "" })).status).toBe(401);
    const form = await http.get("/admin/login");
    expect(form.status).toBe(200);
    expect(String(form.body)).toContain('name="token"');
  });

  it("answers 401 to a wrong bearer token and 200 to the right one", async () => {
    const http = client(await shop());
    expect((await http.get("/admin", { headers: { authorization: "Bearer not-the-token" } })).status).toBe(401);
    expect((await http.get("/admin", { headers: { authorization: `Bearer ${ADMIN_TOKEN}x` } })).status).toBe(401);
    const ok = await http.get("/admin", { headers: http.bearer });
    expect(ok.status).toBe(200);
    expect(ok.headers?.["content-security-policy"]).toContain("default-src 'none'");
  });

  it("sets an HttpOnly, SameSite=Strict session cookie on login and refuses a wrong token", async () => {
    const s = await shop();
    const http = client(s);
    const wrong = await http.post("/admin/login", { body: "token=guess" });
    expect(wrong.status).toBe(401);
    expect(wrong.headers?.["set-cookie"]).toBeUndefined();
    const { setCookie } = await login(s);
    expect(setCookie).toMatch(/HttpOnly/);
    expect(setCookie).toMatch(/SameSite=Strict/);
    expect(setCookie).toMatch(/Path=\/admin/);
    expect(setCookie).not.toContain(ADMIN_TOKEN);
  });

  it("answers wrong tokens 429 after five failures from one client, until the window has passed; the right token still gets in", async () => {
    const s = await shop();
    const http = client(s);
    for (let i = 0; i < 5; i++) expect((await http.post("/admin/login", { body: `token=guess${i}` })).status).toBe(401);
    const locked = await http.post("/admin/login", { body: "token=guess5" });
    expect(locked.status).toBe(429);
    expect(String(locked.body)).toContain("Too many wrong tokens from your address");
    expect((await http.post("/admin/login", { body: `token=${ADMIN_TOKEN}` })).status).toBe(303);
    expect((await http.get("/admin", { headers: http.bearer })).status).toBe(200);
    s.clock.advance(16 * 60_000);
    expect((await http.post("/admin/login", { body: "token=guess6" })).status).toBe(401);
  });

  it("sends an expired or forged session back to the login form", async () => {
    const s = await shop();
    const http = client(s);
    const { cookie } = await login(s);
    const [, expiry, nonce, signature] = cookie.split("=")[1]!.split(".");
    const forged = `${SESSION_COOKIE}=v1.${Number(expiry) + 3_600_000}.${nonce}.${signature}`;
    expect((await http.get("/admin", { headers: { cookie: forged } })).headers?.location).toBe("/admin/login");
    s.clock.advance(13 * 3_600_000);
    const expired = await http.get("/admin", { headers: { cookie } });
    expect(expired.status).toBe(303);
    expect(expired.headers?.location).toBe("/admin/login?expired=1");
    expect(expired.headers?.["set-cookie"]).toMatch(/Max-Age=0/);
  });

  it("refuses cross-site POSTs: no CSRF field, another origin, a cross-site fetch, a cross-site login", async () => {
    const s = await shop();
    const http = client(s);
    const orderId = await s.failedDelivery();
    const { cookie, csrf } = await login(s);
    const path = `/admin/orders/${orderId}/retry`;
    expect((await http.post(path, { headers: { cookie }, body: "" })).status).toBe(403);
    expect((await http.post(path, { headers: { cookie, origin: "https://evil.example" }, body: `csrf=${csrf}` })).status).toBe(403);
    expect((await http.post(path, { headers: { cookie, "sec-fetch-site": "cross-site" }, body: `csrf=${csrf}` })).status).toBe(403);
    expect((await http.post("/admin/login", { headers: { origin: "https://evil.example" }, body: `token=${ADMIN_TOKEN}` })).status).toBe(
      403,
    );
    expect((await s.app.engine.orderView(orderId))?.stage).toBe("delivery_failed");
    const done = await http.post(path, {
      headers: { cookie, origin: `https://${HOST}`, "sec-fetch-site": "same-origin" },
      body: `csrf=${csrf}`,
    });
    expect(done.status).toBe(303);
    expect((await s.app.engine.orderView(orderId))?.stage).toBe("delivered");
  });

  it("accepts a same-site POST behind a proxy that rewrites Host, by PUBLIC_URL", async () => {
    const s = await shop({ PUBLIC_URL: "https://owner.example" });
    const http = client(s);
    const orderId = await s.failedDelivery();
    const { cookie, csrf } = await login(s);
    const behindProxy = { cookie, host: "127.0.0.1:8080", origin: "https://owner.example" };
    expect(
      (
        await http.post(`/admin/orders/${orderId}/retry`, {
          headers: { ...behindProxy, origin: "https://evil.example" },
          body: `csrf=${csrf}`,
        })
      ).status,
    ).toBe(403);
    expect((await http.post(`/admin/orders/${orderId}/retry`, { headers: behindProxy, body: `csrf=${csrf}` })).status).toBe(303);
    expect((await s.app.engine.orderView(orderId))?.stage).toBe("delivered");
    expect(
      (
        await http.post("/admin/login", {
          headers: { host: "127.0.0.1:8080", origin: "https://owner.example" },
          body: `token=${ADMIN_TOKEN}`,
        })
      ).headers?.["set-cookie"],
    ).toMatch(/; Secure/);
  });
});

describe("the owner's front page", () => {
  it("says today's revenue and orders, what needs the owner, the customers by name, what the bot did not understand, then the funnel", async () => {
    const s = await shop();
    const http = client(s);
    // Yesterday's sale is not today's revenue; the customer comes back today and buys again.
    await s.purchase("700", 1000, "rules", "paid");
    s.clock.advance(24 * 3_600_000);
    await s.app.engine.handleText("700", "hello", { profile: { username: "ada", firstName: "Ada" } });
    await s.purchase("700", 2000, "button", "paid");
    await s.purchase("701", 5000, "rules", "quoted");
    await s.app.engine.handleText("702", "can you walk my dog on tuesday");
    await s.app.engine.handleText("703", "Can you walk my dog  on TUESDAY");
    const failed = await s.failedDelivery("704");
    const page = String((await http.get("/admin", { headers: http.bearer })).body);
    const section = (id: string) => page.slice(page.indexOf(`id="${id}"`), page.indexOf("</section>", page.indexOf(`id="${id}"`)));
    // Today: the repeat sale and the failed delivery's payment ($40 + $40), three orders started.
    expect(page).toMatch(/<b>\$80\.00<\/b><span>revenue today, 2 sales<\/span>/);
    expect(page).toMatch(/<b>3<\/b><span>orders started today<\/span>/);
    expect(section("needs")).toContain(failed);
    expect(section("needs")).toContain(`/admin/orders/${failed}/retry`);
    expect(section("customers")).toContain("@ada (Ada)");
    // Ada bought twice: one repeat buyer, her $60 of the $100 all-time revenue.
    expect(section("customers")).toMatch(/<b>1<\/b> repeat buyers brought <b>60\.0%<\/b> of revenue/);
    const asked = section("not-understood");
    // Counted together whatever the case and spacing; shown as it was written last.
    expect(asked).toContain("Can you walk my dog  on TUESDAY");
    expect(asked).toContain("<b>×2</b>");
    expect(asked).toContain('href="/admin/chats/703#conversation"');
    expect(section("funnel")).toContain('href="/admin/funnel"');
    expect(page.indexOf('id="needs"')).toBeLessThan(page.indexOf('id="customers"'));
    expect(page.indexOf('id="not-understood"')).toBeLessThan(page.indexOf('id="funnel"'));
    // The text's conversation: both sides, the bot's in the owner's words.
    const chat = String((await http.get("/admin/chats/703", { headers: http.bearer })).body);
    expect(chat).toContain("Can you walk my dog  on TUESDAY");
    expect(chat).toMatch(/class="turn bot">.*Sorry, I didn&#39;t get that/s);
  });

  it("names a Telegram customer by username and first name, as their updates said", async () => {
    const s = await shop({ TELEGRAM_BOT_TOKEN: "1:offline" });
    const offline: Transformer = async () => ({ ok: true, result: true as never });
    const bot = createBot(s.app, {
      botInfo: TEST_BOT_INFO,
      transformers: [offline],
      rateLimit: false,
    });
    const from = { id: 5150, is_bot: false, first_name: "Grace", username: "grace_h" };
    await bot.handleUpdate({
      update_id: 1,
      message: { message_id: 1, date: 0, chat: { id: 5150, type: "private", first_name: "Grace" }, from, text: "I need 2000 tokens" },
    } as Update);
    const page = String((await client(s).get("/admin", { headers: client(s).bearer })).body);
    expect(page).toContain("@grace_h (Grace)");
    const chat = await s.app.engine.chat("5150");
    expect(chat.chat !== "invalid" && chat.chat?.profile).toEqual({ username: "grace_h", firstName: "Grace" });
  });

  it("lists an extra payment owed by hand and records its return through the admin door", async () => {
    const s = await shop();
    const http = client(s);
    const orderId = await s.purchase("720", 2000, "rules", "paid");
    // A second charge the provider could not return (a Stars payment made twice, say): owed by hand.
    const chatId = ChatId.parse("720");
    const [record] = await s.app.store.readOrders(chatId, [OrderId.parse(orderId)]);
    const context = record!.snapshot.context as { strays: unknown[] };
    const stray = {
      chargeId: "charge_twice",
      amount: { minor: 4000, currency: "USD" },
      foreign: null,
      receivedAt: s.clock(),
      status: "owed",
      refundId: null,
    };
    const owing = {
      ...record!,
      snapshot: { ...record!.snapshot, context: { ...context, strays: [stray] } },
      summary: { ...record!.summary, owedStrays: 1 },
    };
    const held = await s.app.store.openChat(chatId, { owner: "test-writer", ttlMs: 5_000 });
    expect(held.held).toBe(true);
    const entry = {
      v: 2 as const,
      type: "order" as const,
      chatId,
      orderId: OrderId.parse(orderId),
      at: s.clock(),
      instance: "test-writer",
      detail: { summary: owing.summary, createdAt: record!.createdAt },
    };
    expect((await s.app.store.commit({ chatId, owner: "test-writer", orders: [owing], audit: [entry], release: true })).ok).toBe(true);

    const page = String((await http.get("/admin", { headers: http.bearer })).body);
    expect(page).toContain("1 extra payment to return by hand");
    expect(page).toContain('name="charge" value="charge_twice"');
    expect(page).not.toContain(`/admin/orders/${orderId}/retry`);
    const done = await http.post(`/admin/orders/${orderId}/refund`, { headers: http.bearer, body: "manual=1&charge=charge_twice" });
    expect(done.status).toBe(303);
    expect((await s.app.engine.orderView(orderId))?.strays).toEqual([expect.objectContaining({ status: "refunded" })]);
    expect(String((await http.get("/admin", { headers: http.bearer })).body)).toContain("Nothing needs you now.");
  });
});

describe("dashboard pages", () => {
  it("escapes what a customer wrote: <script> and <img onerror> stay text", async () => {
    const s = await shop();
    const http = client(s);
    await s.app.engine.handleText("666", "I need 2000 tokens");
    await s.app.engine.handleText("666", `<script>alert("pwned")</script>`);
    await s.app.engine.handleText("666", `<img src=x onerror="alert('pwned')">`, {
      profile: { username: "<b>x</b>", firstName: `<img src=y>` },
    });
    const order = await s.app.engine.view("666");
    if (order.kind !== "order") throw new Error("expected an order");
    for (const path of [`/admin/orders/${order.order.orderId}`, "/admin", "/admin/chats/666"]) {
      const html = String((await http.get(path, { headers: http.bearer })).body);
      expect(html, path).toContain("&lt;script&gt;alert(&quot;pwned&quot;)&lt;/script&gt;");
      expect(html, path).toContain("&lt;img src=x onerror=&quot;alert(&#39;pwned&#39;)&quot;&gt;");
      expect(html, path).not.toContain("<script");
      expect(html, path).not.toMatch(/<img/i);
    }
  });

  it("shows the sale on the front page, the funnel by source, the orders table and the CSV", async () => {
    const s = await shop();
    const http = client(s);
    const orderId = await s.purchase("501", 2000, "llm", "paid");
    expect(String((await http.get("/admin", { headers: http.bearer })).body)).toContain("$40.00");
    const funnel = String((await http.get("/admin/funnel", { headers: http.bearer, query: "period=today" })).body);
    expect(funnel).toMatch(/text \(LLM\) <b>100\.0%<\/b>/);
    // Two messages the model read, one sale: 2.00 calls per sale, as `npm run report` says.
    const llmRow = /<tr><td><i class="swatch s-llm"><\/i>text \(LLM\)<\/td>(.*?)<\/tr>/.exec(funnel)?.[1] ?? "";
    const cells = [...llmRow.matchAll(/<td[^>]*>(.*?)<\/td>/g)].map((m) => m[1]!.replace(/<[^>]+>/g, ""));
    expect(cells.slice(0, 7)).toEqual(["1", "1 100.0%", "1 100.0%", "1 100.0%", "1 100.0%", "100.0%", "2.00"]);
    const orders = String((await http.get("/admin/orders", { headers: http.bearer })).body);
    expect(orders).toContain(orderId);
    const csv = await http.get("/admin/orders.csv", { headers: http.bearer });
    expect(csv.headers?.["content-type"]).toMatch(/text\/csv/);
    expect(String(csv.body).split("\r\n")[1]).toMatch(new RegExp(`^${orderId},delivered,delivered[.a-z_]*,.*,2000,40\\.00,`));
  });

  it("shows both sides of an order's conversation, the bot's in the owner's words, and its timeline", async () => {
    const s = await shop();
    const http = client(s);
    const orderId = await s.purchase("510", 2000, "rules", "paid");
    const html = String((await http.get(`/admin/orders/${orderId}`, { headers: http.bearer })).body);
    const talk = html.slice(html.indexOf('id="conversation"'), html.indexOf("</section>", html.indexOf('id="conversation"')));
    expect(talk).toMatch(/class="turn customer">.*I need 2000 tokens/s);
    expect(talk).toMatch(/class="turn bot">.*2,000 tokens for \$40\.00/s);
    expect(talk).toMatch(/class="turn bot">.*Order .*valid for 60 minutes/s);
    expect(talk.indexOf("I need 2000 tokens")).toBeLessThan(talk.indexOf("2,000 tokens for $40.00"));
    expect(html).toContain("initial → quoted");
    // The payment is recorded (paid) before the goods go out (delivered): two steps on the timeline.
    expect(html).toMatch(/awaiting_payment\.waiting → paid\.recorded/);
    expect(html).toMatch(/paid\.recorded → delivered/);
  });

  it("shows the goods' reference and hint, never their secret", async () => {
    const s = await shop();
    const http = client(s);
    const orderId = await s.purchase("502", 2000, "rules", "paid");
    const goods = await s.app.store.goods(OrderId.parse(orderId), ChatId.parse("502"));
    expect(goods).toBeDefined();
    // As if the customer had not been sent the goods yet: the secret is still stored.
    await s.app.store.putGoods({ ...goods!, secret: "sk-secret-never-shown", sentAt: null }, "test");
    const html = String((await http.get(`/admin/orders/${orderId}`, { headers: http.bearer })).body);
    expect(html).toContain(goods!.hint.replace("…", ""));
    expect(html).toContain(goods!.ref);
    expect(html).not.toContain("sk-secret-never-shown");
    expect((await http.get("/admin/orders/ord_nope", { headers: http.bearer })).status).toBe(404);
  });

  it("retries and refunds through the admin door, offering only what the order can take, and records them in the audit trail", async () => {
    const s = await shop();
    const http = client(s);
    const retried = await s.failedDelivery("601");
    const refunded = await s.failedDelivery("602");
    const delivered = await s.purchase("603", 1000, "rules", "paid");
    const front = String((await http.get("/admin", { headers: http.bearer })).body);
    expect(front).toContain(`/admin/orders/${retried}/retry`);
    expect(front).toContain(`/admin/orders/${refunded}/refund`);
    // A delivered order offers nothing, and the admin door refuses a forged request for it.
    expect(String((await http.get(`/admin/orders/${delivered}`, { headers: http.bearer })).body)).not.toMatch(
      /<form method="post" action="\/admin\/orders\//,
    );
    const refused = await http.post(`/admin/orders/${delivered}/retry`, { headers: http.bearer, body: "" });
    const refusal = String(
      (await http.get(refused.headers!.location!.split("?")[0]!, { headers: http.bearer, query: refused.headers!.location!.split("?")[1] }))
        .body,
    );
    expect(refusal).toContain("cannot take that now; nothing was changed");

    const retry = await http.post(`/admin/orders/${retried}/retry`, { headers: http.bearer, body: "" });
    expect(retry.status).toBe(303);
    const page = String(
      (await http.get(retry.headers!.location!.split("?")[0]!, { headers: http.bearer, query: retry.headers!.location!.split("?")[1] }))
        .body,
    );
    expect(page).toContain(`Order ${retried} is now delivered.`);
    expect(page).toContain("retry delivery");
    expect((await http.post(`/admin/orders/${refunded}/refund`, { headers: http.bearer, body: "" })).status).toBe(303);
    const order = await s.app.engine.orderView(refunded);
    expect(order?.stage).toBe("refunded");
    expect(order?.refund).toMatchObject({ refunded: true, manual: false });
    const trail = await s.app.audit.forOrder(refunded);
    expect(trail.some((e) => e.type === "admin" && e.detail.action === "refund" && e.detail.by === "web")).toBe(true);
    expect(String((await http.get("/admin", { headers: http.bearer })).body)).toContain("Nothing needs you now.");
  });

  it("shows an action's result on the page it leads to, and not after ten minutes", async () => {
    const s = await shop();
    const http = client(s);
    const retried = await s.failedDelivery("611");
    const retry = await http.post(`/admin/orders/${retried}/retry`, { headers: http.bearer, body: "" });
    const [path, query] = retry.headers!.location!.split("?") as [string, string];
    const notice = '<p class="notice" role="status">';
    expect(String((await http.get(path, { headers: http.bearer, query })).body)).toContain(notice);
    s.clock.advance(10 * 60_000);
    expect(String((await http.get(path, { headers: http.bearer, query })).body)).not.toContain(notice);
  });

  it("pages through orders newest first, with a filter by stage and a search by chat or username", async () => {
    const s = await shop();
    const http = client(s);
    const ids: string[] = [];
    for (let i = 0; i < 55; i++) {
      ids.push(await s.purchase(`90${i}`, 1000 + i, "button", i % 5 === 0 ? "paid" : "quoted"));
      s.clock.advance(1_000);
    }
    await s.app.engine.handleText("907", "hi", { profile: { username: "Seven", firstName: null } });
    const first = String((await http.get("/admin/orders", { headers: http.bearer })).body);
    expect(first).toContain("55 matching");
    expect(first.indexOf(ids[54]!)).toBeLessThan(first.indexOf(ids[53]!));
    expect(first).not.toContain(ids[4]!);
    const after = /after=([^"&]+)/.exec(first)?.[1];
    const second = String((await http.get("/admin/orders", { headers: http.bearer, query: `after=${after}` })).body);
    expect(second).toContain(ids[4]!);
    expect(second).not.toContain(ids[5]!);
    const delivered = String((await http.get("/admin/orders", { headers: http.bearer, query: "stage=delivered" })).body);
    expect(delivered).toContain("11 matching");
    for (const q of ["907", "@seven"]) {
      const byChat = String((await http.get("/admin/orders", { headers: http.bearer, query: `q=${encodeURIComponent(q)}` })).body);
      expect(byChat, q).toContain("1 matching");
      expect(byChat, q).toContain(ids[7]!);
    }
  });
});

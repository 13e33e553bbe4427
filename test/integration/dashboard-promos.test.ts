/**
 * The owner adds promo codes and switches codes off and on in the dashboard (issue 21, point 4), and
 * customers meet the change at their next message: a code added there is applied with its discount, a
 * code switched off is refused as unknown, on every instance sharing the store. The form checks a code
 * by the catalog file's rules and words, and keeps nothing it refused.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { SESSION_COOKIE } from "../../src/dashboard/auth.ts";
import type { EngineReply } from "../../src/engine/reply.ts";
import type { HttpResponse } from "../../src/http/server.ts";
import { ADMIN_TOKEN, type Shop, openShop } from "../support/dashboard-shop.ts";

const CATALOG_FILE = "test/fixtures/catalog-two-products.yaml";
const HOST = "shop.example";

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

async function shop(env: Record<string, string> = {}): Promise<Shop> {
  const opened = await openShop({ CATALOG_FILE, PUBLIC_URL: `https://${HOST}`, ...env });
  cleanups.push(() => opened.app.close());
  return opened;
}

/** The owner, signed in to one shop's dashboard through its HTTP routes. */
async function owner(s: Shop) {
  const send = (method: "GET" | "POST", path: string, headers: Record<string, string>, body?: string): Promise<HttpResponse> =>
    s.app.http.dispatch({
      method,
      path: path.split("?")[0]!,
      query: new URLSearchParams(path.split("?")[1] ?? ""),
      headers: {
        host: HOST,
        origin: `https://${HOST}`,
        ...(body !== undefined ? { "content-type": "application/x-www-form-urlencoded" } : {}),
        ...headers,
      },
      rawBody: Buffer.from(body ?? ""),
    });
  const signedIn = await send("POST", "/admin/login", {}, `token=${encodeURIComponent(ADMIN_TOKEN)}`);
  expect(signedIn.status).toBe(303);
  const cookie = `${SESSION_COOKIE}=${/^tg_admin=([^;]*)/.exec(signedIn.headers?.["set-cookie"] ?? "")?.[1] ?? ""}`;
  const page = async (path = "/admin/promos") => {
    const response = await send("GET", path, { cookie });
    expect(response.status).toBe(200);
    return String(response.body);
  };
  const csrf = /name="csrf" value="([^"]+)"/.exec(await page())?.[1] ?? "";
  const post = (path: string, fields: Record<string, string> = {}) =>
    send("POST", path, { cookie }, new URLSearchParams({ csrf, ...fields }).toString());
  return { page, post };
}

const ADD = { code: "WINTER3", kind: "usd", amount: "3.00", max_uses: "2", expires: "", products: "gpt-tokens" };

function discountOf(reply: EngineReply): number | null {
  if (reply.kind !== "order") return null;
  return reply.order.breakdown?.promoCode ? reply.order.breakdown.discount.minor : null;
}
function refusalOf(reply: EngineReply): string | null {
  return reply.kind === "order" && reply.order.problem === "promo_refused" ? reply.order.promoRefusal : null;
}

describe("promo codes the owner manages in the dashboard (issue 21, point 4)", () => {
  it("lists the catalog file's codes with their terms, uses and where they come from", async () => {
    const s = await shop();
    const html = await (await owner(s)).page();
    for (const code of ["SPRING10", "WELCOME5", "OLD"]) expect(html).toContain(`<code>${code}</code>`);
    expect(html).toContain("10% off");
    expect(html).toContain("$5.00 off");
    expect(html).toContain("0 of 1");
    // OLD's file says expires: "2020-01-01", valid through that day.
    expect(html).toContain("through 2020-01-01");
    expect(html).toContain("catalog file");
    expect(html).toContain('aria-current="page">Promo codes');
  });

  it("a code added in the dashboard is applied to the next customer's quote, with its discount in exact cents", async () => {
    const s = await shop();
    const o = await owner(s);
    const added = await o.post("/admin/promos", ADD);
    expect(added.status).toBe(303);
    expect(added.headers?.location).toMatch(/^\/admin\/promos\?notice=/);
    const html = await o.page(added.headers!.location!);
    expect(html).toContain("WINTER3 added");
    expect(html).toContain("<code>WINTER3</code>");
    expect(html).toContain("$3.00 off");
    expect(html).toContain("0 of 2");

    await s.app.engine.handleText("c1", "1000 gpt tokens");
    const quoted = await s.app.engine.handleText("c1", "promo winter3");
    expect(discountOf(quoted)).toBe(300);
    expect(quoted.kind === "order" ? quoted.order.usd?.minor : null).toBe(2_000 - 300);
    // Given before any amount, the reply says what it takes off (the code is not in the catalog file).
    const early = await s.app.engine.handleText("c3", "promo WINTER3");
    expect(s.app.renderer.render(early).text).toContain("Promo code WINTER3 applied: $3.00 off your order.");
    // The code is for GPT tokens only, as the form said.
    await s.app.engine.handleText("c2", "1000 openrouter");
    expect(refusalOf(await s.app.engine.handleText("c2", "promo WINTER3"))).toBe("wrong_product");
  });

  it("a form with a mistake is answered with the field and what to write, and keeps nothing", async () => {
    const s = await shop();
    const o = await owner(s);
    const cases: [Record<string, string>, string][] = [
      [{ ...ADD, code: "WINTER3", kind: "percent", amount: "150" }, "percent_off must be a whole percentage from 1 to 100"],
      [{ ...ADD, code: "WINTER3", amount: "three" }, 'usd_off must be a dollar amount like "20.00"'],
      [{ ...ADD, code: "W!" }, "code must be 2 to 32 letters, digits, _ or -"],
      [{ ...ADD, expires: "next week" }, 'expires must be a date like "2027-01-31"'],
      [{ ...ADD, products: "claude" }, 'names "claude", which is not a product here'],
    ];
    for (const [fields, said] of cases) {
      const refused = await o.post("/admin/promos", fields);
      expect(refused.status, said).toBe(400);
      expect(String(refused.body)).toContain(said.replace(/"/g, "&quot;"));
      // What the owner typed is still in the form.
      expect(String(refused.body)).toContain(`value="${fields.code}"`);
    }
    expect(await o.page()).not.toContain("<code>WINTER3</code>");
    await s.app.engine.handleText("c1", "1000 gpt tokens");
    expect(refusalOf(await s.app.engine.handleText("c1", "promo WINTER3"))).toBe("unknown");
  });

  it("a code switched off is refused as unknown from the next message on, and works again when switched on", async () => {
    const s = await shop();
    const o = await owner(s);
    expect((await o.post("/admin/promos/SPRING10/disable")).status).toBe(303);
    expect(await o.page()).toMatch(/<code>SPRING10<\/code>.*<td>off<\/td>/);
    await s.app.engine.handleText("c1", "1000 gpt tokens");
    expect(refusalOf(await s.app.engine.handleText("c1", "promo SPRING10"))).toBe("unknown");

    expect((await o.post("/admin/promos/spring10/enable")).status).toBe(303);
    expect(discountOf(await s.app.engine.handleText("c1", "promo SPRING10"))).toBe(200);
    expect((await o.post("/admin/promos/NOSUCH/disable")).status).toBe(404);
  });

  it("a code switched off between the quote and Confirm is not reserved: the invoice is priced without it", async () => {
    const s = await shop();
    const o = await owner(s);
    await s.app.engine.handleText("c1", "1000 gpt tokens");
    expect(discountOf(await s.app.engine.handleText("c1", "promo SPRING10"))).toBe(200);
    await o.post("/admin/promos/SPRING10/disable");
    const confirmed = await s.app.engine.handleText("c1", "yes");
    expect(confirmed.kind === "order" ? confirmed.order.usd?.minor : null).toBe(2_000);
    expect(discountOf(confirmed)).toBeNull();
  });

  it("a change made on one instance is applied by another instance on the same store at once", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tokengoblin-promos-"));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const STORE_URL = `sqlite://${join(dir, "shop.sqlite")}`;
    const first = await shop({ STORE_URL });
    const second = await shop({ STORE_URL });
    const o = await owner(first);
    expect((await o.post("/admin/promos", { ...ADD, code: "SHARED25", kind: "percent", amount: "25", products: "" })).status).toBe(303);
    await second.app.engine.handleText("c9", "1000 gpt tokens");
    expect(discountOf(await second.app.engine.handleText("c9", "promo SHARED25"))).toBe(500);
    await o.post("/admin/promos/SHARED25/disable");
    await second.app.engine.handleText("c8", "2000 gpt tokens");
    expect(refusalOf(await second.app.engine.handleText("c8", "promo SHARED25"))).toBe("unknown");
  });
});

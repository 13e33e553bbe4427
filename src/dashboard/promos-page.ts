/**
 * The owner's promo codes page: every code (the catalog file's and the dashboard's) with its terms,
 * uses so far and a switch, and a form that adds a code with the same fields and checks as the file.
 */
import { money } from "../domain/money.ts";
import type { PromoRow } from "../domain/owner-promos.ts";
import { normalizePromoCode } from "../domain/promos.ts";
import type { Product, Promo } from "../domain/products.ts";
import { csrfField, esc, money as usd } from "./html.ts";

/** What the owner typed into the form, shown again beside its error. */
export type PromoForm = Record<"code" | "kind" | "amount" | "max_uses" | "expires" | "products", string> & { once_per_customer: boolean };

export const EMPTY_PROMO_FORM: PromoForm = {
  code: "",
  kind: "percent",
  amount: "",
  max_uses: "",
  expires: "",
  products: "",
  once_per_customer: false,
};

const discountOf = (promo: Promo) =>
  promo.discount.kind === "percent" ? `${promo.discount.percent}% off` : `${usd(money(promo.discount.usdCents, "USD"))} off`;

const DAY_MS = 24 * 60 * 60_000;

/** When a code stops working, as the owner wrote it: a date means through that day (UTC), else the instant. */
const expiry = (promo: Promo) => {
  if (promo.expiresAt === null) return "never";
  if (promo.expiresAt % DAY_MS === 0) return `through ${new Date(promo.expiresAt - DAY_MS).toISOString().slice(0, 10)}`;
  return `at ${new Date(promo.expiresAt).toISOString().replace(".000Z", "Z")}`;
};

function row(line: PromoRow, uses: number, csrf: string): string {
  const { promo } = line;
  const code = encodeURIComponent(promo.code);
  const switchForm = `<form method="post" action="/admin/promos/${code}/${line.disabled ? "enable" : "disable"}" class="inline">${csrfField(csrf)}<button class="secondary">${line.disabled ? "Switch on" : "Switch off"}</button></form>`;
  const limit = promo.maxUses === null ? "" : ` of ${promo.maxUses}`;
  return (
    `<tr${line.disabled ? ' class="muted"' : ""}><td><code>${esc(promo.code)}</code></td><td>${esc(discountOf(promo))}</td>` +
    `<td class="num">${uses}${limit}</td><td>${esc(expiry(promo))}</td><td>${promo.oncePerCustomer ? "once per customer" : ""}</td>` +
    `<td>${esc(promo.products?.join(", ") ?? "every product")}</td><td>${line.source === "file" ? "catalog file" : "dashboard"}</td>` +
    `<td>${line.disabled ? "off" : "on"}</td><td>${switchForm}</td></tr>`
  );
}

function addForm(products: readonly Product[], csrf: string, form: PromoForm, error: string | null): string {
  const value = (name: keyof Omit<PromoForm, "once_per_customer">) => esc(form[name]);
  const kind = (k: string, label: string) => `<option value="${k}"${form.kind === k ? " selected" : ""}>${label}</option>`;
  return `<section class="card wide" id="add"><h2>Add a code</h2>
${error ? `<p class="notice bad" role="alert">${esc(error)}</p>` : ""}
<form method="post" action="/admin/promos" class="filters">${csrfField(csrf)}
<label>Code<input name="code" value="${value("code")}" required pattern="[A-Za-z0-9_-]{2,32}" placeholder="SPRING10"></label>
<label>Discount<select name="kind">${kind("percent", "percent off")}${kind("usd", "US dollars off")}</select></label>
<label>Amount<input name="amount" value="${value("amount")}" required placeholder="10 or 5.00"></label>
<label>Uses allowed<input name="max_uses" value="${value("max_uses")}" inputmode="numeric" placeholder="unlimited"></label>
<label>Last day (UTC)<input name="expires" value="${value("expires")}" placeholder="2027-01-31"></label>
<label>Products<input name="products" value="${value("products")}" placeholder="every product (${esc(products.map((p) => p.id).join(", "))})"></label>
<label><span><input type="checkbox" name="once_per_customer" value="1"${form.once_per_customer ? " checked" : ""}> once per customer</span></label>
<button>Add code</button></form>
<p class="muted">The same fields as the catalog file's <code>promos</code> (docs/catalog.md). A code added here with the name of a file code replaces it; switching a code off refuses it from the next message on, in every instance.</p></section>`;
}

/** The page body. `uses`: orders holding a use of each code (paid, or reserved by an open invoice), by normalized code. */
export function promosPage(input: {
  rows: readonly PromoRow[];
  uses: ReadonlyMap<string, number>;
  products: readonly Product[];
  csrf: string;
  notice: string | null;
  form?: PromoForm;
  error?: string | null;
}): string {
  const table =
    input.rows.length === 0
      ? `<p class="muted">No promo codes yet: add one below, or list them under <code>promos</code> in the catalog file.</p>`
      : `<div class="scroll"><table><tr><th>code</th><th>discount</th><th class="num">uses</th><th>expires</th><th></th><th>products</th><th>from</th><th>state</th><th></th></tr>` +
        input.rows.map((line) => row(line, input.uses.get(normalizePromoCode(line.promo.code)) ?? 0, input.csrf)).join("") +
        `</table></div>`;
  return `<h1>Promo codes</h1>
${input.notice ? `<p class="notice" role="status">${esc(input.notice)}</p>` : ""}
<section class="card wide"><h2>Codes</h2>${table}<p class="muted">Uses count orders that were paid with the code or hold it on an open invoice.</p></section>
${addForm(input.products, input.csrf, input.form ?? EMPTY_PROMO_FORM, input.error ?? null)}`;
}

/** The form as the catalog file writes a promo, for `parsePromo`. */
export function promoFromForm(form: PromoForm): Record<string, unknown> {
  const raw: Record<string, unknown> = { code: form.code.trim() };
  const amount = form.amount.trim();
  if (form.kind === "usd") raw.usd_off = amount;
  else raw.percent_off = /^\d+$/.test(amount) ? Number(amount) : amount;
  if (form.max_uses.trim() !== "") raw.max_uses = /^\d+$/.test(form.max_uses.trim()) ? Number(form.max_uses.trim()) : form.max_uses.trim();
  if (form.expires.trim() !== "") raw.expires = form.expires.trim();
  if (form.once_per_customer) raw.once_per_customer = true;
  const products = form.products
    .split(/[\s,]+/)
    .map((id) => id.trim())
    .filter((id) => id !== "");
  if (products.length > 0) raw.products = products;
  return raw;
}

/** The form's fields from a posted body. */
export function readPromoForm(body: URLSearchParams): PromoForm {
  const text = (name: string) => (body.get(name) ?? "").slice(0, 200);
  return {
    code: text("code"),
    kind: text("kind") === "usd" ? "usd" : "percent",
    amount: text("amount"),
    max_uses: text("max_uses"),
    expires: text("expires"),
    products: text("products"),
    once_per_customer: body.get("once_per_customer") === "1",
  };
}

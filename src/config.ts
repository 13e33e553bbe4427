/**
 * Runtime configuration from the environment, validated once at start-up. A bad value stops start-up
 * with one line naming the variable (see {@link ConfigError}); nothing else reads `process.env`.
 */
import { z } from "zod";
import { type Catalog, DEFAULT_CATALOG, builtInShop, singleProductView } from "./domain/catalog.ts";
import { readCatalogFile } from "./domain/catalog-file.ts";
import type { ShopCatalog } from "./domain/products.ts";
import { parseMoney } from "./domain/money.ts";
import { faqProblem } from "./faq/index.ts";
import { parseTrustedProxies } from "./http/client-address.ts";
import { REFERENCE_LANGUAGE, availableLanguages } from "./i18n/localization.ts";
import { type StoreLocation, parseStoreUrl } from "./store/index.ts";

/** A configuration problem, worded for the operator. `variable` is the environment variable at fault. */
export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    detail: string,
  ) {
    super(`${variable}: ${detail}`);
    this.name = "ConfigError";
  }
}

const optionalText = z
  .string()
  .transform((text) => text.trim())
  .optional()
  .transform((text) => (text ? text : undefined));
const integer = (fallback: number, min: number, max: number) =>
  z
    .string()
    .optional()
    .transform((text, ctx) => {
      if (text === undefined || text.trim() === "") return fallback;
      if (!/^\d+$/.test(text.trim())) {
        ctx.addIssue({ code: "custom", message: `must be a whole number between ${min} and ${max}` });
        return z.NEVER;
      }
      const value = Number(text.trim());
      if (value < min || value > max) {
        ctx.addIssue({ code: "custom", message: `must be between ${min} and ${max}, got ${value}` });
        return z.NEVER;
      }
      return value;
    });
/** An http(s) URL without its trailing slashes, or nothing when unset. */
const optionalUrl = () =>
  z
    .string()
    .optional()
    .transform((text, ctx) => {
      const value = text?.trim();
      if (!value) return undefined;
      try {
        const parsed = new URL(value);
        if (!/^https?:$/.test(parsed.protocol)) throw new Error("not http");
        return value.replace(/\/+$/, "");
      } catch {
        ctx.addIssue({ code: "custom", message: `must be an http(s) URL, got "${value}"` });
        return z.NEVER;
      }
    });
/** An http(s) URL, `fallback` when unset. */
const url = (fallback: string) => optionalUrl().transform((value) => value ?? fallback);

const Env = z.object({
  TELEGRAM_BOT_TOKEN: optionalText,
  TELEGRAM_API_ROOT: url("https://api.telegram.org"),
  TELEGRAM_WEBHOOK_URL: optionalUrl(),
  TELEGRAM_WEBHOOK_SECRET: optionalText.refine((s) => s === undefined || /^[A-Za-z0-9_-]{1,256}$/.test(s), {
    message: "may contain only A-Z, a-z, 0-9, _ and - (1 to 256 characters), as Telegram requires",
  }),
  LLM_API_KEY: optionalText,
  OPENROUTER_API_KEY: optionalText,
  LLM_BASE_URL: url("https://openrouter.ai/api/v1"),
  LLM_MODEL: optionalText.transform((s) => s ?? "openai/gpt-4o-mini"),
  LLM_TIMEOUT_MS: integer(4000, 100, 120_000),
  LLM_TEMPERATURE: optionalText.refine((s) => s === undefined || /^(0(\.\d+)?|1(\.0+)?|2(\.0+)?|1\.\d+)$/.test(s), {
    message: "must be a number from 0 to 2",
  }),
  STORE_URL: optionalText.transform((text, ctx) => {
    const url = text ?? "sqlite://./data/tokengoblin.sqlite";
    const location = parseStoreUrl(url);
    if (!location) ctx.addIssue({ code: "custom", message: `must be sqlite://path, redis://host:port or memory://, got "${url}"` });
    return location ?? z.NEVER;
  }),
  PAYMENT_PROVIDER: optionalText.pipe(z.enum(["sandbox", "cryptopay", "stars"]).optional()).transform((s) => s ?? "sandbox"),
  LATE_PAYMENT: optionalText.pipe(z.enum(["deliver", "refund"]).optional()).transform((s) => s ?? "deliver"),
  CRYPTOPAY_TOKEN: optionalText,
  CRYPTOPAY_API_URL: url("https://pay.crypt.bot/api"),
  CRYPTOPAY_CURRENCY: optionalText.pipe(z.enum(["USD", "USDT"]).optional()).transform((s) => s ?? "USD"),
  DELIVERY_PROVIDER: optionalText.pipe(z.enum(["sandbox", "openrouter"]).optional()).transform((s) => s ?? "sandbox"),
  OPENROUTER_PROVISIONING_KEY: optionalText,
  OPENROUTER_API_URL: url("https://openrouter.ai/api/v1"),
  HTTP_PORT: integer(8080, 0, 65535),
  PUBLIC_URL: optionalUrl(),
  TRUSTED_PROXY: optionalText.transform((text, ctx) => {
    const parsed = parseTrustedProxies(text ?? "");
    if (parsed.ok) return parsed.proxies;
    ctx.addIssue({
      code: "custom",
      message: `must be a comma-separated list of IP addresses or networks of the proxies in front of this server (like 127.0.0.1 or 10.0.0.0/8), got "${parsed.bad}"`,
    });
    return z.NEVER;
  }),
  STARTUP_TIMEOUT_MS: integer(10_000, 100, 600_000),
  PRICE_PER_1K_TOKENS: optionalText.transform((text, ctx) => {
    const price = parseMoney(text ?? "20.00", "USD");
    if (!price.ok || price.value.minor === 0) {
      ctx.addIssue({ code: "custom", message: "must be a positive USD amount with at most 2 decimals, like 20.00" });
      return z.NEVER;
    }
    return price.value;
  }),
  MIN_TOKENS: integer(DEFAULT_CATALOG.minTokens, 1, Number.MAX_SAFE_INTEGER),
  MAX_TOKENS: integer(DEFAULT_CATALOG.maxTokens, 1, 1_000_000_000),
  STARS_PER_USD: integer(DEFAULT_CATALOG.starsPerUsd, 1, 100_000),
  /** The owner's catalog file, read and checked here; its Stars rate is STARS_PER_USD's (set below). */
  CATALOG_FILE: optionalText.transform((path, ctx) => {
    if (path === undefined) return undefined;
    const read = readCatalogFile(path, { starsPerUsd: DEFAULT_CATALOG.starsPerUsd });
    if (read.ok) return read.shop;
    ctx.addIssue({ code: "custom", message: read.error });
    return z.NEVER;
  }),
  QUOTE_TTL_MINUTES: integer(15, 1, 24 * 60),
  PAYMENT_TTL_MINUTES: integer(60, 1, 7 * 24 * 60),
  CONVERSATION_TIMEOUT_MINUTES: integer(30, 1, 7 * 24 * 60),
  DELIVERY_MAX_ATTEMPTS: integer(5, 1, 50),
  MAX_MESSAGE_LENGTH: integer(2000, 10, 4096),
  ADMIN_CHAT_IDS: optionalText.refine((s) => s === undefined || /^-?\d+(\s*,\s*-?\d+)*$/.test(s), {
    message: "must be a comma-separated list of numeric Telegram chat ids",
  }),
  INSPECT: optionalText,
  INSTANCE_ID: optionalText.refine((s) => s === undefined || /^[A-Za-z0-9_.:-]{1,64}$/.test(s), {
    message: "may contain only letters, digits, _ . : - (1 to 64 characters)",
  }),
  ALLOW_SANDBOX_PAYMENTS_WITH_REAL_DELIVERY: optionalText,
  DEFAULT_LANGUAGE: optionalText
    .transform((s) => s ?? REFERENCE_LANGUAGE)
    .refine((s) => availableLanguages().includes(s), {
      message: `must be a language with a file in locales/ (${availableLanguages().join(", ")})`,
    }),
  FAQ_DIR: optionalText.superRefine((dir, ctx) => {
    const problem = dir === undefined ? null : faqProblem(dir);
    if (problem) ctx.addIssue({ code: "custom", message: `must be a folder of FAQ files (en.ftl, ru.ftl…): ${problem}` });
  }),
  ADMIN_TOKEN: optionalText.refine((s) => s === undefined || s.length >= 16, {
    message: "must be at least 16 characters (it guards the web dashboard)",
  }),
});

/** A cross-check between variables, reported against the variable to fix. */
function check(ctx: z.RefinementCtx, ok: boolean, variable: string, message: string): void {
  if (!ok) ctx.addIssue({ code: "custom", path: [variable], message });
}

const MINUTE = 60_000;

/**
 * The whole configuration: the environment's variables, checked one by one (`Env`) and against each
 * other, then shaped into what the product reads. Provider settings are a union on `provider`, so a
 * provider's required secret is a plain `string` wherever that provider is chosen.
 */
const ConfigSchema = Env.superRefine((e, ctx) => {
  check(ctx, e.MIN_TOKENS <= e.MAX_TOKENS, "MIN_TOKENS", `must not exceed MAX_TOKENS (${e.MAX_TOKENS})`);
  check(
    ctx,
    e.PAYMENT_PROVIDER !== "cryptopay" || e.CRYPTOPAY_TOKEN !== undefined,
    "CRYPTOPAY_TOKEN",
    "is required when PAYMENT_PROVIDER=cryptopay (get one from @CryptoBot → Crypto Pay)",
  );
  check(
    ctx,
    e.PAYMENT_PROVIDER !== "stars" || e.TELEGRAM_BOT_TOKEN !== undefined,
    "TELEGRAM_BOT_TOKEN",
    "is required when PAYMENT_PROVIDER=stars (Stars invoices are sent by the bot)",
  );
  check(
    ctx,
    e.DELIVERY_PROVIDER !== "openrouter" || e.OPENROUTER_PROVISIONING_KEY !== undefined,
    "OPENROUTER_PROVISIONING_KEY",
    "is required when DELIVERY_PROVIDER=openrouter",
  );
  // Anyone can press Pay on the sandbox page: real goods behind it would give the shop away.
  check(
    ctx,
    e.DELIVERY_PROVIDER === "sandbox" || e.PAYMENT_PROVIDER !== "sandbox" || e.ALLOW_SANDBOX_PAYMENTS_WITH_REAL_DELIVERY === "1",
    "PAYMENT_PROVIDER",
    `is sandbox (anyone can press Pay) while DELIVERY_PROVIDER=${e.DELIVERY_PROVIDER} issues real goods; ` +
      "set PAYMENT_PROVIDER=cryptopay or stars (or, for a test setup only, ALLOW_SANDBOX_PAYMENTS_WITH_REAL_DELIVERY=1)",
  );
  check(
    ctx,
    !e.TELEGRAM_WEBHOOK_URL || e.TELEGRAM_WEBHOOK_SECRET !== undefined,
    "TELEGRAM_WEBHOOK_SECRET",
    "is required with TELEGRAM_WEBHOOK_URL so forged updates are refused",
  );
}).transform((e) => {
  const packages = DEFAULT_CATALOG.packages.filter((p) => p >= e.MIN_TOKENS && p <= e.MAX_TOKENS);
  const builtIn = {
    pricePer1kUsdCents: e.PRICE_PER_1K_TOKENS.minor,
    minTokens: e.MIN_TOKENS,
    maxTokens: e.MAX_TOKENS,
    packages: packages.length > 0 ? packages : [e.MIN_TOKENS],
    starsPerUsd: e.STARS_PER_USD,
  };
  // Without a file the shop is the one product of PRICE_PER_1K_TOKENS…, delivered as DELIVERY_PROVIDER issues goods.
  const shop: ShopCatalog = e.CATALOG_FILE
    ? { ...e.CATALOG_FILE, starsPerUsd: e.STARS_PER_USD }
    : builtInShop(builtIn, e.DELIVERY_PROVIDER === "openrouter" ? "openrouter_key" : "voucher");
  const payments =
    e.PAYMENT_PROVIDER === "cryptopay" && e.CRYPTOPAY_TOKEN !== undefined
      ? {
          provider: "cryptopay" as const,
          cryptopayToken: e.CRYPTOPAY_TOKEN,
          cryptopayApiUrl: e.CRYPTOPAY_API_URL,
          /** USD: fiat invoices in dollars (paid in any accepted crypto); USDT: crypto invoices in USDT. */
          cryptopayCurrency: e.CRYPTOPAY_CURRENCY,
        }
      : { provider: e.PAYMENT_PROVIDER === "stars" ? ("stars" as const) : ("sandbox" as const) };
  const delivery =
    e.DELIVERY_PROVIDER === "openrouter" && e.OPENROUTER_PROVISIONING_KEY !== undefined
      ? {
          provider: "openrouter" as const,
          provisioningKey: e.OPENROUTER_PROVISIONING_KEY,
          openrouterApiUrl: e.OPENROUTER_API_URL,
          maxAttempts: e.DELIVERY_MAX_ATTEMPTS,
        }
      : { provider: "sandbox" as const, maxAttempts: e.DELIVERY_MAX_ATTEMPTS };
  return {
    telegram: {
      token: e.TELEGRAM_BOT_TOKEN,
      apiRoot: e.TELEGRAM_API_ROOT,
      webhookUrl: e.TELEGRAM_WEBHOOK_URL,
      webhookSecret: e.TELEGRAM_WEBHOOK_SECRET,
    },
    llm: {
      apiKey: e.LLM_API_KEY ?? e.OPENROUTER_API_KEY,
      baseUrl: e.LLM_BASE_URL,
      model: e.LLM_MODEL,
      timeoutMs: e.LLM_TIMEOUT_MS,
      temperature: e.LLM_TEMPERATURE === undefined ? 0 : Number(e.LLM_TEMPERATURE),
    },
    store: e.STORE_URL,
    payments,
    /**
     * Money that arrives for a cancelled or expired order: `deliver` the goods (only when it matches the
     * quote) or `refund` it (through the provider where it can, else an admin is alerted).
     */
    latePayment: e.LATE_PAYMENT,
    delivery,
    /**
     * `publicUrl` unset → `http://localhost:<the port actually listened on>`. `trustedProxies`: the only
     * peers whose `X-Forwarded-For` is believed (empty: none).
     */
    http: { port: e.HTTP_PORT, publicUrl: e.PUBLIC_URL, trustedProxies: e.TRUSTED_PROXY },
    /** How long start-up waits for the store and the Bot API before it gives up with one line. */
    startupTimeoutMs: e.STARTUP_TIMEOUT_MS,
    /**
     * The shop's default product (the first of CATALOG_FILE, or the built-in one) as today's callers
     * read a catalog; `catalog.shop` is the whole shop.
     */
    catalog: singleProductView(shop) satisfies Catalog,
    /** Every product and promo code: CATALOG_FILE's, or the one built-in product and no codes. */
    shop,
    deadlines: {
      quoteTtlMs: e.QUOTE_TTL_MINUTES * MINUTE,
      paymentTtlMs: e.PAYMENT_TTL_MINUTES * MINUTE,
      conversationTimeoutMs: e.CONVERSATION_TIMEOUT_MINUTES * MINUTE,
    },
    maxMessageLength: e.MAX_MESSAGE_LENGTH,
    adminChatIds: e.ADMIN_CHAT_IDS ? e.ADMIN_CHAT_IDS.split(",").map((id) => id.trim()) : [],
    /** Turns on the owner's web dashboard at /admin; unset → /admin answers 404. */
    adminToken: e.ADMIN_TOKEN,
    inspect: e.INSPECT === "1" || e.INSPECT === "true",
    /** This process's name in leases and claims (`INSTANCE_ID`); `npm start` defaults it to host:port. */
    instanceId: e.INSTANCE_ID,
    /** Language for customers whose own language has no file in `locales/`. */
    defaultLanguage: e.DEFAULT_LANGUAGE,
    /** The owner's FAQ folder (`<language>.ftl` files); unset → the shipped `faq/`. */
    faqDir: e.FAQ_DIR,
  };
});

/** The product's configuration: the output of {@link ConfigSchema}, never a parallel hand-written type. */
export type Config = z.output<typeof ConfigSchema>;

/** Reads and validates the environment. Throws {@link ConfigError} naming the first bad variable. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const parsed = ConfigSchema.safeParse(env);
  if (parsed.success) return parsed.data;
  const [issue] = parsed.error.issues;
  throw new ConfigError(String(issue?.path[0] ?? "environment"), issue?.message ?? "is invalid");
}

const StoreSettings = Env.pick({ STORE_URL: true, STARTUP_TIMEOUT_MS: true });

/**
 * Only the store settings (`STORE_URL`, `STARTUP_TIMEOUT_MS`), read exactly as {@link loadConfig} reads
 * them: for the store tools (backup, restore), which must work even while another setting is wrong.
 */
export function loadStoreSettings(env: Record<string, string | undefined> = process.env): {
  store: StoreLocation;
  startupTimeoutMs: number;
} {
  const parsed = StoreSettings.safeParse(env);
  if (parsed.success) return { store: parsed.data.STORE_URL, startupTimeoutMs: parsed.data.STARTUP_TIMEOUT_MS };
  const [issue] = parsed.error.issues;
  throw new ConfigError(String(issue?.path[0] ?? "environment"), issue?.message ?? "is invalid");
}

import { describe, expect, test } from "vitest";
import { ConfigError, loadConfig } from "../../src/config.ts";

describe("configuration", () => {
  test("runs on embedded defaults with an empty environment", () => {
    const config = loadConfig({});
    expect(config.store).toEqual({ kind: "sqlite", path: "./data/tokengoblin.sqlite" });
    expect(config.payments.provider).toBe("sandbox");
    expect(config.delivery.provider).toBe("sandbox");
    expect(config.catalog.pricePer1kUsdCents).toBe(2000);
    expect(config.catalog.minTokens).toBe(100);
    expect(config.catalog.maxTokens).toBe(1_000_000);
    expect(config.deadlines).toEqual({ quoteTtlMs: 15 * 60_000, paymentTtlMs: 60 * 60_000, conversationTimeoutMs: 30 * 60_000 });
    expect(config.llm.apiKey).toBeUndefined();
    expect(config.llm.timeoutMs).toBe(4000);
    expect(config.http.port).toBe(8080);
  });

  test("accepts OPENROUTER_API_KEY as an alias of LLM_API_KEY", () => {
    expect(loadConfig({ OPENROUTER_API_KEY: "k" }).llm.apiKey).toBe("k");
  });

  test("answers in English unless DEFAULT_LANGUAGE names a language in locales/", () => {
    expect(loadConfig({}).defaultLanguage).toBe("en");
    expect(loadConfig({ DEFAULT_LANGUAGE: "ru" }).defaultLanguage).toBe("ru");
  });

  test("reads the price as exact cents", () => {
    expect(loadConfig({ PRICE_PER_1K_TOKENS: "19.99" }).catalog.pricePer1kUsdCents).toBe(1999);
  });

  test.each([
    [{ PRICE_PER_1K_TOKENS: "twenty" }, "PRICE_PER_1K_TOKENS"],
    [{ PRICE_PER_1K_TOKENS: "20.001" }, "PRICE_PER_1K_TOKENS"],
    [{ MIN_TOKENS: "-3" }, "MIN_TOKENS"],
    [{ MIN_TOKENS: "5000", MAX_TOKENS: "100" }, "MIN_TOKENS"],
    [{ HTTP_PORT: "99999" }, "HTTP_PORT"],
    [{ STORE_URL: "mysql://x" }, "STORE_URL"],
    [{ PAYMENT_PROVIDER: "paypal" }, "PAYMENT_PROVIDER"],
    [{ PAYMENT_PROVIDER: "cryptopay" }, "CRYPTOPAY_TOKEN"],
    [{ LATE_PAYMENT: "keep" }, "LATE_PAYMENT"],
    [{ LLM_BASE_URL: "not a url" }, "LLM_BASE_URL"],
    [{ TELEGRAM_WEBHOOK_URL: "https://shop.example.com/tg" }, "TELEGRAM_WEBHOOK_SECRET"],
    [{ ADMIN_CHAT_IDS: "alice" }, "ADMIN_CHAT_IDS"],
    [{ DEFAULT_LANGUAGE: "klingon" }, "DEFAULT_LANGUAGE"],
  ])("stops start-up naming the bad variable: %j", (env, variable) => {
    let error: unknown;
    try {
      loadConfig(env);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).variable).toBe(variable);
    expect((error as ConfigError).message.split("\n")).toHaveLength(1);
  });
});

describe("sandbox payments never release real goods (issue 11)", () => {
  test("real delivery with sandbox payments stops start-up naming PAYMENT_PROVIDER", () => {
    const env = { DELIVERY_PROVIDER: "openrouter", OPENROUTER_PROVISIONING_KEY: "sk-or-v1-x" };
    let error: unknown;
    try {
      loadConfig(env);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).variable).toBe("PAYMENT_PROVIDER");
    expect((error as Error).message).toMatch(/anyone can press Pay/);
  });

  test("only the documented test flag allows it", () => {
    const config = loadConfig({
      DELIVERY_PROVIDER: "openrouter",
      OPENROUTER_PROVISIONING_KEY: "sk-or-v1-x",
      ALLOW_SANDBOX_PAYMENTS_WITH_REAL_DELIVERY: "1",
    });
    expect(config.payments.provider).toBe("sandbox");
    expect(config.delivery.provider).toBe("openrouter");
  });
});

test("LATE_PAYMENT defaults to deliver and takes refund", () => {
  expect(loadConfig({}).latePayment).toBe("deliver");
  expect(loadConfig({ LATE_PAYMENT: "refund" }).latePayment).toBe("refund");
});

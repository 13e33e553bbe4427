import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import { ConfigError, loadConfig } from "../../../src/config.ts";
import { FaqTopic } from "../../../src/domain/faq.ts";
import { loadFaq } from "../../../src/faq/index.ts";
import { loadLocalization } from "../../../src/i18n/index.ts";
import { startTestApp } from "../../support/app.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function ownerFaq(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), "tokengoblin-faq-"));
  dirs.push(dir);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

describe("the shipped FAQ", () => {
  test.each(loadLocalization().languages)("answers every topic in %s, in its own words", (language) => {
    const faq = loadFaq();
    for (const topic of FaqTopic.options) {
      const answer = faq.answer(language, topic, { price: "$20.00", per: "1,000", limits: "100 to 1,000,000 tokens" });
      expect(answer.length).toBeGreaterThan(20);
      expect(answer).not.toMatch(/[<>&]/); // Telegram reads replies as HTML
      if (language !== "en") expect(answer).not.toBe(faq.answer("en", topic, { price: "$20.00", per: "1,000", limits: "x" }));
    }
  });

  test("the price answer is filled from the catalog", () => {
    expect(loadFaq().answer("en", "price", { price: "$20.00", per: "1,000", limits: "100 to 1,000,000 tokens" })).toContain(
      "$20.00 per 1,000 tokens",
    );
  });
});

describe("the owner's FAQ (FAQ_DIR)", () => {
  test("the owner's words win; a topic the owner left out falls back to the shipped answer", () => {
    const faq = loadFaq({ dir: ownerFaq({ "en.ftl": "refunds = Write to @owner within 7 days.\n" }) });
    expect(faq.answer("en", "refunds")).toBe("Write to @owner within 7 days.");
    expect(faq.answer("en", "validity")).toContain("don't expire");
    expect(faq.answer("ru", "refunds")).toContain("вернут"); // no Russian file of the owner's: the shipped Russian
  });

  test("a customer's question is answered in the owner's words", async () => {
    const { app } = await startTestApp({ FAQ_DIR: ownerFaq({ "en.ftl": "refunds = Write to @owner within 7 days.\n" }) });
    try {
      const reply = await app.engine.handleText("c1", "can I get a refund?");
      expect(app.renderer.render(reply).text).toContain("Write to @owner within 7 days.");
    } finally {
      await app.close();
    }
  });

  test.each([
    ["a missing folder", () => "/nonexistent/faq"],
    ["an unknown topic", () => ownerFaq({ "en.ftl": "weather = sunny\n" })],
    ["a file that does not parse", () => ownerFaq({ "en.ftl": "refunds = { $\n" })],
  ])("%s stops start-up with one line naming FAQ_DIR", (_, dir) => {
    try {
      loadConfig({ FAQ_DIR: dir() });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).variable).toBe("FAQ_DIR");
      expect(String((error as Error).message)).not.toContain("\n");
    }
  });
});

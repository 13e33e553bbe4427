import { describe, expect, test } from "vitest";
import { LanguagePreference } from "../../../src/domain/preferences.ts";
import { createLanguagePreferences, loadLocalization } from "../../../src/i18n/index.ts";
import { collectionOf, openStore } from "../../../src/store/index.ts";

async function setUp() {
  const store = await openStore({ kind: "memory" });
  const collection = collectionOf(store.kv("preferences"), LanguagePreference);
  return { collection, preferences: createLanguagePreferences(collection, loadLocalization(), () => 1) };
}

describe("each chat's language", () => {
  test("is negotiated from Telegram's language on first contact and then remembered", async () => {
    const { collection, preferences } = await setUp();
    expect(await preferences.of("1", "uk")).toBe("ru");
    expect(await collection.get("1")).toEqual({ v: 1, language: "ru", chosen: false, updatedAt: 1 });
    // Telegram's language changing later does not override what the chat already speaks.
    expect(await preferences.of("1", "en")).toBe("ru");
  });

  test("a chosen language wins; without any hint the default is used and nothing is stored", async () => {
    const { collection, preferences } = await setUp();
    expect(await preferences.of("2")).toBe("en");
    expect(await collection.get("2")).toBeUndefined();
    expect(await preferences.choose("2", "ru")).toBe("ru");
    expect(await preferences.of("2", "en")).toBe("ru");
  });

  test("a stored language whose file is gone is negotiated again", async () => {
    const { collection, preferences } = await setUp();
    await collection.set("3", { v: 1, language: "xx", chosen: true, updatedAt: 0 });
    expect(await preferences.of("3", "ru-RU")).toBe("ru");
  });
});

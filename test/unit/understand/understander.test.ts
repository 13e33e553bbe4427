/** The understander around the rules (issue 21): notes it adds, and a yes to a choice of amounts. */
import { describe, expect, test } from "vitest";
import type { UnderstandContext, Understander } from "../../../src/domain/commands.ts";
import { allowedInState } from "../../../src/domain/allowed.ts";
import { DEFAULT_CATALOG, productOf } from "../../../src/domain/catalog.ts";
import { createUnderstander } from "../../../src/understand/index.ts";

function context(state: "initial" | "quoted", turns: string[], askedHowMany: boolean): UnderstandContext {
  return { state, order: { orderId: "o1", tokens: state === "quoted" ? 1000 : null }, allowed: allowedInState(state), turns, chatId: "c1", askedHowMany };
}

const understand = createUnderstander();

describe("wanting to buy without an amount", () => {
  test("is the help, noted as asking how many", async () => {
    expect(await understand("I need some tokens", context("initial", [], false))).toEqual({ command: { type: "HELP" }, source: "rules", note: { kind: "ask_amount" } });
  });
});

describe("a yes after 'which amount?'", () => {
  test("offers the same choice again, read from the message the choice answered", async () => {
    const read = await understand("sure", context("quoted", ["1000 tokens", "2000 or 3000?"], true));
    expect(read).toEqual({ choices: [{ tokens: 2000 }, { tokens: 3000 }], source: "rules" });
  });

  test("keeps the budget a choice came from", async () => {
    const read = await understand("yes", context("initial", ["give me 2 grand"], true));
    expect(read).toEqual({ choices: [{ tokens: 2000 }, { tokens: 100_000, usdCents: 200_000 }], source: "rules" });
  });

  test("with a quote open but the choice forgotten, is still not a confirmation", async () => {
    expect(await understand("yes", context("quoted", [], true))).toBeNull();
  });

  test("a model's CONFIRM is held to the same rule", async () => {
    const model: Understander = async () => ({ command: { type: "CONFIRM" }, source: "llm" });
    const withModel = createUnderstander(model);
    expect(await withModel("alright I'm in", context("quoted", ["2000 or 3000?"], true))).toEqual({ choices: [{ tokens: 2000 }, { tokens: 3000 }], source: "rules" });
    expect(await withModel("alright I'm in", context("quoted", ["2000 tokens"], false))).toEqual({ command: { type: "CONFIRM" }, source: "llm" });
  });

  test("when nobody asked, a yes confirms as always; after a welcome it is left to the machine", async () => {
    expect(await understand("yes", context("quoted", ["2000 or 3000?", "2000"], false))).toEqual({ command: { type: "CONFIRM" }, source: "rules" });
    expect(await understand("yes", context("initial", ["hi"], true))).toEqual({ command: { type: "CONFIRM" }, source: "rules" });
  });
});

describe("a budget", () => {
  test("buys into a volume tier when the tier's price fits it (issue 21)", async () => {
    const tiered = { ...DEFAULT_CATALOG, product: { ...productOf(DEFAULT_CATALOG), tiers: [{ from: 10_000, priceUsdCents: 1800 }] } };
    const read = await createUnderstander(undefined, { catalog: tiered })("$190 worth", context("initial", [], false));
    expect(read).toEqual({ command: { type: "QUOTE", tokens: 10_555 }, source: "rules", note: { kind: "budget", usdCents: 19_000 } });
    expect(await understand("$190 worth", context("initial", [], false))).toMatchObject({ command: { type: "QUOTE", tokens: 9500 } });
  });
});

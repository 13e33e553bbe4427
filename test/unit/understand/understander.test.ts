/**
 * The understander around the rules (issue 21): the notes it adds, and two amounts offered as a choice.
 * A yes to such a choice is the engine's to catch (it remembers what it asked): see
 * test/integration/conversation-choices.test.ts.
 */
import { describe, expect, test } from "vitest";
import type { UnderstandContext, Understander } from "../../../src/domain/commands.ts";
import { DEFAULT_CATALOG, productOf } from "../../../src/domain/catalog.ts";
import { createUnderstander } from "../../../src/understand/index.ts";
import { understandContextIn } from "../../support/order-snapshots.ts";

function context(state: "initial" | "quoted", turns: string[], askedHowMany: boolean): UnderstandContext {
  return { ...understandContextIn(state, { turns, orderId: "o1" }), askedHowMany };
}

const understand = createUnderstander();

describe("wanting to buy without an amount", () => {
  test("is the help, noted as asking how many", async () => {
    expect(await understand("I need some tokens", context("initial", [], false))).toEqual({
      command: { type: "HELP" },
      source: "rules",
      note: { kind: "ask_amount" },
    });
  });
});

describe("two amounts in one message", () => {
  test("are offered as a choice, a budget priced as the tokens it buys", async () => {
    expect(await understand("2000 or 3000?", context("quoted", ["1000 tokens"], false))).toEqual({
      choices: [{ tokens: 2000 }, { tokens: 3000 }],
      source: "rules",
    });
    expect(await understand("give me 2 grand", context("initial", [], true))).toEqual({
      choices: [{ tokens: 2000 }, { tokens: 100_000, usdCents: 200_000 }],
      source: "rules",
    });
  });

  test("are the model's to settle when one is configured", async () => {
    const model: Understander = async () => ({ command: { type: "SET_AMOUNT", tokens: 3000 }, source: "llm" });
    expect(await createUnderstander(model)("2000 or 3000?", context("quoted", [], false))).toEqual({
      command: { type: "SET_AMOUNT", tokens: 3000 },
      source: "llm",
    });
  });

  test("a yes is read as a yes: whether it answers a choice is the engine's to know", async () => {
    expect(await understand("yes", context("quoted", ["2000 or 3000?"], false))).toEqual({ command: { type: "CONFIRM" }, source: "rules" });
  });
});

describe("a budget", () => {
  test("buys into a volume tier when the tier's price fits it (issue 21)", async () => {
    const tiered = { ...DEFAULT_CATALOG, product: { ...productOf(DEFAULT_CATALOG), tiers: [{ from: 10_000, priceUsdCents: 1800 }] } };
    const read = await createUnderstander(undefined, { catalog: tiered })("$190 worth", context("initial", [], false));
    expect(read).toEqual({ command: { type: "SET_AMOUNT", tokens: 10_555 }, source: "rules", note: { kind: "budget", usdCents: 19_000 } });
    expect(await understand("$190 worth", context("initial", [], false))).toMatchObject({ command: { type: "SET_AMOUNT", tokens: 9500 } });
  });
});

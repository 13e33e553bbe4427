/** What a button press means, before any channel packs it (issue 12: meaning in the domain, codec in Telegram). */
import { describe, expect, test } from "vitest";
import { type ButtonAction, buttonCommand, buttonOrderId, buttonShownAmount } from "../../../src/domain/buttons.ts";

describe("button meaning", () => {
  test("a package or ± button sets the amount: the machine decides whether it quotes or changes the quote shown", () => {
    expect(buttonCommand({ action: "package", tokens: 5000 })).toEqual({ type: "SET_AMOUNT", tokens: 5000 });
    expect(buttonCommand({ action: "amount", orderId: "ord_a", tokens: 6000, shown: 5000 })).toEqual({ type: "SET_AMOUNT", tokens: 6000 });
  });

  test("a 'start over' button of earlier versions cancels the order on the table", () => {
    expect(buttonCommand({ action: "restart" })).toEqual({ type: "CANCEL" });
  });

  test("order buttons are bound to their order; package, restart and help buttons to none", () => {
    expect(buttonOrderId({ action: "cancel", orderId: "ord_a" })).toBe("ord_a");
    expect(buttonOrderId({ action: "package", tokens: 1000 })).toBeNull();
    expect(buttonOrderId({ action: "help" })).toBeNull();
  });

  test("only quote buttons carry the amount they were shown with; old ones carry null", () => {
    const confirm: ButtonAction = { action: "confirm", orderId: "ord_a", shown: 2000 };
    expect(buttonShownAmount(confirm)).toBe(2000);
    expect(buttonShownAmount({ action: "amount", orderId: "ord_a", tokens: 3000, shown: null })).toBeNull();
    expect(buttonShownAmount({ action: "status", orderId: "ord_a" })).toBeUndefined();
    expect(buttonCommand(confirm)).toEqual({ type: "CONFIRM" });
  });
});

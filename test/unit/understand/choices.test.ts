/** Issue 21: which of the amounts just offered a message picks ("the first", «второй», "the bigger one"). */
import { describe, expect, test } from "vitest";
import { pickedChoice } from "../../../src/understand/choices.ts";

const OFFERED = [2000, 3000];

describe("pickedChoice", () => {
  test.each([
    ["the first", 0],
    ["first one", 0],
    ["1st", 0],
    ["the first one please", 0],
    ["the former", 0],
    ["option 2", 1],
    ["2nd one", 1],
    ["the second", 1],
    ["the last one", 1],
    ["the latter", 1],
    ["the bigger one", 1],
    ["the cheaper one", 0],
    ["yes, the first", 0],
    ["первый", 0],
    ["первую", 0],
    ["да, первый", 0],
    ["давай второй", 1],
    ["вариант 2", 1],
    ["последний", 1],
    ["побольше", 1],
    ["поменьше", 0],
    ["1-й", 0],
  ])("%s picks offer #%i", (text, index) => {
    expect(pickedChoice(text, OFFERED)).toBe(index);
  });

  test("sizes, not order, settle 'the bigger one'", () => {
    expect(pickedChoice("the bigger one", [5000, 1000, 3000])).toBe(0);
    expect(pickedChoice("the smallest", [5000, 1000, 3000])).toBe(1);
    expect(pickedChoice("the third", [5000, 1000, 3000])).toBe(2);
  });

  test.each(["yes", "sure", "да", "ok", "the first time I bought 5000", "first or second", "the third", "2000", "", "the first, cancel"])(
    "%j picks nothing: a yes, other words, or an offer that was not made",
    (text) => {
      expect(pickedChoice(text, OFFERED)).toBeNull();
    },
  );

  test("with fewer than two offers there is nothing to pick from", () => {
    expect(pickedChoice("the first", [2000])).toBeNull();
  });
});

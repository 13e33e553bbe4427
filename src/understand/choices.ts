/**
 * Which of the amounts the bot just offered a message picks (issue 21): "the first", "2nd one",
 * "the last", "the bigger one", «первый», «давай второй», «побольше». Only a message that is nothing
 * but such a pick (and a few fillers) counts, so "the first time I bought, 5000" is never one. An
 * amount that is one of the offered ones ("2000") is read by the rules as that amount instead.
 */
import { type Phrase, phrases, readText, startsAt, wordSet } from "./text.ts";

type Pick = number | "last" | "smallest" | "largest";

const PICKS: readonly (readonly [Pick, readonly Phrase[]])[] = [
  [0, phrases("first, 1 st, former, option 1, number 1, вариант 1, первый, первое, первую, первая, первого, первым, 1 й")],
  [1, phrases("second, 2 nd, option 2, number 2, вариант 2, второй, второе, вторую, вторая, второго, вторым, 2 й")],
  [2, phrases("third, 3 rd, option 3, number 3, вариант 3, третий, третье, третью, третья, третьего, третьим, 3 й")],
  [3, phrases("fourth, 4 th, option 4, number 4, вариант 4, четвертый, четвертое, четвертую, четвертая, 4 й")],
  ["last", phrases("last, latter, последний, последнее, последнюю, последняя, последнего")],
  [
    "smallest",
    phrases("smaller, smallest, lower, lowest, cheaper, cheapest, less, fewer, меньше, поменьше, меньший, меньшее, дешевле, подешевле"),
  ],
  ["largest", phrases("bigger, biggest, larger, largest, higher, highest, more, больше, побольше, больший, большее, максимум")],
];
const FILLERS = wordSet(
  "the one option please pls plz i ill take want go with id like lets do ok okay yes yeah sure then that amount " +
    "thanks a an is fine " +
    "давай давайте беру возьму хочу вариант пожалуйста тогда ну мне да ок на этот этом тот который",
);

/**
 * The index among the offered amounts (`tokens`, in the order offered; their sizes settle "the bigger
 * one") that the text picks; null when it picks none, or more than one.
 */
export function pickedChoice(text: string, tokens: readonly number[]): number | null {
  if (typeof text !== "string" || text.length > 100 || tokens.length < 2) return null;
  const { words } = readText(text);
  const picked = new Set<number>();
  for (let i = 0; i < words.length;) {
    const found = PICKS.flatMap(([pick, list]) => list.filter((p) => startsAt(words, i, p)).map((p) => [pick, p] as const)).sort(
      (a, b) => b[1].length - a[1].length,
    )[0];
    if (found !== undefined) {
      picked.add(indexOf(found[0], tokens));
      i += found[1].length;
    } else if (FILLERS.has(words[i] ?? "")) {
      i += 1;
    } else {
      return null;
    }
  }
  const [index] = [...picked];
  return picked.size === 1 && index !== undefined && index >= 0 && index < tokens.length ? index : null;
}

function indexOf(pick: Pick, tokens: readonly number[]): number {
  if (typeof pick === "number") return pick;
  if (pick === "last") return tokens.length - 1;
  const best = pick === "smallest" ? Math.min(...tokens) : Math.max(...tokens);
  return tokens.indexOf(best);
}

/**
 * One of several processes racing read-modify-write steps on one chat of one SQLite file (run by
 * test/integration/store-sqlite.test.ts as `node --import tsx`). Each step reads the chat and commits
 * its turns plus one more on the revision it read; it sends the turns it got committed to its parent.
 *
 * Arguments: <file> <name> <steps>.
 */
import { ChatId } from "../../src/domain/ids.ts";
import { sqliteStore } from "../../src/store/sqlite-store.ts";

const [file, name, steps] = process.argv.slice(2);
if (!file || !name || !steps) throw new Error("usage: sqlite-racer.ts <file> <name> <steps>");

const store = await sqliteStore(file);
const chatId = ChatId.parse("raced");
const won: string[] = [];
// Ready, then wait for the starting signal, so all processes race from the first step.
const go = new Promise((resolve) => process.once("message", resolve));
process.send?.("ready");
await go;
for (let i = 0; i < Number(steps); i++) {
  const read = await store.readChat(chatId);
  if (read.chat === "invalid" || read.chat === undefined) throw new Error("the raced chat must exist before the race");
  const turn = `${name}-${i}`;
  const result = await store.commit({
    chatId,
    owner: "racer",
    chat: { record: { ...read.chat, turns: [...read.chat.turns, turn] }, expectedRev: read.rev },
  });
  if (result.ok) won.push(turn);
  else if (result.reason !== "moved") throw new Error(`unexpected refusal: ${result.reason}`);
}
await store.close();
process.send?.(won);
process.disconnect?.();

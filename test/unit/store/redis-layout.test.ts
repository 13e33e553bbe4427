/** The Redis store's key layout, log positions and URLs: the parts that need no Redis. */
import { describe, expect, test } from "vitest";
import { ChatId, OrderId } from "../../../src/domain/ids.ts";
import { parseRedisUrl, redactRedisUrl } from "../../../src/store/redis-connect.ts";
import { dueMember, parseDueMember, redisKeys, SHARDS, shardOf } from "../../../src/store/redis-keys.ts";
import { formatRedisLogPosition, mergeShardBatches, parseRedisLogPosition } from "../../../src/store/redis-log.ts";

/** The hash tag Redis Cluster hashes: the text between the first "{" and the next "}". */
const hashTag = (key: string) => /\{([^}]*)\}/.exec(key)?.[1];

describe("shards", () => {
  test("a chat's shard never changes (FNV-1a of its id, modulo 16): stored data stays where it was written", () => {
    expect(SHARDS).toBe(16);
    expect(["42", "-1001234567890", "console", "chat-1", "chat-2"].map(shardOf)).toEqual([3, 10, 10, 9, 0]);
  });

  test("chats spread evenly over the shards", () => {
    const counts = new Array<number>(SHARDS).fill(0);
    for (let i = 0; i < 16_000; i++) counts[shardOf(String(100_000_000 + i * 7919))]! += 1;
    for (const count of counts) expect(count).toBeGreaterThan(800);
    for (const count of counts) expect(count).toBeLessThan(1_200);
  });

  test("every key a commit touches carries the chat's shard tag, so a commit is one slot on a cluster", () => {
    const keys = redisKeys("tg:");
    const chat = "42";
    const tagged = [
      keys.chat(chat),
      keys.lease(chat),
      keys.order(chat, "ord_a"),
      keys.trail(chat, "ord_a"),
      keys.goods(chat, "ord_a"),
      keys.goodsClaim(chat, "ord_a"),
      keys.inbox(chat),
      keys.queue(chat),
      keys.dueOf(chat),
      keys.logOf(chat),
      keys.inboxesOf(chat),
      `${keys.orderPrefix(chat)}ord_a`,
    ];
    expect(new Set(tagged.map(hashTag))).toEqual(new Set([`tg:s${shardOf(chat)}`]));
    expect(keys.dueOf(chat)).toBe(keys.due(shardOf(chat)));
    expect(keys.trailIn(shardOf(chat), "ord_a")).toBe(keys.trail(chat, "ord_a"));
    // The lookups that cannot live in a chat's shard have no tag.
    for (const key of [keys.payment("p"), keys.orderChat("o"), keys.claim("c"), keys.projection("d"), keys.meta])
      expect(hashTag(key)).toBeUndefined();
  });

  test("a prefix with a brace is refused: it would change every hash tag", () => {
    expect(() => redisKeys("shop{1}:")).toThrow(/cannot hold/);
  });

  test("a deadline member names its chat and order, even for a chat id holding a newline", () => {
    const chat = ChatId.parse("odd\nchat");
    const order = OrderId.parse("ord_x1");
    expect(parseDueMember(dueMember(chat, order))).toEqual({ chatId: "odd\nchat", orderId: "ord_x1" });
    expect(parseDueMember("no-newline")).toBeNull();
  });
});

describe("audit log positions", () => {
  test("a position round-trips, and one of another backend (or garbage) is refused", () => {
    const read = parseRedisLogPosition('{"3":"1700000000000-0","12":"1700000000001-4"}');
    expect([...read]).toEqual([
      [3, "1700000000000-0"],
      [12, "1700000000001-4"],
    ]);
    expect(parseRedisLogPosition(formatRedisLogPosition(read))).toEqual(read);
    expect(parseRedisLogPosition(null).size).toBe(0);
    expect(() => parseRedisLogPosition("12")).toThrow(/not a Redis audit log position/);
    expect(() => parseRedisLogPosition('{"16":"1-0"}')).toThrow(/shard 16 of 16/);
    expect(() => parseRedisLogPosition("{")).toThrow(/not a Redis audit log position/);
  });

  test("a batch takes the earliest entries over all shards and advances only the shards it took from", () => {
    const batches = [
      [
        { shard: 0, id: "10-0", value: "a" },
        { shard: 0, id: "30-0", value: "c" },
      ],
      [
        { shard: 5, id: "10-1", value: "b" },
        { shard: 5, id: "40-0", value: "d" },
      ],
      [],
    ];
    const start = new Map([[9, "5-0"]]);
    const first = mergeShardBatches(batches, start, 3);
    expect(first.entries.map((entry) => entry.value)).toEqual(["a", "b", "c"]);
    expect([...first.read].sort(([a], [b]) => a - b)).toEqual([
      [0, "30-0"],
      [5, "10-1"],
      [9, "5-0"],
    ]);
    // Same ids on two shards: shard order decides, and each shard keeps its own order.
    const tie = mergeShardBatches([[{ shard: 2, id: "7-0", value: "x" }], [{ shard: 1, id: "7-0", value: "y" }]], new Map(), 10);
    expect(tie.entries.map((entry) => entry.value)).toEqual(["y", "x"]);
  });

  test("a shard whose batch came back full bounds the merge: its unread entries come before later ones of other shards", () => {
    // Shard 0 was asked for 2 entries and gave 2: its third (4-0) is still unread.
    const batches = [
      [
        { shard: 0, id: "1-0", value: "a" },
        { shard: 0, id: "2-0", value: "b" },
      ],
      [
        { shard: 3, id: "3-0", value: "c" },
        { shard: 3, id: "5-0", value: "e" },
      ],
    ];
    const first = mergeShardBatches(batches, new Map(), 10, 2);
    expect(first.entries.map((entry) => entry.value)).toEqual(["a", "b"]);
    expect([...first.read]).toEqual([[0, "2-0"]]);
    const next = mergeShardBatches(
      [
        [{ shard: 0, id: "4-0", value: "d" }],
        [
          { shard: 3, id: "3-0", value: "c" },
          { shard: 3, id: "5-0", value: "e" },
        ],
      ],
      first.read,
      10,
      2,
    );
    expect(next.entries.map((entry) => entry.value)).toEqual(["c", "d", "e"]);
  });
});

describe("Redis URLs", () => {
  test("a cluster URL lists its seed nodes, with the credentials for every node", () => {
    expect(parseRedisUrl("redis-cluster://shop:p%40ss@10.0.0.1:7000,10.0.0.2:7001")).toEqual({
      kind: "cluster",
      nodes: [
        { host: "10.0.0.1", port: 7000 },
        { host: "10.0.0.2", port: 7001 },
      ],
      username: "shop",
      password: "p@ss",
    });
    expect(parseRedisUrl("redis://127.0.0.1:6379/2")).toEqual({ kind: "server", url: "redis://127.0.0.1:6379/2" });
    expect(() => parseRedisUrl("redis-cluster://10.0.0.1")).toThrow(/host:port/);
  });

  test("messages show the URL without its password", () => {
    expect(redactRedisUrl("redis://shop:secret@host:6379/0")).toBe("redis://shop:***@host:6379/0");
    expect(redactRedisUrl("redis-cluster://:secret@a:1,b:2")).toBe("redis-cluster://:***@a:1,b:2");
    expect(redactRedisUrl("redis://host:6379")).toBe("redis://host:6379");
    expect(() => parseRedisUrl("mysql://root:secret@db")).toThrow(/mysql:\/\/root:\*\*\*@db/);
  });
});

/** The memory store keeps the store contract (see test/support/store-contract.ts). */
import { memoryStore } from "../../src/store/memory.ts";
import { describeStoreContract } from "../support/store-contract.ts";

describeStoreContract("memory", async () => {
  let now = 1_000_000;
  const store = memoryStore({ clock: () => now });
  return {
    open: async () => store,
    advance: async (ms) => {
      now += ms;
    },
    now: () => now,
    jump: async (ms) => {
      now += ms;
    },
    cleanup: async () => {},
  };
});

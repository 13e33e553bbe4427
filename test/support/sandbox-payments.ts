/**
 * The sandbox payment provider with its invoices kept outside the shop's store (each on its own
 * in-memory key-value): for tests and benchmarks that count or time the shop's store alone, or wrap
 * the provider's calls.
 */
import Keyv from "keyv";
import { SandboxInvoice, SandboxOutbox, type SandboxProvider, createSandboxPayments } from "../../src/payments/sandbox.ts";
import { collectionOf } from "../../src/store/index.ts";

export function sandboxOutsideTheStore(options: { publicUrl?: string; clock?: () => number } = {}): SandboxProvider {
  return createSandboxPayments({
    invoices: collectionOf(new Keyv(), SandboxInvoice),
    outbox: collectionOf(new Keyv(), SandboxOutbox),
    publicUrl: () => options.publicUrl ?? "https://shop.example",
    clock: options.clock ?? Date.now,
  });
}

/**
 * The sandbox payment provider: a pretend payment service that behaves like a real one. Invoices live
 * in the store (so a restart keeps them), the pay link opens a small local page with a Pay button,
 * and paying produces an HMAC-signed webhook that goes through exactly the same verification and
 * re-fetch path as Crypto Pay's. Charges USDT, 1:1 with USD cents.
 *
 * Like a real provider, it records the payment first and answers the payer at once; the webhook goes
 * out afterwards and is re-sent until the shop answers 200 — also after a restart, since the payments
 * whose webhook is still owed are kept in the store (issue 18).
 */
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { z } from "zod";
import { Currency } from "../domain/money.ts";
import { type Money, money } from "../domain/money.ts";
import type { Collection } from "../store/index.ts";
import { type PaymentProvider, fail, ok, parseJsonOrNull } from "./provider.ts";

export const SandboxInvoice = z.object({
  v: z.literal(1),
  paymentId: z.string(),
  orderId: z.string(),
  amount: z.object({ minor: z.number().int().nonnegative(), currency: Currency }),
  description: z.string(),
  status: z.enum(["pending", "paid", "expired", "cancelled"]),
  expiresAt: z.number().int(),
  paidAt: z.number().int().nullable(),
});
export type SandboxInvoice = z.infer<typeof SandboxInvoice>;

export const SANDBOX_SIGNATURE_HEADER = "x-sandbox-signature";
const OUTBOX_KEY = "owed";

/** A signed webhook, as the sandbox "provider" posts it. */
export type SandboxWebhook = { rawBody: Buffer; headers: Record<string, string> };

/** The payments whose webhook the shop has not yet acknowledged. */
export const SandboxOutbox = z.object({ v: z.literal(1), paymentIds: z.array(z.string()) });

export type SandboxProvider = PaymentProvider & {
  /**
   * Marks the invoice paid, as a customer paying would, and owes the shop its webhook (see
   * `sendOwedWebhooks`). Paying a paid invoice again owes the webhook again, like a provider's retry.
   */
  pay(paymentId: string): Promise<{ ok: true } | { ok: false; reason: "not_found" | "expired" | "cancelled" }>;
  /** The invoice as the pay page shows it. */
  invoice(paymentId: string): Promise<SandboxInvoice | undefined>;
  /** Posts every owed webhook once (`deliver` answers whether the shop took it); returns how many remain owed. */
  sendOwedWebhooks(deliver: (webhook: SandboxWebhook) => Promise<boolean>): Promise<number>;
};

export type SandboxOptions = {
  invoices: Collection<SandboxInvoice>;
  /** Where the owed webhooks are kept (one record, key "owed"). */
  outbox: Collection<z.infer<typeof SandboxOutbox>>;
  /** Base URL customers open, e.g. `http://localhost:8080`; asked each time (the port may be chosen at start). */
  publicUrl: () => string;
  clock: () => number;
  /** HMAC key for the sandbox's webhooks; random per process unless given. */
  secret?: string;
};

export function createSandboxPayments(options: SandboxOptions): SandboxProvider {
  const secret = options.secret ?? randomBytes(32).toString("hex");
  const sign = (body: Buffer) => createHmac("sha256", secret).update(body).digest("hex");
  const base = () => options.publicUrl().replace(/\/+$/, "");
  const toMoney = (amount: SandboxInvoice["amount"]): Money => money(amount.minor, amount.currency);
  /** Webhooks on their way now (not sent again until answered). */
  const sending = new Set<string>();
  /**
   * Changes the owed list and reads it back until the change holds. Changes in this process take
   * turns: the list is one record, and a removal that read it before a concurrent addition would
   * otherwise write the addition away (a paid invoice whose webhook is never sent). Two instances
   * writing at the same instant can still overwrite each other; the loser sees it on reading back
   * and writes again, and a customer's status question re-checks the invoice in any case.
   */
  let outboxTurn: Promise<unknown> = Promise.resolve();
  const changeOutbox = (change: (owed: string[]) => string[]): Promise<void> => {
    const run = outboxTurn
      .catch(() => {})
      .then(async () => {
        for (let attempt = 0; attempt < 5; attempt++) {
          const before = (await options.outbox.get(OUTBOX_KEY))?.paymentIds ?? [];
          const wanted = change(before);
          await options.outbox.set(OUTBOX_KEY, { v: 1, paymentIds: wanted });
          const after = (await options.outbox.get(OUTBOX_KEY))?.paymentIds ?? [];
          if (JSON.stringify(change(after)) === JSON.stringify(after)) return;
        }
      });
    outboxTurn = run;
    return run;
  };

  const current = async (paymentId: string) => {
    const invoice = await options.invoices.get(paymentId);
    if (invoice && invoice.status === "pending" && options.clock() >= invoice.expiresAt) {
      const expired = { ...invoice, status: "expired" as const };
      await options.invoices.set(paymentId, expired);
      return expired;
    }
    return invoice;
  };

  return {
    name: "sandbox",
    currency: "USDT",
    async createInvoice(request) {
      // Idempotent by order id: asking twice for the same order returns the same invoice.
      const paymentId = `sbx_${request.orderId}`;
      const existing = await options.invoices.get(paymentId);
      if (!existing) {
        await options.invoices.set(paymentId, {
          v: 1,
          paymentId,
          orderId: request.orderId,
          amount: request.charge,
          description: request.description,
          status: "pending",
          expiresAt: request.expiresAt,
          paidAt: null,
        });
      }
      return ok({ paymentId, payUrl: `${base()}/pay/sandbox/${paymentId}`, expiresAt: existing?.expiresAt ?? request.expiresAt });
    },
    async fetchPayment(paymentId) {
      const invoice = await current(paymentId);
      if (!invoice) return fail("not_found");
      const status = invoice.status === "cancelled" ? "failed" : invoice.status;
      return ok({ paymentId, status, amount: toMoney(invoice.amount), orderId: invoice.orderId });
    },
    verifyWebhook({ rawBody, headers }) {
      const given = headers[SANDBOX_SIGNATURE_HEADER];
      if (typeof given !== "string" || !/^[0-9a-f]{64}$/.test(given)) return null;
      const expected = Buffer.from(sign(rawBody), "hex");
      if (!timingSafeEqual(expected, Buffer.from(given, "hex"))) return null;
      const parsed = z.object({ paymentId: z.string().min(1).max(200) }).safeParse(parseJsonOrNull(rawBody));
      return parsed.success ? { paymentId: parsed.data.paymentId } : null;
    },
    async cancelInvoice(paymentId) {
      const invoice = await current(paymentId);
      if (!invoice) return fail("not_found");
      if (invoice.status === "pending") await options.invoices.set(paymentId, { ...invoice, status: "cancelled" });
      return ok(undefined);
    },
    async refund(paymentId) {
      const invoice = await current(paymentId);
      if (!invoice || invoice.status !== "paid") return fail("not_found");
      return ok({ refundId: `sbx_refund_${paymentId}` });
    },
    async pay(paymentId) {
      const invoice = await current(paymentId);
      if (!invoice) return { ok: false, reason: "not_found" };
      if (invoice.status === "expired") return { ok: false, reason: "expired" };
      if (invoice.status === "cancelled") return { ok: false, reason: "cancelled" };
      if (invoice.status === "pending") await options.invoices.set(paymentId, { ...invoice, status: "paid", paidAt: options.clock() });
      await changeOutbox((owed) => (owed.includes(paymentId) ? owed : [...owed, paymentId]));
      return { ok: true };
    },
    async sendOwedWebhooks(deliver) {
      const owed = (await options.outbox.get(OUTBOX_KEY))?.paymentIds ?? [];
      // All at once, like a real provider (each webhook waits for the shop's whole answer, delivery
      // included); one already on its way is not sent twice.
      const fresh = owed.filter((paymentId) => !sending.has(paymentId));
      const taken = await Promise.all(
        fresh.map(async (paymentId) => {
          sending.add(paymentId);
          try {
            const rawBody = Buffer.from(JSON.stringify({ paymentId, event: "invoice_paid" }));
            const accepted = await deliver({
              rawBody,
              headers: { [SANDBOX_SIGNATURE_HEADER]: sign(rawBody), "content-type": "application/json" },
            }).catch(() => false);
            return accepted ? paymentId : null;
          } finally {
            sending.delete(paymentId);
          }
        }),
      );
      const done = taken.filter((id): id is string => id !== null);
      if (done.length > 0) await changeOutbox((list) => list.filter((id) => !done.includes(id)));
      return owed.length - done.length;
    },
    invoice: current,
  };
}

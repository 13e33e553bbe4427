import { createHash, randomBytes } from "node:crypto";
import type { DeliveryOutcome, DeliveryProvider } from "./provider.ts";

/** A fresh voucher: a random (unguessable) code, and a hash of it as the reference the ledger keeps. */
function voucher(): DeliveryOutcome {
  const code = `TG-${randomBytes(10)
    .toString("base64url")
    .toUpperCase()
    .replace(/[^A-Z0-9]/g, "X")}`;
  const ref = `voucher:${createHash("sha256").update(code).digest("hex").slice(0, 24)}`;
  return { ok: true, goods: { ref, hint: `…${code.slice(-4)}`, secret: code } };
}

/**
 * Sandbox delivery: a unique voucher code per order. The code is random (unguessable); its reference
 * is a hash, so the ledger can prove which voucher went out without keeping it. A reissue is a new code
 * of the same value; the old one is voided by the ledger (its reference joins the order's `revoked`).
 */
export function createSandboxDelivery(): DeliveryProvider {
  return {
    name: "sandbox",
    issue: async () => voucher(),
    reissue: async () => voucher(),
  };
}

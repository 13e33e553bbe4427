import { createHash, randomBytes } from "node:crypto";
import type { DeliveryProvider } from "./provider.ts";

/**
 * Sandbox delivery: a unique voucher code per order. The code is random (unguessable); its reference
 * is a hash, so the ledger can prove which voucher went out without keeping it.
 */
export function createSandboxDelivery(): DeliveryProvider {
  return {
    name: "sandbox",
    async issue(_request) {
      const code = `TG-${randomBytes(10).toString("base64url").toUpperCase().replace(/[^A-Z0-9]/g, "X")}`;
      const ref = `voucher:${createHash("sha256").update(code).digest("hex").slice(0, 24)}`;
      return { ok: true, goods: { ref, hint: `…${code.slice(-4)}`, secret: code } };
    },
  };
}

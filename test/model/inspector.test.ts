import { describe, expect, it } from "vitest";
import { createApp } from "../../src/app.ts";
import { loadConfig } from "../../src/config.ts";
import { type SkyInspectorFactory, attachInspector } from "../../src/engine/inspect.ts";
import type { Logger } from "../../src/log.ts";

const recordingLog = () => {
  const lines: { level: string; message: string }[] = [];
  const at = (level: string) => (message: string) => void lines.push({ level, message });
  const log: Logger = { error: at("error"), warn: at("warn"), info: at("info"), debug: at("debug") };
  return { log, lines };
};

/** Behaves like the Sky inspector without a network: every (re)connect attempt reports an error; `gaveUp` after the fifth. */
function offlineInspector() {
  let gaveUp!: () => void;
  const done = new Promise<void>((resolve) => (gaveUp = resolve));
  const factory: SkyInspectorFactory = ({ onerror }) => {
    let attempts = 0;
    const timer = setInterval(() => {
      attempts += 1;
      onerror(new Error(`getaddrinfo ENOTFOUND (attempt ${attempts})`));
      if (attempts >= 5) {
        clearInterval(timer);
        gaveUp();
      }
    }, 1);
    return { inspect: { next: () => undefined } };
  };
  return { factory, gaveUp: done };
}

describe("the Stately inspector", () => {
  it("with INSPECT=1 and no network the app starts, a purchase still works, and one warning is logged", async () => {
    const { log, lines } = recordingLog();
    const offline = offlineInspector();
    const inspector = attachInspector(log, offline.factory);
    const app = await createApp(loadConfig({ STORE_URL: "memory://", INSPECT: "1" }), { listen: false, log, inspect: inspector.inspect });
    try {
      expect(app.config.inspect).toBe(true);
      await offline.gaveUp; // every reconnect failed before the purchase starts
      await app.engine.handleText("c1", "I need 2000 tokens");
      const invoice = await app.engine.handleText("c1", "yes");
      expect(invoice.kind === "order" && invoice.order.stage).toBe("awaiting_payment");
      const paymentId = invoice.kind === "order" ? invoice.order.payUrl!.split("/").at(-1)! : "";
      const paid = await app.http.dispatch({ method: "POST", path: `/pay/sandbox/${paymentId}`, headers: {}, rawBody: Buffer.alloc(0) });
      expect(paid.status).toBe(200);
      // The pay page answers at once; the payment's webhook follows.
      await app.flushSandboxWebhooks();
      const view = await app.engine.view("c1");
      expect(view.kind === "order" && view.order.stage).toBe("delivered");
      expect(inspector.failed).toBe(true);
      expect(lines.filter((l) => l.level === "warn" || l.level === "error")).toHaveLength(1);
      expect(lines.find((l) => l.level === "warn")?.message).toMatch(/inspector unavailable/);
    } finally {
      await app.close();
    }
  });

  it("an inspector that cannot even start is one warning, not a crash", () => {
    const { log, lines } = recordingLog();
    const inspector = attachInspector(log, () => {
      throw new Error("no WebSocket implementation");
    });
    expect(() => inspector.inspect({ type: "@xstate.event" } as never)).not.toThrow();
    expect(lines.filter((l) => l.level === "warn")).toHaveLength(1);
  });

  it("is off unless INSPECT is set", () => {
    expect(loadConfig({ STORE_URL: "memory://" }).inspect).toBe(false);
  });
});

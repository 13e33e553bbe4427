/**
 * The Stately inspector, for watching purchase actors live while developing (`INSPECT=1`).
 *
 * It streams every snapshot and event of every purchase actor to Stately's hosted inspector
 * (stately.ai), so it is OFF by default and must never be switched on in production: order ids, amounts
 * and payment ids leave the machine. Chat ids and pay links are removed before sending.
 *
 * Without network access it fails softly: one warning line, then inspection events are dropped
 * (nothing is queued, nothing is thrown into the engine, no log line per reconnect attempt).
 */
import { createSkyInspector } from "@statelyai/inspect";
import type { InspectionEvent } from "xstate";
import type { Logger } from "../log.ts";

/** The subset of `createSkyInspector` we use; injectable so tests can simulate "no network" offline. */
export type SkyInspectorFactory = (options: {
  onerror: (error: unknown) => void;
  sanitizeContext: (context: Record<string, unknown>) => Record<string, unknown>;
}) => { inspect: { next?: (event: InspectionEvent) => void } | ((event: InspectionEvent) => void) };

export type AttachedInspector = {
  /** Pass to `createEngine({ inspect })`: forwards inspection events until the connection failed. */
  inspect: (event: InspectionEvent) => void;
  /** True once the inspector reported a connection error; events are dropped from then on. */
  readonly failed: boolean;
};

const defaultFactory: SkyInspectorFactory = (options) =>
  createSkyInspector({
    onerror: options.onerror,
    sanitizeContext: options.sanitizeContext as never,
  }) as unknown as ReturnType<SkyInspectorFactory>;

/** Removes what identifies a customer or lets someone pay: the inspector only needs the shape. */
function sanitizeContext(context: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...context };
  if ("chatId" in out) out.chatId = "[hidden]";
  const payment = out.payment;
  if (payment && typeof payment === "object" && "payUrl" in payment) out.payment = { ...payment, payUrl: "[hidden]" };
  return out;
}

/**
 * Connects to the Stately inspector and returns the hook the engine attaches to every actor. Never
 * throws: if the inspector cannot even be created, the warning is logged and the hook does nothing.
 */
export function attachInspector(log: Logger, factory: SkyInspectorFactory = defaultFactory): AttachedInspector {
  let failed = false;
  const fail = (error: unknown) => {
    // The socket library keeps retrying quietly with backoff; one line is enough for the operator.
    if (failed) return;
    failed = true;
    log.warn("Stately inspector unavailable (no network?); continuing without it", {
      error:
        error instanceof Error
          ? error.message
          : typeof error === "object" && error && "message" in error
            ? String(error.message)
            : String(error),
    });
  };
  let forward: ((event: InspectionEvent) => void) | null = null;
  try {
    const inspector = factory({ onerror: fail, sanitizeContext });
    const observer = inspector.inspect;
    forward = typeof observer === "function" ? observer : (event) => observer.next?.(event);
    log.info("Stately inspector on: purchase state is being sent to stately.ai (development only)");
  } catch (error) {
    fail(error);
  }
  return {
    inspect(event) {
      if (failed || !forward) return;
      try {
        forward(event);
      } catch (error) {
        fail(error);
      }
    },
    get failed() {
      return failed;
    },
  };
}

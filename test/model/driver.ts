/**
 * Drives the REAL engine (sessions, memory store, ledger, sweeper, payment and admin doors) along the
 * model's paths. Only the world around it is scripted:
 * - the machine's actors are fakes that answer with the outcome the model predicts (queued by label
 *   before each trigger; `outputFor` makes the same output the model used, at the engine's clock). A
 *   successful delivery goes through the real ledger, so goods exist, are shown and erased for real;
 * - the payment provider's `fetchPayment` answers what the model's payment event says, behind the
 *   real payment door (`engine.confirmPayment`);
 * - the customer's channel refuses messages carrying goods, so the goods are shown only when the model
 *   says so (GOODS_SHOWN ↔ `engine.secretShown`, what an adapter calls once its message was taken);
 *   or, in a world whose channel takes them, the engine's own notification shows them (GOODS_SHOWN
 *   then follows the step that delivered, inside the engine);
 * - the clock moves only where the model's clock moves: to the order's stored deadline for the sweeper
 *   (DEADLINE ↔ `engine.runDue`), to the quote's expiry for a late Confirm.
 * Customer events come through all three customer doors: typed text, buttons and commands.
 */
import { type InspectionEvent, fromPromise } from "xstate";
import { builtInProduct, DEFAULT_CATALOG, singleProductView } from "../../src/domain/catalog.ts";
import { createLedger } from "../../src/delivery/index.ts";
import type { DeliveryProvider } from "../../src/delivery/index.ts";
import type { PurchaseActors } from "../../src/engine/actors.ts";
import { type Engine, createEngine } from "../../src/engine/index.ts";
import type { ConfirmOutcome, EngineReply } from "../../src/engine/index.ts";
import type { LatePaymentPolicy, PurchaseSnapshot } from "../../machines/purchase.machine.ts";
import type { OrderRecord } from "../../src/domain/records.ts";
import { OrderId } from "../../src/domain/ids.ts";
import { silentLogger } from "../../src/log.ts";
import { type PaymentProvider, type PaymentStatus, fail, ok, paymentKey } from "../../src/payments/provider.ts";
import { memoryStore } from "../../src/store/memory.ts";
import type { ShopStore } from "../../src/store/shop-store.ts";
import { createUnderstander } from "../../src/understand/index.ts";
import {
  type ActorName,
  CHARGE,
  CHAT_ID,
  GOODS_HINT,
  GOODS_REF,
  REISSUED_REF,
  MAX_DELIVERY_ATTEMPTS,
  type ModelEvent,
  NOW,
  ORDER_ID,
  PAYMENT_ID,
  PROMO_TYPED,
  RETRY_BACKOFF,
  SECOND_CHARGE,
  WEEK,
  outputFor,
} from "./purchase-model.ts";
import { perActor } from "../support/purchase-harness.ts";

export type World = {
  engine: Engine;
  store: ShopStore;
  latePayment: LatePaymentPolicy;
  /** Queues the outcome the next call of an actor must have. */
  expect(actor: ActorName, label: string): void;
  /** Outcomes queued but not produced: the engine did not run an actor the model predicted. */
  pending(): string[];
  /** Calls the model did not predict (an actor, or a payment re-fetch). */
  surprises: string[];
  /** State paths the engine's order actors went through, in order (from the inspector hook). */
  observed: string[];
  /** What customers were told without writing (payments, sweeps, the owner's actions). */
  notified: EngineReply[];
  /** Goods the delivery provider issued. */
  issued: number;
  /** Goods the delivery provider issued to replace lost ones. */
  reissued: number;
  /** The goods reached the customer (GOODS_SHOWN). */
  shown: boolean;
  /** The customer's channel takes messages carrying goods (else it refuses them). */
  channelTakesGoods: boolean;
  /** Moves the clock forward to `at` (never back). */
  advanceTo(at: number): void;
  /** What the provider's `fetchPayment` answers next. */
  answerPayment(answer: Omit<PaymentStatus, "paymentId">): void;
  now(): number;
  /** The order as stored (the engine's own record). */
  order(): Promise<OrderRecord | undefined>;
  close(): Promise<void>;
};

/** The path of a state value ("paid.delivering"). */
export function pathOf(value: unknown): string {
  if (typeof value === "string") return value;
  const [key, child] = Object.entries(value as Record<string, unknown>)[0]!;
  return `${key}.${pathOf(child)}`;
}

/**
 * The model's shop: two products ("tokens", what the model buys, and "keys"), both within the model's
 * limits, and one promo code. The engine's pricing and promo actors are the model's fakes; the shop
 * only says what a new order may be for.
 */
export const MODEL_CATALOG = singleProductView({
  products: [
    builtInProduct(DEFAULT_CATALOG, "voucher"),
    { ...builtInProduct(DEFAULT_CATALOG, "openrouter_key"), id: "keys", name: { en: "keys" } },
  ],
  promos: [
    {
      code: "SPRING10",
      discount: { kind: "percent", percent: 10 },
      maxUses: null,
      expiresAt: null,
      oncePerCustomer: false,
      products: null,
    },
  ],
  starsPerUsd: DEFAULT_CATALOG.starsPerUsd,
});

export async function createWorld(
  latePayment: LatePaymentPolicy = "deliver",
  options: { channelTakesGoods?: boolean } = {},
): Promise<World> {
  let now = NOW;
  const clock = () => now;
  const queues = perActor<string[]>(() => []);
  const surprises: string[] = [];
  const observed: string[] = [];
  const notified: EngineReply[] = [];
  const paymentAnswers: Omit<PaymentStatus, "paymentId">[] = [];
  const store = memoryStore({ clock });
  const world = { issued: 0, reissued: 0, shown: false, channelTakesGoods: options.channelTakesGoods ?? false } as World;
  let ordersStarted = 0;

  const take = (actor: ActorName): string => {
    const label = queues[actor].shift();
    if (label === undefined) surprises.push(actor);
    return label ?? "crashed";
  };
  const delivery: DeliveryProvider = {
    name: "sandbox",
    async issue(request) {
      world.issued += 1;
      return { ok: true, goods: { ref: GOODS_REF, hint: GOODS_HINT, secret: `SECRET-${request.orderId}` } };
    },
    // The new goods have not been shown to anyone yet.
    async reissue(request) {
      world.reissued += 1;
      world.shown = false;
      return { ok: true, goods: { ref: REISSUED_REF, hint: GOODS_HINT, secret: `SECRET-${request.orderId}-R${world.reissued}` } };
    },
  };
  const ledger = createLedger({ store, provider: delivery, instanceId: "model", clock });
  /** A fake actor: the queued outcome's output, made at the engine's clock; `crashed` throws. */
  const fake = <TOutput, TInput>(actor: ActorName, before?: (input: TInput, label: string) => Promise<void>) =>
    fromPromise<TOutput, TInput>(async ({ input }) => {
      const label = take(actor);
      if (label === "crashed") throw new Error(`${actor} crashed`);
      await before?.(input, label);
      const given = input as { tokens?: number; promoCode?: string | null };
      return outputFor(actor, label, now, given.tokens ?? 0, { promoCode: given.promoCode ?? null }) as TOutput;
    });
  const actors: PurchaseActors = {
    priceQuote: fake("priceQuote"),
    // Write-first payment index, as the real actor does, so the payment door finds the order.
    createPayment: fake("createPayment", async (input, label) => {
      if (label === "invoiced")
        await store.indexPayment(paymentKey("sandbox", PAYMENT_ID), { orderId: input.orderId, chatId: input.chatId });
    }),
    checkPayment: fake("checkPayment"),
    voidInvoice: fake("voidInvoice"),
    // Goods are issued through the real ledger (exactly once, kept until shown).
    deliverGoods: fake("deliverGoods", async (input, label) => {
      if (label !== "issued" && label !== "issued_keys") return;
      const outcome = await ledger.deliver({ orderId: input.orderId, chatId: input.chatId, tokens: input.tokens, usd: input.usd });
      if (!outcome.ok) throw new Error(`the ledger did not deliver: ${outcome.reason}`);
    }),
    refundPayment: fake("refundPayment"),
    sweepStrayGoods: fake("sweepStrayGoods"),
    checkPromo: fake("checkPromo"),
    reservePromo: fake("reservePromo"),
    releasePromo: fake("releasePromo"),
    // New goods go through the real ledger (once per generation, the old ones recorded as revoked).
    reissueGoods: fake("reissueGoods", async (input, label) => {
      if (label !== "reissued") return;
      const outcome = await ledger.reissue({
        orderId: input.orderId,
        chatId: input.chatId,
        tokens: input.tokens,
        generation: input.generation,
      });
      if (!outcome.ok) throw new Error(`the ledger did not reissue: ${outcome.reason}`);
    }),
  };
  const payments: PaymentProvider = {
    name: "sandbox",
    currency: "USDT",
    createInvoice: async () => fail("unsupported", "the model's createPayment actor makes invoices"),
    async fetchPayment(paymentId) {
      const answer = paymentAnswers.shift();
      if (!answer) {
        surprises.push("fetchPayment");
        return fail("unavailable");
      }
      return ok({ ...answer, paymentId });
    },
    verifyWebhook: () => null,
  };
  const engine = createEngine({
    store,
    catalog: MODEL_CATALOG,
    maxMessageLength: 4_096,
    maxDeliveryAttempts: MAX_DELIVERY_ATTEMPTS,
    retryBackoffMs: RETRY_BACKOFF,
    actors,
    ledger,
    payments,
    latePayment,
    understand: createUnderstander(undefined, { catalog: MODEL_CATALOG }),
    log: silentLogger,
    clock,
    // The model's order, then (a new amount after it ended) others.
    newOrderId: () => (ordersStarted++ === 0 ? ORDER_ID : OrderId.parse(`model-order-${ordersStarted}`)),
    instanceId: "model",
    workTimeoutMs: 2_000,
    inspect: (event: InspectionEvent) => {
      if (event.type !== "@xstate.snapshot") return;
      const snapshot = event.snapshot as Partial<PurchaseSnapshot>;
      // The order's own machine (not its invoked actors or a stray payment's return).
      if (snapshot.value === undefined || !snapshot.context || !("strays" in snapshot.context)) return;
      const path = pathOf(snapshot.value);
      if (path !== observed.at(-1)) observed.push(path);
    },
  });
  // A channel that refuses goods leaves them to be shown when the model says (GOODS_SHOWN).
  engine.setNotifier(async (_chatId, reply) => {
    notified.push(reply);
    if ((reply.kind === "order" || reply.kind === "payment_notice") && reply.secret) {
      if (!world.channelTakesGoods) throw new Error("the channel refused the goods");
      world.shown = true;
    }
  });

  return Object.assign(world, {
    engine,
    store,
    latePayment,
    expect: (actor: ActorName, label: string) => void queues[actor].push(label),
    pending: () => Object.entries(queues).flatMap(([actor, queue]) => queue.map((label) => `${actor}:${label}`)),
    surprises,
    observed,
    notified,
    now: clock,
    order: () => engine.order(ORDER_ID),
    advanceTo: (at: number) => void (now = Math.max(now, at)),
    answerPayment: (answer: Omit<PaymentStatus, "paymentId">) => void paymentAnswers.push(answer),
    close: () => store.close(),
  });
}

/** What a trigger did at the engine's door: the customer's reply, a payment's outcome, the owner's outcome. */
export type Performed = { reply?: EngineReply; confirm?: ConfirmOutcome; admin?: { ok: boolean } };

/** The time the engine's world says a trigger happens at: the same rule as the model's clock. */
async function timeOf(world: World, event: ModelEvent): Promise<number> {
  const record = await world.order();
  const context = record?.snapshot.context as PurchaseSnapshot["context"] | undefined;
  if (event.type === "CONFIRM" && event.label === "late") return Math.max(world.now(), context!.quote!.expiresAt);
  if (event.type === "DEADLINE") {
    const due = record?.summary.dueAt;
    if (due === null || due === undefined) throw new Error("DEADLINE for an order with no deadline stored");
    return Math.max(world.now(), due, event.label === "week_late" ? context!.payment!.expiresAt + WEEK : 0);
  }
  return world.now();
}

/**
 * Performs a trigger the way the world would. The engine's clock moves first by the driver's own rule
 * (from the stored order), which must land on the model's time for the event.
 */
export async function perform(world: World, event: ModelEvent): Promise<Performed> {
  const at = await timeOf(world, event);
  if (event.at !== undefined && at !== event.at)
    throw new Error(`${event.type}:${event.label} happens at ${at} on the engine, at ${event.at} in the model`);
  world.advanceTo(at);
  const { engine } = world;
  const record = await world.order();
  const quoted = (record?.snapshot.context as PurchaseSnapshot["context"] | undefined)?.quote?.tokens ?? null;
  switch (event.type) {
    case "SET_AMOUNT":
      // Typed without a product; with one, a package button of that product.
      return event.product === undefined
        ? { reply: await engine.handleText(CHAT_ID, `I need ${String(event.tokens)}`) }
        : {
            reply: await engine.handleButton(CHAT_ID, { action: "package", tokens: Number(event.tokens), product: String(event.product) }),
          };
    case "SET_PRODUCT":
      return { reply: await engine.handleButton(CHAT_ID, { action: "product", product: String(event.product) }) };
    case "APPLY_PROMO":
      return { reply: await engine.handleCommand(CHAT_ID, { type: "APPLY_PROMO", code: PROMO_TYPED }) };
    case "REISSUE":
      return { reply: await engine.handleButton(CHAT_ID, { action: "reissue", orderId: ORDER_ID }) };
    case "CONFIRM":
      return event.label === "late"
        ? { reply: await engine.handleCommand(CHAT_ID, { type: "CONFIRM" }) }
        : { reply: await engine.handleButton(CHAT_ID, { action: "confirm", orderId: ORDER_ID, shown: quoted }) };
    case "CANCEL":
      return { reply: await engine.handleButton(CHAT_ID, { action: "cancel", orderId: ORDER_ID }) };
    case "CHECK_PAYMENT":
      return { reply: await engine.handleCommand(CHAT_ID, { type: "STATUS" }) };
    case "PAYMENT_RECEIVED":
      world.answerPayment({
        status: "paid",
        amount: (event.amount as typeof CHARGE | null) ?? null,
        foreign: (event.foreign as PaymentStatus["foreign"]) ?? null,
        orderId: ORDER_ID,
      });
      return { confirm: await engine.confirmPayment("sandbox", { paymentId: PAYMENT_ID, chargeId: String(event.chargeId) }) };
    case "PAYMENT_FAILED":
      world.answerPayment({ status: "failed", amount: CHARGE, orderId: ORDER_ID });
      return { confirm: await engine.confirmPayment("sandbox", PAYMENT_ID) };
    case "INVOICE_CLOSED":
      world.answerPayment({ status: "expired", amount: CHARGE, orderId: ORDER_ID });
      return { confirm: await engine.confirmPayment("sandbox", PAYMENT_ID) };
    case "DEADLINE":
      await engine.runDue();
      return {};
    case "GOODS_SHOWN":
      world.shown = true;
      await engine.secretShown(ORDER_ID, CHAT_ID);
      return {};
    case "ADMIN_RETRY_DELIVERY":
      return { admin: await engine.admin.retryDelivery(ORDER_ID, "model-owner") };
    case "ADMIN_REFUND":
      return { admin: await engine.admin.refund(ORDER_ID, { manual: false, by: "model-owner" }) };
    case "REFUND_RECORDED":
      return {
        admin: await engine.admin.refund(ORDER_ID, {
          manual: true,
          by: "model-owner",
          ...(event.label === "stray" ? { chargeId: SECOND_CHARGE } : {}),
        }),
      };
    default:
      throw new Error(`the engine has no door for ${event.type}`);
  }
}

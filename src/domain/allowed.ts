/**
 * Which customer commands the purchase machine accepts, asked of the machine itself (`snapshot.can`)
 * rather than written down a second time. Rules, the LLM's reply schema and the engine's refusals all
 * use this one answer.
 */
import type { SnapshotFrom } from "xstate";
import { type PurchaseMachine, purchaseMachine } from "../../machines/purchase.machine.ts";
import { COMMAND_TYPES, CONVERSATION_COMMANDS, type CommandType, type MachineCommand, type MachineCommandType } from "./commands.ts";
import { ChatId, OrderId } from "./ids.ts";
import type { OrderState } from "./records.ts";

type Snapshot = SnapshotFrom<PurchaseMachine>;

/** A representative event for each command: amounts at the lower limit, so only the state decides. */
function sample(type: MachineCommandType, snapshot: Snapshot, at: number): MachineCommand & { at: number } {
  switch (type) {
    case "QUOTE":
    case "CHANGE_AMOUNT":
      return { type, tokens: snapshot.context.limits.minTokens, at };
    case "CONFIRM":
    case "CANCEL":
    case "STATUS":
    case "HELP":
    case "RESTART":
      return { type, at };
    default: {
      const unhandled: never = type;
      throw new Error(`unknown command ${String(unhandled)}`);
    }
  }
}

const ANY_STATE: ReadonlySet<CommandType> = new Set(CONVERSATION_COMMANDS);
const isAnyState = (type: CommandType): type is (typeof CONVERSATION_COMMANDS)[number] => ANY_STATE.has(type);
/** What a finished order still takes: a look at it, help, questions, the order list. */
const OFFERED: ReadonlySet<CommandType> = new Set(COMMAND_TYPES);
const WHEN_DONE: readonly CommandType[] = (["STATUS", "HELP", ...CONVERSATION_COMMANDS] as const).filter((type) => OFFERED.has(type));

/**
 * The commands the machine takes in this snapshot, in the order they are offered to people and the
 * LLM; questions and the order list ({@link CONVERSATION_COMMANDS}) never reach the machine, so they
 * are allowed in every state.
 */
export function allowedCommands(snapshot: Snapshot, at: number): CommandType[] {
  if (snapshot.status !== "active") return [...WHEN_DONE];
  return COMMAND_TYPES.filter((type) => isAnyState(type) || snapshot.can(sample(type, snapshot, at)));
}

const byState = new Map<OrderState, CommandType[]>();

/**
 * The commands the machine takes in a state, from a representative snapshot of it (a quote still
 * valid, an invoice open). For callers that know only the state's name (reports, tests); the engine
 * asks the live snapshot with {@link allowedCommands}.
 */
export function allowedInState(state: OrderState): readonly CommandType[] {
  let allowed = byState.get(state);
  if (!allowed) {
    const at = 0;
    const start = purchaseMachine.resolveState({ value: "initial", context: sampleContext(at) });
    const value = state === "paid" ? { paid: "waiting_retry" as const } : state;
    const snapshot = purchaseMachine.resolveState({ value, context: start.context });
    const final = purchaseMachine.root.states[state]?.type === "final";
    allowed = final ? [...WHEN_DONE] : allowedCommands(snapshot, at);
    byState.set(state, allowed);
  }
  return allowed;
}

function sampleContext(at: number): Snapshot["context"] {
  const money = { minor: 1, currency: "USD" as const };
  return {
    orderId: OrderId.parse("sample"),
    chatId: ChatId.parse("sample"),
    limits: { minTokens: 1, maxTokens: 1 },
    maxDeliveryAttempts: 1,
    retryBackoffMs: 1,
    tokens: 1,
    quote: { tokens: 1, usd: money, charge: money, quotedAt: at, expiresAt: at + 1 },
    payment: null,
    paidAt: null,
    delivery: { attempts: 0, nextAttemptAt: null, lastError: null, ref: null, hint: null, deliveredAt: null },
    problem: null,
    createdAt: at,
    lastActivityAt: at,
  };
}

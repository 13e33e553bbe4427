/**
 * The bot's command menu, in one place for the customer handlers and the admin menu (which adds to it).
 */
/** The commands shown in Telegram's menu, registered at start-up. */
export const BOT_COMMANDS = [
  { command: "start", description: "Welcome and token packages" },
  { command: "buy", description: "Buy tokens, e.g. /buy 5000" },
  { command: "cart", description: "Show your current order" },
  { command: "status", description: "Check your order's status" },
  { command: "cancel", description: "Cancel the open order" },
  { command: "help", description: "How this works" },
] as const;

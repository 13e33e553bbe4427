/**
 * The Bot API stand-in lives in `scripts/` because `npm run demo:telegram` plays a conversation with it
 * too (a script must not import from `test/`); tests keep importing it from here.
 */
export * from "../../scripts/bot-api-stub.ts";

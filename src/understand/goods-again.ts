/**
 * Asking for the goods again (issue 21): "send me my code", «пришли ключ», "I lost my key", «забыл
 * сохранить код». A new key or code once the order is delivered (the engine decides), a status
 * question before. Written like the other phrase lists (see `intents.ts`).
 */
import { mentions, phrases, wordMatches } from "./text.ts";

const REISSUE_PHRASES = phrases(
  "send me my code, send my code, send me the code, send the code, resend the code, resend my code, resend code, " +
    "show me my code, show my code, show me the code, show the code, send me my key, send my key, send me the key, " +
    "send the key, resend the key, resend my key, show me my key, show my key, show me the key, code again, " +
    "key again, where is my code, wheres my code, where is the code, where is my key, wheres my key, " +
    "where is the key, reissue, re issue, regenerate, пришли код, пришлите код, пришли ключ, пришлите ключ, " +
    "отправь код, отправьте код, отправь ключ, отправьте ключ, скинь код, скиньте код, скинь ключ, скиньте ключ, " +
    "покажи код, покажите код, покажи ключ, покажите ключ, дай код, дайте код, дай ключ, дайте ключ, где код, " +
    "где ключ, где мой код, где мой ключ, код еще раз, ключ еще раз, перевыпуст*",
);
// "I lost my key", «забыл сохранить код»: losing words beside the goods' words.
const LOST_PHRASES = phrases(
  "lost, lose, losing, forgot, forget, deleted, erased, cant find, cannot find, didnt save, did not save, " +
    "dont have my, потерял*, потеря*, удалил*, стер*, забыл*, пропал*, не сохранил*, не могу найти, не найду",
);
const PROMO_WORDS = ["promo*", "coupon*", "discount*", "промо*", "купон*", "скидк*"];
const KEY_WORDS = [
  "key",
  "keys",
  "code",
  "codes",
  "voucher",
  "vouchers",
  "ключ",
  "ключа",
  "ключи",
  "ключик",
  "код",
  "кода",
  "коды",
  "ваучер*",
];

/** The customer asks for their goods again: to be sent them, or because they lost them. */
export function asksForGoodsAgain(words: readonly string[]): boolean {
  // "I lost my promo code" is about a discount, not the goods
  if (words.some((w) => PROMO_WORDS.some((p) => wordMatches(w, p)))) return false;
  if (mentions(words, REISSUE_PHRASES)) return true;
  return mentions(words, LOST_PHRASES) && words.some((w) => KEY_WORDS.some((p) => wordMatches(w, p)));
}

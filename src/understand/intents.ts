/**
 * Words for what a message is about, in English and Russian: payment claims and status checks,
 * orders, cancel and restart, FAQ topics, help, yes and no, greetings, language. Phrases are written
 * lower case without apostrophes and with «е» for «ё», as {@link normalizeText} leaves the message;
 * a trailing "*" matches any ending ("оплатил*").
 */
import type { FaqTopic, LanguageCode } from "./reading.ts";
import { type Phrase, consistsOf, mentions, phrases, startsAny, wordMatches, wordSet } from "./text.ts";

const PAID_CLAIMS = phrases(
  "paid, payed, sent the money, sent money, sent the payment, sent payment, payment sent, payment done, " +
    "payment made, transferred, transfered, sent it, sent you, just sent, money sent, оплатил*, оплачен*, " +
    "заплатил*, перевел*, скинул*, закинул*, отправил* деньги, отправил* оплату, деньги отправил*, " +
    "деньги перевел*, оплату отправил*",
);
const STATUS_PHRASES = phrases(
  "status, deliver, delivered, arrived, arrive, received, where is my, wheres my, where are my, went through, " +
    "go through, gone through, transaction, txid, tx, any update, any updates, update on, news on, news about, " +
    "on my order, about my order, order status, статус, где мой, где мои, " +
    "где моя, прошла, прошел, дошла, дошли, дошел, что с заказом, что с оплатой, что с моим, как там заказ, жду, " +
    "мой код, мой ключ",
);
// "where" (or «где») with one of these is asking after an order: "where is order #4521?", "заказ где?"
const WHERE = wordSet("where wheres где");
const ORDER_THINGS = ["order", "orders", "tokens", "payment", "money", "заказ*", "токен*", "оплат*", "деньги"];
const PAYMENT_WORDS = phrases("payment, payments, оплата, оплату, оплаты, оплатой, платеж*");
const ORDERS_PHRASES = phrases(
  "my orders, order history, purchase history, past orders, previous orders, my purchases, what did i buy, " +
    "what have i bought, what i bought, bought so far, мои заказы, моих заказов, история заказов, история покупок, " +
    "what did i order, мои покупки, что я покупал*, что я купил*, что я заказывал*, прошлые заказы",
);
const STOP_PHRASES = phrases("cancel*, abort, stop, отмен*, стоп");
const RESTART_PHRASES = phrases(
  "start over, restart, reset, new order, start again, begin again, from scratch, заново, сначала, с начала, " +
    "по новой, новый заказ, сбросить, сброс, рестарт",
);
// A cancel or restart under a negation or inside a question ("don't cancel", "can I cancel later?")
// is not an instruction.
const NEGATIONS = wordSet("not never dont doesnt didnt wont cant cannot isnt shouldnt wouldnt не нельзя");
const QUESTION_OPENERS = wordSet(
  "can could how what wat whats which why when should will would is are do does did was were has have may any " +
    "можно как какие какой какая какую каких что сколько когда почему зачем чем есть почем ли",
);

const TOPICS: readonly (readonly [FaqTopic, readonly Phrase[]])[] = [
  ["refunds", phrases("refund*, money back, возврат*, вернуть деньги, вернете деньги, вернуть оплату, вернут деньги")],
  [
    "validity",
    phrases(
      "expire*, expiry, expiration, valid, validity, how long do, do they last, tokens last, last forever, lifetime, " +
        "never expire, forever, roll over, rollover, carry over, срок*, сгора*, сгорят, истека*, истечет, " +
        "действуют, действует, действительн*, " +
        "бессрочн*, навсегда",
    ),
  ],
  [
    "models",
    phrases(
      "model, models, модел*, gpt*, chatgpt, claude, gemini, llama, mistral, openai, anthropic, deepseek, grok, " +
        "sonnet, opus, compatible, llm, llms, ai models, нейросет*, нейронк*, совместим*",
    ),
  ],
  [
    "coins",
    phrases(
      "coin, coins, монет*, crypto*, крипт*, currency, currencies, валют*, btc, bitcoin, биткоин*, eth, ethereum, " +
        "usdt, usdc, ton, tron, trc20, erc20, paypal, card, cards, visa, mastercard, карт*, pay with, pay in, pay by, " +
        "solana, sol, bnb, litecoin, ltc, doge, dogecoin, tether, monero, xmr, trx, " +
        "payment method*, payment option*, do you take, do you accept, you accept, принимаете, принимаешь, " +
        "how to pay, how do i pay, how can i pay, как оплатить, как платить, как заплатить, " +
        "оплатить в, оплатить через, чем оплатить, чем можно оплатить, способ* оплат*, " +
        "чем платить, чем можно платить, чем заплатить, чем можно заплатить, как расплатиться, чем расплатиться, " +
        "как рассчитаться",
    ),
  ],
  // Before delivery: «что я получу?» asks what the tokens are, not how they arrive («как я получу токены?»).
  [
    "what_tokens",
    phrases(
      "what are tokens, what is a token, what is token, whats a token, wat is a token, what are the tokens, " +
        "what am i buying, what exactly am i buying, what do i get exactly, what am i paying for, что такое токен*, " +
        "что за токен*, за что я плачу, " +
        "что я покупаю, что такое токены, what do i actually get, what do i get, что я получу, что я получаю",
    ),
  ],
  [
    "delivery",
    phrases(
      "delivery, deliver*, receive, get them, get the tokens, get my tokens, get tokens, get it, how fast, show up, " +
        "how long until, how long does it take, how soon, сколько ждать, как быстро, когда придут, доставк*, " +
        "получ*, придут, приходят, доставят, выдача, придет код, когда придет",
    ),
  ],
  [
    "price",
    phrases(
      "how much, price, prices, pricing, cost, costs, rate, rates, cheap, cheaper, discount*, expensive, promo*, " +
        "coupon*, сколько стоит, сколько стоят, цена, цены, цену, ценник, прайс, стоимост*, почем, скидк*, дорого, " +
        "дешевле, промокод*, промо, купон*",
    ),
  ],
];

const WHAT = wordSet("what wat whats что чо");

const HELP_PHRASES = phrases(
  "help, how does this work, how does it work, how it works, what can you do, what do you do, what do you sell, " +
    "what can i, how do i, how to, what is this, whats this, menu, commands, info, faq, recommend, suggest, advise, " +
    "what do you offer, what do you have, what do you provide, " +
    "помощь, помоги, помогите, хелп, справка, как это работает, как работает, как пользоваться, что ты умеешь, " +
    "что умеешь, что вы умеете, что вы продаете, что продаете, меню, команды, инфо, посовет*, порекоменд*, подскаж*",
);
const YES_PHRASES = phrases(
  "yes, y, ye, yeh, yeah, yea, yep, yup, ya, sure, sure thing, ok, okay, okey, okie, oki, k, kk, confirm, confirmed, " +
    "подтверди, подтвердите, " +
    "go ahead, lets do it, do it, lets go, " +
    "sounds good, sounds great, buy, pay, deal, agreed, alright, proceed, absolutely, of course, why not, " +
    "go for it, fine, thats fine, perfect, great, cool, good, looks good, works for me, " +
    "да, ага, угу, давай, давайте, ок, окей, го, оформляй, оформляйте, оформи, подтверждаю, подтвердить, согласен, " +
    "согласна, конечно, хорошо, ладно, норм, идет, погнали, поехали, беру, берем, верно",
);
const NO_PHRASES = phrases(
  "no, n, nope, nah, never mind, nevermind, forget it, forget about it, changed my mind, not now, not interested, " +
    "maybe later, naw, nay, nop, no way, hell no, im good, i am good, im fine, im ok, нет, неа, не, нее, не надо, " +
    "не нужно, ни за что, " +
    "не хочу, передумал*, отбой",
);
const GREETING_PHRASES = phrases(
  "hi, hello, hey, hiya, howdy, yo, start, good morning, good afternoon, good evening, good day, greetings, " +
    "привет, приветик, " +
    "good night, приветствую, здравствуйте, здравствуй, здрасте, здрасьте, добрый день, доброе утро, добрый вечер, " +
    "доброй ночи, доброго дня, доброго времени суток, хай, салют, " +
    "хеллоу",
);
// Words that may surround a yes/no/greeting without changing its meaning ("yes please", "no thanks").
const FILLERS = wordSet(
  "please pls plz thanks thank you thx ty then now just actually i it so well oh ah sir lets let me we " +
    "want to would like can will that thats is a the some tokens token them this for really " +
    "пожалуйста спасибо тогда ну так мне это вот же все уже",
);
const GREETING_FILLERS = new Set([...FILLERS, ...wordSet("there guys all everyone bot friend mate всем")]);
// Thanks and goodbyes (issue 21): answered in kind, never as an order step.
const THANKS_PHRASES = phrases(
  "thanks, thank you, thank u, thanks a million, thx, thnx, ty, tysm, cheers, appreciate it, much appreciated, " +
    "many thanks, bye, bye bye, goodbye, good bye, see you, see ya, cya, later, take care, have a good day, " +
    "have a nice day, спасибо, спасибки, спс, пасиб*, благодарю, благодарствую, мерси, пока, покеда, до свидания, " +
    "до встречи, всего доброго, всего хорошего, хорошего дня, удачи",
);
const THANKS_FILLERS = new Set([
  ...GREETING_FILLERS,
  ...wordSet(
    "so much very a lot again for everything your help all ok okay got man bro buddy dude guys and you u " +
      "большое огромное вам тебе за помощь все еще раз ок получил получила получили пришло пришел пришли дошло " +
      "работает супер отлично класс круто и key code voucher credit ключ ключик код ваучер кредит",
  ),
]);
// Wanting to buy without naming an amount (issue 21): "I need some tokens", «хочу купить токены».
const WANT_WORDS = [
  "need",
  "needs",
  "want",
  "wanna",
  "buy",
  "purchase",
  "get",
  "order",
  "grab",
  "хочу",
  "хотел*",
  "хотим",
  "нужн*",
  "надо",
  "купить",
  "куплю",
  "купим",
  "покупаю",
  "взять",
  "возьму",
  "заказать",
  "закажу",
  "приобрести",
  "приобрету",
  "пополнить",
  "бы",
];
const GOODS_WORDS = ["token", "tokens", "credit", "credits", "токен*", "кредит*"];
const LANGUAGES: readonly (readonly [LanguageCode, readonly Phrase[]])[] = [
  ["en", phrases("english, англ*, английск*")],
  ["ru", phrases("russian, русск*, русски")],
];
const LANGUAGE_FILLERS = new Set([
  ...FILLERS,
  ...wordSet("can you speak in switch to language talk write use do u по на можно говори пиши давай язык переключи"),
]);

/** The customer says they have paid ("I paid", "оплатила"): only ever a reason to check. */
export function claimsPayment(words: readonly string[]): boolean {
  return mentions(words, PAID_CLAIMS);
}

/** The customer asks after an order, a payment or a delivery. */
export function asksStatus(words: readonly string[]): boolean {
  if (mentions(words, STATUS_PHRASES)) return true;
  return words.some((w) => WHERE.has(w)) && words.some((w) => ORDER_THINGS.some((p) => wordMatches(w, p)));
}

/** Mentions payment in general ("payment", «оплата»), which the rules read as a status question. */
export function mentionsPayment(words: readonly string[]): boolean {
  return mentions(words, PAYMENT_WORDS);
}

export function asksForOrders(words: readonly string[]): boolean {
  return mentions(words, ORDERS_PHRASES);
}

/** A question rather than a statement: a question mark, or a question word first. */
export function isQuestion(words: readonly string[], text: string): boolean {
  // «ли» marks a Russian yes/no question wherever it stands: «будет ли возврат»
  return text.includes("?") || QUESTION_OPENERS.has(words[0] ?? "") || words.includes("ли");
}

/** A negation among the three words before word `i` ("don't cancel", «не отменяй»). */
function negatedBefore(words: readonly string[], i: number): boolean {
  for (let k = Math.max(0, i - 3); k < i; k++) if (NEGATIONS.has(words[k] as string)) return true;
  return false;
}

/** True when one of the phrases is said plainly: not in a question, not under a negation just before it. */
function instructs(words: readonly string[], list: readonly Phrase[]): boolean {
  if (QUESTION_OPENERS.has(words[0] ?? "")) return false;
  return words.some((_, i) => startsAny(words, i, list) && !negatedBefore(words, i));
}

export function asksToCancel(words: readonly string[]): boolean {
  return instructs(words, STOP_PHRASES);
}

export function asksToRestart(words: readonly string[]): boolean {
  return instructs(words, RESTART_PHRASES);
}

/**
 * The FAQ topic a message asks about, if any. Topic words count in a question, or in a message of
 * at most three words ("refund policy", "prices").
 */
export function faqTopic(words: readonly string[], question: boolean): FaqTopic | null {
  if (!question && words.length > 3) return null;
  for (const [topic, list] of TOPICS) if (mentions(words, list)) return topic;
  // "what even are these tokens?", «что это вообще за токены?»
  if (WHAT.has(words[0] ?? "") && words.some((w) => wordMatches(w, "token*") || wordMatches(w, "токен*"))) return "what_tokens";
  return null;
}

/** The message mentions a price ("how much", «сколько стоит»), whatever else it asks about. */
export function asksPrice(words: readonly string[]): boolean {
  return TOPICS.some(([topic, list]) => topic === "price" && mentions(words, list));
}

export function asksForHelp(words: readonly string[]): boolean {
  return mentions(words, HELP_PHRASES);
}

export function saysYes(words: readonly string[]): boolean {
  return consistsOf(words, YES_PHRASES, FILLERS);
}

export function saysNo(words: readonly string[]): boolean {
  return consistsOf(words, NO_PHRASES, FILLERS);
}

export function greets(words: readonly string[]): boolean {
  return consistsOf(words, GREETING_PHRASES, GREETING_FILLERS);
}

/** Thanks or a goodbye somewhere in the message ("thanks for the gpt key"). */
export function mentionsThanks(words: readonly string[]): boolean {
  return mentions(words, THANKS_PHRASES);
}

/** Thanks or a goodbye and nothing else ("thanks!", "bye", «спасибо большое», «пока»). */
export function thanks(words: readonly string[]): boolean {
  return consistsOf(words, THANKS_PHRASES, THANKS_FILLERS);
}

/**
 * The customer wants to buy but names no amount: a wanting word (not negated: "I don't need tokens")
 * and the goods ("I need some tokens", «хочу купить токены»). Callers check for an amount first.
 */
export function wantsToBuy(words: readonly string[]): boolean {
  // "like" wants only as "I'd like" / "would like": "tokens look like…" does not
  const wanting = (w: string, i: number) =>
    WANT_WORDS.some((p) => wordMatches(w, p)) || (w === "like" && (words[i - 1] === "id" || words[i - 1] === "would"));
  const wants = words.some((w, i) => wanting(w, i) && !words.slice(Math.max(0, i - 3), i).some((n) => NEGATIONS.has(n)));
  const negatedAfter = words.some((w, i) => NEGATIONS.has(w) && WANT_WORDS.some((p) => wordMatches(words[i + 1], p)));
  return wants && !negatedAfter && words.some((w) => GOODS_WORDS.some((p) => wordMatches(w, p)));
}

/** A request to talk in another language ("english please", «на русском»). */
export function asksForLanguage(words: readonly string[]): LanguageCode | null {
  for (const [code, list] of LANGUAGES) if (consistsOf(words, list, LANGUAGE_FILLERS)) return code;
  return null;
}

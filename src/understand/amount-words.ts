/**
 * The words around a number that tell whether it is an amount, money, or a count of something else,
 * in English and Russian. Lower case, «е» for «ё», no apostrophes, as normalizeText leaves them.
 */
import { wordSet } from "./text.ts";

export const TOKEN_WORDS = wordSet("token tokens tok toks tkn tkns токен токена токенов токены токенчиков");
export const PACKAGE_WORDS = wordSet("package pack bundle plan pkg пакет пакетик тариф");
// Between a number and "tokens": "10k api tokens".
export const TOKEN_ADJECTIVES = wordSet("ai api llm gpt openai claude openrouter гпт апи");
export const USD_WORDS = wordSet(
  "usd usdt usdc dollar dollars buck bucks доллар доллара долларов долларах бакс бакса баксов баксы долл дол",
);
export const CENT_WORDS = wordSet("cent cents цент цента центов");
export const OTHER_MONEY_WORDS = wordSet(
  "eur euro euros евро rub rubles roubles руб рубль рубля рублей р gbp pound pounds фунтов ton тон btc eth " +
    "star stars xtr звезда звезды звезд звездочек",
);
export const CODES_BEFORE = new Map([
  ["usd", "usd"],
  ["usdt", "usd"],
  ["usdc", "usd"],
  ["eur", "other"],
  ["rub", "other"],
  ["gbp", "other"],
]);
export const SIGNS = new Map([
  ["$", "usd"],
  ["€", "other"],
  ["£", "other"],
  ["¥", "other"],
  ["₽", "other"],
  ["₹", "other"],
  ["₿", "other"],
]);
// A number right after these names something, not an amount: "gpt 4", "step 2", "error 429".
export const NAMES_BEFORE = wordSet(
  "gpt claude gemini llama mistral qwen deepseek sonnet opus haiku version ver v step error code top room " +
    "номер шаг ошибка ошибку версия версии",
);
export const RATE_BEFORE = wordSet("per each every");
// Words that make money in a message a budget: "$25 worth", "I can spend 30 dollars".
export const BUDGET_WORDS = wordSet("worth budget spend spending бюджет потратить потрачу");
// A plain number after these is dollars: "my budget is 100", «бюджет 30».
export const BUDGET_BEFORE = wordSet("budget spend бюджет потратить потрачу");
// "2 packs of 5k": a count of packages, not a size.
export const PACKAGE_PLURALS = wordSet("packs packages bundles пакета пакетов пакеты");
// "3 x 1000", "1000 * 3".
export const TIMES = wordSet("x х * × times раза раз");
// Words that may follow an amount; any other word after a number means it counts that thing.
export const AFTER_AMOUNT = wordSet(
  "please pls plz now asap then instead and or to for is would will should thanks thank thx ty right today ok " +
    "okay yes yeah if so but as it that this rather maybe no not sorry actually hmm oops wait total i im we you " +
    "u how what whats can could enough at more of cost costs " +
    "пожалуйста плиз сейчас тогда и или а но на за хватит будет нормально норм ок да нет не пожалуй хотя " +
    "вернее точнее лучше ой вместо штук шт сразу мне нам можно сколько это если то наверное думаю стоит до",
);
// Words before a number that make it an amount: buying, changing, correcting.
export const CUES = wordSet(
  "buy need want get order take give gimme lemme make change set purchase grab send have with for rather " +
    "actually instead no nope nah sorry mean meant said correction oops wait better prefer do to bump mind " +
    "scratch just only got quantity qty amount count typo mistake " +
    "купить куплю купим взять возьму беру берем нужно нужны нужен нужна надо хочу хотим хотел хотела дай " +
    "дайте давай давайте закажу заказать заказываю оформи оформите оформить оформляй сделай сделайте " +
    "поменяй поменяйте измени измените на за лучше точнее вернее нет ой а можно бы пусть пускай количество " +
    "опечатка ошибся ошиблась",
);
// Words that may sit between a cue and its number: "get like 3000", "мне бы где-то 5к".
export const SKIPPABLE = wordSet(
  "like about around roughly is of approx approximately maybe say some me us it that the a up them you u just only " +
    "где то около примерно мне нам бы ну это так все таки же гдето всетаки хотя at least most min minimum " +
    "минимум",
);
// A message made only of numbers and these words is about an amount ("ok 2000", "нет, 3000").
export const BARE_WORDS = wordSet(
  "yes yeah yep ok okay k sure please pls plz thanks thx ty thank you hi hello hey yo um uh hmm hm eh ah oh " +
    "so well just only maybe about around roughly approx like say lets let me us i id ill im we need want " +
    "would to get buy take give gimme lemme make it that this then now instead actually no nope nah not sorry " +
    "rather or and between from tokens token the a an of for fine go with do can could u how much is what " +
    "whats price cost order total somewhere guess think thinking probably perhaps worth does have got ive um " +
    "should be enough will hopefully less lower fewer more many max maximum tops " +
    "да ну ок окей давай давайте можно мне нам бы хочу нужно надо пожалуйста плиз спасибо тогда лучше нет не " +
    "а или и до от на за штук шт где то примерно около возьму беру куплю купить взять сколько стоит будет " +
    "это пусть ой хотя точнее вернее вместо так привет хм токенов токена токены токен у меня все таки же есть " +
    "достаточно хватит меньше больше между максимум гдето всетаки",
);
// Words that change what a number means ("another thousand", "double", "a few grand"): the rules
// cannot do that arithmetic safely, so such a message is left to the LLM or a clarifying reply.
export const MODIFIERS = wordSet(
  "half quarter couple dozen another more extra add plus minus double triple twice thrice few several same " +
    "less fewer еще больше меньше пару пара несколько вдвое двойной удвой добавь добавить плюс минус",
);
// A later amount replaces an earlier one when one of these comes between them.
export const CORRECTIONS = wordSet(
  "no nope nah sorry actually rather mean meant wait oops correction scratch better instead typo mistake but " +
    "нет ой хотя лучше точнее вернее пардон опечатка ошибся ошиблась но не",
);
// After the last amount, these say it replaces the earlier one: "6k, er, 5k I mean".
export const CORRECTS_BEFORE_IT = wordSet("mean meant sorry rather instead точнее вернее");
// Words linking amounts that belong together: "2000 or 3000", "not 3000 — 300", "от 5 до 10 тысяч".
export const LINKS = wordSet(
  "or to and between not no nope nah sorry actually rather than instead of i mean meant wait oops hmm just " +
    "only maybe make it that scratch correction better say like please then tokens token k typo mistake my bad " +
    "или до и не нет а лучше хотя точнее вернее ой вместо то есть ну давай можно токенов токена опечатка ошибся",
);
export const RANGE_LINKS = wordSet("or to and - – или до и");
// After these, a bare number takes the scale of the one before: "не тысячу, а две", "5k, no, 6".
export const SCALE_LINKS = wordSet(
  "or to and not no nope sorry actually rather but instead or или до и не нет а лучше хотя точнее вернее ой вместо",
);
// An amount told as history is not this order: "I bought 2000 tokens last week".
// After these a number is a figure of speech: "thanks a million", «спасибо тысячу раз».
export const THANKS = wordSet("thanks thank thx спасибо");
export const PAST_PURCHASE = wordSet(
  "bought ordered purchased had used купил купила купили покупал покупала заказывал заказывала заказал заказала " + "брал брала взял взяла",
);
export const NEGATIONS_BEFORE = wordSet("not не");
export const DONT = wordSet("dont не");
export const WANTING = wordSet("want need надо нужно хочу нужны");

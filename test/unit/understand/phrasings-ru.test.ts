/**
 * Russian customer messages and what a person would take them to mean (issue 14): with and without
 * «ё», casual forms, slang for thousands and millions. Written before the parser was tuned to them.
 */
import {
  amount,
  budget,
  clarifyAmounts,
  describePhrasings,
  is,
  language,
  type PhrasingRow,
  promo,
  question,
  rowsOf,
} from "./phrasing-table.ts";

const AMOUNTS = rowsOf("amount", [
  ["2000", amount(2000)],
  ["две тысячи", amount(2000)],
  ["2 тыс", amount(2000)],
  ["5к", amount(5000)],
  ["5к токенов", amount(5000)],
  ["полмиллиона", amount(500_000)],
  ["пол миллиона токенов", amount(500_000)],
  ["хочу 3000 токенов", amount(3000)],
  ["нужно 10 тысяч токенов", amount(10_000)],
  ["дайте 1500", amount(1500)],
  ["полторы тысячи", amount(1500)],
  ["две с половиной тысячи", amount(2500)],
  ["куплю 20к", amount(20_000)],
  ["мне бы тысяч пять", amount(5000)],
  ["давай 4000", amount(4000)],
  ["возьму 7 тыс.", amount(7000)],
  ["сколько стоит 5000 токенов?", amount(5000)],
  ["сколько будет за 2000?", amount(2000)],
  ["12 000 токенов", amount(12_000)],
  ["три тысячи пятьсот", amount(3500)],
  ["сто тысяч", amount(100_000)],
  ["миллион токенов", amount(1_000_000)],
  ["1 млн", amount(1_000_000)],
  ["10 тыщ", amount(10_000)],
  ["лям токенов", amount(1_000_000)],
  ["пять тысяч токенов пожалуйста", amount(5000)],
  ["хочу купить 2500 токенов", amount(2500)],
  ["двадцать тысяч", amount(20_000)],
  ["беру пакет на 10к", amount(10_000)],
  ["оформи 3к", amount(3000)],
  ["закажу 1000", amount(1000)],
  ["а можно 800?", amount(800)],
  ["3.500 токенов", amount(3500)],
  ["тысячу токенов", amount(1000)],
  ["Привет, нужно 2к токенов", amount(2000)],
  ["5 тысяч 200", amount(5200)],
  ["1,5к", amount(1500)],
]);

const CHANGES = rowsOf(
  "amount",
  [
    ["давай лучше 5000", amount(5000)],
    ["измени на 2500", amount(2500)],
  ],
  { phase: "quoted" },
);

const CORRECTIONS = rowsOf("correction", [
  ["3к, ой нет, 4к", amount(4000)],
  ["2000, хотя нет, 2500", amount(2500)],
  ["5000... точнее 5500", amount(5500)],
  ["давай 1000, а лучше 1500", amount(1500)],
  ["1000 токенов, вернее 2000", amount(2000)],
]);

const QUOTED_CORRECTIONS = rowsOf("correction", [["нет, лучше 3000", amount(3000)]], { phase: "quoted" });

const NEGATIONS = rowsOf("negation", [
  ["не 3000, а 300", amount(300), 3000],
  ["1000, не 100", amount(1000), 100],
  ["нужно 5к, а не 50к", amount(5000), 50_000],
  ["не 10 тысяч, а 1 тысяча", amount(1000), 10_000],
  ["500 вместо 5000", amount(500), 5000],
]);

const BUDGETS = rowsOf("budget", [
  ["на 50 долларов", budget(5000)],
  ["на $20", budget(2000)],
  ["на 30 баксов", budget(3000)],
  ["что можно купить на 100 долларов?", budget(10_000)],
  ["хочу на 25 usdt", budget(2500)],
  ["сколько токенов за 10$?", budget(1000)],
  ["на 15,50 долларов", budget(1550)],
  ["на пятьдесят долларов", budget(5000)],
]);

const CLARIFY = rowsOf("clarify", [
  ["2000 или 3000", clarifyAmounts(2000, 3000)],
  ["от 5 до 10 тысяч", clarifyAmounts(5000, 10_000)],
]);

// Numbers that are not amounts: never read as one.
const NON_AMOUNTS = rowsOf("non_amount", [
  ["нас 4 человека, что посоветуете?", is("help")],
  ["я уже 3 раза пробовал", is("none")],
  ["работает с gpt-4?", question("models")],
  ["пробовал 2 раза, не получилось", is("none")],
  ["заказ №123 где?", is("status")],
  ["жду уже 20 минут, где токены?", is("status")],
  ["у нас 10 разработчиков", is("none")],
  ["через 5 минут оплачу", is("none")],
  ["спасибо, 5 звезд", is("none")],
  ["токены действуют 30 дней?", question("validity")],
  ["поддерживаете claude 3.5?", question("models")],
]);

const QUESTIONS = rowsOf("question", [
  ["что такое токены?", question("what_tokens")],
  ["что за токены вообще", question("what_tokens")],
  ["какие модели поддерживаются?", question("models")],
  ["с какими моделями работает?", question("models")],
  ["сколько действуют токены?", question("validity")],
  ["токены сгорают?", question("validity")],
  ["есть срок действия?", question("validity")],
  ["можно вернуть деньги?", question("refunds")],
  ["как сделать возврат", question("refunds")],
  ["какие монеты принимаете?", question("coins")],
  ["можно оплатить в usdt?", question("coins")],
  ["чем можно оплатить?", question("coins")],
  ["как получить токены?", question("delivery")],
  ["как происходит доставка?", question("delivery")],
  ["сколько стоит?", question("price")],
  ["какая цена?", question("price")],
  ["почём токены", question("price")],
  // Issue 13: FAQ topics, answered from the owner's faq/ru.ftl.
  ["когда придёт код?", question("delivery")],
  ["как быстро доставка?", question("delivery")],
  ["что я получу?", question("what_tokens")],
  ["что я покупаю?", question("what_tokens")],
  ["а можно вернуть деньги?", question("refunds")],
  ["можно оплатить в TON?", question("coins")],
]);

const CONFIRMS = rowsOf(
  "intent",
  [
    ["да", is("confirm")],
    ["ага", is("confirm")],
    ["угу", is("confirm")],
    ["давай", is("confirm")],
    ["ок", is("confirm")],
    ["окей", is("confirm")],
    ["да, оформляй", is("confirm")],
    ["подтверждаю", is("confirm")],
    ["согласен", is("confirm")],
    ["го", is("confirm")],
    ["Да!", is("confirm")],
    ["конечно", is("confirm")],
  ],
  { phase: "quoted" },
);

const CANCELS = rowsOf(
  "intent",
  [
    ["нет", is("cancel")],
    ["отмена", is("cancel")],
    ["отменить", is("cancel")],
    ["отмени заказ", is("cancel")],
    ["не надо", is("cancel")],
    ["передумал", is("cancel")],
    ["нет спасибо", is("cancel")],
    ["стоп", is("cancel")],
  ],
  { phase: "quoted" },
);

const PAYMENT_TALK = rowsOf(
  "intent",
  [
    ["статус", is("status")],
    ["где мой заказ", is("status")],
    ["оплата прошла?", is("status")],
    ["где мои токены?", is("status")],
    ["что с заказом?", is("status")],
    ["какой статус заказа", is("status")],
    ["оплатил", is("paid_claim")],
    ["я оплатила", is("paid_claim")],
    ["всё оплачено", is("paid_claim")],
    ["перевел деньги", is("paid_claim")],
    ["скинул оплату", is("paid_claim")],
  ],
  { phase: "awaiting_payment" },
);

const OTHER_INTENTS = rowsOf("intent", [
  ["помощь", is("help")],
  ["помоги", is("help")],
  ["как это работает?", is("help")],
  ["что ты умеешь?", is("help")],
  ["меню", is("help")],
  ["привет", is("greeting")],
  ["Привет!", is("greeting")],
  ["здравствуйте", is("greeting")],
  ["добрый день", is("greeting")],
  ["хай", is("greeting")],
  ["приветик 👋", is("greeting")],
  ["мои заказы", is("orders")],
  ["что я покупал?", is("orders")],
  ["история заказов", is("orders")],
  ["покажи мои покупки", is("orders")],
  ["на русском пожалуйста", language("ru")],
  ["можно по-английски?", language("en")],
]);

const RESTARTS = rowsOf(
  "intent",
  [
    ["заново", is("restart")],
    ["начать сначала", is("restart")],
    ["давай по новой", is("restart")],
    ["новый заказ", is("restart")],
  ],
  { phase: "quoted" },
);

// Written after the parser, to measure it on phrasings it was not built around (issue 14).
// First run, before any tuning: 55/61.
const LATER = [
  ...rowsOf("amount", [
    ["мне нужно 15 тысяч токенов", amount(15_000)],
    ["3 к", amount(3000)],
    ["десять тыщ", amount(10_000)],
    ["сорок тысяч токенов", amount(40_000)],
    ["хочу пакет 5000", amount(5000)],
    ["2.5к", amount(2500)],
    ["давайте 6 тысяч", amount(6000)],
    ["примерно 8000", amount(8000)],
    ["восемь тысяч двести", amount(8200)],
    ["четверть миллиона", amount(250_000)],
    ["токенов 5000", amount(5000)],
    ["беру 20 000", amount(20_000)],
    ["одну тысячу", amount(1000)],
    ["мне 3000", amount(3000)],
    ["3000 плиз", amount(3000)],
    ["а сколько стоит 1000 токенов?", amount(1000)],
  ]),
  ...rowsOf(
    "amount",
    [
      ["сделай 4000", amount(4000)],
      ["поменяй на 7к", amount(7000)],
    ],
    { phase: "quoted" },
  ),
  ...rowsOf("correction", [
    ["2000, ой, 3000", amount(3000)],
    ["5к... нет, 6к", amount(6000)],
  ]),
  ...rowsOf("correction", [["нет, давай всё-таки 1000", amount(1000)]], { phase: "quoted" }),
  ...rowsOf("negation", [
    ["не 500, а 5000", amount(5000), 500],
    ["мне 2000 а не 200", amount(2000), 200],
  ]),
  ...rowsOf("budget", [
    ["на 40 баксов", budget(4000)],
    ["что дадите за 20 долларов?", budget(2000)],
    ["у меня 100$", budget(10_000)],
    ["на двадцать долларов", budget(2000)],
    ["бюджет 30 usdt", budget(3000)],
  ]),
  ...rowsOf("clarify", [
    ["1000 или 2000?", clarifyAmounts(1000, 2000)],
    ["3-5к", clarifyAmounts(3000, 5000)],
  ]),
  ...rowsOf("non_amount", [
    ["нас 3 человека", is("none")],
    ["2 раза писал", is("none")],
    ["верну через 2 дня", is("none")],
    ["работает ли с gpt-4o?", question("models")],
    ["у меня 2 аккаунта", is("none")],
    ["оплачу через 15 минут", is("none")],
  ]),
  ...rowsOf("non_amount", [["жду 10 минут", is("status")]], { phase: "awaiting_payment" }),
  ...rowsOf("question", [
    ["токены бессрочные?", question("validity")],
    ["как долго действуют токены", question("validity")],
    ["можно ли вернуть оплату?", question("refunds")],
    ["принимаете биткоин?", question("coins")],
    ["оплата картой есть?", question("coins")],
    ["через сколько придут токены?", question("delivery")],
    ["что это вообще за токены?", question("what_tokens")],
    ["какие нейросети поддерживаются?", question("models")],
    ["сколько стоят токены?", question("price")],
  ]),
  ...rowsOf(
    "intent",
    [
      ["да, давай", is("confirm")],
      ["ок, подтверждаю", is("confirm")],
      ["нет, не надо", is("cancel")],
      ["отменяй", is("cancel")],
      ["передумала", is("cancel")],
      ["давай заново", is("restart")],
    ],
    { phase: "quoted" },
  ),
  ...rowsOf(
    "intent",
    [
      ["что с моим заказом?", is("status")],
      ["я перевел", is("paid_claim")],
      ["деньги отправил", is("paid_claim")],
      ["готово, оплатил", is("paid_claim")],
    ],
    { phase: "awaiting_payment" },
  ),
  ...rowsOf("intent", [
    ["мои прошлые заказы", is("orders")],
    ["здрасте", is("greeting")],
    ["доброе утро!", is("greeting")],
    ["помогите пожалуйста", is("help")],
    ["по-английски, пожалуйста", language("en")],
  ]),
];

// A second unseen batch, written after the first was read. First run, before tuning: 38/46.
const FRESH = [
  ...rowsOf("amount", [
    ["мне нужно токенов на 3000", amount(3000)],
    ["купить 5000", amount(5000)],
    ["5 тыщ", amount(5000)],
    ["пять к", amount(5000)],
    ["два миллиона", amount(2_000_000)],
    ["одна тысяча пятьсот", amount(1500)],
    ["токенов тысяч десять", amount(10_000)],
    ["нужен пакет на 20 тысяч", amount(20_000)],
    ["сто пятьдесят тысяч токенов", amount(150_000)],
    ["2 000 токенов", amount(2000)],
    ["хочу 1.5к", amount(1500)],
    ["ну давай 3000", amount(3000)],
    ["сколько стоит тысяча токенов?", amount(1000)],
  ]),
  ...rowsOf(
    "amount",
    [
      ["можно поменять на 6000?", amount(6000)],
      ["лучше 2к", amount(2000)],
    ],
    { phase: "quoted" },
  ),
  ...rowsOf("budget", [
    ["на 10 долларов", budget(1000)],
    ["есть 25 баксов, сколько это токенов?", budget(2500)],
    ["потратить 40$", budget(4000)],
    ["на сотку долларов", budget(10_000)],
  ]),
  ...rowsOf("correction", [
    ["4000, нет, 3000", amount(3000)],
    ["давай 5к... хотя, лучше 7к", amount(7000)],
  ]),
  ...rowsOf("negation", [["не тысячу, а две", amount(2000), 1000]]),
  ...rowsOf("clarify", [["5 или 10 тысяч", clarifyAmounts(5000, 10_000)]]),
  ...rowsOf("non_amount", [
    ["у меня 3 вопроса", is("none")],
    ["мне 25 лет", is("none")],
    ["на 2 месяца хватит?", is("none")],
    ["работает ли с gpt 4?", question("models")],
  ]),
  ...rowsOf("question", [
    ["через сколько дней сгорают токены?", question("validity")],
    ["можно ли оплатить картой?", question("coins")],
    ["какие криптовалюты принимаете", question("coins")],
    ["будет ли возврат если не подойдет", question("refunds")],
    ["как я получу токены", question("delivery")],
    ["что такое токен", question("what_tokens")],
    ["с claude работает?", question("models")],
  ]),
  ...rowsOf(
    "intent",
    [
      ["ага, давай", is("confirm")],
      ["ок го", is("confirm")],
      ["нее", is("cancel")],
      ["не, не надо", is("cancel")],
      ["отменяем", is("cancel")],
      ["начнем сначала", is("restart")],
    ],
    { phase: "quoted" },
  ),
  ...rowsOf(
    "intent",
    [
      ["где токены?", is("status")],
      ["я уже оплатил, где токены?", is("paid_claim")],
    ],
    { phase: "awaiting_payment" },
  ),
  ...rowsOf("intent", [
    ["мои заказы покажи", is("orders")],
    ["привет!", is("greeting")],
    ["доброй ночи", is("greeting")],
    ["что умеешь?", is("help")],
  ]),
];

// A third unseen batch. First run, before tuning: 31/36.
const THIRD = [
  ...rowsOf("amount", [
    ["мне бы 3 тысячи", amount(3000)],
    ["хочу где-то 4 тыс токенов", amount(4000)],
    ["пожалуйста 2500 токенов", amount(2500)],
    ["дайте пожалуйста тысячу", amount(1000)],
    ["нужно штук 5 тысяч", amount(5000)],
    ["5 000", amount(5000)],
    ["оформите на 3000", amount(3000)],
    ["10к пожалуйста", amount(10_000)],
    ["двести тысяч", amount(200_000)],
    ["давай 1к", amount(1000)],
  ]),
  ...rowsOf("correction", [
    ["3000... а не, 2000", amount(2000)],
    ["давай 2к, нет, всё же 3к", amount(3000)],
  ]),
  ...rowsOf("negation", [["нужно 2000, а не 20000", amount(2000), 20_000]]),
  ...rowsOf("budget", [
    ["закину на 20 баксов", budget(2000)],
    ["у меня бюджет 50$", budget(5000)],
    ["на сто долларов", budget(10_000)],
  ]),
  ...rowsOf("non_amount", [
    ["спасибо большое", is("thanks")], // issue 21: thanks, and still never an amount
    ["я с 3 аккаунтов", is("none")],
    ["через 10 минут отвечу", is("none")],
    ["мне 2 вопроса задать", is("none")],
    ["купил 3000 вчера, все ок", is("none")],
  ]),
  ...rowsOf("question", [
    ["а токены не сгорят?", question("validity")],
    ["как оплатить?", question("coins")],
    ["сколько ждать токены после оплаты?", question("delivery")],
    ["это для chatgpt?", question("models")],
    ["вернете деньги если что?", question("refunds")],
  ]),
  ...rowsOf(
    "intent",
    [
      ["подтверди", is("confirm")],
      ["да, всё верно", is("confirm")],
      ["не, отбой", is("cancel")],
      ["отмени пожалуйста", is("cancel")],
      ["начать заново", is("restart")],
    ],
    { phase: "quoted" },
  ),
  ...rowsOf(
    "intent",
    [
      ["ну что там с оплатой?", is("status")],
      ["я оплатил только что", is("paid_claim")],
    ],
    { phase: "awaiting_payment" },
  ),
  ...rowsOf("intent", [
    ["история покупок", is("orders")],
    ["здравствуй", is("greeting")],
    ["помощь нужна", is("help")],
  ]),
];

// Issue 21: phrasings found when the shop was tried as a new user would (they failed before it).
const NEW_USER = [
  ...rowsOf("intent", [
    ["хочу купить токены", is("wants_to_buy")],
    ["нужны токены", is("wants_to_buy")],
    ["можно купить токенов?", is("wants_to_buy")],
    ["мне бы токенов взять", is("wants_to_buy")],
    ["токены не нужны", is("none")],
    // Asking for the goods again: a new key once delivered, a status question before (rules.test.ts).
    ["пришли код", is("reissue")],
    ["пришлите ключ", is("reissue")],
    ["где мой код?", is("reissue")],
    ["покажи код еще раз", is("reissue")],
    ["потерял ключ", is("reissue")],
    ["я потеряла код", is("reissue")],
    ["не могу найти ключ", is("reissue")],
    ["ключ потерялся", is("reissue")],
    ["забыл сохранить ключ", is("reissue")],
    ["перевыпустите ключ пожалуйста", is("reissue")],
    ["спасибо, всё работает", is("thanks")],
    ["спасибо за код", is("thanks")],
    ["спасибо!", is("thanks")],
    ["спасибо, всё пришло", is("thanks")],
    ["спс", is("thanks")],
    ["благодарю", is("thanks")],
    ["пока", is("thanks")],
    ["до свидания", is("thanks")],
    ["всего доброго", is("thanks")],
  ]),
  ...rowsOf(
    "intent",
    [
      ["нет, спасибо", is("cancel")],
      ["да, спасибо", is("confirm")],
    ],
    { phase: "quoted" },
  ),
  ...rowsOf("intent", [["я оплатил, пришлите код", is("paid_claim")]], { phase: "awaiting_payment" }),
  // Promo codes, as typed (the catalog decides whether one exists); never an amount.
  ...rowsOf("non_amount", [
    ["промокод SPRING10", promo("SPRING10")],
    ["промо-код SPRING10", promo("SPRING10")],
    ["у меня есть промокод: WELCOME5", promo("WELCOME5")],
    ["промокод welcome5", promo("welcome5")],
    ["купон SAVE20", promo("SAVE20")],
    ["промокод есть?", question("price")],
    ["а промокоды есть?", question("price")],
    ["я потерял промокод", is("none")],
  ]),
  ...rowsOf("question", [
    ["а чем платить?", question("coins")],
    ["какие монеты?", question("coins")],
    ["чем можно заплатить?", question("coins")],
    ["как расплатиться?", question("coins")],
  ]),
  ...rowsOf("amount", [
    ["сколько будет стоить 10к?", amount(10_000)],
    ["сколько стоит 10к?", amount(10_000)],
    ["а 5000 сколько будет стоить?", amount(5000)],
    ["1000 гпт токенов", amount(1000)],
  ]),
];

const ROWS: PhrasingRow[] = [
  ...NEW_USER,
  ...AMOUNTS,
  ...CHANGES,
  ...CORRECTIONS,
  ...QUOTED_CORRECTIONS,
  ...NEGATIONS,
  ...BUDGETS,
  ...CLARIFY,
  ...NON_AMOUNTS,
  ...QUESTIONS,
  ...CONFIRMS,
  ...CANCELS,
  ...PAYMENT_TALK,
  ...OTHER_INTENTS,
  ...RESTARTS,
  ...LATER,
  ...FRESH,
  ...THIRD,
];

// Floor: the accuracy reached (331/332, issue 21: "я потерял промокод" is read as a price question, whose
// answer says how to give a code) less a hair, so a regression fails the build.
describePhrasings("RU", ROWS, 80, 0.99);

# TokenGoblin's words in English: the reference language. Every other file in this folder must have
# exactly the same message ids (test/unit/i18n/locales.test.ts checks it).
#
# Conventions:
# - Variables arrive already formatted for the language and escaped for the chat's markup: amounts
#   ($amount, $price, $charge), links, ids. Counts used to pick a plural form arrive as numbers
#   ($count, $minutes, $limitCount) next to their formatted text ($tokens, $limit).
# - No <, > or & in the text itself: Telegram reads replies as HTML.
# - Line breaks inside a message are kept.

## The language itself, as its speakers write it (the /language buttons show it).
language-name = English

## Amounts
tokens = { $count ->
    [one] { $tokens } token
   *[other] { $tokens } tokens
}
# A round package on a button: 2k, 10k.
tokens-thousands = { $thousands }k
# $amount is the number in this language's format (grouping and decimal separator).
money = { $currency ->
    [USD] ${ $amount }
    [USDT] { $amount } USDT
   *[XTR] { $amount } ⭐
}
# How long a quote or payment link stays valid.
time-left = { $minutes ->
    [1] about a minute
    [one] { $minutes } minute
   *[other] { $minutes } minutes
}
# The smallest and largest order; $min and $max are formatted, $minCount and $maxCount pick the plural.
limits = { $minCount ->
    [one] { $min } token
   *[other] { $min } tokens
} to { $maxCount ->
    [one] { $max } token
   *[other] { $max } tokens
}

## Conversation
welcome = 👋 Welcome to TokenGoblin!
    { $help }
help = I sell AI API credit at { $price } per { $per } tokens ({ $limits }).
    Just tell me what you need, like "I need 2000 tokens", or pick a package below. You can say "change it to 5000", "status" or "cancel" at any time.
conversation-reset = ℹ️ I couldn't restore our earlier conversation, so we're starting fresh. Your orders are safe.
thanks = 🙌 Happy to help! Write any time you need more tokens.
ask-amount = How many tokens would you like?
ask-amount-within = How many tokens would you like? ({ $limits })
no-open-order = No open order right now. How many tokens would you like?
no-order-yet = No open order yet. { $help }
not-understood = Sorry, I didn't get that. { $order }
not-understood-no-order = Sorry, I didn't get that. Tell me an amount like "2000 tokens", or pick a package:
stale-button = That button belongs to an order that is no longer active.
too-long = That message is too long for me (over { $limitCount ->
    [one] { $limit } character
   *[other] { $limit } characters
}). Please send a shorter one, like "2000 tokens".
unsupported-message = I can only read text. Tell me how many tokens you need, or use the buttons.
rate-limited = You're sending messages very fast. Please wait a few seconds and try again.
unavailable = Sorry, something went wrong on our side. Nothing was lost; please try again in a moment.

## Refusals
refused-amount-out-of-range = { $amount } is outside what I can sell: orders are { $limits }.
refused-that-amount-out-of-range = That amount is outside what I can sell: orders are { $limits }.
refused-nothing-to-confirm = There's nothing to confirm yet. Tell me how many tokens you need.
refused-nothing-to-cancel = There's no open order to cancel.
refused-payment-in-progress = Your order is waiting for payment. Cancel it first if you want a different amount.
refused-delivery-in-progress = Your payment is confirmed and the order is being delivered; it can't be changed now.
refused-not-now = That can't be done at this step.

## Problems shown above an order
problem-quote-refreshed = Your previous quote had expired, so here is a fresh one.
problem-payment-unavailable = ⚠️ I couldn't create the payment just now. Press Confirm to try again in a moment.
problem-pricing-unavailable = ⚠️ I couldn't price that right now. Please try again in a moment.
problem-out-of-stock = ⚠️ Sorry, we can't deliver that much right now. Try a smaller amount.
# Why the promo code given was not applied. $reason: unknown, expired, used_up, wrong_product, already_used_by_you.
problem-promo-refused = 🏷 { $reason ->
    [expired] That promo code has expired, so it was not applied.
    [used_up] That promo code has been used up, so it was not applied.
    [wrong_product] That promo code is not valid for this product, so it was not applied.
    [already_used_by_you] You have already used that promo code, so it was not applied.
   *[unknown] I don't know that promo code. Check its spelling?
}
problem-reissue-failed = ⚠️ I couldn't replace your key or code just now; the one you have still works. Please ask again in a moment.

## The order: one message per kind of state (each state names its message in the machine's meta.words)
order-initial = How many tokens would you like? ({ $limits })
order-working = ⏳ Working on your order for { $amount }… I'll update you in a moment.
order-quoted = 🧾 { $amount } for { $price }.
    This price is held for { $time }. Confirm to get a payment link, or tell me another amount.
# The price when the customer pays in another currency than the price is set in.
price-with-charge = { $usd } (you pay { $charge })
order-awaiting-payment = 💳 Order { $orderId }: { $amount } for { $price }.
    Pay here: { $payUrl }
    The link is valid for { $time }. I'll tell you as soon as the payment is confirmed.
# Added below an invoice of the sandbox provider.
order-test-payment = 🧪 This is a test payment: no real money moves.
# $retrying: yes when the last delivery attempt failed and another is scheduled; $late: yes when it was paid after it had closed.
order-paid = { $retrying ->
    [yes] ✅ Payment confirmed for { $amount }. Delivery hit a snag; I'm retrying automatically and will message you when it's done.
   *[no] { $late ->
        [yes] ✅ Your payment for order { $orderId } arrived after it had closed; this shop honours it. Delivering { $amount } now…
       *[no] ✅ Payment confirmed for { $amount }. Delivering now…
    }
}
# $shown: secret (the code, shown once), hint (its last characters), none. $late: yes when it was paid after it had closed.
order-delivered = { $shown ->
    [secret] 🎉 Payment confirmed and delivered: { $amount }.
        Your code: { $secret }
        Keep it safe: it is shown only once.
    [hint] { $late ->
        [yes] 🎉 Your payment for order { $orderId } arrived after it had closed; this shop honoured it and delivered { $amount } (code ending { $hint }).
       *[no] 🎉 Order { $orderId } was delivered: { $amount } (code ending { $hint }).
    }
   *[none] { $late ->
        [yes] 🎉 Your payment for order { $orderId } arrived after it had closed; this shop honoured it and delivered { $amount }.
       *[no] 🎉 Order { $orderId } was delivered: { $amount }.
    }
}
order-delivery-failed = ⚠️ Your payment for { $amount } is safe, but delivery failed several times. Our team has been told and will fix it or refund you.
# $reason: late (it arrived after the order closed), mismatch (not the invoiced amount or currency), owner (the shop's decision).
order-refunding = ↩️ { $reason ->
    [late] Your payment for order { $orderId } arrived after it had closed, so I'm returning it…
    [mismatch] Your payment for order { $orderId } did not match the invoice, so I'm returning it…
   *[owner] Returning your payment for order { $orderId }…
} I'll message you when it's done.
order-refunded = ↩️ { $reason ->
    [late] Your payment for order { $orderId } arrived after it had closed, so it was refunded to you. There is nothing else you need to do.
    [mismatch] Your payment for order { $orderId } did not match the invoice, so it was refunded to you. There is nothing else you need to do.
   *[owner] Order { $orderId } was refunded.
}
order-awaiting-owner-refund = ⚠️ { $reason ->
    [late] Your payment for order { $orderId } arrived after it had closed.
    [mismatch] Your payment for order { $orderId } did not match the invoice.
   *[owner] Order { $orderId } is to be refunded.
} Your money is safe: the shop owner has been told and will refund it.
# $charged: yes when money arrived for the order anyway (it is returned, see order-stray).
order-cancelled = { $charged ->
    [yes] Order cancelled.
   *[no] Order cancelled. Nothing was charged.
} Want something else?
# $invoiced: yes when a payment link had been made (an unpaid invoice), no for a quote never confirmed.
order-expired = { $invoiced ->
    [yes] ⌛ Your order for { $amount } expired before it was paid. Pick an amount to start again.
   *[no] ⌛ Your quote for { $amount } has expired. Tell me an amount to get a fresh price.
}
# An amount in a shop of several products: which product is it for? The products follow as buttons.
order-choosing-product = 🛒 Which product are the { $amount } for? Pick one below.
order-reissuing = 🔑 Replacing the key or code of order { $orderId }… I'll send the new one in a moment.
order-payment-failed = ❌ The payment for { $amount } failed. Nothing was delivered. Pick an amount to try again.
# A payment the order could not use (a second one, or one after its invoice was voided), shown under the order. $status: returning, refunded, owed.
order-stray = { $status ->
    [returning] ↩️ A payment of { $paid } arrived that this order could not take; I'm returning it.
    [refunded] ↩️ A payment of { $paid } arrived that this order could not take, and was refunded to you.
   *[owed] ⚠️ A payment of { $paid } arrived that this order could not take; the shop owner has been told and will refund it.
}
# Each top-level state of an order in a word or two: the order list, the owner's tools.
stage-initial = new
stage-pricing = being priced
stage-quoted = quoted
stage-creating_payment = preparing payment
stage-awaiting_payment = waiting for payment
stage-paid = paid, being delivered
stage-delivered = delivered
stage-delivery_failed = paid, delivery failed (we're on it)
stage-cancelled = cancelled
stage-expired = expired
stage-payment_failed = payment failed
stage-refunding = being refunded
stage-awaiting_owner_refund = to be refunded by the owner
stage-refunded = refunded
stage-choosing_product = choosing a product
stage-checking_promo = checking a promo code
stage-reserving_promo = reserving the promo code
stage-reissuing = replacing the key

## Buttons
button-confirm = ✅ Confirm
button-cancel = ✖ Cancel
button-pay = 💳 Pay
button-pay-amount = 💳 Pay { $charge }
button-status = 🔄 Check status
button-help = ❓ Help
button-less = − { $step }
button-more = + { $step }

## Telegram: command menu, toasts, language choice
command-start = Welcome and token packages
command-buy = Buy tokens, e.g. /buy 5000
command-cart = Show your current order
command-status = Check your order's status
command-cancel = Cancel the open order
command-help = How this works
command-language = Change the language
toast-stale-button = This order is no longer active.
toast-dead-button = This button doesn't work any more. Use /cart to see your order.
toast-rate-limited = You're pressing buttons very fast. Please wait a few seconds.
edits-not-processed = I don't process edited messages. Please send your request as a new message.
language-choose = Choose your language:
language-chosen = Done: I'll write in English from now on.

## Alerts to the shop's admins
alert-delivery-failed = ⚠️ Delivery failed for order { $orderId } (chat { $chatId }); the customer has paid.
    See /order { $command }, then /retry { $command } or /refund { $command }.
alert-refund-by-hand = ⚠️ Order { $orderId } (chat { $chatId }) holds money the payment provider cannot return by itself: a late, mismatched or second payment. Refund it in the provider's app.
    See /order { $command }, then /refund { $command } done once it is returned.

## The console chat
console-hint = (type "quit" to leave; the pay page is served at { $url })

## The sandbox pay page
page-title = TokenGoblin sandbox payment
page-heading = Sandbox payment
page-test-mode = Test mode: no real money moves.
page-no-invoice = No such invoice.
page-order = { $tokens }, order { $orderId }
page-order-unknown = Order { $orderId }
page-status = Status: { $status ->
    [pending] waiting for payment
    [paid] paid
    [expired] expired
   *[cancelled] cancelled
}
page-pay = Pay
page-refused = Payment not possible: { $reason ->
    [not_found] there is no such invoice
    [expired] the invoice has expired
    [cancelled] the invoice was cancelled
   *[already_paid] it is already paid
}.
page-sent = Payment sent. You can go back to the chat.
page-not-recorded = The payment service could not record your payment just now. Nothing was charged: press Pay again in a moment.

## Money that arrived but could not pay the order as invoiced. $next: delivered, delivering, refunded, owner_refunds.
payment-wrong-amount = ⚠️ We received { $paid } for order { $orderId }, but it was invoiced at { $invoiced }, so it was not applied. { $next ->
    [refunded] It was refunded to you straight away.
   *[other] The shop owner has been told and will refund it.
}
payment-foreign-currency = ⚠️ We received { $paid } for order { $orderId } in a currency this shop does not take, so it was not applied. { $next ->
    [refunded] It was refunded to you straight away.
   *[other] The shop owner has been told and will refund it.
}
payment-late = { $next ->
    [delivered] 💰 We received { $paid } for order { $orderId } after it had closed. This shop honours late payments, so here are your { $amount }.
    [delivering] 💰 We received { $paid } for order { $orderId } after it had closed. This shop honours late payments: your { $amount } are on their way, and I'll message you as soon as they are ready.
    [refunded] ↩️ We received { $paid } for order { $orderId } after it had closed, so it was refunded to you straight away. There is nothing else you need to do.
   *[other] ⚠️ We received { $paid } for order { $orderId } after it had closed, so it was not applied. Your money is safe: the shop owner has been told and will refund it.
}
payment-extra = ⚠️ We received a second payment of { $paid } for order { $orderId }, which was already paid. { $next ->
    [refunded] It was refunded to you straight away.
   *[other] The shop owner has been told and will refund it.
}
# The store is unreachable for a moment: the message is kept by Telegram and answered when it is back.
store-unavailable = ⏳ One moment, please: I can't reach my records right now. I'll answer your message as soon as I can.
busy = ⏳ I'm still working on your previous message. I'll answer this one as soon as I can: no need to send it again.
alert-goods-undeliverable = ⚠️ The goods of order { $orderId } could not be sent to chat { $chatId } (the bot may be blocked). They are kept and shown when the customer asks for the status.
    See /order { $command }.

## Telegram Stars: why the payment sheet refused (Telegram shows this inside its own payment sheet)
stars-refused = { $reason ->
    [disabled] Stars payments are not enabled right now.
    [not_stars] This invoice can only be paid in Telegram Stars.
    [unknown_order] This order is unknown. Please start a new order in the chat.
    [closed] This order can no longer be paid. Please start a new order in the chat.
    [expired] This invoice has expired. Please start a new order in the chat.
    [amount] The amount does not match this order. Please start a new order in the chat.
    [timeout] We could not check this order in time. Please try again.
   *[error] We could not check this order. Please try again in a minute.
}
## Invoices: what the payment provider shows the customer
invoice-title = TokenGoblin: { $tokens }
invoice-description = { $tokens } of AI API credit ({ $price }), order { $orderId }
## convo
# A button pressed on an older message of the current order (another amount was chosen since).
stale-button-outdated = That message is out of date, so I didn't act on it. Here is your order as it stands now:
toast-outdated-button = That message is out of date: see your current order below.
# What the payment provider said just now, asked because the customer asked. $provider: sandbox, cryptopay, stars.
check-not-paid = ⏳ Not paid yet: I just checked with { $provider ->
    [cryptopay] Crypto Pay
    [stars] Telegram Stars
   *[other] the test payment page
}. Your payment link is below.
check-unavailable = ⚠️ I couldn't check with { $provider ->
    [cryptopay] Crypto Pay
    [stars] Telegram Stars
   *[other] the test payment page
} right now. If you have paid, I'll tell you as soon as it is confirmed.
late-code = Your code: { $secret }
    Keep it safe: it is shown only once.
# The sandbox pay page of an order that was cancelled or expired.
page-closed = This order is closed: this page takes no payment. Go back to the chat to start a new order.
## faq
# Issue 13: budgets, a choice of amounts, the order list. The answers to questions themselves are the
# shop owner's, in faq/<language>.ftl (see the README), not here.
# A quote worked out from a budget ("$25 worth"); $budget is money, $amount a number of tokens.
budget-buys = { $budget } buys { $amount }.
budget-buys-rounded = { $budget } buys { $amount } (rounded down).
# Two amounts were possible ("2000 or 3000"): the choices follow as buttons.
clarify-amount = Which amount did you mean?
# A choice that came from a budget, on a button.
clarify-budget-choice = { $budget } → { $amount }
orders-heading = 🧾 Your last orders:
orders-none = You have no orders yet. How many tokens would you like?
# One order in the list; $stage is its state in words (stage-*).
orders-line = • { $date }: { $amount } for { $price }, { $stage }
orders-line-hint = { $line } (code ending { $hint })
button-buy-again = 🔁 Buy { $amount } again
command-orders = Your last orders

## The catalog (issue 21): several products, what a price is made of, promo codes, lost keys replaced
# Help in a shop of several products; $products: one catalog-product-line each.
help-catalog = I sell AI API credit:
    { $products }
    Tell me what you need, like "I need 2000 tokens", or pick a product below. You can say "change it to 5000", "status" or "cancel" at any time.
# $per is an amount of tokens ("1,000 tokens"), $limits the product's smallest to largest order.
catalog-product-line = • { $product }: { $price } per { $per } ({ $limits })
# An amount with its product, in a shop of several.
amount-of-product = { $amount } ({ $product })
# Below a quote: the unit price; $tier is yes when a volume price applies (from $from).
quote-unit-price = Price: { $price } per { $per }{ $tier ->
    [yes] {" "}(volume price from { $from })
   *[no] {""}
}
quote-promo = 🏷 Promo code { $code }: −{ $discount } (was { $list })
quote-credit = 🔑 The key holds { $credit } of OpenRouter credit.
# Beside a delivered key, shown once.
delivered-credit = 🔑 This key holds { $credit } of OpenRouter credit.
# Beside a delivered voucher code, shown once: how to use it. The shop owner's words: edit them to say where and how your codes are redeemed.
voucher-redeem = 🎟 To use it, send the code to the shop owner or enter it where the shop told you to.
# Beside goods that replaced lost ones.
reissued = 🔑 This replaces your earlier key or code, which no longer works.
# A promo code accepted before any amount; $discount is "10%" or an amount of money.
promo-applied = 🏷 Promo code { $code } applied: { $discount } off your order.
refused-unknown-product = That product isn't sold here any more. Please pick one below.
refused-nothing-to-reissue = There's no delivered order to replace a key or code for.
refused-reissue-limit = This order's key or code was already replaced { $max } times, which is as often as I can. Please contact the shop owner: they will sort it out.
button-reissue = 🔑 Reissue { $hint }
command-promo = Apply a promo code, e.g. /promo SPRING10

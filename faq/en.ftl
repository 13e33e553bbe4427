# TokenGoblin's answers to common questions, in English. The shop owner edits this file: the words are
# yours, the bot only picks which answer fits (rules or the LLM never write customer-facing text).
#
# - One answer per topic; the ids below are fixed (what_tokens, models, validity, refunds, coins,
#   delivery, price). A topic missing here falls back to the shipped answer.
# - Put your own copy in the folder named by FAQ_DIR (one <language>.ftl per language) to keep it
#   apart from the code; without FAQ_DIR this file is used.
# - Variables you may use: { $price } (price per { $per } tokens) and { $limits } (smallest to largest order).
# - No <, > or & in the text: Telegram reads replies as HTML. Line breaks are kept.

what_tokens = 🪙 Tokens are prepaid credit for AI APIs: each order gives you a code (or an API key) worth the tokens you bought, to spend on AI model calls.
models = 🤖 The credit works with the models of the provider it is issued for (OpenRouter gives access to most popular models: GPT, Claude, Gemini, Llama, Mistral and more). Prices per call are the provider's.
validity = ⏳ Tokens don't expire: your code or key keeps its balance until you spend it.
refunds = ↩️ If delivery fails after you paid, you get your money back. Delivered credit can't be returned, since the code can't be taken back. Wrong or late payments are always refunded by the shop owner.
coins = 💰 You pay in crypto through the payment link: USDT and the other coins the payment provider offers (via @CryptoBot), or Telegram Stars where enabled. Prices are in US dollars; the link shows the exact amount to pay.
delivery = 📦 As soon as your payment is confirmed, the bot sends your code in this chat, usually within a minute. It is shown once, so keep it safe; "status" shows its last characters again, and if you lose it, write "I lost my code" for a new one.
price = 🏷 Credit costs { $price } per { $per } tokens; orders are { $limits }. Tell me an amount or a budget ("$25 worth") and I'll quote it. Have a promo code? Send /promo and the code.

/**
 * Finds English left in a text meant for a non-English customer: Latin-script words that remain once
 * markup, links, commands, code (order ids, delivered codes) and the names that stay as they are
 * (the shop's name, currency codes, "API", Telegram @usernames such as the owner's FAQ names) are taken out.
 */
export function latinWords(text: string): string[] {
  const stripped = text
    .replace(/<code>[^<]*<\/code>/g, " ")
    .replace(/<[^>]+>/g, " ")
    .replace(/&[a-z]+;/g, " ")
    .replace(/https?:\/\/\S+/g, " ")
    .replace(/\/[a-z_]+(?:@\w+)?/g, " ")
    .replace(/@\w+/g, " ")
    .replace(/\b(TokenGoblin|USDT|API|Crypto Pay|Telegram Stars)\b/g, " ");
  return stripped.match(/[A-Za-z]{2,}/g) ?? [];
}

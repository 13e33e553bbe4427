/**
 * Which client a request comes from, as far as this server can know it: the address of the socket it
 * arrived on — or, only when that socket belongs to a proxy the owner trusts (`TRUSTED_PROXY`), the
 * address the proxy says it forwarded for (`X-Forwarded-For`, read from the right, skipping trusted
 * hops). Anyone can write `X-Forwarded-For`; only a trusted proxy's last hop is believed (issue 18).
 *
 * The answer is a key for per-client limits: IPv4 addresses as they are, IPv6 addresses by their /64
 * network (one household or server gets a whole /64, so rotating inside it would be free).
 */
import { BlockList, isIP } from "node:net";
import type { HttpRequest } from "./server.ts";

/** One `TRUSTED_PROXY` entry: an address (`127.0.0.1`, `::1`) or a network (`10.0.0.0/8`, `fd00::/8`). */
export type TrustedProxy = { address: string; prefix: number; family: "ipv4" | "ipv6" };

/** The key of requests dispatched in-process (tests, the sandbox page's own webhook): no socket. */
export const IN_PROCESS = "in-process";

/** An IPv4-mapped IPv6 address (`::ffff:1.2.3.4`, what a dual-stack socket reports) as plain IPv4. */
function plain(address: string): string {
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address);
  return mapped ? mapped[1]! : address;
}

/**
 * Parses `TRUSTED_PROXY`: comma-separated addresses or CIDR networks. Returns the first entry that is
 * neither when there is one, so the configuration can name it.
 */
export function parseTrustedProxies(text: string): { ok: true; proxies: TrustedProxy[] } | { ok: false; bad: string } {
  const proxies: TrustedProxy[] = [];
  for (const raw of text.split(",")) {
    const entry = raw.trim();
    if (entry === "") continue;
    const [address = "", prefixText, extra] = entry.split("/");
    const ip = plain(address);
    const version = isIP(ip);
    const max = version === 4 ? 32 : 128;
    const prefix = prefixText === undefined ? max : /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : NaN;
    if (version === 0 || extra !== undefined || !(prefix >= 0 && prefix <= max)) return { ok: false, bad: entry };
    proxies.push({ address: ip, prefix, family: version === 4 ? "ipv4" : "ipv6" });
  }
  return { ok: true, proxies };
}

/** The first four groups of an IPv6 address, i.e. its /64 network, written out in full. */
function network64(address: string): string {
  const [head = "", tail] = address.toLowerCase().split("::");
  const groups = (part: string) => (part === "" ? [] : part.split(":").flatMap((g) => (g.includes(".") ? ["0", "0"] : [g])));
  const left = groups(head);
  const right = tail === undefined ? [] : groups(tail);
  const all = tail === undefined ? left : [...left, ...Array<string>(Math.max(0, 8 - left.length - right.length)).fill("0"), ...right];
  return `${all
    .slice(0, 4)
    .map((g) => parseInt(g, 16).toString(16))
    .join(":")}::/64`;
}

/** The limit key of an address: IPv4 as is, IPv6 by its /64 network. */
export function clientKey(address: string): string {
  const ip = plain(address);
  return isIP(ip) === 6 ? network64(ip) : ip;
}

/** One `X-Forwarded-For` entry as an address: without brackets or a port; null when it is not one. */
function hopAddress(entry: string): string | null {
  let text = entry.trim();
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(text);
  if (bracketed) text = bracketed[1]!;
  else if (/^\d{1,3}(?:\.\d{1,3}){3}:\d+$/.test(text)) text = text.slice(0, text.lastIndexOf(":"));
  const ip = plain(text);
  return isIP(ip) === 0 ? null : ip;
}

/**
 * Builds the function that names a request's client. Without trusted proxies it is always the socket's
 * address; with them, a request from a trusted proxy is named by the nearest untrusted hop of
 * `X-Forwarded-For` (or by the proxy itself when the header is missing or unreadable).
 */
export function createClientAddress(trusted: readonly TrustedProxy[]): (request: Pick<HttpRequest, "remoteAddress" | "headers">) => string {
  const list = new BlockList();
  for (const proxy of trusted) list.addSubnet(proxy.address, proxy.prefix, proxy.family);
  const isTrusted = (ip: string) => list.check(ip, isIP(ip) === 4 ? "ipv4" : "ipv6");
  return (request) => {
    const socket = request.remoteAddress === undefined ? null : hopAddress(request.remoteAddress);
    if (socket === null) return IN_PROCESS;
    if (trusted.length === 0 || !isTrusted(socket)) return clientKey(socket);
    const header = request.headers["x-forwarded-for"];
    const hops = (Array.isArray(header) ? header.join(",") : (header ?? "")).split(",").filter((hop) => hop.trim() !== "");
    let nearest = socket;
    for (let i = hops.length - 1; i >= 0; i--) {
      const hop = hopAddress(hops[i]!);
      // A hop no trusted proxy would write: believe nothing further left.
      if (hop === null) break;
      if (!isTrusted(hop)) return clientKey(hop);
      nearest = hop;
    }
    return clientKey(nearest);
  };
}

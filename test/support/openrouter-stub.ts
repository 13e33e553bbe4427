/**
 * A local stand-in for OpenRouter's key management API (https://openrouter.ai/docs/api/api-reference/api-keys):
 * `GET/POST /api/v1/keys`, `PATCH /api/v1/keys/:hash` (`disabled`, `limit`), `DELETE /api/v1/keys/:hash`,
 * `GET /api/v1/credits`, bearer-authenticated.
 * Keys' secrets are returned once, at creation, like the real service.
 */
import { createHash, randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export type StubKey = {
  hash: string;
  name: string;
  label: string;
  limit: number | null;
  limit_remaining: number | null;
  disabled: boolean;
  secret: string;
  orderName: string;
};

export type OpenRouterStub = {
  /** Like `https://openrouter.ai/api/v1`. */
  url: string;
  provisioningKey: string;
  keys: Map<string, StubKey>;
  /** Every key ever created, including deleted ones. */
  created: StubKey[];
  calls: { create: number; list: number; update: number; delete: number; credits: number; unauthorized: number };
  credits: { total_credits: number; total_usage: number };
  /**
   * The next `count` create calls fail: "error" answers 500 without creating; "lost" creates the key
   * and then answers 500, as when the answer is lost on the way back.
   */
  failCreates(count: number, mode: "error" | "lost"): void;
  /** While true every call answers 503. */
  down: boolean;
  /**
   * How long a create call takes, in ms (0 by default), or a function drawing it for each call. The key
   * comes into existence half-way, so a caller that dies during the call may leave a key it never saw, as
   * with a slow real service.
   */
  createLatencyMs: number | (() => number);
  /** Create calls started and not yet answered. */
  inFlightCreates: number;
  /** Keys named for an order, disabled ones included. */
  liveKeysFor(orderId: string): StubKey[];
  /** Keys named for an order that work (not disabled). */
  usableKeysFor(orderId: string): StubKey[];
  /** A customer spends `usd` with the key whose secret is `secret` (its remaining limit goes down). */
  spend(secret: string, usd: number): void;
  close(): Promise<void>;
};

export async function startOpenRouterStub(provisioningKey = "sk-or-v1-provisioning-test"): Promise<OpenRouterStub> {
  const keys = new Map<string, StubKey>();
  const created: StubKey[] = [];
  const calls = { create: 0, list: 0, update: 0, delete: 0, credits: 0, unauthorized: 0 };
  let failures: { count: number; mode: "error" | "lost" } = { count: 0, mode: "error" };

  // The stand-in's own latency (a key creation taking seconds), so a real shop process can be killed mid-call.
  const pause = (ms: number) => (ms > 0 ? new Promise((resolve) => setTimeout(resolve, ms)) : Promise.resolve());
  const send = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
  };
  const readBody = async (req: IncomingMessage): Promise<Record<string, unknown>> => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    return JSON.parse(Buffer.concat(chunks).toString("utf8") || "{}") as Record<string, unknown>;
  };
  const publicView = ({ secret: _secret, orderName: _orderName, ...rest }: StubKey) => ({
    ...rest,
    usage: 0,
    created_at: new Date().toISOString(),
    updated_at: null,
  });

  const server = createServer((req, res) => {
    void (async () => {
      if (stub.down) return send(res, 503, { error: { code: 503, message: "down" } });
      if (req.headers.authorization !== `Bearer ${provisioningKey}`) {
        calls.unauthorized++;
        return send(res, 401, { error: { code: 401, message: "No auth credentials found" } });
      }
      const url = new URL(req.url ?? "/", "http://stub");
      const path = url.pathname.replace(/\/+$/, "");
      if (req.method === "GET" && path === "/api/v1/credits") {
        calls.credits++;
        return send(res, 200, { data: stub.credits });
      }
      if (req.method === "GET" && path === "/api/v1/keys") {
        calls.list++;
        const offset = Number(url.searchParams.get("offset") ?? "0");
        const page = [...keys.values()]
          .reverse()
          .slice(offset, offset + 100)
          .map(publicView);
        return send(res, 200, { data: page });
      }
      if (req.method === "POST" && path === "/api/v1/keys") {
        calls.create++;
        stub.inFlightCreates++;
        try {
          return await createKey(req, res);
        } finally {
          stub.inFlightCreates--;
        }
      }
      const match = /^\/api\/v1\/keys\/([0-9a-f]+)$/.exec(path);
      if (req.method === "PATCH" && match) {
        calls.update++;
        const key = keys.get(match[1]!);
        if (!key) return send(res, 404, { error: { code: 404, message: "not found" } });
        const body = await readBody(req);
        if (typeof body.disabled === "boolean") key.disabled = body.disabled;
        return send(res, 200, { data: publicView(key) });
      }
      if (req.method === "DELETE" && match) {
        calls.delete++;
        const existed = keys.delete(match[1]!);
        return send(res, existed ? 200 : 404, existed ? { deleted: true } : { error: { code: 404, message: "not found" } });
      }
      return send(res, 404, { error: { code: 404, message: "no route" } });
    })().catch((error: unknown) => send(res, 500, { error: { code: 500, message: String(error) } }));
  });

  /** `POST /keys`: the key exists from half-way through the call (see `createLatencyMs`). */
  const createKey = async (req: IncomingMessage, res: ServerResponse) => {
    const body = await readBody(req);
    const latency = typeof stub.createLatencyMs === "function" ? stub.createLatencyMs() : stub.createLatencyMs;
    await pause(latency / 2);
    if (typeof body.name !== "string" || !body.name) return send(res, 400, { error: { code: 400, message: "name required" } });
    if (failures.count > 0 && failures.mode === "error") {
      failures.count--;
      return send(res, 500, { error: { code: 500, message: "internal" } });
    }
    const secret = `sk-or-v1-${randomBytes(32).toString("hex")}`;
    const limit = typeof body.limit === "number" ? body.limit : null;
    const key: StubKey = {
      hash: createHash("sha256").update(secret).digest("hex"),
      name: body.name,
      label: `${secret.slice(0, 11)}...${secret.slice(-3)}`,
      limit,
      limit_remaining: limit,
      disabled: false,
      secret,
      orderName: body.name,
    };
    keys.set(key.hash, key);
    created.push(key);
    await pause(latency / 2);
    if (failures.count > 0 && failures.mode === "lost") {
      failures.count--;
      return send(res, 502, { error: { code: 502, message: "bad gateway" } });
    }
    return send(res, 201, { data: publicView(key), key: secret });
  };
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;

  const stub: OpenRouterStub = {
    url: `http://127.0.0.1:${port}/api/v1`,
    provisioningKey,
    keys,
    created,
    calls,
    credits: { total_credits: 1000, total_usage: 0 },
    failCreates(count, mode) {
      failures = { count, mode };
    },
    down: false,
    createLatencyMs: 0,
    inFlightCreates: 0,
    liveKeysFor: (orderId) => [...keys.values()].filter((k) => k.name.endsWith(` ${orderId}`)),
    usableKeysFor: (orderId) => [...keys.values()].filter((k) => k.name.endsWith(` ${orderId}`) && !k.disabled),
    spend(secret, usd) {
      const key = [...keys.values()].find((k) => k.secret === secret);
      if (!key || key.disabled) throw new Error("the stub has no usable key with that secret");
      key.limit_remaining = Math.round(((key.limit_remaining ?? 0) - usd) * 100) / 100;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
  return stub;
}

/**
 * A small HTTP server on node:http: exact-path and `:param` routes, the raw body kept as bytes for
 * signature checks, a body size limit, and 404/405/413 answers. Webhooks of every provider, the
 * sandbox pay page, Telegram's webhook, /healthz and /metrics all live here.
 */
import { type IncomingMessage, type Server, createServer } from "node:http";
import type { AddressInfo } from "node:net";
import type { Logger } from "../log.ts";

export type HttpRequest = {
  method: string;
  path: string;
  query: URLSearchParams;
  params: Record<string, string>;
  headers: IncomingMessage["headers"];
  rawBody: Buffer;
  /**
   * The address of the socket the request arrived on, as the server sees it (a proxy's, behind one);
   * undefined for requests dispatched in-process. See `client-address.ts` for the client behind a proxy.
   */
  remoteAddress?: string;
};

export type HttpResponse = { status: number; body?: string | Buffer; headers?: Record<string, string> };
export type HttpHandler = (request: HttpRequest) => Promise<HttpResponse> | HttpResponse;

type Route = { method: string; parts: string[]; handler: HttpHandler };

export type HttpServer = {
  /** Adds a route. A GET route answers HEAD too, with the same status and headers and no body. */
  route(method: "GET" | "POST", pattern: string, handler: HttpHandler): void;
  listen(port: number, host?: string): Promise<number>;
  close(): Promise<void>;
  /** Dispatches a request without the network (tests, benchmarks, in-process webhooks). */
  dispatch(request: Omit<HttpRequest, "params" | "query"> & { query?: URLSearchParams }): Promise<HttpResponse>;
};

const MAX_BODY_BYTES = 256 * 1024;

export function createHttpServer(log: Logger): HttpServer {
  const routes: Route[] = [];
  let server: Server | null = null;

  const match = (method: string, path: string) => {
    let parts: string[];
    try {
      // Decoded once, up front: a malformed escape ("%E0") is the client's mistake, not a crash.
      parts = path.split("/").filter(Boolean).map(decodeURIComponent);
    } catch {
      return "malformed";
    }
    let pathMatched = false;
    for (const route of routes) {
      if (route.parts.length !== parts.length) continue;
      const params: Record<string, string> = {};
      const ok = route.parts.every((part, i) => {
        const actual = parts[i] ?? "";
        if (part.startsWith(":")) {
          params[part.slice(1)] = actual;
          return true;
        }
        return part === actual;
      });
      if (!ok) continue;
      pathMatched = true;
      if (route.method === method) return { route, params };
    }
    return pathMatched ? "method" : null;
  };

  const dispatch: HttpServer["dispatch"] = async (request) => {
    if (request.method === "HEAD") {
      const { body: _body, ...head } = await dispatch({ ...request, method: "GET" });
      return head;
    }
    const found = match(request.method, request.path);
    if (found === "malformed") return { status: 400, body: "malformed path\n" };
    if (found === null) return { status: 404, body: "not found\n" };
    if (found === "method") return { status: 405, body: "method not allowed\n" };
    try {
      return await found.route.handler({ ...request, query: request.query ?? new URLSearchParams(), params: found.params });
    } catch (error) {
      log.error("http handler failed", { path: request.path, err: error });
      return { status: 500, body: "internal error\n" };
    }
  };

  const readBody = (req: IncomingMessage) =>
    new Promise<Buffer | null>((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      req.on("data", (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_BODY_BYTES) {
          // Stop keeping the body but let the request finish, so the 413 answer can still be sent.
          chunks.length = 0;
          resolve(null);
          return;
        }
        chunks.push(chunk);
      });
      req.on("end", () => resolve(Buffer.concat(chunks)));
      req.on("error", reject);
    });

  return {
    route(method, pattern, handler) {
      routes.push({ method, parts: pattern.split("/").filter(Boolean), handler });
    },
    dispatch,
    async listen(port, host = "0.0.0.0") {
      server = createServer((req, res) => {
        const answer = async () => {
          const url = new URL(req.url ?? "/", "http://localhost");
          const rawBody = await readBody(req).catch(() => Buffer.alloc(0));
          const response =
            rawBody === null
              ? { status: 413, body: "payload too large\n" }
              : await dispatch({
                  method: req.method ?? "GET",
                  path: url.pathname,
                  query: url.searchParams,
                  headers: req.headers,
                  rawBody,
                  remoteAddress: req.socket.remoteAddress,
                });
          if (res.headersSent || res.destroyed) return;
          res.writeHead(response.status, { "content-type": "text/plain; charset=utf-8", ...response.headers });
          res.end(response.body ?? "");
        };
        answer().catch((error: unknown) => {
          log.error("http request failed", { err: error });
          try {
            if (!res.headersSent && !res.destroyed) res.writeHead(500).end("internal error\n");
          } catch {
            // The connection is already broken; the client sees a reset. Nothing may escape from here.
            res.destroy();
          }
        });
      });
      server.keepAliveTimeout = 5_000;
      await new Promise<void>((resolve, reject) => {
        server!.once("error", reject);
        server!.listen(port, host, () => resolve());
      });
      // An error event without a listener ends the process; once listening, log it and keep serving.
      server.on("error", (error) => log.error("http server error", { err: error }));
      return (server.address() as AddressInfo).port;
    },
    async close() {
      if (!server) return;
      const closing = server;
      server = null;
      await new Promise<void>((resolve) => {
        closing.close(() => resolve());
        closing.closeAllConnections();
      });
    },
  };
}

/**
 * A local stand-in for an OpenAI-compatible chat-completions endpoint (POST /chat/completions) on
 * 127.0.0.1 and a free port. Each test scripts what it answers; every request is recorded so tests can
 * count calls and read what was sent. `usage` is computed from message lengths (about 4 characters a
 * token), so token accounting can be measured without a real model.
 */
import { type IncomingHttpHeaders, type Server, createServer } from "node:http";
import type { AddressInfo } from "node:net";

/** What the stub does with one request. */
export type StubReply =
  /** `delayMs`: answer this late (a slow model). */
  | { content: string; delayMs?: number }
  | { status: number; body?: string; headers?: Record<string, string> }
  | { hang: true }
  | { drop: true };

export type StubRequest = {
  headers: IncomingHttpHeaders;
  body: {
    model: string;
    temperature?: number;
    response_format?: { type: string };
    messages: { role: string; content: string }[];
  };
};

/** Given the request, decides the reply; the default says `{"intent":"unknown"}`. */
export type StubScript = (request: StubRequest, index: number) => StubReply;

export type LlmStub = {
  /** The base URL to use as LLM_BASE_URL. */
  url: string;
  requests: StubRequest[];
  script(next: StubScript | StubReply | StubReply[]): void;
  close(): Promise<void>;
};

/** Tokens the stub reports for a text: one per 4 characters, rounded up, like a typical BPE model. */
export const stubTokens = (text: string) => Math.ceil(text.length / 4);

/** The JSON the stub's content replies carry, for tests that want `{"intent":"QUOTE","tokens":3000}`. */
export const json = (value: unknown): StubReply => ({ content: JSON.stringify(value) });

function completion(request: StubRequest, content: string) {
  // Each message costs a few tokens of framing on top of its text, as chat models count them.
  const prompt = request.body.messages.reduce((sum, m) => sum + 4 + stubTokens(m.content), 3);
  const completionTokens = stubTokens(content);
  return {
    id: "chatcmpl-stub",
    object: "chat.completion",
    created: 0,
    model: request.body.model,
    choices: [{ index: 0, message: { role: "assistant", content, refusal: null }, finish_reason: "stop", logprobs: null }],
    usage: { prompt_tokens: prompt, completion_tokens: completionTokens, total_tokens: prompt + completionTokens },
  };
}

export async function startLlmStub(initial?: StubScript | StubReply | StubReply[]): Promise<LlmStub> {
  let script: StubScript = () => json({ intent: "unknown" });
  const requests: StubRequest[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      if (req.method !== "POST" || !req.url?.endsWith("/chat/completions")) {
        res.writeHead(404, { "content-type": "application/json" }).end('{"error":{"message":"not found"}}');
        return;
      }
      const request: StubRequest = {
        headers: req.headers,
        body: JSON.parse(Buffer.concat(chunks).toString("utf8")) as StubRequest["body"],
      };
      requests.push(request);
      const reply = script(request, requests.length - 1);
      if ("hang" in reply) return; // never answers; close() destroys the socket
      if ("drop" in reply) {
        req.socket.destroy();
        return;
      }
      if ("status" in reply) {
        const body = reply.body ?? JSON.stringify({ error: { message: `stub error ${reply.status}`, type: "stub" } });
        res.writeHead(reply.status, { "content-type": "application/json", ...reply.headers }).end(body);
        return;
      }
      const answer = () => {
        if (!res.destroyed)
          res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(completion(request, reply.content)));
      };
      if (reply.delayMs) setTimeout(answer, reply.delayMs);
      else answer();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const stub: LlmStub = {
    url: `http://127.0.0.1:${port}/v1`,
    requests,
    script(next) {
      if (typeof next === "function") script = next;
      else if (Array.isArray(next)) {
        // In order from the next request on, repeating the last reply.
        const from = requests.length;
        script = (_, i) => next[Math.min(i - from, next.length - 1)] ?? json({ intent: "unknown" });
      } else script = () => next;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  if (initial !== undefined) stub.script(initial);
  return stub;
}

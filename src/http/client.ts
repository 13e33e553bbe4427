/**
 * The outbound side: one JSON-over-HTTP call with a time limit, for the provider adapters. Every
 * failure is a value: the request never arrived (network, timeout), or the answer was not JSON.
 * What a status code or an envelope means stays with each provider.
 */
export type JsonAnswer = { ok: true; status: number; json: unknown } | { ok: false; status: number | null; problem: string };

export type JsonRequest = {
  method: "GET" | "POST" | "PATCH" | "DELETE";
  headers?: Record<string, string>;
  /** Sent as JSON when present. */
  body?: unknown;
  timeoutMs: number;
};

export async function fetchJson(doFetch: typeof fetch, url: string, request: JsonRequest): Promise<JsonAnswer> {
  let response: Response;
  try {
    response = await doFetch(url, {
      method: request.method,
      headers: { ...request.headers, ...(request.body === undefined ? {} : { "content-type": "application/json" }) },
      ...(request.body === undefined ? {} : { body: JSON.stringify(request.body) }),
      signal: AbortSignal.timeout(request.timeoutMs),
    });
  } catch (error) {
    return { ok: false, status: null, problem: error instanceof Error ? error.name : "network error" };
  }
  try {
    return { ok: true, status: response.status, json: await response.json() };
  } catch {
    return { ok: false, status: response.status, problem: `HTTP ${response.status}, body is not JSON` };
  }
}

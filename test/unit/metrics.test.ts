import { afterEach, describe, expect, test } from "vitest";
import { type App, createApp } from "../../src/app.ts";
import { loadConfig } from "../../src/config.ts";
import { silentLogger } from "../../src/log.ts";
import { REPLY_SECONDS, createMetrics } from "../../src/metrics.ts";

describe("metrics", () => {
  test("a fresh registry is never empty: Node's process metrics are there from the start", async () => {
    const text = await createMetrics().render();
    expect(text).toContain("# TYPE process_cpu_user_seconds_total counter");
    expect(text).toContain("nodejs_eventloop_lag_seconds");
    expect(text).toMatch(/^process_resident_memory_bytes \d+/m);
  });

  test("counters keep their labels and help text", async () => {
    const metrics = createMetrics();
    metrics.describe("tokengoblin_payments_total", "counter", "Payment confirmations by outcome.");
    metrics.inc("tokengoblin_payments_total", { outcome: "confirmed" });
    metrics.inc("tokengoblin_payments_total", { outcome: "confirmed" }, 2);
    metrics.inc("tokengoblin_payments_total", { outcome: "forged" });
    const text = await metrics.render();
    expect(text).toContain("# HELP tokengoblin_payments_total Payment confirmations by outcome.");
    expect(text).toContain('tokengoblin_payments_total{outcome="confirmed"} 3');
    expect(text).toContain('tokengoblin_payments_total{outcome="forged"} 1');
  });

  test("reply latency is a histogram with buckets", async () => {
    const metrics = createMetrics();
    metrics.observe(REPLY_SECONDS, 0.003, { channel: "telegram" });
    metrics.observe(REPLY_SECONDS, 1.7, { channel: "telegram" });
    const text = await metrics.render();
    expect(text).toContain(`# TYPE ${REPLY_SECONDS} histogram`);
    expect(text).toContain(`${REPLY_SECONDS}_bucket{le="0.005",channel="telegram"} 1`);
    expect(text).toContain(`${REPLY_SECONDS}_bucket{le="+Inf",channel="telegram"} 2`);
    expect(text).toContain(`${REPLY_SECONDS}_count{channel="telegram"} 2`);
  });

  test("gauges are set, and an undeclared metric is created on first use", async () => {
    const metrics = createMetrics();
    metrics.set("tokengoblin_credit_usd", 12.5, { provider: "openrouter" });
    metrics.set("tokengoblin_credit_usd", 10, { provider: "openrouter" });
    expect(await metrics.render()).toContain('tokengoblin_credit_usd{provider="openrouter"} 10');
  });

  test("using one name as two kinds of metric is refused", () => {
    const metrics = createMetrics();
    metrics.inc("tokengoblin_things_total");
    expect(() => metrics.set("tokengoblin_things_total", 1)).toThrow(/counter/);
  });
});

describe("GET /metrics", () => {
  let app: App;
  afterEach(async () => app.close());

  test("serves the product's counters next to the process metrics, in Prometheus' content type", async () => {
    app = await createApp(loadConfig({ STORE_URL: "memory://" }), { listen: false, log: silentLogger });
    await app.engine.handleText("c1", "I need 2000 tokens");
    const response = await app.http.dispatch({ method: "GET", path: "/metrics", headers: {}, rawBody: Buffer.alloc(0) });
    expect(response.status).toBe(200);
    expect(response.headers?.["content-type"]).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(response.body).toContain('tokengoblin_commands_total{command="SET_AMOUNT",source="rules",accepted="true"} 1');
    expect(response.body).toContain('tokengoblin_transitions_total{to="quoted"} 1');
    expect(response.body).toContain("process_resident_memory_bytes");
  });
});

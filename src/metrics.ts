/**
 * Prometheus metrics for `/metrics`, kept by {@link https://github.com/siimon/prom-client prom-client}:
 * Node's default process metrics (CPU, memory, event-loop lag, GC, handles), so the page is never
 * empty, plus the product's counters, gauges and histograms, named and labelled by the call sites, in
 * one registry per app. Labels are a small fixed set (`source`, `provider`, `outcome`…); nothing
 * user-supplied becomes a label, so the number of series stays bounded.
 *
 * The process metrics live in one registry per process, made on first use: they describe the process,
 * and their collectors (an event-loop delay timer, a GC observer) cannot be stopped, so several apps in
 * one process (tests) share them instead of adding a timer each.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import type { EngineEvent } from "./engine/events.ts";

export type Labels = Record<string, string>;
export type MetricType = "counter" | "gauge" | "histogram";

export type Metrics = {
  /** Adds `by` (default 1) to a counter. */
  inc(name: string, labels?: Labels, by?: number): void;
  /** Sets a gauge. */
  set(name: string, value: number, labels?: Labels): void;
  /** Records one observation in a histogram (latencies in seconds). */
  observe(name: string, value: number, labels?: Labels): void;
  /**
   * Declares a metric's type and help text, and optionally its label names and (for histograms)
   * buckets. Without label names a metric is created on first use, with the label names that use
   * gives; every later use must give the same names (or a subset), else it throws: a programming error.
   */
  describe(name: string, type: MetricType, help: string, options?: { labelNames?: readonly string[]; buckets?: readonly number[] }): void;
  /** The Prometheus text exposition of every metric. */
  render(): Promise<string>;
  /** The Content-Type `render()`'s text is served with. */
  readonly contentType: string;
};

/** Time from a customer's message arriving to the bot's answer being sent, by `channel`. */
export const REPLY_SECONDS = "tokengoblin_reply_seconds";
/** Rules answer in milliseconds, the LLM in about a second, a slow provider in several. */
const REPLY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

type AnyMetric = Counter | Gauge | Histogram;

let processMetrics: Registry | undefined;
function processRegistry(): Registry {
  if (!processMetrics) {
    processMetrics = new Registry();
    collectDefaultMetrics({ register: processMetrics });
  }
  return processMetrics;
}

export function createMetrics(): Metrics {
  const perProcess = processRegistry();
  const registry = new Registry();
  const metrics = new Map<string, { type: MetricType; metric: AnyMetric }>();
  /** Declared but not used yet: created on first use, when the label names are known. */
  const declared = new Map<string, { type: MetricType; help: string; buckets?: readonly number[] }>();

  const create = (name: string, type: MetricType, help: string, labelNames: readonly string[], buckets?: readonly number[]) => {
    const config = { name, help, labelNames: [...labelNames], registers: [registry] };
    const metric =
      type === "counter"
        ? new Counter(config)
        : type === "gauge"
          ? new Gauge(config)
          : new Histogram({ ...config, ...(buckets ? { buckets: [...buckets] } : {}) });
    metrics.set(name, { type, metric });
    return metric;
  };
  const get = (name: string, type: MetricType, labels: Labels | undefined): AnyMetric => {
    const found = metrics.get(name);
    if (!found) {
      const meta = declared.get(name);
      if (meta && meta.type !== type) throw new Error(`metric ${name} is declared as a ${meta.type}, not a ${type}`);
      declared.delete(name);
      return create(name, type, meta?.help ?? name, Object.keys(labels ?? {}).sort(), meta?.buckets);
    }
    if (found.type !== type) throw new Error(`metric ${name} is a ${found.type}, not a ${type}`);
    return found.metric;
  };

  create(REPLY_SECONDS, "histogram", "Seconds from a customer's message to the bot's answer, by channel.", ["channel"], REPLY_BUCKETS);

  return {
    inc(name, labels = {}, by = 1) {
      (get(name, "counter", labels) as Counter).inc(labels, by);
    },
    set(name, value, labels = {}) {
      (get(name, "gauge", labels) as Gauge).set(labels, value);
    },
    observe(name, value, labels = {}) {
      (get(name, "histogram", labels) as Histogram).observe(labels, value);
    },
    describe(name, type, help, options = {}) {
      const found = metrics.get(name);
      if (!found) {
        // With label names known the metric exists at once (a label-less counter shows 0 from the start).
        if (options.labelNames) create(name, type, help, options.labelNames, options.buckets);
        else declared.set(name, { type, help, ...(options.buckets ? { buckets: options.buckets } : {}) });
        return;
      }
      if (found.type !== type) throw new Error(`metric ${name} is already a ${found.type}, not a ${type}`);
      (found.metric as unknown as { help: string }).help = help;
    },
    // Two expositions back to back are one valid exposition: their metric names never overlap.
    render: async () => `${await perProcess.metrics()}\n${await registry.metrics()}`,
    contentType: registry.contentType,
  };
}

/** Counts the engine's events (each announced once its commit is stored). */
export function countEngineEvents(metrics: Metrics, engine: { onEvent(listener: (event: EngineEvent) => void): unknown }): void {
  metrics.describe("tokengoblin_commands_total", "counter", "Customer commands by type, source and whether the machine accepted them.");
  metrics.describe("tokengoblin_transitions_total", "counter", "Purchase machine transitions by the order's new top-level state.");
  metrics.describe("tokengoblin_payments_total", "counter", "Payment confirmations by outcome.");
  metrics.describe("tokengoblin_not_understood_total", "counter", "Messages neither rules nor the LLM understood.");
  metrics.describe("tokengoblin_undeliverable_goods_total", "counter", "Delivered goods whose message the customer's channel refused.");
  metrics.describe("tokengoblin_needs_owner_total", "counter", "Orders that came to need the owner, by task.");
  engine.onEvent((event) => {
    switch (event.type) {
      case "command":
        metrics.inc("tokengoblin_commands_total", { command: event.command, source: event.source, accepted: String(event.accepted) });
        break;
      case "transition":
        // Top-level states only: a bounded set of label values.
        if (event.to.split(".")[0] !== event.from.split(".")[0])
          metrics.inc("tokengoblin_transitions_total", { to: event.to.split(".")[0] ?? event.to });
        break;
      case "payment":
        metrics.inc("tokengoblin_payments_total", { outcome: event.outcome });
        break;
      case "not_understood":
        metrics.inc("tokengoblin_not_understood_total");
        break;
      case "secret_undeliverable":
        metrics.inc("tokengoblin_undeliverable_goods_total");
        break;
      case "needs_owner":
        metrics.inc("tokengoblin_needs_owner_total", { task: event.task });
        break;
      case "order":
      case "llm":
      case "admin":
      case "profile":
      case "reply":
        break;
      default: {
        const unhandled: never = event;
        void unhandled;
      }
    }
  });
}

/**
 * Prometheus counters and gauges for /metrics, in the text exposition format. Counters are keyed by
 * name and a small fixed set of labels; nothing user-supplied becomes a label (no cardinality blow-up).
 */
export type Metrics = {
  inc(name: string, labels?: Record<string, string>, by?: number): void;
  set(name: string, value: number, labels?: Record<string, string>): void;
  /** Declares a metric's help text and type so the exposition is self-describing. */
  describe(name: string, type: "counter" | "gauge", help: string): void;
  render(): string;
};

export function createMetrics(): Metrics {
  const values = new Map<string, Map<string, number>>();
  const meta = new Map<string, { type: string; help: string }>();
  const key = (labels: Record<string, string> = {}) =>
    Object.entries(labels)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, v]) => `${k}="${v.replace(/["\\\n]/g, "_")}"`)
      .join(",");
  const series = (name: string) => {
    let map = values.get(name);
    if (!map) values.set(name, (map = new Map()));
    return map;
  };
  return {
    inc(name, labels, by = 1) {
      const map = series(name);
      const k = key(labels);
      map.set(k, (map.get(k) ?? 0) + by);
    },
    set(name, value, labels) {
      series(name).set(key(labels), value);
    },
    describe(name, type, help) {
      meta.set(name, { type, help });
    },
    render() {
      const lines: string[] = [];
      for (const [name, map] of values) {
        const info = meta.get(name);
        if (info) lines.push(`# HELP ${name} ${info.help}`, `# TYPE ${name} ${info.type}`);
        for (const [labels, value] of map) lines.push(`${name}${labels ? `{${labels}}` : ""} ${value}`);
      }
      return `${lines.join("\n")}\n`;
    },
  };
}

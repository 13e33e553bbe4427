/**
 * Charts as server-rendered SVG: no script, no library, nothing from a CDN. Every chart sits next to
 * a table with the same numbers, so the page reads fully without the pictures.
 */
import { type FunnelRow, SOURCE_LABELS } from "../analytics/funnel.ts";
import { esc } from "./html.ts";
import type { RevenueBucket } from "./queries.ts";

const usd = (minor: number) => `$${(minor / 100).toLocaleString("en-US", { maximumFractionDigits: minor >= 100_000 ? 0 : 2 })}`;

/** Revenue per bucket as vertical bars, with the amount over each bar that has one. */
export function revenueChart(buckets: readonly RevenueBucket[]): string {
  const width = 420;
  const height = 200;
  const left = 8;
  const bottom = 22;
  const top = 18;
  const n = Math.max(1, buckets.length);
  const slot = (width - left * 2) / n;
  const max = Math.max(1, ...buckets.map((b) => b.usdMinor));
  const labelEvery = Math.ceil(n / 8);
  const bars = buckets.map((bucket, i) => {
    const h = ((height - top - bottom) * bucket.usdMinor) / max;
    const x = left + i * slot + slot * 0.15;
    const y = height - bottom - h;
    const w = Math.max(1, slot * 0.7);
    const value =
      bucket.usdMinor > 0 && n <= 16
        ? `<text class="value" x="${(x + w / 2).toFixed(1)}" y="${(y - 4).toFixed(1)}" text-anchor="middle">${esc(usd(bucket.usdMinor))}</text>`
        : "";
    const label =
      i % labelEvery === 0 ? `<text x="${(x + w / 2).toFixed(1)}" y="${height - 6}" text-anchor="middle">${esc(bucket.label)}</text>` : "";
    return `<g><title>${esc(`${bucket.label}: ${usd(bucket.usdMinor)}, ${bucket.sales} sales`)}</title><rect class="bar" x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${w.toFixed(1)}" height="${Math.max(0, h).toFixed(1)}" rx="2"/>${value}${label}</g>`;
  });
  return `<svg class="chart" viewBox="0 0 ${width} ${height}" role="img" aria-label="Revenue per ${buckets.length > 0 ? "period" : "day"}" xmlns="http://www.w3.org/2000/svg"><line x1="${left}" x2="${width - left}" y1="${height - bottom}" y2="${height - bottom}" stroke="#e4e7ec"/>${bars.join("")}</svg>`;
}

export const FUNNEL_STEPS = [
  ["started", "started"],
  ["quoted", "quoted"],
  ["invoiced", "invoiced"],
  ["paid", "paid"],
  ["delivered", "delivered"],
] as const satisfies readonly (readonly [keyof FunnelRow, string])[];

/**
 * The funnel per source: for each stage, one bar per source whose height is the share of that
 * source's started orders that reached the stage — so sources compare directly at every stage.
 */
export function funnelChart(lines: readonly FunnelRow[]): string {
  const sources = lines.filter((l) => l.source !== "total");
  const width = 640;
  const height = 230;
  const left = 34;
  const bottom = 24;
  const top = 16;
  const group = (width - left - 8) / FUNNEL_STEPS.length;
  const bar = Math.min(26, (group * 0.8) / Math.max(1, sources.length));
  const plot = height - top - bottom;
  const grid = [0, 25, 50, 75, 100]
    .map((p) => {
      const y = top + plot - (plot * p) / 100;
      return `<line x1="${left}" x2="${width - 8}" y1="${y}" y2="${y}" stroke="#eef0f3"/><text x="${left - 4}" y="${y + 4}" text-anchor="end">${p}%</text>`;
    })
    .join("");
  const bars = FUNNEL_STEPS.flatMap(([key, label], s) => {
    const x0 = left + s * group + (group - bar * sources.length) / 2;
    const items = sources.map((line, i) => {
      const share = line.started === 0 ? 0 : (line[key] as number) / line.started;
      const h = plot * share;
      const x = x0 + i * bar;
      const y = top + plot - h;
      const name = SOURCE_LABELS[line.source];
      return `<g><title>${esc(`${name}, ${label}: ${line[key]} of ${line.started} (${(share * 100).toFixed(1)}%)`)}</title><rect class="s-${line.source}" x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${(bar - 2).toFixed(1)}" height="${h.toFixed(1)}" rx="2"/></g>`;
    });
    return [...items, `<text x="${(left + s * group + group / 2).toFixed(1)}" y="${height - 6}" text-anchor="middle">${label}</text>`];
  });
  return `<svg class="chart" viewBox="0 0 ${width} ${height}" role="img" aria-label="Funnel by how the amount was set" xmlns="http://www.w3.org/2000/svg">${grid}${bars.join("")}</svg>`;
}

/** The colour key of the funnel chart. */
export function legend(lines: readonly FunnelRow[]): string {
  return lines
    .filter((l) => l.source !== "total")
    .map((l) => `<span><i class="swatch s-${l.source}"></i>${esc(SOURCE_LABELS[l.source])}</span>`)
    .join(" &nbsp; ");
}

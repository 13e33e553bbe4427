/**
 * The page frame and small formatting helpers of the dashboard. Everything interpolated into HTML
 * goes through {@link esc}; pages carry no script at all, and the Content-Security-Policy forbids any.
 */
import { formatMoney, type Money } from "../domain/money.ts";
import { escapeHtml } from "../render/html.ts";

/** Escapes text for element content and attributes quoted either way (the product's escaper, plus `'`). */
export const esc = (text: string | number | null | undefined): string =>
  text === null || text === undefined ? "" : escapeHtml(String(text)).replace(/'/g, "&#39;");

/** Money as people read it, or a dash. */
export const money = (value: Money | null | undefined): string => (value ? formatMoney(value) : "—");

/** `2026-11-26 12:00 UTC`, or a dash. */
export const when = (at: number | null | undefined): string =>
  at === null || at === undefined ? "—" : new Date(at).toISOString().slice(0, 16).replace("T", " ");

export const percent = (part: number, whole: number): string => (whole === 0 ? "–" : `${((100 * part) / whole).toFixed(1)}%`);

/** Security headers of every dashboard answer: no script, no framing, nothing cached or leaked. */
export const PAGE_HEADERS: Readonly<Record<string, string>> = {
  "content-type": "text/html; charset=utf-8",
  "content-security-policy":
    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "referrer-policy": "same-origin",
  "cache-control": "no-store",
};

/** The dashboard's tabs. */
export type Tab = "today" | "funnel" | "orders" | "promos";

export type Frame = {
  title: string;
  /** Which tab is current. */
  nav?: Tab;
  /** Seconds after which the browser reloads the page (the overview refreshes itself). */
  refreshSeconds?: number;
  /** The CSRF field for the logout form; absent on the login page and for bearer callers. */
  csrf?: string;
  signedIn?: boolean;
};

/** The hidden CSRF field every form that changes something carries. */
export const csrfField = (csrf: string | undefined) => `<input type="hidden" name="csrf" value="${esc(csrf)}">`;

/** A complete page around `body` (already escaped HTML). */
export function page(frame: Frame, body: string): string {
  const tab = (name: Frame["nav"], href: string, label: string) =>
    `<a href="${href}"${frame.nav === name ? ' aria-current="page"' : ""}>${label}</a>`;
  const logout = frame.signedIn
    ? `<form method="post" action="/admin/logout" class="logout">${csrfField(frame.csrf)}<button>Sign out</button></form>`
    : "";
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
${frame.refreshSeconds ? `<meta http-equiv="refresh" content="${frame.refreshSeconds}">` : ""}
<title>${esc(frame.title)} · TokenGoblin</title>
<link rel="stylesheet" href="/admin/dashboard.css">
</head><body>
<header><strong class="brand">TokenGoblin</strong>
${frame.signedIn ? `<nav>${tab("today", "/admin", "Today")}${tab("funnel", "/admin/funnel", "Funnel")}${tab("orders", "/admin/orders", "Orders")}${tab("promos", "/admin/promos", "Promo codes")}</nav>${logout}` : ""}
</header>
<main>
${body}
</main>
</body></html>
`;
}

/** The stylesheet, served from the app itself at /admin/dashboard.css. */
export const DASHBOARD_CSS = `
:root{--ink:#1d2430;--muted:#667085;--line:#e4e7ec;--bg:#f7f8fa;--card:#fff;--accent:#2563eb;--good:#15803d;--warn:#b45309;--bad:#b91c1c;
--s-rules:#2563eb;--s-llm:#9333ea;--s-button:#0d9488;--s-command:#64748b;--s-mixed:#d97706;--s-unattributed:#cbd5e1}
*{box-sizing:border-box}
body{margin:0;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--ink);background:var(--bg)}
header{display:flex;flex-wrap:wrap;gap:.5rem 1.25rem;align-items:center;padding:.7rem 1rem;background:var(--card);border-bottom:1px solid var(--line)}
.brand{font-size:1.05rem}
nav{display:flex;gap:.25rem}
nav a{padding:.3rem .7rem;border-radius:6px;color:var(--ink);text-decoration:none}
nav a[aria-current]{background:var(--ink);color:#fff}
.logout{margin-left:auto}
main{max-width:1180px;margin:0 auto;padding:1rem}
h1{font-size:1.35rem;margin:.3rem 0 1rem;overflow-wrap:anywhere}
h2{font-size:1.05rem;margin:0 0 .6rem}
.grid{display:grid;gap:1rem;grid-template-columns:minmax(0,1fr) minmax(0,1fr)}
.card{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:1rem;min-width:0}
.wide{grid-column:1/-1}
.kpis{display:grid;gap:.75rem;grid-template-columns:repeat(auto-fit,minmax(140px,1fr));margin-bottom:1rem}
.kpi{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:.7rem .9rem}
.kpi b{display:block;font-size:1.35rem}
.kpi span{color:var(--muted);font-size:.85rem}
.muted{color:var(--muted)}
.periods{display:flex;flex-wrap:wrap;gap:.35rem;margin:0 0 1rem}
.periods a{padding:.25rem .7rem;border:1px solid var(--line);border-radius:999px;background:var(--card);color:var(--ink);text-decoration:none}
.periods a[aria-current]{background:var(--accent);border-color:var(--accent);color:#fff}
.scroll{overflow-x:auto}
table{border-collapse:collapse;width:100%;font-size:.9rem}
th,td{text-align:left;padding:.4rem .5rem;border-bottom:1px solid var(--line);white-space:nowrap}
th{color:var(--muted);font-weight:600}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
td.wrap{white-space:normal;overflow-wrap:anywhere;min-width:7rem}
a{color:var(--accent)}
.state{font-size:.8rem;padding:.1rem .45rem;border-radius:999px;background:#eef2f7;white-space:nowrap}
.state.tag-delivered{background:#dcfce7;color:var(--good)}
.state.tag-needs_owner{background:#fee2e2;color:var(--bad)}
.state.tag-refunded{background:#fef3c7;color:var(--warn)}
form.inline{display:inline}
button,.button{font:inherit;padding:.3rem .75rem;border:1px solid var(--ink);border-radius:6px;background:var(--ink);color:#fff;cursor:pointer}
button.secondary{background:#fff;color:var(--ink)}
input,select{font:inherit;padding:.3rem .45rem;border:1px solid var(--line);border-radius:6px;max-width:100%}
.filters{display:flex;flex-wrap:wrap;gap:.5rem;align-items:end;margin-bottom:1rem}
.filters label{display:flex;flex-direction:column;font-size:.8rem;color:var(--muted)}
.notice{padding:.6rem .8rem;border-radius:8px;background:#eff6ff;border:1px solid #bfdbfe;margin-bottom:1rem}
.notice.bad{background:#fef2f2;border-color:#fecaca}
.needs{padding-left:1.1rem}
.needs li{margin:.5rem 0;overflow-wrap:anywhere}
.needs form{margin:.2rem .2rem 0 0}
.asked li{margin:.3rem 0;overflow-wrap:anywhere}
.talk{display:flex;flex-direction:column;gap:.45rem}
.turn{max-width:85%;padding:.45rem .7rem;border-radius:12px;white-space:pre-wrap;overflow-wrap:anywhere}
.turn.customer{align-self:flex-start;background:#eef2f7;border-bottom-left-radius:3px}
.turn.bot{align-self:flex-end;background:#dbeafe;border-bottom-right-radius:3px}
.turn small{display:block;color:var(--muted);font-size:.75rem;white-space:normal}
.turn.gap{align-self:center;background:none;color:var(--muted);font-size:.8rem;padding:0}
.notice{overflow-wrap:anywhere}
.pager{display:flex;gap:1rem;margin-top:.75rem}
svg{max-width:100%;height:auto;display:block}
.chart text{font-size:11px;fill:var(--muted)}
.chart .bar{fill:var(--accent)}
.chart .value{fill:var(--ink);font-weight:600}
.s-rules{fill:var(--s-rules);background:var(--s-rules)}.s-llm{fill:var(--s-llm);background:var(--s-llm)}.s-button{fill:var(--s-button);background:var(--s-button)}
.s-command{fill:var(--s-command);background:var(--s-command)}.s-mixed{fill:var(--s-mixed);background:var(--s-mixed)}.s-unattributed{fill:var(--s-unattributed);background:var(--s-unattributed)}
.swatch{display:inline-block;width:.8em;height:.8em;border-radius:2px;margin-right:.3em;vertical-align:-.05em}
.diagram{max-height:80vh;margin:0 auto}
.diagram .state rect{fill:#fff;stroke:#94a3b8;stroke-width:1.2}
.diagram .state text{font-size:13px;fill:var(--ink)}
.diagram .state .state-count{font-size:11px;fill:var(--muted);font-weight:600}
.diagram .state-path rect{fill:#dbeafe;stroke:var(--accent)}
.diagram .state-current rect{stroke-width:3}
.diagram .edge path{fill:none;stroke:#64748b}
.diagram .edge text{font-size:11px;font-weight:700;fill:var(--ink);paint-order:stroke;stroke:#fff;stroke-width:4px}
.diagram .edge-none path{stroke:#cbd5e1;stroke-dasharray:4 3}
.diagram .edge-none text{fill:#94a3b8}
.diagram .edge-path path{stroke:var(--accent)}
.diagram .edge-path text{fill:var(--accent)}
.diagram .arrowhead{fill:#64748b}
.diagram .arrowhead-path{fill:var(--accent)}
.timeline td:first-child{color:var(--muted)}
.facts th{width:1%}
.facts td{white-space:normal;word-break:break-word}
.chart{max-width:760px;margin:0 auto}
.login{max-width:360px;margin:10vh auto}
.login input{width:100%;margin:.4rem 0 .8rem}
@media (max-width:800px){.grid{grid-template-columns:minmax(0,1fr)}}
@media (max-width:600px){main{padding:.6rem}.card{padding:.75rem}th,td{padding:.35rem .4rem}}
`;

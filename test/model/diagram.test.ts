import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { purchaseMachine } from "../../machines/purchase.machine.ts";
import { machineToMermaid, mermaidHtml, mermaidMarkdown } from "../../src/cli/mermaid.ts";
import { allStateNodes } from "./purchase-model.ts";

describe("the machine diagram", () => {
  const source = machineToMermaid(purchaseMachine);

  it("the committed docs/purchase.md is up to date with the machine (run: npm run diagram -- --out docs/purchase.md)", () => {
    expect(readFileSync("docs/purchase.md", "utf8")).toBe(mermaidMarkdown(purchaseMachine, source));
  });

  it("docs/architecture.md embeds the same diagram (copy the mermaid block from docs/purchase.md)", () => {
    const architecture = readFileSync("docs/architecture.md", "utf8");
    expect(architecture).toContain("```mermaid\n" + source.trimEnd() + "\n```");
  });

  it("shows every state, nested ones too, and guarded transitions by name", () => {
    for (const node of allStateNodes().slice(1)) expect(source).toContain(node.path.join("_"));
    expect(source).toMatch(/^stateDiagram-v2\n/);
    expect(source).toContain("initial --> pricing : SET_AMOUNT [amountWithinLimits]");
    expect(source).toContain("pricing --> initial : error: priceQuote");
    expect(source).toContain("cancelled_invoice_open --> paid : PAYMENT_RECEIVED [paysTheInvoiceLate]");
    // A guard made of named guards reads as them; no guard is left anonymous.
    expect(source).toContain("delivered_announcing --> delivered_announcing : DEADLINE [announceDue and announceAttemptsLeft]");
    expect(source).not.toContain("[guard]");
  });

  it("shows where each transient state leads (its `always` transitions)", () => {
    const transient = allStateNodes().filter((node) => node.always && node.always.length > 0);
    // A closed order's invoice_closed is left only while it holds a promo code's use (to give it back).
    expect(transient.map((node) => node.id).sort()).toEqual([
      "purchase.cancelled.closing",
      "purchase.cancelled.invoice_closed",
      "purchase.delivered.settling",
      "purchase.expired.closing",
      "purchase.expired.invoice_closed",
    ]);
    for (const node of transient) {
      for (const transition of node.always!) {
        for (const target of transition.target ?? [])
          expect(source).toMatch(new RegExp(`${node.path.join("_")} --> ${target.path.join("_")} : always`));
      }
    }
    expect(source).toContain("cancelled_closing --> cancelled_voiding : always [hasOpenInvoice]");
    expect(source).toContain("cancelled_invoice_closed --> cancelled_releasing_promo : always [promoUseHeld]");
  });

  it("the offline page inlines the renderer and cannot be cut short by it", () => {
    const html = mermaidHtml(source, "var x = '</script>';");
    expect(html).not.toContain("var x = '</script>'");
    expect(html).not.toMatch(/<script[^>]+src=/);
    expect(html).toContain("initial --&gt; pricing");
  });
});

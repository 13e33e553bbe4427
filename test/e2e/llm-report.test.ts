/**
 * LLM usage reaches the audit trail through the real path (issue 12): a purchase understood by the
 * model (a stand-in LLM server) shows its calls in `npm run report`, so "LLM calls per sale" — the
 * original design's headline analytics — counts what was really spent.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createApp } from "../../src/app.ts";
import { loadConfig } from "../../src/config.ts";
import { silentLogger } from "../../src/log.ts";
import { payUrlOf } from "../support/app.ts";
import { type LlmStub, json, startLlmStub } from "../support/llm-stub.ts";

let stub: LlmStub;
const dir = mkdtempSync(join(tmpdir(), "tokengoblin-llm-report-"));
const STORE_URL = `sqlite://${join(dir, "shop.sqlite")}`;

beforeAll(async () => {
  stub = await startLlmStub();
});
afterAll(async () => {
  await stub.close();
  rmSync(dir, { recursive: true, force: true });
});

function report(): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", "src/cli/report.ts"], {
      env: { ...process.env, STORE_URL, TOKENGOBLIN_LOG: "silent" },
      stdio: ["ignore", "pipe", "inherit"],
    });
    let out = "";
    child.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
    child.on("error", reject);
    child.on("close", (code) => (code === 0 ? resolve(out) : reject(new Error(`report exited ${code}: ${out}`))));
  });
}

describe("the report counts the LLM calls of a sale the model understood", () => {
  test("two messages only the model could read, one sale: the LLM row shows 2.00 calls per sale", async () => {
    const app = await createApp(loadConfig({ STORE_URL, LLM_API_KEY: "test", LLM_BASE_URL: stub.url, LLM_TIMEOUT_MS: "2000" }), {
      listen: false,
      log: silentLogger,
    });
    try {
      // The first message makes the order: its call must count for that order, not for "no order yet".
      stub.script(json({ intent: "SET_AMOUNT", tokens: 2000 }));
      const quoted = await app.engine.handleText("c1", "could I get enough for roughly two grand of tokens?");
      expect(quoted.kind === "order" && quoted.order.stage).toBe("quoted");
      stub.script(json({ intent: "CONFIRM" }));
      const invoiced = await app.engine.handleText("c1", "that works for me, send the invoice over");
      expect(invoiced.kind === "order" && invoiced.order.stage).toBe("awaiting_payment");
      expect(stub.requests).toHaveLength(2);
      const paid = await app.http.dispatch({
        method: "POST",
        path: new URL(payUrlOf(invoiced)).pathname,
        headers: {},
        rawBody: Buffer.alloc(0),
      });
      expect(paid.status).toBe(200);
      // The pay page answers at once; its webhook (which pays and delivers) follows.
      await app.flushSandboxWebhooks();
    } finally {
      await app.close();
    }
    const table = await report();
    const llmRow = table.split("\n").find((line) => line.startsWith("text (LLM)"));
    expect(llmRow, table).toBeDefined();
    const cells = llmRow!.split(/\s{2,}/);
    // source, started, quoted, invoiced, paid, of which late, delivered, conversion, LLM calls/sale, LLM tokens/sale, median
    expect(
      cells.slice(1, 7).map((cell) => cell.split(" ")[0]),
      table,
    ).toEqual(["1", "1", "1", "1", "0", "1"]);
    expect(cells[8], table).toBe("2.00");
  });
});

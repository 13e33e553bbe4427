/**
 * The console chat must not let a customer's typing drive the operator's terminal (issue 11): escape
 * sequences typed in (clear screen, retitle the window) come back neutralised.
 */
import { describe, expect, test } from "vitest";
import { runConsole } from "../support/console.ts";

describe("console chat safety", () => {
  test("terminal escape sequences a customer types are printed as visible text, never executed", async () => {
    const { code, stdout } = await runConsole("\u001b]0;pwned\u0007 hi\n\u001b[2J2000 tokens\n");
    expect(code).toBe(0);
    // No raw ESC or BEL reaches the terminal; the sequences are shown as \x1b and \x07.
    // eslint-disable-next-line no-control-regex -- looking for control characters is the point
    expect(stdout).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f]/);
    expect(stdout).toContain("\\x1b]0;pwned\\x07 hi");
    expect(stdout).toContain("\\x1b[2J2000 tokens");
  });
});

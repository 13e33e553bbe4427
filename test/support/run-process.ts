/** A child process run to its end for a test: its exit code and everything it printed. */
import { spawn } from "node:child_process";

export type ProcessRun = { code: number | null; stdout: string; stderr: string };

/**
 * Runs `command` with `args` and resolves when it exits. `input`, when given, is piped to its stdin
 * and stdin closed (as `printf '…' | command`); without it stdin is not connected.
 */
export function runProcess(
  command: string,
  args: readonly string[],
  options: { env: NodeJS.ProcessEnv; input?: string; cwd?: string },
): Promise<ProcessRun> {
  return new Promise<ProcessRun>((resolve, reject) => {
    const child = spawn(command, args, {
      env: options.env,
      stdio: [options.input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
      ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
    });
    let stdout = "";
    let stderr = "";
    child.stdout?.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
    if (options.input !== undefined) child.stdin?.end(options.input);
  });
}

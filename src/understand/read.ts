import type { Reading, ReadingContext } from "./reading.ts";

/** Placeholder until the reader lands. */
export function readMessage(_text: string, _context: ReadingContext): Reading {
  return { kind: "none" };
}

/**
 * Audit log positions. Callers treat them as opaque strings; a backend reads back only the positions
 * it gave out. Memory and SQLite count entries (an integer); Redis keeps one stream id per shard.
 */

/** Reads a counting position; a position from another backend (or garbage) is a bug in the caller. */
export function parseLogPosition(position: string, backend: string): number {
  if (!/^\d+$/.test(position)) throw new Error(`not a ${backend} audit log position: ${JSON.stringify(position)}`);
  return Number(position);
}

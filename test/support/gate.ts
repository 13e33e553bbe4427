/**
 * A door a test opens by hand, in place of a sleep: work awaits `released`; it calls `entered()` on
 * reaching the door, so the test can await `entering` and then act while the work is held there.
 */
export function gate() {
  let entered!: () => void;
  let release!: () => void;
  const entering = new Promise<void>((resolve) => (entered = resolve));
  const released = new Promise<void>((resolve) => (release = resolve));
  return { entered, entering, release, released };
}

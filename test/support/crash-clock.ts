/**
 * Preloaded into a product process (`node --import tsx --import ./test/support/crash-clock.ts …`) to
 * make it believe it was started later than it is: `Date.now()` runs `CRASH_TEST_CLOCK_SKEW_MS` ahead.
 * The kill test uses it to restart the shop "an hour later", when the sweeper looks at every payment
 * deadline, without waiting an hour. Without the variable it changes nothing.
 */
const skewMs = Number(process.env.CRASH_TEST_CLOCK_SKEW_MS ?? "0");
if (Number.isFinite(skewMs) && skewMs !== 0) {
  const realNow = Date.now.bind(Date);
  Date.now = () => realNow() + skewMs;
}
